//! Rolling an External placement out from the Placements page: the placement, the snapshot
//! (for a placement of one resource; otherwise the newest of each), how the members go (one at
//! a time, or a stored strategy's stages and gates) and the run's name. The run is created and
//! opened, to be started there like any run.

use crate::api::{CreateUpdateRun, PlacementItem, ResourceItem};
use crate::model::access::Role;
use crate::model::names::RunName;
use crate::model::placement::RolloutType;
use crate::model::rollout::{PlacementRolloutRequest, SnapshotChoice};
use crate::model::update::{CreateRun, ManagedClusterUpdate, StrategySource};
use crate::ui::access::{WhyNot, refusal};
use crate::ui::error::action_error;
use leptos::prelude::*;

/// An External placement as the form offers it: its name, and the kept snapshots of its one
/// resource (none for a placement of several).
#[derive(Debug, Clone, PartialEq)]
struct Offered {
    name: String,
    snapshots: Vec<i64>,
}

fn offered(placements: &[PlacementItem], resources: &[ResourceItem]) -> Vec<Offered> {
    placements
        .iter()
        .filter(|p| p.placement.strategy.kind == RolloutType::External)
        .map(|p| {
            let snapshots = match p.placement.resources.as_slice() {
                [only] => resources
                    .iter()
                    .find(|r| r.name == only.as_str())
                    .map(|r| r.snapshots.iter().map(|s| s.index).collect())
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            Offered {
                name: p.name.clone(),
                snapshots,
            }
        })
        .collect()
}

/// The request the form makes, or what is wrong with it.
fn request(
    placement: &str,
    snapshot: &str,
    strategy: &str,
    run: &str,
) -> Result<CreateRun, String> {
    RunName::parse(run.trim()).map_err(|why| format!("Run name: {why}"))?;
    if placement.is_empty() {
        return Err("Placement: pick one".into());
    }
    let snapshot = match snapshot {
        "" => None,
        index => Some(SnapshotChoice::Index(
            index.parse().map_err(|_| format!("Snapshot: '{index}'"))?,
        )),
    };
    let strategy = match strategy {
        "" => StrategySource::OneByOne,
        name => StrategySource::Stored(name.to_owned()),
    };
    Ok(CreateRun {
        strategy,
        update: ManagedClusterUpdate::of_placement_run(),
        placement: Some(PlacementRolloutRequest {
            placement_name: placement.to_owned(),
            snapshot,
        }),
    })
}

#[component]
pub fn RollOut(
    fleet: Memo<String>,
    placements: Vec<PlacementItem>,
    resources: Vec<ResourceItem>,
    /// The fleet's stored strategies, by name.
    strategies: Vec<String>,
) -> impl IntoView {
    let offered = offered(&placements, &resources);
    if offered.is_empty() {
        return ().into_any();
    }
    let role = refusal(Role::Operator, &fleet.get_untracked());
    let placement = RwSignal::new(offered[0].name.clone());
    let snapshot = RwSignal::new(String::new());
    let strategy = RwSignal::new(String::new());
    let run = RwSignal::new(String::new());
    let checked = Memo::new(move |_| {
        request(
            &placement.get(),
            &snapshot.get(),
            &strategy.get(),
            &run.get(),
        )
    });
    let create = ServerAction::<CreateUpdateRun>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = create.value().get() {
            let url = format!(
                "/fleets/{}/updates/runs/{}",
                fleet.get_untracked(),
                run.get_untracked().trim()
            );
            navigate(&url, Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(request) = checked.get_untracked() {
            create.dispatch(CreateUpdateRun {
                fleet: fleet.get_untracked(),
                run: run.get_untracked().trim().to_owned(),
                request,
            });
        }
    };
    let choices = offered.clone();
    let snapshots = move || {
        let name = placement.get();
        choices
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.snapshots.clone())
            .unwrap_or_default()
    };
    let names = offered.into_iter().map(|o| {
        let label = o.name.clone();
        view! { <option value=o.name>{label}</option> }
    });
    view! {
        <section class="panel">
            <h2>"Roll out with an update run"</h2>
            <p class="muted small">"An External placement changes its members only through an update run: its stages, gates and failure budget pace the change."</p>
            <WhyNot reason=role/>
            <form class="form-row" on:submit=submit aria-label="Roll out">
                <div class="field">
                    <label for="rollout-placement">"Placement"</label>
                    <select id="rollout-placement" prop:value=move || placement.get()
                        on:change=move |ev| { placement.set(event_target_value(&ev)); snapshot.set(String::new()) }>
                        {names.collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="rollout-snapshot">"Snapshot"</label>
                    <select id="rollout-snapshot" prop:value=move || snapshot.get() on:change=move |ev| snapshot.set(event_target_value(&ev))>
                        <option value="">"The newest"</option>
                        {move || snapshots().into_iter().map(|index| view! {
                            <option value=index.to_string()>{format!("snapshot {index}")}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="rollout-strategy">"Members go"</label>
                    <select id="rollout-strategy" prop:value=move || strategy.get() on:change=move |ev| strategy.set(event_target_value(&ev))>
                        <option value="">"One at a time"</option>
                        {strategies.into_iter().map(|name| {
                            let label = format!("By strategy {name}");
                            view! { <option value=name>{label}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="rollout-run">"Run name"</label>
                    <input id="rollout-run" placeholder="web-2" prop:value=move || run.get() on:input=move |ev| run.set(event_target_value(&ev))/>
                </div>
                <p class="field-error" role="alert">{move || checked.get().err().filter(|_| !run.get().is_empty())}</p>
                <button type="submit" disabled=move || create.pending().get() || role.get().is_some() || checked.get().is_err()>
                    {move || if create.pending().get() { "Creating…" } else { "Create run" }}
                </button>
            </form>
            {move || action_error(create.value().get())}
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_makes_a_placement_run() {
        let made = request("web", "2", "canary-first", "web-2").unwrap();
        assert_eq!(made.strategy, StrategySource::Stored("canary-first".into()));
        let placement = made.placement.unwrap();
        assert_eq!(placement.placement_name, "web");
        assert_eq!(placement.snapshot, Some(SnapshotChoice::Index(2)));
        let newest = request("web", "", "", "web-2").unwrap();
        assert_eq!(newest.strategy, StrategySource::OneByOne);
        assert_eq!(newest.placement.unwrap().snapshot, None);
        assert!(
            request("web", "", "", "Web 2")
                .unwrap_err()
                .starts_with("Run name: ")
        );
    }
}
