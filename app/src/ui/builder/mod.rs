//! The new-run page and the strategy pages: the run's settings (or the strategy's name), the
//! stage builder, and beside them a plan preview the browser computes with the engine's `plan`
//! on the fleet snapshot, with no round trip per keystroke. `?copy=<strategy>` starts a run
//! from a stored strategy as it is; `/updates/strategies/new` and
//! `/updates/strategies/{name}/edit` make or change a strategy (a new version: runs keep theirs).

mod actions;
mod checks;
mod draft;
mod errors;
mod form;
mod gates;
mod preview;
mod stages;

use super::error::ErrorMessage;
use crate::api::{get_fleet_snapshot, get_fleet_time, list_strategies};
use crate::engine::FleetSnapshot;
use crate::model::error::AppError;
use crate::model::strategy::UpdateStrategy;
use crate::model::time::FleetTime;
use form::Builder;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// What the page loads once: the fleet as the plan sees it, the stored strategies, the clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuilderData {
    pub snapshot: FleetSnapshot,
    pub strategies: Vec<(String, UpdateStrategy)>,
    pub time: FleetTime,
}

async fn load(fleet: String) -> Result<BuilderData, AppError> {
    Ok(BuilderData {
        snapshot: get_fleet_snapshot(fleet.clone()).await?,
        strategies: list_strategies(fleet).await?,
        time: get_fleet_time().await?,
    })
}

/// What the builder makes.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Run,
    /// A strategy page: a new one, or the stored one being edited.
    Strategy {
        editing: Option<String>,
    },
}

/// How the page was opened.
#[derive(Debug, Clone, Default)]
pub struct Start {
    /// Run with this stored strategy.
    pub copy: Option<String>,
    /// Start from this stored strategy's stages (the old `?from=` links).
    pub from: Option<String>,
}

/// A strategy that is not there, said as the API says it.
fn strategy_missing(fleet: &str, name: &str) -> AppError {
    AppError::not_found(
        "StrategyNotFound",
        format!("Fleet {fleet} has no update strategy named {name}."),
    )
}

/// The builder once the fleet is loaded; a strategy the page was asked to start from must exist.
fn builder_or_error(
    fleet: String,
    loaded: Result<BuilderData, AppError>,
    start: Start,
    mode: Mode,
) -> AnyView {
    let wanted = match &mode {
        Mode::Strategy { editing } => editing.clone(),
        Mode::Run => start.from.clone().or_else(|| start.copy.clone()),
    };
    let data = loaded.and_then(|data| match wanted {
        Some(name) if !data.strategies.iter().any(|(n, _)| *n == name) => {
            super::not_found_status();
            Err(strategy_missing(&fleet, &name))
        }
        _ => Ok(data),
    });
    match data {
        Err(error) => view! { <ErrorMessage error/> }.into_any(),
        Ok(data) => view! { <Builder fleet data start mode/> }.into_any(),
    }
}

#[component]
fn Crumbs(fleet: Memo<String>) -> impl IntoView {
    view! {
        <p class="crumbs">
            <A href=move || format!("/fleets/{}", fleet.get())>{move || format!("Fleet {}", fleet.get())}</A>
            " › "
            <A href=move || format!("/fleets/{}/updates", fleet.get())>"Multi-cluster update"</A>
        </p>
    }
}

#[component]
pub fn NewRunPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let fleet = Memo::new(move |_| params.read().get("fleet").unwrap_or_default());
    let data = Resource::new(move || fleet.get(), load);
    let start = move || Start {
        copy: query.read_untracked().get("copy"),
        from: query.read_untracked().get("from"),
    };
    view! {
        <Title text=move || format!("New update run · {}", fleet.get())/>
        <Crumbs fleet/>
        <h1 class="page-title">"Create an update run"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading the fleet…"</p> }>
            {move || Suspend::new(async move {
                builder_or_error(fleet.get_untracked(), data.await, start(), Mode::Run)
            })}
        </Suspense>
    }
}

/// `/fleets/{fleet}/updates/strategies/new` and `…/strategies/{name}/edit`.
#[component]
pub fn StrategyPage() -> impl IntoView {
    let params = use_params_map();
    let fleet = Memo::new(move |_| params.read().get("fleet").unwrap_or_default());
    let editing = Memo::new(move |_| params.read().get("name"));
    let data = Resource::new(move || fleet.get(), load);
    let title = move || match editing.get() {
        Some(name) => format!("Edit strategy {name}"),
        None => "New update strategy".to_owned(),
    };
    view! {
        <Title text=move || format!("{} · {}", title(), fleet.get())/>
        <Crumbs fleet/>
        <h1 class="page-title">{title}</h1>
        <p class="muted">"A strategy is the stages a run goes through, kept to reuse. Runs created from it keep the stages they were created with."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading the fleet…"</p> }>
            {move || Suspend::new(async move {
                let mode = Mode::Strategy { editing: editing.get_untracked() };
                builder_or_error(fleet.get_untracked(), data.await, Start::default(), mode)
            })}
        </Suspense>
    }
}
