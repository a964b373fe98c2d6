//! `/tokens` (API tokens: created, listed, revoked), `/users` (global admins manage who may
//! sign in and their roles) and `/me` (who the credential in use belongs to).

use super::shapes::{List, Resource};
use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, delete_response, parse_name,
    put_response, typed,
};
use crate::auth::{NewToken, UserUpdate};
use crate::store::access::{StoredToken, StoredUser};
use app::model::access::{Grant, Role};
use app::model::names::{FleetName, UserName};
use app::model::time::Timestamp;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
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

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserProperties {
    #[serde(default)]
    password: Option<String>,
    roles: Vec<Grant>,
}

/// A token as listed: never its secret (which is not kept).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView<'a> {
    role: Role,
    /// The one fleet it is for; null: every fleet its role reaches.
    fleet: Option<&'a FleetName>,
    owner: &'a UserName,
    description: &'a str,
    /// `Active`, `Expired` or `Revoked`.
    state: &'static str,
    created_time: Timestamp,
    expires_time: Option<Timestamp>,
    revoked_time: Option<Timestamp>,
    last_used_time: Option<Timestamp>,
    /// The secret: only in the answer to its creation (only its hash is kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

pub type Token<'a> = Resource<TokenView<'a>>;

fn token(token: &StoredToken) -> Token<'_> {
    Resource::new(
        format!("/tokens/{}", token.id),
        token.id.as_str(),
        "Drydock/tokens",
        TokenView {
            role: token.role,
            fleet: token.fleet.as_ref(),
            owner: &token.owner,
            description: &token.description,
            state: crate::auth::token_state(token),
            created_time: token.created_at,
            expires_time: token.expires_at,
            revoked_time: token.revoked_at,
            last_used_time: token.last_used_at,
            token: None,
        },
    )
}

/// A user as listed: never the password hash.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView<'a> {
    roles: &'a [Grant],
    password_set: bool,
    /// The issuer of a user who signs in through single sign-on; null for a built-in user.
    identity_provider: Option<&'a str>,
    created_time: Timestamp,
    password_changed_time: Timestamp,
}

pub type User<'a> = Resource<UserView<'a>>;

fn user(user: &StoredUser) -> User<'_> {
    Resource::new(
        format!("/users/{}", user.name),
        user.name.as_str(),
        "Drydock/users",
        UserView {
            roles: &user.grants,
            password_set: user.password_hash.is_some(),
            identity_provider: user.issuer.as_deref(),
            created_time: user.created_at,
            password_changed_time: user.password_changed_at,
        },
    )
    .etag(user.etag)
}

/// Who a credential belongs to, with the roles it carries.
#[derive(Serialize, JsonSchema)]
pub struct Me {
    name: String,
    credential: app::model::access::Credential,
    roles: Vec<Grant>,
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
    let mut created = self::token(&token);
    created.properties.token = Some(secret);
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

pub async fn list_tokens(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let tokens = drydock.access().list_tokens(&caller).await?;
    Ok(typed(&List {
        value: tokens.iter().map(token).collect(),
    }))
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
    Ok(typed(&List {
        value: users.iter().map(user).collect(),
    }))
}

pub async fn get_user(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
) -> ApiResult {
    let name = user_name(&name)?;
    let stored = drydock.access().get_user(&caller, &name).await?;
    Ok(typed(&user(&stored)))
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
    Ok(put_response(created, &self::user(&user)))
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
    Ok(typed(&Me {
        name: caller.name,
        credential: caller.credential,
        roles: caller.grants,
    }))
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
    Ok(typed(&page))
}
