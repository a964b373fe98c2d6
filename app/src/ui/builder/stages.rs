//! The stage builder: stages with a name, their update groups (each group offered to one stage
//! only) and the wait after them; reorder, remove, and import/export as `example-stages.json`.

use super::draft::{StageDraft, Stages};
use leptos::prelude::*;

#[component]
pub fn StageBuilder(stages: RwSignal<Stages>, fleet_groups: Vec<String>) -> impl IntoView {
    let fleet_groups = StoredValue::new(fleet_groups);
    let keys = move || {
        stages
            .read()
            .stages
            .iter()
            .map(|s| s.key)
            .collect::<Vec<_>>()
    };
    view! {
        <section class="panel" aria-labelledby="stages-heading">
            <h2 id="stages-heading">"Stages"</h2>
            <p class="muted small">"Stages run one after another; the groups of a stage run side by side, each member of a group in turn."</p>
            <ol class="stage-editors">
                <For each=keys key=|k| *k let:key>
                    <StageEditor stages key fleet_groups/>
                </For>
            </ol>
            <button type="button" class="secondary" on:click=move |_| stages.update(Stages::add)>"Add stage"</button>
            <ImportExport stages/>
        </section>
    }
}

/// A stage's current draft (empty if it was just removed).
fn draft_of(stages: RwSignal<Stages>, key: u64) -> Option<StageDraft> {
    stages.read().stages.iter().find(|s| s.key == key).cloned()
}

#[component]
fn StageEditor(
    stages: RwSignal<Stages>,
    key: u64,
    fleet_groups: StoredValue<Vec<String>>,
) -> impl IntoView {
    let field = move |pick: fn(&StageDraft) -> String| {
        move || draft_of(stages, key).map(|s| pick(&s)).unwrap_or_default()
    };
    let name = field(|s| s.name.clone());
    let wait = field(|s| s.wait_seconds.clone());
    let position = move || stages.read().stages.iter().position(|s| s.key == key);
    let is_first = move || position() == Some(0);
    let is_last = move || position().map(|p| p + 1) == Some(stages.read().stages.len());
    let offered = move || fleet_groups.with_value(|all| stages.read().offered_to(key, all));
    let chosen = move |group: &str| {
        draft_of(stages, key).is_some_and(|s| s.groups.iter().any(|g| g == group))
    };
    let name_id = format!("stage-name-{key}");
    let wait_id = format!("stage-wait-{key}");
    view! {
        <li class="stage-editor" data-stage-key=key>
            <div class="form-row">
                <div class="field">
                    <label for=name_id.clone()>"Stage name"</label>
                    <input id=name_id type="text" prop:value=name
                        on:input=move |ev| { let v = event_target_value(&ev); stages.update(|s| s.edit(key, |d| d.name = v)) }/>
                </div>
                <div class="field">
                    <label for=wait_id.clone()>"Wait after the stage (seconds)"</label>
                    <input id=wait_id type="text" inputmode="numeric" class="narrow" prop:value=wait
                        on:input=move |ev| { let v = event_target_value(&ev); stages.update(|s| s.edit(key, |d| d.wait_seconds = v)) }/>
                </div>
                <div class="stage-moves">
                    <button type="button" class="link" disabled=is_first on:click=move |_| stages.update(|s| s.shift(key, true))
                        aria-label=move || format!("Move stage {} up", name())>"Move up"</button>
                    <button type="button" class="link" disabled=is_last on:click=move |_| stages.update(|s| s.shift(key, false))
                        aria-label=move || format!("Move stage {} down", name())>"Move down"</button>
                    <button type="button" class="link danger" on:click=move |_| stages.update(|s| s.remove(key))
                        aria-label=move || format!("Remove stage {}", name())>"Remove"</button>
                </div>
            </div>
            <fieldset class="group-picks">
                <legend>{move || format!("Update groups of {}", name())}</legend>
                {move || {
                    let groups = offered();
                    if groups.is_empty() {
                        return view! { <p class="muted small">"Every group of the fleet is in another stage."</p> }.into_any();
                    }
                    groups.into_iter().map(|group| {
                        let checked = chosen(&group);
                        let toggle = group.clone();
                        view! {
                            <label class="check">
                                <input type="checkbox" prop:checked=checked
                                    on:change=move |_| stages.update(|s| s.toggle_group(key, &toggle))/>
                                {group}
                            </label>
                        }
                    }).collect_view().into_any()
                }}
            </fieldset>
        </li>
    }
}

/// Stages as JSON: shown to copy, and pasted back to import.
#[component]
fn ImportExport(stages: RwSignal<Stages>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let export = move |_| match stages.read().strategy() {
        Ok(strategy) => {
            text.set(serde_json::to_string_pretty(&strategy).unwrap_or_default());
            message.set(Some(Ok("The stages are in the box; copy them.".into())));
        }
        Err(why) => message.set(Some(Err(format!("Nothing to export yet: {why}")))),
    };
    let import = move |_| {
        let json = text.get_untracked();
        let result = stages.try_update(|s| s.import(&json)).unwrap_or(Ok(()));
        message.set(Some(result.map(|()| "Imported the stages.".into())));
    };
    view! {
        <details class="import-export">
            <summary>"Import or export the stages as JSON"</summary>
            <label for="stages-json" class="muted small">"Stages in the shape of "<code>"example-stages.json"</code></label>
            <textarea id="stages-json" rows="8" prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <div class="form-row">
                <button type="button" class="secondary" on:click=export>"Export"</button>
                <button type="button" class="secondary" on:click=import>"Import"</button>
            </div>
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="ok" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
        </details>
    }
}
