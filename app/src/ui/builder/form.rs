//! The run's settings (name, sequence, scope, version, node images), the stage builder, the
//! Create and Save-as-strategy buttons, and the preview beside them. What a person typed lives in
//! signals here, so a refused Create or Save loses nothing.

use super::draft::{Sequence, Stages, UpgradeChoice, run_request};
use super::preview::PlanPreview;
use super::stages::StageBuilder;
use super::{BuilderData, Start};
use crate::api::{CreateUpdateRun, SaveStrategy};
use crate::engine::{EngineConfig, plan};
use crate::model::strategy::UpdateStrategy;
use crate::model::update::{NodeImageSelectionType, UpgradeType};
use crate::ui::error::action_error;
use leptos::prelude::*;
use std::collections::BTreeSet;

/// The form's signals.
#[derive(Clone, Copy)]
struct Draft {
    run_name: RwSignal<String>,
    sequence: RwSignal<Sequence>,
    copy_from: RwSignal<String>,
    stages: RwSignal<Stages>,
    scope: RwSignal<UpgradeType>,
    version: RwSignal<String>,
    images: RwSignal<NodeImageSelectionType>,
    strategy_name: RwSignal<String>,
}

impl Draft {
    fn new(data: &BuilderData, start: &Start) -> Self {
        let stored = |name: &Option<String>| {
            let name = name.as_ref()?;
            data.strategies
                .iter()
                .find(|(n, _)| n == name)
                .map(|(n, s)| (n.clone(), s.clone()))
        };
        let (sequence, stages, copy_from, strategy_name) =
            match (stored(&start.from), stored(&start.copy)) {
                (Some((name, s)), _) => (
                    Sequence::Stages,
                    Stages::from_strategy(&s),
                    String::new(),
                    name,
                ),
                (None, Some((name, _))) => (
                    Sequence::CopyStrategy,
                    Stages::default(),
                    name,
                    String::new(),
                ),
                (None, None) => {
                    let mut stages = Stages::default();
                    stages.add();
                    let first = data
                        .strategies
                        .first()
                        .map(|(n, _)| n.clone())
                        .unwrap_or_default();
                    let sequence = if start.stages {
                        Sequence::Stages
                    } else {
                        Sequence::OneByOne
                    };
                    (sequence, stages, first, String::new())
                }
            };
        let newest = data.snapshot.catalog.newest_kubernetes();
        Self {
            run_name: RwSignal::new(String::new()),
            sequence: RwSignal::new(sequence),
            copy_from: RwSignal::new(copy_from),
            stages: RwSignal::new(stages),
            scope: RwSignal::new(UpgradeType::Full),
            version: RwSignal::new(newest.map(|v| v.to_string()).unwrap_or_default()),
            images: RwSignal::new(NodeImageSelectionType::Latest),
            strategy_name: RwSignal::new(strategy_name),
        }
    }

    fn upgrade(&self) -> UpgradeChoice {
        UpgradeChoice {
            scope: self.scope.get(),
            version: self.version.get(),
            images: self.images.get(),
        }
    }
}

/// A radio button bound to a signal.
fn radio<T: Copy + PartialEq + Send + Sync + 'static>(
    group: &'static str,
    signal: RwSignal<T>,
    value: T,
    label: &'static str,
) -> impl IntoView {
    view! {
        <label class="check">
            <input type="radio" name=group prop:checked=move || signal.get() == value
                on:change=move |_| signal.set(value)/>
            {label}
        </label>
    }
}

#[component]
pub fn Builder(fleet: String, data: BuilderData, start: Start) -> impl IntoView {
    let draft = Draft::new(&data, &start);
    let groups: Vec<String> = data
        .snapshot
        .members
        .iter()
        .filter_map(|m| m.group.as_ref().map(ToString::to_string))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let versions: Vec<String> = data
        .snapshot
        .catalog
        .kubernetes_versions
        .iter()
        .rev()
        .map(ToString::to_string)
        .collect();
    let strategies = RwSignal::new(data.strategies);
    let snapshot = StoredValue::new(data.snapshot);
    let now = data.time.now;
    let request = Memo::new(move |_| {
        let copy_from = draft.copy_from.get();
        strategies.with(|list| {
            let stored = list.iter().find(|(n, _)| *n == copy_from).map(|(_, s)| s);
            run_request(
                draft.sequence.get(),
                &draft.stages.read(),
                &copy_from,
                stored,
                &draft.upgrade(),
            )
        })
    });
    let preview = Memo::new(move |_| {
        let (_, spec) = request.get()?;
        snapshot
            .with_value(|fleet| plan(fleet, &spec, now, &EngineConfig::default()))
            .map_err(|rejection| rejection.to_string())
    });
    let fleet = StoredValue::new(fleet);
    view! {
        <div class="builder">
            <div class="builder-form">
                <RunSettings draft strategies versions/>
                <Show when=move || draft.sequence.get() == Sequence::Stages>
                    <StageBuilder stages=draft.stages fleet_groups=groups.clone()/>
                </Show>
                <CreateAndSave fleet draft request strategies/>
            </div>
            <PlanPreview plan=preview/>
        </div>
    }
}

#[component]
fn RunSettings(
    draft: Draft,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
    versions: Vec<String>,
) -> impl IntoView {
    let no_version = move || draft.scope.get() == UpgradeType::NodeImageOnly;
    view! {
        <section class="panel" aria-labelledby="settings-heading">
            <h2 id="settings-heading">"Run"</h2>
            <div class="field">
                <label for="run-name">"Run name"</label>
                <input id="run-name" type="text" required autocomplete="off" placeholder="upgrade-1-30"
                    prop:value=move || draft.run_name.get() on:input=move |ev| draft.run_name.set(event_target_value(&ev))/>
            </div>
            <fieldset>
                <legend>"Sequence"</legend>
                {radio("sequence", draft.sequence, Sequence::OneByOne, "One by one")}
                {radio("sequence", draft.sequence, Sequence::Stages, "Stages")}
                {radio("sequence", draft.sequence, Sequence::CopyStrategy, "Copy from an existing strategy")}
            </fieldset>
            <Show when=move || draft.sequence.get() == Sequence::CopyStrategy>
                <div class="field">
                    <label for="copy-from">"Strategy"</label>
                    <select id="copy-from" on:change=move |ev| draft.copy_from.set(event_target_value(&ev))
                        prop:value=move || draft.copy_from.get()>
                        <option value="">"Choose a strategy"</option>
                        {move || strategies.read().iter().map(|(name, _)| {
                            let selected = draft.copy_from.get_untracked() == *name;
                            view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <button type="button" class="link" on:click=move |_| {
                        let name = draft.copy_from.get_untracked();
                        if let Some((_, s)) = strategies.read_untracked().iter().find(|(n, _)| *n == name) {
                            draft.stages.set(Stages::from_strategy(s));
                            draft.strategy_name.set(name);
                            draft.sequence.set(Sequence::Stages);
                        }
                    }>"Edit a copy in the stage builder"</button>
                </div>
            </Show>
            <fieldset>
                <legend>"Upgrade scope"</legend>
                {radio("scope", draft.scope, UpgradeType::Full, "Kubernetes version for control plane and node pools")}
                {radio("scope", draft.scope, UpgradeType::ControlPlaneOnly, "Control plane only")}
                {radio("scope", draft.scope, UpgradeType::NodeImageOnly, "Node image only")}
            </fieldset>
            <div class="field">
                <label for="k8s-version">"Kubernetes version"</label>
                <select id="k8s-version" disabled=no_version prop:value=move || draft.version.get()
                    on:change=move |ev| draft.version.set(event_target_value(&ev))>
                    {versions.into_iter().map(|v| {
                        let selected = draft.version.get_untracked() == v;
                        let label = v.clone();
                        view! { <option value=v selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
            <fieldset>
                <legend>"Node image selection"</legend>
                {radio("images", draft.images, NodeImageSelectionType::Latest, "Latest (newest in each region)")}
                {radio("images", draft.images, NodeImageSelectionType::Consistent, "Consistent (the same version everywhere)")}
            </fieldset>
        </section>
    }
}

#[component]
fn CreateAndSave(
    fleet: StoredValue<String>,
    draft: Draft,
    request: Memo<Result<(crate::model::update::CreateRun, crate::engine::RunSpec), String>>,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
) -> impl IntoView {
    let create = ServerAction::<CreateUpdateRun>::new();
    let save = ServerAction::<SaveStrategy>::new();
    let local_error = RwSignal::new(None::<String>);
    let save_error = RwSignal::new(None::<String>);
    let navigate = leptos_router::hooks::use_navigate();
    let created = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = create.value().get() {
            let url = format!(
                "/fleets/{}/updates/runs/{}",
                fleet.get_value(),
                created.get_untracked()
            );
            navigate(&url, Default::default());
        }
    });
    let on_create = move |_| {
        local_error.set(None);
        match request.get_untracked() {
            Err(why) => local_error.set(Some(why)),
            Ok((request, _)) => {
                let run = draft.run_name.get_untracked().trim().to_owned();
                created.set(run.clone());
                create.dispatch(CreateUpdateRun {
                    fleet: fleet.get_value(),
                    run,
                    request,
                });
            }
        }
    };
    // The strategy being saved, kept to update the page's list once the server took it.
    let saving = RwSignal::new(None::<(String, UpdateStrategy)>);
    Effect::new(move |_| {
        if let (Some(Ok(())), Some((name, strategy))) = (save.value().get(), saving.get_untracked())
        {
            strategies.update(|list| {
                list.retain(|(n, _)| *n != name);
                list.push((name, strategy));
                list.sort_by(|a, b| a.0.cmp(&b.0));
            });
        }
    });
    let on_save = move |_| {
        save_error.set(None);
        let strategy = match draft.sequence.get_untracked() {
            Sequence::Stages => draft.stages.read_untracked().strategy(),
            Sequence::OneByOne | Sequence::CopyStrategy => {
                Err("Only stages built here can be saved as a strategy; choose Stages.".into())
            }
        };
        match strategy {
            Err(why) => save_error.set(Some(why)),
            Ok(strategy) => {
                let name = draft.strategy_name.get_untracked().trim().to_owned();
                // The server never replaces a stored strategy unless asked; ask the person.
                let exists = strategies.read_untracked().iter().any(|(n, _)| *n == name);
                let question = format!(
                    "Fleet {} already has an update strategy named {name}. Replace it? Runs created from it keep their copy.",
                    fleet.get_value()
                );
                if exists && !crate::ui::confirmed(&question) {
                    return;
                }
                saving.set(Some((name.clone(), strategy.clone())));
                save.dispatch(SaveStrategy {
                    fleet: fleet.get_value(),
                    name,
                    strategy,
                    replace: exists,
                });
            }
        }
    };
    let saved = move || {
        matches!(save.value().get(), Some(Ok(()))).then(|| {
            let name = saving.get().map(|(n, _)| n).unwrap_or_default();
            view! { <p class="ok" role="status">{format!("Saved strategy {name}.")}</p> }
        })
    };
    let problem = |signal: RwSignal<Option<String>>| {
        move || {
            signal
                .get()
                .map(|why| view! { <p class="error" role="alert">{why}</p> })
        }
    };
    view! {
        <section class="panel" aria-label="Create">
            <div class="form-row">
                <button type="button" on:click=on_create disabled=move || create.pending().get()>"Create run"</button>
            </div>
            {problem(local_error)}
            {move || action_error(create.value().get())}
            <div class="form-row save-strategy">
                <div class="field">
                    <label for="strategy-name">"Strategy name"</label>
                    <input id="strategy-name" type="text" autocomplete="off" placeholder="canary-first"
                        prop:value=move || draft.strategy_name.get() on:input=move |ev| draft.strategy_name.set(event_target_value(&ev))/>
                </div>
                <button type="button" class="secondary" on:click=on_save disabled=move || save.pending().get()>"Save as strategy"</button>
            </div>
            {problem(save_error)}
            {move || action_error(save.value().get())}
            {saved}
        </section>
    }
}
