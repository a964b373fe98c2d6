//! Requests to Azure Resource Manager and what its answers mean for Drydock: throttling and
//! server errors are transient (honouring `Retry-After`), "another operation is in progress" is
//! a wait, forbidden is permanent and names the role, errors are read flat or enveloped.

use super::token::Tokens;
use crate::provider::ProviderError;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// When ARM gives no `Retry-After`, look again after this long.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(10);

pub struct Arm {
    pub http: reqwest::Client,
    pub endpoint: String,
    pub api_version: String,
    pub tokens: Tokens,
}

/// An answer ARM gave: 2xx, or a 404 the caller interprets.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub async_operation: Option<String>,
    pub location: Option<String>,
    pub retry_after: Option<Duration>,
}

impl Reply {
    pub fn not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }

    /// Where to follow the long-running operation this answer started, if any.
    pub fn operation_url(&self) -> Option<&str> {
        self.async_operation.as_deref().or(self.location.as_deref())
    }
}

impl Arm {
    /// The full URL of an ARM path with the API version, or an absolute URL ARM gave us
    /// (`nextLink`, operation URLs), which must be on the configured endpoint: a token is
    /// never sent anywhere else.
    fn url(&self, path: &str) -> Result<String, ProviderError> {
        if path.starts_with("https://") || path.starts_with("http://") {
            let same_host = path
                .strip_prefix(&self.endpoint)
                .is_some_and(|rest| rest.starts_with('/'));
            return if same_host {
                Ok(path.to_owned())
            } else {
                Err(ProviderError::permanent(format!(
                    "ARM pointed to {path}, which is not on {}; Drydock does not send its token there",
                    self.endpoint
                )))
            };
        }
        let join = if path.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{}{path}{join}api-version={}",
            self.endpoint, self.api_version
        ))
    }

    pub async fn get(&self, path: &str) -> Result<Reply, ProviderError> {
        self.send(Method::GET, path, None, None).await
    }

    /// Sends a request (one retry with a fresh token if ARM says the token expired).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Reply, ProviderError> {
        let url = self.url(path)?;
        for attempt in 0..2 {
            let token = self.tokens.token().await?;
            let mut request = self.http.request(method.clone(), &url).bearer_auth(&token);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            if let Some(etag) = if_match {
                request = request.header("if-match", etag);
            }
            let reply = request.send().await.map_err(|e| {
                ProviderError::transient(format!("{method} {} failed: {e}", short(path)))
            })?;
            let reply = read(reply).await?;
            if reply.status == StatusCode::UNAUTHORIZED && attempt == 0 {
                self.tokens.forget(&token).await;
                continue;
            }
            return judge(&method, path, reply);
        }
        unreachable!("the loop returns on its second pass")
    }
}

async fn read(reply: reqwest::Response) -> Result<Reply, ProviderError> {
    let header = |name: &str| {
        reply
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let async_operation = header("azure-asyncoperation");
    let location = header("location");
    let retry_after = header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let status = reply.status();
    let bytes = reply
        .bytes()
        .await
        .map_err(|e| ProviderError::transient(format!("reading ARM's answer failed: {e}")))?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Ok(Reply {
        status,
        body,
        async_operation,
        location,
        retry_after,
    })
}

/// ARM's error: `{"error": {code, message}}`, or AKS's flat `{code, message}`.
pub fn error_of(body: &Value) -> (String, String) {
    let error = if body["error"].is_object() {
        &body["error"]
    } else {
        body
    };
    let text = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
    (text("code"), text("message"))
}

/// The last part of a path, for messages: `managedClusters/prod`.
fn short(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.rsplitn(3, '/').collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

fn judge(method: &Method, path: &str, reply: Reply) -> Result<Reply, ProviderError> {
    let status = reply.status;
    if status.is_success() || status == StatusCode::NOT_FOUND {
        return Ok(reply);
    }
    let (code, message) = error_of(&reply.body);
    let said = format!("{method} {}: {status} {code}: {message}", short(path));
    let transient = |message: String| ProviderError::Transient {
        message,
        retry_after: Some(reply.retry_after.unwrap_or(DEFAULT_RETRY)),
    };
    match status.as_u16() {
        429 => Err(transient(format!("ARM is throttling Drydock ({said})"))),
        500..=599 => Err(transient(format!("ARM could not answer now ({said})"))),
        // Another operation holds the cluster: wait for it and go on (never fail on it).
        409 if busy(&message) => Err(transient(format!(
            "another operation is in progress on the cluster; waiting for it ({said})"
        ))),
        // The cluster changed since it was read: read it again and retry.
        412 => Err(transient(format!(
            "the cluster changed while Drydock wrote it ({said})"
        ))),
        409 if code.eq_ignore_ascii_case("EtagMismatch") => Err(transient(format!(
            "the cluster changed while Drydock wrote it ({said})"
        ))),
        401 => Err(ProviderError::permanent(format!(
            "Azure refused Drydock's credentials ({said}); check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or managed identity"
        ))),
        403 => Err(ProviderError::permanent(format!(
            "Drydock's identity may not do this ({said}); it needs the 'Azure Kubernetes Service Contributor Role' on the cluster (and Reader on the subscription to discover clusters)"
        ))),
        _ => Err(ProviderError::permanent(said)),
    }
}

/// Whether a 409's message says another operation is in progress (AKS words it several ways).
fn busy(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("in progress") || m.contains("another operation")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(status: u16, body: Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            body,
            async_operation: None,
            location: None,
            retry_after: None,
        }
    }

    #[test]
    fn errors_are_read_flat_or_enveloped() {
        let flat = json!({"code": "OperationNotAllowed", "message": "x", "subcode": "y"});
        assert_eq!(error_of(&flat).0, "OperationNotAllowed");
        let enveloped = json!({"error": {"code": "Conflict", "message": "z"}});
        assert_eq!(error_of(&enveloped).1, "z");
    }

    #[test]
    fn busy_is_a_409_that_says_so_never_the_code_alone() {
        let path = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ContainerService/managedClusters/c";
        let in_progress = json!({"code": "OperationNotAllowed",
            "message": "Operation is not allowed because there's an in progress upgrade operation"});
        assert!(
            judge(&Method::PUT, path, reply(409, in_progress.clone()))
                .unwrap_err()
                .is_transient()
        );
        let refused_jump = json!({"code": "OperationNotAllowed",
            "message": "Upgrading from 1.28.5 to 1.30.1 is not allowed"});
        let err = judge(&Method::PUT, path, reply(400, refused_jump)).unwrap_err();
        assert!(!err.is_transient());
        assert!(err.to_string().contains("1.30.1"));
        let forbidden = judge(
            &Method::PUT,
            path,
            reply(
                403,
                json!({"error": {"code": "AuthorizationFailed", "message": "no"}}),
            ),
        );
        assert!(
            forbidden
                .unwrap_err()
                .to_string()
                .contains("Azure Kubernetes Service Contributor Role")
        );
        assert!(
            judge(&Method::GET, path, reply(404, Value::Null))
                .unwrap()
                .not_found()
        );
        let throttled = judge(&Method::GET, path, reply(429, Value::Null)).unwrap_err();
        assert!(matches!(
            throttled,
            ProviderError::Transient {
                retry_after: Some(_),
                ..
            }
        ));
    }
}
