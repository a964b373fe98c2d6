//! `/fleets/{fleet}/placements`: which resources go to which members (KubeFleet's placement
//! policy), and each member's state with them.

use super::shapes::{List, Resource};
use super::{
    ApiError, ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, ReadOnlyObject,
    delete_response, parse_name, put_response, typed,
};
use crate::service::PlacementView;
use app::engine::PlacementStatus;
use app::model::names::{FleetName, PlacementName};
use app::model::placement::Placement;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a PUT sets: the placement; `status` (read-only) is accepted and ignored, so a GET can be
/// sent back.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct PutPlacementProperties {
    #[serde(flatten)]
    placement: Placement,
    #[serde(default)]
    status: Option<ReadOnlyObject>,
}

/// `deny_unknown_fields` does not work through `flatten`: the status is taken out first.
#[derive(Deserialize)]
struct WithStatus {
    #[allow(dead_code)]
    status: Option<ReadOnlyObject>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

fn placement_of(properties: serde_json::Value) -> Result<Placement, ApiError> {
    let bad = |e: serde_json::Error| {
        ApiError::from(app::model::error::AppError::invalid(
            "InvalidPlacement",
            format!("properties: {e}"),
        ))
    };
    let WithStatus { rest, .. } = serde_json::from_value(properties).map_err(bad)?;
    serde_json::from_value(serde_json::Value::Object(rest)).map_err(bad)
}

fn names(fleet: &str, name: &str) -> Result<(FleetName, PlacementName), ApiError> {
    Ok((
        parse_name("InvalidFleetName", FleetName::parse(fleet))?,
        parse_name("InvalidPlacementName", PlacementName::parse(name))?,
    ))
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlacementProperties<'a> {
    #[serde(flatten)]
    placement: &'a Placement,
    /// Each member's state with the placement, and why.
    status: &'a PlacementStatus,
}

pub type PlacementResource<'a> = Resource<PlacementProperties<'a>>;

fn placement<'a>(fleet: &FleetName, view: &'a PlacementView) -> PlacementResource<'a> {
    Resource::new(
        format!("/fleets/{fleet}/placements/{}", view.stored.name),
        view.stored.name.as_str(),
        "Drydock/fleets/placements",
        PlacementProperties {
            placement: &view.stored.placement,
            status: &view.status,
        },
    )
    .etag(view.stored.etag)
}

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let views = drydock.list_placements(&caller, &fleet).await?;
    Ok(typed(&List {
        value: views.iter().map(|v| placement(&fleet, v)).collect(),
    }))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<serde_json::Value>>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let wanted = placement_of(body.properties)?;
    let (view, created) = drydock
        .put_placement(&caller, &fleet, &name, wanted, &precondition)
        .await?;
    Ok(put_response(created, &placement(&fleet, &view)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let view = drydock.get_placement(&caller, &fleet, &name).await?;
    Ok(typed(&placement(&fleet, &view)))
}

pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let deleted = drydock
        .delete_placement(&caller, &fleet, &name, &precondition)
        .await?;
    Ok(delete_response(deleted))
}
