//! Providers really change clusters; this trait is all the rest of Drydock knows of them. The
//! simulated provider is the embedded default; `exec` and Azure Resource Manager come later.

pub mod simulated;

use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use app::model::target::{UpgradeProgress, UpgradeTarget};
use app::model::time::Timestamp;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProviderError {
    #[error("cluster {0} does not exist")]
    ClusterNotFound(ClusterResourceId),
    #[error("cluster id {id} is not one this provider understands ({hint})")]
    ForeignId {
        id: ClusterResourceId,
        hint: &'static str,
    },
    /// The provider could not answer now; asking again later may work.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
}

/// An upgrade to start. Starting the same `operation_id` twice starts it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    pub operation_id: String,
    pub cluster: ClusterResourceId,
    pub target: UpgradeTarget,
}

/// A provider's account of one operation: what it changes and where it is. The runtime checks
/// the first two against what it asked before it believes the third.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub cluster: ClusterResourceId,
    pub target: UpgradeTarget,
    pub status: OperationStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationStatus {
    Running {
        ends_at: Timestamp,
        /// How far it has come, if the provider can tell.
        progress: Option<UpgradeProgress>,
    },
    Succeeded {
        ended_at: Timestamp,
    },
    Failed {
        ended_at: Timestamp,
        message: String,
    },
}

#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// A short name for logs and the UI, e.g. `simulated`.
    fn kind(&self) -> &'static str;

    /// The versions and node images on offer, per region.
    async fn catalog(&self) -> Result<Catalog, ProviderError>;

    /// Observes many clusters at once (one answer per id, in order), so an overview of a large
    /// fleet is one call, not one per member.
    async fn observe(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<ClusterState, ProviderError>>;

    /// What the provider currently knows of a cluster, without a round trip, for the engine's
    /// synchronous decisions. The simulated provider answers from its world; providers that
    /// keep no view return `None` and the runtime observes ahead for them.
    fn peek(&self, cluster: &ClusterResourceId) -> Option<Result<ClusterState, ProviderError>>;

    /// Clusters this provider can see, for discovery when joining members.
    async fn known_clusters(&self) -> Result<Vec<ClusterResourceId>, ProviderError>;

    /// Starts an upgrade, or reports on the operation already started under the same id —
    /// which may not be this request's, if the id was ever given to another: the caller checks.
    async fn start_upgrade(&self, request: &UpgradeRequest) -> Result<Operation, ProviderError>;

    /// What an operation is and where; `None` if it was never started.
    async fn operation(&self, operation_id: &str) -> Result<Option<Operation>, ProviderError>;
}
