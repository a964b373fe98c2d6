//! Tokens for Azure Resource Manager, as the Azure SDK gets them: a service principal's
//! client-credentials grant or a managed identity. Cached and refreshed five minutes before
//! they expire; a token ARM refuses is dropped and fetched again once.

use crate::provider::ProviderError;
use crate::settings::AzureCredential;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const REFRESH_BEFORE: Duration = Duration::from_secs(300);

pub struct Tokens {
    credential: AzureCredential,
    /// `https://management.azure.com/.default`, from the configured ARM endpoint.
    scope: String,
    http: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

impl Tokens {
    pub fn new(credential: AzureCredential, arm_endpoint: &str, http: reqwest::Client) -> Self {
        Self {
            credential,
            scope: format!("{arm_endpoint}/.default"),
            http,
            cached: Mutex::new(None),
        }
    }

    /// A token valid for at least a few more minutes.
    pub async fn token(&self) -> Result<String, ProviderError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = &*cached
            && Instant::now() + REFRESH_BEFORE < *expires
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch().await?;
        *cached = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// Forgets `refused` (ARM said it expired or was revoked) if it is still the cached one.
    /// Calls that were refused together forget it once: a token another call fetched since is
    /// kept, so a burst of 401s costs one new token, not one each.
    pub async fn forget(&self, refused: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|(token, _)| token == refused) {
            *cached = None;
        }
    }

    async fn fetch(&self) -> Result<(String, Duration), ProviderError> {
        let request = match &self.credential {
            AzureCredential::ClientSecret {
                authority_host,
                tenant_id,
                client_id,
                secret,
            } => {
                let secret = secret.read().map_err(ProviderError::permanent)?;
                self.http
                    .post(format!("{authority_host}/{tenant_id}/oauth2/v2.0/token"))
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id.as_str()),
                        ("client_secret", secret.as_str()),
                        ("scope", self.scope.as_str()),
                    ])
            }
            AzureCredential::ManagedIdentity {
                endpoint,
                identity_header,
                client_id,
            } => {
                let resource = self.scope.trim_end_matches(".default");
                let mut query = vec![("resource", resource.to_owned())];
                if let Some(id) = client_id {
                    query.push(("client_id", id.clone()));
                }
                let request = match identity_header {
                    Some(header) => {
                        query.push(("api-version", "2019-08-01".into()));
                        let value = header.read().map_err(ProviderError::permanent)?;
                        self.http.get(endpoint).header("X-IDENTITY-HEADER", value)
                    }
                    None => {
                        query.push(("api-version", "2018-02-01".into()));
                        self.http.get(endpoint).header("Metadata", "true")
                    }
                };
                request.query(&query)
            }
        };
        let reply = request
            .send()
            .await
            .map_err(|e| ProviderError::transient(format!("getting an Azure token failed: {e}")))?;
        let status = reply.status();
        let body: Value = reply
            .bytes()
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null);
        if !status.is_success() {
            let detail = body["error_description"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("no detail")
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            let message = format!("Azure refused a token ({status}): {detail}");
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                ProviderError::transient(message)
            } else {
                ProviderError::permanent(message)
            });
        }
        let token = body["access_token"]
            .as_str()
            .ok_or_else(|| ProviderError::transient("Azure's token answer has no access_token"))?;
        // IMDS says `expires_in` as a string, Entra ID as a number.
        let seconds = match &body["expires_in"] {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .unwrap_or(3600);
        Ok((token.to_owned(), Duration::from_secs(seconds)))
    }
}
