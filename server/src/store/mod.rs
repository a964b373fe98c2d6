//! Persistence behind narrow traits, so PostgreSQL can join SQLite as a second implementation
//! without touching callers. Every write of mutable state is a compare-and-set on a `version`
//! column with the row count checked.

pub mod access;
pub mod audit;
pub mod sql;

pub use sql::{Backend, SqlStore};

use crate::webhooks::{FleetEvent, WebhookSpec};
use app::engine::Effect;
use app::model::auto_upgrade::{AutoUpgradeProfile, AutoUpgradeProfileStatus};
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::{ClusterResourceId, FleetSummary, Member, MemberSpec};
use app::model::names::{
    AutoUpgradeProfileName, ClusterName, FleetName, GroupName, MemberName, OverrideName,
    PlacementName, ResourceName, RunName, StrategyName, WebhookName,
};
use app::model::overrides::ResourceOverride;
use app::model::placement::Placement;
use app::model::run::{RunEvent, UpdateRun};
use app::model::strategy::UpdateStrategy;
use app::model::target::UpgradeTarget;
use app::model::time::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("a member named {0} already exists")]
    MemberExists(MemberName),
    #[error("an update run named {0} already exists")]
    RunExists(RunName),
    #[error("cluster {0} is already a member of a fleet")]
    ClusterAlreadyJoined(ClusterResourceId),
    /// Another run holds the cluster's lease (it is upgrading it): the decision that wanted to
    /// start an upgrade there was not committed.
    #[error("cluster {0} is being upgraded by another run")]
    ClusterBusy(ClusterResourceId),
    /// A compare-and-set lost: someone else wrote first. Retrying with fresh data may succeed.
    #[error("the record changed while it was being written")]
    Concurrent,
    /// This replica no longer drives the run (another took it, or its hold ran out): nothing
    /// was written.
    #[error("this server no longer drives the run")]
    NotDriving,
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The database cannot be used as configured (an unknown kind of URL, a failed migration).
    #[error("{0}")]
    Setup(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether trying the same operation again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Concurrent | StoreError::Database(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a write expects to find, so that a check made before it (an `If-Match`, "do not
/// replace") still holds when it lands; a write that finds otherwise fails with `Concurrent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Any,
    Absent,
    Version(i64),
}

impl Expect {
    /// Whether a resource at `current` (`None`: absent) is what the write expects.
    pub fn allows(self, current: Option<i64>) -> bool {
        match (self, current) {
            (Expect::Any, _) | (Expect::Absent, None) => true,
            (Expect::Version(want), Some(have)) => want == have,
            (Expect::Absent, Some(_)) | (Expect::Version(_), None) => false,
        }
    }

    /// The version a guarded write must find, if it must find one.
    pub fn version(self) -> Option<i64> {
        match self {
            Expect::Version(version) => Some(version),
            Expect::Any | Expect::Absent => None,
        }
    }
}

/// Whether the store can serve: the database answers and has every migration this build knows.
#[async_trait::async_trait]
pub trait HealthStore: Send + Sync + 'static {
    async fn ready(&self) -> StoreResult<()>;
    /// What `/metrics` reports of the stored state: runs by public state, members upgrading.
    async fn tallies(&self) -> StoreResult<Tallies>;
}

/// Counts of the stored state, the same from every replica.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tallies {
    pub runs_by_state: Vec<(String, i64)>,
    pub members_upgrading: i64,
}

/// Every store Drydock uses; one backend usually implements them all.
#[derive(Clone)]
pub struct Stores {
    pub fleets: std::sync::Arc<dyn FleetStore>,
    pub strategies: std::sync::Arc<dyn StrategyStore>,
    pub profiles: std::sync::Arc<dyn AutoUpgradeStore>,
    pub resources: std::sync::Arc<dyn ResourceStore>,
    pub placements: std::sync::Arc<dyn PlacementStore>,
    pub runs: std::sync::Arc<dyn RunStore>,
    pub webhooks: std::sync::Arc<dyn WebhookStore>,
    pub access: std::sync::Arc<dyn access::AccessStore>,
    pub audit: std::sync::Arc<dyn audit::AuditStore>,
    pub health: std::sync::Arc<dyn HealthStore>,
}

impl Stores {
    pub fn sql(store: std::sync::Arc<SqlStore>) -> Self {
        Self {
            fleets: store.clone(),
            strategies: store.clone(),
            profiles: store.clone(),
            resources: store.clone(),
            placements: store.clone(),
            runs: store.clone(),
            webhooks: store.clone(),
            access: store.clone(),
            audit: store.clone(),
            health: store,
        }
    }
}

/// A stored webhook; `since_event` is the newest event id when it was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWebhook {
    pub name: WebhookName,
    pub spec: WebhookSpec,
    pub etag: i64,
    pub since_event: i64,
    pub created_at: Timestamp,
}

/// A delivery to queue: the event, as its webhook will receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub webhook: WebhookName,
    pub event_id: i64,
    pub event_type: String,
    pub payload: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Given up after the last attempt.
    Failed,
}

/// A delivery in the outbox or the history. Times are wall-clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub webhook: WebhookName,
    pub event_id: i64,
    pub event_type: String,
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

/// What one attempt to deliver came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: Timestamp,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// `Pending` with the next attempt's time, `Delivered`, or `Failed` (given up).
    pub state: DeliveryState,
    pub next_attempt_at: Timestamp,
}

/// Webhooks, the dispatcher's cursor over all runs' events, and the deliveries' outbox.
#[async_trait::async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn put_webhook(
        &self,
        name: &WebhookName,
        spec: &WebhookSpec,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredWebhook, bool)>;
    async fn get_webhook(&self, name: &WebhookName) -> StoreResult<Option<StoredWebhook>>;
    async fn list_webhooks(&self) -> StoreResult<Vec<StoredWebhook>>;
    /// Deletes the webhook with its deliveries.
    async fn delete_webhook(&self, name: &WebhookName, expect: Expect) -> StoreResult<bool>;
    /// The id of the last event the dispatcher looked at; the newest event when it never ran
    /// (history is not sent).
    async fn webhook_cursor(&self) -> StoreResult<i64>;
    /// At most `limit` events of every run after `after`, in commit order.
    async fn events_after(&self, after: i64, limit: i64) -> StoreResult<Vec<FleetEvent>>;
    /// Queues `deliveries` and moves the cursor to `cursor`, together.
    async fn queue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        cursor: i64,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The webhooks with a pending delivery due at `now`.
    async fn webhooks_due(&self, now: Timestamp) -> StoreResult<Vec<WebhookName>>;
    /// At most `limit` of the webhook's pending deliveries due at `now`, oldest first.
    async fn due_deliveries(
        &self,
        webhook: &WebhookName,
        now: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>>;
    async fn record_attempt(&self, delivery: i64, attempt: &Attempt) -> StoreResult<()>;
    /// The webhook's newest `limit` deliveries, newest first.
    async fn list_deliveries(
        &self,
        webhook: &WebhookName,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>>;
    /// Forgets finished deliveries beyond the newest `keep` of each webhook.
    async fn prune_deliveries(&self, keep: i64) -> StoreResult<()>;
    /// Takes (or keeps) the duty `name` for `replica` for `hold` unless another replica holds
    /// it now; whether `replica` holds it.
    async fn take_duty(
        &self,
        name: &str,
        replica: &str,
        hold: std::time::Duration,
    ) -> StoreResult<bool>;
}

/// Fleets and members: what operators declare.
#[async_trait::async_trait]
pub trait FleetStore: Send + Sync + 'static {
    /// Creates the fleet if it does not exist; `true` when it was created.
    async fn put_fleet(&self, fleet: &FleetName, now: Timestamp) -> StoreResult<bool>;
    async fn get_fleet(&self, fleet: &FleetName) -> StoreResult<Option<FleetSummary>>;
    async fn list_fleets(&self) -> StoreResult<Vec<FleetSummary>>;
    /// Deletes the fleet and its members; `false` when there was none, `Concurrent` when one of
    /// its runs holds a cluster lease.
    async fn delete_fleet(&self, fleet: &FleetName) -> StoreResult<bool>;

    async fn get_member(&self, fleet: &FleetName, name: &MemberName)
    -> StoreResult<Option<Member>>;
    /// The fleet's members by name, shared (no copy of a large fleet per read); none when the
    /// fleet is gone.
    async fn members(&self, fleet: &FleetName) -> StoreResult<sql::SharedMembers>;
    /// [`members`](Self::members), as a list of its own to change.
    async fn list_members(&self, fleet: &FleetName) -> StoreResult<Vec<Member>> {
        Ok(Vec::clone(&*self.members(fleet).await?))
    }
    /// Fails with `NotFound` when the fleet is gone, `MemberExists` or `ClusterAlreadyJoined`.
    async fn create_member(
        &self,
        fleet: &FleetName,
        name: &MemberName,
        spec: &MemberSpec,
        now: Timestamp,
    ) -> StoreResult<Member>;
    /// Replaces the member's spec if its etag is still `etag`.
    async fn replace_member(&self, member: &Member, spec: &MemberSpec) -> StoreResult<Member>;
    /// Sets the group of every member, all or none, each guarded by its etag.
    async fn set_groups(&self, members: &[Member], group: Option<&GroupName>) -> StoreResult<()>;
    /// `false` when there was none; `Concurrent` when it is not as `expect`ed.
    async fn delete_member(
        &self,
        fleet: &FleetName,
        name: &MemberName,
        expect: Expect,
    ) -> StoreResult<bool>;
    /// The members (in any fleet) that point at a cluster.
    async fn members_of_cluster(
        &self,
        cluster: &ClusterResourceId,
    ) -> StoreResult<Vec<(FleetName, MemberName)>>;

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()>;
}

/// A simulated cluster: what it runs, and the failures to inject into its operations.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCluster {
    /// Shared with the observations the simulator hands out (a run observes the same clusters
    /// several times a step; copying each, node pools and all, was a tenth of a wide step's
    /// CPU): a change copies it first (`Arc::make_mut`) while an observation still holds it.
    pub state: std::sync::Arc<ClusterState>,
    pub faults: Faults,
}

/// Failures the simulator injects for one cluster, the ways real providers fail.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// The next operation fails (then this clears).
    pub fail_next: bool,
    /// The share of operations that fail, drawn from the seed.
    pub failure_rate: f64,
    /// The share of calls about the cluster that fail for now (transient), drawn per call.
    pub transient_rate: f64,
    /// Every call about the cluster fails for now, until this is cleared.
    pub unreachable: bool,
    /// The next operation started is lost: the simulator forgets it (the upgrade still runs).
    pub lose_next: bool,
    /// The next operation started never ends (a drain blocked by a PodDisruptionBudget).
    pub stuck_next: bool,
}

/// An upgrade operation the simulated provider was asked to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOperation {
    pub operation_id: String,
    pub cluster: ClusterName,
    pub kind: String,
    pub target: UpgradeTarget,
    pub started_at: Timestamp,
    pub ends_at: Timestamp,
    pub failure: Option<String>,
    pub applied: bool,
}

/// What became of an operation the simulator asked to record.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// Another server recorded this id first: nothing was written for it.
    Clashed,
    /// Recorded, to run.
    Started,
    /// Recorded as applied; the cluster as it is now (`None`: it is gone).
    Applied(Option<Box<SimCluster>>),
}

/// The clusters a simulator's copy of the world holds, as of the last stored change it holds
/// (`synced`). A write whose change comes right after `synced` starts from these instead of
/// reading them back: no one changed the world between. Otherwise they are read, as stored.
#[derive(Debug, Clone, Default)]
pub struct HeldClusters {
    pub synced: i64,
    pub clusters: std::collections::BTreeMap<ClusterName, SimCluster>,
}

/// What the simulated provider persists, so a simulated fleet survives restarts like a real one.
#[derive(Debug, Clone, Default)]
pub struct SimulatorSnapshot {
    pub catalog: Option<Catalog>,
    pub clusters: Vec<(ClusterName, SimCluster)>,
    /// In no particular order.
    pub operations: Vec<SimOperation>,
    /// The number of the last change the snapshot holds.
    pub last_change: i64,
}

/// One change to the simulated world, numbered in commit order.
#[derive(Debug, Clone)]
pub enum SimChange {
    Catalog(Catalog),
    Cluster(ClusterName, SimCluster),
    Removed(ClusterName),
    Operation(SimOperation),
}

/// The changes to the simulated world after a number, in order, and the number of the last.
#[derive(Debug, Clone, Default)]
pub struct SimChanges {
    pub changes: Vec<(i64, SimChange)>,
    pub last_change: i64,
}

#[async_trait::async_trait]
pub trait SimulatorStore: Send + Sync + 'static {
    async fn load_simulator(&self) -> StoreResult<SimulatorSnapshot>;
    /// The changes other servers (or this one) made after change `after`; `None` when there
    /// are none.
    async fn simulator_changes(&self, after: i64) -> StoreResult<Option<SimChanges>>;
    async fn save_catalog(&self, catalog: &Catalog) -> StoreResult<()>;
    async fn save_cluster(&self, name: &ClusterName, cluster: &SimCluster) -> StoreResult<()>;
    async fn delete_cluster(&self, name: &ClusterName) -> StoreResult<bool>;
    /// Records new operations, in one transaction; an operation id already recorded is left as
    /// it was. Those recorded as `applied` (they ended, successfully, as they started: upgrades
    /// that take no time) are applied to their clusters in the same transaction, so no one
    /// sees an operation that succeeded on a cluster that does not show it.
    /// Also the number of the change written, so the server that wrote it need not read it
    /// back. `held`: the clusters as the caller holds them (those of applied operations).
    async fn save_operations(
        &self,
        operations: &[SimOperation],
        held: HeldClusters,
    ) -> StoreResult<(i64, Vec<Recorded>)>;
    /// Applies finished operations to their clusters as stored, and marks them applied, all in
    /// one transaction; per operation the cluster as it is now, `None` when the operation was
    /// applied already (by another server, say) or its cluster is gone.
    async fn complete_operations(
        &self,
        operations: &[SimOperation],
        held: HeldClusters,
    ) -> StoreResult<(i64, Vec<Option<SimCluster>>)>;
    /// Applies `owner`'s objects (`manifests`, a JSON array's text) to a simulated cluster, in
    /// one transaction with its resource faults: a pending `applyFailNext` refuses this apply
    /// (and clears); the revision it holds already changes nothing; otherwise the objects are
    /// replaced, the applies counted, and they become available `readyAfterSeconds` later.
    async fn apply_sim_resources(
        &self,
        cluster: &ClusterName,
        owner: &str,
        revision: &str,
        manifests: &str,
        now: Timestamp,
    ) -> StoreResult<SimApplyOutcome>;
    /// What a simulated cluster holds, by owner.
    async fn sim_resources(&self, cluster: &ClusterName) -> StoreResult<Vec<SimApplied>>;
    /// `false` when the cluster held nothing of `owner`'s.
    async fn delete_sim_resources(&self, cluster: &ClusterName, owner: &str) -> StoreResult<bool>;
    /// Marks `objects` of `owner`'s as changed on the cluster by hand (until a new revision is
    /// applied); `false` when the cluster holds nothing of `owner`'s.
    async fn drift_sim_resources(
        &self,
        cluster: &ClusterName,
        owner: &str,
        objects: &[String],
    ) -> StoreResult<bool>;
    async fn put_sim_resource_faults(
        &self,
        cluster: &ClusterName,
        faults: SimResourceFaults,
    ) -> StoreResult<()>;
    async fn sim_resource_faults(&self, cluster: &ClusterName) -> StoreResult<SimResourceFaults>;
}

/// What a simulated cluster holds of one owner's objects.
#[derive(Debug, Clone, PartialEq)]
pub struct SimApplied {
    pub owner: String,
    pub revision: String,
    pub manifests: Vec<serde_json::Value>,
    /// How many times a new revision was applied (re-applying the one held does not count).
    pub applies: i64,
    pub applied_at: Timestamp,
    pub available_at: Timestamp,
    /// Objects changed on the cluster by hand since they were applied (`ConfigMap web/settings`).
    pub drifted: Vec<String>,
}

/// What an apply to a simulated cluster came to.
#[derive(Debug, Clone, PartialEq)]
pub enum SimApplyOutcome {
    /// The injected `applyFailNext` refused it.
    Refused,
    Applied(SimApplied),
}

/// How a simulated cluster's API server treats applied objects.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimResourceFaults {
    /// The next apply is refused, as an admission webhook refuses (then this clears).
    #[serde(default)]
    pub apply_fail_next: bool,
    /// Objects applied become available this many seconds (fleet time) later.
    #[serde(default)]
    pub ready_after_seconds: u32,
}

/// What providers remember about the operations they started (opaque to Drydock), durably,
/// so a restarted server goes on following an operation instead of starting it again.
#[async_trait::async_trait]
pub trait ProviderJournal: Send + Sync + 'static {
    async fn journal_get(&self, provider: &str, operation_id: &str) -> StoreResult<Option<String>>;
    /// Creates or replaces the record; committed when this returns.
    async fn journal_put(
        &self,
        provider: &str,
        operation_id: &str,
        record: &str,
    ) -> StoreResult<()>;
}

/// A stored strategy and its etag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStrategy {
    pub name: StrategyName,
    pub strategy: UpdateStrategy,
    pub etag: i64,
}

/// Update strategies of a fleet.
#[async_trait::async_trait]
pub trait StrategyStore: Send + Sync + 'static {
    /// Creates or replaces; `true` when created. `NotFound` when the fleet is gone,
    /// `Concurrent` when the strategy is not as `expect`ed.
    async fn put_strategy(
        &self,
        fleet: &FleetName,
        name: &StrategyName,
        strategy: &UpdateStrategy,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredStrategy, bool)>;
    async fn get_strategy(
        &self,
        fleet: &FleetName,
        name: &StrategyName,
    ) -> StoreResult<Option<StoredStrategy>>;
    async fn list_strategies(&self, fleet: &FleetName) -> StoreResult<Vec<StoredStrategy>>;
    /// `false` when there was none; `Concurrent` when it is not as `expect`ed.
    async fn delete_strategy(
        &self,
        fleet: &FleetName,
        name: &StrategyName,
        expect: Expect,
    ) -> StoreResult<bool>;
}

/// A stored auto-upgrade profile: what its user set (with the etag) and what its last trigger
/// did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProfile {
    pub name: AutoUpgradeProfileName,
    pub profile: AutoUpgradeProfile,
    pub status: AutoUpgradeProfileStatus,
    pub etag: i64,
}

/// Auto-upgrade profiles of fleets.
#[async_trait::async_trait]
pub trait AutoUpgradeStore: Send + Sync + 'static {
    /// Creates or replaces the profile (its status stays); `true` when created. `NotFound`
    /// when the fleet is gone, `Concurrent` when the profile is not as `expect`ed.
    async fn put_profile(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        profile: &AutoUpgradeProfile,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredProfile, bool)>;
    async fn get_profile(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
    ) -> StoreResult<Option<StoredProfile>>;
    async fn list_profiles(&self, fleet: &FleetName) -> StoreResult<Vec<StoredProfile>>;
    /// Every fleet's profiles that are not disabled: what the trigger looks at.
    async fn enabled_profiles(&self) -> StoreResult<Vec<(FleetName, StoredProfile)>>;
    /// `false` when there was none; `Concurrent` when it is not as `expect`ed.
    async fn delete_profile(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        expect: Expect,
    ) -> StoreResult<bool>;
    /// Whether `fleet` has a run named `run` (`None` if not), and the auto-upgrade profile that
    /// generated it, if one did: read from the run's body alone, not its members.
    async fn generated_by(
        &self,
        fleet: &FleetName,
        run: &str,
    ) -> StoreResult<Option<Option<String>>>;
    /// The runs of `fleet` generated by the profile `profile_id` that have not finished (not
    /// started, running, stopping or stopped).
    async fn unfinished_generated_runs(
        &self,
        fleet: &FleetName,
        profile_id: &str,
    ) -> StoreResult<Vec<String>>;
    /// Records what a trigger did (the etag stays: the status is the server's, not the user's);
    /// `false` when the profile is gone.
    async fn record_trigger(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        status: &AutoUpgradeProfileStatus,
    ) -> StoreResult<bool>;
}

/// One stored snapshot of a resource: its number, digest, time and objects (checked when
/// written).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSnapshot {
    pub index: i64,
    pub hash: String,
    pub created_at: Timestamp,
    pub manifests: Vec<serde_json::Value>,
}

/// A resource as stored: its name and its newest snapshot, whose index is its etag.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub name: ResourceName,
    pub latest: StoredSnapshot,
}

/// What a resource write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceWrite {
    Created,
    /// A new snapshot was made.
    Changed,
    /// The objects were those of the newest snapshot already: nothing was written.
    Unchanged,
}

/// How many snapshots of a resource are kept, newest first (KubeFleet's default
/// `revisionHistoryLimit`): older ones are deleted as new ones are made.
pub const SNAPSHOTS_KEPT: i64 = 10;

/// Resource bundles and their snapshots.
#[async_trait::async_trait]
pub trait ResourceStore: Send + Sync + 'static {
    /// Makes `manifests` (a JSON array, as its text, and that text's `hash`) the resource's
    /// newest snapshot, unless the newest has the same hash. `NotFound` when the fleet is gone,
    /// `Concurrent` when the resource is not as `expect`ed.
    async fn put_resource(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
        manifests: &str,
        hash: &str,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredResource, ResourceWrite)>;
    async fn get_resource(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
    ) -> StoreResult<Option<StoredResource>>;
    async fn list_resources(&self, fleet: &FleetName) -> StoreResult<Vec<StoredResource>>;
    /// Deletes the resource with its snapshots; `false` when there was none.
    async fn delete_resource(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
        expect: Expect,
    ) -> StoreResult<bool>;
    /// The resource's kept snapshots, newest first (`None`: no such resource).
    async fn list_snapshots(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
    ) -> StoreResult<Option<Vec<StoredSnapshot>>>;
    async fn get_snapshot(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
        index: i64,
    ) -> StoreResult<Option<StoredSnapshot>>;
}

/// A stored placement with its etag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPlacement {
    pub name: PlacementName,
    pub placement: Placement,
    pub etag: i64,
}

/// A stored resource override with its etag.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOverride {
    pub name: OverrideName,
    pub spec: ResourceOverride,
    pub etag: i64,
}

/// Placements of fleets' resources.
#[async_trait::async_trait]
pub trait PlacementStore: Send + Sync + 'static {
    /// Creates or replaces the placement; `true` when created. `NotFound` when the fleet is
    /// gone, `Concurrent` when the placement is not as `expect`ed.
    async fn put_placement(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
        placement: &Placement,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredPlacement, bool)>;
    async fn get_placement(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
    ) -> StoreResult<Option<StoredPlacement>>;
    async fn list_placements(&self, fleet: &FleetName) -> StoreResult<Vec<StoredPlacement>>;
    async fn delete_placement(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
        expect: Expect,
    ) -> StoreResult<bool>;
    /// What the placement's rollout recorded, by member.
    async fn placement_members(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
    ) -> StoreResult<std::collections::BTreeMap<String, app::engine::AppliedRecord>>;
    /// Records what was done on `member`; `NotFound` when the placement is gone.
    async fn record_placement_member(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
        member: &str,
        record: &app::engine::AppliedRecord,
    ) -> StoreResult<()>;
    /// Creates or replaces an override; `true` when created (as `put_placement`).
    async fn put_override(
        &self,
        fleet: &FleetName,
        name: &OverrideName,
        spec: &ResourceOverride,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredOverride, bool)>;
    async fn list_overrides(&self, fleet: &FleetName) -> StoreResult<Vec<StoredOverride>>;
    async fn delete_override(
        &self,
        fleet: &FleetName,
        name: &OverrideName,
        expect: Expect,
    ) -> StoreResult<bool>;
    /// The placements whose rollout gave `member` objects.
    async fn placements_holding(
        &self,
        fleet: &FleetName,
        member: &str,
    ) -> StoreResult<Vec<PlacementName>>;
    /// Forgets `member` (its objects were removed).
    async fn forget_placement_member(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
        member: &str,
    ) -> StoreResult<()>;
}

/// A stored run: the engine's run, its etag (the compare-and-set version) and its wake-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRun {
    pub run: UpdateRun,
    pub etag: i64,
    pub wake_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A run's hold on a cluster while it upgrades it: one upgrade at a time per cluster, whichever
/// run asks. Taken and released in the transactions that start and end the member's upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub cluster: ClusterResourceId,
    pub fleet: FleetName,
    pub run: RunName,
    pub run_uid: String,
    pub member: MemberName,
    pub operation_id: String,
}

impl Lease {
    /// Who holds the cluster, in words.
    pub fn holder(&self) -> String {
        format!("update run {} of fleet {}", self.run, self.fleet)
    }
}

/// A replica's hold on driving a run, as the store granted it: every write of the run names it,
/// and is refused once another replica has taken the run (its fence is then higher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driving {
    pub replica: String,
    pub fence: i64,
}

/// One decision to commit (`RunStore::save_run`).
#[derive(Debug, Clone, Copy)]
pub struct RunChange<'a> {
    /// The run as it is now (its uid and name are `previous`'s).
    pub run: &'a UpdateRun,
    /// Whether anything but members changed (the run's, a stage's or a group's state, a gate,
    /// a wait): the run's body is written only then; most steps of a wide run change members
    /// alone.
    pub outside_members: bool,
    /// Where the members the change touched sit: only their rows are written.
    pub members: &'a [app::model::run::Place],
    /// Members whose upgrades ended: their clusters' leases go back.
    pub ended: &'a [&'a MemberName],
    pub events: &'a [RunEvent],
    pub effects: &'a [Effect],
    pub wake_at: Option<Timestamp>,
    /// The stored command (sent through another replica) this change carries out, and its
    /// answer: written in the same transaction, so it is never carried out twice.
    pub answers: Option<(i64, &'a str)>,
}

/// An operator command waiting in the store for the run's driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCommand {
    pub id: i64,
    pub command: String,
    /// The request's audit entry (JSON), written with the change the command makes.
    pub audit: Option<String>,
}

/// A stored command's answer, and the audit entry written with its change (if it made one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandAnswer {
    pub answer: String,
    pub audit_id: Option<i64>,
}

/// An event of a run's timeline, numbered in commit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: i64,
    pub event: RunEvent,
}

/// Update runs and their timelines.
#[async_trait::async_trait]
pub trait RunStore: Send + Sync + 'static {
    /// Fails with `RunExists`, or `NotFound` when the fleet is gone.
    async fn create_run(
        &self,
        fleet: &FleetName,
        run: &UpdateRun,
        now: Timestamp,
    ) -> StoreResult<StoredRun>;
    async fn get_run(&self, fleet: &FleetName, name: &RunName) -> StoreResult<Option<StoredRun>>;
    /// The run as its row holds it, each group's member list left empty: what a command needs
    /// (its uid, its pass) without reading every member of a run that may have 100,000.
    async fn get_run_without_members(
        &self,
        fleet: &FleetName,
        name: &RunName,
    ) -> StoreResult<Option<StoredRun>>;
    /// Whether the fleet has a run of this name (without reading it).
    async fn run_exists(&self, fleet: &FleetName, name: &RunName) -> StoreResult<bool>;
    /// The passes of completed runs with a pass after them (`hops: PerStrategyPass`), with
    /// their fleets: of the run `only` names, or of every fleet.
    async fn completed_passes(
        &self,
        only: Option<(&FleetName, &RunName)>,
    ) -> StoreResult<Vec<(FleetName, app::model::run::RunHop)>>;
    /// Records that `run`'s next pass was created and started: the chain is not continued from
    /// `run` again (a person deleting the next pass ends it).
    async fn link_pass(&self, fleet: &FleetName, run: &RunName, next: &RunName) -> StoreResult<()>;
    /// A run's state and pass, without reading the run; `None` when there is no such run.
    async fn pass_of(
        &self,
        fleet: &FleetName,
        name: &RunName,
    ) -> StoreResult<Option<(app::model::run::State, Option<app::model::run::RunHop>)>>;
    async fn list_runs(&self, fleet: &FleetName) -> StoreResult<Vec<StoredRun>>;
    /// Deletes the run if it is still `previous` (same uid, same etag); `Concurrent` when it
    /// changed meanwhile, `NotFound` when it is gone.
    async fn delete_run(&self, fleet: &FleetName, previous: &StoredRun) -> StoreResult<()>;
    /// Replaces the run if its etag is still `previous.etag` (writing the members
    /// `change.members` names, not the others), appending `events` to its timeline, in one
    /// transaction; the new etag. Each upgrade `effects` start takes its cluster's lease (the
    /// runtime starts the operation after the commit, and again after a crash, by following the
    /// run); each member in `change.ended` gives its lease back. `Concurrent` when another write
    /// came first, `ClusterBusy` when another run holds a cluster an upgrade needs,
    /// `NotDriving` when `driving` no longer holds the run.
    async fn save_run(
        &self,
        fleet: &FleetName,
        previous: &StoredRun,
        driving: &Driving,
        change: RunChange<'_>,
    ) -> StoreResult<i64>;
    /// Every run not completed, in every fleet, without its members (what a check of the whole
    /// installation reads: which versions runs still need, say).
    async fn unfinished_runs(&self) -> StoreResult<Vec<(FleetName, UpdateRun)>>;
    /// Every cluster lease: the clusters some run is upgrading now.
    async fn cluster_leases(&self) -> StoreResult<Vec<Lease>>;
    /// The leases on these clusters held by runs other than `except_run` (a uid): what a
    /// decision about them needs, however many upgrades other runs have in flight.
    async fn leases_of(
        &self,
        clusters: &[ClusterResourceId],
        except_run: &str,
    ) -> StoreResult<Vec<Lease>>;
    /// The lease on one cluster, if a run is upgrading it.
    async fn lease_of(&self, cluster: &ClusterResourceId) -> StoreResult<Option<Lease>>;
    /// The leases held by runs of one fleet.
    async fn fleet_leases(&self, fleet: &FleetName) -> StoreResult<Vec<Lease>>;
    /// Runs that are running or stopping, in every fleet, that no replica holds now (or that
    /// `replica` held before it restarted): the runtime drives them.
    async fn runs_to_drive(&self, replica: &str) -> StoreResult<Vec<(FleetName, RunName)>>;
    /// Takes the run `uid` for `replica` for `hold` (by the database's clock) unless another
    /// replica holds it now: the fence its writes must carry and the run's etag as it was
    /// taken, `None` when another holds it.
    async fn take_run(
        &self,
        uid: &str,
        replica: &str,
        hold: std::time::Duration,
    ) -> StoreResult<Option<(i64, i64)>>;
    /// Extends every hold of `replica` to `hold` from now: the runs it still holds, with their
    /// fences (a run missing was taken by another replica).
    async fn renew_runs(
        &self,
        replica: &str,
        hold: std::time::Duration,
    ) -> StoreResult<Vec<(String, i64)>>;
    /// Gives the run back at once (rather than when the hold runs out), if `driving` holds it.
    async fn release_run(&self, uid: &str, driving: &Driving) -> StoreResult<()>;
    /// Gives back every run `replica` holds (it is shutting down); how many.
    async fn release_runs(&self, replica: &str) -> StoreResult<u64>;
    /// The replica driving the run now, if one holds it.
    async fn driver_of(&self, uid: &str) -> StoreResult<Option<String>>;
    /// Stores a command for the run `uid` (its driver is another replica); its id.
    async fn send_command(
        &self,
        uid: &str,
        command: &str,
        audit: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<i64>;
    /// The answer to a stored command, once its run's driver gave one; `NotFound` when the
    /// command is gone (its run was deleted, or it was withdrawn).
    async fn command_answer(&self, id: i64) -> StoreResult<Option<CommandAnswer>>;
    /// Withdraws a command not answered yet; `false` when it was answered (or is gone).
    async fn withdraw_command(&self, id: i64) -> StoreResult<bool>;
    /// Forgets a command whose answer was read.
    async fn forget_command(&self, id: i64) -> StoreResult<()>;
    /// The run's stored commands not answered yet, oldest first.
    async fn waiting_commands(&self, uid: &str) -> StoreResult<Vec<StoredCommand>>;
    /// The runs `replica` drives that have stored commands waiting.
    async fn runs_with_commands(&self, replica: &str) -> StoreResult<Vec<(FleetName, RunName)>>;
    /// Answers a stored command that changed nothing, if `driving` still holds its run.
    async fn answer_command(&self, id: i64, driving: &Driving, answer: &str) -> StoreResult<()>;
    /// At most `limit` of the run's events after `after` (an event id; 0 for all), oldest first.
    async fn run_events(
        &self,
        fleet: &FleetName,
        name: &RunName,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>>;
    /// The id of the run's newest event (0 when it has none): where a follower that has just
    /// read the run picks its timeline up.
    async fn last_event_id(&self, fleet: &FleetName, name: &RunName) -> StoreResult<i64>;
}
