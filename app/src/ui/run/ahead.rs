//! What a run has ahead, from the engine's forecast: its ETA in the header (before the start,
//! while it runs, as a stop drains) and, one click away, the schedule of what remains (the
//! first upgrades of each group; a large run's forecast comes folded, the rest counted).

use super::PageClock;
use crate::model::forecast::{Forecast, GroupForecast, StageForecast};
use crate::model::run::RunState;
use crate::model::time::Timestamp;
use crate::ui::format::{count, precise_span, span};
use crate::ui::time::local;
use leptos::prelude::*;

/// A time in the reader's zone, without the year.
fn local_short(t: Timestamp) -> String {
    local(t, true)
}

/// A group lists at most this many upgrades ahead; the rest are counted.
use crate::view::outline::AHEAD_ROWS as MEMBER_ROWS;

/// The sentence about when the run should end, for its state.
pub fn eta_sentence(state: &RunState, forecast: &Forecast, now: Timestamp) -> Option<String> {
    let eta = forecast.eta?;
    let length = span(eta.millis() - now.millis());
    let at = local_short(eta);
    Some(match state {
        RunState::Completed { .. } => return None,
        RunState::NotStarted => format!("If started now: about {length}, until around {at}."),
        RunState::Running { .. } => {
            format!("Expected to finish around {at} (in {length}) if nothing fails.")
        }
        RunState::Stopping { .. } => {
            let drained = forecast.in_flight_ends().unwrap_or(now);
            format!(
                "Stopping: the upgrades in flight should finish around {} (in {}); nothing new starts.",
                local_short(drained),
                span(drained.millis() - now.millis())
            )
        }
        RunState::Stopped { .. } => format!("If resumed now: about {length}, until around {at}."),
        RunState::Failed { .. } => {
            format!("If the failed members are retried now: about {length}, until around {at}.")
        }
    })
}

/// `running for 12 min 5 s` since `since`.
pub fn elapsed(since: Timestamp, now: Timestamp) -> String {
    format!(
        "running for {}",
        precise_span(now.millis() - since.millis())
    )
}

#[component]
pub fn Eta(state: RunState, forecast: Forecast, clock: PageClock) -> impl IntoView {
    let moving = matches!(state, RunState::Running { .. } | RunState::Stopping { .. });
    let running_since = match state {
        RunState::Running { started_at } | RunState::Stopping { started_at } => Some(started_at),
        RunState::NotStarted
        | RunState::Stopped { .. }
        | RunState::Failed { .. }
        | RunState::Completed { .. } => None,
    };
    let has_ahead = forecast.upgrades() > 0;
    let sentence = {
        let forecast = forecast.clone();
        move || eta_sentence(&state, &forecast, clock.now())
    };
    view! {
        <p class="eta" data-testid="eta" class:moving=moving>
            {move || running_since.map(|since| view! { <span class="elapsed">{elapsed(since, clock.now())}</span>" · " })}
            {sentence}
        </p>
        {has_ahead.then(|| view! { <Remaining forecast/> })}
    }
}

#[component]
fn Remaining(forecast: Forecast) -> impl IntoView {
    let upgrades = forecast.upgrades();
    let summary = format!(
        "What remains: {} ahead, in {}",
        count(upgrades, "upgrade", "upgrades"),
        count(forecast.stages.len(), "stage", "stages")
    );
    view! {
        <details class="remaining" data-testid="remaining">
            <summary>{summary}</summary>
            <ol class="remaining-stages">
                {forecast.stages.into_iter().map(stage_item).collect_view()}
            </ol>
        </details>
    }
}

fn stage_item(stage: StageForecast) -> impl IntoView {
    let (starts, ends, wait_ends) = (stage.starts, stage.ends, stage.wait_ends);
    let times = move || {
        let wait = if wait_ends > ends {
            format!(", then waits until {}", local_short(wait_ends))
        } else {
            String::new()
        };
        format!(" {} → {}{wait}", local_short(starts), local_short(ends))
    };
    view! {
        <li>
            <strong>"Stage " {stage.name.clone()}</strong>
            <span class="muted small">{times}</span>
            <ul>{stage.groups.into_iter().map(group_item).collect_view()}</ul>
        </li>
    }
}

fn group_item(group: GroupForecast) -> impl IntoView {
    let ends = group.ends;
    let hidden = group.members.len().saturating_sub(MEMBER_ROWS) + group.more;
    let unlisted = match (hidden, group.members.is_empty()) {
        (0, _) => None,
        (_, true) => Some(count(hidden, "upgrade", "upgrades")),
        (_, false) => Some(format!("and {hidden} more")),
    };
    let members = group
        .members
        .into_iter()
        .take(MEMBER_ROWS)
        .map(|m| {
            let name = m.name.to_string();
            let when = move || if m.in_flight {
                format!("upgrading, expected to end around {}", local_short(m.ends))
            } else {
                let window = m
                    .waits_for_window_until
                    .map(|w| format!(" (waits for its window, opening {})", local_short(w)))
                    .unwrap_or_default();
                format!("{} → {}{window}", local_short(m.starts), local_short(m.ends))
            };
            let label = name.clone();
            view! { <li data-ahead=name><span class="member-name">{label}</span>" " <span class="muted small">{when}</span></li> }
        })
        .collect_view();
    view! {
        <li>
            "Group " {group.name.clone()}
            <span class="muted small">{move || format!(" until {}", local_short(ends))}</span>
            <ol class="remaining-members">{members}</ol>
            {unlisted.map(|text| view! { <p class="muted small">{text}</p> })}
        </li>
    }
}
