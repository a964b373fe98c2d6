//! What a provider offers: Kubernetes versions, and node image releases per region and image
//! family. Regions lag one another (as in the AKS release tracker), which is why node image
//! selection `Consistent` exists.

use super::cluster::Region;
use super::version::{ImageFamily, ImageRelease, KubernetesVersion};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Catalog {
    /// Kubernetes versions offered, kept sorted ascending.
    pub kubernetes_versions: Vec<KubernetesVersion>,
    /// Per region, per image family: the releases available there, kept sorted ascending.
    pub node_images: BTreeMap<Region, BTreeMap<ImageFamily, Vec<ImageRelease>>>,
    /// Versions still rolling out, with the regions that have them so far. A version not listed
    /// here is available in every region.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kubernetes_version_rollout: BTreeMap<KubernetesVersion, BTreeSet<Region>>,
}

impl Catalog {
    /// Checks a catalog a user sent and puts it in canonical order (sorted, so "newest" is last).
    pub fn normalized(mut self) -> Result<Self, String> {
        if self.kubernetes_versions.is_empty() {
            return Err("the catalog needs at least one Kubernetes version".into());
        }
        self.kubernetes_versions.sort();
        if let Some(pair) = self.kubernetes_versions.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("Kubernetes version {} is listed twice", pair[0]));
        }
        if self.node_images.is_empty() {
            return Err("the catalog needs node images for at least one region".into());
        }
        for (version, regions) in &self.kubernetes_version_rollout {
            if !self.kubernetes_versions.contains(version) {
                return Err(format!(
                    "rollout lists Kubernetes {version}, which is not in kubernetesVersions"
                ));
            }
            if let Some(region) = regions.iter().find(|r| !self.node_images.contains_key(*r)) {
                return Err(format!(
                    "rollout of {version} names region {region}, which the catalog does not have"
                ));
            }
        }
        for (region, families) in &mut self.node_images {
            if families.is_empty() {
                return Err(format!("region {region} lists no node image family"));
            }
            for (family, releases) in families.iter_mut() {
                releases.sort();
                releases.dedup();
                if releases.is_empty() {
                    return Err(format!("region {region} lists no release of {family}"));
                }
            }
        }
        Ok(self)
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.node_images.keys()
    }

    pub fn has_region(&self, region: &Region) -> bool {
        self.node_images.contains_key(region)
    }

    /// Whether `version` can be installed in `region` now.
    pub fn kubernetes_available_in(&self, region: &Region, version: KubernetesVersion) -> bool {
        self.kubernetes_versions.contains(&version)
            && self
                .kubernetes_version_rollout
                .get(&version)
                .is_none_or(|regions| regions.contains(region))
    }

    pub fn newest_kubernetes_in(&self, region: &Region) -> Option<KubernetesVersion> {
        self.kubernetes_versions
            .iter()
            .rev()
            .copied()
            .find(|v| self.kubernetes_available_in(region, *v))
    }

    pub fn newest_kubernetes(&self) -> Option<KubernetesVersion> {
        self.kubernetes_versions.last().copied()
    }

    pub fn node_image_releases(&self, region: &Region, family: &ImageFamily) -> &[ImageRelease] {
        self.node_images
            .get(region)
            .and_then(|families| families.get(family))
            .map_or(&[], Vec::as_slice)
    }

    /// The newest release of `family` available in `region` (what `Latest` picks).
    pub fn newest_node_image(
        &self,
        region: &Region,
        family: &ImageFamily,
    ) -> Option<&ImageRelease> {
        self.node_image_releases(region, family).last()
    }

    /// The newest release of `family` in any region.
    pub fn newest_node_image_anywhere(&self, family: &ImageFamily) -> Option<&ImageRelease> {
        self.node_images
            .values()
            .filter_map(|families| families.get(family)?.last())
            .max()
    }

    /// Every image family any region offers.
    pub fn families(&self) -> BTreeSet<&ImageFamily> {
        self.node_images.values().flat_map(BTreeMap::keys).collect()
    }

    /// The regions where `version` is available.
    fn regions_with(&self, version: KubernetesVersion) -> BTreeSet<Region> {
        if !self.kubernetes_versions.contains(&version) {
            return BTreeSet::new();
        }
        match self.kubernetes_version_rollout.get(&version) {
            Some(regions) => regions.clone(),
            None => self.regions().cloned().collect(),
        }
    }

    /// The union of several providers' catalogs: every version, region and image any of them
    /// offers, each version available exactly where some provider has it.
    pub fn merged<'a>(catalogs: impl IntoIterator<Item = &'a Catalog>) -> Catalog {
        let catalogs: Vec<&Catalog> = catalogs.into_iter().collect();
        let mut merged = Catalog::default();
        for catalog in &catalogs {
            for (region, families) in &catalog.node_images {
                let into = merged.node_images.entry(region.clone()).or_default();
                for (family, releases) in families {
                    let list = into.entry(family.clone()).or_default();
                    list.extend(releases.iter().cloned());
                    list.sort();
                    list.dedup();
                }
            }
        }
        let versions: BTreeSet<KubernetesVersion> = catalogs
            .iter()
            .flat_map(|c| c.kubernetes_versions.iter().copied())
            .collect();
        let everywhere: BTreeSet<Region> = merged.regions().cloned().collect();
        for version in &versions {
            let regions: BTreeSet<Region> = catalogs
                .iter()
                .flat_map(|c| c.regions_with(*version))
                .collect();
            if regions != everywhere {
                merged.kubernetes_version_rollout.insert(*version, regions);
            }
        }
        merged.kubernetes_versions = versions.into_iter().collect();
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        serde_json::from_str::<Catalog>(
            r#"{"kubernetesVersions": ["1.31.2", "1.29.9", "1.30.5"],
                "nodeImages": {"eastus": {"AKSUbuntu-2204gen2containerd": ["202410.01.0", "202409.01.0"]},
                               "westeurope": {"AKSUbuntu-2204gen2containerd": ["202409.01.0"]}}}"#,
        )
        .unwrap()
        .normalized()
        .unwrap()
    }

    #[test]
    fn newest_versions_come_from_the_sorted_lists() {
        let c = catalog();
        let family = ImageFamily::parse("AKSUbuntu-2204gen2containerd").unwrap();
        let east = Region::parse("eastus").unwrap();
        let west = Region::parse("westeurope").unwrap();
        assert_eq!(c.newest_kubernetes().unwrap().to_string(), "1.31.2");
        assert_eq!(
            c.newest_node_image(&east, &family).unwrap().as_str(),
            "202410.01.0"
        );
        assert_eq!(
            c.newest_node_image(&west, &family).unwrap().as_str(),
            "202409.01.0"
        );
        assert_eq!(
            c.newest_node_image_anywhere(&family).unwrap().as_str(),
            "202410.01.0"
        );
    }

    #[test]
    fn unknown_regions_and_families_have_nothing() {
        let c = catalog();
        let family = ImageFamily::parse("AKSWindows-2022-containerd").unwrap();
        assert!(
            c.newest_node_image(&Region::parse("eastus").unwrap(), &family)
                .is_none()
        );
        assert!(!c.has_region(&Region::parse("mars").unwrap()));
    }

    #[test]
    fn a_version_rolling_out_is_only_where_it_has_arrived() {
        let mut c = catalog();
        let newest = KubernetesVersion::new(1, 31, 2);
        let east = Region::parse("eastus").unwrap();
        let west = Region::parse("westeurope").unwrap();
        c.kubernetes_version_rollout
            .insert(newest, BTreeSet::from([east.clone()]));
        let c = c.normalized().unwrap();
        assert!(c.kubernetes_available_in(&east, newest));
        assert!(!c.kubernetes_available_in(&west, newest));
        assert_eq!(c.newest_kubernetes_in(&west).unwrap().to_string(), "1.30.5");
        let mut bad = c.clone();
        bad.kubernetes_version_rollout
            .insert(newest, BTreeSet::from([Region::parse("mars").unwrap()]));
        assert!(bad.normalized().unwrap_err().contains("mars"));
    }

    #[test]
    fn merged_catalogs_offer_each_version_where_some_provider_has_it() {
        let sim = catalog();
        let lab: Catalog = serde_json::from_str(
            r#"{"kubernetesVersions": ["1.30.5", "1.32.0"],
                "nodeImages": {"lab-1": {"Ubuntu2204": ["2024.10"]}}}"#,
        )
        .unwrap();
        let merged = Catalog::merged([&sim, &lab]);
        let (east, lab1) = (
            Region::parse("eastus").unwrap(),
            Region::parse("lab-1").unwrap(),
        );
        let v = |m: u32, p: u32| KubernetesVersion::new(1, m, p);
        assert_eq!(merged.regions().count(), 3);
        assert!(merged.kubernetes_available_in(&east, v(30, 5)));
        assert!(
            merged.kubernetes_available_in(&lab1, v(30, 5)),
            "both offer it"
        );
        assert!(merged.kubernetes_available_in(&lab1, v(32, 0)));
        assert!(
            !merged.kubernetes_available_in(&east, v(32, 0)),
            "only the lab has 1.32"
        );
        assert!(
            !merged.kubernetes_available_in(&lab1, v(31, 2)),
            "only the simulator has 1.31"
        );
        assert!(
            !merged.kubernetes_version_rollout.contains_key(&v(30, 5)),
            "a version everywhere is not rolling out"
        );
        assert_eq!(merged.clone().normalized().unwrap(), merged);
    }

    #[test]
    fn rejects_empty_and_duplicated_lists() {
        let empty = Catalog::default();
        assert!(empty.normalized().is_err());
        let mut dup = catalog();
        dup.kubernetes_versions
            .push(KubernetesVersion::new(1, 30, 5));
        assert!(dup.normalized().unwrap_err().contains("listed twice"));
    }
}
