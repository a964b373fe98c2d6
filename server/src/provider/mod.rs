//! Providers really change clusters; this contract is all the rest of Drydock knows of them,
//! shaped for real infrastructure:
//! - observations are values asked for in batches (the runtime caches them and hands them to the
//!   engine; nothing synchronous, nothing only one provider could answer);
//! - errors say whether asking again may help (`Transient`, retried with backoff) or not
//!   (`Permanent`, `ClusterNotFound`: the attempt fails with the provider's words);
//! - an operation is running, succeeded or failed, never a predicted end; a provider may hint
//!   when to look again, and otherwise the runtime polls at its `Policy`'s interval.
//!
//! Many providers serve at once, each answering for the cluster ids of its own form
//! ([`registry::Providers`] routes): `sim:{name}` the simulator, `exec:{provider}/{cluster}`
//! command-line providers ([`exec`]).

pub mod aks;
pub mod exec;
pub mod registry;
pub mod simulated;

use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use app::model::target::{UpgradeProgress, UpgradeTarget};
use app::model::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// Shared observations as owned ones: a state no one else holds is unwrapped, not copied.
pub fn owned(
    shared: Vec<Result<Arc<ClusterState>, ProviderError>>,
) -> Vec<Result<ClusterState, ProviderError>> {
    shared
        .into_iter()
        .map(|o| o.map(Arc::unwrap_or_clone))
        .collect()
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProviderError {
    /// The cluster does not exist (any more): for good.
    #[error("cluster {0} does not exist")]
    ClusterNotFound(ClusterResourceId),
    /// No provider answers for ids of this form: for good.
    #[error("cluster id {id} is not one Drydock's providers understand ({hint})")]
    ForeignId { id: ClusterResourceId, hint: String },
    /// The provider could not answer now (unreachable, throttled, another operation in progress
    /// on the cluster); asking again later may work, not before `retry_after` if it says.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The provider refuses for good (forbidden, target refused, cluster stopped, an answer it
    /// cannot give): asking again will not help.
    #[error("{message}")]
    Permanent { message: String },
}

impl ProviderError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
        }
    }

    /// Whether asking again later may work.
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::Transient { .. })
    }
}

/// An upgrade to start. Starting the same `operation_id` twice starts it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    pub operation_id: String,
    pub cluster: ClusterResourceId,
    pub target: UpgradeTarget,
}

/// An operation to ask about: the cluster it changes and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRef {
    pub cluster: ClusterResourceId,
    pub operation_id: String,
}

/// How many calls the default batch verbs make at once (a provider bounds its own further).
const CALLS_AT_ONCE: usize = 16;

/// A provider's account of one operation: what it changes (where the provider says) and where
/// it is. The runtime checks what is said against what it asked before it believes the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub cluster: Option<ClusterResourceId>,
    pub target: Option<UpgradeTarget>,
    pub status: OperationStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationStatus {
    Running {
        /// How far it has come, if the provider can tell.
        progress: Option<UpgradeProgress>,
        /// What the provider says it is doing, if anything.
        message: Option<String>,
        /// When to look again (fleet time), if the provider knows better than its poll interval.
        look_again_at: Option<Timestamp>,
    },
    Succeeded,
    Failed {
        message: String,
    },
}

impl OperationStatus {
    pub fn running() -> Self {
        OperationStatus::Running {
            progress: None,
            message: None,
            look_again_at: None,
        }
    }
}

/// The kinds of call a provider answers, as the `exec` protocol names them.
pub const VERBS: [&str; 8] = [
    "list",
    "catalog",
    "observe",
    "start-upgrade",
    "operation-status",
    "apply-resources",
    "observe-resources",
    "delete-resources",
];

/// A placement's objects for one cluster, to hold from now on: each object applied (server-side
/// apply: the fields given are the owner's, the rest the cluster's), and the owner's objects not
/// among them removed. Applying the revision the cluster holds already changes nothing, so a
/// retry or a restart never applies a snapshot twice.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceApply {
    pub cluster: ClusterResourceId,
    /// Whose objects these are on the cluster: `{fleet}/{placement}`.
    pub owner: String,
    /// The snapshots the objects come from (`web@3`): the owner's record on the cluster.
    pub revision: String,
    pub manifests: Vec<serde_json::Value>,
}

/// What a cluster holds of one owner's objects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppliedResources {
    /// The revision last applied; `None`: nothing of the owner's is there.
    pub revision: Option<String>,
    /// Every object reports itself ready (a Deployment's replicas available, a Job done…).
    pub available: bool,
    /// Objects changed on the cluster since they were applied (`ConfigMap web/settings`).
    pub drifted: Vec<String>,
}

/// What a provider that does not place resources answers.
fn no_resources(provider: &str) -> ProviderError {
    ProviderError::permanent(format!(
        "provider {provider} does not place resources on clusters"
    ))
}

/// Calls made to a provider, per verb (an `observe` of many clusters is one call).
#[derive(Default)]
pub struct CallCounts([std::sync::atomic::AtomicU64; VERBS.len()]);

impl CallCounts {
    pub fn add(&self, verb: &str) {
        if let Some(i) = VERBS.iter().position(|v| *v == verb) {
            self.0[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> std::collections::BTreeMap<&'static str, u64> {
        VERBS
            .iter()
            .zip(&self.0)
            .map(|(verb, n)| (*verb, n.load(std::sync::atomic::Ordering::Relaxed)))
            .collect()
    }
}

/// How the runtime treats a provider's operations and observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// How often to ask about a running operation when the provider gives no hint (real time).
    pub poll_interval: Duration,
    /// How long an observation may be reused before the cluster is observed again (real time).
    pub observation_ttl: Duration,
    /// An upgrade attempt still running after this much fleet time fails as timed out.
    pub attempt_timeout: Duration,
    /// The longest wait before asking again after the provider could not answer (real time):
    /// long for a remote API that throttles, short for one that is cheap to ask.
    pub backoff_cap: Duration,
}

#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's name, as operators configure it (`sim`, `lab`).
    fn name(&self) -> &str;

    /// What kind of provider it is (`simulated`, `exec`).
    fn kind(&self) -> &'static str;

    /// Whether this provider answers for `cluster` (by the form of its id).
    fn owns(&self, cluster: &ClusterResourceId) -> bool;

    /// The form of its cluster ids, for messages and the providers API: `sim:{cluster}`.
    fn id_form(&self) -> String;

    fn policy(&self) -> &Policy;

    /// What the provider is set up with, for `GET /api/v1/providers`: never a secret.
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({})
    }

    /// Calls made to the provider since start, per kind of call, where it counts them (what a
    /// member's upgrade costs, for the README's measurements and for operators).
    fn calls(&self) -> std::collections::BTreeMap<&'static str, u64> {
        std::collections::BTreeMap::new()
    }

    /// The versions and node images on offer, per region.
    async fn catalog(&self) -> Result<Catalog, ProviderError>;

    /// Observes many clusters at once (one answer per id, in order): a pass of the runtime, or
    /// an overview of a large fleet, is one call, not one per member.
    async fn observe(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<ClusterState, ProviderError>>;

    /// [`Provider::observe`], each state shared rather than owned: what the runtime keeps of
    /// its observations. A provider that holds its clusters' states (the simulator) hands out
    /// its own instead of copying each.
    async fn observe_shared(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<Arc<ClusterState>, ProviderError>> {
        let observed = self.observe(clusters).await;
        observed.into_iter().map(|o| o.map(Arc::new)).collect()
    }

    /// Clusters this provider can see, for discovery when joining members.
    async fn known_clusters(&self) -> Result<Vec<ClusterResourceId>, ProviderError>;

    /// Starts an upgrade, or reports on the operation already started under the same id —
    /// which may not be this request's, if the id was ever given to another: the caller checks.
    async fn start_upgrade(&self, request: &UpgradeRequest) -> Result<Operation, ProviderError>;

    /// What an operation on `cluster` is and where; `None` if it was never started.
    async fn operation(
        &self,
        cluster: &ClusterResourceId,
        operation_id: &str,
    ) -> Result<Option<Operation>, ProviderError>;

    /// Applies a placement's objects to a cluster (see [`ResourceApply`]) and says what it
    /// holds now. A refusal of the objects (an admission webhook, a missing CRD) is `Permanent`.
    async fn apply_resources(
        &self,
        request: &ResourceApply,
    ) -> Result<AppliedResources, ProviderError> {
        Err(no_resources(&format!(
            "{} ({})",
            self.name(),
            request.cluster
        )))
    }

    /// What `cluster` holds of `owner`'s objects.
    async fn observe_resources(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<AppliedResources, ProviderError> {
        let _ = owner;
        Err(no_resources(&format!("{} ({cluster})", self.name())))
    }

    /// Removes `owner`'s objects from `cluster`; removing what is not there is done.
    async fn delete_resources(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<(), ProviderError> {
        let _ = owner;
        Err(no_resources(&format!("{} ({cluster})", self.name())))
    }

    /// Starts many upgrades (one answer per request, in order): a pass of the runtime starts
    /// the next member of every group at once. The default asks for each, several at a time;
    /// a provider that can do better (the simulator: one transaction) does.
    async fn start_upgrades(
        &self,
        requests: &[UpgradeRequest],
    ) -> Vec<Result<Operation, ProviderError>> {
        use futures_util::StreamExt;
        futures_util::stream::iter(0..requests.len())
            .map(|i| self.start_upgrade(&requests[i]))
            .buffered(CALLS_AT_ONCE)
            .collect()
            .await
    }

    /// Asks about many operations (one answer per operation, in order), as `start_upgrades`.
    async fn operations(
        &self,
        asked: &[OperationRef],
    ) -> Vec<Result<Option<Operation>, ProviderError>> {
        use futures_util::StreamExt;
        futures_util::stream::iter(0..asked.len())
            .map(|i| self.operation(&asked[i].cluster, &asked[i].operation_id))
            .buffered(CALLS_AT_ONCE)
            .collect()
            .await
    }
}
