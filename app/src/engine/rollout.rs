//! A placement run's member action: instead of resolving an upgrade from the cluster and the
//! catalog, the run asks the world what the placement gives the member (the runtime reads the
//! placement, its snapshots, the overrides and what the member holds). The rest (stages, gates,
//! concurrency, budgets, the cluster's lease) is the run's machinery as for any upgrade.

use super::decide::World;
use super::targets::MemberAction;
use crate::model::cluster::{ClusterState, PowerState};
use crate::model::names::{MemberName, PlacementName};
use crate::model::rollout::ResourceTarget;
use crate::model::target::UpgradeTarget;
use crate::model::update::StoppedClusterAction;
use serde::{Deserialize, Serialize};

/// How a placement run's skip of a member holding the revision already begins.
pub const ALREADY_HOLDS: &str = "already holds ";
/// How a placement run's skip of a member the placement does not pick begins.
pub const NOT_PICKED: &str = "not picked by placement ";

/// What a placement run's member is to do, as the world reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum PlacementAction {
    /// Give the member the placement's objects at this revision.
    Give { revision: String },
    /// Nothing to do (not picked, or it holds the revision already).
    Skip { reason: String },
    /// The member cannot be given the objects (an override that does not apply).
    Fail { reason: String },
    /// The placement cannot be read now; ask again.
    Wait { reason: String },
}

/// The member's action in a run rolling out `placement`; `Err` with the reason when it must
/// wait. A stopped cluster is treated as the run's `stoppedClusterAction` says, as for upgrades.
pub(super) fn placement_member_action(
    placement: &PlacementName,
    member: &MemberName,
    cluster: &ClusterState,
    stopped: StoppedClusterAction,
    world: &dyn World,
) -> Result<MemberAction, String> {
    let action = world.placement_action(member);
    if cluster.power_state == PowerState::Stopped && matches!(action, PlacementAction::Give { .. })
    {
        let reason = "the cluster is stopped; its objects cannot be applied".to_owned();
        return Ok(match stopped {
            StoppedClusterAction::Skip => MemberAction::Skip { reason },
            StoppedClusterAction::Fail => MemberAction::Fail { reason },
        });
    }
    match action {
        PlacementAction::Give { revision } => Ok(MemberAction::Upgrade {
            target: UpgradeTarget::of_resources(ResourceTarget {
                placement: placement.clone(),
                revision,
            }),
            then: Vec::new(),
        }),
        PlacementAction::Skip { reason } => Ok(MemberAction::Skip { reason }),
        PlacementAction::Fail { reason } => Ok(MemberAction::Fail { reason }),
        PlacementAction::Wait { reason } => Err(reason),
    }
}
