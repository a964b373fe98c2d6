//! A run folded for its page: the header, the controls' answers, every stage and group with its
//! state, counts, limits, gates and skip answer, the timeline's bars and what is ahead — but the
//! members of a group only when the run is small. A page opens a group by asking for a
//! [`MemberPage`]. So what the page carries grows with the run's groups, not its members: a
//! 100,000-member run of 500 groups is a few hundred kilobytes, not tens of megabytes.
//!
//! Every answer here is the engine's ([`controls`], [`can_skip`], [`can_approve`]), computed on
//! the server with the whole run in hand, so the page enables what the engine would accept.

use super::timeline::{Gantt, gantt};
use crate::engine::{
    Controls, Rejection, SkipKind, can_approve, can_skip, can_skip_member, controls,
};
use crate::model::forecast::Forecast;
use crate::model::gate::{GateRun, GateType};
use crate::model::run::{GroupRun, RunState, StageRun, State, UpdateRun, WaitState};
use crate::model::status::{
    GroupStatus, MemberStatus, RunSummary, Status, group_status, member_status, stage_own_status,
};
use crate::model::time::{FleetTime, Timestamp};
use crate::model::version::NodeImageVersion;
use serde::{Deserialize, Serialize};

/// Runs up to this many members list every group's members in the outline (and a page opens
/// them all); larger runs list none, and a group's members are asked for when it is opened.
pub const LIST_MEMBERS_UP_TO: usize = 60;
/// The most members a [`MemberPage`] holds.
pub const MEMBER_PAGE: usize = 100;
/// What is ahead lists at most this many upgrades per group; the rest are counted.
pub const AHEAD_ROWS: usize = 50;
/// ... and at most this many in all, the first groups' first (a 500-group run would otherwise
/// send 25,000 rows no one reads); later groups show their end and their count.
pub const AHEAD_ROWS_IN_ALL: usize = 300;
/// A folded group names at most this many of its members upgrading, and of those failed.
pub const ACTIVE_NAMES: usize = 5;

/// The run page's one read: the outline, the fleet clock read with it, and the id of the newest
/// event it reflects (the page follows the run's event stream from there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunOutlineView {
    pub outline: RunOutline,
    pub time: FleetTime,
    pub events_through: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunOutline {
    /// Name, state, what it upgrades to, and its members counted by outcome.
    pub summary: RunSummary,
    pub state: RunState,
    /// Members upgrading now.
    pub in_flight: usize,
    /// `Consistent` selection: the images fixed at the start.
    pub selected_images: Vec<NodeImageVersion>,
    pub controls: Controls,
    /// Why the run cannot be deleted now, if it cannot.
    pub deletable: Result<(), String>,
    /// Why nothing can be skipped now, when that is the run's state rather than an item's.
    pub skippable: Result<(), Rejection>,
    pub stages: Vec<StageOutline>,
    /// Whether each group lists its members (a small run); otherwise they come in pages.
    pub members_listed: bool,
    pub timeline: Gantt,
    /// What the run has left if nothing fails, folded: at most [`AHEAD_ROWS`] upgrades a group
    /// and [`AHEAD_ROWS_IN_ALL`] in all listed, the rest counted.
    pub ahead: Forecast,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageOutline {
    pub name: String,
    pub status: Status,
    pub max_concurrency: Option<u32>,
    pub max_allowed_failures: Option<u32>,
    pub failure_count: usize,
    pub skip: Result<(), Rejection>,
    pub wait: WaitOutline,
    pub before_gates: Vec<GateLine>,
    pub after_gates: Vec<GateLine>,
    pub groups: Vec<GroupOutline>,
}

/// The wait after a stage (`seconds` 0: it has none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitOutline {
    pub seconds: i64,
    pub state: WaitState,
    pub skip: Result<(), Rejection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupOutline {
    /// Name, state, times, limits, failures and gates' statuses; `members` is empty (see
    /// `listed`).
    pub status: GroupStatus,
    pub counts: MemberCounts,
    pub skip: Result<(), Rejection>,
    pub before_gates: Vec<GateLine>,
    pub after_gates: Vec<GateLine>,
    /// The first members upgrading now and failed, by name, for a folded group.
    pub upgrading: Vec<String>,
    pub failed: Vec<String>,
    /// Every member, when the run is small enough to list them ([`LIST_MEMBERS_UP_TO`]).
    pub listed: Option<MemberPage>,
}

/// A gate with whether the caller could approve it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateLine {
    pub gate: GateRun,
    pub approvable: bool,
}

/// A group's members counted by the state users see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberCounts {
    pub total: usize,
    pub not_started: usize,
    pub pending: usize,
    pub running: usize,
    pub completed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl MemberCounts {
    pub(super) fn add(&mut self, state: State) {
        self.total += 1;
        match state {
            State::NotStarted => self.not_started += 1,
            State::Pending => self.pending += 1,
            State::Running | State::Stopping | State::Stopped => self.running += 1,
            State::Completed => self.completed += 1,
            State::Failed => self.failed += 1,
            State::Skipped => self.skipped += 1,
        }
    }

    /// Completed or skipped: nothing is left to do for them.
    pub fn done(&self) -> usize {
        self.completed + self.skipped
    }
}

/// Some of a group's members, from `offset`, of `total`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberPage {
    pub group: String,
    pub offset: usize,
    pub total: usize,
    pub members: Vec<MemberLine>,
}

/// A member's row: its status, whether it can be skipped now, and whether it is still upgrading
/// while the run stops (the page says so rather than the run's "Stopping").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberLine {
    pub status: MemberStatus,
    pub skip: Result<(), Rejection>,
    pub finishing: bool,
}

/// Folds `run` for its page at `now`, with the engine's `forecast` for it.
pub fn outline(run: &UpdateRun, forecast: Forecast, now: Timestamp) -> RunOutline {
    let listed = run.members().count() <= LIST_MEMBERS_UP_TO;
    let stages = run
        .stages
        .iter()
        .map(|stage| stage_outline(run, stage, listed))
        .collect();
    let skippable = match run.stages.first() {
        Some(stage) => match can_skip(run, SkipKind::Stage, &stage.name) {
            Err(why @ Rejection::NotAllowed { .. }) => Err(why),
            Ok(()) | Err(_) => Ok(()),
        },
        None => Ok(()),
    };
    RunOutline {
        summary: run.summary(),
        state: run.state.clone(),
        in_flight: run.stages.iter().map(StageRun::in_flight).sum(),
        selected_images: run.selected_image_versions(),
        controls: controls(run, now),
        deletable: run.deletable(),
        skippable,
        stages,
        members_listed: listed,
        timeline: gantt(run, &forecast, now),
        ahead: forecast.folded(AHEAD_ROWS, AHEAD_ROWS_IN_ALL),
    }
}

fn stage_outline(run: &UpdateRun, stage: &StageRun, listed: bool) -> StageOutline {
    StageOutline {
        name: stage.name.clone(),
        status: stage_own_status(run, stage),
        max_concurrency: stage.limits.max_concurrency,
        max_allowed_failures: stage.limits.max_allowed_failures,
        failure_count: stage.failure_count(),
        skip: can_skip(run, SkipKind::Stage, &stage.name),
        wait: WaitOutline {
            seconds: stage.after_stage_wait_in_seconds,
            state: stage.wait.clone(),
            skip: can_skip(run, SkipKind::AfterStageWait, &stage.name),
        },
        before_gates: gate_lines(run, &stage.before_gates),
        after_gates: gate_lines(run, &stage.after_gates),
        groups: stage
            .groups
            .iter()
            .map(|group| group_outline(run, stage, group, listed))
            .collect(),
    }
}

fn group_outline(
    run: &UpdateRun,
    stage: &StageRun,
    group: &GroupRun,
    listed: bool,
) -> GroupOutline {
    let mut counts = MemberCounts::default();
    let (mut upgrading, mut failed) = (Vec::new(), Vec::new());
    for member in &group.members {
        counts.add(member.state.public());
        let names = if member.state.in_flight() {
            &mut upgrading
        } else if member.state.is_failed() {
            &mut failed
        } else {
            continue;
        };
        if names.len() < ACTIVE_NAMES {
            names.push(member.name.to_string());
        }
    }
    GroupOutline {
        status: group_status(run, stage, group, Vec::new()),
        counts,
        skip: can_skip(run, SkipKind::Group, &group.name),
        before_gates: gate_lines(run, &group.before_gates),
        after_gates: gate_lines(run, &group.after_gates),
        upgrading,
        failed,
        listed: listed.then(|| page_of(run, group, 0, usize::MAX)),
    }
}

fn gate_lines(run: &UpdateRun, gates: &[GateRun]) -> Vec<GateLine> {
    gates
        .iter()
        .map(|gate| GateLine {
            approvable: gate.config.kind == GateType::Approval
                && gate.reached()
                && can_approve(run, &gate.name).is_ok(),
            gate: gate.clone(),
        })
        .collect()
}

/// Up to [`MEMBER_PAGE`] members of `group` from `offset` (`None` when the run has no such
/// group). An offset past the end is an empty page that still says how many there are.
pub fn member_page(run: &UpdateRun, group: &str, offset: usize) -> Option<MemberPage> {
    let group = run
        .stages
        .iter()
        .flat_map(|s| &s.groups)
        .find(|g| g.name == group)?;
    Some(page_of(run, group, offset, MEMBER_PAGE))
}

fn page_of(run: &UpdateRun, group: &GroupRun, offset: usize, limit: usize) -> MemberPage {
    let stopping = matches!(run.state, RunState::Stopping { .. });
    let members = group
        .members
        .iter()
        .skip(offset)
        .take(limit)
        .map(|member| MemberLine {
            status: member_status(run, member),
            skip: can_skip_member(run, member),
            finishing: stopping && member.state.in_flight(),
        })
        .collect();
    MemberPage {
        group: group.name.clone(),
        offset,
        total: group.members.len(),
        members,
    }
}

#[cfg(test)]
#[path = "outline_tests.rs"]
pub(super) mod tests;
