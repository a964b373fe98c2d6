//! A stage's gates and those of its chosen groups: an approval before it starts, a scheduled
//! start (a weekday and time it waits for), an approval after it ends. The builder edits the
//! first gate of each kind; an imported strategy's further gates are kept as they are.

use super::checks::Field;
use super::draft::{LevelDraft, Stages};
use super::errors::{FormErrors, field_message, message_id};
use super::stages::draft_of;
use crate::model::gate::{GateConfiguration, GateType, ScheduledStartConfiguration, Timing};
use crate::model::window::DayOfWeek;
use leptos::prelude::*;

/// Which level of the stage a control edits: the stage itself or one of its groups.
#[derive(Debug, Clone, PartialEq)]
enum Level {
    Stage,
    Group(String),
}

impl Level {
    fn title(&self) -> String {
        match self {
            Level::Stage => "Whole stage".into(),
            Level::Group(g) => format!("Group {g}"),
        }
    }

    /// The part of element ids that tells levels apart.
    fn id_part(&self) -> String {
        match self {
            Level::Stage => "stage".into(),
            Level::Group(g) => format!("group-{g}"),
        }
    }

    fn read<T: Default>(
        &self,
        stages: RwSignal<Stages>,
        key: u64,
        f: impl Fn(&LevelDraft) -> T,
    ) -> T {
        let Some(stage) = draft_of(stages, key) else {
            return T::default();
        };
        match self {
            Level::Stage => f(&stage.limits),
            Level::Group(g) => stage.group_limits.get(g).map(f).unwrap_or_default(),
        }
    }

    fn write(&self, stages: RwSignal<Stages>, key: u64, f: impl FnOnce(&mut LevelDraft)) {
        match self {
            Level::Stage => stages.update(|s| s.edit(key, |d| f(&mut d.limits))),
            Level::Group(g) => stages.update(|s| s.edit_group_limits(key, g, f)),
        }
    }
}

/// The gates of a stage and of each group it takes, in a section that opens on a problem.
#[component]
pub fn StageGates(stages: RwSignal<Stages>, key: u64) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    let field = Field::StageGates(key);
    let groups = move || draft_of(stages, key).map(|s| s.groups).unwrap_or_default();
    let section = errors.opening_on_problem(field);
    view! {
        <details class="gates" id=format!("stage-gates-{key}") node_ref=section aria-describedby=message_id(field)>
            <summary>"Gates"</summary>
            <p class="muted small">"An approval holds the stage or group until someone approves it (on the run's page, the fleet page, or with drydock gate approve). A scheduled start holds it until the next such weekday and time."</p>
            <LevelGates stages key level=Level::Stage/>
            <For each=groups key=|g| g.clone() let:group>
                <LevelGates stages key level=Level::Group(group)/>
            </For>
        </details>
        {field_message(errors, field)}
    }
}

#[component]
fn LevelGates(stages: RwSignal<Stages>, key: u64, level: Level) -> impl IntoView {
    let level = StoredValue::new(level);
    let title = level.with_value(Level::title);
    let ids = format!("{key}-{}", level.with_value(Level::id_part));
    view! {
        <fieldset class="level-gates">
            <legend>{title.clone()}</legend>
            {approval(stages, key, level, Timing::Before, format!("gate-before-{ids}"), "Approval before it starts")}
            {scheduled_start(stages, key, level, format!("gate-schedule-{ids}"))}
            {approval(stages, key, level, Timing::After, format!("gate-after-{ids}"), "Approval after it ends")}
        </fieldset>
    }
}

/// Whether a gate of `kind` is set at `timing`, as a checkbox that adds or removes it.
fn gate_toggle(
    stages: RwSignal<Stages>,
    key: u64,
    level: StoredValue<Level>,
    (timing, kind): (Timing, GateType),
    id: String,
    label: &'static str,
) -> impl IntoView {
    let on = move || level.with_value(|l| l.read(stages, key, |d| d.gate(timing, kind).is_some()));
    view! {
        <label class="check">
            <input id=id type="checkbox" prop:checked=on
                on:change=move |ev| { let checked = event_target_checked(&ev); level.with_value(|l| l.write(stages, key, |d| d.set_gate(timing, kind, checked))) }/>
            {label}
        </label>
    }
}

/// Reads one piece of the gate of `kind` at `timing` (empty when there is none).
fn gate_value(
    stages: RwSignal<Stages>,
    key: u64,
    level: StoredValue<Level>,
    (timing, kind): (Timing, GateType),
    pick: impl Fn(&GateConfiguration) -> String + Copy + Send + Sync + 'static,
) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    move || {
        level.with_value(|l| {
            l.read(stages, key, |d| {
                d.gate(timing, kind).map(pick).unwrap_or_default()
            })
        })
    }
}

/// Changes the gate of `kind` at `timing` with what was typed.
fn gate_setter(
    stages: RwSignal<Stages>,
    key: u64,
    level: StoredValue<Level>,
    (timing, kind): (Timing, GateType),
    change: fn(&mut GateConfiguration, String),
) -> impl Fn(String) + Copy + Send + Sync + 'static {
    move |v| {
        level.with_value(|l| l.write(stages, key, |d| d.edit_gate(timing, kind, |g| change(g, v))))
    }
}

fn approval(
    stages: RwSignal<Stages>,
    key: u64,
    level: StoredValue<Level>,
    timing: Timing,
    id: String,
    label: &'static str,
) -> impl IntoView {
    let which = (timing, GateType::Approval);
    let on = move || {
        level.with_value(|l| {
            l.read(stages, key, |d| {
                d.gate(timing, GateType::Approval).is_some()
            })
        })
    };
    let name = gate_value(stages, key, level, which, |g| {
        g.display_name.clone().unwrap_or_default()
    });
    let set_name = gate_setter(stages, key, level, which, |g, v| {
        g.display_name = Some(v).filter(|v| !v.trim().is_empty());
    });
    let name_id = format!("{id}-name");
    view! {
        <div class="gate-row">
            {gate_toggle(stages, key, level, which, id, label)}
            <Show when=on>
                <input id=name_id.clone() type="text" placeholder="what to check (optional)"
                    aria-label=format!("Name of the gate: {label}") prop:value=name
                    on:input=move |ev| set_name(event_target_value(&ev))/>
            </Show>
        </div>
    }
}

fn scheduled_start(
    stages: RwSignal<Stages>,
    key: u64,
    level: StoredValue<Level>,
    id: String,
) -> impl IntoView {
    let which = (Timing::Before, GateType::ScheduledStart);
    let on = move || {
        level.with_value(|l| {
            l.read(stages, key, |d| {
                d.gate(Timing::Before, GateType::ScheduledStart).is_some()
            })
        })
    };
    let config = |pick: fn(&ScheduledStartConfiguration) -> String| {
        move |g: &GateConfiguration| {
            g.scheduled_start_configuration
                .as_ref()
                .map(pick)
                .unwrap_or_default()
        }
    };
    let day = gate_value(
        stages,
        key,
        level,
        which,
        config(|c| format!("{:?}", c.start_day)),
    );
    let time = gate_value(stages, key, level, which, config(|c| c.start_time.clone()));
    let offset = gate_value(stages, key, level, which, config(|c| c.utc_offset.clone()));
    let set_day = gate_setter(stages, key, level, which, |g, v| {
        let day = DayOfWeek::ALL.into_iter().find(|d| format!("{d:?}") == v);
        if let (Some(c), Some(day)) = (g.scheduled_start_configuration.as_mut(), day) {
            c.start_day = day;
        }
    });
    let set_time = gate_setter(stages, key, level, which, |g, v| {
        if let Some(c) = g.scheduled_start_configuration.as_mut() {
            c.start_time = v;
        }
    });
    let set_offset = gate_setter(stages, key, level, which, |g, v| {
        if let Some(c) = g.scheduled_start_configuration.as_mut() {
            c.utc_offset = v;
        }
    });
    view! {
        <div class="gate-row">
            {gate_toggle(stages, key, level, which, id.clone(), "Scheduled start before it starts")}
            <Show when=on>
                <select id=format!("{id}-day") aria-label="Day of the scheduled start" prop:value=day
                    on:change=move |ev| set_day(event_target_value(&ev))>
                    {DayOfWeek::ALL.map(|d| { let v = format!("{d:?}"); view! { <option value=v.clone()>{v.clone()}</option> } }).collect_view()}
                </select>
                <input id=format!("{id}-time") type="text" class="narrow" placeholder="HH:MM"
                    aria-label="Time of the scheduled start" prop:value=time
                    on:input=move |ev| set_time(event_target_value(&ev))/>
                <input id=format!("{id}-offset") type="text" class="narrow" placeholder="+00:00"
                    aria-label="UTC offset of the scheduled start" prop:value=offset
                    on:input=move |ev| set_offset(event_target_value(&ev))/>
            </Show>
        </div>
    }
}
