//! The AKS provider: Azure Kubernetes Service clusters through Azure Resource Manager's REST
//! API, the way `az aks` drives them (`docs/aks.md`). Members name clusters by their ARM id.
//!
//! Observing a cluster is a `GET` of it plus its two maintenance configurations (kept for
//! `maintenance_ttl`); the catalog is read per region (`kubernetesVersions`) and per region and
//! image family (one pool's `upgradeProfiles/default`), and kept for `catalog_ttl`; upgrades
//! are followed through Azure's long-running operations (`upgrade`).

mod arm;
mod catalog;
mod cluster;
mod id;
mod token;
mod upgrade;

pub use id::AksId;

use super::{CallCounts, Operation, Policy, Provider, ProviderError, UpgradeRequest};
use crate::clock::Clock;
use crate::settings::AksSettings;
use crate::store::ProviderJournal;
use app::model::catalog::Catalog;
use app::model::cluster::{ClusterState, Region};
use app::model::member::ClusterResourceId;
use app::model::version::ImageFamily;
use app::model::window::MaintenanceWindow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Semaphore;

/// A cluster's two windows and when they were read.
type Windows = (
    Instant,
    Option<MaintenanceWindow>,
    Option<MaintenanceWindow>,
);

pub struct AksProvider {
    settings: AksSettings,
    policy: Policy,
    arm: arm::Arm,
    journal: Arc<dyn ProviderJournal>,
    clock: Arc<dyn Clock>,
    permits: Semaphore,
    calls: CallCounts,
    windows: Mutex<HashMap<AksId, Windows>>,
    /// Per region and image family, one pool seen there (its upgrade profile names the newest
    /// image), and one subscription per region to ask for its versions.
    seen: Mutex<BTreeMap<(Region, ImageFamily), (AksId, String)>>,
    catalog: Mutex<Option<(Instant, Catalog)>>,
    /// The subscriptions' clusters, listed at most once per `observation_ttl` (every overview
    /// offers them for joining).
    listed: Mutex<Option<(Instant, Vec<ClusterResourceId>)>>,
}

impl AksProvider {
    pub fn new(
        settings: AksSettings,
        journal: Arc<dyn ProviderJournal>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("drydock/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let tokens = token::Tokens::new(
            settings.credential.clone(),
            &settings.arm_endpoint,
            http.clone(),
        );
        Ok(Self {
            policy: Policy {
                poll_interval: settings.poll_interval,
                observation_ttl: settings.observation_ttl,
                attempt_timeout: settings.attempt_timeout,
                backoff_cap: settings.backoff_cap,
            },
            arm: arm::Arm {
                http,
                endpoint: settings.arm_endpoint.clone(),
                api_version: settings.api_version.clone(),
                tokens,
            },
            permits: Semaphore::new(settings.max_parallel),
            calls: CallCounts::default(),
            windows: Mutex::new(HashMap::new()),
            seen: Mutex::new(BTreeMap::new()),
            catalog: Mutex::new(None),
            listed: Mutex::new(None),
            settings,
            journal,
            clock,
        })
    }

    fn id(&self, cluster: &ClusterResourceId) -> Result<AksId, ProviderError> {
        AksId::parse(cluster.as_str())
            .filter(|id| self.settings.subscriptions.contains(&id.subscription))
            .ok_or_else(|| ProviderError::ForeignId {
                id: cluster.clone(),
                hint: format!(
                    "provider {} answers for AKS clusters of subscriptions {}",
                    self.settings.name,
                    self.settings.subscriptions.join(", ")
                ),
            })
    }

    /// Reads the cluster now.
    async fn read(&self, id: &AksId) -> Result<cluster::AksCluster, ProviderError> {
        let reply = self.arm.get(&id.path()).await?;
        if reply.not_found() {
            return Err(ProviderError::ClusterNotFound(id.resource_id()));
        }
        let cluster = cluster::read_cluster(reply.body)
            .map_err(|e| ProviderError::permanent(format!("ARM's answer for {}: {e}", id.name)))?;
        self.remember(id, &cluster.state);
        Ok(cluster)
    }

    /// Notes the regions and image families a cluster shows, for the catalog.
    fn remember(&self, id: &AksId, state: &ClusterState) {
        let mut seen = self.seen.lock().expect("not poisoned");
        let mut new = false;
        for pool in &state.node_pools {
            let key = (state.location.clone(), pool.os_sku.clone());
            if let std::collections::btree_map::Entry::Vacant(entry) = seen.entry(key) {
                entry.insert((id.clone(), pool.name.clone()));
                new = true;
            }
        }
        if new {
            // A region or family the catalog does not cover yet: read it again.
            *self.catalog.lock().expect("not poisoned") = None;
        }
    }

    async fn observe_one(
        &self,
        cluster: &ClusterResourceId,
    ) -> Result<ClusterState, ProviderError> {
        let id = self.id(cluster)?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ProviderError::transient("shutting down"))?;
        let mut state = self.read(&id).await?.state;
        let (kubernetes, node_os) = self.windows_of(&id).await?;
        state.maintenance_window = kubernetes;
        state.node_os_maintenance_window = node_os;
        Ok(state)
    }

    /// The cluster's two windows, read again once `maintenance_ttl` has passed. A 404 means no
    /// window.
    async fn windows_of(
        &self,
        id: &AksId,
    ) -> Result<(Option<MaintenanceWindow>, Option<MaintenanceWindow>), ProviderError> {
        let kept = self.windows.lock().expect("not poisoned").get(id).cloned();
        if let Some((at, k, n)) = kept
            && at.elapsed() < self.settings.maintenance_ttl
        {
            return Ok((k, n));
        }
        let mut read = Vec::new();
        for name in [cluster::KUBERNETES_SCHEDULE, cluster::NODE_OS_SCHEDULE] {
            let path = format!("{}/maintenanceConfigurations/{name}", id.path());
            let reply = self.arm.get(&path).await?;
            read.push(if reply.not_found() {
                None
            } else {
                Some(cluster::read_window(&reply.body).map_err(|e| {
                    ProviderError::permanent(format!(
                        "the maintenance configuration {name} of {} cannot be read: {e}",
                        id.name
                    ))
                })?)
            });
        }
        let node_os = read.pop().flatten();
        let kubernetes = read.pop().flatten();
        self.windows.lock().expect("not poisoned").insert(
            id.clone(),
            (Instant::now(), kubernetes.clone(), node_os.clone()),
        );
        Ok((kubernetes, node_os))
    }
}

#[async_trait::async_trait]
impl Provider for AksProvider {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn kind(&self) -> &'static str {
        "aks"
    }

    fn owns(&self, cluster: &ClusterResourceId) -> bool {
        self.id(cluster).is_ok()
    }

    fn id_form(&self) -> String {
        "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}".into()
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }

    fn settings(&self) -> serde_json::Value {
        let credential = match &self.settings.credential {
            crate::settings::AzureCredential::ClientSecret {
                tenant_id,
                client_id,
                ..
            } => {
                serde_json::json!({"type": "clientSecret", "tenantId": tenant_id, "clientId": client_id,
                                   "secretEnv": "AZURE_CLIENT_SECRET"})
            }
            crate::settings::AzureCredential::ManagedIdentity { client_id, .. } => {
                serde_json::json!({"type": "managedIdentity", "clientId": client_id})
            }
        };
        serde_json::json!({
            "subscriptions": self.settings.subscriptions,
            "armEndpoint": self.settings.arm_endpoint,
            "apiVersion": self.settings.api_version,
            "credential": credential,
            "includePreviewVersions": self.settings.include_preview_versions,
        })
    }

    fn calls(&self) -> BTreeMap<&'static str, u64> {
        self.calls.snapshot()
    }

    async fn catalog(&self) -> Result<Catalog, ProviderError> {
        self.calls.add("catalog");
        if let Some((at, catalog)) = &*self.catalog.lock().expect("not poisoned")
            && at.elapsed() < self.settings.catalog_ttl
        {
            return Ok(catalog.clone());
        }
        let catalog = self.read_catalog().await?;
        *self.catalog.lock().expect("not poisoned") = Some((Instant::now(), catalog.clone()));
        Ok(catalog)
    }

    async fn observe(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<ClusterState, ProviderError>> {
        self.calls.add("observe");
        futures_util::future::join_all(clusters.iter().map(|c| self.observe_one(c))).await
    }

    async fn known_clusters(&self) -> Result<Vec<ClusterResourceId>, ProviderError> {
        self.calls.add("list");
        if let Some((at, list)) = &*self.listed.lock().expect("not poisoned")
            && at.elapsed() < self.settings.observation_ttl
        {
            return Ok(list.clone());
        }
        let mut found = Vec::new();
        for subscription in &self.settings.subscriptions {
            let mut next = Some(format!(
                "/subscriptions/{subscription}/providers/Microsoft.ContainerService/managedClusters"
            ));
            while let Some(path) = next.take() {
                let reply = self.arm.get(&path).await?;
                for item in reply.body["value"].as_array().into_iter().flatten() {
                    let Some(id) = item["id"].as_str().and_then(AksId::parse) else {
                        continue;
                    };
                    // The list has each cluster whole: its regions and images feed the catalog.
                    if let Ok(cluster) = cluster::read_cluster(item.clone()) {
                        self.remember(&id, &cluster.state);
                    }
                    found.push(id.resource_id());
                }
                next = reply.body["nextLink"].as_str().map(str::to_owned);
            }
        }
        *self.listed.lock().expect("not poisoned") = Some((Instant::now(), found.clone()));
        Ok(found)
    }

    async fn start_upgrade(&self, request: &UpgradeRequest) -> Result<Operation, ProviderError> {
        self.calls.add("start-upgrade");
        self.id(&request.cluster)?;
        self.start(request).await
    }

    async fn operation(
        &self,
        _cluster: &ClusterResourceId,
        operation_id: &str,
    ) -> Result<Option<Operation>, ProviderError> {
        self.calls.add("operation-status");
        match self.load(operation_id).await? {
            None => Ok(None),
            Some(record) => self.follow(operation_id, record).await.map(Some),
        }
    }
}
