//! The members table. The server sends a page of the members that match the filter (then
//! "Show more" asks for 100 more), so a 100,000-member fleet's page is as light as a small one's.

use super::super::format::until;
use super::Actions;
use crate::model::overview::{MemberRow, ObservedCluster, PoolRow, WindowStatus};
use crate::ui::run::PageClock;
use leptos::prelude::*;
use std::collections::BTreeSet;

pub const PAGE: usize = 100;

/// Table state that must outlive a refetch of the overview.
#[derive(Clone, Copy)]
pub struct TableState {
    pub selected: RwSignal<BTreeSet<String>>,
    pub filter: RwSignal<String>,
    pub limit: RwSignal<usize>,
}

impl TableState {
    pub fn new() -> Self {
        Self {
            selected: RwSignal::new(BTreeSet::new()),
            filter: RwSignal::new(String::new()),
            limit: RwSignal::new(PAGE),
        }
    }
}

/// `Showing 100 of 1000 members`, or with a filter `Showing 4 of 4 matching members (12 in the fleet)`.
pub fn shown_summary(matching: usize, limit: usize, total: usize, filtered: bool) -> String {
    let shown = matching.min(limit);
    if filtered {
        format!("Showing {shown} of {matching} matching members ({total} in the fleet)")
    } else {
        format!("Showing {shown} of {total} members")
    }
}

/// The filter, outside the part redrawn when the overview is read again (each keystroke asks
/// the server for the members that match), so typing keeps its focus.
#[component]
pub fn MemberFilter(state: TableState) -> impl IntoView {
    view! {
        <label for="member-filter" class="visually-hidden">"Filter members"</label>
        <input id="member-filter" type="search" placeholder="Filter by name, region, group or version"
            prop:value=move || state.filter.get()
            on:input=move |ev| { state.filter.set(event_target_value(&ev)); state.limit.set(PAGE); }/>
    }
}

/// The members the server sent: the first `limit` of the `matching` members (of `total`).
#[component]
pub fn MemberTable(
    members: Vec<MemberRow>,
    matching: usize,
    total: usize,
    clock: PageClock,
    fleet: String,
    actions: Actions,
    state: TableState,
) -> impl IntoView {
    let shown = members.len();
    let names: Vec<String> = members.iter().map(|m| m.name.to_string()).collect();
    let all_checked = {
        let names = names.clone();
        move || {
            let selected = state.selected.read();
            !names.is_empty() && names.iter().all(|n| selected.contains(n))
        }
    };
    let toggle_all = move |ev| {
        let on = event_target_checked(&ev);
        state.selected.update(|s| {
            for name in &names {
                if on {
                    s.insert(name.clone());
                } else {
                    s.remove(name);
                }
            }
        });
    };
    let filtered = !state.filter.read_untracked().trim().is_empty();
    let rows = members
        .into_iter()
        .map(|row| view! { <MemberRowView row clock fleet=fleet.clone() actions selected=state.selected/> })
        .collect_view();
    view! {
        <p class="muted table-count" aria-live="polite">{shown_summary(matching, shown, total, filtered)}</p>
        <div class="table-scroll">
            <table class="members">
                <thead>
                    <tr>
                        <th scope="col"><input type="checkbox" aria-label="Select all shown members"
                            prop:checked=all_checked on:change=toggle_all/></th>
                        <th scope="col">"Member"</th>
                        <th scope="col">"Region"</th>
                        <th scope="col">"Update group"</th>
                        <th scope="col">"Control plane"</th>
                        <th scope="col">"Node pools: version · node image"</th>
                        <th scope="col">"Maintenance window"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {(matching > shown).then(|| view! {
            <button class="secondary" on:click=move |_| state.limit.update(|l| *l += PAGE)>
                {format!("Show {PAGE} more")}
            </button>
        })}
        {(total == 0).then(|| view! { <p class="empty">"This fleet has no members yet. Join one below."</p> })}
    }
}

#[component]
fn MemberRowView(
    row: MemberRow,
    clock: PageClock,
    fleet: String,
    actions: Actions,
    selected: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let name = row.name.to_string();
    let checked = {
        let name = name.clone();
        move || selected.read().contains(&name)
    };
    let toggle = {
        let name = name.clone();
        move |ev| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                if on {
                    s.insert(name.clone());
                } else {
                    s.remove(&name);
                }
            });
        }
    };
    let on_remove = {
        let name = name.clone();
        move |_| {
            let question = format!(
                "Remove member {name} from fleet {fleet}? The cluster itself is not changed."
            );
            if crate::ui::confirmed(&question) {
                // Without force: a member a run is upgrading is refused with the run named.
                actions.notice.remove(actions, name.clone(), false);
            }
        }
    };
    let group = match &row.group {
        Some(g) => view! { <span class="group-tag">{g.to_string()}</span> }.into_any(),
        None => view! { <span class="muted">"none"</span> }.into_any(),
    };
    let upgrading = row.upgraded_by.clone().map(|run| {
        let href = format!("/fleets/{}/updates/runs/{run}", actions.fleet.get_untracked());
        view! { <a class="upgrading" href=href title=format!("Update run {run} is upgrading this cluster")>{format!("Upgrading · {run}")}</a> }
    });
    // The last observation failed: a warning, and what was last seen (if anything was).
    let stale = row.observation_error.clone().map(|message| {
        view! {
            <div class="observe-failed small">
                <span class="warn-badge" title=message.clone()>"⚠ Last observation failed"</span>
                " " {message} " — showing what was last seen."
            </div>
        }
    });
    let (region, details) = match row.observed {
        Ok(cluster) => (
            if cluster.stopped {
                view! {
                    {cluster.location.to_string()}
                    <br/>
                    <span class="stopped-tag" title="The cluster is stopped; runs skip it until it is started">"stopped"</span>
                }
                .into_any()
            } else {
                cluster.location.to_string().into_any()
            },
            observed_cells(cluster, clock).into_any(),
        ),
        Err(message) => (
            "unknown".into_any(),
            view! {
                <td colspan="3" class="observe-failed small">
                    <span class="warn-badge" title=message.clone()>"⚠ Not observed"</span>
                    " " {message}
                </td>
            }
            .into_any(),
        ),
    };
    let provider = row.provider.clone().map_or_else(
        || view! { <span class="provider-tag missing" title="No provider understands this id">"no provider"</span> }.into_any(),
        |p| view! { <span class="provider-tag" title="The provider that drives this cluster">{p}</span> }.into_any(),
    );
    view! {
        <tr data-member=name.clone()>
            <td><input type="checkbox" aria-label=format!("Select {name}") prop:checked=checked on:change=toggle/></td>
            <th scope="row">
                {name.clone()}
                {upgrading}
                <div class="muted small">{row.cluster_resource_id.to_string()} " " {provider}</div>
                {stale}
            </th>
            <td>{region}</td>
            <td class="group">{group}</td>
            {details}
            <td>
                <button class="link danger" aria-label=format!("Remove {name}") on:click=on_remove>"Remove"</button>
            </td>
        </tr>
    }
}

fn observed_cells(cluster: ObservedCluster, clock: PageClock) -> impl IntoView {
    view! {
        <td class="cp">{version_cell(cluster.kubernetes_version.to_string(), cluster.newer_kubernetes.map(|v| v.to_string()))}</td>
        <td><ul class="pools">{cluster.node_pools.into_iter().map(pool_item).collect_view()}</ul></td>
        <td>{windows_cell(cluster.window, cluster.node_os_window, clock)}</td>
    }
}

/// A version, and — when the region offers a newer one — an arrow with it in words.
fn version_cell(current: String, newer: Option<String>) -> impl IntoView {
    view! {
        <span class="version">{current}</span>
        {newer.map(|n| {
            let title = format!("{n} is the newest this can take in one upgrade");
            view! {
                <span class="behind" title=title>
                    <span class="visually-hidden">"newer available: "</span>"↑ " {n}
                </span>
            }
        })}
    }
}

fn pool_item(pool: PoolRow) -> impl IntoView {
    let newer_image = pool.newer_node_image.map(|r| r.to_string());
    view! {
        <li>
            <span class="pool-name">{pool.name}</span>
            <span class="muted">{format!(" ×{} ", pool.count)}</span>
            {version_cell(pool.kubernetes_version.to_string(), pool.newer_kubernetes.map(|v| v.to_string()))}
            <br/>
            {version_cell(pool.node_image_version.to_string(), newer_image)}
        </li>
    }
}

/// The member's windows: one line when only Kubernetes upgrades have a window (as most
/// clusters), else one labelled line per upgrade kind.
fn windows_cell(
    kubernetes: Option<WindowStatus>,
    node_os: Option<WindowStatus>,
    clock: PageClock,
) -> impl IntoView {
    match node_os {
        None => window_cell(kubernetes, clock).into_any(),
        Some(node_os) => view! {
            <div class="window-kind">"Kubernetes: "{window_cell(kubernetes, clock)}</div>
            <div class="window-kind">"Node images: "{window_cell(Some(node_os), clock)}</div>
        }
        .into_any(),
    }
}

/// One window, and a countdown to its next change that moves with fleet time.
fn window_cell(window: Option<WindowStatus>, clock: PageClock) -> impl IntoView {
    match window {
        None => view! { <span class="muted">"any time"</span> }.into_any(),
        Some(w) => {
            let (state, class, verb) = if w.open {
                ("open", "window open", "closes")
            } else {
                ("closed", "window closed", "opens")
            };
            let next = w.next_change;
            let change = move || {
                let now = clock.now();
                if now >= next {
                    // Past its change: the next read of the overview says what it is now.
                    format!("{verb} now")
                } else {
                    format!("{verb} {}", until(now, next))
                }
            };
            view! {
                <span>{w.description}</span><br/>
                <span class=class>{state}</span>" "<span class="muted small countdown-window">{change}</span>
            }
            .into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_a_filter_hides() {
        assert_eq!(
            shown_summary(1000, 100, 1000, false),
            "Showing 100 of 1000 members"
        );
        assert_eq!(
            shown_summary(4, 100, 12, true),
            "Showing 4 of 4 matching members (12 in the fleet)"
        );
    }
}
