//! A faithful fake of the Azure Resource Manager endpoints the AKS provider uses, and of the
//! Entra ID token endpoint, for tests only. Shapes follow the Microsoft.ContainerService REST
//! specification and its examples: the eTag is a body property; `PUT` answers 201 with only
//! `Azure-AsyncOperation`; `upgradeNodeImageVersion` answers 202 and always moves a pool to the
//! region's newest image; versions are under `values`; errors come flat or enveloped; a 409
//! `OperationNotAllowed` while busy; paging with `nextLink`. Every request is logged.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub const SUBSCRIPTION: &str = "00000000-0000-0000-0000-0000000000aa";
pub const SECRET: &str = "fake-client-secret";
pub const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";

/// One request the fake received: method, what it addressed, and the cluster it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    pub kind: &'static str,
    pub cluster: Option<String>,
    pub status: u16,
}

#[derive(Default)]
pub struct World {
    /// By cluster name (lower case), the managed cluster body.
    pub clusters: BTreeMap<String, Value>,
    /// (cluster, configuration name) → maintenance configuration body.
    pub maintenance: BTreeMap<(String, String), Value>,
    /// Region → newest image release of the Ubuntu family.
    pub latest_image: BTreeMap<String, String>,
    /// Region → GA patch versions offered.
    pub versions: BTreeMap<String, Vec<String>>,
    /// Operation id → (cluster, polls left before it ends, what it changes).
    operations: BTreeMap<u64, (String, u32, Change)>,
    next_operation: u64,
    /// InProgress answers each operation gives before it ends.
    pub polls_per_operation: u32,
    /// The next this many ARM requests are throttled (429, Retry-After: 1).
    pub throttle_next: u32,
    /// The next this many writes find another operation in progress (409, flat error).
    pub busy_next_writes: u32,
    pub log: Vec<Logged>,
    pub tokens_issued: u32,
    /// Tokens numbered below this are expired (revoked): ARM answers 401.
    pub tokens_valid_from: u32,
}

#[derive(Clone)]
enum Change {
    Versions {
        control_plane: String,
        pools: BTreeMap<String, String>,
    },
    Image {
        pool: String,
    },
}

pub struct FakeArm {
    pub url: String,
    pub world: Arc<Mutex<World>>,
    /// The directories of the configurations written for this fake, removed with it (a path,
    /// not the suite's `TestDir`: the browser tests' example builds this file on its own).
    configs: Mutex<Vec<std::path::PathBuf>>,
}

impl Drop for FakeArm {
    fn drop(&mut self) {
        for dir in self.configs.get_mut().unwrap().drain(..) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl FakeArm {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// The fake on `addr` (`127.0.0.1:0` for any free port).
    pub async fn start_on(addr: &str) -> Self {
        let world = Arc::new(Mutex::new(World {
            polls_per_operation: 2,
            ..World::default()
        }));
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = (world.clone(), url.clone());
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (world, base) = shared.clone();
                async move { handle(&world, &base, method, uri, headers, body) }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url,
            world,
            configs: Mutex::default(),
        }
    }

    pub fn id(name: &str) -> String {
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-fleet/providers/Microsoft.ContainerService/managedClusters/{name}"
        )
    }

    /// Adds a cluster at `version` with the given pools (name, count), on `image`.
    pub fn add_cluster(
        &self,
        name: &str,
        region: &str,
        version: &str,
        pools: &[(&str, u32)],
        image: &str,
    ) {
        let profiles: Vec<Value> = pools
            .iter()
            .map(|(pool, count)| {
                json!({
                "name": pool, "count": count, "vmSize": "Standard_D4s_v5", "osType": "Linux",
                "osSKU": "Ubuntu", "type": "VirtualMachineScaleSets", "mode": "System",
                "orchestratorVersion": version, "currentOrchestratorVersion": version,
                "nodeImageVersion": format!("{UBUNTU}-{image}"), "provisioningState": "Succeeded",
                "powerState": {"code": "Running"}, "eTag": "pool-etag-1"})
            })
            .collect();
        let body = json!({
            "id": Self::id(name), "name": name, "type": "Microsoft.ContainerService/ManagedClusters",
            "location": region, "eTag": "etag-1", "tags": {"env": "prod"},
            "properties": {"provisioningState": "Succeeded", "powerState": {"code": "Running"},
                "kubernetesVersion": version, "currentKubernetesVersion": version,
                "dnsPrefix": name, "agentPoolProfiles": profiles}
        });
        self.world
            .lock()
            .unwrap()
            .clusters
            .insert(name.to_owned(), body);
    }

    /// A `drydock.toml` with an `aks` provider named `azure` on this fake (a client secret in
    /// a file; short intervals so tests run in seconds; nothing cached).
    pub fn config(&self) -> std::path::PathBuf {
        self.config_with(
            "observation_ttl_seconds = 0\ncatalog_ttl_seconds = 0\nmaintenance_ttl_seconds = 0\n",
        )
    }

    /// The same with the provider's default caching, and `extra` settings.
    pub fn config_with(&self, extra: &str) -> std::path::PathBuf {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("drydock-aks-{}-{n}", std::process::id()));
        let config = self.config_in(&dir, extra);
        self.configs.lock().unwrap().push(dir);
        config
    }

    /// The configuration (and its secret file) written in `dir`.
    pub fn config_in(&self, dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("secret"), format!("{SECRET}\n")).unwrap();
        let config = dir.join("drydock.toml");
        let text = format!(
            r#"
[[providers]]
name = "azure"
kind = "aks"
subscriptions = ["{SUBSCRIPTION}"]
arm_endpoint = "{url}"
credential = "client_secret"
tenant_id = "tenant-1"
client_id = "client-1"
client_secret = {{ file = "{dir}/secret" }}
authority_host = "{url}"
poll_interval_seconds = 1
backoff_cap_seconds = 1
{extra}"#,
            url = self.url,
            dir = dir.display()
        );
        std::fs::write(&config, text).unwrap();
        config
    }

    pub fn cluster(&self, name: &str) -> Value {
        self.world.lock().unwrap().clusters[name].clone()
    }

    /// How many requests of `method` and `kind` concerned `cluster` (or any, with `None`).
    pub fn count(&self, method: &str, kind: &str, cluster: Option<&str>) -> usize {
        self.counted(method, kind, cluster, |_| true)
    }

    /// How many such requests ARM accepted (2xx): the writes that changed something.
    pub fn accepted(&self, method: &str, kind: &str, cluster: Option<&str>) -> usize {
        self.counted(method, kind, cluster, |status| (200..300).contains(&status))
    }

    fn counted(
        &self,
        method: &str,
        kind: &str,
        cluster: Option<&str>,
        status: impl Fn(u16) -> bool,
    ) -> usize {
        self.world
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|l| l.method == method && l.kind == kind && status(l.status))
            .filter(|l| cluster.is_none() || l.cluster.as_deref() == cluster)
            .count()
    }

    pub fn with<T>(&self, change: impl FnOnce(&mut World) -> T) -> T {
        change(&mut self.world.lock().unwrap())
    }
}

fn error(status: StatusCode, code: &str, message: &str, flat: bool) -> Response {
    let body = if flat {
        json!({"code": code, "message": message})
    } else {
        json!({"error": {"code": code, "message": message}})
    };
    (status, axum::Json(body)).into_response()
}

fn handle(
    world: &Mutex<World>,
    base: &str,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut w = world.lock().unwrap();
    let response = answer(&mut w, base, method, uri, headers, body);
    if let Some(last) = w.log.last_mut() {
        last.status = response.status().as_u16();
    }
    response
}

fn answer(
    w: &mut World,
    base: &str,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if path.ends_with("/oauth2/v2.0/token") {
        let form = String::from_utf8_lossy(&body).to_string();
        w.log.push(Logged {
            method: "POST".into(),
            kind: "token",
            cluster: None,
            status: 0,
        });
        if !form.contains(&format!("client_secret={SECRET}"))
            || !form.contains("grant_type=client_credentials")
        {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided."})),
            )
                .into_response();
        }
        w.tokens_issued += 1;
        let token = format!("token-{}", w.tokens_issued);
        return axum::Json(
            json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token}),
        )
        .into_response();
    }
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer token-"))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| n >= w.tokens_valid_from);
    let lower = path.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let (kind, cluster) = classify(&parts);
    w.log.push(Logged {
        method: method.to_string(),
        kind,
        cluster: cluster.clone(),
        status: 0,
    });
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            false,
        );
    }
    if !uri.query().unwrap_or_default().contains("api-version=") {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter is required.",
            false,
        );
    }
    if w.throttle_next > 0 {
        w.throttle_next -= 1;
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests.",
            false,
        );
        response
            .headers_mut()
            .insert("retry-after", "1".parse().unwrap());
        return response;
    }
    match (method.as_str(), kind) {
        ("GET", "list") => list(w, &parts, uri.query().unwrap_or_default(), base),
        ("GET", "kubernetesVersions") => versions(w, parts[6]),
        ("GET", "operation") => operation(w, parts[8]),
        _ => {
            let Some(name) = cluster else {
                return error(StatusCode::NOT_FOUND, "NotFound", "no such resource", false);
            };
            if !w.clusters.contains_key(&name) {
                return error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    &format!(
                        "The Resource 'Microsoft.ContainerService/managedClusters/{name}' under resource group 'rg-fleet' was not found."
                    ),
                    false,
                );
            }
            on_cluster(
                w,
                base,
                method.as_str(),
                kind,
                &name,
                &parts,
                &headers,
                &body,
            )
        }
    }
}

fn classify(parts: &[&str]) -> (&'static str, Option<String>) {
    match parts {
        [
            "",
            "subscriptions",
            _,
            "providers",
            "microsoft.containerservice",
            "managedclusters",
        ] => ("list", None),
        [
            "",
            "subscriptions",
            _,
            "providers",
            "microsoft.containerservice",
            "locations",
            _,
            "kubernetesversions",
        ] => ("kubernetesVersions", None),
        [
            "",
            "subscriptions",
            _,
            "providers",
            "microsoft.containerservice",
            "locations",
            _,
            "operations",
            _,
        ] => ("operation", None),
        [
            "",
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.containerservice",
            "managedclusters",
            name,
            rest @ ..,
        ] => {
            let kind = match rest {
                [] => "cluster",
                ["maintenanceconfigurations", _] => "maintenanceConfiguration",
                ["agentpools", _, "upgradeprofiles", "default"] => "upgradeProfile",
                ["agentpools", _, "upgradenodeimageversion"] => "upgradeNodeImageVersion",
                _ => "other",
            };
            (kind, Some((*name).to_owned()))
        }
        _ => ("other", None),
    }
}

fn list(w: &World, parts: &[&str], query: &str, base: &str) -> Response {
    // Two clusters a page, as ARM pages long lists.
    let skip: usize = query
        .split('&')
        .find_map(|q| q.strip_prefix("$skiptoken="))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let all: Vec<&Value> = w.clusters.values().collect();
    let page: Vec<Value> = all
        .iter()
        .skip(skip)
        .take(2)
        .map(|v| (*v).clone())
        .collect();
    let mut body = json!({"value": page});
    if skip + 2 < all.len() {
        body["nextLink"] = json!(format!(
            "{base}{}?api-version=2025-08-01&$skiptoken={}",
            parts.join("/"),
            skip + 2
        ));
    }
    axum::Json(body).into_response()
}

fn versions(w: &World, region: &str) -> Response {
    let mut minors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for patch in w.versions.get(region).into_iter().flatten() {
        let minor = patch.rsplit_once('.').unwrap().0.to_owned();
        minors.entry(minor).or_default().push(patch.clone());
    }
    let mut values: Vec<Value> = minors
        .into_iter()
        .map(|(minor, patches)| {
            let patch_versions: serde_json::Map<String, Value> = patches.into_iter().map(|p| (p, json!({"upgrades": []}))).collect();
            json!({"version": minor, "isPreview": false, "capabilities": {"supportPlan": ["KubernetesOfficial"]}, "patchVersions": patch_versions})
        })
        .collect();
    values.push(json!({"version": "1.99", "isPreview": true, "patchVersions": {"1.99.0": {"upgrades": []}}}));
    axum::Json(json!({"values": values})).into_response()
}

fn operation(w: &mut World, id: &str) -> Response {
    let Some((cluster, left, change)) = id
        .parse()
        .ok()
        .and_then(|id: u64| w.operations.get(&id).cloned())
    else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "operation not found",
            false,
        );
    };
    let key: u64 = id.parse().unwrap();
    if left > 0 {
        w.operations.insert(key, (cluster, left - 1, change));
        // An InProgress status may carry an error object: success is read from status alone.
        return axum::Json(
            json!({"name": id, "status": "InProgress", "startTime": "2026-12-01T00:00:00Z",
            "error": {"code": "Transient", "message": "still working"}}),
        )
        .into_response();
    }
    apply(w, &cluster, &change);
    axum::Json(json!({"name": id, "status": "Succeeded", "startTime": "2026-12-01T00:00:00Z", "endTime": "2026-12-01T00:10:00Z"})).into_response()
}

/// What Azure does when an operation ends: versions and images applied, states settled.
fn apply(w: &mut World, name: &str, change: &Change) {
    let region = w.clusters[name]["location"].as_str().unwrap().to_owned();
    let latest = format!("{UBUNTU}-{}", w.latest_image[&region]);
    let Some(cluster) = w.clusters.get_mut(name) else {
        return;
    };
    let props = &mut cluster["properties"];
    match change {
        Change::Versions {
            control_plane,
            pools,
        } => {
            props["currentKubernetesVersion"] = json!(control_plane);
            for profile in props["agentPoolProfiles"].as_array_mut().unwrap() {
                let pool = profile["name"].as_str().unwrap().to_owned();
                if let Some(version) = pools.get(&pool) {
                    profile["currentOrchestratorVersion"] = json!(version);
                    // A Kubernetes upgrade reimages the pool's nodes with the newest image.
                    profile["nodeImageVersion"] = json!(latest);
                }
                profile["provisioningState"] = json!("Succeeded");
            }
        }
        Change::Image { pool } => {
            for profile in props["agentPoolProfiles"].as_array_mut().unwrap() {
                if profile["name"] == json!(pool) {
                    profile["nodeImageVersion"] = json!(latest);
                    profile["provisioningState"] = json!("Succeeded");
                }
            }
        }
    }
    props["provisioningState"] = json!("Succeeded");
    bump_etag(cluster);
}

/// Counts one down, if any are left.
fn take(left: &mut u32) -> bool {
    let some = *left > 0;
    *left = left.saturating_sub(1);
    some
}

fn bump_etag(cluster: &mut Value) {
    let n: u64 = cluster["eTag"]
        .as_str()
        .unwrap()
        .trim_start_matches("etag-")
        .parse()
        .unwrap();
    cluster["eTag"] = json!(format!("etag-{}", n + 1));
}

fn busy(cluster: &Value) -> bool {
    let states = std::iter::once(&cluster["properties"]["provisioningState"]).chain(
        cluster["properties"]["agentPoolProfiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["provisioningState"]),
    );
    states.into_iter().any(|s| s != "Succeeded")
}

#[allow(clippy::too_many_arguments)]
fn on_cluster(
    w: &mut World,
    base: &str,
    method: &str,
    kind: &str,
    name: &str,
    parts: &[&str],
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    match (method, kind) {
        ("GET", "cluster") => axum::Json(w.clusters[name].clone()).into_response(),
        ("GET", "maintenanceConfiguration") => {
            let config = parts[10].to_owned();
            let found = w
                .maintenance
                .iter()
                .find(|((c, n), _)| c == name && n.to_ascii_lowercase() == config)
                .map(|(_, v)| v.clone());
            match found {
                Some(v) => axum::Json(v).into_response(),
                None => error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    "maintenance configuration not found",
                    true,
                ),
            }
        }
        ("GET", "upgradeProfile") => {
            let region = w.clusters[name]["location"].as_str().unwrap().to_owned();
            axum::Json(json!({"name": "default", "properties": {"kubernetesVersion": "", "osType": "Linux",
                "latestNodeImageVersion": format!("{UBUNTU}-{}", w.latest_image[&region]), "upgrades": []}})).into_response()
        }
        ("PUT", "cluster") => put_cluster(w, base, name, headers, body),
        ("POST", "upgradeNodeImageVersion") => {
            let pool = parts[10].to_owned();
            if busy(&w.clusters[name]) || take(&mut w.busy_next_writes) {
                return error(
                    StatusCode::CONFLICT,
                    "OperationNotAllowed",
                    "Operation is not allowed because there's an in progress upgrade node image version operation.",
                    true,
                );
            }
            let cluster = w.clusters.get_mut(name).unwrap();
            for profile in cluster["properties"]["agentPoolProfiles"]
                .as_array_mut()
                .unwrap()
            {
                if profile["name"] == json!(pool) {
                    profile["provisioningState"] = json!("UpgradingNodeImageVersion");
                }
            }
            start_operation(w, base, name, Change::Image { pool }, StatusCode::ACCEPTED)
        }
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "not supported by the fake",
            false,
        ),
    }
}

fn put_cluster(
    w: &mut World,
    base: &str,
    name: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let current = w.clusters[name].clone();
    if let Some(etag) = headers.get("if-match").and_then(|v| v.to_str().ok())
        && etag != current["eTag"].as_str().unwrap()
    {
        return error(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "The eTag does not match.",
            false,
        );
    }
    if busy(&current) || take(&mut w.busy_next_writes) {
        return error(
            StatusCode::CONFLICT,
            "OperationNotAllowed",
            "Operation is not allowed because there's an in progress upgrade operation.",
            true,
        );
    }
    let Ok(sent) = serde_json::from_slice::<Value>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "not JSON",
            false,
        );
    };
    let control_plane = sent["properties"]["kubernetesVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut pools = BTreeMap::new();
    let mut updated = current.clone();
    for (i, profile) in sent["properties"]["agentPoolProfiles"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let version = profile["orchestratorVersion"].as_str().unwrap().to_owned();
        if version != current["properties"]["agentPoolProfiles"][i]["currentOrchestratorVersion"] {
            pools.insert(
                profile["name"].as_str().unwrap().to_owned(),
                version.clone(),
            );
            updated["properties"]["agentPoolProfiles"][i]["orchestratorVersion"] = json!(version);
            updated["properties"]["agentPoolProfiles"][i]["provisioningState"] = json!("Upgrading");
        }
    }
    updated["properties"]["kubernetesVersion"] = json!(control_plane);
    updated["properties"]["provisioningState"] = json!("Upgrading");
    bump_etag(&mut updated);
    w.clusters.insert(name.to_owned(), updated);
    start_operation(
        w,
        base,
        name,
        Change::Versions {
            control_plane,
            pools,
        },
        StatusCode::CREATED,
    )
}

fn start_operation(
    w: &mut World,
    base: &str,
    name: &str,
    change: Change,
    status: StatusCode,
) -> Response {
    w.next_operation += 1;
    let id = w.next_operation;
    w.operations
        .insert(id, (name.to_owned(), w.polls_per_operation, change));
    let region = w.clusters[name]["location"].as_str().unwrap().to_owned();
    let url = format!(
        "{base}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerService/locations/{region}/operations/{id}?api-version=2025-08-01"
    );
    let mut response = (status, axum::Json(w.clusters[name].clone())).into_response();
    response
        .headers_mut()
        .insert("azure-asyncoperation", url.parse().unwrap());
    response
}
