//! Test harness: the real router over a real SQLite database, called without a socket.
#![allow(dead_code)]

pub mod fake_arm;
pub mod fake_idp;
pub mod json_schema;
pub mod lab;
pub mod runs;

use app::model::time::Timestamp;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use server::clock::ManualClock;
use server::config::ServeArgs;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tower::ServiceExt;

pub struct TestServer {
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub built: server::Built,
    /// Directories the server reads while it runs (its configuration and secret files),
    /// removed with it.
    kept: Vec<TestDir>,
}

pub fn args(database_url: &str, demo: bool) -> ServeArgs {
    ServeArgs {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url: in_backend(database_url),
        time_scale: 1.0,
        seed: 42,
        demo,
        config: None,
        public_url: Vec::new(),
        tls_cert: None,
        tls_key: None,
        // Most tests are about fleets, not sign-in: everyone is an admin, as with `--auth none`.
        // The access tests (`access.rs`) turn sign-in on.
        auth: server::config::AuthArgs {
            mode: server::auth::AuthMode::None,
            ..Default::default()
        },
        site_root: "target/site".into(),
        shutdown_delay_seconds: 0,
        // Tests trigger profiles themselves, when they mean to.
        auto_upgrade_interval_seconds: 0,
        placement_interval_seconds: 0,
        drift_interval_seconds: 0,
        simulated_release_days: Some(0),
        replica_id: None,
        log_format: server::config::LogFormat::Text,
        otlp_endpoint: None,
        limits: Default::default(),
        webhooks: Default::default(),
    }
}

/// The first admin's password on servers that need sign-in.
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

/// A server that needs sign-in (`--auth builtin`), its `admin` made with `ADMIN_PASSWORD`.
pub async fn start_secured(database_url: &str, demo: bool) -> TestServer {
    let mut args = args(database_url, demo);
    args.auth.mode = server::auth::AuthMode::Builtin;
    args.auth.admin_password = Some(ADMIN_PASSWORD.into());
    start_built(&args).await
}

/// An HTTP Basic `Authorization` value.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// `method uri` with `authorization` (a whole header value) and a JSON body.
pub async fn as_(
    s: &TestServer,
    authorization: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Reply {
    let text = body.map(|b| b.to_string());
    s.send_with(
        method,
        uri,
        text.as_deref(),
        "application/json",
        &[("authorization", authorization)],
    )
    .await
}

/// How long a test waits for one answer, head and body, before it fails instead of hanging the
/// suite: a streamed page whose last chunk never comes would otherwise keep CI waiting until
/// its limit, and say nothing of where.
const RESPONSE_LIMIT: Duration = Duration::from_secs(120);

/// The body of `what`'s answer; past [`RESPONSE_LIMIT`] a failure quoting the end of what came.
async fn whole_body(mut body: Body, what: &str) -> axum::body::Bytes {
    let mut received = Vec::new();
    let reading = async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                received.extend_from_slice(&data);
            }
        }
    };
    if tokio::time::timeout(RESPONSE_LIMIT, reading).await.is_err() {
        let text = String::from_utf8_lossy(&received);
        let tail = &text[text.floor_char_boundary(text.len().saturating_sub(2_000))..];
        panic!("{what}: the body was not finished within {RESPONSE_LIMIT:?}; it ends with: {tail}");
    }
    received.into()
}

/// A server built from `args` on a manual clock.
pub async fn start_built(args: &ServeArgs) -> TestServer {
    let clock = Arc::new(ManualClock::new(START));
    let built = server::build(args, Some(clock.clone())).await.unwrap();
    TestServer::of(built, clock)
}

/// 2024-09-01T00:00:00Z, a Sunday.
pub const START: Timestamp = Timestamp(1_725_148_800_000);

pub async fn start_with(database_url: &str, demo: bool) -> TestServer {
    let clock = Arc::new(ManualClock::new(START));
    let built = server::build(&args(database_url, demo), Some(clock.clone()))
        .await
        .unwrap();
    TestServer::of(built, clock)
}

pub async fn start() -> TestServer {
    start_with("sqlite::memory:", false).await
}

/// A fresh SQLite file for tests that restart the server, in a directory of its own that is
/// removed when the test ends (it derefs to the database URL).
pub struct TempDb {
    _dir: TestDir,
    url: String,
}

impl std::ops::Deref for TempDb {
    type Target = str;
    fn deref(&self) -> &str {
        &self.url
    }
}

/// A fresh directory for one test (`what` says what for, in its name), removed with all it
/// holds when dropped, so that running the suite again and again does not fill `/tmp`.
pub struct TestDir(std::path::PathBuf);

impl std::ops::Deref for TestDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir(what: &str) -> TestDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "drydock-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TestDir(dir)
}

pub fn temp_db() -> TempDb {
    let dir = temp_dir("test");
    let url = match postgres() {
        Some(server) => fresh_postgres_database(&server),
        None => format!("sqlite://{}", dir.join("drydock.db").display()),
    };
    TempDb { _dir: dir, url }
}

/// The PostgreSQL server the suite runs on when `DRYDOCK_TEST_POSTGRES` names one
/// (`postgres://user@host:port`; `scripts/dev test` starts one and runs the suite on both back
/// ends). Every test then gets a database of its own where it would get SQLite.
pub fn postgres() -> Option<String> {
    std::env::var("DRYDOCK_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// `url` as this run of the suite has it: a fresh PostgreSQL database for an in-memory SQLite
/// one when the suite runs on PostgreSQL.
pub fn in_backend(url: &str) -> String {
    match postgres() {
        Some(server) if url == "sqlite::memory:" => fresh_postgres_database(&server),
        _ => url.to_owned(),
    }
}

/// Creates an empty database on `server` (with `createdb`, so it works outside async code).
fn fresh_postgres_database(server: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let made = std::process::Command::new("createdb")
        .args(["--maintenance-db", &format!("{server}/postgres"), &name])
        .output()
        .expect("createdb runs (PostgreSQL's client programs are on PATH)");
    assert!(made.status.success(), "createdb: {made:?}");
    format!("{server}/{name}")
}

/// Whether this run of the suite is on SQLite: tests of SQLite itself (its files, its old
/// migrations) skip themselves on PostgreSQL.
pub fn on_sqlite() -> bool {
    postgres().is_none()
}

/// A pool on a test's database, whichever back end, to look at or change what is stored.
pub async fn raw_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(url).await.unwrap()
}

/// Takes the run `uid` for a test that writes runs itself, as a replica named `test` would.
pub async fn take_run(store: &dyn server::store::RunStore, uid: &str) -> server::store::Driving {
    let (fence, _) = store
        .take_run(uid, "test", Duration::from_secs(60))
        .await
        .unwrap()
        .expect("no other replica holds the run");
    server::store::Driving {
        replica: "test".into(),
        fence,
    }
}

/// A decision that changes nothing but the run's version: `effects` only.
pub fn change<'a>(
    run: &'a app::model::run::UpdateRun,
    effects: &'a [app::engine::Effect],
) -> server::store::RunChange<'a> {
    server::store::RunChange {
        run,
        outside_members: true,
        members: &[],
        ended: &[],
        events: &[],
        effects,
        wake_at: None,
        answers: None,
    }
}

/// A `drydock serve` process, killed (SIGKILL) and reaped when dropped, so a failing test
/// leaves no server behind.
pub struct KillOnDrop(pub std::process::Child);

impl KillOnDrop {
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the `drydock` command line against the server on `port`; it must succeed. Its JSON
/// answer (`null` when it printed none).
pub fn cli(port: u16, args: &[&str]) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(args)
        .env("DRYDOCK_SERVER", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Starts the real `drydock serve` on `port` with `args` (its output discarded) and returns once
/// it answers HTTP.
pub fn spawn_serve(port: u16, args: &[&str]) -> KillOnDrop {
    spawn_serve_writing(port, args, std::process::Stdio::null())
}

/// `spawn_serve`, its log (standard output) going to `log`.
pub fn spawn_serve_writing(port: u16, args: &[&str], log: std::process::Stdio) -> KillOnDrop {
    let server = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(if args.contains(&"--auth") {
            &[][..]
        } else {
            &["--auth", "none"][..]
        })
        // The catalog stays as generated unless a test asks for releases.
        .args(if args.contains(&"--simulated-release-days") {
            &[][..]
        } else {
            &["--simulated-release-days", "0"][..]
        })
        .args(args)
        .stdout(log)
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(KillOnDrop)
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while http(port, "GET", "/api/v1/fleets", None).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl Reply {
    /// The ARM error code of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestServer {
    fn of(built: server::Built, clock: Arc<ManualClock>) -> Self {
        TestServer {
            router: built.router.clone(),
            clock,
            built,
            kept: Vec::new(),
        }
    }

    /// This server, keeping `dir` until it is dropped.
    pub fn keeping(mut self, dir: TestDir) -> Self {
        self.kept.push(dir);
        self
    }

    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        body: Option<&str>,
        content_type: &str,
    ) -> Reply {
        self.send_with(method, uri, body, content_type, &[]).await
    }

    /// `send` with extra request headers (a browser's `Origin`, a credential).
    pub async fn send_with(
        &self,
        method: &str,
        uri: &str,
        body: Option<&str>,
        content_type: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .unwrap();
        let what = format!("{method} {uri}");
        let response = tokio::time::timeout(RESPONSE_LIMIT, self.router.clone().oneshot(request))
            .await
            .unwrap_or_else(|_| panic!("{what}: no answer within {RESPONSE_LIMIT:?}"))
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = whole_body(response.into_body(), &what).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> Reply {
        let text = body.map(|b| b.to_string());
        self.send(method, uri, text.as_deref(), "application/json")
            .await
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.call("GET", uri, None).await
    }

    pub async fn put(&self, uri: &str, body: Value) -> Reply {
        self.call("PUT", uri, Some(body)).await
    }

    pub async fn delete(&self, uri: &str) -> Reply {
        self.call("DELETE", uri, None).await
    }

    /// A simulated cluster in `region` at `version`, with one system pool.
    pub async fn sim_cluster(&self, name: &str, region: &str, version: &str) -> Reply {
        let image = self.newest_image(region).await;
        self.put(
            &format!("/api/v1/simulator/clusters/{name}"),
            serde_json::json!({
                "location": region, "kubernetesVersion": version,
                "nodePools": [{"name": "system", "count": 3, "kubernetesVersion": version,
                               "osSku": "AKSUbuntu-2204gen2containerd",
                               "nodeImageVersion": format!("AKSUbuntu-2204gen2containerd-{image}")}]
            }),
        )
        .await
    }

    pub async fn newest_image(&self, region: &str) -> String {
        let catalog = self.get("/api/v1/simulator/catalog").await.body;
        let releases = catalog["nodeImages"][region]["AKSUbuntu-2204gen2containerd"]
            .as_array()
            .unwrap()
            .clone();
        releases.last().unwrap().as_str().unwrap().to_owned()
    }

    /// A Kubernetes version the generated catalog offers (the oldest), usable for new clusters.
    pub async fn some_version(&self) -> String {
        let catalog = self.get("/api/v1/simulator/catalog").await.body;
        catalog["kubernetesVersions"][0]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Starts update run `r` of fleet `f` (the name the provider tests use).
    pub async fn start_r(&self) {
        let started = self
            .call("POST", "/api/v1/fleets/f/updateRuns/r/start", None)
            .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    }

    pub async fn fleet(&self, name: &str) {
        let reply = self
            .put(&format!("/api/v1/fleets/{name}"), serde_json::json!({}))
            .await;
        assert!(reply.status.is_success(), "{}", reply.body);
    }

    pub async fn join(
        &self,
        fleet: &str,
        member: &str,
        cluster: &str,
        group: Option<&str>,
    ) -> Reply {
        let mut properties = serde_json::json!({ "clusterResourceId": cluster });
        if let Some(group) = group {
            properties["group"] = group.into();
        }
        self.put(
            &format!("/api/v1/fleets/{fleet}/members/{member}"),
            serde_json::json!({ "properties": properties }),
        )
        .await
    }
}

/// A server in real time with the providers of the configuration file `config`.
pub async fn start_configured(config: &std::path::Path) -> FastServer {
    let mut args = args("sqlite::memory:", false);
    args.config = Some(config.to_owned());
    let built = server::build(&args, None).await.unwrap();
    FastServer(TestServer::of(built, Arc::new(ManualClock::new(START))))
}

/// A server whose fleet time runs `scale` times faster than real time (no manual clock).
pub async fn start_fast(database_url: &str, demo: bool, scale: f64) -> FastServer {
    let mut args = args(database_url, demo);
    args.time_scale = scale;
    start_fast_with(&args).await
}

/// A server built from `args` as `drydock serve` would (its clock scaled, not manual).
pub async fn start_fast_with(args: &ServeArgs) -> FastServer {
    let built = server::build(args, None).await.unwrap();
    FastServer(TestServer::of(built, Arc::new(ManualClock::new(START))))
}

/// A test server on a scaled clock (its `clock` field is unused).
pub struct FastServer(pub TestServer);

impl std::ops::Deref for FastServer {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl TestServer {
    /// Polls the run until its state is one of `states` (real time, bounded).
    pub async fn wait_for_run(&self, fleet: &str, run: &str, states: &[&str]) -> Value {
        let url = format!("/api/v1/fleets/{fleet}/updateRuns/{run}");
        for _ in 0..1500 {
            let body = self.get(&url).await.body;
            let state = body["properties"]["status"]["status"]["state"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            if states.contains(&state.as_str()) {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "run {run} never reached {states:?}: {}",
            self.get(&url).await.body
        );
    }
}

/// A minimal HTTP/1.1 client (one request per connection), so the test needs no client crate.
/// Waits (a minute at most) for the run at `path` (a real server's) to complete.
pub fn wait_until_completed(port: u16, path: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, run) = http(port, "GET", path, None).unwrap();
        if run["properties"]["status"]["status"]["state"] == "Completed" {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not complete: {run}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A GET of `path` answered in text: the status, the head (status line and headers) and the body.
pub fn http_text(port: u16, path: &str) -> (u16, String, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let payload = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // Bodies are small JSON documents; a chunked one starts with its length line.
    let json_start = payload.find(['{', '[']).unwrap_or(payload.len());
    let json_end = payload.rfind(['}', ']']).map_or(json_start, |i| i + 1);
    Ok((
        status,
        serde_json::from_str(&payload[json_start..json_end]).unwrap_or(Value::Null),
    ))
}

/// The newest patch of `1.{minor}` in the simulator's catalog.
pub async fn newest_of(s: &TestServer, minor: u32) -> String {
    let catalog = s.get("/api/v1/simulator/catalog").await.body;
    let prefix = format!("1.{minor}.");
    let all: Vec<&str> = catalog["kubernetesVersions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|v| v.starts_with(&prefix))
        .collect();
    all.last().unwrap().to_string()
}

/// Every member entry of a run's (or a plan's) stages → groups → members tree.
pub fn run_members(stages: &Value) -> Vec<Value> {
    stages
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["groups"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|g| g["members"].as_array().unwrap().clone())
        })
        .collect()
}
