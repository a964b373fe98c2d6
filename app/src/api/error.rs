//! `AppError` travels through server functions as JSON, so the browser shows the server's own
//! sentence next to the control that caused it. A request the server cannot read (a missing
//! or repeated field, a body that is not JSON, bad UTF-8) is the client's mistake: a 400 that
//! says what was wrong, never a 500. (The server's middleware sets the HTTP status from
//! `kind`, see `server::web`.)

use super::codec::TextJsonEncoding;
use crate::model::error::{AppError, ErrorKind, plain_parse_error};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

impl FromServerFnError for AppError {
    type Encoder = TextJsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::MissingArg(msg) => AppError::invalid(
                "InvalidArguments",
                format!("The request is incomplete: {}", plain_parse_error(&msg)),
            ),
            ServerFnErrorErr::Args(msg) => AppError::invalid(
                "InvalidArguments",
                format!(
                    "The request's arguments are not valid: {}",
                    plain_parse_error(&msg)
                ),
            ),
            ServerFnErrorErr::Deserialization(msg) => undecodable(&msg),
            ServerFnErrorErr::Request(_) => AppError::new(
                ErrorKind::Internal,
                "Unreachable",
                "Drydock's server could not be reached. Check that it is running and try again.",
            ),
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "a server function failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::internal()
            }
        }
    }
}

/// On the server, the request's body could not be decoded (the client sent something wrong);
/// in the browser, the server's answer could not be (a server and page of different builds).
fn undecodable(msg: &str) -> AppError {
    if cfg!(feature = "ssr") {
        AppError::invalid(
            "InvalidRequestContent",
            format!("The request body is not valid: {}", plain_parse_error(msg)),
        )
    } else {
        AppError::new(
            ErrorKind::Internal,
            "UnreadableAnswer",
            format!("The server's answer could not be read ({msg}); reload the page."),
        )
    }
}
