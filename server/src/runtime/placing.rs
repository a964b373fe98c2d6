//! Placement runs in the runtime: what the engine's members are given (a plan read through
//! [`Placements`], kept for a moment so a 1,000-member decision does not read the fleet 1,000
//! times), and following a member's objects on its cluster instead of an upgrade operation.
//!
//! Following is level-triggered like upgrades: the first look in a driver's life applies the
//! member's objects (applying the revision a cluster holds changes nothing, so a crash between
//! the apply and the commit costs nothing), later looks observe them until they are
//! available. What the cluster said is recorded on the placement's member before the engine
//! hears it, so the placement's status and the run agree; a refusal fails the member with the
//! cluster's words.

use super::Runtime;
use super::driver::Driver;
use super::follow::{InFlight, Known, Look};
use crate::provider::{AppliedResources, ProviderError, ResourceApply};
use app::engine::{AppliedRecord, MemberPlacementState, Outcome, PlacementAction};
use app::model::error::AppError;
use app::model::names::{FleetName, MemberName, PlacementName};
use app::model::rollout::{PlacementRollout, ResourceTarget};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a plan is used before it is read again: long enough for one burst of decisions,
/// short enough that a relabelled member or a new override is seen at once by a person.
const PLAN_FOR: Duration = Duration::from_secs(1);

/// What a placement run gives each member of its fleet, read at one moment.
#[derive(Debug, Default)]
pub struct RolloutPlan {
    pub actions: HashMap<String, PlacementAction>,
    /// The placement's objects at the run's snapshots, as they are.
    pub carried: Arc<Vec<Value>>,
    /// The objects of members whose overrides change them.
    pub own: HashMap<String, Vec<Value>>,
    /// What every member not in `actions` does (the placement is gone: each fails).
    pub otherwise: Option<PlacementAction>,
}

impl RolloutPlan {
    pub fn action_of(&self, member: &str) -> PlacementAction {
        self.actions
            .get(member)
            .or(self.otherwise.as_ref())
            .cloned()
            .unwrap_or_else(|| PlacementAction::Skip {
                reason: format!("{member} is no longer a member of the fleet"),
            })
    }

    /// The revision and objects `member` is given now, or why it is given none.
    fn objects_of(&self, member: &str) -> Result<(String, &[Value]), String> {
        match self.action_of(member) {
            PlacementAction::Give { revision } => {
                let objects = self.own.get(member).unwrap_or(&self.carried);
                Ok((revision, objects))
            }
            PlacementAction::Skip { reason }
            | PlacementAction::Fail { reason }
            | PlacementAction::Wait { reason } => Err(reason),
        }
    }
}

/// How the runtime reads placements (the service's stores and scheduler do the work).
#[async_trait::async_trait]
pub trait Placements: Send + Sync {
    /// What `rollout` gives each member of `fleet` now; `rt` observes the clusters.
    async fn plan(
        &self,
        fleet: &FleetName,
        rollout: &PlacementRollout,
        rt: &Runtime,
    ) -> Result<RolloutPlan, AppError>;

    /// Records what a member's cluster said of the placement's objects.
    async fn record(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
        member: &str,
        record: &AppliedRecord,
    ) -> Result<(), AppError>;
}

/// A plan read by a driver, and when.
pub(super) struct ReadPlan {
    at: Instant,
    plan: Result<Arc<RolloutPlan>, String>,
}

impl Driver {
    /// The run's plan, read again when older than [`PLAN_FOR`]; `None` for an upgrade run.
    pub(super) async fn placement_plan(&mut self) -> Option<Result<Arc<RolloutPlan>, String>> {
        let rollout = self.stored.run.spec.placement.clone()?;
        if let Some(read) = &self.plan
            && read.at.elapsed() < PLAN_FOR
        {
            return Some(read.plan.clone());
        }
        let placements = self.rt.placements.clone()?;
        let plan = placements.plan(&self.key.0, &rollout, &self.rt).await;
        let plan = plan.map(Arc::new).map_err(|error| {
            tracing::warn!(fleet = %self.key.0, run = %self.key.1, code = %error.code, "reading the placement failed");
            format!("the placement could not be read: {}", error.message)
        });
        self.plan = Some(ReadPlan {
            at: Instant::now(),
            plan: plan.clone(),
        });
        Some(plan)
    }

    /// Looks at the objects of a placement run's members in flight (see the module's
    /// documentation).
    pub(super) async fn look_at_placed(&mut self, flights: &[InFlight]) -> Vec<Look> {
        let plan = self.placement_plan().await;
        let mut looks = Vec::with_capacity(flights.len());
        for flight in flights {
            let look = match (&plan, &flight.target.resources) {
                (Some(plan), Some(target)) => self.look_at_objects(plan, flight, target).await,
                _ => Look::Ended(Outcome::Failed {
                    message: "the run gives this member no objects".into(),
                }),
            };
            looks.push(look);
        }
        looks
    }

    async fn look_at_objects(
        &mut self,
        plan: &Result<Arc<RolloutPlan>, String>,
        flight: &InFlight,
        target: &ResourceTarget,
    ) -> Look {
        let owner = format!("{}/{}", self.key.0, target.placement);
        let known = self
            .known
            .get(&flight.member)
            .filter(|(attempt, _)| *attempt == flight.attempt)
            .is_some();
        let answer = if known {
            let providers = &self.rt.providers;
            providers.observe_resources(&flight.cluster, &owner).await
        } else {
            let plan = match plan {
                Ok(plan) => plan,
                Err(why) => return Look::Trouble(ProviderError::transient(why.clone())),
            };
            match self.apply_objects(plan, flight, target, owner).await {
                Ok(answer) => answer,
                Err(look) => return look,
            }
        };
        match answer {
            Ok(held) if held.revision.as_deref() == Some(target.revision.as_str()) => {
                self.known
                    .insert(flight.member.clone(), (flight.attempt, Known::Started));
                self.judge_objects(flight, target, &held, !known).await
            }
            Ok(_) => {
                // The cluster lost them (or another owner's run replaced them): apply again.
                self.known.remove(&flight.member);
                Look::Again(Instant::now())
            }
            Err(error) if error.is_transient() => Look::Trouble(error),
            Err(error) => {
                let reason = format!("applying {} failed: {error}", target.revision);
                self.record_objects(flight, target, MemberPlacementState::Failed, &reason)
                    .await
                    .unwrap_or(Look::Ended(Outcome::Failed { message: reason }))
            }
        }
    }

    /// Applies the member's objects, as the plan gives them now; a member the plan now gives
    /// another revision (its overrides changed since it started) fails, saying so: what the
    /// run reports is exactly what was applied.
    async fn apply_objects(
        &self,
        plan: &RolloutPlan,
        flight: &InFlight,
        target: &ResourceTarget,
        owner: String,
    ) -> Result<Result<AppliedResources, ProviderError>, Look> {
        let (revision, objects) = plan.objects_of(flight.member.as_str()).map_err(|why| {
            Look::Ended(Outcome::Failed {
                message: format!("{} was not applied: {why}", target.revision),
            })
        })?;
        if revision != target.revision {
            return Err(Look::Ended(Outcome::Failed {
                message: format!(
                    "{} was not applied: the placement now gives this member {revision} (its overrides changed); retry the member to give it that",
                    target.revision
                ),
            }));
        }
        let request = ResourceApply {
            cluster: flight.cluster.clone(),
            owner,
            revision,
            manifests: objects.to_vec(),
        };
        Ok(self.rt.providers.apply_resources(&request).await)
    }

    /// What the cluster holding the member's revision means for the member: done when the
    /// objects are available, else looked at again after the provider's poll interval.
    async fn judge_objects(
        &mut self,
        flight: &InFlight,
        target: &ResourceTarget,
        held: &AppliedResources,
        just_applied: bool,
    ) -> Look {
        if held.available {
            let reason = format!("{} applied and available", target.revision);
            let recorded =
                self.record_objects(flight, target, MemberPlacementState::Available, &reason);
            return recorded.await.unwrap_or(Look::Ended(Outcome::Succeeded));
        }
        if just_applied {
            let reason = format!(
                "{} applied; waiting for it to become available",
                target.revision
            );
            let recorded =
                self.record_objects(flight, target, MemberPlacementState::Applied, &reason);
            if let Some(trouble) = recorded.await {
                return trouble;
            }
        }
        let poll = self.rt.providers.policy_for(&flight.cluster).poll_interval;
        Look::Again(Instant::now() + poll)
    }

    /// Records the member's state on the placement; `Some` (a look to report instead) when the
    /// store failed: the member is looked at again, and recorded then.
    async fn record_objects(
        &self,
        flight: &InFlight,
        target: &ResourceTarget,
        state: MemberPlacementState,
        reason: &str,
    ) -> Option<Look> {
        let rollout = self.stored.run.spec.placement.as_ref()?;
        let placements = self.rt.placements.as_ref()?;
        let record = AppliedRecord {
            snapshot: rollout.snapshot.clone(),
            revision: target.revision.clone(),
            state,
            reason: reason.to_owned(),
            drifted: Vec::new(),
        };
        let member: &MemberName = &flight.member;
        let recorded = placements.record(&self.key.0, &target.placement, member.as_str(), &record);
        match recorded.await {
            Ok(()) => None,
            Err(error) => Some(Look::Trouble(ProviderError::transient(format!(
                "recording the placement's member failed: {}",
                error.message
            )))),
        }
    }
}
