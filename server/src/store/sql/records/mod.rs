//! What is stored of runs, in types of its own: the engine's types change with the engine, these
//! change only on purpose. Each record converts from and into the model; the JSON it writes is
//! stored format 1 (the shape runs have been stored in since migration 6), but for members,
//! which are format 2 since migration 28 (see `member`). A change to a record's shape is a new
//! format: a record type beside the old one, and either a migration that rewrites what is
//! stored or a reader that still reads the old shape (as members' format 1 is read). `tests/it/stored_format.rs` compares a
//! whole store's export with a snapshot, so neither side can drift unnoticed; the unit tests here
//! check that every state survives the trip through its record.
//!
//! Leaf values (names, ids, versions, timestamps) keep their own text forms, which are parsed and
//! checked wherever they enter; the run's spec and gate configurations are the API's shapes, a
//! public contract already.

mod event;
mod gate;
mod member;

pub use event::EventRecord;
pub use member::{StoredTarget, TargetRecord, Targets, member_from_row, member_row, targets_from};

use app::model::names::MemberName;
use app::model::run::{
    GroupRun, GroupState, Limits, RunHop, RunState, StageRun, StageState, UpdateRun, WaitState,
};
use app::model::time::Timestamp;
use app::model::update::RunSpec;
use app::model::version::{ImageFamily, ImageRelease};
use gate::GateRecord;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A record of the store for a model type.
pub trait Stored: Sized {
    type Model;
    fn of(model: &Self::Model) -> Self;
    fn into_model(self) -> Self::Model;
}

/// The stored text of `model`.
pub fn to_text<R: Stored + Serialize>(model: &R::Model) -> Result<String, serde_json::Error> {
    serde_json::to_string(&R::of(model))
}

/// The model a stored text holds.
pub fn from_text<R: Stored + DeserializeOwned>(text: &str) -> Result<R::Model, serde_json::Error> {
    serde_json::from_str::<R>(text).map(R::into_model)
}

/// A run without its members (each group's list empty; they are rows of their own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    name: String,
    #[serde(default)]
    uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    update_strategy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auto_upgrade_profile_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    catch_up_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hop: Option<RunHop>,
    spec: RunSpec,
    state: RunStateRecord,
    stages: Vec<StageRecord>,
    not_in_any_stage: Vec<MemberName>,
    selected_images: Option<BTreeMap<ImageFamily, ImageRelease>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_allowed_failures: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
enum RunStateRecord {
    NotStarted,
    Running {
        started_at: Timestamp,
    },
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StageRecord {
    name: String,
    after_stage_wait_in_seconds: i64,
    groups: Vec<GroupRecord>,
    state: PhaseRecord,
    wait: WaitRecord,
    #[serde(default, skip_serializing_if = "LimitsRecord::is_unset")]
    limits: LimitsRecord,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    before_gates: Vec<GateRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    after_gates: Vec<GateRecord>,
}

/// A group as the run's body holds it: its members are `run_members` rows, so the list stored
/// here is always empty (kept in the shape for the format's sake).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupRecord {
    name: String,
    members: NoMembers,
    state: PhaseRecord,
    #[serde(default, skip_serializing_if = "LimitsRecord::is_unset")]
    limits: LimitsRecord,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    before_gates: Vec<GateRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    after_gates: Vec<GateRecord>,
}

/// A group's member list in the run's body: always written empty. A list a body stored before
/// migration 6 still holds is read past: loading a run always takes its members from their rows.
#[derive(Debug, Clone, Copy, PartialEq)]
struct NoMembers;

impl Serialize for NoMembers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(std::iter::empty::<()>())
    }
}

impl<'de> Deserialize<'de> for NoMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| NoMembers)
    }
}

/// Where a stage or a group stands (both have the same states).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
enum PhaseRecord {
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
enum WaitRecord {
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LimitsRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_allowed_failures: Option<u32>,
}

impl LimitsRecord {
    fn is_unset(&self) -> bool {
        *self == Self::default()
    }
}

fn gates_of(gates: &[app::model::gate::GateRun]) -> Vec<GateRecord> {
    gates.iter().map(GateRecord::of).collect()
}

fn gates_from(gates: Vec<GateRecord>) -> Vec<app::model::gate::GateRun> {
    gates.into_iter().map(Stored::into_model).collect()
}

impl Stored for LimitsRecord {
    type Model = Limits;

    fn of(limits: &Limits) -> Self {
        Self {
            max_concurrency: limits.max_concurrency,
            max_allowed_failures: limits.max_allowed_failures,
        }
    }

    fn into_model(self) -> Limits {
        Limits {
            max_concurrency: self.max_concurrency,
            max_allowed_failures: self.max_allowed_failures,
        }
    }
}

impl Stored for RunRecord {
    type Model = UpdateRun;

    /// The run's record without its members (they are stored as rows of their own).
    fn of(run: &UpdateRun) -> Self {
        Self {
            name: run.name.clone(),
            uid: run.uid.clone(),
            update_strategy_id: run.update_strategy_id.clone(),
            auto_upgrade_profile_id: run.auto_upgrade_profile_id.clone(),
            catch_up_of: run.catch_up_of.clone(),
            hop: run.hop.clone(),
            spec: run.spec.clone(),
            state: RunStateRecord::of(&run.state),
            stages: run.stages.iter().map(StageRecord::of).collect(),
            not_in_any_stage: run.not_in_any_stage.clone(),
            selected_images: run.selected_images.clone(),
            max_allowed_failures: run.max_allowed_failures,
        }
    }

    fn into_model(self) -> UpdateRun {
        UpdateRun {
            name: self.name,
            uid: self.uid,
            update_strategy_id: self.update_strategy_id,
            auto_upgrade_profile_id: self.auto_upgrade_profile_id,
            catch_up_of: self.catch_up_of,
            hop: self.hop,
            spec: self.spec,
            state: self.state.into_model(),
            stages: self.stages.into_iter().map(Stored::into_model).collect(),
            not_in_any_stage: self.not_in_any_stage,
            selected_images: self.selected_images,
            max_allowed_failures: self.max_allowed_failures,
        }
    }
}

impl Stored for StageRecord {
    type Model = StageRun;

    fn of(stage: &StageRun) -> Self {
        Self {
            name: stage.name.clone(),
            after_stage_wait_in_seconds: stage.after_stage_wait_in_seconds,
            groups: stage.groups.iter().map(GroupRecord::of).collect(),
            state: PhaseRecord::of_stage(&stage.state),
            wait: WaitRecord::of(&stage.wait),
            limits: LimitsRecord::of(&stage.limits),
            before_gates: gates_of(&stage.before_gates),
            after_gates: gates_of(&stage.after_gates),
        }
    }

    fn into_model(self) -> StageRun {
        StageRun {
            name: self.name,
            after_stage_wait_in_seconds: self.after_stage_wait_in_seconds,
            groups: self.groups.into_iter().map(Stored::into_model).collect(),
            state: self.state.into_stage(),
            wait: self.wait.into_model(),
            limits: self.limits.into_model(),
            before_gates: gates_from(self.before_gates),
            after_gates: gates_from(self.after_gates),
        }
    }
}

impl Stored for GroupRecord {
    type Model = GroupRun;

    /// The group without its members.
    fn of(group: &GroupRun) -> Self {
        Self {
            name: group.name.clone(),
            members: NoMembers,
            state: PhaseRecord::of_group(&group.state),
            limits: LimitsRecord::of(&group.limits),
            before_gates: gates_of(&group.before_gates),
            after_gates: gates_of(&group.after_gates),
        }
    }

    fn into_model(self) -> GroupRun {
        GroupRun {
            name: self.name,
            members: Vec::new(),
            state: self.state.into_group(),
            limits: self.limits.into_model(),
            before_gates: gates_from(self.before_gates),
            after_gates: gates_from(self.after_gates),
        }
    }
}

impl Stored for RunStateRecord {
    type Model = RunState;

    fn of(state: &RunState) -> Self {
        match state.clone() {
            RunState::NotStarted => Self::NotStarted,
            RunState::Running { started_at } => Self::Running { started_at },
            RunState::Stopping { started_at } => Self::Stopping { started_at },
            RunState::Stopped {
                started_at,
                stopped_at,
            } => Self::Stopped {
                started_at,
                stopped_at,
            },
            RunState::Failed {
                started_at,
                failed_at,
                error,
            } => Self::Failed {
                started_at,
                failed_at,
                error,
            },
            RunState::Completed {
                started_at,
                completed_at,
            } => Self::Completed {
                started_at,
                completed_at,
            },
        }
    }

    fn into_model(self) -> RunState {
        match self {
            Self::NotStarted => RunState::NotStarted,
            Self::Running { started_at } => RunState::Running { started_at },
            Self::Stopping { started_at } => RunState::Stopping { started_at },
            Self::Stopped {
                started_at,
                stopped_at,
            } => RunState::Stopped {
                started_at,
                stopped_at,
            },
            Self::Failed {
                started_at,
                failed_at,
                error,
            } => RunState::Failed {
                started_at,
                failed_at,
                error,
            },
            Self::Completed {
                started_at,
                completed_at,
            } => RunState::Completed {
                started_at,
                completed_at,
            },
        }
    }
}

/// Stage and group states have the same variants; one macro writes both conversions.
macro_rules! phase_conversions {
    ($of:ident, $into:ident, $model:ident) => {
        impl PhaseRecord {
            fn $of(state: &$model) -> Self {
                match state.clone() {
                    $model::NotStarted => Self::NotStarted,
                    $model::Running { started_at } => Self::Running { started_at },
                    $model::Completed {
                        started_at,
                        completed_at,
                    } => Self::Completed {
                        started_at,
                        completed_at,
                    },
                    $model::Failed {
                        started_at,
                        failed_at,
                    } => Self::Failed {
                        started_at,
                        failed_at,
                    },
                    $model::Skipped { at, started_at } => Self::Skipped { at, started_at },
                }
            }

            fn $into(self) -> $model {
                match self {
                    Self::NotStarted => $model::NotStarted,
                    Self::Running { started_at } => $model::Running { started_at },
                    Self::Completed {
                        started_at,
                        completed_at,
                    } => $model::Completed {
                        started_at,
                        completed_at,
                    },
                    Self::Failed {
                        started_at,
                        failed_at,
                    } => $model::Failed {
                        started_at,
                        failed_at,
                    },
                    Self::Skipped { at, started_at } => $model::Skipped { at, started_at },
                }
            }
        }
    };
}

phase_conversions!(of_stage, into_stage, StageState);
phase_conversions!(of_group, into_group, GroupState);

impl Stored for WaitRecord {
    type Model = WaitState;

    fn of(wait: &WaitState) -> Self {
        match wait.clone() {
            WaitState::NotStarted => Self::NotStarted,
            WaitState::Running { started_at, until } => Self::Running { started_at, until },
            WaitState::Completed {
                started_at,
                completed_at,
            } => Self::Completed {
                started_at,
                completed_at,
            },
            WaitState::Skipped { at, started_at } => Self::Skipped { at, started_at },
        }
    }

    fn into_model(self) -> WaitState {
        match self {
            Self::NotStarted => WaitState::NotStarted,
            Self::Running { started_at, until } => WaitState::Running { started_at, until },
            Self::Completed {
                started_at,
                completed_at,
            } => WaitState::Completed {
                started_at,
                completed_at,
            },
            Self::Skipped { at, started_at } => WaitState::Skipped { at, started_at },
        }
    }
}

#[cfg(test)]
mod tests;
