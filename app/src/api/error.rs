//! `AppError` travels through server functions as JSON, so the browser shows the server's own
//! sentence next to the control that caused it.

use crate::model::error::{AppError, ErrorKind};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => AppError::invalid(
                "InvalidArguments",
                format!("The request is incomplete: {msg}"),
            ),
            ServerFnErrorErr::Request(_) => AppError::new(
                ErrorKind::Internal,
                "Unreachable",
                "Drydock's server could not be reached. Check that it is running and try again.",
            ),
            _ => AppError::internal(),
        }
    }
}
