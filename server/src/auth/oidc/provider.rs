//! The identity provider as its discovery document describes it, and its signing keys. Both are
//! fetched when first needed and kept; the keys are fetched again when a token names one that
//! is not known (the provider rotated them), at most every few seconds.

use super::jwt::JwkSet;
use crate::settings::check_url;
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long the discovery document is kept before it is read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of the keys.
const KEYS_REFETCH_GAP: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

#[derive(Clone)]
pub struct Known {
    pub discovery: Discovery,
    pub keys: JwkSet,
}

struct Cached {
    known: Known,
    discovered_at: Instant,
    keys_fetched_at: Instant,
}

pub struct ProviderCache {
    issuer: String,
    http: reqwest::Client,
    cached: Mutex<Option<Cached>>,
}

impl ProviderCache {
    pub fn new(issuer: String, http: reqwest::Client) -> Self {
        Self {
            issuer,
            http,
            cached: Mutex::new(None),
        }
    }

    /// What the provider publishes, fetched if not known or stale.
    pub async fn known(&self) -> Result<Known, String> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.discovered_at.elapsed() < DISCOVERY_TTL
        {
            return Ok(c.known.clone());
        }
        let discovery = self.discover().await?;
        let keys = self.keys(&discovery.jwks_uri).await?;
        let now = Instant::now();
        let known = Known { discovery, keys };
        *cached = Some(Cached {
            known: known.clone(),
            discovered_at: now,
            keys_fetched_at: now,
        });
        Ok(known)
    }

    /// The keys again, after a token named one not among them; `None` when they were fetched
    /// moments ago (a token signed with an unknown key must not make Drydock hammer the provider).
    pub async fn refetch_keys(&self) -> Result<Option<Known>, String> {
        let mut cached = self.cached.lock().await;
        let Some(c) = cached.as_mut() else {
            return Ok(None);
        };
        if c.keys_fetched_at.elapsed() < KEYS_REFETCH_GAP {
            return Ok(None);
        }
        c.known.keys = self.keys(&c.known.discovery.jwks_uri).await?;
        c.keys_fetched_at = Instant::now();
        Ok(Some(c.known.clone()))
    }

    async fn discover(&self) -> Result<Discovery, String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&url).await?;
        if discovery.issuer != self.issuer {
            return Err(format!(
                "the discovery document names issuer {:?}, not the configured {:?}",
                discovery.issuer, self.issuer
            ));
        }
        for (what, url) in [
            ("authorization_endpoint", &discovery.authorization_endpoint),
            ("token_endpoint", &discovery.token_endpoint),
            ("jwks_uri", &discovery.jwks_uri),
        ] {
            check_url(what, url).map_err(|e| format!("{e:#}"))?;
        }
        Ok(discovery)
    }

    async fn keys(&self, url: &str) -> Result<JwkSet, String> {
        self.get_json(url).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        let body = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        serde_json::from_slice(&body).map_err(|e| format!("{url} sent unexpected JSON: {e}"))
    }
}
