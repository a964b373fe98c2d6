use super::shapes::{List, Resource};
use super::{
    ApiResult, ApiState, ArmJson, AsCaller, delete_response, parse_name, put_response, typed,
};
use app::model::member::FleetSummary;
use app::model::names::FleetName;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `PUT /fleets/{fleet}` body: `{}`, or `{"properties": {}}`. A fleet has no settable
/// properties yet; what a GET returns (`id`, `name`, `type`, `properties.memberCount`) is
/// accepted so a GET can be sent back as is. Anything else is refused.
#[derive(Deserialize, JsonSchema)]
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

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetProperties {
    /// Read-only: how many members the fleet has.
    #[serde(default)]
    member_count: Option<u64>,
}

pub type Fleet = Resource<FleetProperties>;

pub fn fleet(fleet: &FleetSummary) -> Fleet {
    Resource::new(
        format!("/fleets/{}", fleet.name),
        fleet.name.as_str(),
        "Drydock/fleets",
        FleetProperties {
            member_count: Some(fleet.member_count),
        },
    )
}

pub async fn index(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let fleets = drydock.list_fleets(&caller).await?;
    Ok(typed(&List {
        value: fleets.iter().map(fleet).collect(),
    }))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
    ArmJson(_body): ArmJson<PutFleet>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let (summary, created) = drydock.put_fleet(&caller, &fleet).await?;
    Ok(put_response(created, &self::fleet(&summary)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    Ok(typed(&self::fleet(
        &drydock.get_fleet(&caller, &fleet).await?,
    )))
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
