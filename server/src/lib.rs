#![recursion_limit = "256"]
//! Drydock's server: configuration, store, providers, the service, REST and web wiring.

pub mod audit_trail;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod metrics;
pub mod portable;
pub mod provider;
pub mod rest;
pub mod runtime;
pub mod serve;
pub mod service;
pub mod settings;
pub mod store;
pub mod telemetry;
#[cfg(test)]
mod test_support;
pub mod tls;
pub mod web;
pub mod webhooks;
pub mod yaml;

use clock::{Clock, ScaledClock};
use leptos::prelude::LeptosOptions;
use provider::simulated::SimulatedProvider;
use service::Drydock;
use std::sync::Arc;
use store::SqlStore;

/// How often (real time) every fleet is looked at for a chain whose completed pass has not
/// been continued: after a crash, or a change the follower missed. Completed passes are
/// continued at once otherwise.
const CHAIN_SWEEP: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything `serve` builds before it listens, so tests can build the same thing.
pub struct Built {
    pub drydock: Arc<Drydock>,
    pub simulator: Arc<SimulatedProvider>,
    pub router: axum::Router,
    /// Set once the server is shutting down: `/readyz` answers 503 from then on.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// The simulator, then the providers of the configuration file (if any), in its order.
fn providers(
    configured: Vec<settings::ProviderSettings>,
    simulator: Arc<SimulatedProvider>,
    journal: Arc<dyn store::ProviderJournal>,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<provider::registry::Providers> {
    let mut all: Vec<Arc<dyn provider::Provider>> = vec![simulator];
    for provider in configured {
        match provider {
            settings::ProviderSettings::Exec(exec) => {
                tracing::info!(provider = %exec.name, command = ?exec.command, "exec provider configured");
                all.push(Arc::new(provider::exec::ExecProvider::new(
                    exec,
                    clock.clone(),
                )));
            }
            settings::ProviderSettings::Aks(aks) => {
                tracing::info!(provider = %aks.name, subscriptions = ?aks.subscriptions, endpoint = %aks.arm_endpoint, "AKS provider configured");
                all.push(Arc::new(provider::aks::AksProvider::new(
                    aks,
                    journal.clone(),
                    clock.clone(),
                )?));
            }
        }
    }
    Ok(provider::registry::Providers::new(all, clock.clone()))
}

/// Who may use the server (with single sign-on when `[oidc]` is configured); on a new store,
/// its first admin.
async fn access(
    args: &config::ServeArgs,
    stores: &store::Stores,
    oidc: Option<settings::OidcSettings>,
) -> anyhow::Result<auth::Access> {
    let settings = args.auth.settings();
    if settings.mode == auth::AuthMode::None {
        anyhow::ensure!(
            args.addr.ip().is_loopback(),
            "--auth none makes everyone who reaches the server an admin: it serves only on a loopback address, not {}",
            args.addr
        );
        tracing::warn!(
            "--auth none: everyone who reaches this server is an admin (local development only)"
        );
    }
    let disabled = settings.mode == auth::AuthMode::None;
    let mut access = auth::Access::new(stores.access.clone(), settings);
    if disabled {
        return Ok(access);
    }
    if let Some(oidc) = oidc {
        tracing::info!(issuer = %oidc.issuer, client = %oidc.client_id, "single sign-on configured");
        access = access.with_single_sign_on(auth::oidc::SingleSignOn::new(
            oidc,
            &args.public_url,
            stores.access.clone(),
        )?);
    }
    let given = args.auth.admin_password.clone();
    let from_env = given.is_some();
    if let Some(password) = access
        .bootstrap(given)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?
    {
        if from_env {
            tracing::info!("created user admin with the password in DRYDOCK_ADMIN_PASSWORD");
        } else {
            tracing::warn!(user = "admin", %password, "created the first user; sign in with this password (shown only now) and change it");
        }
    }
    Ok(access)
}

/// Opens the store, resumes fleet time, loads the simulated world and wires the router.
pub async fn build(
    args: &config::ServeArgs,
    clock: Option<Arc<dyn Clock>>,
) -> anyhow::Result<Built> {
    let store = Arc::new(SqlStore::connect(&args.database_url).await?);
    let clock: Arc<dyn Clock> = match clock {
        Some(clock) => clock,
        None => Arc::new(ScaledClock::resume(&*store, args.time_scale).await?),
    };
    let durations = app::engine::EngineConfig::default().durations;
    let simulator = Arc::new(
        SimulatedProvider::open(store.clone(), args.seed, clock.clone(), durations).await?,
    );
    simulator.keep_in_sync();
    let release_days = args
        .simulated_release_days
        .unwrap_or(if args.demo { 7 } else { 0 });
    if release_days > 0 {
        let settings: Arc<dyn store::FleetStore> = store.clone();
        provider::simulated::releases::spawn(&simulator, settings, clock.clone(), release_days);
    }
    let configured = match &args.config {
        Some(path) => settings::Settings::load(path)?,
        None => settings::Settings::default(),
    };
    let providers = providers(
        configured.providers,
        simulator.clone(),
        store.clone(),
        &clock,
    )?;
    let dispatcher = Arc::new(webhooks::Dispatcher::new(
        store.clone(),
        args.webhooks.settings(),
        args.replica(),
    )?);
    let stores = store::Stores::sql(store);
    let interrupted = stores
        .audit
        .interrupt_pending()
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "writes in flight when Drydock last stopped are marked Interrupted in the audit trail"
        );
    }
    let access = Arc::new(access(args, &stores, configured.oidc).await?);
    let drydock = Arc::new(Drydock::new(
        stores,
        access,
        Arc::new(providers),
        Some(simulator.clone()),
        clock,
        args.replica(),
    ));
    if args.demo
        && demo::ensure_demo_fleet(&drydock, &simulator, args.seed)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?
    {
        tracing::info!(fleet = demo::DEMO_FLEET, "created the demo fleet");
    }
    let resumed = drydock
        .runtime()
        .resume_all()
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    if resumed > 0 {
        tracing::info!(runs = resumed, "resumed update runs");
    }
    if store::Backend::of(&args.database_url)? == store::Backend::Postgres {
        let runtime = drydock.runtime().clone();
        store::sql::notify::listen(args.database_url.clone(), move |notice| {
            runtime.heard(notice)
        });
    }
    dispatcher.spawn(drydock.runtime().subscribe());
    service::follow_chains(&drydock, CHAIN_SWEEP);
    if args.auto_upgrade_interval_seconds > 0 {
        let every = std::time::Duration::from_secs(args.auto_upgrade_interval_seconds);
        service::schedule_auto_upgrades(&drydock, every);
    }
    if args.placement_interval_seconds > 0 {
        let every = std::time::Duration::from_secs(args.placement_interval_seconds);
        service::schedule_rollouts(&drydock, every);
    }
    if args.drift_interval_seconds > 0 {
        let every = std::time::Duration::from_secs(args.drift_interval_seconds);
        service::schedule_drift_checks(&drydock, every);
    }
    let options = LeptosOptions::builder()
        .output_name("drydock")
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(args.addr)
        .build();
    let hosts =
        web::AllowedHosts::from_public_urls(&args.public_url).map_err(anyhow::Error::msg)?;
    let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let router = web::router(drydock.clone(), options, hosts, draining.clone());
    Ok(Built {
        drydock,
        simulator,
        router,
        draining,
    })
}
