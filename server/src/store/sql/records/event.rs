//! An event of a run's timeline as stored (`run_events.event`), format 1.

use super::Stored;
use app::model::names::MemberName;
use app::model::run::{RunEvent, State, Subject};
use app::model::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    at: Timestamp,
    subject: SubjectRecord,
    state: StateRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// Since member events carry their group and former state; absent in older rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<StateRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type", content = "name")]
enum SubjectRecord {
    Run,
    Stage(String),
    Group(String),
    Member(MemberName),
    AfterStageWait(String),
    Gate(String),
}

/// The public state words; also what a run's, stage's, group's and member's states say.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum StateRecord {
    NotStarted,
    Running,
    Stopping,
    Stopped,
    Skipped,
    Failed,
    Pending,
    Completed,
}

impl Stored for StateRecord {
    type Model = State;

    fn of(state: &State) -> Self {
        match state {
            State::NotStarted => Self::NotStarted,
            State::Running => Self::Running,
            State::Stopping => Self::Stopping,
            State::Stopped => Self::Stopped,
            State::Skipped => Self::Skipped,
            State::Failed => Self::Failed,
            State::Pending => Self::Pending,
            State::Completed => Self::Completed,
        }
    }

    fn into_model(self) -> State {
        match self {
            Self::NotStarted => State::NotStarted,
            Self::Running => State::Running,
            Self::Stopping => State::Stopping,
            Self::Stopped => State::Stopped,
            Self::Skipped => State::Skipped,
            Self::Failed => State::Failed,
            Self::Pending => State::Pending,
            Self::Completed => State::Completed,
        }
    }
}

impl Stored for EventRecord {
    type Model = RunEvent;

    fn of(event: &RunEvent) -> Self {
        Self {
            at: event.at,
            subject: match event.subject.clone() {
                Subject::Run => SubjectRecord::Run,
                Subject::Stage(name) => SubjectRecord::Stage(name),
                Subject::Group(name) => SubjectRecord::Group(name),
                Subject::Member(name) => SubjectRecord::Member(name),
                Subject::AfterStageWait(name) => SubjectRecord::AfterStageWait(name),
                Subject::Gate(name) => SubjectRecord::Gate(name),
            },
            state: StateRecord::of(&event.state),
            message: event.message.clone(),
            group: event.group.clone(),
            previous: event.previous.as_ref().map(StateRecord::of),
        }
    }

    fn into_model(self) -> RunEvent {
        RunEvent {
            at: self.at,
            subject: match self.subject {
                SubjectRecord::Run => Subject::Run,
                SubjectRecord::Stage(name) => Subject::Stage(name),
                SubjectRecord::Group(name) => Subject::Group(name),
                SubjectRecord::Member(name) => Subject::Member(name),
                SubjectRecord::AfterStageWait(name) => Subject::AfterStageWait(name),
                SubjectRecord::Gate(name) => Subject::Gate(name),
            },
            state: self.state.into_model(),
            message: self.message,
            group: self.group,
            previous: self.previous.map(StateRecord::into_model),
        }
    }
}
