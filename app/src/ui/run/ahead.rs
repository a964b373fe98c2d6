//! What a run has ahead, from the engine's forecast: its ETA in the header (before the start,
//! while it runs, as a stop drains) and, one click away, the schedule of what remains.

use super::PageClock;
use crate::model::forecast::{Forecast, GroupForecast, StageForecast};
use crate::model::run::{RunState, UpdateRun};
use crate::model::time::Timestamp;
use crate::ui::format::{count, precise_span, short_time, span};
use leptos::prelude::*;

/// A group lists at most this many upgrades ahead; the rest are counted.
const MEMBER_ROWS: usize = 50;

/// The sentence about when the run should end, for its state.
pub fn eta_sentence(run: &UpdateRun, forecast: &Forecast, now: Timestamp) -> Option<String> {
    let eta = forecast.eta?;
    let length = span(eta.millis() - now.millis());
    let at = short_time(eta);
    Some(match run.state {
        RunState::Completed { .. } => return None,
        RunState::NotStarted => format!("If started now: about {length}, until around {at}."),
        RunState::Running { .. } => {
            format!("Expected to finish around {at} (in {length}) if nothing fails.")
        }
        RunState::Stopping { .. } => {
            let drained = forecast
                .members()
                .filter(|m| m.in_flight)
                .map(|m| m.ends)
                .max()
                .unwrap_or(now);
            format!(
                "Stopping: the upgrades in flight should finish around {} (in {}); nothing new starts.",
                short_time(drained),
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
pub fn Eta(run: UpdateRun, forecast: Forecast, clock: PageClock) -> impl IntoView {
    let moving = matches!(
        run.state,
        RunState::Running { .. } | RunState::Stopping { .. }
    );
    let running_since = match run.state {
        RunState::Running { started_at } | RunState::Stopping { started_at } => Some(started_at),
        RunState::NotStarted
        | RunState::Stopped { .. }
        | RunState::Failed { .. }
        | RunState::Completed { .. } => None,
    };
    let has_ahead = forecast.members().next().is_some();
    let sentence = {
        let forecast = forecast.clone();
        move || eta_sentence(&run, &forecast, clock.now())
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
    let upgrades = forecast.members().count();
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
    let wait = (stage.wait_ends > stage.ends)
        .then(|| format!(", then waits until {}", short_time(stage.wait_ends)));
    view! {
        <li>
            <strong>"Stage " {stage.name.clone()}</strong>
            <span class="muted small">{format!(" {} → {}", short_time(stage.starts), short_time(stage.ends))}{wait}</span>
            <ul>{stage.groups.into_iter().map(group_item).collect_view()}</ul>
        </li>
    }
}

fn group_item(group: GroupForecast) -> impl IntoView {
    let hidden = group.members.len().saturating_sub(MEMBER_ROWS);
    let members = group
        .members
        .into_iter()
        .take(MEMBER_ROWS)
        .map(|m| {
            let when = if m.in_flight {
                format!("upgrading, expected to end around {}", short_time(m.ends))
            } else {
                let window = m
                    .waits_for_window_until
                    .map(|w| format!(" (waits for its window, opening {})", short_time(w)))
                    .unwrap_or_default();
                format!("{} → {}{window}", short_time(m.starts), short_time(m.ends))
            };
            view! { <li data-ahead=m.name.to_string()><span class="member-name">{m.name.to_string()}</span>" " <span class="muted small">{when}</span></li> }
        })
        .collect_view();
    view! {
        <li>
            "Group " {group.name.clone()}
            <span class="muted small">{format!(" until {}", short_time(group.ends))}</span>
            <ol class="remaining-members">{members}</ol>
            {(hidden > 0).then(|| view! { <p class="muted small">{format!("and {hidden} more")}</p> })}
        </li>
    }
}
