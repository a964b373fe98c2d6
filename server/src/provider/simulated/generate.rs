//! Seeded generation of a realistic simulated world: a catalog whose regions lag one another in
//! node image releases (as in the AKS release tracker), and clusters with mixed versions.

use super::rng::Rng;
use app::model::catalog::Catalog;
use app::model::cluster::{ClusterState, NodePool, Region};
use app::model::time::{civil_from_days, days_from_civil};
use app::model::version::{ImageFamily, ImageRelease, KubernetesVersion, NodeImageVersion};
use std::collections::BTreeMap;

pub const REGIONS: [&str; 4] = ["eastus", "westeurope", "southeastasia", "australiaeast"];
pub const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";
pub const AZURE_LINUX: &str = "AKSAzureLinux-V2gen2";
const FAMILIES: [(&str, i64); 2] = [(UBUNTU, 7), (AZURE_LINUX, 14)];
const MINORS: std::ops::RangeInclusive<u32> = 28..=31;

fn region(name: &str) -> Region {
    Region::parse(name).expect("region constants are valid")
}

fn family(name: &str) -> ImageFamily {
    ImageFamily::parse(name).expect("family constants are valid")
}

/// Several patches of each of four minor versions.
fn kubernetes_versions(rng: &mut Rng) -> Vec<KubernetesVersion> {
    let mut versions = Vec::new();
    for minor in MINORS {
        let mut patch = rng.range(0, 6);
        for _ in 0..rng.range(2, 4) {
            versions.push(KubernetesVersion::new(1, minor, patch));
            patch += rng.range(1, 4);
        }
    }
    versions
}

/// Releases `YYYYMM.DD.0` at a family's cadence, the newest in late November 2024, so every
/// family's train reaches the present.
fn releases(rng: &mut Rng, every_days: i64, count: usize) -> Vec<ImageRelease> {
    let mut day = days_from_civil(2024, 11, 25) - i64::from(rng.range(0, 6));
    let mut releases: Vec<ImageRelease> = (0..count)
        .map(|_| {
            let (y, m, d) = civil_from_days(day);
            day -= every_days + i64::from(rng.range(0, 2));
            ImageRelease::parse(&format!("{y}{m:02}.{d:02}.0"))
                .expect("generated releases are valid")
        })
        .collect();
    releases.reverse();
    releases
}

fn newest_rollout(
    versions: &[KubernetesVersion],
) -> BTreeMap<KubernetesVersion, std::collections::BTreeSet<Region>> {
    let newest = versions.iter().max().copied();
    newest
        .map(|v| (v, REGIONS[..2].iter().map(|r| region(r)).collect()))
        .into_iter()
        .collect()
}

/// A catalog where the first region has every release and the others lag by up to three.
pub fn catalog(seed: u64) -> Catalog {
    let mut rng = Rng::new(seed);
    let kubernetes_versions = kubernetes_versions(&mut rng);
    let trains: Vec<(ImageFamily, Vec<ImageRelease>)> = FAMILIES
        .iter()
        .map(|(name, cadence)| (family(name), releases(&mut rng, *cadence, 12)))
        .collect();
    let kubernetes_version_rollout = newest_rollout(&kubernetes_versions);
    let mut node_images = BTreeMap::new();
    for (i, name) in REGIONS.iter().enumerate() {
        let lag = if i == 0 { 0 } else { rng.range(1, 3) as usize };
        let families = trains
            .iter()
            .map(|(family, all)| (family.clone(), all[..all.len() - lag].to_vec()))
            .collect();
        node_images.insert(region(name), families);
    }
    Catalog {
        kubernetes_versions,
        node_images,
        // The newest version is still rolling out: only the first two regions have it.
        kubernetes_version_rollout,
    }
    .normalized()
    .expect("a generated catalog is valid")
}

fn patch_of(rng: &mut Rng, catalog: &Catalog, minor: u32) -> KubernetesVersion {
    let patches: Vec<_> = catalog
        .kubernetes_versions
        .iter()
        .filter(|v| v.minor == minor)
        .copied()
        .collect();
    *rng.pick(&patches)
}

/// A release a few weeks behind the newest in the region, or the newest.
fn image(
    rng: &mut Rng,
    catalog: &Catalog,
    region: &Region,
    family: &ImageFamily,
) -> NodeImageVersion {
    let releases = catalog.node_image_releases(region, family);
    let behind = rng.range(0, 3).min(releases.len() as u32 - 1) as usize;
    NodeImageVersion::new(
        family.clone(),
        releases[releases.len() - 1 - behind].clone(),
    )
}

/// One cluster in `region`: control plane on one of the older minors (so there is an upgrade to
/// do), a system pool and up to `max_pools - 1` user pools, some a minor behind.
pub fn cluster(rng: &mut Rng, catalog: &Catalog, region: &Region, max_pools: u32) -> ClusterState {
    let newest_minor = catalog
        .newest_kubernetes()
        .map_or(*MINORS.end(), |v| v.minor);
    let cp_minor = newest_minor - rng.range(1, 2);
    let control_plane = patch_of(rng, catalog, cp_minor);
    let node_pools = (0..rng.range(1, max_pools.max(1)))
        .map(|i| {
            let lagging = i > 0 && rng.chance(0.25);
            let version = if lagging {
                patch_of(rng, catalog, cp_minor - 1)
            } else {
                control_plane
            };
            let os = if i == 0 || rng.chance(0.6) {
                UBUNTU
            } else {
                AZURE_LINUX
            };
            let os_sku = family(os);
            NodePool {
                name: if i == 0 {
                    "system".into()
                } else {
                    format!("user{i}")
                },
                count: if i == 0 {
                    rng.range(1, 5)
                } else {
                    rng.range(1, 100)
                },
                kubernetes_version: version,
                node_image_version: image(rng, catalog, region, &os_sku),
                os_sku,
            }
        })
        .collect();
    ClusterState {
        location: region.clone(),
        kubernetes_version: control_plane,
        node_pools,
        maintenance_window: None,
        node_os_maintenance_window: None,
        power_state: Default::default(),
        limits: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_world() {
        assert_eq!(catalog(42), catalog(42));
        assert_ne!(catalog(42), catalog(43));
        let c = catalog(42);
        let east = region("eastus");
        let mut a = Rng::new(9);
        let mut b = Rng::new(9);
        assert_eq!(cluster(&mut a, &c, &east, 5), cluster(&mut b, &c, &east, 5));
    }

    #[test]
    fn regions_lag_the_first_one() {
        let c = catalog(42);
        let ubuntu = family(UBUNTU);
        let newest_east = c.newest_node_image(&region("eastus"), &ubuntu).unwrap();
        for name in &REGIONS[1..] {
            assert!(
                c.newest_node_image(&region(name), &ubuntu).unwrap() < newest_east,
                "{name}"
            );
        }
    }

    #[test]
    fn the_catalog_offers_several_patches_of_several_minors() {
        let c = catalog(7);
        for minor in MINORS {
            let patches = c
                .kubernetes_versions
                .iter()
                .filter(|v| v.minor == minor)
                .count();
            assert!(
                (2..=4).contains(&patches),
                "1.{minor} has {patches} patches"
            );
        }
    }

    #[test]
    fn generated_clusters_are_valid_and_upgradable() {
        let c = catalog(42);
        let mut rng = Rng::new(1);
        for name in REGIONS {
            for _ in 0..50 {
                let cluster = cluster(&mut rng, &c, &region(name), 5);
                assert_eq!(cluster.validate(), Ok(()));
                assert!(cluster.kubernetes_version < c.newest_kubernetes().unwrap());
                assert!((1..=5).contains(&cluster.node_pools.len()));
            }
        }
    }
}
