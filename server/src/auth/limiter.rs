//! Failed sign-ins, counted per user name and per address over a sliding window, so neither
//! guessing one user's password nor spraying one password over many users gets far. Kept in
//! memory: a restart forgets them, which costs an attacker a restart they cannot cause.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures of one user name within the window before it is locked for the rest of it.
pub const PER_USER: usize = 5;
/// Failures from one address within the window, over all names.
pub const PER_ADDRESS: usize = 20;

#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    /// How long until `user` from `address` may try again, if they are locked out now.
    pub fn locked(&self, user: &str, address: &str) -> Option<Duration> {
        let mut failures = self.failures.lock().expect("limiter lock");
        let now = Instant::now();
        [
            (user_key(user), PER_USER),
            (address_key(address), PER_ADDRESS),
        ]
        .into_iter()
        .filter_map(|(key, limit)| {
            let times = failures.get_mut(&key)?;
            forget_old(times, now);
            (times.len() >= limit).then(|| WINDOW - now.duration_since(times[0]))
        })
        .max()
    }

    pub fn failed(&self, user: &str, address: &str) {
        let mut failures = self.failures.lock().expect("limiter lock");
        let now = Instant::now();
        for key in [user_key(user), address_key(address)] {
            let times = failures.entry(key).or_default();
            forget_old(times, now);
            times.push_back(now);
        }
        // Bounded memory under a spray of made-up names: drop keys with nothing recent.
        if failures.len() > 100_000 {
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
        }
    }

    pub fn succeeded(&self, user: &str) {
        self.failures
            .lock()
            .expect("limiter lock")
            .remove(&user_key(user));
    }
}

fn user_key(user: &str) -> String {
    format!("user:{}", user.to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_locked_after_five_failures_and_others_are_not() {
        let limiter = Limiter::default();
        for _ in 0..PER_USER {
            assert!(limiter.locked("alice", "10.0.0.1").is_none());
            limiter.failed("alice", "10.0.0.1");
        }
        assert!(limiter.locked("alice", "10.0.0.2").is_some());
        assert!(limiter.locked("bob", "10.0.0.1").is_none());
    }

    #[test]
    fn an_address_is_locked_after_twenty_failures_over_any_names() {
        let limiter = Limiter::default();
        for n in 0..PER_ADDRESS {
            limiter.failed(&format!("user{n}"), "10.0.0.9");
        }
        assert!(limiter.locked("someone-else", "10.0.0.9").is_some());
        assert!(limiter.locked("someone-else", "10.0.0.8").is_none());
    }

    #[test]
    fn success_clears_the_users_count() {
        let limiter = Limiter::default();
        for _ in 0..PER_USER - 1 {
            limiter.failed("alice", "a");
        }
        limiter.succeeded("alice");
        limiter.failed("alice", "a");
        assert!(limiter.locked("alice", "b").is_none());
    }
}
