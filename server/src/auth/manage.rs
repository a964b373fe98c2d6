//! Users and API tokens as resources: who may create, see and revoke them.
//! Users are global admins' business; a token is its creator's, and never carries more than
//! the creator holds where it applies.

use super::{Access, TOKEN_PREFIX, secrets, store_failure, wall_now};
use crate::service::expectation;
use crate::store::Expect;
use crate::store::access::{StoredToken, StoredUser, UserChange};
use app::model::access::{Caller, Credential, Grant, Role};
use app::model::error::AppError;
use app::model::names::{FleetName, UserName};
use app::model::precondition::Precondition;
use app::model::time::Timestamp;

pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 1024;
pub const DEFAULT_TOKEN_DAYS: u32 = 90;
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// What `POST /api/v1/tokens` asks for.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub role: Role,
    pub fleet: Option<FleetName>,
    pub expires_in_days: Option<u32>,
    pub description: String,
}

/// What a user PUT sets: the roles always, the password when given.
#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub password: Option<String>,
    pub roles: Vec<Grant>,
}

fn check_password_rules(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(AppError::invalid(
            "InvalidPassword",
            format!("A password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long."),
        ));
    }
    Ok(())
}

fn is_global_admin(grants: &[Grant]) -> bool {
    grants.contains(&Grant::global(Role::Admin))
}

impl Access {
    pub async fn create_token(
        &self,
        caller: &Caller,
        request: NewToken,
    ) -> Result<(StoredToken, String), AppError> {
        if !matches!(
            caller.credential,
            Credential::Session | Credential::Password | Credential::SingleSignOn { .. }
        ) {
            return Err(AppError::invalid(
                "TokenNeedsUser",
                "API tokens are created by a signed-in user (a token cannot create tokens, and --auth none has no users).",
            ));
        }
        // A token can do at most what its creator can, where it applies.
        caller.require(request.role, request.fleet.as_ref())?;
        let days = request.expires_in_days.unwrap_or(DEFAULT_TOKEN_DAYS);
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(AppError::invalid(
                "InvalidExpiry",
                format!("expiresInDays must be from 1 to {MAX_TOKEN_DAYS}."),
            ));
        }
        let now = wall_now();
        let token = StoredToken {
            // A uid, so two tokens can never get one name (the secret is separate and random).
            id: format!("tok-{}", uuid::Uuid::new_v4().simple()),
            owner: UserName::parse(&caller.name)
                .map_err(|e| AppError::invalid("InvalidUser", e))?,
            role: request.role,
            fleet: request.fleet,
            description: request.description,
            created_at: now,
            expires_at: Some(Timestamp(now.millis() + i64::from(days) * 86_400_000)),
            revoked_at: None,
            last_used_at: None,
        };
        let secret = format!("{TOKEN_PREFIX}{}", secrets::random_text(32));
        self.store
            .create_token(&token, &secrets::secret_hash(&secret))
            .await
            .map_err(store_failure)?;
        Ok((token, secret))
    }

    /// A global admin sees every token; anyone else their own.
    pub async fn list_tokens(&self, caller: &Caller) -> Result<Vec<StoredToken>, AppError> {
        if caller.is_anonymous() {
            return Err(app::model::access::unauthenticated());
        }
        let owner = if caller.may(Role::Admin, None) {
            None
        } else {
            Some(UserName::parse(&caller.name).map_err(|e| AppError::invalid("InvalidUser", e))?)
        };
        self.store
            .list_tokens(owner.as_ref())
            .await
            .map_err(store_failure)
    }

    /// Revokes a token of the caller's own (or any, for a global admin); others' tokens do not
    /// exist for them.
    pub async fn revoke_token(&self, caller: &Caller, id: &str) -> Result<bool, AppError> {
        if caller.is_anonymous() {
            return Err(app::model::access::unauthenticated());
        }
        let token = self.store.get_token(id).await.map_err(store_failure)?;
        let visible =
            token.filter(|t| caller.may(Role::Admin, None) || t.owner.as_str() == caller.name);
        let Some(token) = visible else {
            return Err(token_not_found(id));
        };
        self.store
            .revoke_token(&token.id, wall_now())
            .await
            .map_err(store_failure)
    }

    pub async fn list_users(&self, caller: &Caller) -> Result<Vec<StoredUser>, AppError> {
        caller.require(Role::Admin, None)?;
        self.store.list_users().await.map_err(store_failure)
    }

    pub async fn get_user(&self, caller: &Caller, name: &UserName) -> Result<StoredUser, AppError> {
        if caller.name != name.as_str() {
            caller.require(Role::Admin, None)?;
        }
        self.store
            .get_user(name)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| user_not_found(name))
    }

    /// Creates or changes a user (global admins only) as `precondition` allows; the user as
    /// stored and whether it was created. A new password ends the user's sessions. The last
    /// global admin cannot lose that role.
    pub async fn put_user(
        &self,
        caller: &Caller,
        name: &UserName,
        update: UserUpdate,
        precondition: &Precondition,
    ) -> Result<(StoredUser, bool), AppError> {
        caller.require(Role::Admin, None)?;
        if let Some(password) = &update.password {
            check_password_rules(password)?;
        }
        let existing = self.store.get_user(name).await.map_err(store_failure)?;
        let expect = expectation(precondition, "user", existing.as_ref().map(|u| u.etag))?;
        if existing.is_none() && update.password.is_none() {
            return Err(AppError::invalid(
                "PasswordRequired",
                format!("User {name} is new: give them a password."),
            ));
        }
        if existing
            .as_ref()
            .is_some_and(|u| is_global_admin(&u.grants))
            && !is_global_admin(&update.roles)
        {
            self.keep_an_admin(name).await?;
        }
        let hash = update.password.as_deref().map(secrets::hash_password);
        let change = UserChange {
            name,
            password_hash: hash.as_deref(),
            grants: &update.roles,
            now: wall_now(),
            expect,
        };
        let created = self.store.put_user(change).await.map_err(store_failure)?;
        let stored = self.store.get_user(name).await.map_err(store_failure)?;
        Ok((stored.ok_or_else(|| user_not_found(name))?, created))
    }

    pub async fn delete_user(
        &self,
        caller: &Caller,
        name: &UserName,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Admin, None)?;
        let existing = self.store.get_user(name).await.map_err(store_failure)?;
        let expect = expectation(precondition, "user", existing.as_ref().map(|u| u.etag))?;
        if existing
            .as_ref()
            .is_some_and(|u| is_global_admin(&u.grants))
        {
            self.keep_an_admin(name).await?;
        }
        self.store
            .delete_user(name, expect)
            .await
            .map_err(store_failure)
    }

    /// A signed-in user changes their own password, proving the current one (which counts
    /// towards the sign-in limits). All their sessions end, this one too.
    pub async fn change_own_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
        address: &str,
    ) -> Result<(), AppError> {
        if let Credential::SingleSignOn { issuer } = &caller.credential {
            return Err(AppError::invalid(
                "PasswordAtProvider",
                format!("You sign in through {issuer}: your password is changed there."),
            ));
        }
        if !matches!(
            caller.credential,
            Credential::Session | Credential::Password
        ) {
            return Err(if caller.is_anonymous() {
                app::model::access::unauthenticated()
            } else {
                AppError::invalid(
                    "PasswordNeedsUser",
                    "A password is changed by its signed-in user, not with an API token.",
                )
            });
        }
        check_password_rules(new)?;
        let user = self.check_password(&caller.name, current, address).await?;
        let hash = secrets::hash_password(new);
        let change = UserChange {
            name: &user.name,
            password_hash: Some(&hash),
            grants: &user.grants,
            now: wall_now(),
            expect: Expect::Version(user.etag),
        };
        self.store.put_user(change).await.map_err(store_failure)?;
        Ok(())
    }

    /// Refuses a change that would leave no global admin besides `leaving`.
    async fn keep_an_admin(&self, leaving: &UserName) -> Result<(), AppError> {
        let users = self.store.list_users().await.map_err(store_failure)?;
        if users
            .iter()
            .any(|u| &u.name != leaving && is_global_admin(&u.grants))
        {
            return Ok(());
        }
        Err(AppError::conflict(
            "LastAdmin",
            format!("{leaving} is the last admin of every fleet; make another user admin first."),
        ))
    }
}

/// `Active`, `Expired` or `Revoked`.
pub fn token_state(token: &StoredToken) -> &'static str {
    if token.revoked_at.is_some() {
        "Revoked"
    } else if token.expires_at.is_some_and(|at| at <= wall_now()) {
        "Expired"
    } else {
        "Active"
    }
}

/// The token as the browser shows it.
pub fn token_view(token: &StoredToken) -> app::model::access::TokenView {
    app::model::access::TokenView {
        id: token.id.clone(),
        owner: token.owner.to_string(),
        role: token.role,
        fleet: token.fleet.clone(),
        description: token.description.clone(),
        state: token_state(token).to_owned(),
        created: token.created_at,
        expires: token.expires_at,
        last_used: token.last_used_at,
    }
}

pub fn user_view(user: &StoredUser) -> app::model::access::UserView {
    app::model::access::UserView {
        name: user.name.to_string(),
        roles: user.grants.clone(),
        password_set: user.password_hash.is_some(),
        identity_provider: user.issuer.clone(),
        created: user.created_at,
    }
}

pub fn token_not_found(id: &str) -> AppError {
    AppError::not_found("TokenNotFound", format!("There is no API token {id}."))
}

pub fn user_not_found(name: &UserName) -> AppError {
    AppError::not_found("UserNotFound", format!("There is no user {name}."))
}
