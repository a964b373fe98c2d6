//! `/fleets/{fleet}/updateStrategies`: stored stage layouts in the seeds' `example-stages.json`
//! shape, under `properties.strategy`.

use super::shapes::{List, Resource};
use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, delete_response, parse_name,
    put_response, typed,
};
use crate::store::StoredStrategy;
use app::model::names::{FleetName, StrategyName};
use app::model::strategy::UpdateStrategy;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PutStrategyProperties {
    strategy: UpdateStrategy,
}

fn names(fleet: &str, name: &str) -> Result<(FleetName, StrategyName), super::ApiError> {
    Ok((
        parse_name("InvalidFleetName", FleetName::parse(fleet))?,
        parse_name("InvalidStrategyName", StrategyName::parse(name))?,
    ))
}

#[derive(Serialize, JsonSchema)]
pub struct StrategyProperties<'a> {
    strategy: &'a UpdateStrategy,
}

pub type Strategy<'a> = Resource<StrategyProperties<'a>>;

pub fn strategy<'a>(fleet: &FleetName, stored: &'a StoredStrategy) -> Strategy<'a> {
    Resource::new(
        format!("/fleets/{fleet}/updateStrategies/{}", stored.name),
        stored.name.as_str(),
        "Drydock/fleets/updateStrategies",
        StrategyProperties {
            strategy: &stored.strategy,
        },
    )
    .etag(stored.etag)
}

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let strategies = drydock.list_strategies(&caller, &fleet).await?;
    Ok(typed(&List {
        value: strategies.iter().map(|s| strategy(&fleet, s)).collect(),
    }))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<PutStrategyProperties>>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let (stored, created) = drydock
        .put_strategy(
            &caller,
            &fleet,
            &name,
            body.properties.strategy,
            &precondition,
        )
        .await?;
    Ok(put_response(created, &strategy(&fleet, &stored)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let stored = drydock.get_strategy(&caller, &fleet, &name).await?;
    Ok(typed(&strategy(&fleet, &stored)))
}

pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    Ok(delete_response(
        drydock
            .delete_strategy(&caller, &fleet, &name, &precondition)
            .await?,
    ))
}
