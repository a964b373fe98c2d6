//! The one error shape users see, from REST and from server functions alike:
//! ARM's `{"error": {"code", "message"}}`, plus a kind that fixes the HTTP status.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum ErrorKind {
    /// The input is wrong; sending it again will fail again.
    Invalid,
    NotFound,
    /// The input clashes with the current state (a duplicate, a concurrent write).
    Conflict,
    TooLarge,
    /// A condition the request set (`If-Match`, `If-None-Match`) does not hold.
    PreconditionFailed,
    /// No credential, or one that is wrong, expired or revoked.
    Unauthenticated,
    /// The caller is known but lacks the role the request needs.
    Forbidden,
    /// Too many attempts (failed sign-ins); trying later works.
    TooManyRequests,
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
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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

/// A reason as a sentence: `the run is stopping` → `The run is stopping.` (rules say why in
/// lower case so they can be embedded; messages on their own start and end like sentences).
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    let rest: String = chars.collect();
    let end = if rest.ends_with('.') { "" } else { "." };
    format!("{first}{rest}{end}")
}

/// A parse error in the client's own terms: serde names Rust types (`expected struct ArmBody`,
/// `expected u32`), which mean nothing to whoever sent the request.
pub fn plain_parse_error(message: &str) -> String {
    const TYPES: [(&str, &str); 12] = [
        ("u8", "a whole number from 0"),
        ("u16", "a whole number from 0"),
        ("u32", "a whole number from 0"),
        ("u64", "a whole number from 0"),
        ("usize", "a whole number from 0"),
        ("i8", "a whole number"),
        ("i16", "a whole number"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("isize", "a whole number"),
        ("f64", "a number"),
        ("f32", "a number"),
    ];
    let message = message
        .replace("expected a map", "expected an object")
        .replace("expected a sequence", "expected a list");
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    while let Some(at) = rest.find("expected ") {
        out.push_str(&rest[..at + "expected ".len()]);
        rest = &rest[at + "expected ".len()..];
        let word_end = |s: &str| s.find([' ', ',', ')']).unwrap_or(s.len());
        if let Some(after) = rest
            .strip_prefix("struct variant ")
            .or_else(|| rest.strip_prefix("tuple struct "))
            .or_else(|| rest.strip_prefix("struct "))
        {
            out.push_str("an object");
            rest = &after[word_end(after)..];
        } else if let Some(after) = rest.strip_prefix("enum ") {
            out.push_str("one of the allowed values");
            rest = &after[word_end(after)..];
        } else if let Some((_, plain)) = TYPES.iter().find(|(ty, _)| {
            rest.strip_prefix(ty)
                .is_some_and(|after| word_end(after) == 0)
        }) {
            let ty_len = word_end(rest);
            out.push_str(plain);
            rest = &rest[ty_len..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::plain_parse_error;

    #[test]
    fn rust_type_names_become_words_a_client_knows() {
        assert_eq!(
            plain_parse_error(
                "invalid type: string \"x\", expected struct ArmBody at line 1 column 3"
            ),
            "invalid type: string \"x\", expected an object at line 1 column 3"
        );
        assert_eq!(
            plain_parse_error("invalid value: integer `-1`, expected u32"),
            "invalid value: integer `-1`, expected a whole number from 0"
        );
        assert_eq!(
            plain_parse_error("invalid type: map, expected enum StrategySource"),
            "invalid type: map, expected one of the allowed values"
        );
        assert_eq!(
            plain_parse_error("unknown field `bogus`, expected one of `a`, `b`"),
            "unknown field `bogus`, expected one of `a`, `b`"
        );
        assert_eq!(
            plain_parse_error("expected u32x"),
            "expected u32x",
            "only whole words"
        );
    }
}
