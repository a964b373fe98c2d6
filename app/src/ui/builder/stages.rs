//! The stage builder: stages with a name, their update groups (each group offered to one stage
//! only) and the wait after them; reorder, remove, and import/export as `example-stages.json`.

use super::checks::Field;
use super::draft::{LevelDraft, StageDraft, Stages, WaitUnit};
use super::errors::{FormErrors, field_message, message_id};
use super::gates::StageGates;
use crate::model::member::Labels;
use crate::model::selector::LabelSelector;
use crate::ui::format::count;
use leptos::prelude::*;

/// Focuses the element with `id` once the page has drawn the change that made it (a stage
/// moved or added), so the keyboard stays where the person works.
fn focus_after_redraw(id: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        if let Some(el) = document()
            .get_element_by_id(&id)
            .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[component]
pub fn StageBuilder(
    stages: RwSignal<Stages>,
    fleet_groups: Vec<String>,
    member_labels: Vec<Labels>,
) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    let fleet_groups = StoredValue::new(fleet_groups);
    let member_labels = StoredValue::new(member_labels);
    let keys = move || {
        stages
            .read()
            .stages
            .iter()
            .map(|s| s.key)
            .collect::<Vec<_>>()
    };
    let add = move |_| {
        let key = stages.try_update(Stages::add).unwrap_or_default();
        focus_after_redraw(format!("stage-name-{key}"));
    };
    view! {
        <section class="panel" aria-labelledby="stages-heading">
            <h2 id="stages-heading">"Stages"</h2>
            <p class="muted small">"Stages run one after another; the groups of a stage run side by side, each member of a group in turn."</p>
            <ol class="stage-editors">
                <For each=keys key=|k| *k let:key>
                    <StageEditor stages key fleet_groups member_labels/>
                </For>
            </ol>
            <button type="button" id="add-stage" class="secondary" on:click=add>"Add stage"</button>
            {field_message(errors, Field::Stages)}
            <RunBudget stages/>
            <ImportExport stages/>
        </section>
    }
}

/// A stage's current draft (empty if it was just removed).
pub(super) fn draft_of(stages: RwSignal<Stages>, key: u64) -> Option<StageDraft> {
    stages.read().stages.iter().find(|s| s.key == key).cloned()
}

#[component]
fn StageEditor(
    stages: RwSignal<Stages>,
    key: u64,
    fleet_groups: StoredValue<Vec<String>>,
    member_labels: StoredValue<Vec<Labels>>,
) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    let field = move |pick: fn(&StageDraft) -> String| {
        move || draft_of(stages, key).map(|s| pick(&s)).unwrap_or_default()
    };
    let name = field(|s| s.name.clone());
    let wait = field(|s| s.wait.clone());
    let unit = field(|s| s.wait_unit.word().to_owned());
    let position = move || stages.read().stages.iter().position(|s| s.key == key);
    let is_first = move || position() == Some(0);
    let is_last = move || position().map(|p| p + 1) == Some(stages.read().stages.len());
    let offered = move || fleet_groups.with_value(|all| stages.read().offered_to(key, all));
    let chosen = move |group: &str| {
        draft_of(stages, key).is_some_and(|s| s.groups.iter().any(|g| g == group))
    };
    // After a move the focus stays on the moved stage's control (the other one at an end).
    let shift = move |up: bool| {
        stages.update(|s| s.shift(key, up));
        let at_end = if up { is_first() } else { is_last() };
        let direction = if up != at_end { "up" } else { "down" };
        focus_after_redraw(format!("move-{direction}-{key}"));
    };
    let (name_field, wait_field, groups_field) = (
        Field::StageName(key),
        Field::StageWait(key),
        Field::StageGroups(key),
    );
    view! {
        <li class="stage-editor" data-stage-key=key>
            <div class="form-row">
                <div class="field">
                    <label for=format!("stage-name-{key}")>"Stage name"</label>
                    <input id=format!("stage-name-{key}") type="text" required prop:value=name
                        aria-invalid=errors.invalid(name_field) aria-describedby=message_id(name_field)
                        on:input=move |ev| { let v = event_target_value(&ev); stages.update(|s| s.edit(key, |d| d.name = v)) }/>
                    {field_message(errors, name_field)}
                </div>
                <div class="field">
                    <label for=format!("stage-wait-{key}")>"Wait after the stage"</label>
                    <div class="with-unit">
                        <input id=format!("stage-wait-{key}") type="number" min="0" step="1" inputmode="numeric" class="narrow"
                            prop:value=wait aria-invalid=errors.invalid(wait_field) aria-describedby=message_id(wait_field)
                            on:input=move |ev| { let v = event_target_value(&ev); stages.update(|s| s.edit(key, |d| d.wait = v)) }/>
                        <select aria-label="Unit of the wait" prop:value=unit
                            on:change=move |ev| { let u = WaitUnit::from_word(&event_target_value(&ev)); stages.update(|s| s.edit(key, |d| d.wait_unit = u)) }>
                            {WaitUnit::ALL.map(|u| view! { <option value=u.word()>{u.word()}</option> }).collect_view()}
                        </select>
                    </div>
                    {field_message(errors, wait_field)}
                </div>
                <div class="stage-moves">
                    <button type="button" class="link" id=format!("move-up-{key}") disabled=is_first on:click=move |_| shift(true)
                        aria-label=move || format!("Move stage {} up", name())>"Move up"</button>
                    <button type="button" class="link" id=format!("move-down-{key}") disabled=is_last on:click=move |_| shift(false)
                        aria-label=move || format!("Move stage {} down", name())>"Move down"</button>
                    <button type="button" class="link danger" on:click=move |_| stages.update(|s| s.remove(key))
                        aria-label=move || format!("Remove stage {}", name())>"Remove"</button>
                </div>
            </div>
            <fieldset class="group-picks" id=format!("stage-groups-{key}") aria-describedby=message_id(groups_field)>
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
            {field_message(errors, groups_field)}
            <StageSelector stages key member_labels/>
            <StageLimits stages key/>
            <StageGates stages key/>
        </li>
    }
}

/// The stage's `memberSelector.byLabel`, with a live count of the members it selects.
#[component]
fn StageSelector(
    stages: RwSignal<Stages>,
    key: u64,
    member_labels: StoredValue<Vec<Labels>>,
) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    let field = Field::StageSelector(key);
    let text = move || {
        draft_of(stages, key)
            .map(|s| s.limits.selector)
            .unwrap_or_default()
    };
    let matched = move || {
        let text = text();
        if text.trim().is_empty() {
            return None;
        }
        Some(match LabelSelector::parse(text.trim()) {
            Ok(selector) => member_labels.with_value(|all| {
                let n = all.iter().filter(|l| selector.matches(l)).count();
                format!(
                    "Selects {} of {}.",
                    count(n, "member", "members"),
                    all.len()
                )
            }),
            Err(_) => "Not a label selector yet.".to_owned(),
        })
    };
    let id = format!("stage-selector-{key}");
    view! {
        <div class="field">
            <label for=id.clone()>"Members by label"</label>
            <input id=id type="text" placeholder="env=prod,region in (eu,us)"
                aria-invalid=errors.invalid(field) aria-describedby=message_id(field)
                prop:value=text on:input=move |ev| { let v = event_target_value(&ev); stages.update(|s| s.edit(key, |d| d.limits.selector = v)) }/>
            <p class="muted small" data-testid=format!("selector-count-{key}")>
                {move || matched().unwrap_or_else(|| "Optional: a Kubernetes label selector over member labels. The stage's groups then take only members it selects; with no groups it runs them as one group.".into())}
            </p>
            {field_message(errors, field)}
        </div>
    }
}

/// A text input bound to one piece of a draft, with its id and label.
fn limit_input(
    id: String,
    label: String,
    placeholder: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    set: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <input id=id type="text" class="narrow" inputmode="text" placeholder=placeholder
            aria-label=label prop:value=value on:input=move |ev| set(event_target_value(&ev))/>
    }
}

/// The stage's `maxConcurrency` and `maxAllowedFailures`, and each chosen group's, with the
/// rules said where they are typed.
#[component]
fn StageLimits(stages: RwSignal<Stages>, key: u64) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    let field = Field::StageLimits(key);
    let stage_value = move |pick: fn(&LevelDraft) -> &String| {
        move || {
            draft_of(stages, key)
                .map(|s| pick(&s.limits).clone())
                .unwrap_or_default()
        }
    };
    let groups = move || draft_of(stages, key).map(|s| s.groups).unwrap_or_default();
    let section = errors.opening_on_problem(field);
    view! {
        <details class="limits" node_ref=section aria-describedby=message_id(field)>
            <summary>"Concurrency and failure budget, group selectors"</summary>
            <p class="muted small">"At once: how many members upgrade at the same time, as a number or a percentage of the members (rounded down, at least 1). The stage's value is a ceiling over all its groups; a group takes one at a time unless it says more."</p>
            <p class="muted small">"Failures allowed: failed members tolerated before the group, stage or run fails (a percentage rounds up). With none set anywhere a group fails on its first failure; a failed group, stage or run stops everything after it."</p>
            <p class="muted small">"Members by label, per group: a label selector that keeps only the group's members it matches."</p>
            <table class="limits-table">
                <thead><tr><th scope="col">""</th><th scope="col">"At once"</th><th scope="col">"Failures allowed"</th><th scope="col">"Members by label"</th></tr></thead>
                <tbody>
                    <tr>
                        <th scope="row">"Whole stage"</th>
                        <td>{limit_input(format!("stage-concurrency-{key}"), "Members at once in the stage".into(), "no ceiling",
                            stage_value(|l| &l.concurrency),
                            move |v| stages.update(|s| s.edit(key, |d| d.limits.concurrency = v)))}</td>
                        <td>{limit_input(format!("stage-failures-{key}"), "Failures the stage allows".into(), "unset",
                            stage_value(|l| &l.failures),
                            move |v| stages.update(|s| s.edit(key, |d| d.limits.failures = v)))}</td>
                        <td class="muted small">"as chosen above"</td>
                    </tr>
                    <For each=groups key=|g| g.clone() let:group>
                        <GroupLimitsRow stages key group/>
                    </For>
                </tbody>
            </table>
        </details>
        {field_message(errors, field)}
    }
}

#[component]
fn GroupLimitsRow(stages: RwSignal<Stages>, key: u64, group: String) -> impl IntoView {
    let group = StoredValue::new(group);
    let value = move |pick: fn(&LevelDraft) -> &String| {
        move || {
            draft_of(stages, key)
                .and_then(|s| group.with_value(|g| s.group_limits.get(g).map(|l| pick(l).clone())))
                .unwrap_or_default()
        }
    };
    let edit = move |change: fn(&mut LevelDraft, String)| {
        move |v: String| {
            group.with_value(|g| stages.update(|s| s.edit_group_limits(key, g, |l| change(l, v))))
        }
    };
    let name = group.get_value();
    view! {
        <tr>
            <th scope="row">{format!("Group {name}")}</th>
            <td>{limit_input(format!("group-concurrency-{key}-{name}"), format!("Members at once in group {name}"), "1",
                value(|l| &l.concurrency), edit(|l, v| l.concurrency = v))}</td>
            <td>{limit_input(format!("group-failures-{key}-{name}"), format!("Failures group {name} allows"), "unset",
                value(|l| &l.failures), edit(|l, v| l.failures = v))}</td>
            <td>{limit_input(format!("group-selector-{key}-{name}"), format!("Members of group {name} by label"), "all of the group",
                value(|l| &l.selector), edit(|l, v| l.selector = v))}</td>
        </tr>
    }
}

/// The run-level failure budget (beyond Azure).
#[component]
fn RunBudget(stages: RwSignal<Stages>) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    view! {
        <div class="field">
            <label for="run-failures">"Failures the whole run allows"</label>
            <input id="run-failures" type="text" class="narrow" placeholder="unset"
                aria-invalid=errors.invalid(Field::RunFailures) aria-describedby=message_id(Field::RunFailures)
                prop:value=move || stages.read().run_failures.clone()
                on:input=move |ev| { let v = event_target_value(&ev); stages.update(|s| s.run_failures = v) }/>
            <p class="muted small">"Counted over every stage; the run fails once more members fail, whatever its stages allow. Empty: only the stages' and groups' budgets hold."</p>
            {field_message(errors, Field::RunFailures)}
        </div>
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
