//! What an operator may do to a run right now, answered by the very rules `decide` applies (the
//! commands run on a copy of the run), so the browser enables exactly the controls the engine
//! would accept instead of re-encoding them.

use super::EngineConfig;
use super::commands::{member_of_run_skippable, skippable, start, stop};
use super::decide::{Rejection, Reply, SkipKind, SkipTarget, Unobservable, Work, World};
use crate::model::catalog::Catalog;
use crate::model::cluster::ClusterState;
use crate::model::member::ClusterResourceId;
use crate::model::run::{MemberRun, UpdateRun};
use crate::model::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The engine's answers to Start and Stop for a run as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Controls {
    pub start: Result<Reply, Rejection>,
    pub stop: Result<Reply, Rejection>,
}

impl Controls {
    /// Start (also resume and retry) would change the run.
    pub fn can_start(&self) -> bool {
        self.start.as_ref().is_ok_and(Reply::changes_run)
    }

    /// Stop would change the run.
    pub fn can_stop(&self) -> bool {
        self.stop.as_ref().is_ok_and(Reply::changes_run)
    }
}

impl Reply {
    /// False for answers that acknowledge a repeat (already running, already stopped) or an
    /// input that no longer matters.
    pub fn changes_run(&self) -> bool {
        match self {
            Reply::Started
            | Reply::Resumed
            | Reply::Retrying { .. }
            | Reply::Stopping
            | Reply::Stopped
            | Reply::Skipped { .. }
            | Reply::Approved
            | Reply::Applied => true,
            Reply::AlreadyRunning
            | Reply::AlreadyStopped
            | Reply::AlreadyApproved
            | Reply::Ignored { .. } => false,
        }
    }
}

/// A world that sees nothing: a dry run never carries anything out, so it needs no catalog and
/// no clusters (a Consistent start simply selects no images on the copy).
struct Blind(Catalog);

impl World for Blind {
    fn catalog(&self) -> &Catalog {
        &self.0
    }

    fn observe(&self, cluster: &ClusterResourceId) -> Result<ClusterState, Unobservable> {
        Err(Unobservable::for_now(format!(
            "{cluster} is not observed in a dry run"
        )))
    }

    fn holder(&self, _: &ClusterResourceId) -> Option<String> {
        None
    }
}

/// What Start and Stop would answer now.
pub fn controls(run: &UpdateRun, now: Timestamp) -> Controls {
    let world = Blind(Catalog::default());
    let cfg = EngineConfig::default();
    let places = super::changes::Places::default();
    let dry_run = |command: fn(&mut UpdateRun, &mut Work<'_>) -> Result<Reply, Rejection>| {
        let mut work = Work::new(run, &places, now, &world, &cfg);
        command(&mut run.clone(), &mut work)
    };
    Controls {
        start: dry_run(start),
        stop: dry_run(stop),
    }
}

/// Whether the member, group, stage or after-stage wait named could be skipped now.
pub fn can_skip(run: &UpdateRun, kind: SkipKind, name: &str) -> Result<(), Rejection> {
    let target = SkipTarget {
        kind,
        name: name.to_owned(),
    };
    skippable(run, &target)
}

/// [`can_skip`] for a member of `run` the caller already holds, without looking it up by name
/// (a page asking for every member would otherwise search the run once per member).
pub fn can_skip_member(run: &UpdateRun, member: &MemberRun) -> Result<(), Rejection> {
    member_of_run_skippable(run, member)
}

/// Whether the gate named `gate` may be approved now, by the rules `decide` applies (short of
/// the confirmation some approvals need, which the approval itself asks for).
pub fn can_approve(run: &UpdateRun, gate: &str) -> Result<(), Rejection> {
    super::gates::approvable(run, gate)
}
