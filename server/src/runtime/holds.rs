//! Which runs this replica drives. Several replicas may share one database; each run is driven
//! by one of them at a time, the one holding it in the store (`RunStore::take_run`) with a
//! fencing token every write of the run carries. A hold lasts `HOLD` unless renewed; this
//! replica renews all of its holds together every `RENEW_EVERY`, and looks for runs whose
//! driver's hold ran out (a replica that died) to take them over. A driver acts on clusters
//! only while its hold is known to last (by this process's monotonic clock, measured from
//! before the renewal was sent), so a replica paused past its hold does nothing on waking but
//! notice it lost the run.

use crate::store::Driving;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a hold lasts without renewal: a dead replica's runs are taken over after at most
/// this, plus one `SCAN_EVERY`.
pub const HOLD: Duration = Duration::from_secs(3);

/// How often this replica renews its holds.
pub const RENEW_EVERY: Duration = Duration::from_millis(1000);

/// How often this replica looks for runs no live replica drives, and for commands other
/// replicas left for the runs it drives.
pub const SCAN_EVERY: Duration = Duration::from_millis(250);

/// A hold as this replica knows it.
#[derive(Debug, Clone, Copy)]
struct Hold {
    fence: i64,
    /// Until when it certainly lasts.
    until: Instant,
}

/// This replica's identity and its holds, by run uid.
pub struct Holds {
    replica: String,
    held: Mutex<HashMap<String, Hold>>,
}

impl Holds {
    pub fn new(replica: String) -> Self {
        Self {
            replica,
            held: Mutex::new(HashMap::new()),
        }
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Hold>> {
        // Plain values, replaced whole: a panic elsewhere cannot leave one half-written.
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a hold granted by a request sent at `sent`.
    pub fn granted(&self, uid: &str, fence: i64, sent: Instant) -> Driving {
        self.lock().insert(
            uid.to_owned(),
            Hold {
                fence,
                until: sent + HOLD,
            },
        );
        Driving {
            replica: self.replica.clone(),
            fence,
        }
    }

    /// The hold on `uid`, if it certainly lasts now.
    pub fn live(&self, uid: &str) -> Option<Driving> {
        let hold = *self.lock().get(uid)?;
        (hold.until > Instant::now()).then(|| Driving {
            replica: self.replica.clone(),
            fence: hold.fence,
        })
    }

    pub fn forget(&self, uid: &str) {
        self.lock().remove(uid);
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Takes in a renewal sent at `sent` that found `renewed` (uid, fence): holds it found are
    /// extended; the uids of holds it did not find (another replica took them) are forgotten
    /// and returned.
    pub fn renewed(&self, renewed: &[(String, i64)], sent: Instant) -> Vec<String> {
        let found: HashMap<&str, i64> = renewed.iter().map(|(u, f)| (u.as_str(), *f)).collect();
        let mut held = self.lock();
        let lost: Vec<String> = held
            .iter()
            .filter(|(uid, hold)| found.get(uid.as_str()) != Some(&hold.fence))
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in &lost {
            held.remove(uid);
        }
        for hold in held.values_mut() {
            hold.until = sent + HOLD;
        }
        lost
    }
}

/// This replica's id when none is given: the host's name and the port it serves on, unique
/// among live servers (two cannot listen on one host's port) and the same after a restart, so a
/// restarted server takes its own runs back at once instead of waiting for its old holds to run
/// out.
pub fn default_replica_id(port: u16) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renewal_that_misses_a_run_or_finds_another_fence_loses_it() {
        let holds = Holds::new("a:1".into());
        let sent = Instant::now();
        holds.granted("r1", 4, sent);
        holds.granted("r2", 7, sent);
        holds.granted("r3", 1, sent);
        let later = sent + Duration::from_millis(500);
        let lost = holds.renewed(&[("r1".into(), 4), ("r2".into(), 8)], later);
        let mut lost = lost;
        lost.sort();
        assert_eq!(lost, vec!["r2".to_owned(), "r3".to_owned()]);
        assert_eq!(holds.live("r1").map(|d| d.fence), Some(4));
        assert!(holds.live("r2").is_none());
    }

    #[test]
    fn a_hold_not_renewed_in_time_is_not_live() {
        let holds = Holds::new("a:1".into());
        holds.granted("r1", 1, Instant::now() - HOLD - Duration::from_millis(1));
        assert!(holds.live("r1").is_none());
    }
}
