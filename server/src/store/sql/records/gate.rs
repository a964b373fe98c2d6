//! A gate of a stored run, format 1. Its configuration is the API's `GateConfiguration` (a
//! public contract already); where the gate stands is the store's own.

use super::Stored;
use app::model::gate::{Approval, GateConfiguration, GateRun, GateState, Timing};
use app::model::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateRecord {
    name: String,
    timing: TimingRecord,
    config: GateConfiguration,
    state: GateStateRecord,
    #[serde(default)]
    version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum TimingRecord {
    Before,
    After,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
enum GateStateRecord {
    Pending {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reached_at: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        completes_at: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        times_out_at: Option<Timestamp>,
    },
    Completed {
        at: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval: Option<ApprovalRecord>,
    },
    Skipped {
        at: Timestamp,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalRecord {
    by: String,
    at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

impl Stored for GateRecord {
    type Model = GateRun;

    fn of(gate: &GateRun) -> Self {
        Self {
            name: gate.name.clone(),
            timing: match gate.timing {
                Timing::Before => TimingRecord::Before,
                Timing::After => TimingRecord::After,
            },
            config: gate.config.clone(),
            state: match gate.state.clone() {
                GateState::Pending {
                    reached_at,
                    completes_at,
                    times_out_at,
                } => GateStateRecord::Pending {
                    reached_at,
                    completes_at,
                    times_out_at,
                },
                GateState::Completed { at, approval } => GateStateRecord::Completed {
                    at,
                    approval: approval.map(|a| ApprovalRecord {
                        by: a.by,
                        at: a.at,
                        comment: a.comment,
                    }),
                },
                GateState::Skipped { at, reason } => GateStateRecord::Skipped { at, reason },
            },
            version: gate.version,
        }
    }

    fn into_model(self) -> GateRun {
        GateRun {
            name: self.name,
            timing: match self.timing {
                TimingRecord::Before => Timing::Before,
                TimingRecord::After => Timing::After,
            },
            config: self.config,
            state: match self.state {
                GateStateRecord::Pending {
                    reached_at,
                    completes_at,
                    times_out_at,
                } => GateState::Pending {
                    reached_at,
                    completes_at,
                    times_out_at,
                },
                GateStateRecord::Completed { at, approval } => GateState::Completed {
                    at,
                    approval: approval.map(|a| Approval {
                        by: a.by,
                        at: a.at,
                        comment: a.comment,
                    }),
                },
                GateStateRecord::Skipped { at, reason } => GateState::Skipped { at, reason },
            },
            version: self.version,
        }
    }
}
