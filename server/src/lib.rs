#![recursion_limit = "256"]
//! Drydock's server: configuration, store, providers, the service, REST and web wiring.

pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod provider;
pub mod rest;
pub mod runtime;
pub mod serve;
pub mod service;
pub mod settings;
pub mod store;
pub mod web;
pub mod webhooks;

use clock::{Clock, ScaledClock};
use leptos::prelude::LeptosOptions;
use provider::simulated::SimulatedProvider;
use service::Drydock;
use std::sync::Arc;
use store::SqliteStore;

/// Everything `serve` builds before it listens, so tests can build the same thing.
pub struct Built {
    pub drydock: Arc<Drydock>,
    pub simulator: Arc<SimulatedProvider>,
    pub router: axum::Router,
}

/// The simulator, then the providers of the configuration file (if any), in its order.
fn providers(
    args: &config::ServeArgs,
    simulator: Arc<SimulatedProvider>,
    journal: Arc<dyn store::ProviderJournal>,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<provider::registry::Providers> {
    let settings = match &args.config {
        Some(path) => settings::Settings::load(path)?,
        None => settings::Settings::default(),
    };
    let mut all: Vec<Arc<dyn provider::Provider>> = vec![simulator];
    for provider in settings.providers {
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

/// Opens the store, resumes fleet time, loads the simulated world and wires the router.
pub async fn build(
    args: &config::ServeArgs,
    clock: Option<Arc<dyn Clock>>,
) -> anyhow::Result<Built> {
    let store = Arc::new(SqliteStore::connect(&args.database_url).await?);
    let clock: Arc<dyn Clock> = match clock {
        Some(clock) => clock,
        None => Arc::new(ScaledClock::resume(&*store, args.time_scale).await?),
    };
    let durations = app::engine::EngineConfig::default().durations;
    let simulator = Arc::new(
        SimulatedProvider::open(store.clone(), args.seed, clock.clone(), durations).await?,
    );
    let providers = providers(args, simulator.clone(), store.clone(), &clock)?;
    let dispatcher = Arc::new(webhooks::Dispatcher::new(
        store.clone(),
        args.webhooks.settings(),
    )?);
    let drydock = Arc::new(Drydock::new(
        store::Stores::sqlite(store),
        Arc::new(providers),
        Some(simulator.clone()),
        clock,
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
    dispatcher.spawn(drydock.runtime().subscribe());
    let options = LeptosOptions::builder()
        .output_name("drydock")
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(args.addr)
        .build();
    let hosts =
        web::AllowedHosts::from_public_urls(&args.public_url).map_err(anyhow::Error::msg)?;
    let router = web::router(drydock.clone(), options, hosts);
    Ok(Built {
        drydock,
        simulator,
        router,
    })
}
