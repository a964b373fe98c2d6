//! Catch-up: the members a finished run left behind (pending, skipped by a person, failed, or
//! never reached), why, and the run that takes exactly those members to the same targets
//! through the same stages.

use super::targets::is_already_there;
use crate::model::names::MemberName;
use crate::model::run::{MemberState, RunState, SkippedBy, State, UpdateRun};
use crate::model::strategy::{UpdateStage, UpdateStrategy};
use crate::model::update::{NodeImageSelection, NodeImageSelectionType, RunSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A member a run did not take to its target, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct LeftBehind {
    pub name: MemberName,
    /// Its state in the run: `Pending`, `Skipped`, `Failed` or `NotStarted`.
    pub state: State,
    pub reason: String,
}

/// Whether a run in `state` has ended (completed, failed or stopped): what it left behind is
/// then final, and it can be caught up.
pub fn has_ended(state: &RunState) -> bool {
    matches!(
        state,
        RunState::Completed { .. } | RunState::Failed { .. } | RunState::Stopped { .. }
    )
}

/// Whether a catch-up run can be made from `run` now: it has ended; `Err` says why not.
pub fn check_finished(run: &UpdateRun) -> Result<(), String> {
    match run.state {
        _ if has_ended(&run.state) => Ok(()),
        RunState::NotStarted => Err(format!("update run {} has not started", run.name)),
        _ => Err(format!(
            "update run {} has not finished; stop it or let it end first",
            run.name
        )),
    }
}

/// The members `run` left behind, in the run's order. Members it skipped because they were at
/// the target already were not left behind; members it has not reached are, once it has ended.
pub fn left_behind(run: &UpdateRun) -> Vec<LeftBehind> {
    let ended = run.state.public();
    let finished = has_ended(&run.state);
    run.stages
        .iter()
        .flat_map(|s| s.groups.iter())
        .flat_map(|g| g.members.iter())
        .filter_map(|m| {
            let (state, reason) = match &m.state {
                MemberState::Completed { .. } | MemberState::Upgrading { .. } => return None,
                MemberState::Skipped { reason, .. } if is_already_there(reason) => return None,
                MemberState::Skipped { reason, by, .. } => {
                    let who = match by {
                        SkippedBy::Operator => "skipped by a person",
                        SkippedBy::System => "skipped",
                    };
                    (State::Skipped, format!("{who}: {reason}"))
                }
                MemberState::Pending { reason, .. } => (State::Pending, reason.clone()),
                MemberState::Failed { message, .. } => (State::Failed, message.clone()),
                MemberState::NotStarted if !finished => return None,
                MemberState::NotStarted => (
                    State::NotStarted,
                    format!("the run was {} before it got there", words(ended)),
                ),
            };
            Some(LeftBehind {
                name: m.name.clone(),
                state,
                reason,
            })
        })
        .collect()
}

fn words(state: State) -> &'static str {
    match state {
        State::Stopped => "stopped",
        State::Failed => "failed",
        _ => "finished",
    }
}

/// What the catch-up run of `left` asks for: `run`'s update, with the node images `run` chose
/// when it chose them once for all (Consistent: the same images, named), and `run`'s stages
/// with only the groups that hold a member left behind.
pub fn catch_up_spec(run: &UpdateRun, left: &[LeftBehind]) -> RunSpec {
    let names: BTreeSet<&MemberName> = left.iter().map(|l| &l.name).collect();
    let mut update = run.spec.update.clone();
    let chosen = run
        .selected_images
        .as_ref()
        .filter(|images| !images.is_empty());
    if let (NodeImageSelectionType::Consistent, Some(images)) =
        (update.node_image_selection.kind, chosen)
    {
        update.node_image_selection = NodeImageSelection::custom(images);
    }
    let strategy = run.spec.strategy.as_ref().map(|strategy| {
        let stages = strategy
            .stages
            .iter()
            .filter_map(|stage| stage_with(run, stage, &names))
            .collect();
        UpdateStrategy {
            stages,
            max_allowed_failures: strategy.max_allowed_failures,
        }
    });
    RunSpec {
        strategy,
        update,
        placement: run.spec.placement.clone(),
    }
}

/// `stage` with the groups whose members in `run` include one of `names`; `None` when none do.
fn stage_with(
    run: &UpdateRun,
    stage: &UpdateStage,
    names: &BTreeSet<&MemberName>,
) -> Option<UpdateStage> {
    let ran = run.stages.iter().find(|s| s.name == stage.name.as_str())?;
    let holding: BTreeSet<&str> = ran
        .groups
        .iter()
        .filter(|g| g.members.iter().any(|m| names.contains(&m.name)))
        .map(|g| g.name.as_str())
        .collect();
    if holding.is_empty() {
        return None;
    }
    let mut kept = stage.clone();
    // A stage of one group by its selector (no groups listed) keeps its shape.
    kept.groups.retain(|g| holding.contains(g.name.as_str()));
    Some(kept)
}

#[cfg(test)]
#[path = "catch_up_tests.rs"]
mod tests;
