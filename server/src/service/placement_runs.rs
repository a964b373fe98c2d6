//! Update runs of `External` placements: checking what a run is asked to roll out (the
//! placement, and the snapshots, fixed when the run is created), and reading what the run
//! gives each member for the runtime ([`PlacementReader`]). What a member is given comes from
//! the same place as for `RollingUpdate` placements (`given`), so the status and the run agree.

use super::given::{carried, given, overrides_of};
use super::{Drydock, store_error};
use crate::runtime::Runtime;
use crate::runtime::placing::{Placements, RolloutPlan};
use crate::store::{FleetStore, PlacementStore, ResourceStore, StoredPlacement};
use app::engine::{
    ALREADY_HOLDS, AppliedRecord, Candidate, MemberPlacementState, NOT_PICKED, PlacementAction,
    SnapshotSet, schedule_placement,
};
use app::model::error::AppError;
use app::model::names::{FleetName, PlacementName};
use app::model::placement::RolloutType;
use app::model::rollout::{PlacementRollout, PlacementRolloutRequest, SnapshotChoice};
use std::sync::Arc;

fn invalid(code: &str, message: String) -> AppError {
    AppError::invalid(code, format!("properties.placementRollout: {message}"))
}

impl Drydock {
    /// What a run asked to roll out `request` rolls out: an `External` placement of the
    /// fleet, at snapshots every resource of it keeps (by default each one's newest).
    pub(crate) async fn placement_rollout(
        &self,
        fleet: &FleetName,
        request: &PlacementRolloutRequest,
    ) -> Result<PlacementRollout, AppError> {
        let name = PlacementName::parse(&request.placement_name)
            .map_err(|why| invalid("InvalidPlacementName", why))?;
        let stored = self.placements.get_placement(fleet, &name).await;
        let stored = stored.map_err(store_error)?.ok_or_else(|| {
            invalid(
                "PlacementNotFound",
                format!("fleet {fleet} has no placement named {name}"),
            )
        })?;
        if stored.placement.strategy.kind != RolloutType::External {
            return Err(invalid(
                "PlacementNotExternal",
                format!(
                    "placement {name} rolls its changes out by itself (RollingUpdate); only an External placement's changes go through update runs"
                ),
            ));
        }
        let snapshot = self
            .snapshots_asked(fleet, &stored, &request.snapshot)
            .await?;
        Ok(PlacementRollout {
            placement_name: name,
            snapshot,
        })
    }

    /// The snapshot of each of the placement's resources a request names; each must be kept.
    async fn snapshots_asked(
        &self,
        fleet: &FleetName,
        stored: &StoredPlacement,
        asked: &Option<SnapshotChoice>,
    ) -> Result<SnapshotSet, AppError> {
        let resources: Vec<String> = stored
            .placement
            .resources
            .iter()
            .map(|r| r.to_string())
            .collect();
        let asked: Option<SnapshotSet> = match asked {
            None => None,
            Some(SnapshotChoice::Index(index)) => match resources.as_slice() {
                [only] => Some(SnapshotSet::from([(only.clone(), *index)])),
                _ => {
                    return Err(invalid(
                        "AmbiguousSnapshot",
                        format!(
                            "placement {} carries resources {}; give snapshot as an object, one index per resource",
                            stored.name,
                            resources.join(", ")
                        ),
                    ));
                }
            },
            Some(SnapshotChoice::PerResource(each)) => {
                let named: Vec<&String> = each.keys().collect();
                let carried: Vec<&String> = resources.iter().collect();
                let mut sorted = carried.clone();
                sorted.sort();
                if named != sorted {
                    return Err(invalid(
                        "InvalidSnapshot",
                        format!(
                            "snapshot names {}; placement {} carries {}: give one index for each",
                            in_words(&named),
                            stored.name,
                            in_words(&carried)
                        ),
                    ));
                }
                Some(each.clone())
            }
        };
        let found = carried(&*self.resources, fleet, stored, asked.as_ref()).await;
        let found = found.map_err(|error| match error.code.as_str() {
            "ResourceSnapshotNotFound" => invalid("ResourceSnapshotNotFound", error.message),
            _ => error,
        })?;
        if found.snapshot.len() != resources.len() {
            return Err(invalid(
                "ResourceNotFound",
                format!(
                    "placement {} names a resource that does not exist",
                    stored.name
                ),
            ));
        }
        Ok(found.snapshot)
    }
}

fn in_words(names: &[&String]) -> String {
    match names {
        [] => "none".into(),
        names => names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Reads placement runs' plans for the runtime, from the stores.
pub(crate) struct PlacementReader {
    pub fleets: Arc<dyn FleetStore>,
    pub resources: Arc<dyn ResourceStore>,
    pub placements: Arc<dyn PlacementStore>,
}

#[async_trait::async_trait]
impl Placements for PlacementReader {
    async fn plan(
        &self,
        fleet: &FleetName,
        rollout: &PlacementRollout,
        rt: &Runtime,
    ) -> Result<RolloutPlan, AppError> {
        let name = &rollout.placement_name;
        let stored = self.placements.get_placement(fleet, name).await;
        let Some(stored) = stored.map_err(store_error)? else {
            return Ok(failing(format!("placement {name} no longer exists")));
        };
        let at = Some(&rollout.snapshot);
        let carried = match carried(&*self.resources, fleet, &stored, at).await {
            Ok(carried) => carried,
            Err(error) if error.code == "ResourceSnapshotNotFound" => {
                return Ok(failing(error.message));
            }
            Err(error) => return Err(error),
        };
        let overrides = overrides_of(&*self.placements, fleet, &stored).await?;
        let members = self.fleets.list_members(fleet).await.map_err(store_error)?;
        let ids: Vec<_> = members
            .iter()
            .map(|m| m.spec.cluster_resource_id.clone())
            .collect();
        let observed = rt.observe(&ids).await;
        let candidates: Vec<Candidate> = members
            .iter()
            .zip(&observed)
            .map(|(member, (now, last_seen))| {
                Candidate::of(member, now.as_ref().ok().or(last_seen.as_ref()))
            })
            .collect();
        let schedule = schedule_placement(&stored.placement.policy, &candidates);
        let mut given = given(&carried, &schedule.selected, &candidates, &overrides);
        let records = self.placements.placement_members(fleet, name).await;
        let records = records.map_err(store_error)?;
        let mut plan = RolloutPlan::default();
        for decision in &schedule.decisions {
            let member = &decision.name;
            let action = match given.remove(member) {
                None => PlacementAction::Skip {
                    reason: format!("{NOT_PICKED}{name}: {}", decision.reasons.join("; ")),
                },
                Some(given) => {
                    let target = given.target;
                    let held = records.get(member).filter(|r| {
                        r.revision == target.revision && r.state == MemberPlacementState::Available
                    });
                    if let Some(problem) = target.problem {
                        PlacementAction::Fail {
                            reason: format!("{} cannot be applied: {problem}", target.revision),
                        }
                    } else if held.is_some() {
                        PlacementAction::Skip {
                            reason: format!("{ALREADY_HOLDS}{}", target.revision),
                        }
                    } else {
                        if let Some(own) = given.manifests {
                            plan.own.insert(member.clone(), own);
                        }
                        PlacementAction::Give {
                            revision: target.revision,
                        }
                    }
                }
            };
            plan.actions.insert(member.clone(), action);
        }
        plan.carried = Arc::new(carried.manifests);
        Ok(plan)
    }

    async fn record(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
        member: &str,
        record: &AppliedRecord,
    ) -> Result<(), AppError> {
        let recorded = self
            .placements
            .record_placement_member(fleet, placement, member, record);
        recorded.await.map_err(store_error)
    }
}

/// A plan failing every member, for why.
fn failing(why: String) -> RolloutPlan {
    RolloutPlan {
        otherwise: Some(PlacementAction::Fail { reason: why }),
        ..RolloutPlan::default()
    }
}
