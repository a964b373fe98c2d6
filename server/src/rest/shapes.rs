//! The envelopes every REST answer comes in, typed so the OpenAPI document can say them:
//! ARM's resource (`id`, `name`, `type`, `etag`, `properties`), list (`value`) and error.

use schemars::JsonSchema;
use serde::Serialize;

/// An ARM-shaped resource: where it lives, what it is, and its properties.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "{P}Resource")]
pub struct Resource<P> {
    /// The resource's path under `/api/v1`.
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Changes with every write; send it back in `If-Match` to write only over what was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub properties: P,
}

impl<P> Resource<P> {
    pub fn new(id: String, name: impl Into<String>, kind: &'static str, properties: P) -> Self {
        Self {
            id,
            name: name.into(),
            kind,
            etag: None,
            properties,
        }
    }

    pub fn etag(mut self, etag: impl ToString) -> Self {
        self.etag = Some(etag.to_string());
        self
    }
}

/// A list: `{"value": […]}`.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "{T}List")]
pub struct List<T> {
    pub value: Vec<T>,
}

/// What every error answers: `{"error": {"code", "message"}}`.
#[derive(Serialize, JsonSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Serialize, JsonSchema)]
pub struct ErrorBody {
    /// Stable, for scripts to branch on (`RunNotFound`, `InvalidRequestContent`, …).
    pub code: String,
    /// For people: what was wrong and, where it helps, what to do.
    pub message: String,
}
