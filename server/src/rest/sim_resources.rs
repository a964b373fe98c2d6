//! What the simulated clusters hold of placed objects, and the faults their API servers inject
//! into applies: `/simulator/clusters/{name}/resources` and `…/resourceFaults`.

use super::shapes::List;
use super::{ApiResult, ApiState, ArmJson, AsCaller, parse_name, typed};
use crate::provider::simulated::SimulatedProvider;
use crate::service::store_error;
use crate::store::{SimApplied, SimResourceFaults};
use app::model::error::AppError;
use app::model::names::ClusterName;
use app::model::resources::{ObjectRef, parse_manifests};
use app::model::time::Timestamp;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One owner's objects on a simulated cluster.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeldView {
    /// `{fleet}/{placement}`.
    owner: String,
    /// The snapshots applied (`web@3`).
    revision: String,
    /// How many times a new revision was applied (re-applying the one held is not counted).
    applies: i64,
    applied_at: Timestamp,
    available_at: Timestamp,
    available: bool,
    objects: Vec<ObjectRef>,
    /// The objects as applied (after overrides).
    manifests: Vec<serde_json::Value>,
    /// Objects changed on the cluster by hand since (`ConfigMap web/settings`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    drifted: Vec<String>,
}

fn held_view(held: &SimApplied, now: Timestamp) -> HeldView {
    let objects = parse_manifests(&held.manifests)
        .map(|m| m.iter().map(|m| m.reference()).collect())
        .unwrap_or_default();
    HeldView {
        owner: held.owner.clone(),
        revision: held.revision.clone(),
        applies: held.applies,
        applied_at: held.applied_at,
        available_at: held.available_at,
        available: now >= held.available_at,
        objects,
        manifests: held.manifests.clone(),
        drifted: held.drifted.clone(),
    }
}

/// The simulator and the cluster `name`, which must exist.
fn existing<'a>(
    drydock: &'a ApiState,
    caller: &app::model::access::Caller,
    name: &str,
    write: bool,
) -> Result<(&'a SimulatedProvider, ClusterName), super::ApiError> {
    let name = parse_name("InvalidClusterName", ClusterName::parse(name))?;
    let simulator = drydock.simulator(caller, write)?;
    if simulator.cluster(&name).is_none() {
        return Err(AppError::not_found(
            "ClusterNotFound",
            format!("The simulator has no cluster named {name}."),
        )
        .into());
    }
    Ok((simulator, name))
}

pub async fn held(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
) -> ApiResult {
    let (simulator, name) = existing(&drydock, &caller, &name, false)?;
    let held = simulator.held_objects(&name).await.map_err(store_error)?;
    let now = drydock.now();
    Ok(typed(&List {
        value: held.iter().map(|h| held_view(h, now)).collect(),
    }))
}

pub async fn get_faults(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
) -> ApiResult {
    let (simulator, name) = existing(&drydock, &caller, &name, false)?;
    let faults = simulator
        .resource_faults(&name)
        .await
        .map_err(store_error)?;
    Ok(typed(&faults))
}

pub async fn put_faults(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    ArmJson(faults): ArmJson<SimResourceFaults>,
) -> ApiResult {
    let (simulator, name) = existing(&drydock, &caller, &name, true)?;
    simulator
        .put_resource_faults(&name, faults)
        .await
        .map_err(store_error)?;
    Ok(typed(&faults))
}

/// Someone changes objects by hand on a simulated cluster.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriftRequest {
    /// Whose objects: `{fleet}/{placement}`.
    owner: String,
    /// The objects changed, as the cluster's resources list names them (`ConfigMap
    /// web/settings`); none: the drift is mended.
    objects: Vec<String>,
}

pub async fn drift(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    ArmJson(request): ArmJson<DriftRequest>,
) -> ApiResult {
    let (simulator, name) = existing(&drydock, &caller, &name, true)?;
    let held = simulator.held_objects(&name).await.map_err(store_error)?;
    let Some(mine) = held.iter().find(|h| h.owner == request.owner) else {
        return Err(AppError::not_found(
            "NothingPlaced",
            format!("Cluster {name} holds nothing of {}.", request.owner),
        )
        .into());
    };
    let now = drydock.now();
    let known: Vec<String> = held_view(mine, now)
        .objects
        .iter()
        .map(ObjectRef::words)
        .collect();
    if let Some(unknown) = request.objects.iter().find(|o| !known.contains(o)) {
        return Err(AppError::invalid(
            "UnknownObject",
            format!(
                "{} holds no {unknown} of {}; it holds {}.",
                name,
                request.owner,
                known.join(", ")
            ),
        )
        .into());
    }
    simulator
        .drift_objects(&name, &request.owner, &request.objects)
        .await
        .map_err(store_error)?;
    let held = simulator.held_objects(&name).await.map_err(store_error)?;
    let mine = held.iter().find(|h| h.owner == request.owner);
    Ok(typed(&mine.map(|h| held_view(h, now))))
}
