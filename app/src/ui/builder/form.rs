//! The builder's form: the run's settings (name, sequence, scope, version, node images) or, on a
//! strategy page, the strategy's name; the stage builder; Create and Save; the preview beside
//! them. What a person typed lives in signals here, so a refused Create or Save loses nothing.

use super::actions::{CreateRunActions, SaveStrategyActions};
use super::checks::{Field, run_problems, strategy_problems};
use super::draft::{Sequence, Stages, UpgradeChoice, run_request};
use super::errors::{Attempt, FormErrors, TextField, field_message, message_id};
use super::preview::PlanPreview;
use super::stages::StageBuilder;
use super::{BuilderData, Mode, Start};
use crate::engine::{EngineConfig, FleetSnapshot, members_in_run, newest_workable_version, plan};
use crate::model::member::Labels;
use crate::model::strategy::UpdateStrategy;
use crate::model::update::{Hops, NodeImageSelectionType, UpgradeType};
use leptos::prelude::*;
use std::collections::BTreeSet;

/// The form's signals.
#[derive(Clone, Copy)]
pub struct Draft {
    pub run_name: RwSignal<String>,
    pub sequence: RwSignal<Sequence>,
    pub copy_from: RwSignal<String>,
    pub stages: RwSignal<Stages>,
    pub scope: RwSignal<UpgradeType>,
    pub version: RwSignal<String>,
    /// The person chose the version; until then it follows what the chosen members can take.
    pub version_picked: RwSignal<bool>,
    pub images: RwSignal<NodeImageSelectionType>,
    pub custom_images: RwSignal<String>,
    pub strategy_name: RwSignal<String>,
    /// Members more than one minor behind go through each minor in between.
    pub hops: RwSignal<Hops>,
    /// `deferUntilAvailable` in hours, as typed; empty: do not wait.
    pub defer_hours: RwSignal<String>,
}

impl Draft {
    fn new(data: &BuilderData, start: &Start, mode: &Mode) -> Self {
        let stored = |name: Option<&String>| {
            let name = name?;
            data.strategies
                .iter()
                .find(|(n, _)| n == name)
                .map(|(n, s)| (n.clone(), s.clone()))
        };
        let editing = match mode {
            Mode::Strategy { editing } => editing.as_ref(),
            Mode::Run => start.from.as_ref(),
        };
        let (sequence, stages, copy_from, strategy_name) =
            match (stored(editing), stored(start.copy.as_ref())) {
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
                    let sequence = match mode {
                        Mode::Strategy { .. } => Sequence::Stages,
                        Mode::Run => Sequence::OneByOne,
                    };
                    (sequence, stages, first, String::new())
                }
            };
        let version = workable_version(&data.snapshot, None, UpgradeType::Full)
            .or_else(|| {
                data.snapshot
                    .catalog
                    .newest_kubernetes()
                    .map(|v| v.to_string())
            })
            .unwrap_or_default();
        Self {
            run_name: RwSignal::new(String::new()),
            sequence: RwSignal::new(sequence),
            copy_from: RwSignal::new(copy_from),
            stages: RwSignal::new(stages),
            scope: RwSignal::new(UpgradeType::Full),
            version: RwSignal::new(version),
            version_picked: RwSignal::new(false),
            images: RwSignal::new(NodeImageSelectionType::Latest),
            custom_images: RwSignal::new(String::new()),
            strategy_name: RwSignal::new(strategy_name),
            hops: RwSignal::new(Hops::None),
            defer_hours: RwSignal::new(String::new()),
        }
    }

    pub fn upgrade(&self) -> UpgradeChoice {
        UpgradeChoice {
            scope: self.scope.get(),
            version: self.version.get(),
            images: self.images.get(),
            custom_images: self.custom_images.get(),
            hops: self.hops.get(),
            defer_hours: self.defer_hours.get(),
        }
    }

    /// Reads every field, so an effect reading this re-runs on any change.
    fn track(&self) {
        self.run_name.track();
        self.sequence.track();
        self.copy_from.track();
        self.stages.track();
        self.scope.track();
        self.version.track();
        self.images.track();
        self.custom_images.track();
        self.strategy_name.track();
        self.hops.track();
        self.defer_hours.track();
    }
}

/// The newest version no member the run would take is blocked by.
fn workable_version(
    snapshot: &FleetSnapshot,
    strategy: Option<&UpdateStrategy>,
    scope: UpgradeType,
) -> Option<String> {
    let members = members_in_run(snapshot, strategy);
    let clusters: Vec<_> = members
        .iter()
        .filter_map(|m| m.cluster.as_ref().ok())
        .collect();
    newest_workable_version(
        &clusters,
        scope,
        &snapshot.catalog,
        &EngineConfig::default(),
    )
    .map(|v| v.to_string())
}

/// The builder's choices for `hops`: the value, its form value, and its words.
const HOPS_CHOICES: [(Hops, &str, &str); 3] = [
    (
        Hops::None,
        "None",
        "Fail them (as Azure Fleet Manager does)",
    ),
    (
        Hops::PerMember,
        "PerMember",
        "Take each through every minor in between, in its turn",
    ),
    (
        Hops::PerStrategyPass,
        "PerStrategyPass",
        "Go one minor at a time: a run of the whole strategy per minor",
    ),
];

fn hops_choice(value: &str) -> Hops {
    HOPS_CHOICES
        .iter()
        .find(|(_, v, _)| *v == value)
        .map_or(Hops::None, |&(hops, _, _)| hops)
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
pub fn Builder(fleet: String, data: BuilderData, start: Start, mode: Mode) -> impl IntoView {
    let draft = Draft::new(&data, &start, &mode);
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
    let member_labels: Vec<Labels> = data
        .snapshot
        .members
        .iter()
        .map(|m| m.labels.clone())
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
    follow_workable_version(draft, strategies, snapshot);
    let preview = Memo::new(move |_| {
        let (_, spec) = request.get()?;
        snapshot
            .with_value(|fleet| plan(fleet, &spec, now, &EngineConfig::default()))
            .map_err(|rejection| rejection.to_string())
    });
    let errors = form_errors(draft, strategies);
    provide_context(errors.0);
    let fleet = StoredValue::new(fleet);
    let editing = match &mode {
        Mode::Strategy { editing } => editing.clone(),
        Mode::Run => None,
    };
    let is_strategy = matches!(mode, Mode::Strategy { .. });
    let show_stages = move || is_strategy || draft.sequence.get() == Sequence::Stages;
    view! {
        <div class="builder">
            <div class="builder-form">
                {if is_strategy {
                    view! { <StrategySettings draft/> }.into_any()
                } else {
                    view! { <RunSettings draft strategies versions/> }.into_any()
                }}
                <Show when=show_stages>
                    <StageBuilder stages=draft.stages fleet_groups=groups.clone() member_labels=member_labels.clone()/>
                </Show>
                {if is_strategy {
                    view! { <SaveStrategyActions fleet draft strategies attempt=errors.1 editing=editing.clone()/> }.into_any()
                } else {
                    view! { <CreateRunActions fleet draft request preview strategies attempt=errors.1/> }.into_any()
                }}
            </div>
            <PlanPreview plan=preview/>
        </div>
    }
}

/// Until the person picks a version, the version follows the members the run would take: the
/// newest none of them is blocked by.
fn follow_workable_version(
    draft: Draft,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
    snapshot: StoredValue<FleetSnapshot>,
) {
    Effect::new(move |_| {
        if draft.version_picked.get() {
            return;
        }
        let scope = draft.scope.get();
        let strategy = match draft.sequence.get() {
            Sequence::OneByOne => None,
            Sequence::Stages => draft.stages.read().strategy().ok(),
            Sequence::CopyStrategy => {
                let name = draft.copy_from.get();
                strategies.with(|list| {
                    list.iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, s)| s.clone())
                })
            }
        };
        let best = snapshot.with_value(|s| workable_version(s, strategy.as_ref(), scope));
        if let Some(best) = best
            && draft.version.get_untracked() != best
        {
            draft.version.set(best);
        }
    });
}

/// The form's errors, and the signal that says what was last tried. Any change to the form
/// clears the server's last refusal (it may no longer hold).
fn form_errors(
    draft: Draft,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
) -> (FormErrors, RwSignal<Option<Attempt>>) {
    let attempt = RwSignal::new(None::<Attempt>);
    let local = Memo::new(move |_| match attempt.get() {
        None => Default::default(),
        Some(Attempt::Create) => {
            let copy_from = draft.copy_from.get();
            let known = strategies.read().iter().any(|(n, _)| *n == copy_from);
            run_problems(
                &draft.run_name.get(),
                draft.sequence.get(),
                &draft.stages.read(),
                if known { &copy_from } else { "" },
                &draft.upgrade(),
            )
        }
        Some(Attempt::Save) => strategy_problems(&draft.strategy_name.get(), &draft.stages.read()),
    });
    let errors = FormErrors {
        local,
        server: RwSignal::new(None),
    };
    Effect::new(move |first: Option<()>| {
        draft.track();
        if first.is_some() {
            errors.server.set(None);
        }
    });
    (errors, attempt)
}

#[component]
fn RunSettings(
    draft: Draft,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
    versions: Vec<String>,
) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    // Fields that do not apply to the scope are not shown at all.
    let takes_version = move || draft.scope.get() != UpgradeType::NodeImageOnly;
    let takes_images = move || draft.scope.get() != UpgradeType::ControlPlaneOnly;
    let versions = StoredValue::new(versions);
    view! {
        <section class="panel" aria-labelledby="settings-heading">
            <h2 id="settings-heading">"Run"</h2>
            <TextField field=Field::RunName label="Run name" value=draft.run_name placeholder="upgrade-1-30" required=true/>
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
                        aria-invalid=errors.invalid(Field::CopyFrom) aria-describedby=message_id(Field::CopyFrom)
                        prop:value=move || draft.copy_from.get()>
                        <option value="">"Choose a strategy"</option>
                        {move || strategies.read().iter().map(|(name, _)| {
                            let selected = draft.copy_from.get_untracked() == *name;
                            view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                        }).collect_view()}
                    </select>
                    {field_message(errors, Field::CopyFrom)}
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
            <Show when=takes_version>
                <div class="field">
                    <label for="k8s-version">"Kubernetes version"</label>
                    <select id="k8s-version" prop:value=move || draft.version.get()
                        aria-invalid=errors.invalid(Field::Version) aria-describedby=message_id(Field::Version)
                        on:change=move |ev| {
                            draft.version_picked.set(true);
                            draft.version.set(event_target_value(&ev));
                        }>
                        {versions.get_value().into_iter().map(|v| {
                            let selected = draft.version.get_untracked() == v;
                            let label = v.clone();
                            view! { <option value=v selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                    <p class="muted small">"Preselected: the newest version none of the run's members is blocked by."</p>
                    {field_message(errors, Field::Version)}
                </div>
                <div class="field">
                    <label for="hops">"Members more than one minor version behind"</label>
                    <select id="hops" on:change=move |ev| draft.hops.set(hops_choice(&event_target_value(&ev)))>
                        {HOPS_CHOICES.iter().map(|&(hops, value, label)| view! {
                            <option value=value selected=move || draft.hops.get() == hops>{label}</option>
                        }).collect_view()}
                    </select>
                    <p class="muted small">"Kubernetes moves one minor version at a time: 1.28 → 1.31 goes through the newest patch of 1.29 and of 1.30."</p>
                </div>
            </Show>
            <Show when=takes_images>
                <fieldset>
                    <legend>"Node image selection"</legend>
                    {radio("images", draft.images, NodeImageSelectionType::Latest, "Latest (newest in each region)")}
                    {radio("images", draft.images, NodeImageSelectionType::Consistent, "Consistent (the same version everywhere)")}
                    {radio("images", draft.images, NodeImageSelectionType::Custom, "Custom (the images you name)")}
                </fieldset>
                <Show when=move || draft.images.get() == NodeImageSelectionType::Custom>
                    <TextField field=Field::CustomImages label="Custom node images" value=draft.custom_images
                        placeholder="AKSUbuntu-2204gen2containerd-202409.01.0" required=true/>
                    <p class="muted small">"One image per family, separated by spaces or commas; pools of other families keep their image, and a member whose region lacks its image waits Pending."</p>
                </Show>
            </Show>
            <TextField field=Field::DeferHours label="Wait for a release to reach a member's region (hours)" value=draft.defer_hours
                placeholder="empty: do not wait"/>
            <p class="muted small">"A member whose version or image has not reached its region yet holds its group and looks again every 15 minutes, up to this long; then it is left Pending. Up to 720 hours."</p>
        </section>
    }
}

/// A strategy page's own field: its name. Its stages follow; the preview plans them as a full
/// upgrade to the newest version their members can take.
#[component]
fn StrategySettings(draft: Draft) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="strategy-heading">
            <h2 id="strategy-heading">"Strategy"</h2>
            <TextField field=Field::StrategyName label="Strategy name" value=draft.strategy_name placeholder="canary-first" required=true/>
            <p class="muted small">{move || format!(
                "The preview plans these stages as a full upgrade to Kubernetes {}; a run chooses its own upgrade.",
                draft.version.get()
            )}</p>
        </section>
    }
}
