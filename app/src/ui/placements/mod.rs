//! The fleet's Placements page: each placement with every member's state (picked or not, and
//! why; applied, available or failed), an editor whose preview schedules in the browser with the
//! server's own scheduler, and the resources with their snapshots. It refreshes every few
//! seconds, so a rollout is seen as it goes.

mod draft;
mod overrides;
mod rollout;

use super::error::{ErrorMessage, action_error};
use crate::api::{
    DeleteOverride, OverrideItem, PlacementItem, ResourceItem, SaveOverride, SavePlacement,
    placements_overview, snapshot_diff,
};
use crate::engine::{
    Candidate, MemberPlacementState, PlacementSchedule, revision_of, schedule_placement,
};
use crate::model::access::Role;
use crate::model::error::AppError;
use crate::model::placement::{Placement, RolloutType};
use crate::ui::access::{WhyNot, refusal};
use crate::ui::time::When;
use crate::view::diff::DiffLine;
use draft::DraftText;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// How often the page reads the placements again while it is open.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(3);

#[component]
pub fn PlacementsPage() -> impl IntoView {
    let params = use_params_map();
    let fleet = Memo::new(move |_| params.read().get("fleet").unwrap_or_default());
    let save = ServerAction::<SavePlacement>::new();
    let save_override = ServerAction::<SaveOverride>::new();
    let delete_override = ServerAction::<DeleteOverride>::new();
    let saved = move || {
        (
            save.version().get(),
            save_override.version().get(),
            delete_override.version().get(),
        )
    };
    let tick = RwSignal::new(0u64);
    crate::ui::run::every(REFRESH, move || tick.update(|t| *t += 1));
    let overview = Resource::new(
        move || (fleet.get(), saved(), tick.get()),
        |(fleet, ..)| placements_overview(fleet),
    );
    // The editors read what they offer once (and after a save), not on every refresh: a form
    // being typed in is never redrawn under the person typing.
    let offered = Resource::new(
        move || (fleet.get(), saved()),
        |(fleet, _)| placements_overview(fleet),
    );
    let strategies = Resource::new(
        move || fleet.get(),
        |fleet| async move {
            let stored = crate::api::list_strategies(fleet).await.unwrap_or_default();
            stored.into_iter().map(|(name, _)| name).collect::<Vec<_>>()
        },
    );
    // The snapshot whose changes are shown (resource, index), kept above the refreshing lists.
    let diff_of = RwSignal::new(None::<(String, i64)>);
    let diff = Resource::new(
        move || (fleet.get(), diff_of.get()),
        |(fleet, which)| async move {
            match which {
                Some((resource, index)) => snapshot_diff(fleet, resource, index).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let draft = RwSignal::new(DraftText {
        kind: "PickAll".into(),
        ..Default::default()
    });
    view! {
        <Title text=move || format!("Placements · {}", fleet.get())/>
        <p class="crumbs"><A href=move || format!("/fleets/{}", fleet.get())>{move || format!("Fleet {}", fleet.get())}</A></p>
        <h1 class="page-title">"Placements"</h1>
        <p class="muted small">"Kubernetes objects placed on the fleet's members: which members each placement picks and why, and where its rollout is. "
            <code>"/api/v1/fleets/{fleet}/resources"</code>" and "<code>"…/placements"</code>" do the same from scripts."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading placements…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Err(error) => view! { <ErrorMessage error/> }.into_any(),
                    Ok(data) => view! { <PlacementList placements=data.placements draft/> }.into_any(),
                }
            })}
        </Transition>
        <Transition fallback=|| view! { <p class="loading">"Loading the editor…"</p> }>
            {move || Suspend::new(async move {
                let strategies = strategies.await;
                offered.await.ok().map(|data| view! {
                    <rollout::RollOut fleet placements=data.placements.clone() resources=data.resources.clone() strategies/>
                    <Editor fleet draft save resources=data.resources candidates=data.candidates overrides=data.overrides.clone()/>
                    <overrides::Overrides fleet overrides=data.overrides save=save_override delete=delete_override/>
                })
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                overview.await.ok().map(|data| view! { <ResourceList resources=data.resources diff_of diff/> })
            })}
        </Transition>
    }
}

pub(crate) fn state_class(state: MemberPlacementState) -> &'static str {
    match state {
        MemberPlacementState::Available => "state state-completed",
        MemberPlacementState::Failed => "state state-failed",
        MemberPlacementState::NotSelected => "state state-skipped",
        MemberPlacementState::Scheduled => "state state-pending",
        MemberPlacementState::Applied => "state state-running",
    }
}

fn strategy_words(placement: &Placement) -> String {
    match placement.strategy.kind {
        RolloutType::External => "External: rolled out by update runs".into(),
        RolloutType::RollingUpdate => {
            let rolling = placement.strategy.rolling();
            format!(
                "Rolling update, at most {} unavailable",
                rolling.max_unavailable
            )
        }
    }
}

#[component]
fn PlacementList(placements: Vec<PlacementItem>, draft: RwSignal<DraftText>) -> impl IntoView {
    if placements.is_empty() {
        return view! { <section class="panel"><h2>"Placements"</h2><p class="empty">"No placements yet."</p></section> }.into_any();
    }
    view! {
        <section class="panel">
            <h2>"Placements"</h2>
            {placements.into_iter().map(|item| view! { <PlacementCard item draft/> }).collect_view()}
        </section>
    }
    .into_any()
}

#[component]
fn PlacementCard(item: PlacementItem, draft: RwSignal<DraftText>) -> impl IntoView {
    let resources: Vec<String> = item
        .placement
        .resources
        .iter()
        .map(ToString::to_string)
        .collect();
    let edit = {
        let (name, placement) = (item.name.clone(), item.placement.clone());
        move |_| draft.set(DraftText::of(&name, &placement))
    };
    let rows = item.status.members.into_iter().map(|member| {
        let snapshot = revision_of(&member.snapshot);
        view! {
            <tr data-member=member.name.clone()>
                <td>{member.name.clone()}</td>
                <td><span class=state_class(member.state) data-state=member.state.as_str()>{member.state.as_str()}</span>
                    {(!member.drifted.is_empty()).then(|| view! { " " <span class="state state-failed small" data-drifted="true">"drifted"</span> })}</td>
                <td>{snapshot}{(!member.overrides.is_empty()).then(|| format!(" + {}", member.overrides.join(", ")))}</td>
                <td class="small">{member.reason}</td>
            </tr>
        }
    });
    view! {
        <article class="placement" data-placement=item.name.clone()>
            <h3>{item.name.clone()}
                <button type="button" class="link" on:click=edit aria-label=format!("Edit placement {}", item.name)>"Edit"</button>
            </h3>
            <p>{format!("Places {}. {}.", resources.join(", "), strategy_words(&item.placement))}</p>
            <p class="muted">{item.status.summary.clone()}</p>
            <div class="table-scroll">
                <table class="placement-status">
                    <thead><tr><th>"Member"</th><th>"State"</th><th>"Holds or gets"</th><th>"Why"</th></tr></thead>
                    <tbody>{rows.collect_view()}</tbody>
                </table>
            </div>
        </article>
    }
}

#[component]
fn Editor(
    fleet: Memo<String>,
    draft: RwSignal<DraftText>,
    save: ServerAction<SavePlacement>,
    resources: Vec<ResourceItem>,
    candidates: Vec<Candidate>,
    overrides: Vec<OverrideItem>,
) -> impl IntoView {
    let role = refusal(Role::Admin, &fleet.get_untracked());
    let pending = save.pending();
    let checked = Memo::new(move |_| draft.with(DraftText::placement));
    let preview = Memo::new(move |_| {
        checked.get().ok().map(|(name, placement)| {
            let changed = overrides::overrides_picking(name.as_str(), &overrides, &candidates);
            (schedule_placement(&placement.policy, &candidates), changed)
        })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok((name, placement)) = checked.get_untracked() {
            save.dispatch(SavePlacement {
                fleet: fleet.get_untracked(),
                name: name.to_string(),
                placement,
            });
        }
    };
    let set = move |change: fn(&mut DraftText, String)| {
        move |ev| {
            let value = event_target_value(&ev);
            draft.update(|d| change(d, value));
        }
    };
    let kind = move || draft.with(|d| d.kind.clone());
    let resource_boxes = resources.into_iter().map(|resource| {
        let name = resource.name.clone();
        let checked_now = {
            let name = name.clone();
            move || draft.with(|d| d.resources.contains(&name))
        };
        let toggle = {
            let name = name.clone();
            move |ev| {
                let on = event_target_checked(&ev);
                draft.update(|d| {
                    d.resources.retain(|r| *r != name);
                    if on {
                        d.resources.push(name.clone());
                    }
                });
            }
        };
        view! { <label class="check"><input type="checkbox" prop:checked=checked_now on:change=toggle/>" " {name}</label> }
    });
    view! {
        <section class="panel">
            <h2>"Create or change a placement"</h2>
            <WhyNot reason=role/>
            <form class="form-row" on:submit=submit aria-label="Placement">
                <DraftField id="placement-name" label="Name" placeholder="web" draft
                    read=|d| d.name.clone() write=|d, v| d.name = v/>
                <fieldset class="field">
                    <legend>"Resources"</legend>
                    {resource_boxes.collect_view()}
                </fieldset>
                <div class="field">
                    <label for="placement-type">"Members"</label>
                    <select id="placement-type" prop:value=kind on:change=set(|d, v| d.kind = v)>
                        <option value="PickAll">"Every member that matches (PickAll)"</option>
                        <option value="PickN">"A number of them (PickN)"</option>
                        <option value="PickFixed">"These members (PickFixed)"</option>
                    </select>
                </div>
                <Show when=move || kind() == "PickN">
                    <DraftField id="placement-count" label="How many" placeholder="3" draft
                        read=|d| d.count.clone() write=|d, v| d.count = v/>
                    <DraftField id="placement-spread" label="Spread over the label" placeholder="fleet.azure.com/location" draft
                        read=|d| d.spread.clone() write=|d, v| d.spread = v/>
                </Show>
                <Show when=move || kind() == "PickFixed"
                    fallback=move || view! {
                        <DraftField id="placement-labels" label="With the labels" placeholder="env=prod" draft
                            read=|d| d.labels.clone() write=|d, v| d.labels = v/>
                        <label class="check"><input type="checkbox" prop:checked=move || draft.with(|d| d.tolerate_taints)
                            on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.tolerate_taints = on) }/>" Tolerate every taint"</label>
                    }>
                    <DraftField id="placement-members" label="Member names" placeholder="aks-eastus-1, aks-eastus-2" draft
                        read=|d| d.members.clone() write=|d, v| d.members = v/>
                </Show>
                <label class="check"><input type="checkbox" prop:checked=move || draft.with(|d| d.by_runs)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        draft.update(|d| { d.by_runs = on; if on { d.max_unavailable.clear() } })
                    }/>
                    " Roll changes out with update runs (External)"</label>
                <Show when=move || !draft.with(|d| d.by_runs)>
                    <DraftField id="placement-unavailable" label="At most unavailable while rolling out" placeholder="25%" draft
                        read=|d| d.max_unavailable.clone() write=|d, v| d.max_unavailable = v/>
                </Show>
                <p class="field-error" role="alert">{move || checked.get().err()}</p>
                <button type="submit" disabled=move || pending.get() || role.get().is_some() || checked.get().is_err()>
                    {move || if pending.get() { "Saving…" } else { "Save placement" }}
                </button>
            </form>
            {move || action_error(save.value().get())}
            {move || preview.get().map(|(schedule, changed)| view! { <Preview schedule changed/> })}
        </section>
    }
}

/// One text field of the editor, bound to a field of the draft.
#[component]
fn DraftField(
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    draft: RwSignal<DraftText>,
    read: fn(&DraftText) -> String,
    write: fn(&mut DraftText, String),
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id autocomplete="off" placeholder=placeholder prop:value=move || draft.with(read)
                on:input=move |ev| { let value = event_target_value(&ev); draft.update(|d| write(d, value)) }/>
        </div>
    }
}

/// The editor's schedule, before anything is saved.
#[component]
fn Preview(
    schedule: PlacementSchedule,
    /// The overrides that change each member's objects, by member.
    changed: std::collections::BTreeMap<String, Vec<String>>,
) -> impl IntoView {
    let rows = schedule.decisions.into_iter().map(|d| {
        let by = changed
            .get(&d.name)
            .filter(|_| d.selected)
            .map(|names| format!(" + {}", names.join(", ")));
        view! {
            <tr data-member=d.name.clone()>
                <td>{d.name.clone()}</td>
                <td>{if d.selected { "picked" } else { "not picked" }}{by}</td>
                <td class="small">{d.reasons.join("; ")}</td>
            </tr>
        }
    });
    view! {
        <div class="placement-preview" aria-label="Scheduling preview">
            <h3>"Preview"</h3>
            <p role="status">{schedule.summary}</p>
            <div class="table-scroll">
                <table class="placement-status">
                    <thead><tr><th>"Member"</th><th>"Picked"</th><th>"Why"</th></tr></thead>
                    <tbody>{rows.collect_view()}</tbody>
                </table>
            </div>
        </div>
    }
}

/// What the page shows of one snapshot's changes: `None` while none is asked for.
type ShownDiff = Resource<Result<Option<Vec<DiffLine>>, AppError>>;

#[component]
fn ResourceList(
    resources: Vec<ResourceItem>,
    diff_of: RwSignal<Option<(String, i64)>>,
    diff: ShownDiff,
) -> impl IntoView {
    if resources.is_empty() {
        return view! { <section class="panel"><h2>"Resources"</h2><p class="empty">"No resources yet: PUT some with the REST API."</p></section> }.into_any();
    }
    let items = resources.into_iter().map(|resource| {
        let newest = resource.snapshots.first().cloned();
        let objects = newest
            .as_ref()
            .map(|s| {
                s.objects
                    .iter()
                    .map(|o| match &o.namespace {
                        Some(ns) => format!("{} {ns}/{}", o.kind, o.name),
                        None => format!("{} {}", o.kind, o.name),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let name = resource.name.clone();
        let history = resource.snapshots.into_iter().map(|s| {
            let t = s.created_at;
            let which = (name.clone(), s.index);
            let toggle = {
                let which = which.clone();
                move |_| diff_of.update(|shown| {
                    *shown = if shown.as_ref() == Some(&which) { None } else { Some(which.clone()) };
                })
            };
            view! {
                <li data-snapshot=s.index>{format!("Snapshot {} · {} objects · {} · ", s.index, s.objects.len(), &s.hash[..s.hash.len().min(19)])}<When t/>
                    " " <button type="button" class="link" on:click=toggle aria-label=format!("Changes in snapshot {} of {}", which.1, which.0)
                        aria-pressed=move || (diff_of.get().as_ref() == Some(&which)).to_string()>"Changes"</button>
                </li>
            }
        });
        let here = name.clone();
        let shown_here = move || diff_of.with(|shown| shown.as_ref().is_some_and(|(r, _)| *r == here));
        view! {
            <li data-resource=resource.name.clone()>
                <strong>{resource.name.clone()}</strong>
                {newest.map(|s| format!(" · snapshot {}", s.index))}
                <p class="small">{objects}</p>
                <ul class="small muted">{history.collect_view()}</ul>
                <Show when=shown_here>
                    <Suspense fallback=|| view! { <p class="loading">"Loading the changes…"</p> }>
                        {move || Suspend::new(async move {
                            match diff.await {
                                Ok(Some(lines)) => view! { <DiffView lines/> }.into_any(),
                                Ok(None) => ().into_any(),
                                Err(error) => view! { <ErrorMessage error/> }.into_any(),
                            }
                        })}
                    </Suspense>
                </Show>
            </li>
        }
    });
    view! {
        <section class="panel">
            <h2>"Resources"</h2>
            <ul class="strategy-list">{items.collect_view()}</ul>
        </section>
    }
    .into_any()
}

/// A snapshot's changes from the one before, as lines marked `+` and `-`.
#[component]
fn DiffView(lines: Vec<DiffLine>) -> impl IntoView {
    let lines = lines.into_iter().map(|line| match line {
        DiffLine::Same(text) => {
            view! { <span class="diff-same">{format!("  {text}")}</span> }.into_any()
        }
        DiffLine::Removed(text) => {
            view! { <span class="diff-removed">{format!("- {text}")}</span> }.into_any()
        }
        DiffLine::Added(text) => {
            view! { <span class="diff-added">{format!("+ {text}")}</span> }.into_any()
        }
        DiffLine::Folded(n) => {
            view! { <span class="diff-folded">{format!("  … {n} unchanged lines")}</span> }
                .into_any()
        }
    });
    view! { <pre class="diff" aria-label="Changes from the snapshot before">{lines.collect_view()}</pre> }
}
