//! The Strategies tab: stored stage layouts, each stage with its groups and wait.

use super::super::error::ErrorMessage;
use super::super::format::span;
use crate::api::list_strategies;
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
    let strategies = Resource::new(move || fleet.get(), list_strategies);
    view! {
        <section class="panel">
            <h2>"Strategies"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading strategies…"</p> }>
                {move || Suspend::new(async move {
                    match strategies.await {
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No strategies yet. Create one with "<code>"drydock updatestrategy create"</code>"."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="strategy-list">
                                {list.into_iter().map(|(name, strategy)| view! { <StrategyItem name strategy/> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StrategyItem(name: String, strategy: UpdateStrategy) -> impl IntoView {
    let label = name.clone();
    view! {
        <li data-strategy=name>
            <strong>{label}</strong>
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
