//! `/tokens` (API tokens: created, listed, revoked), `/users` (global admins manage who may
//! sign in and their roles) and `/me` (who the credential in use belongs to).

use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, delete_response, list, ok,
    parse_name, put_response,
};
use crate::auth::{NewToken, UserUpdate};
use crate::store::access::{StoredToken, StoredUser};
use app::model::access::{Grant, Role};
use app::model::names::{FleetName, UserName};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenProperties {
    role: Role,
    #[serde(default)]
    fleet: Option<FleetName>,
    #[serde(default)]
    expires_in_days: Option<u32>,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserProperties {
    #[serde(default)]
    password: Option<String>,
    roles: Vec<Grant>,
}

/// A token as listed: never its secret (which is not kept).
fn token_json(token: &StoredToken) -> Value {
    let time = |t: Option<app::model::time::Timestamp>| t.map(|t| t.to_string());
    json!({
        "id": format!("/tokens/{}", token.id),
        "name": token.id,
        "type": "Drydock/tokens",
        "properties": {
            "role": token.role,
            "fleet": token.fleet,
            "owner": token.owner,
            "description": token.description,
            "state": crate::auth::token_state(token),
            "createdTime": token.created_at.to_string(),
            "expiresTime": time(token.expires_at),
            "revokedTime": time(token.revoked_at),
            "lastUsedTime": time(token.last_used_at),
        },
    })
}

/// A user as listed: never the password hash.
fn user_json(user: &StoredUser) -> Value {
    json!({
        "id": format!("/users/{}", user.name),
        "name": user.name,
        "type": "Drydock/users",
        "etag": user.etag.to_string(),
        "properties": {
            "roles": user.grants,
            "passwordSet": user.password_hash.is_some(),
            // The issuer of a user who signs in through single sign-on.
            "identityProvider": user.issuer,
            "createdTime": user.created_at.to_string(),
            "passwordChangedTime": user.password_changed_at.to_string(),
        },
    })
}

fn user_name(name: &str) -> Result<UserName, super::ApiError> {
    parse_name("InvalidUserName", UserName::parse(name))
}

/// Answered once with the secret (`properties.token`); only its hash is kept.
pub async fn create_token(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    ArmJson(body): ArmJson<ArmBody<TokenProperties>>,
) -> ApiResult {
    let p = body.properties;
    let request = NewToken {
        role: p.role,
        fleet: p.fleet,
        expires_in_days: p.expires_in_days,
        description: p.description,
    };
    let (token, secret) = drydock.access().create_token(&caller, request).await?;
    let mut value = token_json(&token);
    value["properties"]["token"] = json!(secret);
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

pub async fn list_tokens(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let tokens = drydock.access().list_tokens(&caller).await?;
    Ok(list(tokens.iter().map(token_json).collect()))
}

/// Revokes: 200, or 204 when it was revoked already.
pub async fn revoke_token(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(id): Path<String>,
) -> ApiResult {
    Ok(delete_response(
        drydock.access().revoke_token(&caller, &id).await?,
    ))
}

pub async fn list_users(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let users = drydock.access().list_users(&caller).await?;
    Ok(list(users.iter().map(user_json).collect()))
}

pub async fn get_user(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
) -> ApiResult {
    let name = user_name(&name)?;
    Ok(ok(user_json(
        &drydock.access().get_user(&caller, &name).await?,
    )))
}

pub async fn put_user(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<UserProperties>>,
) -> ApiResult {
    let name = user_name(&name)?;
    let update = UserUpdate {
        password: body.properties.password,
        roles: body.properties.roles,
    };
    let (user, created) = drydock
        .access()
        .put_user(&caller, &name, update, &precondition)
        .await?;
    Ok(put_response(created, user_json(&user)))
}

pub async fn delete_user(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    IfMatch(precondition): IfMatch,
) -> ApiResult {
    let name = user_name(&name)?;
    Ok(delete_response(
        drydock
            .access()
            .delete_user(&caller, &name, &precondition)
            .await?,
    ))
}

/// Who the request's credential belongs to, with the roles it carries.
pub async fn me(AsCaller(caller): AsCaller) -> ApiResult {
    Ok(ok(json!({
        "name": caller.name,
        "credential": caller.credential,
        "roles": caller.grants,
    })))
}

/// `GET /api/v1/audit?actor=&fleet=&run=&before=&limit=`: newest first; `nextBefore` pages on.
pub async fn audit(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> ApiResult {
    let mut wanted = app::model::audit::AuditQuery::default();
    for (key, value) in super::query_pairs(
        query.as_deref(),
        &["actor", "fleet", "run", "before", "limit"],
    )? {
        let number = || {
            value.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                app::model::error::AppError::invalid(
                    "InvalidQueryParameter",
                    format!("{key} must be a whole number from 1, not {value:?}."),
                )
            })
        };
        match key {
            "actor" => wanted.actor = Some(value.to_owned()),
            "fleet" => wanted.fleet = Some(value.to_owned()),
            "run" => wanted.run = Some(value.to_owned()),
            "before" => wanted.before = Some(number()?),
            _ => wanted.limit = Some(number()?.min(i64::from(u32::MAX)) as u32),
        }
    }
    let page = drydock.audit_log(&caller, &wanted).await?;
    Ok(ok(serde_json::to_value(page).unwrap_or_default()))
}
