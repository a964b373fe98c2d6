//! The run as a tree: stages, their groups and members, and each stage's wait, with states in
//! words, messages, times and Skip buttons. Groups fold; a small run shows every member.

use super::ahead::elapsed;
use super::controls::skip_button;
use super::{PageClock, RunActions};
use crate::engine::{Rejection, SkipKind, can_skip, can_skip_member};
use crate::model::run::{GroupRun, RunState, StageRun, State, UpdateRun, WaitState};
use crate::model::status::{GroupStatus, MemberStatus, StageStatus, Status};
use crate::ui::badge::StateBadge;
use crate::ui::format::{count, precise_span};
use crate::ui::gates::gate_row;
use crate::ui::time::local;
use leptos::prelude::*;
use std::sync::Arc;

/// Runs up to this size show every group's members without a click.
const OPEN_ALL_UP_TO: usize = 60;
/// A group shows at most this many member rows; the rest are counted.
const MEMBER_ROWS: usize = 200;

/// `running for 12 min` while a stage, group or member runs (its start, and fleet time now).
fn running_for(status: &Status, clock: PageClock) -> Option<impl Fn() -> String + use<>> {
    let since = status
        .start_time
        .filter(|_| matches!(status.state, State::Running | State::Stopping))?;
    Some(move || elapsed(since, clock.now()))
}

fn times(status: &Status) -> String {
    match (
        status.start_time.map(|t| local(t, true)),
        status.completed_time.map(|t| local(t, true)),
    ) {
        (Some(s), Some(e)) => format!("{s} → {e}"),
        (Some(s), None) => format!("since {s}"),
        (None, Some(e)) => format!("at {e}"),
        (None, None) => String::new(),
    }
}

#[component]
pub fn StageTree(run: UpdateRun, clock: PageClock, actions: RunActions) -> impl IntoView {
    let status = run.status();
    let open_all = run.members().count() <= OPEN_ALL_UP_TO;
    let stages = status
        .stages
        .into_iter()
        .zip(run.stages.iter())
        .map(|(stage, raw)| stage_item(&run, stage, raw, open_all, clock, actions))
        .collect_view();
    view! { <ol class="stage-tree">{stages}</ol> }
}

fn stage_item(
    run: &UpdateRun,
    stage: StageStatus,
    raw: &StageRun,
    open_all: bool,
    clock: PageClock,
    actions: RunActions,
) -> impl IntoView + use<> {
    let name = stage.name.clone();
    let groups = stage
        .groups
        .into_iter()
        .zip(raw.groups.iter())
        .map(|(g, raw)| group_item(run, g, raw, open_all, clock, actions))
        .collect_view();
    view! {
        <li class="stage" data-stage=name.clone()>
            <div class="tree-row">
                <span class="tree-name">"Stage " <strong>{name.clone()}</strong></span>
                <StateBadge state=stage.status.state/>
                <span class="muted small">{{ let status = stage.status.clone(); move || times(&status) }}</span>
                {running_for(&stage.status, clock).map(|f| view! { <span class="elapsed small">{f}</span> })}
                {limits_note(stage.max_concurrency, stage.failure_count, stage.max_allowed_failures).map(|n| view! { <span class="limits-note small">{n}</span> })}
                {(!stage.status.state.is_done()).then(|| skip_button(can_skip(run, SkipKind::Stage, &name), SkipKind::Stage, name.clone(), actions))}
            </div>
            {raw.before_gates.iter().map(|g| gate_row(run, g, actions.fleet.into(), actions.approved)).collect_view()}
            <ul class="groups">{groups}</ul>
            {wait_row(run, raw, clock, actions)}
            {raw.after_gates.iter().map(|g| gate_row(run, g, actions.fleet.into(), actions.approved)).collect_view()}
        </li>
    }
}

/// "3 at once · 1 of 2 failures allowed": the limits a level has and how much of its failure
/// budget is spent; nothing when it has neither.
fn limits_note(concurrency: Option<u32>, failures: usize, budget: Option<u32>) -> Option<String> {
    let parts: Vec<String> = [
        concurrency.map(|c| format!("{c} at once")),
        budget.map(|b| format!("{failures} of {b} failures allowed")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The after-stage wait, with a countdown while it runs; nothing for a stage without one.
fn wait_row(
    run: &UpdateRun,
    stage: &StageRun,
    clock: PageClock,
    actions: RunActions,
) -> Option<impl IntoView + use<>> {
    if stage.after_stage_wait_in_seconds == 0 {
        return None;
    }
    let length = precise_span(stage.after_stage_wait_in_seconds * 1000);
    let countdown = match stage.wait {
        WaitState::Running { until, .. } => Some(move || {
            format!(
                "{} left",
                precise_span(until.millis() - clock.now().millis())
            )
        }),
        WaitState::NotStarted | WaitState::Completed { .. } | WaitState::Skipped { .. } => None,
    };
    Some(view! {
        <div class="tree-row wait" data-wait=stage.name.clone()>
            <span class="tree-name">"Wait " {length} " after the stage"</span>
            <StateBadge state=stage.wait.public()/>
            {countdown.map(|c| view! { <span class="countdown" role="timer">{c}</span> })}
            {(!stage.wait.is_done()).then(|| skip_button(can_skip(run, SkipKind::AfterStageWait, &stage.name), SkipKind::AfterStageWait, stage.name.clone(), actions))}
        </div>
    })
}

fn group_item(
    run: &UpdateRun,
    group: GroupStatus,
    raw: &GroupRun,
    open_all: bool,
    clock: PageClock,
    actions: RunActions,
) -> impl IntoView + use<> {
    let name = group.name.clone();
    let done = group
        .members
        .iter()
        .filter(|m| m.status.state.is_done())
        .count();
    let total = group.members.len();
    // Whether a group is open survives the re-render that every change of the run causes.
    let key = name.clone();
    let on_toggle = {
        let name = name.clone();
        move |ev: leptos::ev::Event| {
            let open = event_target::<leptos::web_sys::HtmlDetailsElement>(&ev).open();
            actions.toggled.update(|set| {
                if open == open_all {
                    set.remove(&name);
                } else {
                    set.insert(name.clone());
                }
            });
        }
    };
    let hidden = total.saturating_sub(MEMBER_ROWS);
    let stopping = matches!(run.state, RunState::Stopping { .. });
    let members: Arc<[_]> = group
        .members
        .into_iter()
        .take(MEMBER_ROWS)
        .zip(raw.members.iter())
        .map(|(m, raw)| {
            let finishing = stopping && raw.state.in_flight();
            (can_skip_member(run, raw), m, finishing)
        })
        .collect();
    let group_running = running_for(&group.status, clock);
    let before_gates = raw
        .before_gates
        .iter()
        .map(|g| gate_row(run, g, actions.fleet.into(), actions.approved))
        .collect_view();
    let after_gates = raw
        .after_gates
        .iter()
        .map(|g| gate_row(run, g, actions.fleet.into(), actions.approved))
        .collect_view();
    // One at a time and fail-fast are the defaults: only what differs is said.
    let group_limits = limits_note(
        group.max_concurrency.filter(|c| *c > 1),
        group.failure_count,
        group
            .max_allowed_failures
            .filter(|b| *b > 0 || group.failure_count > 0),
    );
    // A folded group renders no member rows (a 10,000-member run would otherwise put 10,000 rows
    // and buttons into the page); they are made when it is opened.
    let open = Signal::derive(move || open_all != actions.toggled.read().contains(&key));
    let rows = move || {
        members
            .iter()
            .map(|(allowed, m, finishing)| {
                member_row(allowed.clone(), m.clone(), *finishing, clock, actions)
            })
            .collect_view()
    };
    view! {
        <li class="group" data-group=name.clone()>
            <details open=open on:toggle=on_toggle>
                <summary class="tree-row">
                    <span class="tree-name">"Group " <strong>{name.clone()}</strong></span>
                    <StateBadge state=group.status.state/>
                    <span class="muted small">{format!("{done} of {} done", count(total, "member", "members"))}</span>
                    <span class="muted small">{{ let status = group.status.clone(); move || times(&status) }}</span>
                    {group_running.map(|f| view! { <span class="elapsed small">{f}</span> })}
                    {group_limits.map(|n| view! { <span class="limits-note small">{n}</span> })}
                    {(!group.status.state.is_done()).then(|| skip_button(can_skip(run, SkipKind::Group, &name), SkipKind::Group, name.clone(), actions))}
                </summary>
                <Show when=move || open.get()>
                    <table class="tree-members">
                        <thead><tr>
                            <th scope="col">"Member"</th><th scope="col">"State"</th><th scope="col">"Message"</th>
                            <th scope="col">"Times"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr></thead>
                        <tbody>{rows.clone()}</tbody>
                    </table>
                    {(hidden > 0).then(|| view! { <p class="muted small">{format!("and {hidden} more members")}</p> })}
                </Show>
            </details>
            {before_gates}
            {after_gates}
        </li>
    }
}

fn member_row(
    allowed: Result<(), Rejection>,
    member: MemberStatus,
    finishing: bool,
    clock: PageClock,
    actions: RunActions,
) -> impl IntoView + use<> {
    let name = member.name.to_string();
    let skip = (!member.status.state.is_done())
        .then(|| skip_button(allowed, SkipKind::Member, name.clone(), actions));
    // Still upgrading while the run stops: say so, rather than the run's "Stopping".
    let badge = if finishing {
        view! { <span class="state state-running" data-state="Running">"Upgrading (finishing before the stop)"</span> }.into_any()
    } else {
        view! { <StateBadge state=member.status.state/> }.into_any()
    };
    let running = running_for(&member.status, clock);
    let progress = {
        let key = member.name.clone();
        move || {
            actions
                .progress
                .read()
                .get(&key)
                .map(|p| format!("{} of {} nodes · {}", p.nodes_done, p.nodes_total, p.step))
        }
    };
    view! {
        <tr data-member=name.clone()>
            <th scope="row">{name.clone()}</th>
            <td>{badge}</td>
            <td class="small">{member.message.clone()}
                <span class="node-progress" data-testid="node-progress">{progress}</span></td>
            <td class="small muted">{{ let status = member.status.clone(); move || times(&status) }}
                {running.map(|f| view! { <br/><span class="elapsed">{f}</span> })}</td>
            <td>{skip}</td>
        </tr>
    }
}
