//! Who is calling. Every request gets a [`Caller`] here, from one of: an API token
//! (`Authorization: Bearer`), a user's password (`Authorization: Basic`, for first steps with
//! curl), or a browser session cookie. What the caller may do is decided by the service, not
//! here (see `service::Drydock`, which takes the caller with every call).

pub mod forwarded;
mod limiter;
mod manage;
pub mod oidc;
pub mod secrets;

pub use manage::{NewToken, UserUpdate, token_state, token_view, user_not_found, user_view};

use crate::store::access::{AccessStore, StoredUser};
use app::model::access::{Caller, Credential, Grant, Role};
use app::model::error::{AppError, ErrorKind};
use app::model::names::UserName;
use app::model::time::Timestamp;
use axum::http::{HeaderMap, header};
use base64::Engine;
use std::sync::Arc;
use std::time::Duration;

/// The browser session's cookie.
pub const SESSION_COOKIE: &str = "drydock_session";
/// The session's CSRF token, readable by the page (not `HttpOnly`) so forms can carry it.
pub const CSRF_COOKIE: &str = "drydock_csrf";
/// Where a form carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// Where a script carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Token secrets start with this, so secret scanners (and people) can tell what they are.
pub const TOKEN_PREFIX: &str = "ddt_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Users with passwords, sessions and API tokens.
    Builtin,
    /// Everyone who reaches the server is an admin: local development only.
    None,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub mode: AuthMode,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_max: Duration,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            mode: AuthMode::Builtin,
            session_idle: Duration::from_secs(12 * 3600),
            session_max: Duration::from_secs(7 * 24 * 3600),
            trusted_proxies: Vec::new(),
        }
    }
}

pub struct Access {
    store: Arc<dyn AccessStore>,
    settings: AuthSettings,
    limiter: limiter::Limiter,
    single_sign_on: Option<oidc::SingleSignOn>,
}

/// Wall-clock now: sessions and tokens expire in real time, whatever fleet time does.
pub fn wall_now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Timestamp(millis)
}

fn store_failure(error: crate::store::StoreError) -> AppError {
    crate::service::store_error(error)
}

fn millis(duration: Duration) -> i64 {
    duration.as_millis().min(i64::MAX as u128) as i64
}

impl Access {
    pub fn new(store: Arc<dyn AccessStore>, settings: AuthSettings) -> Self {
        Self {
            store,
            settings,
            limiter: limiter::Limiter::default(),
            single_sign_on: None,
        }
    }

    /// Adds sign-in through an OpenID Connect identity provider (`[oidc]`).
    pub fn with_single_sign_on(mut self, single_sign_on: oidc::SingleSignOn) -> Self {
        self.single_sign_on = Some(single_sign_on);
        self
    }

    pub fn single_sign_on(&self) -> Option<&oidc::SingleSignOn> {
        self.single_sign_on
            .as_ref()
            .filter(|_| self.settings.mode == AuthMode::Builtin)
    }

    pub fn trusted_proxies(&self) -> &[std::net::IpAddr] {
        &self.settings.trusted_proxies
    }

    /// On a store with no user: creates `admin` with `password`, or with a random one that is
    /// returned so it can be shown once. `None` when users exist already.
    pub async fn bootstrap(&self, password: Option<String>) -> Result<Option<String>, AppError> {
        if self.store.count_users().await.map_err(store_failure)? > 0 {
            return Ok(None);
        }
        let password = password.unwrap_or_else(|| secrets::random_text(15));
        let name = UserName::parse("admin").expect("admin is a user name");
        let hash = secrets::hash_password(&password);
        let change = crate::store::access::UserChange {
            name: &name,
            password_hash: Some(&hash),
            grants: &[Grant::global(Role::Admin)],
            now: wall_now(),
            expect: crate::store::Expect::Absent,
        };
        match self.store.put_user(change).await {
            Ok(_) => Ok(Some(password)),
            // Another replica made it first.
            Err(crate::store::StoreError::Concurrent) => Ok(None),
            Err(error) => Err(store_failure(error)),
        }
    }

    /// The caller a request's credentials name; a credential that is wrong, expired or revoked
    /// is refused (401), never taken as anonymous.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        address: &str,
    ) -> Result<Caller, AppError> {
        if self.settings.mode == AuthMode::None {
            return Ok(Caller {
                name: "local".into(),
                credential: Credential::AuthDisabled,
                grants: vec![Grant::global(Role::Admin)],
            });
        }
        if let Some(authorization) = headers.get(header::AUTHORIZATION) {
            let value = authorization.to_str().map_err(|_| bad_credential())?;
            return match value.split_once(' ') {
                Some(("Bearer", token)) => self.by_token(token.trim()).await,
                Some(("Basic", encoded)) => self.by_basic(encoded.trim(), address).await,
                _ => Err(bad_credential()),
            };
        }
        match session_cookie(headers) {
            Some(id) => self.by_session(id).await,
            None => Ok(Caller::anonymous()),
        }
    }

    async fn by_token(&self, token: &str) -> Result<Caller, AppError> {
        let hash = secrets::secret_hash(token);
        let Some((token, owner)) = self
            .store
            .token_by_secret(&hash)
            .await
            .map_err(store_failure)?
        else {
            return Err(bad_credential());
        };
        let now = wall_now();
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
            return Err(AppError::new(
                ErrorKind::Unauthenticated,
                "TokenExpired",
                format!("API token {} has expired or been revoked.", token.id),
            ));
        }
        // Touching on every request would make each read a write; a minute is close enough.
        if token
            .last_used_at
            .is_none_or(|at| now.millis() - at.millis() > 60_000)
        {
            self.store
                .touch_token(&token.id, now)
                .await
                .map_err(store_failure)?;
        }
        // A token never outranks its owner, even after the owner lost a role.
        let role = owner_caller(&owner, Credential::Session)
            .role_on(token.fleet.as_ref())
            .map(|held| held.min(token.role));
        Ok(Caller {
            name: owner.name.to_string(),
            credential: Credential::Token { id: token.id },
            grants: role
                .map(|role| Grant {
                    role,
                    fleet: token.fleet,
                })
                .into_iter()
                .collect(),
        })
    }

    async fn by_basic(&self, encoded: &str, address: &str) -> Result<Caller, AppError> {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(bad_credential)?;
        let (user, password) = decoded.split_once(':').ok_or_else(bad_credential)?;
        let user = self.check_password(user, password, address).await?;
        Ok(owner_caller(&user, Credential::Password))
    }

    /// The user whose password this is; failures count towards the sign-in limits.
    pub async fn check_password(
        &self,
        user: &str,
        password: &str,
        address: &str,
    ) -> Result<StoredUser, AppError> {
        if let Some(wait) = self.limiter.locked(user, address) {
            return Err(AppError::new(
                ErrorKind::TooManyRequests,
                "TooManySignInAttempts",
                format!(
                    "Too many failed sign-ins for {user:?} or from this address; try again in {} minutes.",
                    wait.as_secs().div_ceil(60).max(1)
                ),
            ));
        }
        let found = match UserName::parse(user) {
            Ok(name) => self.store.get_user(&name).await.map_err(store_failure)?,
            Err(_) => None,
        };
        let verified = match found.as_ref().and_then(|u| u.password_hash.as_deref()) {
            Some(phc) => secrets::verify_password(password, phc),
            None => {
                secrets::waste_a_verification(password);
                false
            }
        };
        match found {
            Some(user) if verified => {
                self.limiter.succeeded(user.name.as_str());
                Ok(user)
            }
            _ => {
                self.limiter.failed(user, address);
                Err(AppError::new(
                    ErrorKind::Unauthenticated,
                    "InvalidCredentials",
                    "The user name or password is wrong.",
                ))
            }
        }
    }

    async fn by_session(&self, id: &str) -> Result<Caller, AppError> {
        let hash = secrets::secret_hash(id);
        let session = self.store.session(&hash).await.map_err(store_failure)?;
        let now = wall_now();
        let Some(session) = session.filter(|s| {
            now.millis() - s.last_seen_at.millis() < millis(self.settings.session_idle)
                && now.millis() - s.created_at.millis() < millis(self.settings.session_max)
        }) else {
            return Err(AppError::new(
                ErrorKind::Unauthenticated,
                "SessionExpired",
                "Your session has ended; sign in again.",
            ));
        };
        let touch_every = millis(self.settings.session_idle / 10).min(60_000);
        if now.millis() - session.last_seen_at.millis() >= touch_every {
            self.store
                .touch_session(&hash, now)
                .await
                .map_err(store_failure)?;
        }
        Ok(owner_caller(
            &session.user,
            session_credential(&session.user),
        ))
    }

    /// Signs a user in: the new session's id, to be set as the cookie.
    pub async fn sign_in(
        &self,
        user: &str,
        password: &str,
        address: &str,
    ) -> Result<(String, Caller), AppError> {
        let user = self.check_password(user, password, address).await?;
        self.start_session(&user, address).await
    }

    /// A new session for a user who has proven who they are; its id, to be set as the cookie.
    pub async fn start_session(
        &self,
        user: &StoredUser,
        address: &str,
    ) -> Result<(String, Caller), AppError> {
        let id = secrets::random_text(32);
        self.store
            .create_session(
                &secrets::secret_hash(&id),
                &user.name,
                wall_now(),
                Some(address),
            )
            .await
            .map_err(store_failure)?;
        Ok((id, owner_caller(user, session_credential(user))))
    }

    /// Ends the session the request carries, if any.
    pub async fn sign_out(&self, headers: &HeaderMap) -> Result<(), AppError> {
        if let Some(id) = session_cookie(headers) {
            self.store
                .delete_session(&secrets::secret_hash(id))
                .await
                .map_err(store_failure)?;
        }
        Ok(())
    }

    /// The session id the request's cookie carries, if any.
    pub fn session_id(headers: &HeaderMap) -> Option<&str> {
        session_cookie(headers)
    }

    /// The CSRF token of the session with this id: derived from it, so it needs no storage,
    /// changes with every session and cannot be made without the session's secret.
    pub fn csrf_token(session_id: &str) -> String {
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            format!("drydock-csrf\0{session_id}").as_bytes(),
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }

    /// The `Set-Cookie` value of the CSRF cookie for the session `id` (`None`: one that clears
    /// it). `SameSite=Strict`, and readable by the page, whose forms copy it.
    pub fn csrf_cookie(&self, id: Option<&str>, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        match id {
            Some(id) => format!(
                "{CSRF_COOKIE}={}; Path=/; SameSite=Strict; Max-Age={}{secure}",
                Self::csrf_token(id),
                self.settings.session_max.as_secs()
            ),
            None => format!("{CSRF_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0{secure}"),
        }
    }

    /// The `Set-Cookie` values for a session and its CSRF token (`None`: ones that clear them).
    pub fn session_cookies(&self, id: Option<&str>, secure: bool) -> [String; 2] {
        let flag = if secure { "; Secure" } else { "" };
        let session = match id {
            Some(id) => format!(
                "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{flag}",
                self.settings.session_max.as_secs()
            ),
            None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{flag}"),
        };
        [session, self.csrf_cookie(id, secure)]
    }
}

/// A session's credential: begun through the user's identity provider, or with a password.
fn session_credential(user: &StoredUser) -> Credential {
    match &user.issuer {
        Some(issuer) => Credential::SingleSignOn {
            issuer: issuer.clone(),
        },
        None => Credential::Session,
    }
}

fn owner_caller(user: &StoredUser, credential: Credential) -> Caller {
    Caller {
        name: user.name.to_string(),
        credential,
        grants: user.grants.clone(),
    }
}

fn bad_credential() -> AppError {
    AppError::new(
        ErrorKind::Unauthenticated,
        "InvalidCredentials",
        "The credential in the Authorization header is not valid (send Bearer <token> or Basic <user:password>).",
    )
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The value of the cookie called `name`, if the request carries one that is not empty.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}
