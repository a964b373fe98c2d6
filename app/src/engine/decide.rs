//! `decide`: the run's state machine. It takes the run, one input and the time, and returns the
//! new run with the effects to carry out, the events that happened and when to wake next. It
//! never calls a clock, sleeps or does IO; what it needs to know of clusters comes through the
//! read-only [`World`].

use super::EngineConfig;
use super::advance::{advance, report};
use super::commands::{skip, start, stop};
use super::rollout::PlacementAction;
use crate::model::catalog::Catalog;
use crate::model::cluster::ClusterState;
use crate::model::member::ClusterResourceId;
use crate::model::names::MemberName;
use crate::model::run::{Place, RunEvent, State, Subject, UpdateRun};
use crate::model::target::UpgradeTarget;
use crate::model::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What the engine may read of the outside world while deciding: the catalog, what the
/// provider observes of a cluster, and whether another run is upgrading it. The runtime
/// answers from its provider's current view and its store's cluster leases.
pub trait World {
    fn catalog(&self) -> &Catalog;
    /// What the provider observes of the cluster, or why it cannot say.
    fn observe(&self, cluster: &ClusterResourceId) -> Result<ClusterState, Unobservable>;
    /// Who else is upgrading the cluster now, in words (`update run x of fleet f`); `None`
    /// when no other run is. A cluster gets one upgrade at a time, whichever run asks.
    fn holder(&self, cluster: &ClusterResourceId) -> Option<String>;
    /// What a placement run gives `member` (only a placement run asks). A world that has not
    /// read the placement says so, and the member waits.
    fn placement_action(&self, member: &MemberName) -> PlacementAction {
        let _ = member;
        PlacementAction::Wait {
            reason: "the placement has not been read yet".into(),
        }
    }
}

/// Why a cluster cannot be observed: for now (the provider is unreachable, throttled, has not
/// looked yet: the member waits) or for good (the cluster is gone, access is refused: the
/// member fails, like any member that cannot take its upgrade).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Unobservable {
    pub message: String,
    pub permanent: bool,
}

impl Unobservable {
    pub fn for_now(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    pub fn for_good(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Input {
    /// Time passed or something may have changed: move on if anything can.
    Tick,
    Command(Command),
    /// The provider finished an upgrade attempt.
    Report {
        member: MemberName,
        attempt: u32,
        outcome: Outcome,
    },
    /// Several attempts finished (in different groups, say): applied in order, then one
    /// advance, so a busy run commits one decision instead of one per report.
    Reports(Vec<Report>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Report {
    pub member: MemberName,
    pub attempt: u32,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Command {
    Start,
    Stop,
    Skip(Vec<SkipTarget>),
    Approve(super::gates::ApproveGate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum SkipKind {
    Member,
    Group,
    Stage,
    AfterStageWait,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SkipTarget {
    #[serde(rename = "type")]
    pub kind: SkipKind,
    pub name: String,
}

/// What the runtime learned about an upgrade attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Outcome {
    Succeeded,
    Failed {
        message: String,
    },
    /// The provider has not answered about the attempt (`Some`: why; it is asked again), or
    /// answers again (`None`). The attempt goes on either way.
    Trouble {
        message: Option<String>,
    },
}

/// Work for the runtime to carry out after the decision is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Effect {
    StartUpgrade {
        member: MemberName,
        cluster: ClusterResourceId,
        attempt: u32,
        /// `run/member/attempt`: the same key never upgrades a member twice.
        operation_id: String,
        target: UpgradeTarget,
    },
}

/// The typed answer to an input; repeats of allowed actions are answered, not refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Reply {
    Started,
    Resumed,
    Retrying {
        failed_members: usize,
    },
    AlreadyRunning,
    Stopping,
    Stopped,
    AlreadyStopped,
    Skipped {
        targets: usize,
    },
    Approved,
    AlreadyApproved,
    /// A tick, or a report that was applied.
    Applied,
    /// A report that no longer matters (an old attempt, a member no longer upgrading).
    Ignored {
        why: String,
    },
}

/// An input the run's current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Rejection {
    NotAllowed {
        why: String,
    },
    NotSkippable {
        why: String,
    },
    UnknownTarget {
        what: String,
    },
    /// Allowed, but with a consequence the operator must confirm (approving a gate whose
    /// members cannot start yet).
    NeedsConfirmation {
        why: String,
    },
    /// The input was made against a version of the run's object that has since changed.
    Stale {
        why: String,
    },
}

impl Rejection {
    pub fn message(&self) -> &str {
        match self {
            Rejection::NotAllowed { why }
            | Rejection::NotSkippable { why }
            | Rejection::NeedsConfirmation { why }
            | Rejection::Stale { why } => why,
            Rejection::UnknownTarget { what } => what,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub run: UpdateRun,
    pub reply: Reply,
    pub effects: Vec<Effect>,
    pub events: Vec<RunEvent>,
    /// The earliest time something will change by itself (a window opens, a wait ends).
    pub wake_at: Option<Timestamp>,
    /// The members the decision changed, in place order.
    pub changed: Vec<Place>,
}

/// What a decision accumulates while it works on the run.
pub(super) struct Work<'a> {
    pub now: Timestamp,
    /// Where the run's members sit, and where each group's open members begin.
    pub places: &'a super::changes::Places,
    pub world: &'a dyn World,
    pub cfg: &'a EngineConfig,
    /// The run's `stoppedClusterAction`.
    pub stopped: crate::model::update::StoppedClusterAction,
    /// How the run's members cross minor versions (its `hops`, and its pass of a chain).
    pub hops: super::hops::HopRule,
    /// The run's `deferUntilAvailable`, in milliseconds.
    pub defer_ms: Option<i64>,
    /// The placement a placement run rolls out: its members are given objects, not upgrades.
    pub placement: Option<crate::model::names::PlacementName>,
    pub effects: Vec<Effect>,
    pub events: Vec<RunEvent>,
    pub wake_at: Option<Timestamp>,
    /// Members changed so far, with what they were: a member is noted before it changes.
    pub touched: super::changes::Touched,
}

impl<'a> Work<'a> {
    pub fn new(
        run: &UpdateRun,
        places: &'a super::changes::Places,
        now: Timestamp,
        world: &'a dyn World,
        cfg: &'a EngineConfig,
    ) -> Self {
        Self {
            now,
            places,
            world,
            cfg,
            stopped: run.spec.update.stopped_cluster_action,
            hops: super::hops::HopRule::of_run(run),
            defer_ms: run
                .spec
                .update
                .defer_until_available
                .map(|d| d.max_wait_in_seconds * crate::model::time::MS_PER_SECOND),
            placement: run
                .spec
                .placement
                .as_ref()
                .map(|p| p.placement_name.clone()),
            effects: Vec::new(),
            events: Vec::new(),
            wake_at: None,
            touched: Default::default(),
        }
    }
}

impl Work<'_> {
    pub fn event(&mut self, subject: Subject, state: State, message: Option<String>) {
        self.events.push(RunEvent {
            at: self.now,
            subject,
            state,
            message,
            group: None,
            previous: None,
        });
    }

    pub fn wake(&mut self, at: Timestamp) {
        self.wake_at = Some(self.wake_at.map_or(at, |w| w.min(at)));
    }
}

/// Applies one input to a run. See the module docs. The runtime, which keeps its runs, decides
/// on them in place instead ([`super::decide_in_place`]): the same decision, without a copy.
pub fn decide(
    run: &UpdateRun,
    input: Input,
    now: Timestamp,
    world: &dyn World,
    cfg: &EngineConfig,
) -> Result<Decision, Rejection> {
    let mut run = run.clone();
    let places = super::changes::Places::of(&run);
    let decided = super::changes::decide_in_place(&mut run, &places, input, now, world, cfg)?;
    Ok(Decision {
        reply: decided.reply,
        effects: decided.effects,
        events: decided.events,
        wake_at: decided.wake_at,
        changed: decided
            .changed
            .into_iter()
            .map(|(place, _)| place)
            .collect(),
        run,
    })
}

/// Applies the input to `run` and moves it on; what it did is in the `Work`. On a rejection
/// the run may be half changed: the caller puts it back.
pub(super) fn apply<'a>(
    run: &mut UpdateRun,
    places: &'a super::changes::Places,
    input: Input,
    now: Timestamp,
    world: &'a dyn World,
    cfg: &'a EngineConfig,
) -> (Result<Reply, Rejection>, Work<'a>) {
    let mut work = Work::new(run, places, now, world, cfg);
    let reply = match input {
        Input::Tick => Ok(Reply::Applied),
        Input::Command(Command::Start) => start(run, &mut work),
        Input::Command(Command::Stop) => stop(run, &mut work),
        Input::Command(Command::Skip(targets)) => skip(run, &targets, &mut work),
        Input::Command(Command::Approve(approval)) => {
            super::gates::approve(run, approval, &mut work)
        }
        Input::Report {
            member,
            attempt,
            outcome,
        } => Ok(report(run, places, &member, attempt, outcome, &mut work)),
        Input::Reports(reports) => {
            let applied = reports
                .into_iter()
                .map(|r| report(run, places, &r.member, r.attempt, r.outcome, &mut work))
                .filter(|reply| *reply == Reply::Applied)
                .count();
            Ok(match applied {
                0 => Reply::Ignored {
                    why: "none of the reports matched an upgrade in flight".into(),
                },
                _ => Reply::Applied,
            })
        }
    };
    if reply.is_ok() {
        advance(run, &mut work);
    }
    (reply, work)
}
