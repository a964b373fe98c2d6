//! The upgrade targets each run has stored (`run_targets`), as this process knows them: an
//! upgrading member whose target is known names it without its text being made and hashed, nor
//! written again. Only what a committed transaction stored is known, by the run's uid (a run
//! deleted and created again under its name is another run, with no targets). A target not
//! known here is hashed and written again, which changes nothing stored (`DO NOTHING`): this
//! spares work, it never decides what is stored. The simulator's operations (`sim_targets`)
//! keep theirs in a `KnownTargets` of their own, under one key.

use super::records::StoredTarget;
use app::model::target::UpgradeTarget;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// A run's targets known stored, each with its digest.
pub type Known = HashMap<UpgradeTarget, String>;

/// Targets kept in all, and for one run: a bound on memory (a few hundred bytes a target, so
/// about 30 MB at most) that still holds every run of a busy server (a run's members usually
/// share a few hundred targets; 100 runs of 1,000 members side by side keep about 18,000).
const TARGETS_KEPT: usize = 65_536;
const TARGETS_KEPT_A_RUN: usize = 4_096;

#[derive(Default)]
pub struct KnownTargets {
    runs: Mutex<HashMap<String, Known>>,
}

impl KnownTargets {
    /// The targets known stored for the run `uid`, taken out while one of its saves runs (a
    /// save running beside it, which a run's single driver does not make, finds none).
    pub fn take(&self, uid: &str) -> Known {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.remove(uid).unwrap_or_default()
    }

    /// Gives back what [`take`](Self::take) gave, with what the save stored if it committed.
    pub fn give_back(&self, uid: &str, mut known: Known, stored: Option<Known>) {
        for (target, digest) in stored.into_iter().flatten() {
            if known.len() >= TARGETS_KEPT_A_RUN {
                break;
            }
            known.insert(target, digest);
        }
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        let mut kept: usize = runs.values().map(HashMap::len).sum::<usize>() + known.len();
        while kept > TARGETS_KEPT {
            let Some(other) = runs.keys().next().cloned() else {
                break;
            };
            kept -= runs.remove(&other).map_or(0, |gone| gone.len());
        }
        runs.insert(uid.to_owned(), known);
    }
}

/// The digests a save's rows name: of targets known stored, or of targets made now, which the
/// save writes with the rows (`new`) and remembers in `stored` once it commits.
pub struct Naming<'a> {
    known: &'a Known,
    stored: &'a mut Known,
    pub new: Vec<StoredTarget>,
}

impl<'a> Naming<'a> {
    pub fn new(known: &'a Known, stored: &'a mut Known) -> Self {
        Self {
            known,
            stored,
            new: Vec::new(),
        }
    }

    /// The digest `target` is stored under.
    pub fn digest(&mut self, target: &UpgradeTarget) -> serde_json::Result<String> {
        if let Some(digest) = self.known.get(target).or_else(|| self.stored.get(target)) {
            return Ok(digest.clone());
        }
        let made = StoredTarget::of(target)?;
        let digest = made.digest.clone();
        self.stored.insert(target.clone(), digest.clone());
        self.new.push(made);
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::target::PoolTarget;

    fn targets(run: usize, count: usize) -> Known {
        (0..count)
            .map(|i| {
                let pool = PoolTarget {
                    name: format!("run-{run}-pool-{i}"),
                    kubernetes_version: None,
                    node_image_version: None,
                };
                let target = UpgradeTarget {
                    control_plane: None,
                    node_pools: vec![pool],
                    resources: None,
                };
                (target, format!("digest-{run}-{i}"))
            })
            .collect()
    }

    #[test]
    fn only_a_committed_save_adds_and_the_runs_kept_stay_within_the_bound() {
        let known = KnownTargets::default();
        known.give_back("a", Known::new(), None);
        known.give_back("a", known.take("a"), Some(targets(0, 3)));
        assert_eq!(known.take("a").len(), 3);
        known.give_back("a", targets(0, 3), None);
        assert_eq!(known.take("a").len(), 3, "a refused save adds nothing");
        let many = targets(1, TARGETS_KEPT_A_RUN + 10);
        known.give_back("big", Known::new(), Some(many));
        assert_eq!(known.take("big").len(), TARGETS_KEPT_A_RUN);

        // Runs of a thousand targets each, more than the bound holds in all: the run given
        // back last is kept whole, and the total stays within the bound.
        let runs = TARGETS_KEPT / 1_000 + 5;
        for run in 0..runs {
            known.give_back(
                &format!("run-{run}"),
                Known::new(),
                Some(targets(run, 1_000)),
            );
        }
        let kept = known.runs.lock().unwrap();
        assert!(kept.values().map(HashMap::len).sum::<usize>() <= TARGETS_KEPT);
        assert_eq!(kept[&format!("run-{}", runs - 1)].len(), 1_000);
        assert!(
            kept.len() >= TARGETS_KEPT / 1_000 - 1,
            "{} runs kept",
            kept.len()
        );
    }
}
