//! Users, sessions and API tokens in SQLite.

use super::{SqlStore, corrupt};
use crate::store::access::{
    AccessStore, SsoIdentity, SsoLogin, StoredSession, StoredToken, StoredUser, UserChange,
};
use crate::store::{Expect, StoreError, StoreResult};
use app::model::access::{Grant, Role};
use app::model::names::{FleetName, UserName};
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

/// The user columns every query reads (a macro, so queries stay static strings).
macro_rules! user_columns {
    () => {
        "users.name, users.password_hash, users.issuer, users.grants, users.version, users.created_at, users.password_changed_at"
    };
}
pub(super) use user_columns;

pub(super) fn user_from_row(row: &AnyRow) -> StoreResult<StoredUser> {
    let name =
        UserName::parse(&row.try_get::<String, _>("name")?).map_err(|e| corrupt("user", e))?;
    let grants: Vec<Grant> = serde_json::from_str(&row.try_get::<String, _>("grants")?)
        .map_err(|e| corrupt("user grants", e))?;
    Ok(StoredUser {
        name,
        password_hash: row.try_get("password_hash")?,
        issuer: row.try_get("issuer")?,
        grants,
        etag: row.try_get("version")?,
        created_at: Timestamp(row.try_get("created_at")?),
        password_changed_at: Timestamp(row.try_get("password_changed_at")?),
    })
}

fn token_from_row(row: &AnyRow) -> StoreResult<StoredToken> {
    token_from_columns(row, "created_at")
}

/// A token from a row where its creation time is column `created` (joined with its owner, the
/// user's own `created_at` takes that name).
fn token_from_columns(row: &AnyRow, created: &str) -> StoreResult<StoredToken> {
    let owner = UserName::parse(&row.try_get::<String, _>("owner")?)
        .map_err(|e| corrupt("token owner", e))?;
    let role = Role::parse(&row.try_get::<String, _>("role")?).map_err(|e| corrupt("token", e))?;
    let fleet = row
        .try_get::<Option<String>, _>("fleet")?
        .map(|f| FleetName::parse(&f))
        .transpose()
        .map_err(|e| corrupt("token fleet", e))?;
    let time = |col: &str| -> StoreResult<Option<Timestamp>> {
        Ok(row.try_get::<Option<i64>, _>(col)?.map(Timestamp))
    };
    Ok(StoredToken {
        id: row.try_get("id")?,
        owner,
        role,
        fleet,
        description: row.try_get("description")?,
        created_at: Timestamp(row.try_get(created)?),
        expires_at: time("expires_at")?,
        revoked_at: time("revoked_at")?,
        last_used_at: time("last_used_at")?,
    })
}

#[async_trait::async_trait]
impl AccessStore for SqlStore {
    async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn put_user(&self, change: UserChange<'_>) -> StoreResult<bool> {
        let grants = serde_json::to_string(change.grants).map_err(|e| corrupt("grants", e))?;
        let name = change.name.as_str();
        let mut tx = self.begin_write().await?;
        let existing: Option<i64> = sqlx::query_scalar("SELECT version FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if !change.expect.allows(existing) {
            return Err(StoreError::Concurrent);
        }
        match existing {
            None => {
                sqlx::query("INSERT INTO users (name, password_hash, grants, version, created_at, password_changed_at) VALUES ($1, $2, $3, 1, $4, $5)")
                    .bind(name)
                    .bind(change.password_hash)
                    .bind(&grants)
                    .bind(change.now.millis())
                    .bind(change.now.millis())
                    .execute(&mut *tx)
                    .await?;
            }
            Some(version) => {
                sqlx::query("UPDATE users SET grants = $1, version = version + 1 WHERE name = $2 AND version = $3")
                    .bind(&grants)
                    .bind(name)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
                if let Some(hash) = change.password_hash {
                    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE name = $3")
                        .bind(hash)
                        .bind(change.now.millis())
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM sessions WHERE \"user\" = $1")
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        super::commit_audited(tx).await?;
        Ok(existing.is_none())
    }

    async fn get_user(&self, name: &UserName) -> StoreResult<Option<StoredUser>> {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE name = $1"
        ))
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| user_from_row(&row))
        .transpose()
    }

    async fn list_users(&self) -> StoreResult<Vec<StoredUser>> {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn delete_user(&self, name: &UserName, expect: Expect) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let existing: Option<i64> = sqlx::query_scalar("SELECT version FROM users WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if !expect.allows(existing) {
            return Err(StoreError::Concurrent);
        }
        let done = sqlx::query("DELETE FROM users WHERE name = $1")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        super::commit_audited(tx).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_session(
        &self,
        id_hash: &str,
        user: &UserName,
        now: Timestamp,
        address: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO sessions (id_hash, \"user\", created_at, last_seen_at, address) VALUES ($1, $2, $3, $4, $5)")
            .bind(id_hash)
            .bind(user.as_str())
            .bind(now.millis())
            .bind(now.millis())
            .bind(address)
            .execute(&mut *tx)
            .await?;
        super::commit_audited(tx).await
    }

    async fn session(&self, id_hash: &str) -> StoreResult<Option<StoredSession>> {
        let query = concat!(
            "SELECT ",
            user_columns!(),
            ", sessions.created_at AS session_created, sessions.last_seen_at \
             FROM sessions JOIN users ON users.name = sessions.\"user\" WHERE sessions.id_hash = $1"
        );
        let Some(row) = sqlx::query(query)
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(StoredSession {
            user: user_from_row(&row)?,
            created_at: Timestamp(row.try_get("session_created")?),
            last_seen_at: Timestamp(row.try_get("last_seen_at")?),
        }))
    }

    async fn touch_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now.millis())
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 1 {
            super::commit_audited(tx).await?;
        }
        Ok(())
    }

    async fn create_token(&self, token: &StoredToken, secret_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO api_tokens (id, secret_hash, owner, role, fleet, description, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&token.id)
            .bind(secret_hash)
            .bind(token.owner.as_str())
            .bind(token.role.as_str())
            .bind(token.fleet.as_ref().map(FleetName::as_str))
            .bind(&token.description)
            .bind(token.created_at.millis())
            .bind(token.expires_at.map(Timestamp::millis))
            .execute(&mut *tx)
            .await
            .map_err(|e| match super::broke(&e) {
                super::Broke::ForeignKey => StoreError::NotFound,
                _ => StoreError::Database(e),
            })?;
        super::commit_audited(tx).await
    }

    async fn token_by_secret(
        &self,
        secret_hash: &str,
    ) -> StoreResult<Option<(StoredToken, StoredUser)>> {
        let query = concat!(
            "SELECT api_tokens.id, api_tokens.owner, api_tokens.role, api_tokens.fleet, \
             api_tokens.description, api_tokens.created_at AS token_created, \
             api_tokens.expires_at, api_tokens.revoked_at, api_tokens.last_used_at, ",
            user_columns!(),
            " FROM api_tokens JOIN users ON users.name = api_tokens.owner \
             WHERE api_tokens.secret_hash = $1"
        );
        let Some(row) = sqlx::query(query)
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((
            token_from_columns(&row, "token_created")?,
            user_from_row(&row)?,
        )))
    }

    async fn list_tokens(&self, owner: Option<&UserName>) -> StoreResult<Vec<StoredToken>> {
        sqlx::query(
            "SELECT * FROM api_tokens WHERE $1 IS NULL OR owner = $1 ORDER BY created_at DESC, id",
        )
        .bind(owner.map(UserName::as_str))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    async fn get_token(&self, id: &str) -> StoreResult<Option<StoredToken>> {
        sqlx::query("SELECT * FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| token_from_row(&row))
            .transpose()
    }

    async fn revoke_token(&self, id: &str, now: Timestamp) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let revoked = done.rows_affected() == 1;
        if revoked {
            super::commit_audited(tx).await?;
        }
        Ok(revoked)
    }

    async fn touch_token(&self, id: &str, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn begin_sso_login(
        &self,
        login: &SsoLogin,
        stale_before: Timestamp,
        most: i64,
    ) -> StoreResult<bool> {
        super::single_sign_on::begin(&self.pool, login, stale_before, most).await
    }

    async fn take_sso_login(&self, state_hash: &str) -> StoreResult<Option<SsoLogin>> {
        super::single_sign_on::take(&self.pool, state_hash).await
    }

    async fn sso_user(&self, identity: SsoIdentity<'_>) -> StoreResult<Option<StoredUser>> {
        super::single_sign_on::user(&self.pool, identity).await
    }
}
