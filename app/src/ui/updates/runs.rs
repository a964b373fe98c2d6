//! The Runs tab: every run of the fleet with its state, what it upgrades, and its progress.

use super::super::error::ErrorMessage;
use crate::api::list_runs;
use crate::model::run::State;
use crate::model::status::RunSummary;
use crate::model::update::{NodeImageSelectionType, UpgradeType};
use leptos::prelude::*;

/// `Full`, `Control plane only`, `Node image only`.
pub fn upgrade_label(kind: UpgradeType) -> &'static str {
    match kind {
        UpgradeType::Full => "Full",
        UpgradeType::ControlPlaneOnly => "Control plane only",
        UpgradeType::NodeImageOnly => "Node image only",
    }
}

/// A state in words, e.g. `Not started`.
pub fn state_label(state: State) -> &'static str {
    match state {
        State::NotStarted => "Not started",
        State::Running => "Running",
        State::Stopping => "Stopping",
        State::Stopped => "Stopped",
        State::Skipped => "Skipped",
        State::Failed => "Failed",
        State::Pending => "Pending",
        State::Completed => "Completed",
    }
}

pub fn selection_label(kind: NodeImageSelectionType) -> &'static str {
    match kind {
        NodeImageSelectionType::Latest => "Latest",
        NodeImageSelectionType::Consistent => "Consistent",
    }
}

#[component]
pub fn RunsTab(fleet: Memo<String>) -> impl IntoView {
    let runs = Resource::new(move || fleet.get(), list_runs);
    view! {
        <section class="panel">
            <h2>"Runs"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading runs…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No update runs yet. Create one with "<code>"drydock updaterun create"</code>" or the REST API."</p>
                        }.into_any(),
                        Ok(list) => view! { <RunsTable runs=list/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn RunsTable(runs: Vec<RunSummary>) -> impl IntoView {
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
                <tbody>{runs.into_iter().map(run_row).collect_view()}</tbody>
            </table>
        </div>
    }
}

fn run_row(run: RunSummary) -> impl IntoView {
    let state = state_label(run.status.state);
    let state_class = format!(
        "state state-{}",
        format!("{:?}", run.status.state).to_lowercase()
    );
    let target = run
        .update
        .upgrade
        .kubernetes_version
        .map_or_else(|| "—".to_owned(), |v| v.to_string());
    let progress = format!("{} / {}", run.done, run.total);
    let time = |t: Option<crate::model::time::Timestamp>| {
        t.map_or_else(|| "—".to_owned(), |t| t.to_string())
    };
    view! {
        <tr data-run=run.name.clone()>
            <th scope="row">{run.name.clone()}</th>
            <td><span class=state_class>{state}</span></td>
            <td>{upgrade_label(run.update.upgrade.kind)}</td>
            <td class="version">{target}</td>
            <td>{selection_label(run.update.node_image_selection.kind)}</td>
            <td class="progress">
                <progress max=run.total.max(1) value=run.done aria-label=format!("{progress} members done")></progress>
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
