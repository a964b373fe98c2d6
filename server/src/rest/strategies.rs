//! `/fleets/{fleet}/updateStrategies`: stored stage layouts in the seeds' `example-stages.json`
//! shape, under `properties.strategy`.

use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, delete_response, list, ok,
    parse_name, put_response,
};
use crate::store::StoredStrategy;
use app::model::names::{FleetName, StrategyName};
use app::model::strategy::UpdateStrategy;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
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

pub fn strategy_json(fleet: &FleetName, stored: &StoredStrategy) -> Value {
    json!({
        "id": format!("/fleets/{fleet}/updateStrategies/{}", stored.name),
        "name": stored.name,
        "type": "Drydock/fleets/updateStrategies",
        "etag": stored.etag.to_string(),
        "properties": { "strategy": stored.strategy },
    })
}

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let strategies = drydock.list_strategies(&caller, &fleet).await?;
    Ok(list(
        strategies
            .iter()
            .map(|s| strategy_json(&fleet, s))
            .collect(),
    ))
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
    Ok(put_response(created, strategy_json(&fleet, &stored)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    Ok(ok(strategy_json(
        &fleet,
        &drydock.get_strategy(&caller, &fleet, &name).await?,
    )))
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
