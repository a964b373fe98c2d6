//! Keeping a run page current without reloads: the server's event stream for the run says when
//! something changed (the page then fetches the run again, at most one fetch at a time), and a
//! one-second tick moves countdowns along fleet time between fetches.

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

/// Follows `url` (a run's `/events` stream) and calls `changed` after events, at most twice a
/// second; also bumps `tick`, which moves every [`PageClock`] of the page along. Browser only;
/// stops when the page goes.
pub fn follow(url: String, tick: RwSignal<u64>, changed: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    browser::follow(url, tick, changed);
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, tick, changed);
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
    use futures::StreamExt;
    use futures::future::{AbortHandle, abortable};
    use gloo_net::eventsource::futures::EventSource;
    use leptos::prelude::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    pub fn follow(url: String, tick: RwSignal<u64>, changed: impl Fn() + 'static) {
        let dirty = Arc::new(AtomicBool::new(false));
        let listen = {
            let dirty = dirty.clone();
            async move {
                let Ok(mut source) = EventSource::new(&url) else {
                    return;
                };
                let Ok(mut events) = source.subscribe("state") else {
                    return;
                };
                while events.next().await.is_some() {
                    dirty.store(true, Ordering::Relaxed);
                }
                source.close();
            }
        };
        let (listen, abort): (_, AbortHandle) = abortable(listen);
        leptos::task::spawn_local(async move {
            let _ = listen.await;
        });
        // A burst of events (a stage finishing, a replay from the start) becomes one fetch.
        let interval = set_interval_with_handle(
            move || {
                tick.update(|t| *t += 1);
                if dirty.swap(false, Ordering::Relaxed) {
                    changed();
                }
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
