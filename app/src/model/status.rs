//! The API's view of a run: every level as `{state, startTime, completedTime, error}`, in the
//! shape ARM's update runs return under `properties.status`. Derived from the run's states, so
//! the REST API, the CLI and the browser all show the same thing.

use super::gate::{GateRun, GateState, GateType};
use super::member::ClusterResourceId;
use super::names::MemberName;
use super::run::{
    GroupRun, GroupState, MemberRun, MemberState, RunState, StageRun, StageState, State, UpdateRun,
    WaitState,
};
use super::time::Timestamp;
use super::version::NodeImageVersion;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatusError {
    pub code: String,
    pub message: String,
}

impl StatusError {
    /// A member's failed upgrade, as its status says it.
    pub fn upgrade_failed(message: String) -> Self {
        Self {
            code: "UpgradeFailed".into(),
            message,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub state: State,
    pub start_time: Option<Timestamp>,
    pub completed_time: Option<Timestamp>,
    pub error: Option<StatusError>,
}

impl Status {
    fn new(state: State, start_time: Option<Timestamp>, completed_time: Option<Timestamp>) -> Self {
        Self {
            state,
            start_time,
            completed_time,
            error: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    pub name: MemberName,
    pub cluster_resource_id: ClusterResourceId,
    pub status: Status,
    pub message: Option<String>,
    pub operation_id: Option<String>,
}

/// A gate as a run's status lists it (Azure's `{displayName, gateId, status}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateStatus {
    pub display_name: String,
    pub gate_id: String,
    pub gate_type: GateType,
    /// `startTime` is when the run reached it.
    pub status: Status,
    /// A ScheduledStart gate's completion time, once reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_start_time: Option<Timestamp>,
}

fn gate_status(gate: &GateRun) -> GateStatus {
    let (start, end, scheduled) = match &gate.state {
        GateState::Pending {
            reached_at,
            completes_at,
            ..
        } => (*reached_at, None, *completes_at),
        GateState::Completed { at, .. } => (None, Some(*at), None),
        GateState::Skipped { at, .. } => (None, Some(*at), None),
    };
    GateStatus {
        display_name: gate.config.label(),
        gate_id: gate.name.clone(),
        gate_type: gate.config.kind,
        status: Status::new(gate.public(), start, end),
        scheduled_start_time: scheduled,
    }
}

fn gate_statuses(gates: &[GateRun]) -> Vec<GateStatus> {
    gates.iter().map(gate_status).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupStatus {
    pub name: String,
    pub status: Status,
    pub members: Vec<MemberStatus>,
    /// Members upgrading at once, as resolved when the run was created.
    #[serde(default)]
    pub max_concurrency: Option<u32>,
    /// The group's own failure budget, as resolved (0 when neither it nor its stage sets one).
    #[serde(default)]
    pub max_allowed_failures: Option<u32>,
    #[serde(default)]
    pub failure_count: usize,
    #[serde(default)]
    pub before_gates: Vec<GateStatus>,
    #[serde(default)]
    pub after_gates: Vec<GateStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaitStatus {
    pub status: Status,
    pub wait_duration_in_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StageStatus {
    pub name: String,
    pub status: Status,
    pub after_stage_wait_status: WaitStatus,
    pub groups: Vec<GroupStatus>,
    /// The ceiling across the stage's groups, as resolved; none when unset.
    #[serde(default)]
    pub max_concurrency: Option<u32>,
    #[serde(default)]
    pub max_allowed_failures: Option<u32>,
    #[serde(default)]
    pub failure_count: usize,
    #[serde(default)]
    pub before_gates: Vec<GateStatus>,
    #[serde(default)]
    pub after_gates: Vec<GateStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct NodeImageSelectionStatus {
    pub selected_node_image_versions: Vec<NodeImageVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunStatus {
    pub status: Status,
    pub stages: Vec<StageStatus>,
    pub node_image_selection: NodeImageSelectionStatus,
    /// The run-level budget (beyond Azure), as resolved; none when unset.
    #[serde(default)]
    pub max_allowed_failures: Option<u32>,
    #[serde(default)]
    pub failure_count: usize,
}

/// While the run is stopping or stopped, levels still marked running show that instead.
fn as_run_sees_it(state: State, run: &RunState) -> State {
    match (state, run) {
        (State::Running, RunState::Stopping { .. }) => State::Stopping,
        (State::Running, RunState::Stopped { .. }) => State::Stopped,
        _ => state,
    }
}

pub fn run_status(state: &RunState) -> Status {
    let mut status = Status::new(state.public(), state.started_at(), None);
    match state {
        RunState::Stopped { stopped_at, .. } => status.completed_time = Some(*stopped_at),
        RunState::Completed { completed_at, .. } => status.completed_time = Some(*completed_at),
        RunState::Failed {
            failed_at, error, ..
        } => {
            status.completed_time = Some(*failed_at);
            status.error = Some(StatusError {
                code: "UpdateRunFailed".into(),
                message: error.clone(),
            });
        }
        RunState::NotStarted | RunState::Running { .. } | RunState::Stopping { .. } => {}
    }
    status
}

/// A member of `run` as its status shows it.
pub fn member_status(run: &UpdateRun, member: &MemberRun) -> MemberStatus {
    let (start, end) = match &member.state {
        MemberState::NotStarted => (None, None),
        MemberState::Pending { since, .. } => (Some(*since), None),
        MemberState::Upgrading { started_at, .. } => (Some(*started_at), None),
        MemberState::Completed {
            started_at,
            completed_at,
            ..
        } => (Some(*started_at), Some(*completed_at)),
        MemberState::Failed {
            started_at,
            failed_at,
            ..
        } => (*started_at, Some(*failed_at)),
        MemberState::Skipped { at, .. } => (None, Some(*at)),
    };
    let attempt = match &member.state {
        MemberState::Upgrading { attempt, .. } | MemberState::Completed { attempt, .. } => {
            Some(*attempt)
        }
        MemberState::Failed { attempt, .. } => *attempt,
        MemberState::NotStarted | MemberState::Pending { .. } | MemberState::Skipped { .. } => None,
    };
    let mut status = Status::new(
        as_run_sees_it(member.state.public(), &run.state),
        start,
        end,
    );
    if let MemberState::Failed { message, .. } = &member.state {
        status.error = Some(StatusError::upgrade_failed(message.clone()));
    }
    MemberStatus {
        name: member.name.clone(),
        cluster_resource_id: member.cluster_resource_id.clone(),
        status,
        message: member.state.message(),
        operation_id: attempt.map(|a| super::run::operation_id(&run.uid, &member.name, a)),
    }
}

fn group_times(state: &GroupState) -> (Option<Timestamp>, Option<Timestamp>) {
    match state {
        GroupState::NotStarted => (None, None),
        GroupState::Running { started_at } => (Some(*started_at), None),
        GroupState::Completed {
            started_at,
            completed_at,
        } => (Some(*started_at), Some(*completed_at)),
        GroupState::Failed {
            started_at,
            failed_at,
        } => (Some(*started_at), Some(*failed_at)),
        GroupState::Skipped { at, started_at } => (*started_at, Some(*at)),
    }
}

fn stage_times(state: &StageState) -> (Option<Timestamp>, Option<Timestamp>) {
    match state {
        StageState::NotStarted => (None, None),
        StageState::Running { started_at } => (Some(*started_at), None),
        StageState::Completed {
            started_at,
            completed_at,
        } => (Some(*started_at), Some(*completed_at)),
        StageState::Failed {
            started_at,
            failed_at,
        } => (Some(*started_at), Some(*failed_at)),
        StageState::Skipped { at, started_at } => (*started_at, Some(*at)),
    }
}

fn wait_times(state: &WaitState) -> (Option<Timestamp>, Option<Timestamp>) {
    match state {
        WaitState::NotStarted => (None, None),
        WaitState::Running { started_at, .. } => (Some(*started_at), None),
        WaitState::Completed {
            started_at,
            completed_at,
        } => (Some(*started_at), Some(*completed_at)),
        WaitState::Skipped { at, started_at } => (*started_at, Some(*at)),
    }
}

/// A group of `stage` as its status shows it, with `members` (all of them, or none for a page
/// that lists them apart).
pub fn group_status(
    run: &UpdateRun,
    stage: &StageRun,
    group: &GroupRun,
    members: Vec<MemberStatus>,
) -> GroupStatus {
    let (start, end) = group_times(&group.state);
    GroupStatus {
        name: group.name.clone(),
        status: Status::new(as_run_sees_it(group.state.public(), &run.state), start, end),
        members,
        max_concurrency: Some(group.concurrency() as u32),
        max_allowed_failures: group.failure_budget(&stage.limits).map(|b| b as u32),
        failure_count: group.failure_count(),
        before_gates: gate_statuses(&group.before_gates),
        after_gates: gate_statuses(&group.after_gates),
    }
}

/// The state and times of a stage of `run`, without its groups.
pub fn stage_own_status(run: &UpdateRun, stage: &StageRun) -> Status {
    let (start, end) = stage_times(&stage.state);
    Status::new(as_run_sees_it(stage.state.public(), &run.state), start, end)
}

/// A stage of `run` as its status shows it.
fn stage_status(run: &UpdateRun, stage: &StageRun) -> StageStatus {
    let (wait_start, wait_end) = wait_times(&stage.wait);
    StageStatus {
        name: stage.name.clone(),
        status: stage_own_status(run, stage),
        after_stage_wait_status: WaitStatus {
            status: Status::new(
                as_run_sees_it(stage.wait.public(), &run.state),
                wait_start,
                wait_end,
            ),
            wait_duration_in_seconds: stage.after_stage_wait_in_seconds,
        },
        groups: stage
            .groups
            .iter()
            .map(|group| {
                let members = group.members.iter().map(|m| member_status(run, m));
                group_status(run, stage, group, members.collect())
            })
            .collect(),
        max_concurrency: stage.limits.max_concurrency,
        max_allowed_failures: stage.limits.max_allowed_failures,
        failure_count: stage.failure_count(),
        before_gates: gate_statuses(&stage.before_gates),
        after_gates: gate_statuses(&stage.after_gates),
    }
}

impl UpdateRun {
    /// `Consistent` selection: the node image versions fixed at the start (none before).
    pub fn selected_image_versions(&self) -> Vec<NodeImageVersion> {
        self.selected_images
            .iter()
            .flatten()
            .map(|(family, release)| NodeImageVersion::new(family.clone(), release.clone()))
            .collect()
    }

    /// The ARM-shaped status tree of this run.
    pub fn status(&self) -> RunStatus {
        let selected = self.selected_image_versions();
        RunStatus {
            status: run_status(&self.state),
            stages: self.stages.iter().map(|s| stage_status(self, s)).collect(),
            node_image_selection: NodeImageSelectionStatus {
                selected_node_image_versions: selected,
            },
            max_allowed_failures: self.max_allowed_failures,
            failure_count: self.failure_count(),
        }
    }
}

/// A run as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub name: String,
    pub status: Status,
    pub update: super::update::ManagedClusterUpdate,
    pub update_strategy_id: Option<String>,
    /// The auto-upgrade profile that generated the run, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_upgrade_profile_id: Option<String>,
    /// The run a catch-up run takes on from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up_of: Option<String>,
    /// The pass of a chain the run is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<super::run::RunHop>,
    /// What a placement run rolls out (its `update` is then not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<super::rollout::PlacementRollout>,
    /// Members completed or skipped, of all members in the run.
    pub done: usize,
    pub total: usize,
    /// Of those: upgraded by this run, skipped (by the operator or the system), failed.
    #[serde(default)]
    pub upgraded: usize,
    #[serde(default)]
    pub skipped: usize,
    #[serde(default)]
    pub failed: usize,
}

impl UpdateRun {
    pub fn summary(&self) -> RunSummary {
        RunSummary {
            name: self.name.clone(),
            status: run_status(&self.state),
            update: self.spec.update.clone(),
            update_strategy_id: self.update_strategy_id.clone(),
            auto_upgrade_profile_id: self.auto_upgrade_profile_id.clone(),
            catch_up_of: self.catch_up_of.clone(),
            hop: self.hop.clone(),
            placement: self.spec.placement.clone(),
            done: self.members().filter(|m| m.state.is_done()).count(),
            total: self.members().count(),
            upgraded: self.count_in(State::Completed),
            skipped: self.count_in(State::Skipped),
            failed: self.count_in(State::Failed),
        }
    }

    fn count_in(&self, state: State) -> usize {
        self.members().filter(|m| m.state.public() == state).count()
    }
}
