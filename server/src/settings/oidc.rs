//! `[oidc]`: single sign-on through an OpenID Connect identity provider (`docs/security.md`).
//! Everything a typo could break is checked here, at start; the client secret is named, never
//! written in the file.

use super::{RawSecret, SecretSource, secret_source};
use anyhow::{Context, bail};
use app::model::access::{Grant, Role};
use app::model::names::FleetName;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer exactly as the provider's discovery document and ID tokens name it.
    pub issuer: String,
    pub client_id: String,
    /// `None` for a public client (PKCE alone).
    pub client_secret: Option<SecretSource>,
    /// Where the provider sends the browser back; `None`: the first `--public-url` +
    /// `/auth/oidc/callback`.
    pub redirect_url: Option<String>,
    /// What the sign-in page's button says ("Sign in with …").
    pub display_name: String,
    /// Always includes `openid`.
    pub scopes: Vec<String>,
    /// The claim whose value becomes the Drydock user name.
    pub username_claim: String,
    /// The claim (a string or a list of strings) mapped to roles by `roles`.
    pub roles_claim: String,
    pub roles: Vec<RoleMapping>,
}

/// A value of the roles claim and the grant it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMapping {
    pub claim_value: String,
    pub grant: Grant,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOidc {
    issuer: String,
    client_id: String,
    client_secret: Option<RawSecret>,
    redirect_url: Option<String>,
    #[serde(default = "display_name")]
    display_name: String,
    #[serde(default = "scopes")]
    scopes: Vec<String>,
    #[serde(default = "username_claim")]
    username_claim: String,
    #[serde(default = "roles_claim")]
    roles_claim: String,
    #[serde(default)]
    roles: Vec<RawRoleMapping>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoleMapping {
    claim_value: String,
    role: Role,
    fleet: Option<String>,
}

fn display_name() -> String {
    "single sign-on".into()
}
fn scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into(), "email".into()]
}
fn username_claim() -> String {
    "preferred_username".into()
}
fn roles_claim() -> String {
    "groups".into()
}

/// `https://…`, or `http://` to a loopback host (a provider on the same machine, as in tests).
pub fn check_url(what: &str, url: &str) -> anyhow::Result<()> {
    let parsed =
        reqwest::Url::parse(url).with_context(|| format!("{what} {url:?} is not a URL"))?;
    let loopback = parsed.host_str().is_some_and(|host| {
        host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => bail!("{what} {url:?} must use https (http only to a loopback address)"),
    }
}

pub(super) fn oidc(raw: RawOidc) -> anyhow::Result<OidcSettings> {
    (|| {
        check_url("issuer", &raw.issuer)?;
        if let Some(url) = &raw.redirect_url {
            check_url("redirect_url", url)?;
        }
        if raw.client_id.trim().is_empty() {
            bail!("client_id is empty");
        }
        let client_secret = match &raw.client_secret {
            Some(secret) => {
                let source = secret_source("client_secret", secret)?;
                source
                    .read()
                    .map_err(|why| anyhow::anyhow!("client_secret: {why}"))?;
                Some(source)
            }
            None => None,
        };
        for claim in [&raw.username_claim, &raw.roles_claim] {
            if claim.trim().is_empty() {
                bail!("claim names cannot be empty");
            }
        }
        if raw.roles.is_empty() {
            bail!(
                "roles is empty, so no one could sign in: map values of the {} claim to roles with [[oidc.roles]]",
                raw.roles_claim
            );
        }
        let mut scopes = raw.scopes.clone();
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        if let Some(bad) = scopes.iter().find(|s| s.is_empty() || s.contains(' ')) {
            bail!("scope {bad:?} is not a scope (no spaces, not empty)");
        }
        Ok(OidcSettings {
            issuer: raw.issuer.clone(),
            client_id: raw.client_id.clone(),
            client_secret,
            redirect_url: raw.redirect_url.clone(),
            display_name: raw.display_name.clone(),
            scopes,
            username_claim: raw.username_claim.clone(),
            roles_claim: raw.roles_claim.clone(),
            roles: raw
                .roles
                .iter()
                .map(role_mapping)
                .collect::<anyhow::Result<_>>()?,
        })
    })()
    .context("[oidc]")
}

fn role_mapping(raw: &RawRoleMapping) -> anyhow::Result<RoleMapping> {
    let fleet = raw
        .fleet
        .as_deref()
        .map(FleetName::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("[[oidc.roles]] {}: {e}", raw.claim_value))?;
    Ok(RoleMapping {
        claim_value: raw.claim_value.clone(),
        grant: Grant {
            role: raw.role,
            fleet,
        },
    })
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;
    use app::model::access::Role;

    const GOOD: &str = r#"
        [oidc]
        issuer = "https://login.example.com/realms/ops"
        client_id = "drydock"
        [[oidc.roles]]
        claim_value = "fleet-admins"
        role = "admin"
        [[oidc.roles]]
        claim_value = "demo-ops"
        role = "operator"
        fleet = "demo"
    "#;

    fn error(text: &str) -> String {
        format!("{:#}", Settings::parse(text).unwrap_err())
    }

    #[test]
    fn a_provider_with_defaults_and_role_mappings() {
        let oidc = Settings::parse(GOOD).unwrap().oidc.unwrap();
        assert_eq!(oidc.issuer, "https://login.example.com/realms/ops");
        assert_eq!(oidc.scopes, ["openid", "profile", "email"]);
        assert_eq!(oidc.username_claim, "preferred_username");
        assert_eq!(oidc.roles_claim, "groups");
        assert_eq!(oidc.roles[1].grant.role, Role::Operator);
        assert_eq!(oidc.roles[1].grant.fleet.as_ref().unwrap().as_str(), "demo");
        assert!(oidc.client_secret.is_none(), "a public client, PKCE alone");
    }

    #[test]
    fn mistakes_are_named() {
        let plain_http = GOOD.replace("https://login", "http://login");
        assert!(error(&plain_http).contains("must use https"));
        assert!(
            Settings::parse(&GOOD.replace("https://login.example.com", "http://127.0.0.1:8080"))
                .is_ok(),
            "http to loopback is for providers on the same machine"
        );
        let no_roles = GOOD.split("[[oidc.roles]]").next().unwrap();
        assert!(error(no_roles).contains("no one could sign in"));
        assert!(error(&GOOD.replace("\"admin\"", "\"root\"")).contains("unknown variant"));
        assert!(error(&GOOD.replace("\"demo\"", "\"Demo\"")).contains("demo-ops"));
        let inline = GOOD.replace(
            "client_id = \"drydock\"",
            "client_id = \"drydock\"\nclient_secret = \"written-in-the-file\"",
        );
        assert!(
            error(&inline).contains("client_secret"),
            "{}",
            error(&inline)
        );
        let missing = error(&GOOD.replace(
            "client_id = \"drydock\"",
            "client_id = \"drydock\"\nclient_secret = { env = \"DRYDOCK_TEST_SURELY_UNSET\" }",
        ));
        assert!(missing.contains("DRYDOCK_TEST_SURELY_UNSET"), "{missing}");
    }
}
