//! Upgrades as `az aks upgrade` makes them, made safe to resume: each attempt is a list of
//! steps (a `PUT` of the cluster for Kubernetes versions, then one `upgradeNodeImageVersion`
//! per pool whose image is still behind), kept in the provider journal with the URL of each
//! long-running operation, so a restarted server follows what Azure accepted instead of
//! writing again. Before any write the cluster is read again: a step already done is not sent,
//! and a step Azure already accepted (the crash fell between its answer and the journal) is
//! followed through the cluster's provisioning state.

use super::AksProvider;
use super::arm::{DEFAULT_RETRY, Reply, error_of};
use super::cluster::{AksCluster, asks_for, in_progress};
use super::id::AksId;
use crate::provider::{Operation, OperationStatus, ProviderError, UpgradeRequest};
use app::model::member::ClusterResourceId;
use app::model::target::UpgradeTarget;
use app::model::time::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub cluster: ClusterResourceId,
    pub target: UpgradeTarget,
    pub steps: Vec<StepRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// `None`: the cluster `PUT`; a pool's name: its node image.
    pub pool: Option<String>,
    pub started: bool,
    /// The operation to follow; `None` when only the cluster's state tells.
    pub poll: Option<String>,
    pub done: bool,
}

impl Record {
    pub fn new(request: &UpgradeRequest) -> Self {
        let target = &request.target;
        let versions = target.control_plane.is_some()
            || target
                .node_pools
                .iter()
                .any(|p| p.kubernetes_version.is_some());
        let put = versions.then_some(None);
        let images = target
            .node_pools
            .iter()
            .filter(|p| p.node_image_version.is_some())
            .map(|p| Some(p.name.clone()));
        let steps = put
            .into_iter()
            .chain(images)
            .map(|pool| StepRecord {
                pool,
                started: false,
                poll: None,
                done: false,
            })
            .collect();
        Self {
            cluster: request.cluster.clone(),
            target: target.clone(),
            steps,
        }
    }

    fn operation(&self, status: OperationStatus) -> Operation {
        Operation {
            cluster: Some(self.cluster.clone()),
            target: Some(self.target.clone()),
            status,
        }
    }
}

/// Whether the cluster already has what `step` changes.
fn satisfied(step: &StepRecord, target: &UpgradeTarget, cluster: &AksCluster) -> bool {
    let state = &cluster.state;
    match &step.pool {
        None => {
            let plane = target
                .control_plane
                .as_ref()
                .is_none_or(|s| state.kubernetes_version >= s.to);
            let pools = target.node_pools.iter().all(|t| {
                t.kubernetes_version.as_ref().is_none_or(|s| {
                    state
                        .node_pools
                        .iter()
                        .any(|p| p.name == t.name && p.kubernetes_version >= s.to)
                })
            });
            plane && pools && !in_progress(&cluster.provisioning_state)
        }
        Some(name) => {
            let wanted = target
                .node_pools
                .iter()
                .find(|t| &t.name == name)
                .and_then(|t| t.node_image_version.as_ref());
            let pool = state.node_pools.iter().find(|p| &p.name == name);
            let busy = cluster
                .pools
                .iter()
                .any(|p| &p.name == name && in_progress(&p.provisioning_state));
            match (wanted, pool) {
                (Some(step), Some(pool)) => {
                    pool.node_image_version.release >= step.to.release && !busy
                }
                // A pool deleted since (or no image asked of it): nothing left to do for it.
                _ => true,
            }
        }
    }
}

/// Whether Azure already accepted `step` (it is under way though the journal has no URL).
fn accepted(step: &StepRecord, target: &UpgradeTarget, cluster: &AksCluster) -> bool {
    match &step.pool {
        None => {
            in_progress(&cluster.provisioning_state)
                && target
                    .control_plane
                    .as_ref()
                    .is_none_or(|s| asks_for(&cluster.desired_version, s.to))
        }
        Some(name) => cluster
            .pools
            .iter()
            .any(|p| &p.name == name && p.provisioning_state == "UpgradingNodeImageVersion"),
    }
}

/// What an operation URL says: `Some(Ok(()))` done, `Some(Err(msg))` failed, `None` running.
fn lro_status(reply: &Reply) -> Option<Result<(), String>> {
    if reply.status.as_u16() == 202 {
        return None;
    }
    // Success or failure is read from `status` alone (an InProgress status may carry an error).
    match reply.body["status"].as_str() {
        None | Some("Succeeded") => Some(Ok(())),
        Some("Failed") | Some("Canceled") => {
            let (code, message) = error_of(&reply.body);
            let status = reply.body["status"].as_str().unwrap_or_default();
            Some(Err(format!(
                "Azure's operation ended {status}: {code}: {message}"
            )))
        }
        Some(_) => None,
    }
}

impl AksProvider {
    async fn save(&self, operation_id: &str, record: &Record) -> Result<(), ProviderError> {
        let text = serde_json::to_string(record).expect("a record serialises");
        self.journal
            .journal_put(&self.settings.name, operation_id, &text)
            .await
            .map_err(|e| ProviderError::transient(format!("saving the operation failed: {e}")))
    }

    pub(super) async fn load(&self, operation_id: &str) -> Result<Option<Record>, ProviderError> {
        let text = self
            .journal
            .journal_get(&self.settings.name, operation_id)
            .await
            .map_err(|e| ProviderError::transient(format!("reading the operation failed: {e}")))?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| {
                ProviderError::permanent(format!("a journal record is unreadable: {e}"))
            })
        })
        .transpose()
    }

    pub(super) async fn start(&self, request: &UpgradeRequest) -> Result<Operation, ProviderError> {
        if let Some(record) = self.load(&request.operation_id).await? {
            if record.cluster != request.cluster {
                // Not this request's: say what it is, the runtime refuses it.
                return Ok(record.operation(OperationStatus::running()));
            }
            return self.follow(&request.operation_id, record).await;
        }
        let record = Record::new(request);
        self.save(&request.operation_id, &record).await?;
        self.follow(&request.operation_id, record).await
    }

    /// Drives the record's steps as far as they go now, saving each change before going on.
    pub(super) async fn follow(
        &self,
        operation_id: &str,
        mut record: Record,
    ) -> Result<Operation, ProviderError> {
        let id = AksId::parse(record.cluster.as_str())
            .ok_or_else(|| ProviderError::permanent("not an AKS cluster id"))?;
        for i in 0..record.steps.len() {
            if record.steps[i].done {
                continue;
            }
            match self
                .advance(&id, &record.target, &mut record.steps[i])
                .await?
            {
                Advance::Done => self.save(operation_id, &record).await?,
                Advance::Running(look_again) => {
                    self.save(operation_id, &record).await?;
                    return Ok(record.operation(OperationStatus::Running {
                        progress: None,
                        message: None,
                        look_again_at: look_again,
                    }));
                }
                Advance::Failed(message) => {
                    return Ok(record.operation(OperationStatus::Failed { message }));
                }
            }
        }
        Ok(record.operation(OperationStatus::Succeeded))
    }

    async fn advance(
        &self,
        id: &AksId,
        target: &UpgradeTarget,
        step: &mut StepRecord,
    ) -> Result<Advance, ProviderError> {
        if step.started
            && let Some(url) = step.poll.clone()
        {
            let reply = self.arm.get(&url).await?;
            if !reply.not_found() {
                return Ok(match lro_status(&reply) {
                    None => Advance::Running(self.look_again(reply.retry_after)),
                    Some(Ok(())) => {
                        step.done = true;
                        Advance::Done
                    }
                    Some(Err(message)) => Advance::Failed(message),
                });
            }
            // The operation is no longer kept: the cluster tells.
            step.poll = None;
        }
        let cluster = self.read(id).await?;
        if satisfied(step, target, &cluster) {
            step.done = true;
            step.started = true;
            return Ok(Advance::Done);
        }
        if step.started || accepted(step, target, &cluster) {
            step.started = true;
            return Ok(match cluster.provisioning_state.as_str() {
                state if in_progress(state) => Advance::Running(None),
                "Failed" | "Canceled" => Advance::Failed(format!(
                    "the cluster's provisioningState is {}",
                    cluster.provisioning_state
                )),
                // Some pool operations leave the cluster Succeeded while the pool works.
                _ if accepted(step, target, &cluster) => Advance::Running(None),
                _ => Advance::Failed(
                    "Azure's operation finished but the cluster does not run the target".into(),
                ),
            });
        }
        if in_progress(&cluster.provisioning_state) {
            return Err(ProviderError::Transient {
                message: format!(
                    "another operation is in progress on the cluster (provisioningState {}); waiting for it",
                    cluster.provisioning_state
                ),
                retry_after: Some(DEFAULT_RETRY),
            });
        }
        let reply = self.write(id, target, step, &cluster).await?;
        step.started = true;
        step.poll = reply.operation_url().map(str::to_owned);
        Ok(Advance::Running(self.look_again(reply.retry_after)))
    }

    async fn write(
        &self,
        id: &AksId,
        target: &UpgradeTarget,
        step: &StepRecord,
        cluster: &AksCluster,
    ) -> Result<Reply, ProviderError> {
        let reply = match &step.pool {
            None => {
                let body = versions_set(cluster, target);
                self.arm
                    .send(
                        Method::PUT,
                        &id.path(),
                        Some(&body),
                        cluster.etag.as_deref(),
                    )
                    .await?
            }
            Some(pool) => {
                let path = format!("{}/agentPools/{pool}/upgradeNodeImageVersion", id.path());
                self.arm.send(Method::POST, &path, None, None).await?
            }
        };
        if reply.not_found() {
            return Err(ProviderError::ClusterNotFound(id.resource_id()));
        }
        Ok(reply)
    }

    fn look_again(&self, retry_after: Option<std::time::Duration>) -> Option<Timestamp> {
        let wait = retry_after?;
        let fleet_ms = wait.as_secs_f64() * 1000.0 * self.clock.scale();
        Some(self.clock.now().plus_millis(fleet_ms as i64))
    }
}

enum Advance {
    Done,
    Running(Option<Timestamp>),
    Failed(String),
}

/// The cluster as read, with `kubernetesVersion` and the targeted pools' `orchestratorVersion`
/// set to the target: what `az aks upgrade` sends.
fn versions_set(cluster: &AksCluster, target: &UpgradeTarget) -> Value {
    let mut body = cluster.body.clone();
    if let Some(step) = &target.control_plane {
        body["properties"]["kubernetesVersion"] = Value::String(step.to.to_string());
    }
    if let Some(profiles) = body["properties"]["agentPoolProfiles"].as_array_mut() {
        for profile in profiles {
            let name = profile["name"].as_str().unwrap_or_default().to_owned();
            let wanted = target
                .node_pools
                .iter()
                .find(|t| t.name == name)
                .and_then(|t| t.kubernetes_version.as_ref());
            if let Some(step) = wanted {
                profile["orchestratorVersion"] = Value::String(step.to.to_string());
            }
        }
    }
    body
}
