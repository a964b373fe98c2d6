//! Node image selection: `Latest` (newest in the member's region when it starts) and
//! `Consistent` (per family, the newest release available in every region of the run's members).

use crate::model::catalog::Catalog;
use crate::model::cluster::{ClusterState, Region};
use crate::model::version::{ImageFamily, ImageRelease, NodeImageVersion};
use std::collections::{BTreeMap, BTreeSet};

/// How a run picks node images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageChoice {
    Latest,
    /// The releases fixed at run start, per family. A family missing here had no release common
    /// to all its regions.
    Consistent(BTreeMap<ImageFamily, ImageRelease>),
}

impl ImageChoice {
    /// The release a pool of `family` in `region` should run, or why there is none.
    pub fn target(
        &self,
        catalog: &Catalog,
        region: &Region,
        family: &ImageFamily,
    ) -> Result<ImageRelease, String> {
        match self {
            ImageChoice::Latest => catalog
                .newest_node_image(region, family)
                .cloned()
                .ok_or_else(|| format!("no {family} node image is offered in {region}")),
            ImageChoice::Consistent(selected) => selected.get(family).cloned().ok_or_else(|| {
                format!("no {family} node image is available in every region of the run")
            }),
        }
    }

    /// The fixed versions of a Consistent choice, as full node image versions.
    pub fn selected_versions(&self) -> Vec<NodeImageVersion> {
        match self {
            ImageChoice::Latest => Vec::new(),
            ImageChoice::Consistent(selected) => selected
                .iter()
                .map(|(family, release)| NodeImageVersion::new(family.clone(), release.clone()))
                .collect(),
        }
    }
}

/// Per image family used by `clusters`, the newest release offered in every region where the
/// family runs. Families with no common release are left out (their pools will be pending).
pub fn consistent_images<'a>(
    clusters: impl IntoIterator<Item = &'a ClusterState>,
    catalog: &Catalog,
) -> BTreeMap<ImageFamily, ImageRelease> {
    let mut regions: BTreeMap<&ImageFamily, BTreeSet<&Region>> = BTreeMap::new();
    for cluster in clusters {
        for pool in &cluster.node_pools {
            regions
                .entry(&pool.os_sku)
                .or_default()
                .insert(&cluster.location);
        }
    }
    regions
        .into_iter()
        .filter_map(|(family, regions)| {
            let mut common: Option<BTreeSet<&ImageRelease>> = None;
            for region in regions {
                let offered: BTreeSet<&ImageRelease> =
                    catalog.node_image_releases(region, family).iter().collect();
                common = Some(match common {
                    None => offered,
                    Some(so_far) => so_far.intersection(&offered).copied().collect(),
                });
            }
            let newest = common?.into_iter().max()?.clone();
            Some((family.clone(), newest))
        })
        .collect()
}
