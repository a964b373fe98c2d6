//! Server functions for gates: what the fleet's runs wait at, and approving one.

#[cfg(feature = "ssr")]
use super::{caller, parse, service, with_status};
use crate::engine::Reply;
use crate::model::error::AppError;
use crate::model::gate::GateResource;
#[cfg(feature = "ssr")]
use crate::model::names::FleetName;
use leptos::prelude::*;

/// Approval gates the fleet's runs wait at now, oldest first.
#[server(prefix = "/fn", endpoint = "waiting_gates", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn waiting_gates(fleet: String) -> Result<Vec<GateResource>, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            service()?.waiting_gates(&caller(), &fleet).await
        }
        .await,
    )
}

/// Approves a gate the run waits at; `confirm` goes on although some members behind it cannot
/// start yet (without it that case is refused with 409 `ConfirmationRequired`, saying who).
#[server(prefix = "/fn", endpoint = "approve_gate", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn approve(
    fleet: String,
    gate: String,
    comment: Option<String>,
    confirm: bool,
) -> Result<Reply, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            service()?
                .approve_gate(&caller(), &fleet, &gate, comment, confirm)
                .await
        }
        .await,
    )
}
