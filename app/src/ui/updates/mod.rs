//! The fleet's Multi-cluster update page: runs and strategies, as tabs (`?tab=strategies`), so a
//! tab is a link that works before the WASM loads and survives a reload.

mod runs;
mod strategies;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use runs::RunsTab;
pub use runs::{selection_label, upgrade_label};
use strategies::StrategiesTab;

#[component]
pub fn UpdatesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let fleet = Memo::new(move |_| params.read().get("fleet").unwrap_or_default());
    let on_strategies =
        Memo::new(move |_| query.read().get("tab").as_deref() == Some("strategies"));
    let tab_class = move |strategies: bool| {
        if on_strategies.get() == strategies {
            "tab current"
        } else {
            "tab"
        }
    };
    view! {
        <Title text=move || format!("Multi-cluster update · {}", fleet.get())/>
        <p class="crumbs"><A href=move || format!("/fleets/{}", fleet.get())>{move || format!("Fleet {}", fleet.get())}</A></p>
        <h1 class="page-title">"Multi-cluster update"</h1>
        <nav class="tabs" aria-label="Runs or strategies">
            <a href="?tab=runs" class=move || tab_class(false) aria-current=move || (!on_strategies.get()).then_some("page")>"Runs"</a>
            <a href="?tab=strategies" class=move || tab_class(true) aria-current=move || on_strategies.get().then_some("page")>"Strategies"</a>
        </nav>
        <Show when=move || on_strategies.get() fallback=move || view! { <RunsTab fleet/> }>
            <StrategiesTab fleet/>
        </Show>
    }
}
