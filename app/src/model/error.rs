//! The one error shape users see, from REST and from server functions alike:
//! ARM's `{"error": {"code", "message"}}`, plus a kind that fixes the HTTP status.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The input is wrong; sending it again will fail again.
    Invalid,
    NotFound,
    /// The input clashes with the current state (a duplicate, a concurrent write).
    Conflict,
    TooLarge,
    /// A condition the request set (`If-Match`, `If-None-Match`) does not hold.
    PreconditionFailed,
    /// The HTTP method does not apply to the route.
    MethodNotAllowed,
    /// A dependency (a provider) could not answer now; trying later may work.
    Unavailable,
    /// Something broke inside; the message is generic, the details are in the server's log.
    Internal,
}

impl ErrorKind {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::Invalid => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::TooLarge => 413,
            ErrorKind::PreconditionFailed => 412,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub kind: ErrorKind,
    /// A stable, machine-readable code such as `FleetNotFound`.
    pub code: String,
    /// A sentence for a person.
    pub message: String,
}

impl AppError {
    pub fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, code, message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    /// An internal failure: the person sees a generic sentence, never the cause.
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "InternalError",
            "Something went wrong inside Drydock; the server log has the details.",
        )
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}
