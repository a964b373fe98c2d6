//! Keeping a run page current without reloads: the server's event stream for the run carries
//! each change (the page patches what it shows with it, or reads the run again when only a
//! read can say what changed: see [`crate::view::patch`]), and a tick twice a second moves
//! countdowns and running bars along fleet time between reads.

use crate::model::run::RunEvent;
use crate::model::time::{FleetTime, Timestamp};
use leptos::prelude::*;

/// Real milliseconds since the epoch on whichever side renders.
pub fn real_now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

/// The fleet clock as this page knows it: a server reading, counted on locally.
#[derive(Debug, Clone, Copy)]
pub struct PageClock {
    reading: FleetTime,
    received_at: f64,
    /// Bumped twice a second in the browser, so anything reading `now` re-renders.
    tick: RwSignal<u64>,
}

impl PageClock {
    /// A reading just received from the server; `tick` is the page's (see [`follow`]).
    pub fn new(reading: FleetTime, tick: RwSignal<u64>) -> Self {
        Self {
            reading,
            received_at: real_now_ms(),
            tick,
        }
    }

    /// Fleet time now (reactive: re-evaluates every second).
    pub fn now(&self) -> Timestamp {
        self.tick.track();
        self.reading.after_real(real_now_ms() - self.received_at)
    }
}

/// What the page heard on a run's event stream since the last tick.
#[derive(Debug, Default)]
pub struct Heard {
    /// Each event with its id, in order.
    pub events: Vec<(i64, RunEvent)>,
    /// An event came that this page could not read (the page then reads the run again).
    pub unreadable: bool,
}

/// Follows `url` (a run's `/events` stream) and hands what it heard to `heard` twice a second
/// (a burst of events, a stage finishing, is one batch); also bumps `tick`, which moves every
/// [`PageClock`] of the page along. Browser only; stops when the page goes.
pub fn follow(url: String, tick: RwSignal<u64>, heard: impl Fn(Heard) + 'static) {
    #[cfg(feature = "hydrate")]
    browser::follow(url, tick, heard);
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, tick, heard);
}

/// Calls `f` every `period` while the page lives (browser only).
pub fn every(period: std::time::Duration, f: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let interval = set_interval_with_handle(f, period);
        on_cleanup(move || {
            if let Ok(handle) = interval {
                handle.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (period, f);
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Heard;
    use crate::model::run::RunEvent;
    use futures::StreamExt;
    use futures::future::{AbortHandle, abortable};
    use gloo_net::eventsource::futures::EventSource;
    use leptos::prelude::*;
    use leptos::web_sys::MessageEvent;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    fn read(message: &MessageEvent) -> Option<(i64, RunEvent)> {
        let id = message.last_event_id().parse().ok()?;
        let event = serde_json::from_str(&message.data().as_string()?).ok()?;
        Some((id, event))
    }

    pub fn follow(url: String, tick: RwSignal<u64>, heard: impl Fn(Heard) + 'static) {
        let pending = Rc::new(RefCell::new(Heard::default()));
        let listen = {
            let pending = pending.clone();
            async move {
                let Ok(mut source) = EventSource::new(&url) else {
                    return;
                };
                let Ok(mut events) = source.subscribe("state") else {
                    return;
                };
                while let Some(next) = events.next().await {
                    let Ok((_, message)) = next else { continue };
                    let mut pending = pending.borrow_mut();
                    match read(&message) {
                        Some(event) => pending.events.push(event),
                        None => pending.unreadable = true,
                    }
                }
                source.close();
            }
        };
        let (listen, abort): (_, AbortHandle) = abortable(listen);
        leptos::task::spawn_local(async move {
            let _ = listen.await;
        });
        let interval = set_interval_with_handle(
            move || {
                tick.update(|t| *t += 1);
                heard(std::mem::take(&mut *pending.borrow_mut()));
            },
            Duration::from_millis(500),
        );
        on_cleanup(move || {
            abort.abort();
            if let Ok(handle) = interval {
                handle.clear();
            }
        });
    }
}
