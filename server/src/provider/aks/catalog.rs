//! The catalog of AKS: Kubernetes patch versions per region (`locations/{region}/kubernetesVersions`,
//! GA only unless configured) and, per region and image family, the newest node image (the
//! `latestNodeImageVersion` of one pool's upgrade profile; AKS publishes no image list).

use super::AksProvider;
use crate::provider::{Provider, ProviderError};
use app::model::catalog::Catalog;
use app::model::cluster::Region;
use app::model::version::{ImageFamily, KubernetesVersion, NodeImageVersion};
use std::collections::{BTreeMap, BTreeSet};

impl AksProvider {
    pub(super) async fn read_catalog(&self) -> Result<Catalog, ProviderError> {
        if self.seen.lock().expect("not poisoned").is_empty() {
            // Nothing observed since start: the subscriptions' clusters say which regions and
            // image families there are.
            self.known_clusters().await?;
        }
        let seen = self.seen.lock().expect("not poisoned").clone();
        if seen.is_empty() {
            return Err(ProviderError::transient(
                "the configured subscriptions have no AKS cluster, so no region is known",
            ));
        }
        let mut regions: BTreeMap<Region, String> = BTreeMap::new();
        let mut node_images: BTreeMap<Region, BTreeMap<ImageFamily, Vec<_>>> = BTreeMap::new();
        for ((region, family), (id, pool)) in &seen {
            regions
                .entry(region.clone())
                .or_insert_with(|| id.subscription.clone());
            let path = format!("{}/agentPools/{pool}/upgradeProfiles/default", id.path());
            let reply = self.arm.get(&path).await?;
            let latest = reply.body["properties"]["latestNodeImageVersion"]
                .as_str()
                .and_then(|v| NodeImageVersion::parse(v).ok());
            if let Some(latest) = latest.filter(|l| &l.family == family) {
                node_images
                    .entry(region.clone())
                    .or_default()
                    .insert(family.clone(), vec![latest.release]);
            }
        }
        let mut offered: BTreeMap<KubernetesVersion, BTreeSet<Region>> = BTreeMap::new();
        for (region, subscription) in &regions {
            let path = format!(
                "/subscriptions/{subscription}/providers/Microsoft.ContainerService/locations/{region}/kubernetesVersions"
            );
            let reply = self.arm.get(&path).await?;
            // Under `values`, not `value`.
            for minor in reply.body["values"].as_array().into_iter().flatten() {
                if minor["isPreview"].as_bool() == Some(true)
                    && !self.settings.include_preview_versions
                {
                    continue;
                }
                for patch in minor["patchVersions"]
                    .as_object()
                    .into_iter()
                    .flat_map(|p| p.keys())
                {
                    if let Ok(version) = KubernetesVersion::parse(patch) {
                        offered.entry(version).or_default().insert(region.clone());
                    }
                }
            }
        }
        let all: BTreeSet<Region> = node_images.keys().cloned().collect();
        let catalog = Catalog {
            kubernetes_versions: offered.keys().copied().collect(),
            kubernetes_version_rollout: offered
                .into_iter()
                .filter(|(_, r)| all.iter().any(|region| !r.contains(region)))
                .map(|(v, r)| (v, r.intersection(&all).cloned().collect()))
                .collect(),
            node_images,
        };
        catalog
            .normalized()
            .map_err(|e| ProviderError::transient(format!("the AKS catalog is incomplete: {e}")))
    }
}
