//! Node image selection: `Latest` (newest in the member's region when it starts),
//! `Consistent` (per family, the newest release available in every region of the run's members)
//! and `Custom` (exactly the images the run names).

use crate::model::catalog::Catalog;
use crate::model::cluster::{ClusterState, Region};
use crate::model::run::UpdateRun;
use crate::model::update::NodeImageSelectionType;
use crate::model::version::{ImageFamily, ImageRelease, NodeImageVersion};
use std::collections::{BTreeMap, BTreeSet};

/// How a run picks node images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageChoice {
    Latest,
    /// The releases fixed at run start, per family. A family missing here had no release common
    /// to all its regions.
    Consistent(BTreeMap<ImageFamily, ImageRelease>),
    /// The releases the run names, per family; pools of another family keep their image.
    Custom(BTreeMap<ImageFamily, ImageRelease>),
}

impl ImageChoice {
    /// How a created run picks images: Consistent ones once fixed at its start (`Latest` before,
    /// when nothing moves anyway), Custom ones as its spec names them.
    pub fn of_run(run: &UpdateRun) -> Self {
        let selection = &run.spec.update.node_image_selection;
        match (selection.kind, &run.selected_images) {
            (NodeImageSelectionType::Custom, _) => {
                ImageChoice::Custom(selection.checked().unwrap_or_default())
            }
            (_, Some(selected)) => ImageChoice::Consistent(selected.clone()),
            (_, None) => ImageChoice::Latest,
        }
    }

    /// The release a pool of `family` in `region` should run (`None`: leave its image alone),
    /// or why there is none yet.
    pub fn target(
        &self,
        catalog: &Catalog,
        region: &Region,
        family: &ImageFamily,
    ) -> Result<Option<ImageRelease>, String> {
        match self {
            ImageChoice::Latest => catalog
                .newest_node_image(region, family)
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("no {family} node image is offered in {region}")),
            ImageChoice::Consistent(selected) => {
                selected.get(family).cloned().map(Some).ok_or_else(|| {
                    format!("no {family} node image is available in every region of the run")
                })
            }
            ImageChoice::Custom(selected) => match selected.get(family) {
                None => Ok(None),
                Some(release)
                    if catalog
                        .node_image_releases(region, family)
                        .contains(release) =>
                {
                    Ok(Some(release.clone()))
                }
                Some(release) => Err(format!(
                    "node image {family}-{release} is not offered in {region} yet"
                )),
            },
        }
    }

    /// The versions a Consistent or Custom choice fixed, as full node image versions.
    pub fn selected_versions(&self) -> Vec<NodeImageVersion> {
        match self {
            ImageChoice::Latest => Vec::new(),
            ImageChoice::Consistent(selected) | ImageChoice::Custom(selected) => selected
                .iter()
                .map(|(family, release)| NodeImageVersion::new(family.clone(), release.clone()))
                .collect(),
        }
    }
}

/// A Custom selection that names no image for some family the run's pools use leaves those
/// pools alone; the plan says so, since it may be an oversight.
pub fn unnamed_families_warning(
    images: &ImageChoice,
    clusters: &[&ClusterState],
) -> Option<String> {
    let ImageChoice::Custom(named) = images else {
        return None;
    };
    let unnamed: BTreeSet<String> = clusters
        .iter()
        .flat_map(|c| &c.node_pools)
        .filter(|pool| !named.contains_key(&pool.os_sku))
        .map(|pool| pool.os_sku.to_string())
        .collect();
    (!unnamed.is_empty()).then(|| {
        let families: Vec<String> = unnamed.into_iter().collect();
        format!(
            "Node pools of {} keep their images: customNodeImageVersions names none for them.",
            families.join(", ")
        )
    })
}

/// Every image a Custom selection names must be offered somewhere: a typo would otherwise
/// leave every pool of the family `Pending` for ever.
pub fn check_custom_images(
    selected: &BTreeMap<ImageFamily, ImageRelease>,
    catalog: &Catalog,
) -> Result<(), String> {
    for (family, release) in selected {
        let offered = catalog.regions().any(|region| {
            catalog
                .node_image_releases(region, family)
                .contains(release)
        });
        if !offered {
            let newest = catalog
                .newest_node_image_anywhere(family)
                .map_or_else(|| "none".to_string(), |r| format!("{family}-{r}"));
            return Err(format!(
                "node image {family}-{release} is not offered in any region (newest {family}: {newest})"
            ));
        }
    }
    Ok(())
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
