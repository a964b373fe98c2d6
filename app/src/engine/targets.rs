//! What one member needs: the target of each part, or why it is skipped, pending or failing.
//! Every rule about a single member's versions lives here.

use super::EngineConfig;
use super::images::ImageChoice;
use crate::model::catalog::Catalog;
use crate::model::cluster::{ClusterState, NodePool, PowerState};
use crate::model::target::{PoolTarget, Step, UpgradeTarget};
use crate::model::update::{StoppedClusterAction, Upgrade};
use crate::model::version::{KubernetesVersion, NodeImageVersion};
use serde::{Deserialize, Serialize};

/// What a run will do with a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum MemberAction {
    Upgrade {
        target: UpgradeTarget,
        /// The hops after this one, in order, for a member more than one minor behind (see
        /// [`super::hops`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        then: Vec<UpgradeTarget>,
    },
    /// Nothing to do; the system skips it.
    Skip { reason: String },
    /// Waiting for something outside the run (a version not yet in the region); it does not
    /// block the next member of its group.
    Pending { reason: String },
    /// The member cannot take the target; it fails before any operation starts on it.
    Fail { reason: String },
}

/// A stopped cluster's member as the run wants it: skipped (as resolved) or failed.
pub fn with_stopped_policy(
    action: MemberAction,
    cluster: &ClusterState,
    policy: StoppedClusterAction,
) -> MemberAction {
    match action {
        MemberAction::Skip { reason }
            if cluster.power_state == PowerState::Stopped
                && policy == StoppedClusterAction::Fail =>
        {
            MemberAction::Fail { reason }
        }
        other => other,
    }
}

/// Resolves one member against the upgrade, the image choice and the catalog.
pub fn resolve_member(
    cluster: &ClusterState,
    upgrade: Upgrade,
    images: &ImageChoice,
    catalog: &Catalog,
    cfg: &EngineConfig,
) -> MemberAction {
    if cluster.power_state == PowerState::Stopped {
        return MemberAction::Skip {
            reason: "the cluster is stopped (powerState Stopped); start it to upgrade it".into(),
        };
    }
    if let Upgrade::ControlPlaneOnly(v) = upgrade
        && cluster.limits.control_plane_only_upgrades_pools
    {
        return MemberAction::Fail {
            reason: format!(
                "a ControlPlaneOnly upgrade of this cluster would upgrade every node pool to {v} too (its provider cannot upgrade the control plane alone, e.g. AKS with availability-set pools); use Full"
            ),
        };
    }
    let control_plane = match upgrade.kubernetes_version() {
        Some(target) => match control_plane_step(cluster, target, catalog, upgrade, cfg) {
            Ok(step) => step,
            Err(action) => return action,
        },
        None => None,
    };
    let mut node_pools = Vec::new();
    for pool in &cluster.node_pools {
        let kubernetes_version = match upgrade {
            Upgrade::Full(target) => (pool.kubernetes_version < target).then_some(Step {
                from: pool.kubernetes_version,
                to: target,
            }),
            Upgrade::ControlPlaneOnly(_) | Upgrade::NodeImageOnly => None,
        };
        let node_image_version = if upgrade.touches_node_images() {
            match image_step(cluster, pool, images, catalog) {
                Ok(step) => step,
                Err(ImageRefusal::Pending(reason)) => return MemberAction::Pending { reason },
                Err(ImageRefusal::Fail(reason)) => return MemberAction::Fail { reason },
            }
        } else {
            None
        };
        if kubernetes_version.is_some() || node_image_version.is_some() {
            node_pools.push(PoolTarget {
                name: pool.name.clone(),
                kubernetes_version,
                node_image_version,
            });
        }
    }
    let target = UpgradeTarget {
        control_plane,
        node_pools,
        resources: None,
    };
    if target.is_empty() {
        return MemberAction::Skip {
            reason: already_there(upgrade),
        };
    }
    MemberAction::Upgrade {
        target,
        then: Vec::new(),
    }
}

/// Whether a system skip's reason is [`already_there`]'s, or a placement run's for a member it
/// had nothing for: the member needed nothing (a catch-up run leaves such members out).
pub(crate) fn is_already_there(reason: &str) -> bool {
    [
        "already at ",
        "control plane already at ",
        "node images already at ",
        super::rollout::ALREADY_HOLDS,
        super::rollout::NOT_PICKED,
    ]
    .iter()
    .any(|start| reason.starts_with(start))
}

fn already_there(upgrade: Upgrade) -> String {
    match upgrade {
        Upgrade::Full(v) => format!("already at Kubernetes {v} with the selected node images"),
        Upgrade::ControlPlaneOnly(v) => format!("control plane already at Kubernetes {v}"),
        Upgrade::NodeImageOnly => "node images already at the selected versions".into(),
    }
}

/// The control-plane step, or the action that stops the member: a version missing from its
/// region (pending), a downgrade, a skipped minor or a skew violation (fail).
fn control_plane_step(
    cluster: &ClusterState,
    target: KubernetesVersion,
    catalog: &Catalog,
    upgrade: Upgrade,
    cfg: &EngineConfig,
) -> Result<Option<Step<KubernetesVersion>>, MemberAction> {
    let current = cluster.kubernetes_version;
    let region = &cluster.location;
    if current > target {
        return Err(MemberAction::Fail {
            reason: format!(
                "the control plane runs {current}, newer than the target {target}; Kubernetes cannot be downgraded"
            ),
        });
    }
    if target.minors_ahead_of(current) > 1 {
        return Err(MemberAction::Fail {
            reason: format!(
                "upgrading {current} to {target} would skip minor version {}.{}; upgrade to it first",
                current.major,
                current.minor + 1
            ),
        });
    }
    if current < target && !catalog.kubernetes_available_in(region, target) {
        return Err(MemberAction::Pending {
            reason: format!("Kubernetes {target} is not available in {region} yet"),
        });
    }
    if let Upgrade::ControlPlaneOnly(_) = upgrade {
        check_skew(&cluster.node_pools, target, cfg)?;
    }
    Ok((current < target).then_some(Step {
        from: current,
        to: target,
    }))
}

/// Node pools left behind by a control-plane-only upgrade must stay within the skew limit.
fn check_skew(
    pools: &[NodePool],
    target: KubernetesVersion,
    cfg: &EngineConfig,
) -> Result<(), MemberAction> {
    let limit = cfg.max_pool_skew_minors;
    match pools
        .iter()
        .find(|p| target.minors_ahead_of(p.kubernetes_version) > limit)
    {
        Some(pool) => Err(MemberAction::Fail {
            reason: format!(
                "node pool {} at {} would be {} minor versions behind the control plane at {target} (the limit is {limit}); upgrade the node pools first",
                pool.name,
                pool.kubernetes_version,
                target.minors_ahead_of(pool.kubernetes_version)
            ),
        }),
        None => Ok(()),
    }
}

/// The pool's node image step (never a downgrade), or why no image can be chosen.
/// Why a pool cannot take its image now (`Pending`) or at all (`Fail`).
enum ImageRefusal {
    Pending(String),
    Fail(String),
}

fn image_step(
    cluster: &ClusterState,
    pool: &NodePool,
    images: &ImageChoice,
    catalog: &Catalog,
) -> Result<Option<Step<NodeImageVersion>>, ImageRefusal> {
    let Some(release) = images
        .target(catalog, &cluster.location, &pool.os_sku)
        .map_err(ImageRefusal::Pending)?
    else {
        return Ok(None);
    };
    let current = &pool.node_image_version;
    if cluster.limits.node_images_newest_only && release > current.release {
        let newest = catalog.newest_node_image(&cluster.location, &pool.os_sku);
        if newest.is_some_and(|newest| *newest != release) {
            return Err(ImageRefusal::Fail(format!(
                "node pool '{}' can only be moved to the newest {} image in {} ({}), not to {release} as selected; its provider cannot install a chosen image (use nodeImageSelection Latest)",
                pool.name,
                pool.os_sku,
                cluster.location,
                newest.map_or_else(String::new, ToString::to_string)
            )));
        }
    }
    Ok((release > current.release).then(|| Step {
        from: current.clone(),
        to: NodeImageVersion::new(pool.os_sku.clone(), release),
    }))
}

/// The newest Kubernetes version in the catalog that none of `clusters` would fail on under
/// `scope` (no skipped minor, no downgrade, no skew beyond the limit): what a new run should
/// offer first. `None` when every version blocks someone (or the scope takes no version).
pub fn newest_workable_version(
    clusters: &[&ClusterState],
    scope: crate::model::update::UpgradeType,
    catalog: &Catalog,
    cfg: &EngineConfig,
) -> Option<KubernetesVersion> {
    use crate::model::update::UpgradeType;
    catalog
        .kubernetes_versions
        .iter()
        .rev()
        .copied()
        .find(|&v| {
            let upgrade = match scope {
                UpgradeType::Full => Upgrade::Full(v),
                UpgradeType::ControlPlaneOnly => Upgrade::ControlPlaneOnly(v),
                UpgradeType::NodeImageOnly => return false,
            };
            clusters.iter().all(|cluster| {
                !matches!(
                    resolve_member(cluster, upgrade, &ImageChoice::Latest, catalog, cfg),
                    MemberAction::Fail { .. }
                )
            })
        })
}
