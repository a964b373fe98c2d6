use super::{
    ApiResult, ApiState, ArmJson, AsCaller, delete_response, list, ok, parse_name, put_response,
};
use app::model::member::FleetSummary;
use app::model::names::FleetName;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

/// `PUT /fleets/{fleet}` body: `{}`, or `{"properties": {}}`. A fleet has no settable
/// properties yet; what a GET returns (`id`, `name`, `type`, `properties.memberCount`) is
/// accepted so a GET can be sent back as is. Anything else is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PutFleet {
    #[serde(default)]
    properties: Option<FleetProperties>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct FleetProperties {
    /// Read-only.
    #[serde(default)]
    member_count: Option<u64>,
}

pub fn fleet_json(fleet: &FleetSummary) -> Value {
    json!({
        "id": format!("/fleets/{}", fleet.name),
        "name": fleet.name,
        "type": "Drydock/fleets",
        "properties": { "memberCount": fleet.member_count },
    })
}

pub async fn index(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let fleets = drydock.list_fleets(&caller).await?;
    Ok(list(fleets.iter().map(fleet_json).collect()))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
    ArmJson(_body): ArmJson<PutFleet>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let (summary, created) = drydock.put_fleet(&caller, &fleet).await?;
    Ok(put_response(created, fleet_json(&summary)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    Ok(ok(fleet_json(&drydock.get_fleet(&caller, &fleet).await?)))
}

pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    Ok(delete_response(
        drydock.delete_fleet(&caller, &fleet).await?,
    ))
}
