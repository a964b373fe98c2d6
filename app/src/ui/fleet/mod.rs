//! The fleet overview: version distributions, the members table, and the member actions (join,
//! assign an update group, remove). Drafts, selection and filter live at page level, outside the
//! parts that re-render when the overview is read again (after an action, as the filter changes).
//! The server sends the table a page of the members that match the filter; charts and groups
//! count the whole fleet.

mod charts;
mod forms;
mod members;
mod notice;
mod placed;

use super::error::ErrorMessage;
use super::format::count;
use crate::api::{AssignGroup, JoinMember, RemoveMember, get_fleet_overview};
use crate::model::overview::FleetOverview;
use crate::ui::gates::WaitingForApproval;
use crate::ui::run::PageClock;
use crate::ui::time::local;
use charts::VersionChart;
use forms::{AssignGroupBar, JoinDraft, JoinMemberForm, Suggestions};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use members::{MemberFilter, MemberTable, TableState};
use notice::Notices;

#[component]
pub fn FleetPage() -> impl IntoView {
    let params = use_params_map();
    let fleet = Memo::new(move |_| params.read().get("fleet").unwrap_or_default());
    let join = ServerAction::<JoinMember>::new();
    let assign = ServerAction::<AssignGroup>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let table = TableState::new();
    // The table's filter and length go to the server: it sends the matching members' first
    // page, never the whole fleet.
    let overview = Resource::new(
        move || {
            (
                fleet.get(),
                table.filter.get(),
                table.limit.get(),
                join.version().get(),
                assign.version().get(),
                remove.version().get(),
            )
        },
        |(fleet, filter, limit, ..)| get_fleet_overview(fleet, filter, Some(limit)),
    );
    let draft = JoinDraft::new();
    let assign_group = RwSignal::new(String::new());
    let notice = Notices::follow(join, assign, remove);
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
    let tick = RwSignal::new(0_u64);
    crate::ui::run::every(std::time::Duration::from_secs(1), move || {
        tick.update(|t| *t += 1)
    });
    let fleet_name = Signal::derive(move || fleet.get());
    let actions = Actions {
        fleet: fleet_name,
        remove,
        notice,
        assign,
        assign_group,
    };
    view! {
        <Title text=move || fleet.get()/>
        <h1 class="page-title">"Fleet " <span class="fleet-name">{move || fleet.get()}</span></h1>
        <p class="crumbs">
            <leptos_router::components::A href=move || format!("/fleets/{}/updates", fleet.get())>"Multi-cluster update →"</leptos_router::components::A>
            " · "
            <leptos_router::components::A href=move || format!("/fleets/{}/placements", fleet.get())>"Placements →"</leptos_router::components::A>
        </p>
        <WaitingForApproval fleet=fleet_name tick/>
        <Transition fallback=|| view! { <p class="loading">"Loading fleet…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => {
                        let clock = clock_of(&overview, tick);
                        view! { <Overview overview clock/> }.into_any()
                    }
                    Err(error) => {
                        if error.kind == crate::model::error::ErrorKind::NotFound {
                            crate::ui::not_found_status();
                        }
                        view! { <section class="panel"><ErrorMessage error/></section> }.into_any()
                    }
                }
            })}
        </Transition>
        <section class="panel">
            <h2>"Members"</h2>
            <SelectionBar actions selected=table.selected/>
            {move || actions.notice.view(actions)}
            <div class="table-tools"><MemberFilter state=table/></div>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    overview.await.ok().map(|overview| {
                        let clock = clock_of(&overview, tick);
                        view! {
                            <MemberTable members=overview.members matching=overview.matching
                                total=overview.total_members clock fleet=overview.fleet.to_string() actions state=table/>
                        }
                    })
                })}
            </Transition>
        </section>
        <placed::PlacementMatrixPanel fleet=fleet_name/>
        <JoinMemberForm fleet=fleet_name draft action=join/>
    }
}

fn clock_of(overview: &FleetOverview, tick: RwSignal<u64>) -> PageClock {
    let reading = crate::model::time::FleetTime {
        now: overview.now,
        scale: overview.scale,
    };
    PageClock::new(reading, tick)
}

/// What the overview's controls act with.
#[derive(Clone, Copy)]
pub struct Actions {
    pub fleet: Signal<String>,
    pub remove: ServerAction<RemoveMember>,
    pub notice: Notices,
    pub assign: ServerAction<AssignGroup>,
    pub assign_group: RwSignal<String>,
}

/// What the fleet is: its size, its groups, what it runs.
#[component]
fn Overview(overview: FleetOverview, clock: PageClock) -> impl IntoView {
    let summary = format!(
        "{} · {}",
        count(overview.total_members, "member", "members"),
        count(overview.groups.len(), "update group", "update groups"),
    );
    let groups = overview.groups.iter().map(|g| g.name.to_string()).collect();
    let joinable = overview
        .joinable_clusters
        .iter()
        .map(ToString::to_string)
        .collect();
    let fleet_time = move || local(clock.now(), false);
    view! {
        <p class="muted summary">{summary}" · fleet time " <time class="fleet-time" data-testid="fleet-time">{fleet_time}</time></p>
        <Suggestions groups joinable/>
        <div class="charts">
            <VersionChart title="Control-plane Kubernetes versions" unit="members" counts=overview.kubernetes_versions
                legend="Green: the newest version the catalog offers; grey-blue: older."/>
            <VersionChart title="Node image versions" unit="node pools" counts=overview.node_images
                legend="Green: the newest release of its image family in any region; grey-blue: older (a region may not have the newest yet)."/>
        </div>
    }
}

/// The group assignment, at the selection: a bar that stays in view while members are
/// selected.
#[component]
fn SelectionBar(
    actions: Actions,
    selected: RwSignal<std::collections::BTreeSet<String>>,
) -> impl IntoView {
    let any = move || !selected.read().is_empty();
    view! {
        <div class="selection-bar" class:sticky=any aria-label="Selected members">
            <AssignGroupBar fleet=actions.fleet group=actions.assign_group action=actions.assign selected/>
            <p class="muted small">"Select members, then name their update group (empty for none). A group exists while a member names it."</p>
        </div>
    }
}
