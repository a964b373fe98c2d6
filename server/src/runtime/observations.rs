//! What the providers observed of clusters, kept as long as each provider's policy allows, so a
//! run's pass asks once per provider for what it needs and a busy fleet is not observed over
//! and over. Observations are values: the engine gets them, it never asks a provider itself.

use crate::provider::ProviderError;
use crate::provider::registry::Providers;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An observation, shared: the same one goes to every decision that needs it until it is stale
/// (a busy run's pass would otherwise copy hundreds of cluster states).
pub type Observed = Result<Arc<ClusterState>, ProviderError>;

/// How long a failed observation is kept before it is asked again (never longer than the
/// provider's own bound): enough to spare a struggling provider a storm of repeats.
const FAILED_FOR: Duration = Duration::from_secs(2);

/// The last observation of a cluster, and the last that succeeded (shown, with a warning,
/// while the provider cannot answer).
struct Entry {
    at: Instant,
    /// `None`: to be observed again before it is used.
    observed: Option<Observed>,
    last_good: Option<Arc<ClusterState>>,
}

#[derive(Default)]
pub(super) struct Observations {
    entries: Mutex<HashMap<ClusterResourceId, Entry>>,
}

impl Observations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClusterResourceId, Entry>> {
        // A plain map of values: a panic elsewhere cannot leave it half-changed.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn put(
        entries: &mut HashMap<ClusterResourceId, Entry>,
        cluster: &ClusterResourceId,
        observed: Observed,
    ) {
        let last_good = match &observed {
            Ok(state) => Some(Arc::clone(state)),
            // A cluster that is gone has nothing left worth showing.
            Err(ProviderError::ClusterNotFound(_)) => None,
            Err(_) => entries.get(cluster).and_then(|e| e.last_good.clone()),
        };
        entries.insert(
            cluster.clone(),
            Entry {
                at: Instant::now(),
                observed: Some(observed),
                last_good,
            },
        );
    }

    /// What was last seen of `cluster` when an observation succeeded.
    pub fn last_good(&self, cluster: &ClusterResourceId) -> Option<Arc<ClusterState>> {
        self.lock().get(cluster).and_then(|e| e.last_good.clone())
    }

    /// What is known of `clusters`, observing (in one batch per provider) those whose last
    /// observation is older than their provider allows.
    pub async fn of(
        &self,
        providers: &Providers,
        clusters: &[ClusterResourceId],
    ) -> HashMap<ClusterResourceId, Observed> {
        let now = Instant::now();
        let mut known = HashMap::new();
        let mut stale = Vec::new();
        {
            let entries = self.lock();
            for cluster in clusters {
                let ttl = providers.policy_for(cluster).observation_ttl;
                let usable = entries.get(cluster).and_then(|e| {
                    let observed = e.observed.as_ref()?;
                    (now.duration_since(e.at) < keep_for(observed, ttl)).then_some(observed)
                });
                match usable {
                    Some(observed) => {
                        known.insert(cluster.clone(), observed.clone());
                    }
                    _ => stale.push(cluster.clone()),
                }
            }
        }
        stale.sort();
        stale.dedup();
        if stale.is_empty() {
            return known;
        }
        let answers = providers.observe_shared(&stale).await;
        let mut entries = self.lock();
        for (cluster, observed) in stale.into_iter().zip(answers) {
            Self::put(&mut entries, &cluster, observed.clone());
            known.insert(cluster, observed);
        }
        known
    }

    /// Records an observation made elsewhere (checking an upgrade's result, say).
    pub fn record(&self, cluster: &ClusterResourceId, observed: Observed) {
        Self::put(&mut self.lock(), cluster, observed);
    }

    /// Makes room for those of `clusters` not kept yet, so the cache does not grow (and
    /// rehash every entry it holds) while a run is being driven: at 57,000 clusters a doubling
    /// held a 100,000-member run's step for tens of milliseconds. Clusters already kept (seen
    /// by the fleet overview, say) are not counted twice.
    pub fn make_room<'c>(&self, clusters: impl IntoIterator<Item = &'c ClusterResourceId>) {
        let mut entries = self.lock();
        let absent = clusters
            .into_iter()
            .filter(|cluster| !entries.contains_key(*cluster))
            .count();
        entries.reserve(absent);
    }

    /// Makes the next look at `clusters` observe them afresh (an upgrade of theirs just
    /// ended); what was last seen stays until then.
    pub fn forget(&self, clusters: &[ClusterResourceId]) {
        let mut entries = self.lock();
        for cluster in clusters {
            if let Some(entry) = entries.get_mut(cluster) {
                entry.observed = None;
            }
        }
    }
}

/// How long an observation may be reused: the provider's bound, shorter for a failure.
fn keep_for(observed: &Observed, ttl: Duration) -> Duration {
    match observed {
        Ok(_) => ttl,
        Err(_) => ttl.min(FAILED_FOR),
    }
}
