//! The `exec` provider: Drydock drives real clusters through any command-line tool a platform
//! team already uses (az, aws, gcloud, kubeadm over ssh, Ansible, kubectl for Cluster API). Each
//! call runs the configured command with a verb (`call`), speaking the versioned JSON protocol
//! of `docs/providers.md` (`protocol`). Members name its clusters `exec:{provider}/{cluster}`.
//!
//! Calls are bounded (`max_parallel` at once, `max_batch` clusters per observation) and counted
//! per verb; the catalog and the cluster list are kept for a while, since every decision reads
//! the catalog and a process per decision would be waste.

mod call;
pub mod protocol;

use super::{
    CallCounts, Operation, OperationStatus, Policy, Provider, ProviderError, UpgradeRequest,
};
use crate::clock::Clock;
use crate::settings::ExecSettings;
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Semaphore;

pub use call::EX_TEMPFAIL;

/// A value fetched from the provider and reused for a while.
type Kept<T> = Mutex<Option<(Instant, T)>>;

pub struct ExecProvider {
    settings: ExecSettings,
    policy: Policy,
    /// `exec:{name}/`, what its cluster ids start with.
    prefix: String,
    permits: Semaphore,
    calls: CallCounts,
    catalog: Kept<Catalog>,
    known: Kept<Vec<ClusterResourceId>>,
    clock: Arc<dyn Clock>,
}

impl ExecProvider {
    pub fn new(settings: ExecSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            policy: Policy {
                poll_interval: settings.poll_interval,
                observation_ttl: settings.observation_ttl,
                attempt_timeout: settings.attempt_timeout,
                backoff_cap: settings.backoff_cap,
            },
            prefix: format!("exec:{}/", settings.name),
            permits: Semaphore::new(settings.max_parallel),
            calls: CallCounts::default(),
            catalog: Mutex::new(None),
            known: Mutex::new(None),
            settings,
            clock,
        }
    }

    /// The cluster's name as the command knows it.
    fn local<'a>(&self, cluster: &'a ClusterResourceId) -> Result<&'a str, ProviderError> {
        cluster
            .as_str()
            .strip_prefix(&self.prefix)
            .filter(|name| protocol::check_cluster_name(name).is_ok())
            .ok_or_else(|| ProviderError::ForeignId {
                id: cluster.clone(),
                hint: format!(
                    "provider {} names clusters {}{{cluster}}",
                    self.settings.name, self.prefix
                ),
            })
    }

    fn id(&self, name: &str) -> Option<ClusterResourceId> {
        ClusterResourceId::parse(&format!("{}{name}", self.prefix)).ok()
    }

    /// One call of `verb`, waiting for a free slot first.
    async fn call(&self, verb: &'static str, fields: Value) -> Result<Value, ProviderError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ProviderError::transient("the provider is shutting down"))?;
        self.calls.add(verb);
        let answer = call::call(&self.settings, verb, &protocol::request(fields)).await;
        if let Err(error) = &answer {
            tracing::info!(provider = %self.settings.name, verb, %error, "a provider call failed");
        }
        answer
    }

    /// Observes one batch (at most `max_batch` clusters).
    async fn observe_batch(&self, names: &[&str]) -> Vec<Result<ClusterState, ProviderError>> {
        let answer = self
            .call("observe", json!({ "clusters": names }))
            .await
            .and_then(|answer| {
                protocol::decode_observe(answer, names, |name| match self.id(name) {
                    Some(id) => ProviderError::ClusterNotFound(id),
                    None => ProviderError::permanent(format!("cluster {name} does not exist")),
                })
            });
        match answer {
            Ok(each) => each,
            // The whole call failed: so did every cluster in it.
            Err(error) => vec![Err(error); names.len()],
        }
    }

    /// An operation answer as the contract says it.
    fn operation_of(&self, verb: &str, answer: Value) -> Result<Option<Operation>, ProviderError> {
        let decoded = protocol::decode_operation(verb, answer)?;
        Ok(decoded.status.map(|status| {
            let status = match status {
                OperationStatus::Running {
                    progress, message, ..
                } => OperationStatus::Running {
                    progress,
                    message,
                    look_again_at: decoded.retry_after.map(|wait| self.fleet_time_after(wait)),
                },
                other => other,
            };
            Operation {
                cluster: None,
                target: None,
                status,
            }
        }))
    }

    /// The fleet time `wait` of real time from now.
    fn fleet_time_after(&self, wait: std::time::Duration) -> app::model::time::Timestamp {
        let fleet_ms = wait.as_secs_f64() * 1000.0 * self.clock.scale();
        self.clock.now().plus_millis(fleet_ms as i64)
    }
}

/// A kept value if it is younger than `ttl`.
fn fresh<T: Clone>(kept: &Kept<T>, ttl: std::time::Duration) -> Option<T> {
    let kept = kept.lock().unwrap_or_else(|p| p.into_inner());
    kept.as_ref()
        .filter(|(at, _)| at.elapsed() < ttl)
        .map(|(_, value)| value.clone())
}

fn keep<T>(kept: &Kept<T>, value: T) {
    *kept.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), value));
}

#[async_trait::async_trait]
impl Provider for ExecProvider {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn kind(&self) -> &'static str {
        "exec"
    }

    fn owns(&self, cluster: &ClusterResourceId) -> bool {
        cluster.as_str().starts_with(&self.prefix)
    }

    fn id_form(&self) -> String {
        format!("{}{{cluster}}", self.prefix)
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }

    fn settings(&self) -> Value {
        let s = &self.settings;
        json!({
            "command": s.command,
            "timeoutSeconds": s.timeout.as_secs(),
            "maxParallel": s.max_parallel,
            "maxBatch": s.max_batch,
            "pollIntervalSeconds": s.poll_interval.as_secs(),
            "observationTtlSeconds": s.observation_ttl.as_secs(),
            "catalogTtlSeconds": s.catalog_ttl.as_secs(),
            "attemptTimeoutSeconds": s.attempt_timeout.as_secs(),
            "backoffCapSeconds": s.backoff_cap.as_secs(),
            // Names only: values are the operator's business, secrets are nobody's.
            "env": s.env.keys().collect::<Vec<_>>(),
            "secrets": s.secrets.keys().collect::<Vec<_>>(),
        })
    }

    fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.snapshot()
    }

    async fn catalog(&self) -> Result<Catalog, ProviderError> {
        if let Some(catalog) = fresh(&self.catalog, self.settings.catalog_ttl) {
            return Ok(catalog);
        }
        let catalog = protocol::decode_catalog(self.call("catalog", json!({})).await?)?;
        keep(&self.catalog, catalog.clone());
        Ok(catalog)
    }

    async fn observe(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<ClusterState, ProviderError>> {
        let mut answers: Vec<Option<Result<ClusterState, ProviderError>>> =
            vec![None; clusters.len()];
        let mut asked: Vec<(usize, &str)> = Vec::new();
        for (i, cluster) in clusters.iter().enumerate() {
            match self.local(cluster) {
                Ok(name) => asked.push((i, name)),
                Err(error) => answers[i] = Some(Err(error)),
            }
        }
        let batches: Vec<&[(usize, &str)]> = asked.chunks(self.settings.max_batch).collect();
        let results = futures_util::future::join_all(batches.iter().map(|batch| {
            let names: Vec<&str> = batch.iter().map(|(_, name)| *name).collect();
            async move { self.observe_batch(&names).await }
        }))
        .await;
        for (batch, results) in batches.iter().zip(results) {
            for ((i, _), result) in batch.iter().zip(results) {
                answers[*i] = Some(result);
            }
        }
        answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(ProviderError::transient("no answer"))))
            .collect()
    }

    async fn known_clusters(&self) -> Result<Vec<ClusterResourceId>, ProviderError> {
        let ttl = self
            .settings
            .observation_ttl
            .max(std::time::Duration::from_secs(5));
        if let Some(known) = fresh(&self.known, ttl) {
            return Ok(known);
        }
        let names = protocol::decode_list(self.call("list", json!({})).await?)?;
        let known: Vec<ClusterResourceId> = names.iter().filter_map(|n| self.id(n)).collect();
        keep(&self.known, known.clone());
        Ok(known)
    }

    async fn start_upgrade(&self, request: &UpgradeRequest) -> Result<Operation, ProviderError> {
        let cluster = self.local(&request.cluster)?;
        let answer = self
            .call(
                "start-upgrade",
                json!({
                    "operationId": request.operation_id,
                    "cluster": cluster,
                    "target": request.target,
                }),
            )
            .await?;
        self.operation_of("start-upgrade", answer)?.ok_or_else(|| {
            ProviderError::permanent(
                "the provider's start-upgrade answer is malformed: state \"Unknown\"",
            )
        })
    }

    async fn apply_resources(
        &self,
        request: &crate::provider::ResourceApply,
    ) -> Result<crate::provider::AppliedResources, ProviderError> {
        let cluster = self.local(&request.cluster)?;
        let fields = json!({
            "cluster": cluster,
            "owner": request.owner,
            "revision": request.revision,
            "manifests": request.manifests,
        });
        let answer = self.call("apply-resources", fields).await?;
        let held = protocol::decode_resources("apply-resources", answer)?;
        if held.revision.as_deref() != Some(request.revision.as_str()) {
            return Err(ProviderError::permanent(format!(
                "the provider's apply-resources answer is malformed: revision {:?}, not {:?}",
                held.revision, request.revision
            )));
        }
        Ok(held)
    }

    async fn observe_resources(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<crate::provider::AppliedResources, ProviderError> {
        let cluster = self.local(cluster)?;
        let fields = json!({ "cluster": cluster, "owner": owner });
        let answer = self.call("observe-resources", fields).await?;
        protocol::decode_resources("observe-resources", answer)
    }

    async fn delete_resources(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<(), ProviderError> {
        let cluster = self.local(cluster)?;
        let fields = json!({ "cluster": cluster, "owner": owner });
        self.call("delete-resources", fields).await.map(|_| ())
    }

    async fn operation(
        &self,
        cluster: &ClusterResourceId,
        operation_id: &str,
    ) -> Result<Option<Operation>, ProviderError> {
        let cluster = self.local(cluster)?;
        let answer = self
            .call(
                "operation-status",
                json!({ "operationId": operation_id, "cluster": cluster }),
            )
            .await?;
        self.operation_of("operation-status", answer)
    }
}
