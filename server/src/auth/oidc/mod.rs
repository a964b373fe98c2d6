//! Single sign-on with OpenID Connect: the authorization code flow with PKCE (RFC 7636) against
//! any standard identity provider. `GET /auth/oidc/login` sends the browser to the provider with
//! a fresh state, nonce and code challenge (kept in the store, the state also in a cookie bound
//! to the browser); `GET /auth/oidc/callback` takes the code back, exchanges it for an ID token,
//! verifies the token (signature against the provider's keys, issuer, audience, expiry, nonce)
//! and maps its claims to a user and roles. Who may do what stays the service's business.

mod claims;
pub mod jwt;
mod provider;

use super::{secrets, store_failure, wall_now};
use crate::settings::OidcSettings;
use crate::store::access::{AccessStore, SsoIdentity, SsoLogin, StoredUser};
use app::model::error::{AppError, ErrorKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use provider::ProviderCache;
use std::sync::Arc;
use std::time::Duration;

/// The cookie that binds a sign-in in progress to the browser that began it.
pub const STATE_COOKIE: &str = "drydock_sso";
/// Where the provider sends the browser back.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
/// A sign-in not back from the provider within this is void.
const LOGIN_TTL: Duration = Duration::from_secs(600);
/// Sign-ins in flight at most: beginning one is open to anyone and writes a row, so the rows
/// are bounded (ten minutes of a busy organisation's sign-ins fit many times over).
const LOGINS_IN_FLIGHT: i64 = 10_000;

pub struct SingleSignOn {
    settings: OidcSettings,
    redirect_url: String,
    http: reqwest::Client,
    provider: ProviderCache,
    store: Arc<dyn AccessStore>,
}

/// Where `begin` sends the browser, and the state its cookie keeps.
pub struct Begun {
    pub location: String,
    pub state: String,
}

fn unavailable(why: String) -> AppError {
    tracing::warn!(%why, "the identity provider could not be used");
    AppError::new(
        ErrorKind::Unavailable,
        "IdentityProviderUnavailable",
        format!("The identity provider cannot be reached or answered wrongly: {why}"),
    )
}

fn refused(code: &str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Unauthenticated, code, message)
}

impl SingleSignOn {
    /// `public_urls`: the server's `--public-url`s, the first of which makes the redirect URL
    /// when the configuration names none.
    pub fn new(
        settings: OidcSettings,
        public_urls: &[String],
        store: Arc<dyn AccessStore>,
    ) -> anyhow::Result<Self> {
        let redirect_url = match (&settings.redirect_url, public_urls.first()) {
            (Some(url), _) => url.clone(),
            (None, Some(base)) => format!("{}{CALLBACK_PATH}", base.trim_end_matches('/')),
            (None, None) => anyhow::bail!(
                "[oidc] needs redirect_url, or --public-url to make it from (…{CALLBACK_PATH})"
            ),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            provider: ProviderCache::new(settings.issuer.clone(), http.clone()),
            settings,
            redirect_url,
            http,
            store,
        })
    }

    pub fn display_name(&self) -> &str {
        &self.settings.display_name
    }

    /// A new sign-in: where to send the browser and the state for its cookie.
    pub async fn begin(&self, next: &str) -> Result<Begun, AppError> {
        let known = self.provider.known().await.map_err(unavailable)?;
        let (state, nonce, verifier) = (
            secrets::random_text(32),
            secrets::random_text(32),
            secrets::random_text(32),
        );
        let now = wall_now();
        let login = SsoLogin {
            state_hash: secrets::secret_hash(&state),
            nonce: nonce.clone(),
            verifier: verifier.clone(),
            next: next.to_owned(),
            created_at: now,
        };
        let stale = app::model::time::Timestamp(now.millis() - LOGIN_TTL.as_millis() as i64);
        let kept = self
            .store
            .begin_sso_login(&login, stale, LOGINS_IN_FLIGHT)
            .await
            .map_err(store_failure)?;
        if !kept {
            tracing::warn!("{LOGINS_IN_FLIGHT} single sign-ons in flight: refusing more for now");
            return Err(AppError::new(
                ErrorKind::TooManyRequests,
                "TooManySignIns",
                "Too many sign-ins are in progress; try again in a few minutes.",
            ));
        }
        let mut url = reqwest::Url::parse(&known.discovery.authorization_endpoint)
            .map_err(|e| unavailable(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.redirect_url)
            .append_pair("scope", &self.settings.scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(Begun {
            location: url.into(),
            state,
        })
    }

    /// The user the provider's answer names (made on their first sign-in), and where the
    /// sign-in was going. `cookie_state` is the state cookie the browser sent back.
    pub async fn finish(
        &self,
        code: &str,
        state: &str,
        cookie_state: Option<&str>,
    ) -> Result<(StoredUser, String), AppError> {
        let void = || {
            refused(
                "SsoSignInVoid",
                "This sign-in was not begun in this browser, was used already or took longer than ten minutes; sign in again.",
            )
        };
        if cookie_state != Some(state) {
            return Err(void());
        }
        let login = self
            .store
            .take_sso_login(&secrets::secret_hash(state))
            .await
            .map_err(store_failure)?
            .filter(|l| wall_now().millis() - l.created_at.millis() < LOGIN_TTL.as_millis() as i64)
            .ok_or_else(void)?;
        let id_token = self.exchange(code, &login.verifier).await?;
        let claims = self.verified_claims(&id_token).await?;
        claims::check(
            &claims,
            &self.settings,
            &login.nonce,
            wall_now().millis() / 1000,
        )
        .map_err(|why| refused("SsoTokenRefused", format!("Sign-in refused: {why}.")))?;
        let user = self.user(&claims).await?;
        Ok((user, login.next))
    }

    /// The code and the PKCE verifier for an ID token, at the provider's token endpoint.
    async fn exchange(&self, code: &str, verifier: &str) -> Result<String, AppError> {
        let known = self.provider.known().await.map_err(unavailable)?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_url.as_str()),
            ("code_verifier", verifier),
        ];
        let mut request = self.http.post(&known.discovery.token_endpoint);
        let secret = match &self.settings.client_secret {
            Some(source) => Some(source.read().map_err(unavailable)?),
            None => None,
        };
        match &secret {
            // client_secret_basic: both parts form-encoded first (RFC 6749 2.3.1).
            Some(secret) => {
                let pair = format!(
                    "{}:{}",
                    form_encode(&self.settings.client_id),
                    form_encode(secret)
                );
                request =
                    request.header("Authorization", format!("Basic {}", STANDARD.encode(pair)));
            }
            None => form.push(("client_id", self.settings.client_id.as_str())),
        }
        let body = serde_urlencoded::to_string(&form).map_err(|e| unavailable(e.to_string()))?;
        let response = request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let status = response.status();
        let answer: serde_json::Value = response
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        if !status.is_success() {
            let error = answer["error"].as_str().unwrap_or("no error code");
            let description = answer["error_description"].as_str().unwrap_or("");
            return Err(refused(
                "SsoTokenRefused",
                format!(
                    "The identity provider refused the sign-in ({status}, {error}) {description}"
                ),
            ));
        }
        answer["id_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| unavailable("the token endpoint sent no id_token".into()))
    }

    async fn verified_claims(
        &self,
        id_token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, AppError> {
        let known = self.provider.known().await.map_err(unavailable)?;
        let first = jwt::verify(id_token, &known.keys);
        let result = match first {
            Err(jwt::JwtError::UnknownKey(_)) => match self.provider.refetch_keys().await {
                Ok(Some(fresh)) => jwt::verify(id_token, &fresh.keys),
                Ok(None) => first,
                Err(why) => return Err(unavailable(why)),
            },
            other => other,
        };
        result.map_err(|why| refused("SsoTokenRefused", format!("Sign-in refused: {why}.")))
    }

    /// The Drydock user for these claims, with the grants they map to now.
    async fn user(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<StoredUser, AppError> {
        let name = claims::user_name(claims, &self.settings.username_claim)
            .map_err(|why| refused("SsoTokenRefused", format!("Sign-in refused: {why}.")))?;
        let grants = claims::grants(claims, &self.settings);
        if grants.is_empty() {
            return Err(AppError::new(
                ErrorKind::Forbidden,
                "SsoNoRole",
                format!(
                    "{name} signed in, but none of their {} is given a role in Drydock; ask an admin.",
                    self.settings.roles_claim
                ),
            ));
        }
        let subject = claims["sub"].as_str().unwrap_or_default();
        crate::audit_trail::name_actor(name.as_str());
        let identity = SsoIdentity {
            issuer: &self.settings.issuer,
            subject,
            name: &name,
            grants: &grants,
            now: wall_now(),
        };
        self.store
            .sso_user(identity)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| {
                AppError::new(
                    ErrorKind::Conflict,
                    "SsoNameTaken",
                    format!(
                        "The user name {name} belongs to another user of Drydock, so single sign-on will not take it over; ask an admin."
                    ),
                )
            })
    }

    /// The `Set-Cookie` value of the state cookie (`None`: one that clears it).
    pub fn state_cookie(state: Option<&str>, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        let (value, age) = match state {
            Some(state) => (state, LOGIN_TTL.as_secs()),
            None => ("", 0),
        };
        format!(
            "{STATE_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={age}{secure}"
        )
    }
}

/// The S256 code challenge of a PKCE verifier.
fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

fn form_encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|pair| pair.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(form_encode("a b:c"), "a+b%3Ac");
    }
}
