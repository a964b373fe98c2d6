//! An update run as the engine keeps it: the frozen spec and layout, and a state per level whose
//! variants carry their data. The API's `{state, startTime, completedTime, error}` view is
//! derived from these (see `State` and the `status` methods).

use super::gate::GateRun;
use super::member::ClusterResourceId;
use super::names::MemberName;
use super::target::UpgradeTarget;
use super::time::{FleetTime, Timestamp};
use super::update::RunSpec;
use super::version::{ImageFamily, ImageRelease};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The one state vocabulary users see, for run, stage, group, member and wait alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum State {
    NotStarted,
    Running,
    Stopping,
    Stopped,
    Skipped,
    Failed,
    Pending,
    Completed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum RunState {
    NotStarted,
    Running {
        started_at: Timestamp,
    },
    /// In-flight upgrades finish; nothing new starts.
    Stopping {
        started_at: Timestamp,
    },
    Stopped {
        started_at: Timestamp,
        stopped_at: Timestamp,
    },
    Failed {
        started_at: Timestamp,
        failed_at: Timestamp,
        error: String,
    },
    Completed {
        started_at: Timestamp,
        completed_at: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum StageState {
    NotStarted,
    Running {
        started_at: Timestamp,
    },
    Completed {
        started_at: Timestamp,
        completed_at: Timestamp,
    },
    Failed {
        started_at: Timestamp,
        failed_at: Timestamp,
    },
    Skipped {
        at: Timestamp,
        /// When it had started, if it had (skipped while running): its start stays on record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum WaitState {
    NotStarted,
    Running {
        started_at: Timestamp,
        until: Timestamp,
    },
    Completed {
        started_at: Timestamp,
        completed_at: Timestamp,
    },
    Skipped {
        at: Timestamp,
        /// When it had started, if it had (skipped while running): its start stays on record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum GroupState {
    NotStarted,
    Running {
        started_at: Timestamp,
    },
    Completed {
        started_at: Timestamp,
        completed_at: Timestamp,
    },
    Failed {
        started_at: Timestamp,
        failed_at: Timestamp,
    },
    Skipped {
        at: Timestamp,
        /// When it had started, if it had (skipped while running): its start stays on record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum SkippedBy {
    /// The engine found nothing to do (already at target).
    System,
    Operator,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum MemberState {
    NotStarted,
    /// Waiting for something outside the run: a closed window (`until` is its opening), a
    /// version not yet in the region, a cluster another run is upgrading, a provider that does
    /// not answer now (`waiting_on` says which of the last two).
    Pending {
        reason: String,
        since: Timestamp,
        until: Option<Timestamp>,
        /// What will end by itself, so the group waits for the member as it would for a window.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waiting_on: Option<WaitingOn>,
    },
    Upgrading {
        attempt: u32,
        started_at: Timestamp,
        target: UpgradeTarget,
        /// The provider has not answered about this upgrade since then (it is retried).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_trouble: Option<ProviderTrouble>,
        /// For a member taken through several minor versions: which hop this upgrade is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hop: Option<Hop>,
    },
    Completed {
        attempt: u32,
        started_at: Timestamp,
        completed_at: Timestamp,
    },
    Failed {
        attempt: Option<u32>,
        /// When the failed attempt had started (none when the member failed before one could).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
        failed_at: Timestamp,
        message: String,
    },
    Skipped {
        reason: String,
        at: Timestamp,
        by: SkippedBy,
    },
}

/// Which of a member's hops an upgrade is (see `engine::hops`), and when its first began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    /// 1 for the first.
    pub number: u32,
    pub of: u32,
    /// When the member's first hop started: its turn's start, for the member's record.
    pub first_started_at: Timestamp,
}

impl Hop {
    /// Whether another hop follows this one.
    pub fn more_to_go(&self) -> bool {
        self.number < self.of
    }
}

/// One pass of a chain of runs (`hops: PerStrategyPass`): a fleet more than one minor behind
/// its target goes through the whole strategy once per minor, every member of the pass taken
/// to the newest patch of `minor` (the last pass: to the run's own target) before the next pass
/// starts, so each minor is proven in the first stages before the last ones get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunHop {
    /// 1 for the first pass.
    pub number: u32,
    pub of: u32,
    /// The minor version (of the target's major) this pass takes its members to.
    pub minor: u32,
    /// The chain's first run, the one a person (or a catch-up) created: later passes are
    /// named after it (`{first}-hop-2`, …).
    pub first_run: String,
}

impl RunHop {
    /// Whether a pass follows this one.
    pub fn more_to_go(&self) -> bool {
        self.number < self.of
    }

    /// The name of pass `number` of the chain.
    pub fn run_name(first_run: &str, number: u32) -> String {
        match number {
            1 => first_run.to_owned(),
            n => format!("{first_run}-hop-{n}"),
        }
    }

    /// The pass after this one, if there is one.
    pub fn next(&self) -> Option<RunHop> {
        self.more_to_go().then(|| RunHop {
            number: self.number + 1,
            of: self.of,
            minor: self.minor + 1,
            first_run: self.first_run.clone(),
        })
    }
}

/// What a pending member waits for that will end by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum WaitingOn {
    /// Another run is upgrading the cluster (`holder` names it).
    OtherRun { holder: String },
    /// The provider could not observe the cluster now; it is asked again.
    Provider,
}

/// A provider that has not answered about an upgrade in flight since `since`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProviderTrouble {
    pub since: Timestamp,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberRun {
    pub name: MemberName,
    pub cluster_resource_id: ClusterResourceId,
    /// Upgrade attempts started so far; the next one is `attempts + 1`.
    pub attempts: u32,
    pub state: MemberState,
}

/// A stage's or group's `maxConcurrency` and `maxAllowedFailures`, resolved to member counts
/// when the run was created (percentages of the members it had then). Unset concurrency is
/// one member at a time for a group and no ceiling for a stage; for budgets see
/// [`crate::model::strategy::UpdateStage::max_allowed_failures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupRun {
    pub name: String,
    pub members: Vec<MemberRun>,
    pub state: GroupState,
    #[serde(default, skip_serializing_if = "Limits::is_unset")]
    pub limits: Limits,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before_gates: Vec<GateRun>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_gates: Vec<GateRun>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StageRun {
    pub name: String,
    pub after_stage_wait_in_seconds: i64,
    pub groups: Vec<GroupRun>,
    pub state: StageState,
    pub wait: WaitState,
    #[serde(default, skip_serializing_if = "Limits::is_unset")]
    pub limits: Limits,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before_gates: Vec<GateRun>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_gates: Vec<GateRun>,
}

impl Limits {
    pub fn is_unset(&self) -> bool {
        *self == Limits::default()
    }
}

impl GroupRun {
    /// How many of its members may upgrade at once.
    pub fn concurrency(&self) -> usize {
        self.limits.max_concurrency.map_or(1, |n| n as usize)
    }

    /// The failures the group tolerates, if it has a budget of its own: its own, or 0 (fail-fast)
    /// when neither it nor its stage sets one.
    pub fn failure_budget(&self, stage: &Limits) -> Option<usize> {
        match (self.limits.max_allowed_failures, stage.max_allowed_failures) {
            (Some(own), _) => Some(own as usize),
            (None, None) => Some(0),
            (None, Some(_)) => None,
        }
    }

    pub fn failure_count(&self) -> usize {
        self.members.iter().filter(|m| m.state.is_failed()).count()
    }

    pub fn in_flight(&self) -> usize {
        self.members.iter().filter(|m| m.state.in_flight()).count()
    }
}

impl StageRun {
    pub fn failure_count(&self) -> usize {
        self.groups.iter().map(GroupRun::failure_count).sum()
    }

    pub fn in_flight(&self) -> usize {
        self.groups.iter().map(GroupRun::in_flight).sum()
    }
}

/// A run as a page shows it: the run, the fleet clock read with it, and the id of an event the
/// run already reflects, after which the page follows the run's event stream (so it is not sent
/// the whole history again; newer events it might also see only cost a refetch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub run: UpdateRun,
    pub time: FleetTime,
    pub events_through: i64,
    /// What the run has left from `time`, if nothing fails (or, for a run not moving, if it
    /// were started now): the ETA and the schedule of what remains.
    #[serde(default)]
    pub forecast: super::forecast::Forecast,
}

/// How far the upgrades in flight have come, as their provider reports them: what a run page
/// polls between the run's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunProgress {
    pub time: FleetTime,
    pub members: BTreeMap<MemberName, super::target::UpgradeProgress>,
}

/// An update run: what was asked (frozen at creation) and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateRun {
    pub name: String,
    /// Unique for all time, never reused: a run deleted and created again under the same name,
    /// or one of the same name in another fleet, has another. Operation ids are built from it.
    /// Runs stored before uids existed read as empty here; the store fills in the column's.
    #[serde(default)]
    pub uid: String,
    /// The stored strategy the stages were copied from, if any (its later edits do not apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy_id: Option<String>,
    /// The auto-upgrade profile that generated the run (`/fleets/{fleet}/autoUpgradeProfiles/
    /// {name}`), if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_upgrade_profile_id: Option<String>,
    /// The run a catch-up run was made from (`/fleets/{fleet}/updateRuns/{name}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up_of: Option<String>,
    /// Which pass of a chain the run is, when its `hops` is `PerStrategyPass` and some member
    /// is more than one minor behind: each pass a run of its own through the whole strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<RunHop>,
    pub spec: RunSpec,
    pub state: RunState,
    pub stages: Vec<StageRun>,
    /// Members whose group no stage names, frozen at creation: never touched.
    pub not_in_any_stage: Vec<MemberName>,
    /// `Consistent` selection: the release per image family, fixed when the run first starts.
    pub selected_images: Option<BTreeMap<ImageFamily, ImageRelease>>,
    /// The run-level `maxAllowedFailures`, resolved at creation; no limit of its own when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<u32>,
}

/// What changed, for the run's timeline and the event stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "type", content = "name")]
pub enum Subject {
    Run,
    Stage(String),
    Group(String),
    Member(MemberName),
    AfterStageWait(String),
    /// A gate, by its name.
    Gate(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    pub at: Timestamp,
    pub subject: Subject,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A member event's update group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// A member event's state before it (the same as `state` when only the message changed):
    /// with `group`, what lets a page keep its counts from the event stream alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<State>,
}

impl State {
    /// Completed or skipped: nothing is left to do.
    pub fn is_done(self) -> bool {
        match self {
            State::Completed | State::Skipped => true,
            State::NotStarted
            | State::Running
            | State::Stopping
            | State::Stopped
            | State::Failed
            | State::Pending => false,
        }
    }
}

impl MemberState {
    pub fn public(&self) -> State {
        match self {
            MemberState::NotStarted => State::NotStarted,
            MemberState::Pending { .. } => State::Pending,
            MemberState::Upgrading { .. } => State::Running,
            MemberState::Completed { .. } => State::Completed,
            MemberState::Failed { .. } => State::Failed,
            MemberState::Skipped { .. } => State::Skipped,
        }
    }

    /// Completed or skipped: nothing more will happen to it in this run.
    pub fn is_done(&self) -> bool {
        self.public().is_done()
    }

    pub fn in_flight(&self) -> bool {
        matches!(self, MemberState::Upgrading { .. })
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, MemberState::Failed { .. })
    }

    pub fn message(&self) -> Option<String> {
        match self {
            MemberState::Pending { reason, .. } | MemberState::Skipped { reason, .. } => {
                Some(reason.clone())
            }
            MemberState::Failed { message, .. } => Some(message.clone()),
            MemberState::Upgrading {
                provider_trouble: Some(trouble),
                hop,
                ..
            } => Some(format!(
                "{}waiting for the provider since {}: {}",
                hop.map_or_else(String::new, |h| format!("hop {} of {}; ", h.number, h.of)),
                trouble.since,
                trouble.message
            )),
            MemberState::Upgrading {
                hop: Some(hop),
                target,
                ..
            } => Some(match &target.control_plane {
                Some(step) => format!(
                    "hop {} of {}: Kubernetes {} → {}",
                    hop.number, hop.of, step.from, step.to
                ),
                None => format!("hop {} of {}", hop.number, hop.of),
            }),
            MemberState::NotStarted
            | MemberState::Upgrading { .. }
            | MemberState::Completed { .. } => None,
        }
    }
}

impl GroupState {
    pub fn public(&self) -> State {
        match self {
            GroupState::NotStarted => State::NotStarted,
            GroupState::Running { .. } => State::Running,
            GroupState::Completed { .. } => State::Completed,
            GroupState::Failed { .. } => State::Failed,
            GroupState::Skipped { .. } => State::Skipped,
        }
    }

    pub fn is_finished(&self) -> bool {
        match self {
            GroupState::Completed { .. }
            | GroupState::Skipped { .. }
            | GroupState::Failed { .. } => true,
            GroupState::NotStarted | GroupState::Running { .. } => false,
        }
    }
}

impl StageState {
    pub fn public(&self) -> State {
        match self {
            StageState::NotStarted => State::NotStarted,
            StageState::Running { .. } => State::Running,
            StageState::Completed { .. } => State::Completed,
            StageState::Failed { .. } => State::Failed,
            StageState::Skipped { .. } => State::Skipped,
        }
    }

    /// Completed or skipped: the next stage may go.
    pub fn is_done(&self) -> bool {
        self.public().is_done()
    }
}

impl WaitState {
    pub fn public(&self) -> State {
        match self {
            WaitState::NotStarted => State::NotStarted,
            WaitState::Running { .. } => State::Running,
            WaitState::Completed { .. } => State::Completed,
            WaitState::Skipped { .. } => State::Skipped,
        }
    }

    /// Completed or skipped: the stage after may go.
    pub fn is_done(&self) -> bool {
        self.public().is_done()
    }
}

impl RunState {
    pub fn public(&self) -> State {
        match self {
            RunState::NotStarted => State::NotStarted,
            RunState::Running { .. } => State::Running,
            RunState::Stopping { .. } => State::Stopping,
            RunState::Stopped { .. } => State::Stopped,
            RunState::Failed { .. } => State::Failed,
            RunState::Completed { .. } => State::Completed,
        }
    }

    pub fn started_at(&self) -> Option<Timestamp> {
        match self {
            RunState::NotStarted => None,
            RunState::Running { started_at }
            | RunState::Stopping { started_at }
            | RunState::Stopped { started_at, .. }
            | RunState::Failed { started_at, .. }
            | RunState::Completed { started_at, .. } => Some(*started_at),
        }
    }
}

impl UpdateRun {
    pub fn members(&self) -> impl Iterator<Item = &MemberRun> {
        self.stages
            .iter()
            .flat_map(|s| s.groups.iter().flat_map(|g| g.members.iter()))
    }

    /// Every member with its place.
    pub fn placed(&self) -> impl Iterator<Item = (Place, &MemberRun)> {
        self.stages.iter().enumerate().flat_map(|(s, stage)| {
            stage.groups.iter().enumerate().flat_map(move |(g, group)| {
                group
                    .members
                    .iter()
                    .enumerate()
                    .map(move |(m, member)| ((s, g, m), member))
            })
        })
    }

    /// The member at `place`, if the run has one there.
    pub fn member_at(&self, (s, g, m): Place) -> Option<&MemberRun> {
        self.stages.get(s)?.groups.get(g)?.members.get(m)
    }

    /// The clusters of the run's members.
    pub fn cluster_ids(&self) -> Vec<super::member::ClusterResourceId> {
        self.members()
            .map(|m| m.cluster_resource_id.clone())
            .collect()
    }

    pub fn in_flight(&self) -> usize {
        self.members().filter(|m| m.state.in_flight()).count()
    }

    pub fn failure_count(&self) -> usize {
        self.stages.iter().map(StageRun::failure_count).sum()
    }

    /// Every gate of the run with where it is: stage, group (for a group's gates).
    pub fn gates(&self) -> impl Iterator<Item = (&StageRun, Option<&GroupRun>, &GateRun)> {
        self.stages.iter().flat_map(|stage| {
            let own = stage
                .before_gates
                .iter()
                .chain(&stage.after_gates)
                .map(move |gate| (stage, None, gate));
            let groups = stage.groups.iter().flat_map(move |group| {
                group
                    .before_gates
                    .iter()
                    .chain(&group.after_gates)
                    .map(move |gate| (stage, Some(group), gate))
            });
            own.chain(groups)
        })
    }

    /// Whether the run may be deleted now, or why not: not while it runs or stops, nor while
    /// an upgrade of it is in flight (a failed run's other groups may still be finishing one):
    /// deleting it would let go of a cluster still being upgraded.
    pub fn deletable(&self) -> Result<(), String> {
        match self.state {
            RunState::Running { .. } | RunState::Stopping { .. } => {
                return Err(format!(
                    "update run {} is {}; stop it before deleting it",
                    self.name,
                    if matches!(self.state, RunState::Running { .. }) {
                        "running"
                    } else {
                        "stopping"
                    }
                ));
            }
            RunState::NotStarted
            | RunState::Stopped { .. }
            | RunState::Failed { .. }
            | RunState::Completed { .. } => {}
        }
        match self.members().find(|m| m.state.in_flight()) {
            Some(member) => Err(format!(
                "update run {} is still upgrading member {}; delete it once that upgrade has finished",
                self.name, member.name
            )),
            None => Ok(()),
        }
    }
}

/// The idempotency key of one upgrade attempt, `{run uid}/{member}/{attempt}`: the engine puts it
/// on the effect, the provider starts an operation id once, the runtime asks about it, the
/// status shows it. Built from the run's uid, never its name, so no other run (a namesake in
/// another fleet, or one created again after a delete) can ever be answered for it.
/// Where a member sits in its run: stage, group and index in the group. Fixed at creation, so a
/// place found once stays good for the run's life.
pub type Place = (usize, usize, usize);

pub fn operation_id(run_uid: &str, member: &MemberName, attempt: u32) -> String {
    format!("{run_uid}/{member}/{attempt}")
}
