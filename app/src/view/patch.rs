//! Keeping a run's outline current from its event stream, without reading the run again.
//!
//! A member's event names its group and the state it left (the engine says both), so the
//! outline's counts, the summary, who is upgrading or failed and the member rows on the page
//! move with the event alone: a member finishing in a 100,000-member run costs the page one
//! small event, not a read of the run. What only the engine can work out again (the run's state
//! and its controls, gates, waits, what a stage's end opens) comes with the next read, which
//! an event of the run, a stage, a gate or a wait asks for ([`Patched::ReadAgain`]). Between
//! reads, the timeline's and the forecast's shapes and the skip buttons' answers may lag; a
//! skip the engine would refuse is refused, with its reason, when it is sent.

use super::outline::{GroupOutline, MemberCounts, MemberPage, RunOutline};
use crate::model::run::{RunEvent, State, Subject};
use crate::model::status::{Status, StatusError};

/// What an event did to an outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patched {
    /// The outline says what the event says.
    Done,
    /// The event changed what only a new read of the run can say.
    ReadAgain,
}

/// Whether `event` changes what only a new read of the run can say (whatever the outline): the
/// run's, a stage's, a gate's or a wait's state, or a member's event from before events named
/// the member's group.
pub fn needs_read(event: &RunEvent) -> bool {
    match &event.subject {
        // Also a member's event that only changes its message (the provider stops answering
        // about its upgrade, or answers again): rare, and the status words it differently.
        Subject::Member(_) => {
            event.previous.is_none_or(|p| p == event.state) || event.group.is_none()
        }
        Subject::Group(_) => false,
        Subject::Run | Subject::Stage(_) | Subject::AfterStageWait(_) | Subject::Gate(_) => true,
    }
}

impl RunOutline {
    /// Applies `event` (one the outline does not reflect yet).
    pub fn patch(&mut self, event: &RunEvent) -> Patched {
        if needs_read(event) {
            if let Subject::Stage(name) = &event.subject
                && let Some(stage) = self.stages.iter_mut().find(|s| &s.name == name)
            {
                patch_status(&mut stage.status, event);
            }
            return Patched::ReadAgain;
        }
        match &event.subject {
            Subject::Member(_) => self.patch_member(event),
            Subject::Group(name) => match self.group_mut(name) {
                Some(group) => {
                    patch_status(&mut group.status.status, event);
                    Patched::Done
                }
                None => Patched::ReadAgain,
            },
            Subject::Run | Subject::Stage(_) | Subject::AfterStageWait(_) | Subject::Gate(_) => {
                Patched::ReadAgain
            }
        }
    }

    fn group_mut(&mut self, name: &str) -> Option<&mut GroupOutline> {
        self.stages
            .iter_mut()
            .flat_map(|s| &mut s.groups)
            .find(|g| g.status.name == name)
    }

    fn patch_member(&mut self, event: &RunEvent) -> Patched {
        let (Some(group), Some(previous)) = (&event.group, event.previous) else {
            return Patched::ReadAgain; // `needs_read` said so already
        };
        let place = self.stages.iter().enumerate().find_map(|(s, stage)| {
            let g = stage.groups.iter().position(|g| &g.status.name == group)?;
            Some((s, g))
        });
        let Some((s, g)) = place else {
            return Patched::ReadAgain;
        };
        let failed = i64::from(event.state == State::Failed) - i64::from(previous == State::Failed);
        let stage = &mut self.stages[s];
        stage.failure_count = shifted(stage.failure_count, failed);
        let outline = &mut stage.groups[g];
        outline.counts.remove(previous);
        outline.counts.add(event.state);
        outline.status.failure_count = shifted(outline.status.failure_count, failed);
        outline.name_active(event, previous);
        if let Some(listed) = &mut outline.listed {
            listed.patch(event);
        }
        let summary = &mut self.summary;
        summary.done = shifted(
            summary.done,
            i64::from(event.state.is_done()) - i64::from(previous.is_done()),
        );
        let moved = |state| i64::from(event.state == state) - i64::from(previous == state);
        summary.upgraded = shifted(summary.upgraded, moved(State::Completed));
        summary.skipped = shifted(summary.skipped, moved(State::Skipped));
        summary.failed = shifted(summary.failed, failed);
        self.in_flight = shifted(self.in_flight, moved(State::Running));
        Patched::Done
    }
}

impl GroupOutline {
    /// Keeps the names of members upgrading and failed (at most as many as a read lists: a
    /// name that leaves makes room for the next read to fill).
    fn name_active(&mut self, event: &RunEvent, previous: State) {
        let Subject::Member(name) = &event.subject else {
            return;
        };
        let name = name.to_string();
        for (state, names) in [
            (State::Running, &mut self.upgrading),
            (State::Failed, &mut self.failed),
        ] {
            if previous == state && event.state != state {
                names.retain(|n| n != &name);
            }
            if event.state == state
                && names.len() < super::outline::ACTIVE_NAMES
                && !names.contains(&name)
            {
                names.push(name.clone());
            }
        }
    }
}

impl MemberPage {
    /// Shows `event` on its member's row, if the page has it.
    pub fn patch(&mut self, event: &RunEvent) {
        let Subject::Member(name) = &event.subject else {
            return;
        };
        let Some(line) = self.members.iter_mut().find(|l| &l.status.name == name) else {
            return;
        };
        let status = &mut line.status;
        let previous = event.previous.unwrap_or(status.status.state);
        // The status's message is the state's (a pending reason, a failure, a skip's reason).
        status.message = match event.state {
            State::Pending | State::Failed | State::Skipped => event.message.clone(),
            _ => None,
        };
        let at = Some(event.at);
        let times = &mut status.status;
        match event.state {
            State::NotStarted => (times.start_time, times.completed_time) = (None, None),
            State::Pending if previous != State::Pending => {
                (times.start_time, times.completed_time) = (at, None);
            }
            State::Running if previous != State::Running => {
                (times.start_time, times.completed_time) = (at, None);
            }
            State::Completed => times.completed_time = at,
            State::Failed => {
                if previous != State::Running {
                    times.start_time = None;
                }
                times.completed_time = at;
            }
            State::Skipped => (times.start_time, times.completed_time) = (None, at),
            State::Pending | State::Running | State::Stopping | State::Stopped => {}
        }
        times.state = event.state;
        times.error = (event.state == State::Failed)
            .then(|| StatusError::upgrade_failed(event.message.clone().unwrap_or_default()));
        if matches!(
            event.state,
            State::NotStarted | State::Pending | State::Skipped
        ) {
            status.operation_id = None;
        }
        line.finishing = line.finishing && event.state == State::Running;
    }
}

impl MemberCounts {
    fn remove(&mut self, state: State) {
        let count = match state {
            State::NotStarted => &mut self.not_started,
            State::Pending => &mut self.pending,
            State::Running | State::Stopping | State::Stopped => &mut self.running,
            State::Completed => &mut self.completed,
            State::Failed => &mut self.failed,
            State::Skipped => &mut self.skipped,
        };
        *count = count.saturating_sub(1);
        self.total = self.total.saturating_sub(1);
    }
}

/// A group's or stage's own state and times after its event.
fn patch_status(status: &mut Status, event: &RunEvent) {
    match event.state {
        State::Running if status.start_time.is_none() => status.start_time = Some(event.at),
        State::Completed | State::Failed | State::Skipped => {
            status.completed_time = Some(event.at);
        }
        _ => {}
    }
    status.state = event.state;
}

fn shifted(count: usize, by: i64) -> usize {
    count.saturating_add_signed(by as isize)
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
