//! A run's member as stored (`run_members.body`), format 2: an upgrading member names its
//! target by the digest it is stored under in the run's targets (`run_targets`), where format 1
//! held the target itself. Format 1 rows (written before migration 28) are still read.

use super::Stored;
use app::model::member::ClusterResourceId;
use app::model::names::MemberName;
use app::model::run::{Hop, MemberRun, MemberState, ProviderTrouble, SkippedBy, WaitingOn};
use app::model::target::{PoolTarget, Step, UpgradeTarget};
use app::model::time::Timestamp;
use app::model::version::{KubernetesVersion, NodeImageVersion};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
        target: TargetRef,
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

/// Where an upgrading member's target is: the digest of its row in the run's targets (format 2,
/// a JSON string), or the target itself (format 1, an object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum TargetRef {
    Digest(String),
    Inline(TargetRecord),
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

/// An upgrade target as the run's targets store it: its text, and the digest it is stored
/// under (the first 128 bits of the text's SHA-256, in base64url). Equal targets get equal
/// digests, so a writer needs no memory of what it wrote to share one row among members, and two
/// replicas writing the same target write the same row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTarget {
    pub digest: String,
    pub body: String,
}

impl StoredTarget {
    pub fn of(target: &UpgradeTarget) -> serde_json::Result<Self> {
        let body = serde_json::to_string(&TargetRecord::of(target))?;
        let hash = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
        Ok(Self {
            digest: URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16]),
            body,
        })
    }
}

/// A run's stored targets by digest, to read its members' rows with.
pub type Targets = HashMap<String, UpgradeTarget>;

/// The targets of `rows` (digest, body), as `run_targets` holds them.
pub fn targets_from(
    rows: impl IntoIterator<Item = (String, String)>,
) -> serde_json::Result<Targets> {
    rows.into_iter()
        .map(|(digest, body)| {
            let target = serde_json::from_str::<TargetRecord>(&body)?;
            Ok((digest, target.into_model()))
        })
        .collect()
}

/// A member's row body (format 2). An upgrading member names its target by the digest
/// `digest_of` gives, the caller seeing to it that the run's targets store the target.
pub fn member_row(
    member: &MemberRun,
    digest_of: impl FnOnce(&UpgradeTarget) -> serde_json::Result<String>,
) -> serde_json::Result<String> {
    let record = MemberRecord {
        name: member.name.clone(),
        cluster_resource_id: member.cluster_resource_id.clone(),
        attempts: member.attempts,
        state: MemberStateRecord::of(&member.state, digest_of)?,
    };
    serde_json::to_string(&record)
}

/// The member a row's body holds (either format), an upgrading member's target found in
/// `targets` by its digest.
pub fn member_from_row(body: &str, targets: &Targets) -> Result<MemberRun, String> {
    let record = serde_json::from_str::<MemberRecord>(body).map_err(|e| e.to_string())?;
    Ok(MemberRun {
        name: record.name,
        cluster_resource_id: record.cluster_resource_id,
        attempts: record.attempts,
        state: record.state.into_model(targets)?,
    })
}

impl MemberStateRecord {
    /// Field by field, from the state as it is: copying the state whole to take it apart
    /// copied an upgrading member's target once more than writing it needs. An upgrading
    /// member names its target by the digest `digest_of` gives.
    fn of(
        state: &MemberState,
        digest_of: impl FnOnce(&UpgradeTarget) -> serde_json::Result<String>,
    ) -> serde_json::Result<Self> {
        Ok(match state {
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
                target: TargetRef::Digest(digest_of(target)?),
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
        })
    }

    fn into_model(self, targets: &Targets) -> Result<MemberState, String> {
        Ok(match self {
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
                target: match target {
                    TargetRef::Digest(digest) => {
                        targets.get(&digest).cloned().ok_or_else(|| {
                            format!("upgrading to target {digest}, which the run's targets lack")
                        })?
                    }
                    TargetRef::Inline(target) => target.into_model(),
                },
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
        })
    }
}
