//! Asking a provider again after it could not answer: exponentially later, with jitter so many
//! members do not ask at the same moment, capped, and never sooner than the provider asked.
//!
//! The growth is 1.6× a failure (as gRPC's connection backoff), not 2×: with doubling, a
//! provider failing half its calls makes the expected wait grow with the cap (each level adds
//! as much as the last), and a throttled run crawls long after the storm is over.

use std::time::{Duration, Instant};

const FIRST: Duration = Duration::from_millis(500);
const GROWTH: f64 = 1.6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
    pub until: Instant,
}

impl Backoff {
    /// The wait after one more failure (`before`: the failures so far), at most `cap` (the
    /// provider's), at least `retry_after`.
    pub fn after(
        before: Option<&Backoff>,
        retry_after: Option<Duration>,
        cap: Duration,
        salt: u64,
    ) -> Self {
        let failures = before.map_or(0, |b| b.failures) + 1;
        let growth = GROWTH.powi(i32::try_from(failures - 1).unwrap_or(i32::MAX).min(64));
        let exponential = FIRST.mul_f64(growth).min(cap.max(FIRST));
        // Jitter between half and the whole delay, from the salt and the count.
        let mix = (salt ^ u64::from(failures))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(17);
        let share = 0.5 + (mix >> 11) as f64 / (1u64 << 53) as f64 / 2.0;
        let delay = exponential
            .mul_f64(share)
            .max(retry_after.unwrap_or_default());
        Self {
            failures,
            until: Instant::now() + delay,
        }
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: Duration = Duration::from_secs(120);

    #[test]
    fn waits_grow_are_jittered_capped_and_honour_the_providers_ask() {
        let start = Instant::now();
        let mut last: Option<Backoff> = None;
        let mut waits = Vec::new();
        for _ in 0..20 {
            let next = Backoff::after(last.as_ref(), None, CAP, 7);
            waits.push(next.until.duration_since(start));
            last = Some(next);
        }
        assert!(waits[0] <= FIRST + Duration::from_millis(50));
        assert!(waits[3] > waits[0], "it grows");
        assert!(
            waits.iter().all(|w| *w <= CAP + Duration::from_secs(1)),
            "capped"
        );
        assert!(waits[19] >= CAP / 2, "reaches the cap's range");
        let asked = Backoff::after(None, Some(Duration::from_secs(30)), CAP, 7);
        assert!(asked.until.duration_since(start) >= Duration::from_secs(30));
        assert_eq!(last.unwrap().failures(), 20);
    }
}
