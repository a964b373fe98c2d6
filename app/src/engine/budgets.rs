//! Failure budgets: a failed member fails its group when the group's `maxAllowedFailures` is
//! exceeded, its stage when the stage's is, and the run when the run's is — each of those
//! failing the run, so nothing after starts. Within every budget the run goes on. With no
//! budget set anywhere a group's is 0: one failure fails the run, as before budgets existed.

use super::decide::Work;
use crate::model::names::MemberName;
use crate::model::run::{GroupState, RunState, StageState, State, Subject, UpdateRun};

/// A member that could not take the target, or whose upgrade failed.
pub(super) struct Failure {
    pub member: MemberName,
    pub message: String,
}

/// The level whose budget a failure exceeded, with its words for the run's error.
struct Breach {
    level: Level,
    /// `None` when no budget was set anywhere (plain fail-fast: nothing to explain).
    explained: Option<String>,
}

#[derive(PartialEq, Eq)]
enum Level {
    Group,
    Stage,
    Run,
}

fn over(failed: usize, budget: Option<usize>) -> bool {
    budget.is_some_and(|b| failed > b)
}

/// The first budget (group, stage, run) the failures of stage `s`, group `g` exceed. Only the
/// levels that set a budget are counted, so a run without budgets costs one group's count.
fn breach(run: &UpdateRun, s: usize, g: usize) -> Option<Breach> {
    let stage = &run.stages[s];
    let group = &stage.groups[g];
    let no_budgets = group.limits.max_allowed_failures.is_none()
        && stage.limits.max_allowed_failures.is_none()
        && run.max_allowed_failures.is_none();
    let explain = |failed: usize, whose: String, budget: usize| {
        (!no_budgets).then(|| {
            format!("{failed} failed member(s) exceed the maxAllowedFailures of {whose} ({budget})")
        })
    };
    let group_budget = group.failure_budget(&stage.limits);
    let failed = group.failure_count();
    if over(failed, group_budget) {
        return Some(Breach {
            level: Level::Group,
            explained: explain(failed, format!("group {}", group.name), group_budget?),
        });
    }
    let stage_budget = stage.limits.max_allowed_failures.map(|b| b as usize);
    if let Some(budget) = stage_budget {
        let failed = stage.failure_count();
        if over(failed, Some(budget)) {
            return Some(Breach {
                level: Level::Stage,
                explained: explain(failed, format!("stage {}", stage.name), budget),
            });
        }
    }
    let run_budget = run.max_allowed_failures.map(|b| b as usize);
    if let Some(budget) = run_budget {
        let failed = run.failure_count();
        if over(failed, Some(budget)) {
            return Some(Breach {
                level: Level::Run,
                explained: explain(failed, "the run".into(), budget),
            });
        }
    }
    None
}

/// After `failure` in stage `s`, group `g`: fails what a spent budget fails. Returns whether
/// the run failed (then nothing more starts in this decision).
pub(super) fn enforce(
    run: &mut UpdateRun,
    s: usize,
    g: usize,
    failure: &Failure,
    work: &mut Work<'_>,
) -> bool {
    let Some(breach) = breach(run, s, g) else {
        return false;
    };
    let group_why = breach
        .explained
        .clone()
        .unwrap_or_else(|| format!("member {} failed", failure.member));
    let stage_why = match breach.level {
        Level::Group => format!("group {} failed", run.stages[s].groups[g].name),
        Level::Stage | Level::Run => breach.explained.clone().unwrap_or_default(),
    };
    let mut error = format!("member {} failed: {}", failure.member, failure.message);
    if let Some(explained) = breach.explained {
        error = format!("{error}; {explained}");
    }
    let failed_group = (breach.level == Level::Group).then_some(g);
    fail_levels(run, s, failed_group, [group_why, stage_why, error], work);
    true
}

/// Fails group `g` (when given), stage `s` and the run, each with its words: `[group, stage,
/// run error]`. In-flight upgrades elsewhere finish; nothing new starts.
pub(super) fn fail_levels(
    run: &mut UpdateRun,
    s: usize,
    g: Option<usize>,
    [group_why, stage_why, error]: [String; 3],
    work: &mut Work<'_>,
) {
    let now = work.now;
    if let Some(g) = g {
        let group = &mut run.stages[s].groups[g];
        let started_at = match group.state {
            GroupState::Running { started_at } => started_at,
            GroupState::NotStarted
            | GroupState::Completed { .. }
            | GroupState::Failed { .. }
            | GroupState::Skipped { .. } => now,
        };
        group.state = GroupState::Failed {
            started_at,
            failed_at: now,
        };
        work.event(
            Subject::Group(group.name.clone()),
            State::Failed,
            Some(group_why),
        );
    }
    let stage = &mut run.stages[s];
    if let StageState::Running { started_at } = stage.state {
        stage.state = StageState::Failed {
            started_at,
            failed_at: now,
        };
        work.event(
            Subject::Stage(stage.name.clone()),
            State::Failed,
            Some(stage_why),
        );
    }
    if let RunState::Running { started_at } | RunState::Stopping { started_at } = run.state {
        run.state = RunState::Failed {
            started_at,
            failed_at: now,
            error: error.clone(),
        };
        work.event(Subject::Run, State::Failed, Some(error));
    }
}
