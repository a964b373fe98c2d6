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

/// Runs whose targets are kept (their drivers' runs, mostly), and targets kept a run: a bound
/// on memory whatever the fleet (a run's members usually share a few hundred targets).
const RUNS_KEPT: usize = 64;
const TARGETS_KEPT_A_RUN: usize = 1_024;

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
        if runs.len() >= RUNS_KEPT
            && let Some(other) = runs.keys().next().cloned()
        {
            runs.remove(&other);
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
