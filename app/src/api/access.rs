//! Server functions for the Account page (the user's API tokens) and the Users page.

#[cfg(feature = "ssr")]
use super::{caller, parse, service, with_status};
use crate::model::access::{CreatedToken, Grant, TokenView, UserView};
use crate::model::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::names::UserName;
use leptos::prelude::*;

#[server(prefix = "/fn", endpoint = "list_tokens", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    with_status(service()?.list_tokens(&caller()).await)
}

/// `fleet` empty: every fleet; `expires_in_days` empty: 90 days.
#[server(prefix = "/fn", endpoint = "create_token", output = crate::api::codec::Json)]
pub async fn create_token(
    role: String,
    fleet: String,
    expires_in_days: String,
    description: String,
) -> Result<CreatedToken, AppError> {
    with_status(
        async {
            let Grant { role, fleet } = grant(&role, &fleet)?;
            let days = match expires_in_days.trim() {
                "" => None,
                days => Some(days.parse::<u32>().map_err(|_| {
                    AppError::invalid(
                        "InvalidExpiry",
                        format!("Days until it expires must be a whole number, not {days:?}."),
                    )
                })?),
            };
            service()?
                .create_token(&caller(), role, fleet, days, description.trim().to_owned())
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "revoke_token", output = crate::api::codec::Json)]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    with_status(service()?.revoke_token(&caller(), &id).await)
}

/// Every user, for the Users page (admins of every fleet only).
#[server(prefix = "/fn", endpoint = "list_users", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    with_status(service()?.list_users(&caller()).await)
}

/// A new user with a password and one role (`fleet` empty: every fleet).
#[server(prefix = "/fn", endpoint = "add_user", output = crate::api::codec::Json)]
pub async fn add_user(
    name: String,
    password: String,
    role: String,
    fleet: String,
) -> Result<UserView, AppError> {
    with_status(
        async {
            let name = parse("InvalidUserName", UserName::parse(name.trim()))?;
            let grant = grant(&role, &fleet)?;
            service()?
                .put_user(&caller(), &name, Some(password), vec![grant], true)
                .await
        }
        .await,
    )
}

/// Gives a user exactly these roles (their password stays).
#[server(prefix = "/fn", endpoint = "set_user_roles", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn set_user_roles(name: String, roles: Vec<Grant>) -> Result<UserView, AppError> {
    with_status(
        async {
            let name = parse("InvalidUserName", UserName::parse(&name))?;
            service()?
                .put_user(&caller(), &name, None, roles, false)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "delete_user", output = crate::api::codec::Json)]
pub async fn delete_user(name: String) -> Result<(), AppError> {
    with_status(
        async {
            let name = parse("InvalidUserName", UserName::parse(&name))?;
            service()?.delete_user(&caller(), &name).await
        }
        .await,
    )
}

/// A role from a form: `role` by name, on `fleet` (empty: every fleet).
#[cfg(feature = "ssr")]
pub(crate) fn grant(role: &str, fleet: &str) -> Result<Grant, AppError> {
    let role = parse("InvalidRole", crate::model::access::Role::parse(role))?;
    let fleet = match fleet.trim() {
        "" => None,
        name => Some(parse(
            "InvalidFleetName",
            crate::model::names::FleetName::parse(name),
        )?),
    };
    Ok(Grant { role, fleet })
}
