//! Runs waiting for a cluster another run is upgrading are woken when that upgrade ends, not by
//! polling. A driver registers what it waits for after each decision; a driver whose decision
//! ended upgrades wakes the runs waiting for those clusters. A release counter closes the gap
//! between reading the leases and registering: a waiter that registers after a release it did
//! not see looks again at once.

use super::RunKey;
use app::model::member::ClusterResourceId;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

#[derive(Default)]
pub(super) struct Waiting {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every release; a waiter compares it with the value it read before deciding.
    releases: u64,
    waiters: HashMap<ClusterResourceId, HashSet<RunKey>>,
}

impl Waiting {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Plain maps and a counter: a panic elsewhere cannot leave them half-changed.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The release counter now: read it before reading the leases a decision uses.
    pub fn releases(&self) -> u64 {
        self.lock().releases
    }

    /// Registers `run` as waiting for `clusters`. `true` when a release happened since
    /// `seen` (the counter read before the decision): the caller must look again now.
    pub fn wait_for(&self, run: &RunKey, clusters: Vec<ClusterResourceId>, seen: u64) -> bool {
        let mut inner = self.lock();
        for cluster in clusters {
            inner
                .waiters
                .entry(cluster)
                .or_default()
                .insert(run.clone());
        }
        inner.releases != seen
    }

    /// Every run waiting for a cluster now. A release by another replica's run is not seen
    /// here: these runs look again at every renewal of the holds.
    pub fn waiters(&self) -> HashSet<RunKey> {
        self.lock().waiters.values().flatten().cloned().collect()
    }

    /// Records that `clusters` were released; returns the runs waiting for them (forgotten
    /// here: they register again if they still wait).
    pub fn released(&self, clusters: &[ClusterResourceId]) -> HashSet<RunKey> {
        let mut inner = self.lock();
        inner.releases += 1;
        clusters
            .iter()
            .filter_map(|c| inner.waiters.remove(c))
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::names::{FleetName, RunName};

    fn key(run: &str) -> RunKey {
        (FleetName::parse("f").unwrap(), RunName::parse(run).unwrap())
    }

    fn cluster(name: &str) -> ClusterResourceId {
        ClusterResourceId::parse(&format!("sim:{name}")).unwrap()
    }

    #[test]
    fn a_release_wakes_the_runs_waiting_for_that_cluster_once() {
        let waiting = Waiting::default();
        let seen = waiting.releases();
        assert!(!waiting.wait_for(&key("a"), vec![cluster("c1")], seen));
        assert!(!waiting.wait_for(&key("b"), vec![cluster("c2")], seen));
        let woken = waiting.released(&[cluster("c1")]);
        assert_eq!(woken, HashSet::from([key("a")]));
        assert!(waiting.released(&[cluster("c1")]).is_empty(), "woken once");
    }

    #[test]
    fn a_release_between_reading_leases_and_registering_is_not_lost() {
        let waiting = Waiting::default();
        let seen = waiting.releases();
        // Another run's upgrade of c1 ends after this run read the leases...
        assert!(waiting.released(&[cluster("c1")]).is_empty());
        // ...so registering says: look again now.
        assert!(waiting.wait_for(&key("a"), vec![cluster("c1")], seen));
    }
}
