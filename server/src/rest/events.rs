//! `GET /fleets/{fleet}/updateRuns/{run}/events`: the run's timeline as Server-Sent Events, from
//! the start (or after `Last-Event-ID`) and then live. Events are read from the store, where they
//! were committed with the state they describe, so a client misses none; the runtime's change
//! notifications only say when to look.

use super::{ApiError, ApiState, parse_name};
use crate::runtime::RunKey;
use crate::store::StoredEvent;
use app::model::names::{FleetName, RunName};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::collections::VecDeque;
use std::convert::Infallible;
use tokio::sync::broadcast::{Receiver, error::RecvError};

struct Follow {
    drydock: ApiState,
    key: RunKey,
    after: i64,
    buffer: VecDeque<StoredEvent>,
    changes: Receiver<RunKey>,
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
                .run_events(&self.key.0, &self.key.1, self.after)
                .await
                .ok()?;
            if let Some(last) = events.last() {
                self.after = last.id;
                self.buffer.extend(events);
                continue;
            }
            loop {
                match self.changes.recv().await {
                    Ok(key) if key == self.key => break,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    }
}

pub async fn stream(
    State(drydock): State<ApiState>,
    Path((fleet, run)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let run = parse_name("InvalidUpdateRunName", RunName::parse(&run))?;
    drydock.get_run(&fleet, &run).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let changes = drydock.runtime().subscribe();
    let follow = Follow {
        drydock,
        key: (fleet, run),
        after,
        buffer: VecDeque::new(),
        changes,
    };
    Ok(Sse::new(stream::unfold(follow, Follow::next)).keep_alive(KeepAlive::default()))
}
