//! Every provider of the server, routed by the form of a cluster id: what the rest of Drydock
//! calls instead of any one provider. Batches are split per provider and asked concurrently;
//! catalogs are merged (a provider that cannot answer now lends its last good catalog); each
//! provider's health (last success, last error) is kept for `GET /api/v1/providers`.

use super::{Operation, OperationRef, Policy, Provider, ProviderError, UpgradeRequest};
use crate::clock::Clock;
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use app::model::time::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::Instrument as _;

/// What a provider's calls did lately.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub last_success: Option<Timestamp>,
    pub last_error: Option<(Timestamp, String)>,
}

pub struct Providers {
    providers: Vec<Arc<dyn Provider>>,
    clock: Arc<dyn Clock>,
    health: Mutex<HashMap<String, Health>>,
    catalogs: Mutex<HashMap<String, Catalog>>,
}

/// The policy for clusters no provider owns (they cannot be asked anything anyway).
fn fallback_policy() -> Policy {
    Policy {
        poll_interval: Duration::from_secs(30),
        observation_ttl: Duration::ZERO,
        attempt_timeout: Duration::from_secs(3 * 3600),
        backoff_cap: Duration::from_secs(120),
    }
}

impl Providers {
    pub fn new(providers: Vec<Arc<dyn Provider>>, clock: Arc<dyn Clock>) -> Self {
        Self {
            providers,
            clock,
            health: Mutex::new(HashMap::new()),
            catalogs: Mutex::new(HashMap::new()),
        }
    }

    /// Each provider with its health, in configuration order.
    pub fn list(&self) -> Vec<(Arc<dyn Provider>, Health)> {
        let health = lock(&self.health);
        self.providers
            .iter()
            .map(|p| (p.clone(), health.get(p.name()).cloned().unwrap_or_default()))
            .collect()
    }

    fn route(&self, cluster: &ClusterResourceId) -> Result<&Arc<dyn Provider>, ProviderError> {
        self.providers
            .iter()
            .find(|p| p.owns(cluster))
            .ok_or_else(|| self.not_ours(cluster))
    }

    fn not_ours(&self, cluster: &ClusterResourceId) -> ProviderError {
        ProviderError::ForeignId {
            id: cluster.clone(),
            hint: self.forms(),
        }
    }

    /// The id forms the providers understand, for messages.
    fn forms(&self) -> String {
        let names: Vec<String> = self.providers.iter().map(|p| p.id_form()).collect();
        format!("ids look like {}", names.join(" or "))
    }

    /// The name of the provider answering for `cluster`, if one does.
    pub fn provider_of(&self, cluster: &ClusterResourceId) -> Option<String> {
        self.route(cluster).ok().map(|p| p.name().to_owned())
    }

    pub fn policy_for(&self, cluster: &ClusterResourceId) -> Policy {
        self.route(cluster)
            .map_or_else(|_| fallback_policy(), |p| p.policy().clone())
    }

    /// Records how a call to `provider` went; passes the result on.
    fn note<T>(
        &self,
        provider: &str,
        result: Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let now = self.clock.now();
        let mut health = lock(&self.health);
        let entry = health.entry(provider.to_owned()).or_default();
        match &result {
            Ok(_) => entry.last_success = Some(now),
            Err(error) => entry.last_error = Some((now, error.to_string())),
        }
        result
    }

    /// `note` for calls about objects on clusters: a cluster refusing an object for good (an
    /// admission webhook) says nothing of the provider's health.
    fn note_objects<T>(
        &self,
        provider: &str,
        result: Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        match result {
            Err(refused @ ProviderError::Permanent { .. }) => Err(refused),
            other => self.note(provider, other),
        }
    }

    /// Every provider's catalog, merged. One that cannot answer now lends its last good one; a
    /// provider that never answered is left out (and its error kept in its health).
    /// The catalog of the providers that own `clusters` (a fleet's or a run's members): one
    /// provider's images must not be offered for another's clusters, though both may name
    /// the same region and image family (the simulator uses Azure's names). Every provider is
    /// asked, so the providers page knows how each is.
    pub async fn catalog_for(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Result<Catalog, ProviderError> {
        let owners: std::collections::BTreeSet<&str> = clusters
            .iter()
            .filter_map(|c| self.providers.iter().find(|p| p.owns(c)))
            .map(|p| p.name())
            .collect();
        self.catalog().await?;
        let known = lock(&self.catalogs);
        let chosen: Vec<&Catalog> = known
            .iter()
            .filter(|(name, _)| owners.is_empty() || owners.contains(name.as_str()))
            .map(|(_, catalog)| catalog)
            .collect();
        // None of them has answered yet: an empty catalog, so what needs a version finds it
        // missing and says which provider's catalog could not be read (`catalogs_missing`).
        Ok(Catalog::merged(chosen))
    }

    /// The catalogs of every provider, merged.
    pub async fn catalog(&self) -> Result<Catalog, ProviderError> {
        let answers = futures_util::future::join_all(
            self.providers
                .iter()
                .map(|p| timed(p.name(), "catalog", p.catalog())),
        )
        .await;
        let mut known = lock(&self.catalogs);
        for (provider, answer) in self.providers.iter().zip(answers) {
            if let Ok(catalog) = self.note(provider.name(), answer) {
                known.insert(provider.name().to_owned(), catalog);
            }
        }
        if known.is_empty() {
            return Err(ProviderError::transient(
                "no provider has answered with a catalog yet",
            ));
        }
        Ok(Catalog::merged(known.values()))
    }

    /// Observes clusters of any providers: one batch per provider, asked concurrently, answers
    /// in the order asked.
    pub async fn observe(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<ClusterState, ProviderError>> {
        super::owned(self.observe_shared(clusters).await)
    }

    /// [`Providers::observe`], each state shared (see [`Provider::observe_shared`]).
    pub async fn observe_shared(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<Arc<ClusterState>, ProviderError>> {
        self.batched(
            "observe",
            clusters,
            |c| c,
            |provider, ids| async move { provider.observe_shared(&ids).await },
        )
        .await
    }

    /// Starts upgrades on clusters of any providers, one batch per provider.
    pub async fn start_upgrades(
        &self,
        requests: &[UpgradeRequest],
    ) -> Vec<Result<Operation, ProviderError>> {
        self.batched(
            "start-upgrade",
            requests,
            |r| &r.cluster,
            |provider, batch| async move { provider.start_upgrades(&batch).await },
        )
        .await
    }

    /// Asks about operations on clusters of any providers, one batch per provider.
    pub async fn operations(
        &self,
        asked: &[OperationRef],
    ) -> Vec<Result<Option<Operation>, ProviderError>> {
        self.batched(
            "operation-status",
            asked,
            |op| &op.cluster,
            |provider, batch| async move { provider.operations(&batch).await },
        )
        .await
    }

    /// Hands each provider its share of `items` (by the cluster each is about) as one batch,
    /// all providers at once, and puts the answers back in the order asked. A batch that
    /// reached its provider counts as a success even if some items failed; one where every
    /// answer is a transient error does not.
    async fn batched<I, T, F, Fut>(
        &self,
        verb: &'static str,
        items: &[I],
        cluster_of: impl Fn(&I) -> &ClusterResourceId,
        call: F,
    ) -> Vec<Result<T, ProviderError>>
    where
        I: Clone,
        F: Fn(Arc<dyn Provider>, Vec<I>) -> Fut,
        Fut: std::future::Future<Output = Vec<Result<T, ProviderError>>>,
    {
        let mut answers: Vec<Option<Result<T, ProviderError>>> =
            (0..items.len()).map(|_| None).collect();
        let mut batches: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let cluster = cluster_of(item);
            match self.providers.iter().position(|p| p.owns(cluster)) {
                Some(p) => match batches.iter_mut().find(|(q, _)| *q == p) {
                    Some((_, list)) => list.push(i),
                    None => batches.push((p, vec![i])),
                },
                None => answers[i] = Some(Err(self.not_ours(cluster))),
            }
        }
        let calls = batches.iter().map(|(p, indexes)| {
            let batch: Vec<I> = indexes.iter().map(|&i| items[i].clone()).collect();
            let provider = self.providers[*p].clone();
            let call = call(provider.clone(), batch);
            let span = call_span(provider.name(), verb, indexes.len());
            async move {
                let started = std::time::Instant::now();
                let answers = call.await;
                crate::metrics::metrics().provider_call(provider.name(), verb, started.elapsed());
                answers
            }
            .instrument(span)
        });
        let results = futures_util::future::join_all(calls).await;
        for ((p, indexes), results) in batches.iter().zip(results) {
            let name = self.providers[*p].name();
            for error in results.iter().filter_map(|r| r.as_ref().err()) {
                crate::metrics::metrics().provider_error(name, verb, error.is_transient());
            }
            let all_failed = results
                .iter()
                .all(|r| matches!(r, Err(e) if e.is_transient()));
            let _ = self.note(
                name,
                match results.iter().find_map(|r| r.as_ref().err()) {
                    Some(error) if all_failed => Err(error.clone()),
                    _ => Ok(()),
                },
            );
            for (&i, result) in indexes.iter().zip(results) {
                answers[i] = Some(result);
            }
        }
        answers
            .into_iter()
            .map(|a| {
                a.unwrap_or_else(|| Err(ProviderError::transient("the provider gave no answer")))
            })
            .collect()
    }

    /// Providers whose catalog was never read, with why (their versions are missing from the
    /// merged catalog until they answer).
    pub fn catalogs_missing(&self) -> Vec<(String, String)> {
        let known = lock(&self.catalogs);
        let health = lock(&self.health);
        self.providers
            .iter()
            .filter(|p| !known.contains_key(p.name()))
            .map(|p| {
                let why = health
                    .get(p.name())
                    .and_then(|h| h.last_error.as_ref())
                    .map_or_else(|| "it has not answered yet".to_owned(), |(_, e)| e.clone());
                (p.name().to_owned(), why)
            })
            .collect()
    }

    /// Clusters any provider can see (those that cannot answer now are left out).
    pub async fn known_clusters(&self) -> Vec<ClusterResourceId> {
        let answers = futures_util::future::join_all(
            self.providers
                .iter()
                .map(|p| timed(p.name(), "list", p.known_clusters())),
        )
        .await;
        let mut all = Vec::new();
        for (provider, answer) in self.providers.iter().zip(answers) {
            if let Ok(list) = self.note(provider.name(), answer) {
                all.extend(list);
            }
        }
        all
    }

    pub async fn operation(
        &self,
        cluster: &ClusterResourceId,
        operation_id: &str,
    ) -> Result<Option<Operation>, ProviderError> {
        let provider = self.route(cluster)?;
        let answer = provider.operation(cluster, operation_id).await;
        self.note(provider.name(), answer)
    }

    /// Applies a placement's objects through the provider of the request's cluster.
    pub async fn apply_resources(
        &self,
        request: &super::ResourceApply,
    ) -> Result<super::AppliedResources, ProviderError> {
        let provider = self.route(&request.cluster)?;
        let call = provider.apply_resources(request);
        let answer = timed(provider.name(), "apply-resources", call).await;
        self.note_objects(provider.name(), answer)
    }

    pub async fn observe_resources(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<super::AppliedResources, ProviderError> {
        let provider = self.route(cluster)?;
        let call = provider.observe_resources(cluster, owner);
        let answer = timed(provider.name(), "observe-resources", call).await;
        self.note_objects(provider.name(), answer)
    }

    pub async fn delete_resources(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<(), ProviderError> {
        let provider = self.route(cluster)?;
        let call = provider.delete_resources(cluster, owner);
        let answer = timed(provider.name(), "delete-resources", call).await;
        self.note_objects(provider.name(), answer)
    }
}

/// A provider's call as a trace shows it: which provider, which verb, for how many clusters.
fn call_span(provider: &str, verb: &'static str, clusters: usize) -> tracing::Span {
    tracing::info_span!("provider call", provider, verb, clusters)
}

/// A provider's call, measured for `/metrics`.
async fn timed<T>(
    provider: &str,
    verb: &'static str,
    call: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    let started = std::time::Instant::now();
    let answer = call.instrument(call_span(provider, verb, 1)).await;
    let metrics = crate::metrics::metrics();
    metrics.provider_call(provider, verb, started.elapsed());
    if let Err(error) = &answer {
        metrics.provider_error(provider, verb, error.is_transient());
    }
    answer
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain maps: a panic elsewhere cannot leave them half-changed.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
