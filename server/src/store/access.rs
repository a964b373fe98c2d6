//! What the store keeps about who may sign in: users, browser sessions and API tokens. Secrets
//! arrive here already hashed; nothing in this module ever sees a password or a token.

use super::{Expect, StoreResult};
use app::model::access::{Grant, Role};
use app::model::names::{FleetName, UserName};
use app::model::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    pub name: UserName,
    /// A PHC Argon2id string; `None` for users who sign in only through single sign-on.
    pub password_hash: Option<String>,
    /// The identity provider a single-sign-on user comes from (`None`: a built-in user).
    pub issuer: Option<String>,
    pub grants: Vec<Grant>,
    pub etag: i64,
    pub created_at: Timestamp,
    pub password_changed_at: Timestamp,
}

/// What a user PUT changes: the grants always, the password when one is given.
#[derive(Debug, Clone)]
pub struct UserChange<'a> {
    pub name: &'a UserName,
    pub password_hash: Option<&'a str>,
    pub grants: &'a [Grant],
    pub now: Timestamp,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub user: StoredUser,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: String,
    pub owner: UserName,
    pub role: Role,
    pub fleet: Option<FleetName>,
    pub description: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

/// A sign-in on its way through the identity provider (see `auth::oidc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoLogin {
    pub state_hash: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
    pub created_at: Timestamp,
}

/// Who an identity provider says signed in, and the grants its claims map to.
#[derive(Debug, Clone)]
pub struct SsoIdentity<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub name: &'a UserName,
    pub grants: &'a [Grant],
    pub now: Timestamp,
}

#[async_trait::async_trait]
pub trait AccessStore: Send + Sync + 'static {
    async fn count_users(&self) -> StoreResult<i64>;

    /// Creates or changes a user; `true` when created. A new password ends the user's sessions
    /// in the same transaction, so a stolen session dies with the old password.
    async fn put_user(&self, change: UserChange<'_>) -> StoreResult<bool>;

    async fn get_user(&self, name: &UserName) -> StoreResult<Option<StoredUser>>;

    async fn list_users(&self) -> StoreResult<Vec<StoredUser>>;

    /// Deletes the user with their sessions and tokens; `false` when there was none.
    async fn delete_user(&self, name: &UserName, expect: Expect) -> StoreResult<bool>;

    async fn create_session(
        &self,
        id_hash: &str,
        user: &UserName,
        now: Timestamp,
        address: Option<&str>,
    ) -> StoreResult<()>;

    async fn session(&self, id_hash: &str) -> StoreResult<Option<StoredSession>>;

    async fn touch_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<()>;

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;

    async fn create_token(&self, token: &StoredToken, secret_hash: &str) -> StoreResult<()>;

    /// The token with this secret and its owner, revoked or not.
    async fn token_by_secret(
        &self,
        secret_hash: &str,
    ) -> StoreResult<Option<(StoredToken, StoredUser)>>;

    /// Tokens of `owner`, or of everyone; newest first.
    async fn list_tokens(&self, owner: Option<&UserName>) -> StoreResult<Vec<StoredToken>>;

    async fn get_token(&self, id: &str) -> StoreResult<Option<StoredToken>>;

    /// Marks the token revoked; `false` when there is no such token or it was revoked already.
    async fn revoke_token(&self, id: &str, now: Timestamp) -> StoreResult<bool>;

    async fn touch_token(&self, id: &str, now: Timestamp) -> StoreResult<()>;

    /// Keeps a sign-in sent to the identity provider, unless `most` are in flight already
    /// (`false`); drops those begun before `stale_before` first.
    async fn begin_sso_login(
        &self,
        login: &SsoLogin,
        stale_before: Timestamp,
        most: i64,
    ) -> StoreResult<bool>;

    /// The sign-in with this state, removed so it is used once.
    async fn take_sso_login(&self, state_hash: &str) -> StoreResult<Option<SsoLogin>>;

    /// The user bound to the identity's issuer and subject, made on their first sign-in, with
    /// the grants the provider's claims give now. `None` when the name belongs to someone else
    /// (a built-in user, or another subject): nobody is taken over.
    async fn sso_user(&self, identity: SsoIdentity<'_>) -> StoreResult<Option<StoredUser>>;
}
