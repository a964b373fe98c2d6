//! `/fleets/{fleet}/gates`: the gates of the fleet's runs, as Azure exposes them — list (with
//! `state`, `gateType` and `updateRun` filters), read, and `PATCH` to `Completed` to approve
//! (`If-Match` honoured).

use super::runs::with_reply;
use super::shapes::List;
use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, parse_name, query_pairs, typed,
};
use crate::service::{GateApproval, GateFilter};
use app::model::error::AppError;
use app::model::gate::GateType;
use app::model::names::{FleetName, RunName};
use app::model::run::State;
use axum::extract::{Path, RawQuery, State as Axum};
use serde::Deserialize;

fn fleet_name(fleet: &str) -> Result<FleetName, super::ApiError> {
    parse_name("InvalidFleetName", FleetName::parse(fleet))
}

fn filter_of(query: Option<&str>) -> Result<GateFilter, super::ApiError> {
    let mut filter = GateFilter::default();
    for (key, value) in query_pairs(query, &["state", "gateType", "updateRun"])? {
        let bad = |what: &str| {
            AppError::invalid(
                "InvalidQueryParameter",
                format!("{key} must be {what}, not {value:?}."),
            )
        };
        match key {
            "state" => {
                filter.state = Some(match value {
                    "Pending" => State::Pending,
                    "Completed" => State::Completed,
                    "Skipped" => State::Skipped,
                    _ => return Err(bad("Pending, Completed or Skipped").into()),
                })
            }
            "gateType" => {
                filter.gate_type = Some(match value {
                    "Approval" => GateType::Approval,
                    "ScheduledStart" => GateType::ScheduledStart,
                    _ => return Err(bad("Approval or ScheduledStart").into()),
                })
            }
            _ => filter.run = Some(RunName::parse(value).map_err(|_| bad("an update run's name"))?),
        }
    }
    Ok(filter)
}

pub async fn index(
    Axum(drydock): Axum<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let fleet = fleet_name(&fleet)?;
    let filter = filter_of(query.as_deref())?;
    let gates = drydock.list_gates(&caller, &fleet, &filter).await?;
    Ok(typed(&List { value: gates }))
}

pub async fn get(
    Axum(drydock): Axum<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, gate)): Path<(String, String)>,
) -> ApiResult {
    let fleet = fleet_name(&fleet)?;
    let gate = drydock.get_gate(&caller, &fleet, &gate).await?;
    Ok(typed(&gate))
}

/// What a `PATCH` sets: the state (only `Completed`: approve), and beyond Azure a comment and
/// the confirmation some approvals need.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchGateProperties {
    state: State,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    confirm: bool,
}

pub async fn patch(
    Axum(drydock): Axum<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, gate)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<PatchGateProperties>>,
) -> ApiResult {
    let fleet = fleet_name(&fleet)?;
    let p = body.properties;
    if p.state != State::Completed {
        return Err(AppError::invalid(
            "InvalidGateState",
            format!(
                "A gate can only be set to Completed (approved), not {:?}; skip its stage or group to skip it.",
                p.state
            ),
        )
        .into());
    }
    let approval = GateApproval {
        comment: p.comment,
        confirm: p.confirm,
    };
    let (reply, gate) = drydock
        .approve_gate(&caller, &fleet, &gate, approval, &precondition)
        .await?;
    Ok(with_reply(typed(&gate), &reply))
}
