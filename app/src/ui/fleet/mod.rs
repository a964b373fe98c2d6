//! The fleet overview: version distributions, the members table, and the member actions (join,
//! assign an update group, remove). Drafts, selection and filter live at page level, outside the
//! part that re-renders when the overview is fetched again after an action.

mod charts;
mod forms;
mod members;

use super::error::ErrorMessage;
use super::format::count;
use crate::api::{AssignGroup, JoinMember, RemoveMember, get_fleet_overview};
use crate::model::overview::FleetOverview;
use charts::VersionChart;
use forms::{AssignGroupBar, JoinDraft, JoinMemberForm, Suggestions};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use members::{MemberTable, TableState};
use std::sync::Arc;

#[component]
pub fn FleetPage() -> impl IntoView {
    let params = use_params_map();
    let fleet = Memo::new(move |_| params.read().get("fleet").unwrap_or_default());
    let join = ServerAction::<JoinMember>::new();
    let assign = ServerAction::<AssignGroup>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let overview = Resource::new(
        move || {
            (
                fleet.get(),
                join.version().get(),
                assign.version().get(),
                remove.version().get(),
            )
        },
        |(fleet, ..)| get_fleet_overview(fleet),
    );
    let table = TableState::new();
    let draft = JoinDraft::new();
    let assign_group = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = join.value().get() {
            draft.clear();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = assign.value().get() {
            table.selected.set(Default::default());
        }
    });
    let fleet_name = Signal::derive(move || fleet.get());
    view! {
        <Title text=move || fleet.get()/>
        <h1 class="page-title">"Fleet " <span class="fleet-name">{move || fleet.get()}</span></h1>
        <p class="crumbs">
            <leptos_router::components::A href=move || format!("/fleets/{}/updates", fleet.get())>"Multi-cluster update →"</leptos_router::components::A>
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading fleet…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Overview overview table remove/> }.into_any(),
                    Err(error) => view! { <section class="panel"><ErrorMessage error/></section> }.into_any(),
                }
            })}
        </Transition>
        <section class="panel">
            <h2>"Assign update group"</h2>
            <p class="muted">"Select members in the table, then name the group. A group exists while a member names it."</p>
            <AssignGroupBar fleet=fleet_name group=assign_group action=assign selected=table.selected/>
        </section>
        <JoinMemberForm fleet=fleet_name draft action=join/>
    }
}

#[component]
fn Overview(
    overview: FleetOverview,
    table: TableState,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let summary = format!(
        "{} · {} · fleet time {}",
        count(overview.members.len(), "member", "members"),
        count(overview.groups.len(), "update group", "update groups"),
        overview.now
    );
    let groups = overview.groups.iter().map(|g| g.name.to_string()).collect();
    let joinable = overview
        .joinable_clusters
        .iter()
        .map(ToString::to_string)
        .collect();
    view! {
        <p class="muted summary">{summary}</p>
        <Suggestions groups joinable/>
        <div class="charts">
            <VersionChart title="Control-plane Kubernetes versions" unit="members" counts=overview.kubernetes_versions/>
            <VersionChart title="Node image versions" unit="node pools" counts=overview.node_images/>
        </div>
        <section class="panel">
            <h2>"Members"</h2>
            <MemberTable members=Arc::new(overview.members) now=overview.now fleet=overview.fleet.to_string() remove state=table/>
        </section>
    }
}
