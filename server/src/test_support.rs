//! Helpers the unit tests of several modules share.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// A header map from static pairs.
pub fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
        .collect()
}
