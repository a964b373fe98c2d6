//! The command line. Every `serve` setting is also an environment variable.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Parser, Debug)]
#[command(
    name = "drydock",
    version,
    about = "Drydock: staged, crash-safe upgrades for fleets of Kubernetes clusters",
    long_about = "Drydock upgrades fleets of Kubernetes clusters in a safe, predictable order: update runs, \
                  stages, groups and strategies. `drydock serve` runs the server (browser UI at /, REST API at \
                  /api/v1); clusters are simulated by default."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: web UI, REST API and server functions.
    Serve(ServeArgs),
    /// Update runs of a fleet (like `az fleet updaterun`).
    #[command(subcommand)]
    Updaterun(crate::cli::RunCommand),
    /// Stored update strategies (like `az fleet updatestrategy`).
    #[command(subcommand)]
    Updatestrategy(crate::cli::StrategyCommand),
    /// Auto-upgrade profiles (like `az fleet autoupgradeprofile`).
    #[command(subcommand)]
    Autoupgradeprofile(crate::cli::ProfileCommand),
    /// Kubernetes objects to place on members: `apply --file web.yaml`, show, list, snapshots.
    #[command(subcommand)]
    Resource(crate::cli::ResourceCommand),
    /// Placements of resources on members: create from a file, show each member's state.
    #[command(subcommand)]
    Placement(crate::cli::PlacementCommand),
    /// Fleet members (like `az fleet member`).
    #[command(subcommand)]
    Member(crate::cli::MemberCommand),
    /// Gates of a fleet's runs: list, show, approve (like `az fleet gate`).
    #[command(subcommand)]
    Gate(crate::cli::GateCommand),
    /// API tokens for scripts: create, list, revoke.
    #[command(subcommand)]
    Token(crate::cli::TokenCommand),
    /// Measure the orchestration itself on a large simulated fleet (see the README).
    Bench(crate::bench::BenchArgs),
    /// Print the REST API's OpenAPI 3.1 document (what `/api/v1/openapi.json` serves), to
    /// generate clients or check scripts without a running server.
    Openapi,
    /// Write the whole store (fleets, members, strategies, runs, events, users, …) to a
    /// portable file: the same from SQLite and PostgreSQL (see the README).
    Export(PortableArgs),
    /// Read a file `drydock export` wrote into an empty database (created and migrated if
    /// needed); all or nothing. The way from SQLite to PostgreSQL.
    Import(PortableArgs),
}

#[derive(Args, Debug, Clone)]
pub struct PortableArgs {
    /// The database to export from or import into.
    #[arg(
        long,
        env = "DRYDOCK_DATABASE_URL",
        default_value = "sqlite://drydock.db",
        value_parser = parse_database_url
    )]
    pub database_url: String,

    /// The file (`-` or none: standard output for export, standard input for import).
    #[arg(long, short)]
    pub file: Option<std::path::PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DRYDOCK_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://FILE` (created and migrated on start; the default), or
    /// `postgres://USER:PASSWORD@HOST/DB` for several replicas on one database (migrated on
    /// start; TLS with `?sslmode=require` or `verify-full&sslrootcert=FILE`).
    #[arg(
        long,
        env = "DRYDOCK_DATABASE_URL",
        default_value = "sqlite://drydock.db",
        value_parser = parse_database_url
    )]
    pub database_url: String,

    /// Fleet seconds per real second: 60 makes an hour-long wait take a minute. Applies to waits,
    /// maintenance windows and simulated upgrade durations alike.
    #[arg(long, env = "DRYDOCK_TIME_SCALE", default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,

    /// Seed of the simulated world (catalog, demo clusters): the same seed gives the same fleet.
    #[arg(long, env = "DRYDOCK_SEED", default_value_t = 42)]
    pub seed: u64,

    /// Create the demo fleet (`demo`, about 12 simulated members) if it does not exist yet.
    #[arg(long, env = "DRYDOCK_DEMO")]
    pub demo: bool,

    /// Configuration file naming the providers of real clusters (see the README, "Upgrading
    /// real clusters"); the simulator is always on. Flags and environment variables still set
    /// everything else.
    #[arg(long, env = "DRYDOCK_CONFIG")]
    pub config: Option<std::path::PathBuf>,

    /// The addresses people and scripts reach Drydock by, such as `https://drydock.example.com`
    /// (comma-separated for several). Requests naming another host are refused (DNS rebinding),
    /// except loopback names, which always work.
    #[arg(long, env = "DRYDOCK_PUBLIC_URL", value_delimiter = ',')]
    pub public_url: Vec<String>,

    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, env = "DRYDOCK_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "DRYDOCK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Directory holding the built site (WASM bundle, CSS, favicon).
    #[arg(long, env = "DRYDOCK_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Seconds to keep serving after SIGTERM with `/readyz` answering 503, so a load balancer
    /// stops sending requests before the server stops taking them (Kubernetes: a few seconds).
    #[arg(long, env = "DRYDOCK_SHUTDOWN_DELAY_SECONDS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    pub shutdown_delay_seconds: u64,

    /// Days of fleet time between two releases of the simulated catalog (new node images; every
    /// third release also Kubernetes patches); 0 keeps the catalog as it is. 7 with `--demo`
    /// unless set, otherwise 0.
    #[arg(long, env = "DRYDOCK_SIMULATED_RELEASE_DAYS",
          value_parser = clap::value_parser!(u32).range(0..=365))]
    pub simulated_release_days: Option<u32>,

    /// Seconds between two looks at every enabled auto-upgrade profile (real time); 0 turns
    /// the schedule off (`generateUpdateRun` still works).
    #[arg(long, env = "DRYDOCK_AUTO_UPGRADE_INTERVAL_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub auto_upgrade_interval_seconds: u64,

    /// Seconds between two passes that roll every `RollingUpdate` placement out (real time):
    /// new snapshots applied, newly picked members given their objects, members no longer
    /// picked cleaned; 0 turns it off.
    #[arg(long, env = "DRYDOCK_PLACEMENT_INTERVAL_SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub placement_interval_seconds: u64,

    /// Seconds between two looks for drift (objects changed by hand on a member's cluster since
    /// they were applied), reported in placements' status (real time); 0 turns it off.
    #[arg(long, env = "DRYDOCK_DRIFT_INTERVAL_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub drift_interval_seconds: u64,

    /// This server's name among the replicas sharing one database, as the runs it drives
    /// record it. Unique per replica, and best kept across restarts (a restarted replica then
    /// takes its runs back at once); the host's name and the port by default.
    #[arg(long, env = "DRYDOCK_REPLICA_ID", value_parser = replica_id)]
    pub replica_id: Option<String>,

    /// How log lines are written: `text` for people, `json` (one object a line, with the run
    /// a line is about) for log pipelines. `RUST_LOG` chooses what is written.
    #[arg(long, env = "DRYDOCK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// An OpenTelemetry collector's OTLP/HTTP base URL (`http://collector:4318`): the server
    /// then exports traces of its runs' decisions, provider calls and requests there (under
    /// `/v1/traces`, JSON). The SDK's `OTEL_BSP_*` variables tune the batches.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_parser = otlp_endpoint)]
    pub otlp_endpoint: Option<String>,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub limits: ConnectionLimits,

    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

/// Who may use the server (see `auth/`).
#[derive(Args, Debug, Clone)]
pub struct AuthArgs {
    /// `builtin`: users, sessions and API tokens. `none`: everyone is an admin, for local
    /// development only; refused unless the address is a loopback one.
    #[arg(
        long = "auth",
        env = "DRYDOCK_AUTH",
        value_enum,
        default_value = "builtin"
    )]
    pub mode: crate::auth::AuthMode,

    /// Seconds of inactivity after which a browser session ends.
    #[arg(long, env = "DRYDOCK_SESSION_IDLE_SECONDS", default_value_t = 12 * 3600,
          value_parser = clap::value_parser!(u64).range(1..=30 * 86_400))]
    pub session_idle_seconds: u64,

    /// Seconds after sign-in at which a browser session ends, however active.
    #[arg(long, env = "DRYDOCK_SESSION_MAX_SECONDS", default_value_t = 7 * 86_400,
          value_parser = clap::value_parser!(u64).range(1..=90 * 86_400))]
    pub session_max_seconds: u64,

    /// Reverse proxies (IP addresses, comma-separated) whose X-Forwarded-For and
    /// X-Forwarded-Proto headers name the client and say whether it used HTTPS.
    #[arg(long, env = "DRYDOCK_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,

    /// The first admin's password, used only when the store has no user yet (a random one is
    /// printed to the log otherwise). Set it through the environment, not the command line.
    #[arg(
        long,
        env = "DRYDOCK_ADMIN_PASSWORD",
        hide = true,
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
}

impl Default for AuthArgs {
    fn default() -> Self {
        Self {
            mode: crate::auth::AuthMode::Builtin,
            session_idle_seconds: 12 * 3600,
            session_max_seconds: 7 * 86_400,
            admin_password: None,
            trusted_proxy: Vec::new(),
        }
    }
}

impl AuthArgs {
    pub fn settings(&self) -> crate::auth::AuthSettings {
        use std::time::Duration;
        crate::auth::AuthSettings {
            mode: self.mode,
            session_idle: Duration::from_secs(self.session_idle_seconds),
            session_max: Duration::from_secs(self.session_max_seconds),
            trusted_proxies: self.trusted_proxy.clone(),
        }
    }
}

/// How webhook deliveries are attempted (see `webhooks/dispatch.rs`).
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct WebhookArgs {
    /// Seconds a webhook receiver has to answer a delivery.
    #[arg(long, env = "DRYDOCK_WEBHOOK_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub webhook_timeout: u64,

    /// Attempts before a delivery is given up.
    #[arg(long, env = "DRYDOCK_WEBHOOK_MAX_ATTEMPTS", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub webhook_max_attempts: u32,

    /// Milliseconds before the first retry; each further retry waits twice as long, up to an
    /// hour.
    #[arg(long, env = "DRYDOCK_WEBHOOK_FIRST_RETRY_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub webhook_first_retry_ms: u64,
}

impl Default for WebhookArgs {
    fn default() -> Self {
        Self {
            webhook_timeout: 10,
            webhook_max_attempts: 12,
            webhook_first_retry_ms: 2000,
        }
    }
}

impl WebhookArgs {
    pub fn settings(&self) -> crate::webhooks::DispatchSettings {
        use std::time::Duration;
        crate::webhooks::DispatchSettings {
            timeout: Duration::from_secs(self.webhook_timeout),
            max_attempts: self.webhook_max_attempts,
            first_retry: Duration::from_millis(self.webhook_first_retry_ms),
            ..Default::default()
        }
    }
}

/// What slow or idle clients may hold of the server (see `serve.rs`).
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once; more wait in the listen queue until one closes.
    #[arg(long, env = "DRYDOCK_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Seconds a client has to send a request's headers; a keep-alive connection with no new
    /// request for this long is closed too.
    #[arg(long, env = "DRYDOCK_HEADER_READ_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout: u64,

    /// Seconds a connection may pass without a byte either way before it is closed (event
    /// streams send a keep-alive every 15 seconds).
    #[arg(long, env = "DRYDOCK_IDLE_TIMEOUT", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(16..=86_400))]
    pub idle_timeout: u64,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: 10,
            idle_timeout: 60,
        }
    }
}

/// Fleet time must move forward, and not so fast that a millisecond is a week.
fn parse_database_url(url: &str) -> Result<String, String> {
    crate::store::Backend::of(url)
        .map(|_| url.to_owned())
        .map_err(|e| e.to_string())
}

fn parse_time_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if scale.is_finite() && (0.001..=1_000_000.0).contains(&scale) {
        Ok(scale)
    } else {
        Err("the time scale must be between 0.001 and 1000000".into())
    }
}

/// An OTLP/HTTP collector's base URL: it must say its scheme (the exporter would otherwise fail
/// on every batch, long after the start).
fn otlp_endpoint(text: &str) -> Result<String, String> {
    match text.starts_with("http://") || text.starts_with("https://") {
        true => Ok(text.to_owned()),
        false => Err(format!(
            "{text:?} is not an http:// or https:// URL (an OTLP/HTTP collector, such as http://localhost:4318)"
        )),
    }
}

/// A replica id: 1 to 200 printable ASCII characters without spaces (it is written in logs and
/// in the store).
fn replica_id(text: &str) -> Result<String, String> {
    let printable = text.bytes().all(|b| b.is_ascii_graphic());
    if printable && (1..=200).contains(&text.len()) {
        Ok(text.to_owned())
    } else {
        Err("a replica id is 1 to 200 printable ASCII characters without spaces".into())
    }
}

impl ServeArgs {
    /// This replica's id: `--replica-id`, or the host's name and the port served on.
    pub fn replica(&self) -> String {
        self.replica_id
            .clone()
            .unwrap_or_else(|| crate::runtime::holds::default_replica_id(self.addr.port()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_scale_is_bounded() {
        assert_eq!(parse_time_scale("60"), Ok(60.0));
        assert!(parse_time_scale("0").is_err());
        assert!(parse_time_scale("-1").is_err());
        assert!(parse_time_scale("NaN").is_err());
        assert!(parse_time_scale("fast").is_err());
    }

    #[test]
    fn serve_defaults_match_the_readme() {
        let cli = Cli::try_parse_from(["drydock", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve parses as serve")
        };
        assert_eq!(args.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(args.database_url, "sqlite://drydock.db");
        assert!(!args.demo);
        assert_eq!(args.limits, ConnectionLimits::default());
    }
}

/// The form of the server's log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
