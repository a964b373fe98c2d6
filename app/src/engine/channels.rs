//! What an auto-upgrade profile's channel wants of a fleet now: the upgrade a generated run
//! makes, the versions it names, and how many of the fleet's clusters it would change. Pure:
//! the server asks it on every trigger, over the catalog and the clusters as observed.

use super::images::consistent_images;
use crate::model::auto_upgrade::{
    AutoUpgradeNodeImageSelectionType, AutoUpgradeProfile, MinorVersion, UpgradeChannel,
};
use crate::model::catalog::Catalog;
use crate::model::cluster::ClusterState;
use crate::model::update::{
    ManagedClusterUpdate, NodeImageSelection, NodeImageSelectionType, UpgradeSpec, UpgradeType,
};
use crate::model::version::{ImageFamily, ImageRelease, KubernetesVersion, NodeImageVersion};
use std::collections::{BTreeMap, BTreeSet};

/// How many minors AKS supports at once (N, N-1, N-2); older ones need long-term support.
const SUPPORTED_MINORS: usize = 3;

/// What a channel resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTarget {
    /// The generated run's update.
    pub update: ManagedClusterUpdate,
    /// What the run upgrades to, for the profile's status: a Kubernetes version, or node
    /// image versions.
    pub versions: Vec<String>,
    /// The run's name after the profile's: the same upgrade always gets the same name, which
    /// makes generating idempotent.
    pub run_suffix: String,
    /// Clusters (of those observed) the upgrade would change: none means nothing to do.
    pub wanted_by: usize,
}

/// Why a channel resolved to nothing: a code for the API and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRefusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: String) -> ChannelRefusal {
    ChannelRefusal { code, message }
}

/// The upgrade `profile`'s channel wants for `clusters` (the fleet's members as observed) from
/// `catalog`.
pub fn resolve_channel(
    profile: &AutoUpgradeProfile,
    catalog: &Catalog,
    clusters: &[&ClusterState],
) -> Result<ChannelTarget, ChannelRefusal> {
    match profile.channel {
        UpgradeChannel::NodeImage => Ok(node_images(profile, catalog, clusters, |_| true)),
        UpgradeChannel::SecurityPatch => {
            let target = node_images(profile, catalog, clusters, is_linux);
            match target.versions.is_empty() {
                true => Err(refuse(
                    "NoLinuxNodeImages",
                    "channel SecurityPatch patches Linux node images, and the fleet's pools run none the catalog offers".into(),
                )),
                false => Ok(target),
            }
        }
        UpgradeChannel::Stable
        | UpgradeChannel::Rapid
        | UpgradeChannel::TargetKubernetesVersion => {
            let version = channel_version(profile, catalog)?;
            let version = one_minor_at_a_time(version, catalog, clusters);
            Ok(kubernetes(profile, version, clusters))
        }
    }
}

/// The minors the catalog offers, oldest first.
fn minors(catalog: &Catalog) -> Vec<MinorVersion> {
    let minors: BTreeSet<MinorVersion> = catalog
        .kubernetes_versions
        .iter()
        .map(|v| MinorVersion::of(*v))
        .collect();
    minors.into_iter().collect()
}

fn newest_patch(catalog: &Catalog, minor: MinorVersion) -> Option<KubernetesVersion> {
    catalog
        .kubernetes_versions
        .iter()
        .rev()
        .copied()
        .find(|v| MinorVersion::of(*v) == minor)
}

/// The Kubernetes version the channel follows, before the one-minor rule.
fn channel_version(
    profile: &AutoUpgradeProfile,
    catalog: &Catalog,
) -> Result<KubernetesVersion, ChannelRefusal> {
    let minors = minors(catalog);
    let newest = *minors.last().ok_or_else(|| {
        refuse(
            "NoKubernetesVersions",
            "the catalog offers no Kubernetes version".into(),
        )
    })?;
    let minor = match profile.channel {
        UpgradeChannel::Rapid => newest,
        UpgradeChannel::Stable => *minors.iter().rev().nth(1).ok_or_else(|| {
            refuse(
                "NoStableVersion",
                format!("channel Stable follows the minor before the newest ({newest}), and the catalog offers no other"),
            )
        })?,
        _ => target_minor(profile, &minors)?,
    };
    newest_patch(catalog, minor).ok_or_else(|| {
        refuse(
            "KubernetesVersionNotOffered",
            format!("Kubernetes {minor} is not offered"),
        )
    })
}

/// `targetKubernetesVersion`, offered and supported (or under long-term support).
fn target_minor(
    profile: &AutoUpgradeProfile,
    minors: &[MinorVersion],
) -> Result<MinorVersion, ChannelRefusal> {
    let Some(minor) = profile.target_kubernetes_version else {
        return Err(refuse(
            "InvalidAutoUpgradeProfile",
            "channel TargetKubernetesVersion needs a targetKubernetesVersion".into(),
        ));
    };
    let Some(position) = minors.iter().position(|m| *m == minor) else {
        return Err(refuse(
            "KubernetesVersionNotOffered",
            format!("Kubernetes {minor} is not offered yet; a run is generated once it is"),
        ));
    };
    let supported_from = minors.len().saturating_sub(SUPPORTED_MINORS);
    if position < supported_from && !profile.long_term_support {
        return Err(refuse(
            "KubernetesVersionOutOfSupport",
            format!(
                "Kubernetes {minor} is out of standard support (supported: {} to {}); set longTermSupport to keep following it",
                minors[supported_from],
                minors[minors.len() - 1]
            ),
        ));
    }
    Ok(minor)
}

/// Never more than one minor a run: when `version` would skip a minor for some cluster, the
/// run goes to the next minor of the furthest behind instead, if no cluster already runs
/// newer than that (a run to it would fail those as downgrades); otherwise `version` stays, and
/// the clusters too far behind fail with the engine's reason.
fn one_minor_at_a_time(
    version: KubernetesVersion,
    catalog: &Catalog,
    clusters: &[&ClusterState],
) -> KubernetesVersion {
    let behind = clusters
        .iter()
        .map(|c| c.kubernetes_version)
        .filter(|v| *v < version)
        .min();
    let Some(lowest) = behind else {
        return version;
    };
    if version.minors_ahead_of(lowest) <= 1 {
        return version;
    }
    let hop = newest_patch(catalog, MinorVersion::of(lowest).next());
    match hop {
        Some(hop) if clusters.iter().all(|c| c.kubernetes_version <= hop) => hop,
        _ => version,
    }
}

fn kubernetes(
    profile: &AutoUpgradeProfile,
    version: KubernetesVersion,
    clusters: &[&ClusterState],
) -> ChannelTarget {
    let wanted_by = clusters
        .iter()
        .filter(|c| {
            c.kubernetes_version < version
                || c.node_pools.iter().any(|p| p.kubernetes_version < version)
        })
        .count();
    let kind = match profile.node_image_selection.kind {
        AutoUpgradeNodeImageSelectionType::Latest => NodeImageSelectionType::Latest,
        AutoUpgradeNodeImageSelectionType::Consistent => NodeImageSelectionType::Consistent,
    };
    ChannelTarget {
        update: ManagedClusterUpdate {
            upgrade: UpgradeSpec {
                kind: UpgradeType::Full,
                kubernetes_version: Some(version),
                // Azure's rule: never more than one minor a run.
                hops: Default::default(),
            },
            node_image_selection: NodeImageSelection::of(kind),
            stopped_cluster_action: Default::default(),
            defer_until_available: None,
        },
        versions: vec![version.to_string()],
        run_suffix: version.to_string().replace('.', "-"),
        wanted_by,
    }
}

fn is_linux(family: &ImageFamily) -> bool {
    !family.as_str().starts_with("AKSWindows")
}

/// Node images of the families `keep` lets through: the newest of each (in any region for
/// `Latest`, in every region of the fleet's clusters for `Consistent`).
fn node_images(
    profile: &AutoUpgradeProfile,
    catalog: &Catalog,
    clusters: &[&ClusterState],
    keep: fn(&ImageFamily) -> bool,
) -> ChannelTarget {
    let consistent =
        profile.node_image_selection.kind == AutoUpgradeNodeImageSelectionType::Consistent;
    let images = newest_images(catalog, clusters, consistent, keep);
    let wanted_by = clusters
        .iter()
        .filter(|c| {
            c.node_pools.iter().any(|pool| {
                let family = &pool.os_sku;
                let newest = match consistent {
                    true => images.get(family),
                    false => catalog.newest_node_image(&c.location, family),
                };
                keep(family) && newest.is_some_and(|n| *n > pool.node_image_version.release)
            })
        })
        .count();
    let versions: Vec<String> = images
        .iter()
        .map(|(family, release)| NodeImageVersion::new(family.clone(), release.clone()).to_string())
        .collect();
    let selection = match (profile.channel, consistent) {
        // Only the families given move: Windows pools keep their images.
        (UpgradeChannel::SecurityPatch, _) => NodeImageSelection::custom(&images),
        (_, true) => NodeImageSelection::of(NodeImageSelectionType::Consistent),
        (_, false) => NodeImageSelection::of(NodeImageSelectionType::Latest),
    };
    ChannelTarget {
        update: ManagedClusterUpdate {
            upgrade: UpgradeSpec {
                kind: UpgradeType::NodeImageOnly,
                kubernetes_version: None,
                hops: Default::default(),
            },
            node_image_selection: selection,
            stopped_cluster_action: Default::default(),
            defer_until_available: None,
        },
        run_suffix: format!("images-{:08x}", fnv1a(&versions.join(" ")) as u32),
        versions,
        wanted_by,
    }
}

/// Per family the fleet's pools run (every family the catalog offers when none is observed),
/// the newest release: anywhere, or offered in every region where the family runs.
fn newest_images(
    catalog: &Catalog,
    clusters: &[&ClusterState],
    consistent: bool,
    keep: fn(&ImageFamily) -> bool,
) -> BTreeMap<ImageFamily, ImageRelease> {
    let images = match consistent {
        true => consistent_images(clusters.iter().copied(), catalog),
        false => {
            let mut families: BTreeSet<&ImageFamily> = clusters
                .iter()
                .flat_map(|c| c.node_pools.iter().map(|p| &p.os_sku))
                .collect();
            if families.is_empty() {
                families = catalog.families();
            }
            families
                .into_iter()
                .filter_map(|f| Some((f.clone(), catalog.newest_node_image_anywhere(f)?.clone())))
                .collect()
        }
    };
    images
        .into_iter()
        .filter(|(family, _)| keep(family))
        .collect()
}

/// FNV-1a: a hash that stays the same across builds and platforms (names made from it must).
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
#[path = "channels_tests.rs"]
mod tests;
