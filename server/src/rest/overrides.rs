//! `/fleets/{fleet}/resourceOverrides`: per-member changes to a placement's objects (KubeFleet's
//! `ResourceOverride`).

use super::shapes::{List, Resource};
use super::{
    ApiError, ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, delete_response,
    parse_name, put_response, typed,
};
use crate::store::StoredOverride;
use app::model::names::{FleetName, OverrideName};
use app::model::overrides::ResourceOverride;
use axum::extract::{Path, State};

fn names(fleet: &str, name: &str) -> Result<(FleetName, OverrideName), ApiError> {
    Ok((
        parse_name("InvalidFleetName", FleetName::parse(fleet))?,
        parse_name("InvalidResourceOverrideName", OverrideName::parse(name))?,
    ))
}

pub type OverrideResource<'a> = Resource<&'a ResourceOverride>;

fn resource<'a>(fleet: &FleetName, stored: &'a StoredOverride) -> OverrideResource<'a> {
    Resource::new(
        format!("/fleets/{fleet}/resourceOverrides/{}", stored.name),
        stored.name.as_str(),
        "Drydock/fleets/resourceOverrides",
        &stored.spec,
    )
    .etag(stored.etag)
}

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let stored = drydock.list_resource_overrides(&caller, &fleet).await?;
    Ok(typed(&List {
        value: stored.iter().map(|o| resource(&fleet, o)).collect(),
    }))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<ResourceOverride>>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let (stored, created) = drydock
        .put_resource_override(&caller, &fleet, &name, body.properties, &precondition)
        .await?;
    Ok(put_response(created, &resource(&fleet, &stored)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let stored = drydock
        .get_resource_override(&caller, &fleet, &name)
        .await?;
    Ok(typed(&resource(&fleet, &stored)))
}

pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let deleted = drydock
        .delete_resource_override(&caller, &fleet, &name, &precondition)
        .await?;
    Ok(delete_response(deleted))
}
