//! The Runs tab: every run of the fleet with its state, what it upgrades, and its progress.

use super::super::badge::StateBadge;
use super::super::error::ErrorMessage;
use crate::api::list_runs;
use crate::model::status::RunSummary;
use crate::model::update::{NodeImageSelectionType, UpgradeType};
use crate::ui::time::When;
use leptos::prelude::*;

/// `Full`, `Control plane only`, `Node image only`.
pub fn upgrade_label(kind: UpgradeType) -> &'static str {
    match kind {
        UpgradeType::Full => "Full",
        UpgradeType::ControlPlaneOnly => "Control plane only",
        UpgradeType::NodeImageOnly => "Node image only",
    }
}

pub fn selection_label(kind: NodeImageSelectionType) -> &'static str {
    match kind {
        NodeImageSelectionType::Latest => "Latest",
        NodeImageSelectionType::Consistent => "Consistent",
        NodeImageSelectionType::Custom => "Custom",
    }
}

#[component]
pub fn RunsTab(fleet: Memo<String>) -> impl IntoView {
    let runs = Resource::new(move || fleet.get(), list_runs);
    view! {
        <section class="panel">
            <h2>"Runs"</h2>
            <p><a class="button" href=move || format!("/fleets/{}/updates/new", fleet.get())>"Create run"</a></p>
            <Transition fallback=|| view! { <p class="loading">"Loading runs…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No update runs yet. Create one here, with "<code>"drydock updaterun create"</code>" or the REST API."</p>
                        }.into_any(),
                        Ok(list) => view! { <RunsTable fleet=fleet.get_untracked() runs=list/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `by profile stable` under a run an auto-upgrade profile generated.
fn generated_by(run: &RunSummary) -> Option<impl IntoView + use<>> {
    let id = run.auto_upgrade_profile_id.as_deref()?;
    let profile = id.rsplit('/').next().unwrap_or(id).to_owned();
    Some(
        view! { <br/><span class="muted small" title=id.to_owned()>{format!("by profile {profile}")}</span> },
    )
}

/// `pass 2 of 3` under a run that is a pass of a chain, `catch-up of r` under a catch-up run.
fn lineage(run: &RunSummary) -> Option<impl IntoView + use<>> {
    let pass = run
        .hop
        .as_ref()
        .map(|hop| format!("pass {} of {}", hop.number, hop.of));
    let catch_up = run.catch_up_of.as_deref().map(|id| {
        let of = id.rsplit('/').next().unwrap_or(id);
        format!("catch-up of {of}")
    });
    let words: Vec<String> = [pass, catch_up].into_iter().flatten().collect();
    (!words.is_empty()).then(|| view! { <br/><span class="muted small">{words.join(" · ")}</span> })
}

/// The run's Upgrade, Target version and Node images cells: for a placement run, the
/// placement and the snapshots it rolls out.
fn what_it_does(run: &RunSummary) -> (String, String, String) {
    if let Some(rollout) = &run.placement {
        return (
            format!("Placement {}", rollout.placement_name),
            crate::engine::revision_of(&rollout.snapshot),
            "—".to_owned(),
        );
    }
    let target = run
        .update
        .upgrade
        .kubernetes_version
        .map_or_else(|| "—".to_owned(), |v| v.to_string());
    (
        upgrade_label(run.update.upgrade.kind).to_owned(),
        target,
        selection_label(run.update.node_image_selection.kind).to_owned(),
    )
}

#[component]
fn RunsTable(fleet: String, runs: Vec<RunSummary>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="runs">
                <thead>
                    <tr>
                        <th scope="col">"Run"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Upgrade"</th>
                        <th scope="col">"Target version"</th>
                        <th scope="col">"Node images"</th>
                        <th scope="col">"Progress"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Ended"</th>
                    </tr>
                </thead>
                <tbody>{runs.into_iter().map(|run| run_row(&fleet, run)).collect_view()}</tbody>
            </table>
        </div>
    }
}

fn run_row(fleet: &str, run: RunSummary) -> impl IntoView + use<> {
    let href = format!("/fleets/{fleet}/updates/runs/{}", run.name);
    let (kind, target, images) = what_it_does(&run);
    let progress = crate::ui::format::progress_words(&run);
    let time = |t: Option<crate::model::time::Timestamp>| match t {
        Some(t) => view! { <When t/> }.into_any(),
        None => "—".into_any(),
    };
    view! {
        <tr data-run=run.name.clone()>
            <th scope="row"><a href=href>{run.name.clone()}</a>{generated_by(&run)}{lineage(&run)}</th>
            <td><StateBadge state=run.status.state/></td>
            <td>{kind}</td>
            <td class="version">{target}</td>
            <td>{images}</td>
            <td class="progress">
                <progress max=run.total.max(1) value=run.done aria-label=format!("members: {progress}")></progress>
                " " <span class="muted small">{progress}</span>
            </td>
            <td class="small">{time(run.status.start_time)}</td>
            <td class="small">{time(run.status.completed_time)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_like_the_portal() {
        assert_eq!(
            upgrade_label(UpgradeType::ControlPlaneOnly),
            "Control plane only"
        );
        assert_eq!(
            selection_label(NodeImageSelectionType::Consistent),
            "Consistent"
        );
    }
}
