//! A run's member as stored (`run_members.body`), format 1.

use super::Stored;
use app::model::member::ClusterResourceId;
use app::model::names::MemberName;
use app::model::run::{Hop, MemberRun, MemberState, ProviderTrouble, SkippedBy, WaitingOn};
use app::model::target::{PoolTarget, Step, UpgradeTarget};
use app::model::time::Timestamp;
use app::model::version::{KubernetesVersion, NodeImageVersion};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRecord {
    name: MemberName,
    cluster_resource_id: ClusterResourceId,
    attempts: u32,
    state: MemberStateRecord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
enum MemberStateRecord {
    NotStarted,
    Pending {
        reason: String,
        since: Timestamp,
        until: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waiting_on: Option<WaitingOnRecord>,
    },
    Upgrading {
        attempt: u32,
        started_at: Timestamp,
        target: TargetRecord,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_trouble: Option<TroubleRecord>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hop: Option<HopRecord>,
    },
    Completed {
        attempt: u32,
        started_at: Timestamp,
        completed_at: Timestamp,
    },
    Failed {
        attempt: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<Timestamp>,
        failed_at: Timestamp,
        message: String,
    },
    Skipped {
        reason: String,
        at: Timestamp,
        by: SkippedByRecord,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
enum WaitingOnRecord {
    OtherRun { holder: String },
    Provider,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HopRecord {
    number: u32,
    of: u32,
    first_started_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TroubleRecord {
    since: Timestamp,
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum SkippedByRecord {
    System,
    Operator,
}

/// What an upgrade changes, as stored with the member upgrading (also the simulator's
/// operations' `target`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    control_plane: Option<StepRecord<KubernetesVersion>>,
    node_pools: Vec<PoolTargetRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resources: Option<ResourceTargetRecord>,
}

/// A placement run's change: the placement and the revision its objects are given at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ResourceTargetRecord {
    placement: app::model::names::PlacementName,
    revision: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StepRecord<T> {
    from: T,
    to: T,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PoolTargetRecord {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kubernetes_version: Option<StepRecord<KubernetesVersion>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_image_version: Option<StepRecord<NodeImageVersion>>,
}

impl<T: Clone> StepRecord<T> {
    fn of(step: &Step<T>) -> Self {
        Self {
            from: step.from.clone(),
            to: step.to.clone(),
        }
    }

    fn into_step(self) -> Step<T> {
        Step {
            from: self.from,
            to: self.to,
        }
    }
}

impl Stored for TargetRecord {
    type Model = UpgradeTarget;

    fn of(target: &UpgradeTarget) -> Self {
        Self {
            control_plane: target.control_plane.as_ref().map(StepRecord::of),
            node_pools: target
                .node_pools
                .iter()
                .map(|pool| PoolTargetRecord {
                    name: pool.name.clone(),
                    kubernetes_version: pool.kubernetes_version.as_ref().map(StepRecord::of),
                    node_image_version: pool.node_image_version.as_ref().map(StepRecord::of),
                })
                .collect(),
            resources: target.resources.as_ref().map(|r| ResourceTargetRecord {
                placement: r.placement.clone(),
                revision: r.revision.clone(),
            }),
        }
    }

    fn into_model(self) -> UpgradeTarget {
        UpgradeTarget {
            control_plane: self.control_plane.map(StepRecord::into_step),
            node_pools: self
                .node_pools
                .into_iter()
                .map(|pool| PoolTarget {
                    name: pool.name,
                    kubernetes_version: pool.kubernetes_version.map(StepRecord::into_step),
                    node_image_version: pool.node_image_version.map(StepRecord::into_step),
                })
                .collect(),
            resources: self.resources.map(|r| {
                Box::new(app::model::rollout::ResourceTarget {
                    placement: r.placement,
                    revision: r.revision,
                })
            }),
        }
    }
}

impl Stored for MemberRecord {
    type Model = MemberRun;

    fn of(member: &MemberRun) -> Self {
        Self {
            name: member.name.clone(),
            cluster_resource_id: member.cluster_resource_id.clone(),
            attempts: member.attempts,
            state: MemberStateRecord::of(&member.state),
        }
    }

    fn into_model(self) -> MemberRun {
        MemberRun {
            name: self.name,
            cluster_resource_id: self.cluster_resource_id,
            attempts: self.attempts,
            state: self.state.into_model(),
        }
    }
}

impl Stored for MemberStateRecord {
    type Model = MemberState;

    /// Field by field, from the state as it is: copying the state whole to take it apart
    /// copied an upgrading member's target once more than writing it needs.
    fn of(state: &MemberState) -> Self {
        match state {
            MemberState::NotStarted => Self::NotStarted,
            MemberState::Pending {
                reason,
                since,
                until,
                waiting_on,
            } => Self::Pending {
                reason: reason.clone(),
                since: *since,
                until: *until,
                waiting_on: waiting_on.as_ref().map(|on| match on {
                    WaitingOn::OtherRun { holder } => WaitingOnRecord::OtherRun {
                        holder: holder.clone(),
                    },
                    WaitingOn::Provider => WaitingOnRecord::Provider,
                }),
            },
            MemberState::Upgrading {
                attempt,
                started_at,
                target,
                provider_trouble,
                hop,
            } => Self::Upgrading {
                attempt: *attempt,
                started_at: *started_at,
                target: TargetRecord::of(target),
                provider_trouble: provider_trouble.as_ref().map(|t| TroubleRecord {
                    since: t.since,
                    message: t.message.clone(),
                }),
                hop: hop.as_ref().map(|h| HopRecord {
                    number: h.number,
                    of: h.of,
                    first_started_at: h.first_started_at,
                }),
            },
            MemberState::Completed {
                attempt,
                started_at,
                completed_at,
            } => Self::Completed {
                attempt: *attempt,
                started_at: *started_at,
                completed_at: *completed_at,
            },
            MemberState::Failed {
                attempt,
                started_at,
                failed_at,
                message,
            } => Self::Failed {
                attempt: *attempt,
                started_at: *started_at,
                failed_at: *failed_at,
                message: message.clone(),
            },
            MemberState::Skipped { reason, at, by } => Self::Skipped {
                reason: reason.clone(),
                at: *at,
                by: match by {
                    SkippedBy::System => SkippedByRecord::System,
                    SkippedBy::Operator => SkippedByRecord::Operator,
                },
            },
        }
    }

    fn into_model(self) -> MemberState {
        match self {
            Self::NotStarted => MemberState::NotStarted,
            Self::Pending {
                reason,
                since,
                until,
                waiting_on,
            } => MemberState::Pending {
                reason,
                since,
                until,
                waiting_on: waiting_on.map(|on| match on {
                    WaitingOnRecord::OtherRun { holder } => WaitingOn::OtherRun { holder },
                    WaitingOnRecord::Provider => WaitingOn::Provider,
                }),
            },
            Self::Upgrading {
                attempt,
                started_at,
                target,
                provider_trouble,
                hop,
            } => MemberState::Upgrading {
                attempt,
                started_at,
                target: target.into_model(),
                provider_trouble: provider_trouble.map(|t| ProviderTrouble {
                    since: t.since,
                    message: t.message,
                }),
                hop: hop.map(|h| Hop {
                    number: h.number,
                    of: h.of,
                    first_started_at: h.first_started_at,
                }),
            },
            Self::Completed {
                attempt,
                started_at,
                completed_at,
            } => MemberState::Completed {
                attempt,
                started_at,
                completed_at,
            },
            Self::Failed {
                attempt,
                started_at,
                failed_at,
                message,
            } => MemberState::Failed {
                attempt,
                started_at,
                failed_at,
                message,
            },
            Self::Skipped { reason, at, by } => MemberState::Skipped {
                reason,
                at,
                by: match by {
                    SkippedByRecord::System => SkippedBy::System,
                    SkippedByRecord::Operator => SkippedBy::Operator,
                },
            },
        }
    }
}
