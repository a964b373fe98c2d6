//! The fleet's Multi-cluster update page: runs, strategies and auto-upgrade profiles, as tabs
//! (`?tab=strategies`), so a tab is a link that works before the WASM loads and survives a
//! reload.

mod profiles;
mod runs;
mod strategies;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use profiles::ProfilesTab;
use runs::RunsTab;
pub use runs::{selection_label, upgrade_label};
use strategies::StrategiesTab;

#[component]
pub fn UpdatesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let fleet = Memo::new(move |_| params.read().get("fleet").unwrap_or_default());
    let tab = Memo::new(move |_| match query.read().get("tab").as_deref() {
        Some("strategies") => "strategies",
        Some("profiles") => "profiles",
        _ => "runs",
    });
    let tab_class = move |name: &str| {
        if tab.get() == name {
            "tab current"
        } else {
            "tab"
        }
    };
    let current = move |name: &str| (tab.get() == name).then_some("page");
    view! {
        <Title text=move || format!("Multi-cluster update · {}", fleet.get())/>
        <p class="crumbs"><A href=move || format!("/fleets/{}", fleet.get())>{move || format!("Fleet {}", fleet.get())}</A></p>
        <h1 class="page-title">"Multi-cluster update"</h1>
        <nav class="tabs" aria-label="Runs, strategies or auto-upgrade profiles">
            <a href="?tab=runs" class=move || tab_class("runs") aria-current=move || current("runs")>"Runs"</a>
            <a href="?tab=strategies" class=move || tab_class("strategies") aria-current=move || current("strategies")>"Strategies"</a>
            <a href="?tab=profiles" class=move || tab_class("profiles") aria-current=move || current("profiles")>"Auto-upgrade"</a>
        </nav>
        {move || match tab.get() {
            "strategies" => view! { <StrategiesTab fleet/> }.into_any(),
            "profiles" => view! { <ProfilesTab fleet/> }.into_any(),
            _ => view! { <RunsTab fleet/> }.into_any(),
        }}
    }
}
