//! The simulator's release train: new node images and Kubernetes patches over fleet time, so a
//! demo fleet has something new to follow (auto-upgrade profiles) as AKS's would. Seeded and
//! deterministic: the same seed and the same fleet times give the same releases.
//!
//! Every `every_days` of fleet time is a release: a node image of each family (Azure Linux
//! every other release, as its slower train), first in the region that leads that family, then
//! in each other region two days apart; every third release also a patch of each of the two
//! newest minors, in two regions first and everywhere three days later. The train's place
//! (when the next release is due, what is still rolling out) is kept in the store's settings,
//! so it resumes where it was after a restart.

use super::SimulatedProvider;
use super::rng::Rng;
use crate::clock::Clock;
use crate::store::FleetStore;
use app::model::catalog::Catalog;
use app::model::cluster::Region;
use app::model::time::{Timestamp, civil_from_days};
use app::model::version::{ImageFamily, ImageRelease, KubernetesVersion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The setting that holds the train's place.
const STATE_KEY: &str = "simulator.releases";
const DAY_MS: i64 = 86_400_000;
/// How many releases a train catches up at once after a long stop (the rest are skipped).
const CATCH_UP: usize = 8;
/// How often the train looks at the clock (real time).
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Where the train is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TrainState {
    /// When the next release is due (fleet time).
    pub next: Option<Timestamp>,
    /// Releases made so far.
    pub released: u64,
    /// What reaches more regions later.
    #[serde(default)]
    pub pending: Vec<Arrival>,
}

/// Something released that reaches a region (or, for a Kubernetes version, every region) at
/// `due`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Arrival {
    NodeImage {
        region: Region,
        family: ImageFamily,
        release: ImageRelease,
        due: Timestamp,
    },
    Everywhere {
        version: KubernetesVersion,
        due: Timestamp,
    },
}

impl Arrival {
    fn due(&self) -> Timestamp {
        match self {
            Arrival::NodeImage { due, .. } | Arrival::Everywhere { due, .. } => *due,
        }
    }

    fn apply(&self, catalog: &mut Catalog) {
        match self {
            Arrival::NodeImage {
                region,
                family,
                release,
                ..
            } => {
                if let Some(families) = catalog.node_images.get_mut(region) {
                    families
                        .entry(family.clone())
                        .or_default()
                        .push(release.clone());
                }
            }
            Arrival::Everywhere { version, .. } => {
                catalog.kubernetes_version_rollout.remove(version);
            }
        }
    }
}

/// The catalog and train after every release and arrival due by `now`; `None` when nothing
/// was due.
pub fn advance(
    catalog: &Catalog,
    state: &TrainState,
    now: Timestamp,
    every_days: u32,
    seed: u64,
) -> Option<(Catalog, TrainState)> {
    let every = i64::from(every_days.max(1)) * DAY_MS;
    let mut state = state.clone();
    let mut catalog = catalog.clone();
    let mut changed = false;
    let mut next = state.next.unwrap_or(now.plus_millis(every));
    let mut made = 0;
    while next <= now && made < CATCH_UP {
        release(&mut catalog, &mut state, next, seed);
        next = next.plus_millis(every);
        made += 1;
        changed = true;
    }
    if next <= now {
        next = now.plus_millis(every);
    }
    changed |= state.next != Some(next);
    state.next = Some(next);
    let (due, later): (Vec<Arrival>, Vec<Arrival>) =
        state.pending.drain(..).partition(|a| a.due() <= now);
    state.pending = later;
    for arrival in &due {
        arrival.apply(&mut catalog);
    }
    changed |= !due.is_empty();
    if !changed {
        return None;
    }
    let catalog = catalog.normalized().ok()?;
    Some((catalog, state))
}

/// One release at `at`: node images, and every third time Kubernetes patches.
fn release(catalog: &mut Catalog, state: &mut TrainState, at: Timestamp, seed: u64) {
    let number = state.released;
    state.released += 1;
    let mut rng = Rng::new(seed ^ number.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let families: BTreeSet<ImageFamily> = catalog.families().into_iter().cloned().collect();
    for family in &families {
        if slower_train(family) && number % 2 == 1 {
            continue;
        }
        release_image(catalog, state, family, at);
    }
    if number % 3 == 2 {
        release_patches(catalog, state, at, &mut rng);
    }
}

/// Azure Linux (and its predecessor, Mariner) ships node images half as often as Ubuntu.
fn slower_train(family: &ImageFamily) -> bool {
    let name = family.as_str();
    name.contains("AzureLinux") || name.contains("Mariner")
}

/// The family's next image: named after the day it comes out, in the region that has the
/// family's newest image now, then in the other regions two days apart.
fn release_image(
    catalog: &mut Catalog,
    state: &mut TrainState,
    family: &ImageFamily,
    at: Timestamp,
) {
    let Some(newest) = catalog.newest_node_image_anywhere(family).cloned() else {
        return;
    };
    let release = release_named(at, &newest);
    let mut regions: Vec<Region> = catalog
        .node_images
        .iter()
        .filter(|(_, families)| families.contains_key(family))
        .map(|(region, _)| region.clone())
        .collect();
    // The leader first; the others in the catalog's order.
    if let Some(lead) = regions
        .iter()
        .position(|r| catalog.newest_node_image(r, family) == Some(&newest))
    {
        let leader = regions.remove(lead);
        regions.insert(0, leader);
    }
    for (k, region) in regions.into_iter().enumerate() {
        let arrival = Arrival::NodeImage {
            region,
            family: family.clone(),
            release: release.clone(),
            due: at.plus_millis(2 * DAY_MS * k as i64),
        };
        match k {
            0 => arrival.apply(catalog),
            _ => state.pending.push(arrival),
        }
    }
}

/// `YYYYMM.DD.0` of `at`'s day, or past `newest` when that is not newer (a fast clock can make
/// two releases a day).
fn release_named(at: Timestamp, newest: &ImageRelease) -> ImageRelease {
    let (y, m, d) = civil_from_days(at.days_since_epoch());
    let dated =
        ImageRelease::parse(&format!("{y}{m:02}.{d:02}.0")).expect("a dated release is valid");
    if dated > *newest {
        return dated;
    }
    let text = newest.as_str();
    let (head, last) = text.rsplit_once('.').unwrap_or((text, "0"));
    let bumped = last.parse::<u64>().unwrap_or(0) + 1;
    ImageRelease::parse(&format!("{head}.{bumped}")).expect("a bumped release is valid")
}

/// A patch of each of the two newest minors, in the first two regions, everywhere three days
/// later.
fn release_patches(catalog: &mut Catalog, state: &mut TrainState, at: Timestamp, rng: &mut Rng) {
    let minors: BTreeSet<(u32, u32)> = catalog
        .kubernetes_versions
        .iter()
        .map(|v| v.minor_line())
        .collect();
    let first_regions: BTreeSet<Region> = catalog.regions().take(2).cloned().collect();
    for (major, minor) in minors.into_iter().rev().take(2) {
        let newest = catalog
            .kubernetes_versions
            .iter()
            .filter(|v| v.minor_line() == (major, minor))
            .max()
            .copied();
        let Some(newest) = newest else { continue };
        let patch = KubernetesVersion::new(major, minor, newest.patch + rng.range(1, 2));
        catalog.kubernetes_versions.push(patch);
        catalog
            .kubernetes_version_rollout
            .insert(patch, first_regions.clone());
        state.pending.push(Arrival::Everywhere {
            version: patch,
            due: at.plus_millis(3 * DAY_MS),
        });
    }
}

/// Runs the train until the simulator is dropped: every few seconds, whatever is due by the
/// fleet clock is released. Each replica may run one; they make the same releases.
pub fn spawn(
    simulator: &Arc<SimulatedProvider>,
    settings: Arc<dyn FleetStore>,
    clock: Arc<dyn Clock>,
    every_days: u32,
) {
    let simulator = Arc::downgrade(simulator);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let Some(simulator) = simulator.upgrade() else {
                return;
            };
            if let Err(error) = step(&simulator, &*settings, clock.now(), every_days).await {
                tracing::warn!(%error, "the simulator's release train could not move on; trying again");
            }
        }
    });
}

/// Releases what is due by `now`; `true` when the catalog changed.
pub async fn step(
    simulator: &SimulatedProvider,
    settings: &dyn FleetStore,
    now: Timestamp,
    every_days: u32,
) -> anyhow::Result<bool> {
    let state: TrainState = match settings.get_setting(STATE_KEY).await? {
        Some(text) => serde_json::from_str(&text)?,
        None => TrainState::default(),
    };
    let released_before = state.released;
    let catalog = simulator.current_catalog();
    let Some((catalog, state)) = advance(&catalog, &state, now, every_days, simulator.seed())
    else {
        return Ok(false);
    };
    let changed = catalog != simulator.current_catalog();
    if changed {
        simulator.put_catalog(catalog).await?;
    }
    settings
        .put_setting(STATE_KEY, &serde_json::to_string(&state)?)
        .await?;
    if state.released > released_before {
        tracing::info!(
            released = state.released,
            "the simulator released new versions"
        );
    } else if changed {
        tracing::debug!("versions the simulator released reached more regions");
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::simulated::generate;

    const NOW: Timestamp = Timestamp(1_796_300_000_000);

    #[test]
    fn nothing_is_released_before_the_first_release_is_due() {
        let catalog = generate::catalog(7);
        let (same, state) = advance(&catalog, &TrainState::default(), NOW, 7, 7).unwrap();
        assert_eq!(same, catalog, "the first look only schedules");
        assert_eq!(state.next, Some(NOW.plus_millis(7 * DAY_MS)));
        assert!(advance(&catalog, &state, NOW.plus_millis(DAY_MS), 7, 7).is_none());
    }

    #[test]
    fn images_lead_in_one_region_and_patches_roll_out_then_reach_everywhere() {
        let catalog = generate::catalog(7);
        let ubuntu = ImageFamily::parse(generate::UBUNTU).unwrap();
        let (_, mut state) = advance(&catalog, &TrainState::default(), NOW, 7, 7).unwrap();
        let mut now = NOW;
        let mut current = catalog.clone();
        // Three releases, a week apart: the third brings Kubernetes patches.
        for _ in 0..3 {
            now = now.plus_millis(7 * DAY_MS);
            (current, state) = advance(&current, &state, now, 7, 7).unwrap();
        }
        assert_eq!(state.released, 3);
        let newest = current.newest_node_image_anywhere(&ubuntu).unwrap();
        assert!(newest > catalog.newest_node_image_anywhere(&ubuntu).unwrap());
        let having: Vec<&Region> = current
            .regions()
            .filter(|r| current.newest_node_image(r, &ubuntu) == Some(newest))
            .collect();
        assert_eq!(having.len(), 1, "just released: one region has it");
        let patches: Vec<&KubernetesVersion> = current
            .kubernetes_versions
            .iter()
            .filter(|v| !catalog.kubernetes_versions.contains(v))
            .collect();
        assert_eq!(patches.len(), 2, "a patch of each of the two newest minors");
        assert!(
            patches
                .iter()
                .all(|v| current.kubernetes_version_rollout.contains_key(v))
        );
        // A week later every region has the image released then, and the patches are
        // everywhere (the seed's and fleet times' same releases again, to the byte).
        let later = now.plus_millis(6 * DAY_MS);
        let (settled, _) = advance(&current, &state, later, 7, 7).unwrap();
        assert!(
            settled
                .regions()
                .all(|r| settled.newest_node_image(r, &ubuntu) == Some(newest))
        );
        assert!(
            patches
                .iter()
                .all(|v| !settled.kubernetes_version_rollout.contains_key(v))
        );
        let (again, _) = advance(&current, &state, later, 7, 7).unwrap();
        assert_eq!(again, settled);
    }

    #[test]
    fn a_long_stop_catches_up_a_few_releases_and_skips_the_rest() {
        let catalog = generate::catalog(7);
        let (_, state) = advance(&catalog, &TrainState::default(), NOW, 7, 7).unwrap();
        let year_later = NOW.plus_millis(365 * DAY_MS);
        let (_, state) = advance(&catalog, &state, year_later, 7, 7).unwrap();
        assert_eq!(state.released, CATCH_UP as u64);
        assert_eq!(state.next, Some(year_later.plus_millis(7 * DAY_MS)));
    }

    #[test]
    fn two_releases_a_day_get_names_in_order() {
        let newest = ImageRelease::parse("202612.03.0").unwrap();
        let day = Timestamp(1_796_256_000_000); // 2026-12-03
        let named = release_named(day, &newest);
        assert_eq!(named.as_str(), "202612.03.1");
        assert!(named > newest);
    }
}
