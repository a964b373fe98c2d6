//! The simulator's controls: its release catalog and its clusters. Only mounted in effect when
//! the provider is the simulated one (otherwise every route answers 404 `SimulatorDisabled`).

use super::shapes::List;
use super::{
    ApiResult, ApiState, ArmJson, AsCaller, delete_response, parse_name, put_response, typed,
};
use crate::provider::OperationStatus;
use crate::provider::simulated::{Faults, SimulatorError};
use crate::service::store_error;
use crate::store::{SimCluster, SimOperation};
use app::model::catalog::Catalog;
use app::model::cluster::{ClusterState, NodePool, PowerState, Region};
use app::model::error::AppError;
use app::model::member::ClusterResourceId;
use app::model::names::ClusterName;
use app::model::target::{UpgradeProgress, UpgradeTarget};
use app::model::time::Timestamp;
use app::model::version::KubernetesVersion;
use app::model::window::MaintenanceWindow;
use axum::extract::{Path, RawQuery, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `PUT /simulator/clusters/{name}` body: the cluster's state, flat. `name` and
/// `clusterResourceId` (as a GET returns them) are accepted and ignored.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct PutCluster {
    location: Region,
    kubernetes_version: KubernetesVersion,
    node_pools: Vec<NodePool>,
    #[serde(default)]
    maintenance_window: Option<MaintenanceWindow>,
    #[serde(default)]
    node_os_maintenance_window: Option<MaintenanceWindow>,
    /// `Stopped`: a stopped cluster, which runs skip.
    #[serde(default)]
    power_state: PowerState,
    /// The cluster's next operation fails.
    #[serde(default)]
    fail_next: bool,
    /// The share of its operations that fail (0–1), drawn from the seed.
    #[serde(default)]
    failure_rate: f64,
    /// The share of calls about it that fail for now (0–1): a flaky provider.
    #[serde(default)]
    transient_error_rate: f64,
    /// Every call about it fails for now, until cleared: an unreachable cluster.
    #[serde(default)]
    unreachable: bool,
    /// The next operation started on it is lost (answered, then forgotten).
    #[serde(default)]
    lose_next_operation: bool,
    /// The next operation started on it never ends (a drain blocked for good).
    #[serde(default)]
    stuck_next_operation: bool,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    cluster_resource_id: Option<String>,
}

fn simulator_error(error: SimulatorError) -> AppError {
    match error {
        SimulatorError::Invalid(message) => AppError::invalid("InvalidCluster", message),
        SimulatorError::Conflict(message) => AppError::conflict("CatalogInUse", message),
        SimulatorError::Store(error) => store_error(error),
    }
}

/// A simulated cluster: its state as a provider reports it, and the faults injected into it.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SimClusterView<'a> {
    name: &'a ClusterName,
    cluster_resource_id: ClusterResourceId,
    #[serde(flatten)]
    state: &'a ClusterState,
    fail_next: bool,
    failure_rate: f64,
    transient_error_rate: f64,
    unreachable: bool,
    lose_next_operation: bool,
    stuck_next_operation: bool,
}

fn cluster<'a>(name: &'a ClusterName, cluster: &'a SimCluster) -> SimClusterView<'a> {
    let faults = &cluster.faults;
    SimClusterView {
        name,
        cluster_resource_id: ClusterResourceId::simulated(name),
        state: &cluster.state,
        fail_next: faults.fail_next,
        failure_rate: faults.failure_rate,
        transient_error_rate: faults.transient_rate,
        unreachable: faults.unreachable,
        lose_next_operation: faults.lose_next,
        stuck_next_operation: faults.stuck_next,
    }
}

/// The simulator, its copy of the simulated world brought up to date first: another server
/// sharing the database may have changed the world a moment ago (its copy follows the others'
/// changes every half second otherwise), and what this API lists must include that.
async fn current<'a>(
    drydock: &'a ApiState,
    caller: &app::model::access::Caller,
) -> Result<&'a crate::provider::simulated::SimulatedProvider, AppError> {
    let simulator = drydock.simulator(caller, false)?;
    simulator.sync().await.map_err(store_error)?;
    Ok(simulator)
}

fn cluster_name(text: &str) -> Result<ClusterName, super::ApiError> {
    parse_name("InvalidClusterName", ClusterName::parse(text))
}

pub async fn get_catalog(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let catalog = current(&drydock, &caller).await?.current_catalog();
    Ok(typed(&catalog))
}

pub async fn put_catalog(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    ArmJson(catalog): ArmJson<Catalog>,
) -> ApiResult {
    drydock.check_catalog_keeps_run_targets(&catalog).await?;
    let saved = drydock
        .simulator(&caller, true)?
        .put_catalog(catalog)
        .await
        .map_err(|error| match error {
            SimulatorError::Invalid(message) => AppError::invalid("InvalidCatalog", message),
            other => simulator_error(other),
        })?;
    Ok(typed(&saved))
}

pub async fn list_clusters(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
) -> ApiResult {
    let clusters = current(&drydock, &caller).await?.clusters();
    Ok(typed(&List {
        value: clusters.iter().map(|(n, s)| cluster(n, s)).collect(),
    }))
}

pub async fn get_cluster(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
) -> ApiResult {
    let name = cluster_name(&name)?;
    let state = current(&drydock, &caller)
        .await?
        .cluster(&name)
        .ok_or_else(|| {
            AppError::not_found(
                "ClusterNotFound",
                format!("The simulator has no cluster named {name}."),
            )
        })?;
    Ok(typed(&cluster(&name, &state)))
}

pub async fn put_cluster(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    ArmJson(body): ArmJson<PutCluster>,
) -> ApiResult {
    let name = cluster_name(&name)?;
    let state = ClusterState {
        location: body.location,
        kubernetes_version: body.kubernetes_version,
        node_pools: body.node_pools,
        maintenance_window: body.maintenance_window,
        node_os_maintenance_window: body.node_os_maintenance_window,
        power_state: body.power_state,
        limits: Default::default(),
    };
    let faults = Faults {
        fail_next: body.fail_next,
        failure_rate: body.failure_rate,
        transient_rate: body.transient_error_rate,
        unreachable: body.unreachable,
        lose_next: body.lose_next_operation,
        stuck_next: body.stuck_next_operation,
    };
    let simulator = drydock.simulator(&caller, true)?;
    let created = simulator
        .put_cluster(&name, state.clone(), faults)
        .await
        .map_err(simulator_error)?;
    let cluster = SimCluster {
        state: std::sync::Arc::new(state),
        faults,
    };
    Ok(put_response(created, &self::cluster(&name, &cluster)))
}

/// An upgrade the simulator was asked to start, and how it went.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SimOperationView<'a> {
    operation_id: &'a str,
    cluster: ClusterResourceId,
    kind: &'a str,
    target: &'a UpgradeTarget,
    start_time: Timestamp,
    end_time: Timestamp,
    /// `Running`, `Succeeded` or `Failed`.
    state: &'static str,
    error: Option<&'a str>,
    progress: Option<&'a UpgradeProgress>,
}

fn operation<'a>(op: &'a SimOperation, status: &'a OperationStatus) -> SimOperationView<'a> {
    let (state, error, progress) = match status {
        OperationStatus::Running { progress, .. } => ("Running", None, progress.as_ref()),
        OperationStatus::Succeeded => ("Succeeded", None, None),
        OperationStatus::Failed { message, .. } => ("Failed", Some(message.as_str()), None),
    };
    SimOperationView {
        operation_id: &op.operation_id,
        cluster: ClusterResourceId::simulated(&op.cluster),
        kind: &op.kind,
        target: &op.target,
        start_time: op.started_at,
        end_time: op.ends_at,
        state,
        error,
        progress,
    }
}

/// Every upgrade operation the simulator was asked to start, oldest first.
pub async fn list_operations(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
) -> ApiResult {
    let operations = current(&drydock, &caller).await?.operations();
    Ok(typed(&List {
        value: operations
            .iter()
            .map(|(op, status)| operation(op, status))
            .collect(),
    }))
}

/// `DELETE /simulator/clusters/{name}[?force=true]`: refused while a fleet member points at
/// the cluster (remove the member first), unless `force` — which deletes it as someone outside
/// Drydock would, members, runs and upgrades in flight notwithstanding.
pub async fn delete_cluster(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let name = cluster_name(&name)?;
    let mut force = false;
    super::flags_of(query.as_deref(), &mut [("force", &mut force)])?;
    let simulator = drydock.simulator(&caller, true)?;
    let id = ClusterResourceId::simulated(&name);
    let holders = drydock
        .store()
        .members_of_cluster(&id)
        .await
        .map_err(store_error)?;
    if let Some((fleet, member)) = holders.first().filter(|_| !force) {
        return Err(AppError::conflict(
            "ClusterInUse",
            format!(
                "Cluster {name} is member {member} of fleet {fleet}; remove the member first, or delete with force=true to see what Drydock does when a cluster disappears."
            ),
        )
        .into());
    }
    Ok(delete_response(
        simulator
            .delete_cluster(&name)
            .await
            .map_err(simulator_error)?,
    ))
}
