//! Single sign-on in SQLite: sign-ins on their way through the identity provider, and users
//! bound to a provider's subject.

use super::access::user_from_row;
use super::corrupt;
use crate::store::StoreResult;
use crate::store::access::{SsoIdentity, SsoLogin, StoredUser};
use app::model::time::Timestamp;
use sqlx::{AnyPool, Row};

pub async fn begin(
    pool: &AnyPool,
    login: &SsoLogin,
    stale_before: Timestamp,
    most: i64,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM sso_logins WHERE created_at < $1")
        .bind(stale_before.millis())
        .execute(&mut *tx)
        .await?;
    let in_flight: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sso_logins")
        .fetch_one(&mut *tx)
        .await?;
    if in_flight >= most {
        return Ok(false);
    }
    sqlx::query("INSERT INTO sso_logins (state_hash, nonce, verifier, next, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&login.state_hash)
        .bind(&login.nonce)
        .bind(&login.verifier)
        .bind(&login.next)
        .bind(login.created_at.millis())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn take(pool: &AnyPool, state_hash: &str) -> StoreResult<Option<SsoLogin>> {
    let row = sqlx::query(
        "DELETE FROM sso_logins WHERE state_hash = $1 RETURNING nonce, verifier, next, created_at",
    )
    .bind(state_hash)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(SsoLogin {
            state_hash: state_hash.to_owned(),
            nonce: row.try_get("nonce")?,
            verifier: row.try_get("verifier")?,
            next: row.try_get("next")?,
            created_at: Timestamp(row.try_get("created_at")?),
        })
    })
    .transpose()
}

pub async fn user(pool: &AnyPool, identity: SsoIdentity<'_>) -> StoreResult<Option<StoredUser>> {
    let grants = serde_json::to_string(identity.grants).map_err(|e| corrupt("grants", e))?;
    let mut tx = pool.begin().await?;
    let bound: Option<String> =
        sqlx::query_scalar("SELECT name FROM users WHERE issuer = $1 AND subject = $2")
            .bind(identity.issuer)
            .bind(identity.subject)
            .fetch_optional(&mut *tx)
            .await?;
    let name = match bound {
        Some(name) => {
            sqlx::query(
                "UPDATE users SET grants = $1, version = version + 1 WHERE name = $2 AND grants <> $3",
            )
            .bind(&grants)
            .bind(&name)
            .bind(&grants)
            .execute(&mut *tx)
            .await?;
            name
        }
        None => {
            let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE name = $1")
                .bind(identity.name.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() {
                return Ok(None);
            }
            sqlx::query("INSERT INTO users (name, password_hash, issuer, subject, grants, version, created_at, password_changed_at) VALUES ($1, NULL, $2, $3, $4, 1, $5, $6)")
                .bind(identity.name.as_str())
                .bind(identity.issuer)
                .bind(identity.subject)
                .bind(&grants)
                .bind(identity.now.millis())
                .bind(identity.now.millis())
                .execute(&mut *tx)
                .await?;
            identity.name.to_string()
        }
    };
    let row = sqlx::query(concat!(
        "SELECT ",
        super::access::user_columns!(),
        " FROM users WHERE name = $1"
    ))
    .bind(&name)
    .fetch_one(&mut *tx)
    .await?;
    super::commit_audited(tx).await?;
    Ok(Some(user_from_row(&row)?))
}
