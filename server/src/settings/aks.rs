//! `kind = "aks"`: Azure Kubernetes Service clusters through Azure Resource Manager
//! (`docs/aks.md`). Credentials follow the Azure SDK's conventions and are read from the
//! environment, never from the file.

use super::{SecretSource, check_name, in_range};
use anyhow::{Context, bail};
use serde::Deserialize;
use std::time::Duration;

/// The ARM API version Drydock speaks to `Microsoft.ContainerService`: a stable one.
pub const DEFAULT_API_VERSION: &str = "2025-08-01";
pub const DEFAULT_ARM_ENDPOINT: &str = "https://management.azure.com";
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// Azure's instance metadata service, where a managed identity gets its tokens.
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

#[derive(Debug, Clone)]
pub struct AksSettings {
    pub name: String,
    /// Lower-case subscription ids; the provider answers for clusters in these only.
    pub subscriptions: Vec<String>,
    pub arm_endpoint: String,
    pub api_version: String,
    pub credential: AzureCredential,
    /// Offer preview Kubernetes versions too (GA patches only by default).
    pub include_preview_versions: bool,
    pub max_parallel: usize,
    pub request_timeout: Duration,
    pub poll_interval: Duration,
    pub observation_ttl: Duration,
    pub catalog_ttl: Duration,
    /// How long a cluster's maintenance configurations are reused (they rarely change).
    pub maintenance_ttl: Duration,
    pub attempt_timeout: Duration,
    pub backoff_cap: Duration,
}

/// How Drydock signs in to Azure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AzureCredential {
    /// A service principal's secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`),
    /// exchanged at `{authority}/{tenant}/oauth2/v2.0/token`.
    ClientSecret {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        secret: SecretSource,
    },
    /// A managed identity, from the instance metadata service or `IDENTITY_ENDPOINT`
    /// (App Service, Container Apps, Arc); `client_id` picks a user-assigned one.
    ManagedIdentity {
        endpoint: String,
        /// `IDENTITY_HEADER`'s name when the endpoint is not IMDS.
        identity_header: Option<SecretSource>,
        client_id: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAks {
    name: String,
    subscriptions: Vec<String>,
    #[serde(default = "arm_endpoint")]
    arm_endpoint: String,
    #[serde(default = "api_version")]
    api_version: String,
    /// `auto` (a client secret when `AZURE_CLIENT_SECRET` is set, else a managed identity),
    /// `client_secret` or `managed_identity`.
    #[serde(default = "auto")]
    credential: String,
    /// Each falls back to the Azure SDK's variable (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_CLIENT_SECRET`, `AZURE_AUTHORITY_HOST`).
    tenant_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<super::RawSecret>,
    authority_host: Option<String>,
    #[serde(default)]
    include_preview_versions: bool,
    #[serde(default = "max_parallel")]
    max_parallel: usize,
    #[serde(default = "request_timeout")]
    request_timeout_seconds: u64,
    #[serde(default = "poll_interval")]
    poll_interval_seconds: u64,
    #[serde(default = "observation_ttl")]
    observation_ttl_seconds: u64,
    #[serde(default = "catalog_ttl")]
    catalog_ttl_seconds: u64,
    #[serde(default = "maintenance_ttl")]
    maintenance_ttl_seconds: u64,
    #[serde(default = "attempt_timeout")]
    attempt_timeout_seconds: u64,
    #[serde(default = "backoff_cap")]
    backoff_cap_seconds: u64,
}

fn arm_endpoint() -> String {
    DEFAULT_ARM_ENDPOINT.into()
}
fn api_version() -> String {
    DEFAULT_API_VERSION.into()
}
fn auto() -> String {
    "auto".into()
}
fn max_parallel() -> usize {
    8
}
fn request_timeout() -> u64 {
    30
}
fn poll_interval() -> u64 {
    30
}
fn observation_ttl() -> u64 {
    60
}
fn catalog_ttl() -> u64 {
    900
}
fn maintenance_ttl() -> u64 {
    600
}
fn attempt_timeout() -> u64 {
    12 * 3600
}
fn backoff_cap() -> u64 {
    300
}

pub(super) fn aks(raw: RawAks) -> anyhow::Result<AksSettings> {
    check_name(&raw.name)?;
    let name = raw.name.clone();
    (|| {
        if raw.subscriptions.is_empty() {
            bail!("subscriptions is empty; list the subscription ids whose clusters Drydock may upgrade");
        }
        let subscriptions = raw
            .subscriptions
            .iter()
            .map(|s| check_subscription(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let arm_endpoint = endpoint("arm_endpoint", &raw.arm_endpoint)?;
        if raw.api_version.len() < 10 || !raw.api_version.starts_with("20") {
            bail!("api_version {:?} is not like \"2025-08-01\"", raw.api_version);
        }
        let secs = Duration::from_secs;
        Ok(AksSettings {
            name: raw.name.clone(),
            subscriptions,
            credential: credential(&raw)?,
            arm_endpoint,
            api_version: raw.api_version.clone(),
            include_preview_versions: raw.include_preview_versions,
            max_parallel: in_range("max_parallel", raw.max_parallel, 1, 64)?,
            request_timeout: secs(in_range("request_timeout_seconds", raw.request_timeout_seconds, 1, 600)?),
            poll_interval: secs(in_range("poll_interval_seconds", raw.poll_interval_seconds, 1, 3600)?),
            observation_ttl: secs(in_range("observation_ttl_seconds", raw.observation_ttl_seconds, 0, 3600)?),
            catalog_ttl: secs(in_range("catalog_ttl_seconds", raw.catalog_ttl_seconds, 0, 86_400)?),
            maintenance_ttl: secs(in_range("maintenance_ttl_seconds", raw.maintenance_ttl_seconds, 0, 86_400)?),
            attempt_timeout: secs(in_range("attempt_timeout_seconds", raw.attempt_timeout_seconds, 60, 7 * 86_400)?),
            backoff_cap: secs(in_range("backoff_cap_seconds", raw.backoff_cap_seconds, 1, 3600)?),
        })
    })()
    .with_context(|| format!("provider {name}"))
}

fn check_subscription(text: &str) -> anyhow::Result<String> {
    let ok = text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if !ok {
        bail!(
            "subscription {text:?} is not a subscription id (00000000-0000-0000-0000-000000000000)"
        );
    }
    Ok(text.to_ascii_lowercase())
}

/// An `https://` base URL (or `http://` to a loopback address, for tests), without a trailing `/`.
fn endpoint(what: &str, text: &str) -> anyhow::Result<String> {
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
    if !text.starts_with("https://") && !loopback.iter().any(|l| text.starts_with(l)) {
        bail!("{what} {text:?} must be an https:// URL");
    }
    Ok(text.trim_end_matches('/').to_owned())
}

fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

fn credential(raw: &RawAks) -> anyhow::Result<AzureCredential> {
    let secret = match &raw.client_secret {
        Some(source) => Some(super::secret_source("client_secret", source)?),
        None => env("AZURE_CLIENT_SECRET").map(|_| SecretSource::Env("AZURE_CLIENT_SECRET".into())),
    };
    let use_secret = match raw.credential.as_str() {
        "auto" => secret.is_some(),
        "client_secret" => true,
        "managed_identity" => false,
        other => bail!(
            "credential {other:?} is not one of \"auto\", \"client_secret\", \"managed_identity\""
        ),
    };
    let setting = |given: &Option<String>, var: &str| given.clone().or_else(|| env(var));
    if use_secret {
        let need = |given: &Option<String>, var: &str, key: &str| {
            setting(given, var).with_context(|| {
                format!("credential client_secret needs {key} in the configuration or {var} in the environment")
            })
        };
        let secret = secret.context(
            "credential client_secret needs client_secret in the configuration or AZURE_CLIENT_SECRET in the environment",
        )?;
        secret
            .read()
            .map_err(|why| anyhow::anyhow!("client_secret: {why}"))?;
        let authority = setting(&raw.authority_host, "AZURE_AUTHORITY_HOST")
            .unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.into());
        return Ok(AzureCredential::ClientSecret {
            authority_host: endpoint("authority_host", &authority)?,
            tenant_id: need(&raw.tenant_id, "AZURE_TENANT_ID", "tenant_id")?,
            client_id: need(&raw.client_id, "AZURE_CLIENT_ID", "client_id")?,
            secret,
        });
    }
    let (endpoint, identity_header) = match env("IDENTITY_ENDPOINT") {
        Some(endpoint) => {
            env("IDENTITY_HEADER")
                .context("IDENTITY_ENDPOINT is set but IDENTITY_HEADER is not")?;
            (endpoint, Some(SecretSource::Env("IDENTITY_HEADER".into())))
        }
        None => (DEFAULT_IMDS_ENDPOINT.to_owned(), None),
    };
    Ok(AzureCredential::ManagedIdentity {
        endpoint,
        identity_header,
        client_id: setting(&raw.client_id, "AZURE_CLIENT_ID"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ProviderSettings, Settings};

    const SUB: &str = "00000000-0000-0000-0000-0000000000AA";

    fn parse(extra: &str) -> Result<Settings, String> {
        let dir = crate::test_support::ScratchDir::new("aks-settings");
        let secret = dir.join("secret");
        std::fs::write(&secret, "s3cr3t\n").unwrap();
        let text = format!(
            "[[providers]]\nname = \"azure\"\nkind = \"aks\"\nsubscriptions = [\"{SUB}\"]\n\
             credential = \"client_secret\"\ntenant_id = \"t\"\nclient_id = \"c\"\n\
             client_secret = {{ file = \"{}\" }}\n{extra}",
            secret.display()
        );
        Settings::parse(&text).map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn defaults_are_a_stable_api_and_the_public_cloud() {
        let settings = parse("").unwrap();
        let ProviderSettings::Aks(aks) = &settings.providers[0] else {
            panic!()
        };
        assert_eq!(aks.api_version, super::DEFAULT_API_VERSION);
        assert_eq!(aks.arm_endpoint, "https://management.azure.com");
        assert_eq!(aks.subscriptions, [SUB.to_ascii_lowercase()]);
        assert!(!format!("{settings:?}").contains("s3cr3t"));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(
            parse("arm_endpoint = \"http://example.com\"")
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            parse("api_version = \"v1\"")
                .unwrap_err()
                .contains("api_version")
        );
        assert!(parse("credential = \"password\"").is_err());
        let bad_sub = Settings::parse(
            "[[providers]]\nname = \"a\"\nkind = \"aks\"\nsubscriptions = [\"prod\"]\ncredential = \"managed_identity\"",
        );
        assert!(format!("{:#}", bad_sub.unwrap_err()).contains("not a subscription id"));
        let none = Settings::parse(
            "[[providers]]\nname = \"a\"\nkind = \"aks\"\nsubscriptions = []\ncredential = \"managed_identity\"",
        );
        assert!(format!("{:#}", none.unwrap_err()).contains("subscriptions is empty"));
    }
}
