//! The new-run page: the run's settings, the stage builder, and beside them a plan preview the
//! browser computes with the engine's `plan` on the fleet snapshot, with no round trip per
//! keystroke. `?copy=<strategy>` starts from a stored strategy as it is; `?from=<strategy>`
//! loads its stages into the builder to change them and save a new version.

mod draft;
mod form;
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

/// How the page was opened.
#[derive(Debug, Clone, Default)]
pub struct Start {
    /// Run with this stored strategy.
    pub copy: Option<String>,
    /// Edit this stored strategy's stages.
    pub from: Option<String>,
    /// `?sequence=stages`: open the stage builder (a new strategy).
    pub stages: bool,
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
        stages: query.read_untracked().get("sequence").as_deref() == Some("stages"),
    };
    view! {
        <Title text=move || format!("New update run · {}", fleet.get())/>
        <p class="crumbs">
            <A href=move || format!("/fleets/{}", fleet.get())>{move || format!("Fleet {}", fleet.get())}</A>
            " › "
            <A href=move || format!("/fleets/{}/updates", fleet.get())>"Multi-cluster update"</A>
        </p>
        <h1 class="page-title">"Create an update run"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading the fleet…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <ErrorMessage error/> }.into_any(),
                    Ok(data) => view! { <Builder fleet=fleet.get_untracked() data start=start()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
