//! The run as a tree: stages, their groups and members, and each stage's wait, with states in
//! words, messages, times and Skip buttons, from the run's outline ([`crate::view::outline`]).
//! Groups fold; a small run lists every member, a large one fetches an opened group's members a
//! page at a time.

use super::ahead::elapsed;
use super::controls::skip_button;
use super::{PageClock, RunActions};
use crate::engine::SkipKind;
use crate::model::run::State;
use crate::model::run::WaitState;
use crate::model::status::Status;
use crate::ui::badge::StateBadge;
use crate::ui::error::ErrorMessage;
use crate::ui::format::{count, precise_span};
use crate::ui::gates::gate_row;
use crate::ui::time::local;
use crate::view::outline::{
    GateLine, GroupOutline, MemberLine, MemberPage, RunOutline, StageOutline, WaitOutline,
};
use leptos::prelude::*;

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

/// The run's stages and groups, drawn once per read of the run; each stage's own row and each
/// group then redraw on their own when a patch changes them (a patch touches a few groups of
/// hundreds).
#[component]
pub fn StageTree(
    outline: Memo<RunOutline>,
    clock: PageClock,
    actions: RunActions,
) -> impl IntoView {
    let (listed, shape) = outline.with_untracked(|run| {
        let groups: Vec<usize> = run.stages.iter().map(|s| s.groups.len()).collect();
        (run.members_listed, groups)
    });
    let stages = shape
        .into_iter()
        .enumerate()
        .map(|(s, groups)| stage_item(outline, s, groups, listed, clock, actions))
        .collect_view();
    view! { <ol class="stage-tree">{stages}</ol> }
}

fn gate_rows(gates: &[GateLine], actions: RunActions) -> impl IntoView + use<> {
    gates
        .iter()
        .map(|g| gate_row(g, actions.fleet.into(), actions.approved))
        .collect_view()
}

/// Stage `s` of the outline, without its groups (`None` once a read has no such stage).
fn stage_head(run: &RunOutline, s: usize) -> Option<StageOutline> {
    let stage = run.stages.get(s)?;
    Some(StageOutline {
        name: stage.name.clone(),
        status: stage.status.clone(),
        max_concurrency: stage.max_concurrency,
        max_allowed_failures: stage.max_allowed_failures,
        failure_count: stage.failure_count,
        skip: stage.skip.clone(),
        wait: stage.wait.clone(),
        before_gates: stage.before_gates.clone(),
        after_gates: stage.after_gates.clone(),
        groups: Vec::new(),
    })
}

fn stage_item(
    outline: Memo<RunOutline>,
    s: usize,
    groups: usize,
    open_all: bool,
    clock: PageClock,
    actions: RunActions,
) -> impl IntoView + use<> {
    let head = Memo::new(move |_| outline.with(|run| stage_head(run, s)));
    let name = head.with_untracked(|h| h.as_ref().map(|h| h.name.clone()).unwrap_or_default());
    let row = move || head.get().map(|stage| stage_row(stage, clock, actions));
    let before = move || head.with(|h| h.as_ref().map(|st| gate_rows(&st.before_gates, actions)));
    let after = move || head.with(|h| h.as_ref().map(|st| gate_rows(&st.after_gates, actions)));
    let wait = move || {
        head.with(|h| {
            let stage = h.as_ref()?;
            wait_row(&stage.name, &stage.wait, clock, actions)
        })
    };
    let groups = (0..groups)
        .map(|g| {
            let group =
                Memo::new(move |_| outline.with(|run| run.stages.get(s)?.groups.get(g).cloned()));
            move || {
                group
                    .get()
                    .map(|group| group_item(group, open_all, clock, actions))
            }
        })
        .collect_view();
    view! {
        <li class="stage" data-stage=name>
            {row}
            {before}
            <ul class="groups">{groups}</ul>
            {wait}
            {after}
        </li>
    }
}

/// A stage's own row: its name, state, times, limits and Skip.
fn stage_row(stage: StageOutline, clock: PageClock, actions: RunActions) -> impl IntoView {
    let name = stage.name.clone();
    let skip = (!stage.status.state.is_done())
        .then(|| skip_button(stage.skip.clone(), SkipKind::Stage, name.clone(), actions));
    let limits = limits_note(
        stage.max_concurrency,
        stage.failure_count,
        stage.max_allowed_failures,
    );
    view! {
        <div class="tree-row">
            <span class="tree-name">"Stage " <strong>{name}</strong></span>
            <StateBadge state=stage.status.state/>
            <span class="muted small">{{ let status = stage.status.clone(); move || times(&status) }}</span>
            {running_for(&stage.status, clock).map(|f| view! { <span class="elapsed small">{f}</span> })}
            {limits.map(|n| view! { <span class="limits-note small">{n}</span> })}
            {skip}
        </div>
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
    stage: &str,
    wait: &WaitOutline,
    clock: PageClock,
    actions: RunActions,
) -> Option<impl IntoView + use<>> {
    if wait.seconds == 0 {
        return None;
    }
    let length = precise_span(wait.seconds * 1000);
    let countdown = match wait.state {
        WaitState::Running { until, .. } => Some(move || {
            format!(
                "{} left",
                precise_span(until.millis() - clock.now().millis())
            )
        }),
        WaitState::NotStarted | WaitState::Completed { .. } | WaitState::Skipped { .. } => None,
    };
    let skip = (!wait.state.is_done()).then(|| {
        skip_button(
            wait.skip.clone(),
            SkipKind::AfterStageWait,
            stage.to_owned(),
            actions,
        )
    });
    Some(view! {
        <div class="tree-row wait" data-wait=stage.to_owned()>
            <span class="tree-name">"Wait " {length} " after the stage"</span>
            <StateBadge state=wait.state.public()/>
            {countdown.map(|c| view! { <span class="countdown" role="timer">{c}</span> })}
            {skip}
        </div>
    })
}

/// "upgrading a, b · failed c": who is busy in a folded group of a large run.
fn activity(group: &GroupOutline) -> Option<String> {
    let named = |names: &[String], total: usize, what: &str| {
        (total > 0).then(|| {
            let more = total.saturating_sub(names.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{what} {}{more}", names.join(", "))
        })
    };
    let parts: Vec<String> = [
        named(&group.upgrading, group.counts.running, "upgrading"),
        named(&group.failed, group.counts.failed, "failed"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn group_item(
    group: GroupOutline,
    open_all: bool,
    clock: PageClock,
    actions: RunActions,
) -> impl IntoView + use<> {
    let status = group.status.clone();
    let name = status.name.clone();
    let (done, total) = (group.counts.done(), group.counts.total);
    // Whether a group is open survives the re-render that every change of the run causes.
    let key = name.clone();
    let listed = group.listed.clone();
    let on_toggle = {
        let name = name.clone();
        let fetches = listed.is_none();
        move |ev: leptos::ev::Event| {
            let open = event_target::<leptos::web_sys::HtmlDetailsElement>(&ev).open();
            // A group drawn open again (the page redraws with each change) fires `toggle` too:
            // only a change of what the reader chose counts.
            let was_open = actions.toggled.with_untracked(|set| set.contains(&name)) != open_all;
            if open == was_open {
                return;
            }
            actions.toggled.update(|set| {
                if open == open_all {
                    set.remove(&name);
                } else {
                    set.insert(name.clone());
                }
            });
            if open && fetches {
                actions.load_members(name.clone(), None);
            }
        }
    };
    let group_running = running_for(&status.status, clock);
    // One at a time and fail-fast are the defaults: only what differs is said.
    let group_limits = limits_note(
        status.max_concurrency.filter(|c| *c > 1),
        status.failure_count,
        status
            .max_allowed_failures
            .filter(|b| *b > 0 || status.failure_count > 0),
    );
    let skip = (!status.status.state.is_done())
        .then(|| skip_button(group.skip.clone(), SkipKind::Group, name.clone(), actions));
    let busy = listed.is_none().then(|| activity(&group)).flatten();
    // A folded group renders no member rows (a 10,000-member run would otherwise put 10,000 rows
    // and buttons into the page); they are made, or fetched, when it is opened.
    let open = Signal::derive(move || open_all != actions.toggled.read().contains(&key));
    let members = {
        let name = name.clone();
        move || match &listed {
            Some(page) => member_table(page.members.clone(), clock, actions).into_any(),
            None => fetched_members(name.clone(), clock, actions).into_any(),
        }
    };
    let (before, after) = (
        gate_rows(&group.before_gates, actions),
        gate_rows(&group.after_gates, actions),
    );
    view! {
        <li class="group" data-group=name.clone()>
            <details open=open on:toggle=on_toggle>
                <summary class="tree-row">
                    <span class="tree-name">"Group " <strong>{name.clone()}</strong></span>
                    <StateBadge state=status.status.state/>
                    <span class="muted small" data-testid="group-count">{format!("{done} of {} done", count(total, "member", "members"))}</span>
                    <span class="muted small">{{ let status = status.status.clone(); move || times(&status) }}</span>
                    {group_running.map(|f| view! { <span class="elapsed small">{f}</span> })}
                    {group_limits.map(|n| view! { <span class="limits-note small">{n}</span> })}
                    {busy.map(|b| view! { <span class="small group-activity">{b}</span> })}
                    {skip}
                </summary>
                <Show when=move || open.get()>{members.clone()}</Show>
            </details>
            {before}
            {after}
        </li>
    }
}

/// An opened group of a large run: the page of members fetched for it, with Previous/Next.
fn fetched_members(group: String, clock: PageClock, actions: RunActions) -> impl IntoView {
    move || match actions.pages.read().get(&group) {
        None => view! { <p class="loading small">"Loading members…"</p> }.into_any(),
        Some(Err(error)) => {
            let error = error.clone();
            view! { <ErrorMessage error/> }.into_any()
        }
        Some(Ok(page)) => {
            let pager = pager(page, actions);
            view! { {member_table(page.members.clone(), clock, actions)} {pager} }.into_any()
        }
    }
}

/// "Members 101–200 of 250" with the buttons to the pages before and after.
fn pager(page: &MemberPage, actions: RunActions) -> Option<impl IntoView + use<>> {
    let shown = page.members.len();
    if page.offset == 0 && shown >= page.total {
        return None;
    }
    let first = (page.offset + 1).min(page.total);
    let last = page.offset + shown;
    let words = format!("Members {first}–{last} of {}", page.total);
    let step = crate::view::outline::MEMBER_PAGE;
    let go = move |group: String, to: usize| move |_| actions.load_members(group.clone(), Some(to));
    let back = (page.offset > 0).then(|| page.offset.saturating_sub(step));
    let next = (last < page.total).then_some(last);
    let group = page.group.clone();
    Some(view! {
        <div class="pager small" data-testid="member-pager">
            <span>{words}</span>
            <button type="button" class="secondary" disabled=back.is_none()
                on:click=go(group.clone(), back.unwrap_or(0))>"Previous"</button>
            <button type="button" class="secondary" disabled=next.is_none()
                on:click=go(group, next.unwrap_or(0))>"Next"</button>
        </div>
    })
}

fn member_table(members: Vec<MemberLine>, clock: PageClock, actions: RunActions) -> impl IntoView {
    let rows = members
        .into_iter()
        .map(|line| member_row(line, clock, actions))
        .collect_view();
    view! {
        <table class="tree-members">
            <thead><tr>
                <th scope="col">"Member"</th><th scope="col">"State"</th><th scope="col">"Message"</th>
                <th scope="col">"Times"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn member_row(line: MemberLine, clock: PageClock, actions: RunActions) -> impl IntoView + use<> {
    let member = line.status;
    let name = member.name.to_string();
    let skip = (!member.status.state.is_done())
        .then(|| skip_button(line.skip, SkipKind::Member, name.clone(), actions));
    // Still upgrading while the run stops: say so, rather than the run's "Stopping".
    let badge = if line.finishing {
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
