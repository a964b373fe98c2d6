//! What the providers observed of clusters, kept as long as each provider's policy allows, so a
//! run's pass asks once per provider for what it needs and a busy fleet is not observed over
//! and over. Observations are values: the engine gets them, it never asks a provider itself.

use crate::provider::ProviderError;
use crate::provider::registry::Providers;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub type Observed = Result<ClusterState, ProviderError>;

/// How long a failed observation is kept before it is asked again (never longer than the
/// provider's own bound): enough to spare a struggling provider a storm of repeats.
const FAILED_FOR: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(super) struct Observations {
    entries: Mutex<HashMap<ClusterResourceId, (Instant, Observed)>>,
}

impl Observations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClusterResourceId, (Instant, Observed)>> {
        // A plain map of values: a panic elsewhere cannot leave it half-changed.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
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
                match entries.get(cluster) {
                    Some((at, observed)) if now.duration_since(*at) < keep_for(observed, ttl) => {
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
        let answers = providers.observe(&stale).await;
        let mut entries = self.lock();
        for (cluster, observed) in stale.into_iter().zip(answers) {
            entries.insert(cluster.clone(), (Instant::now(), observed.clone()));
            known.insert(cluster, observed);
        }
        known
    }

    /// Records an observation made elsewhere (checking an upgrade's result, say).
    pub fn record(&self, cluster: &ClusterResourceId, observed: Observed) {
        self.lock()
            .insert(cluster.clone(), (Instant::now(), observed));
    }

    /// Forgets what was observed of `clusters` (an upgrade of theirs just ended).
    pub fn forget(&self, clusters: &[ClusterResourceId]) {
        let mut entries = self.lock();
        for cluster in clusters {
            entries.remove(cluster);
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
