//! The Strategies tab: stored stage layouts, each stage with its groups and wait.

use super::super::error::ErrorMessage;
use super::super::error::action_error;
use super::super::format::span;
use crate::api::{DeleteStrategy, list_strategies};
use crate::model::strategy::{UpdateStage, UpdateStrategy};
use crate::model::time::MS_PER_SECOND;
use leptos::prelude::*;

/// `stage1: group-1a, group-1b · then wait 1h 0m`.
pub fn describe_stage(stage: &UpdateStage) -> String {
    let groups: Vec<String> = stage.groups.iter().map(|g| g.name.to_string()).collect();
    let wait = match stage.wait_seconds() {
        0 => String::new(),
        seconds => format!(" · then wait {}", span(seconds * MS_PER_SECOND)),
    };
    format!("{}: {}{wait}", stage.name, groups.join(", "))
}

#[component]
pub fn StrategiesTab(fleet: Memo<String>) -> impl IntoView {
    let delete = ServerAction::<DeleteStrategy>::new();
    let strategies = Resource::new(
        move || (fleet.get(), delete.version().get()),
        |(fleet, _)| list_strategies(fleet),
    );
    view! {
        <section class="panel">
            <h2>"Strategies"</h2>
            <p><a class="button" href=move || format!("/fleets/{}/updates/strategies/new", fleet.get())>"New strategy"</a>
                " " <span class="muted small">"Runs keep the version of a strategy they were created from."</span></p>
            {move || action_error(delete.value().get())}
            <Transition fallback=|| view! { <p class="loading">"Loading strategies…"</p> }>
                {move || Suspend::new(async move {
                    match strategies.await {
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No strategies yet. Create one with "<code>"drydock updatestrategy create"</code>" or New strategy."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="strategy-list">
                                {list.into_iter().map(|(name, strategy)| view! { <StrategyItem fleet name strategy delete/> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StrategyItem(
    fleet: Memo<String>,
    name: String,
    strategy: UpdateStrategy,
    delete: ServerAction<DeleteStrategy>,
) -> impl IntoView {
    let label = name.clone();
    let base = move || format!("/fleets/{}/updates", fleet.get());
    let (edit, run) = (
        format!("/strategies/{name}/edit"),
        format!("/new?copy={name}"),
    );
    let remove = {
        let name = name.clone();
        move |_| {
            let question =
                format!("Delete strategy {name}? Runs created from it keep their stages.");
            if crate::ui::confirmed(&question) {
                delete.dispatch(DeleteStrategy {
                    fleet: fleet.get_untracked(),
                    name: name.clone(),
                });
            }
        }
    };
    let aria = |verb: &str| format!("{verb} strategy {name}");
    view! {
        <li data-strategy=name.clone()>
            <strong>{label}</strong>
            <span class="item-actions">
                <a href=move || format!("{}{run}", base()) aria-label=aria("Create a run from")>"Create run"</a>
                <a href=move || format!("{}{edit}", base()) aria-label=aria("Edit")>"Edit"</a>
                <button type="button" class="link danger" on:click=remove aria-label=aria("Delete")>"Delete"</button>
            </span>
            <ol class="stages">
                {strategy.stages.iter().map(|stage| view! { <li>{describe_stage(stage)}</li> }).collect_view()}
            </ol>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_reads_as_groups_then_its_wait() {
        let stage: UpdateStage = serde_json::from_str(
            r#"{"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}], "afterStageWaitInSeconds": 3600}"#,
        )
        .unwrap();
        assert_eq!(
            describe_stage(&stage),
            "stage1: group-1a, group-1b · then wait 1h 0m"
        );
    }
}
