//! `GET /fleets/{fleet}/updateRuns/{run}/events`: the run's timeline as Server-Sent Events, from
//! the start (or after `?after=<id>` or `Last-Event-ID`) and then live. Events are read from the
//! store, where they were committed with the state they describe, so a client misses none; the
//! runtime's change notifications only say when to look.

use super::{ApiError, ApiState, AsCaller, parse_name, typed};
use crate::runtime::RunKey;
use crate::store::StoredEvent;
use app::model::access::Caller;
use app::model::error::AppError;
use app::model::names::{FleetName, RunName};
use app::model::run::RunEvent;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use tokio::sync::broadcast::{Receiver, error::RecvError};

/// Events read from the store at a time.
const PAGE: i64 = 1_000;

struct Follow {
    drydock: ApiState,
    /// Checked again on every read, so a revoked role ends the stream.
    caller: Caller,
    key: RunKey,
    after: i64,
    buffer: VecDeque<StoredEvent>,
    changes: Receiver<RunKey>,
    /// Counted in `/metrics` while the stream is open.
    _open: crate::metrics::StreamOpen,
}

fn sse_event(stored: &StoredEvent) -> Event {
    Event::default()
        .id(stored.id.to_string())
        .event("state")
        .json_data(&stored.event)
        .unwrap_or_else(|_| Event::default().comment("unserializable event"))
}

impl Follow {
    /// The next event, waiting for the run to change when there is none; `None` ends the stream.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(stored) = self.buffer.pop_front() {
                return Some((Ok(sse_event(&stored)), self));
            }
            let events = self
                .drydock
                .run_events(&self.caller, &self.key.0, &self.key.1, self.after, PAGE)
                .await
                .ok()?;
            if let Some(last) = events.last() {
                self.after = last.id;
                self.buffer.extend(events);
                continue;
            }
            // Woken by this replica's driver at once; a run driven by another replica is read
            // again from the store every `STORE_POLL`.
            let changed = tokio::time::timeout(STORE_POLL, self.changed()).await;
            if let Ok(false) = changed {
                return None;
            }
        }
    }

    /// Waits until this replica says the run changed; `false` when the runtime is gone.
    async fn changed(&mut self) -> bool {
        loop {
            match self.changes.recv().await {
                Ok(key) if key == self.key => return true,
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => return true,
                Err(RecvError::Closed) => return false,
            }
        }
    }
}

/// How often an idle stream looks at the store for events another replica committed.
const STORE_POLL: std::time::Duration = std::time::Duration::from_secs(1);

pub async fn stream(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let run = parse_name("InvalidUpdateRunName", RunName::parse(&run))?;
    let mut after = 0;
    numbers_of(query.as_deref(), &mut [("after", i64::MAX, &mut after)])?;
    drydock.check_run(&caller, &fleet, &run).await?;
    // A browser reconnecting sends the last id it saw with the URL it started from: the newer wins.
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let after = after.max(resumed);
    let changes = drydock.runtime().subscribe();
    let follow = Follow {
        drydock,
        caller,
        key: (fleet, run),
        after,
        buffer: VecDeque::new(),
        changes,
        _open: crate::metrics::StreamOpen::new(),
    };
    Ok(Sse::new(stream::unfold(follow, Follow::next)).keep_alive(KeepAlive::default()))
}

/// Whole-number query parameters, each known by name with its largest value; parsed by hand so a
/// bad value or an unknown name is an ARM error naming it. Absent ones are left as they were.
fn numbers_of(query: Option<&str>, known: &mut [(&str, i64, &mut i64)]) -> Result<(), ApiError> {
    let names: Vec<&str> = known.iter().map(|(name, ..)| *name).collect();
    for (key, value) in super::query_pairs(query, &names)? {
        let Some((name, max, slot)) = known.iter_mut().find(|(name, ..)| *name == key) else {
            continue;
        };
        **slot = value
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=*max).contains(n))
            .ok_or_else(|| {
                AppError::invalid(
                    "InvalidQueryParameter",
                    format!("{name} must be a whole number from 0 to {max}, not {value:?}."),
                )
            })?;
    }
    Ok(())
}

/// `GET …/updateRuns/{run}/timeline`: the same events as the stream, as one JSON page for
/// scripts: `{"value": [{"id", "at", "subject", "state", "message", "group", "previous"}],
/// "nextAfter"}`; pass `nextAfter` as `after` for the next page (an empty `value` means nothing
/// newer yet).
pub async fn timeline(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let run = parse_name("InvalidUpdateRunName", RunName::parse(&run))?;
    let (mut after, mut limit) = (0, PAGE);
    numbers_of(
        query.as_deref(),
        &mut [
            ("after", i64::MAX, &mut after),
            ("limit", 10 * PAGE, &mut limit),
        ],
    )?;
    let events = drydock
        .run_events(&caller, &fleet, &run, after, limit)
        .await?;
    let next_after = events.last().map_or(after, |e| e.id);
    let value = events
        .iter()
        .map(|stored| TimelineEntry {
            id: stored.id,
            event: &stored.event,
        })
        .collect();
    Ok(typed(&Timeline { value, next_after }))
}

/// A page of a run's timeline.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeline<'a> {
    value: Vec<TimelineEntry<'a>>,
    /// Pass as `after` for the next page.
    next_after: i64,
}

/// One event of a run's timeline, with its id (what `after` and `Last-Event-ID` count from).
#[derive(Serialize, JsonSchema)]
pub struct TimelineEntry<'a> {
    id: i64,
    #[serde(flatten)]
    event: &'a RunEvent,
}
