//! Fleet time. The engine never reads a clock; the runtime asks this one. A time scale makes an
//! hour-long wait pass in seconds for demos and tests (`--time-scale 60`: one real second is a
//! minute of fleet time). Fleet time is anchored in the store, so it keeps counting across
//! restarts instead of jumping back.

use crate::store::{FleetStore, StoreResult};
use app::model::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;

    /// How long to sleep in real time until fleet time reaches `at`.
    fn real_duration_until(&self, at: Timestamp) -> std::time::Duration;

    /// How much faster than real time fleet time runs (0: only when told), so a browser can
    /// count a wait down without asking again.
    fn scale(&self) -> f64;
}

/// Real time, sped up by `scale`.
pub struct ScaledClock {
    started: Instant,
    fleet_at_start: Timestamp,
    scale: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Anchor {
    fleet_ms: i64,
    /// Microseconds: at a large time scale a truncated millisecond is a visible jump.
    real_us: i64,
    scale: f64,
}

const ANCHOR_KEY: &str = "fleet_clock";

fn real_now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl ScaledClock {
    /// Continues fleet time from the stored anchor (the downtime counted at the old scale) and
    /// stores a new anchor at the new scale.
    pub async fn resume(store: &dyn FleetStore, scale: f64) -> StoreResult<Self> {
        let stored: Option<Anchor> = store
            .get_setting(ANCHOR_KEY)
            .await?
            .and_then(|text| serde_json::from_str(&text).ok());
        // Both clocks are read at one moment, so the anchor and `started` agree.
        let (started, real_us) = (Instant::now(), real_now_us());
        let fleet_ms = match stored {
            Some(a) => a.fleet_ms + ((real_us - a.real_us).max(0) as f64 * a.scale / 1000.0) as i64,
            None => real_us / 1000,
        };
        let anchor = Anchor {
            fleet_ms,
            real_us,
            scale,
        };
        let text = serde_json::to_string(&anchor).unwrap_or_default();
        store.put_setting(ANCHOR_KEY, &text).await?;
        Ok(Self {
            started,
            fleet_at_start: Timestamp(fleet_ms),
            scale,
        })
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.started.elapsed().as_secs_f64() * 1000.0 * self.scale;
        self.fleet_at_start.plus_millis(elapsed as i64)
    }

    fn real_duration_until(&self, at: Timestamp) -> std::time::Duration {
        let fleet_ms = (at.millis() - self.now().millis()).max(0) as f64;
        // Round up, so a sleep never ends just before its deadline.
        std::time::Duration::from_micros((fleet_ms * 1000.0 / self.scale).ceil() as u64)
    }

    fn scale(&self) -> f64 {
        self.scale
    }
}

/// A clock that moves only when told to, for tests.
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    pub fn advance(&self, ms: i64) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.plus_millis(ms);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A manual clock only moves when told: whoever advances it wakes the runtime.
    fn real_duration_until(&self, _at: Timestamp) -> std::time::Duration {
        std::time::Duration::from_secs(3600)
    }

    fn scale(&self) -> f64 {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqlStore;

    #[tokio::test]
    async fn fleet_time_keeps_counting_across_restarts() {
        let store = SqlStore::connect("sqlite::memory:").await.unwrap();
        let first = ScaledClock::resume(&store, 1000.0).await.unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let before_restart = first.now();
        let second = ScaledClock::resume(&store, 1.0).await.unwrap();
        assert!(
            second.now() >= before_restart,
            "fleet time went back on restart"
        );
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp(1_000));
        assert_eq!(clock.now(), Timestamp(1_000));
        clock.advance(500);
        assert_eq!(clock.now(), Timestamp(1_500));
    }
}
