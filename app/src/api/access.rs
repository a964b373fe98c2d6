//! Server functions for the Account page: the user's API tokens.

#[cfg(feature = "ssr")]
use super::{caller, parse, service, with_status};
use crate::model::access::{CreatedToken, TokenView};
use crate::model::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/fn", endpoint = "list_tokens", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    with_status(service()?.tokens(&caller()).await)
}

/// `fleet` empty: every fleet; `expires_in_days` empty: 90 days.
#[server(prefix = "/fn", endpoint = "create_token")]
pub async fn create_token(
    role: String,
    fleet: String,
    expires_in_days: String,
    description: String,
) -> Result<CreatedToken, AppError> {
    with_status(
        async {
            let role = parse("InvalidRole", crate::model::access::Role::parse(&role))?;
            let fleet = match fleet.trim() {
                "" => None,
                name => Some(parse(
                    "InvalidFleetName",
                    crate::model::names::FleetName::parse(name),
                )?),
            };
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

#[server(prefix = "/fn", endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    with_status(service()?.revoke_token(&caller(), &id).await)
}
