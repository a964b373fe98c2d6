//! Rolling placements out (`RollingUpdate`): on every pass, each placement's newest snapshots
//! go to the members it picks now, a few at a time, and leave the members it no longer picks.
//!
//! A pass, per placement:
//! 1. Members holding the newest snapshots but not yet available are asked again.
//! 2. Members no longer picked have the placement's objects removed.
//! 3. Picked members that hold nothing get the objects at once (they have nothing to lose);
//!    picked members holding older snapshots get them, by name, while fewer than
//!    `maxUnavailable` picked members are unavailable (applied, not available yet): a member
//!    whose objects are available as soon as they are applied costs nothing.
//!
//! What each member was given is recorded after the provider answers; applying the revision a
//! cluster holds changes nothing, so a pass cut short (a crash, a restart, another replica's
//! pass at the same time) is simply done again, and no snapshot reaches a cluster twice. A
//! provider refusing the objects fails the member at that revision, with its words, until a
//! newer snapshot comes; a provider that cannot answer now is asked again next pass.

use super::given::{Carried, Given, given};
use super::placements::candidates;
use super::{Drydock, MemberView, store_error};
use crate::provider::{ProviderError, ResourceApply};
use crate::store::StoredPlacement;
use app::engine::{AppliedRecord, MemberPlacementState, schedule_placement};
use app::model::error::AppError;
use app::model::member::ClusterResourceId;
use app::model::names::{FleetName, PlacementName};
use app::model::placement::RolloutType;
use std::collections::BTreeMap;

/// What one pass did to one placement, by member name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RolloutPass {
    pub applied: Vec<String>,
    pub now_available: Vec<String>,
    pub failed: Vec<String>,
    pub removed: Vec<String>,
    /// Picked members whose turn has not come (`maxUnavailable`).
    pub waiting: Vec<String>,
}

/// One placement's pass, with what it needs at hand.
struct Pass<'a> {
    drydock: &'a Drydock,
    fleet: &'a FleetName,
    placement: &'a PlacementName,
    owner: String,
    clusters: BTreeMap<String, ClusterResourceId>,
    records: BTreeMap<String, AppliedRecord>,
    done: RolloutPass,
}

impl Drydock {
    /// One pass over every `RollingUpdate` placement of every fleet.
    pub async fn roll_out_placements(
        &self,
    ) -> Vec<(FleetName, PlacementName, Result<RolloutPass, AppError>)> {
        let mut outcomes = Vec::new();
        let fleets = match self.store.list_fleets().await {
            Ok(fleets) => fleets,
            Err(error) => {
                tracing::warn!(%error, "listing fleets for placement rollouts failed");
                return outcomes;
            }
        };
        for fleet in fleets {
            let placements = self.placements.list_placements(&fleet.name).await;
            let Ok(placements) = placements else {
                continue;
            };
            let rolling: Vec<StoredPlacement> = placements
                .into_iter()
                .filter(|p| p.placement.strategy.kind == RolloutType::RollingUpdate)
                .collect();
            if rolling.is_empty() {
                continue;
            }
            let members = self.store.list_members(&fleet.name).await;
            let Ok(members) = members else {
                continue;
            };
            let views = self.views(members).await;
            for placement in rolling {
                let outcome = self.roll_out(&fleet.name, &placement, &views).await;
                outcomes.push((fleet.name.clone(), placement.name, outcome));
            }
        }
        outcomes
    }

    /// One pass over one placement (see the module's documentation).
    pub async fn roll_out(
        &self,
        fleet: &FleetName,
        stored: &StoredPlacement,
        views: &[MemberView],
    ) -> Result<RolloutPass, AppError> {
        let carried = self.carried(fleet, stored).await?;
        let overrides = self.overrides_of(fleet, stored).await?;
        let candidates = candidates(views);
        let schedule = schedule_placement(&stored.placement.policy, &candidates);
        let given = given(&carried, &schedule.selected, &candidates, &overrides);
        let records = self.placements.placement_members(fleet, &stored.name).await;
        let mut pass = Pass {
            drydock: self,
            fleet,
            placement: &stored.name,
            owner: format!("{fleet}/{}", stored.name),
            clusters: views
                .iter()
                .map(|v| {
                    (
                        v.member.name.to_string(),
                        v.member.spec.cluster_resource_id.clone(),
                    )
                })
                .collect(),
            records: records.map_err(store_error)?,
            done: RolloutPass::default(),
        };
        pass.observe(&given).await?;
        pass.remove_unpicked(&schedule.selected).await?;
        // Objects are applied in place (a member serves its older objects until the new ones
        // apply), so a change moves by `maxUnavailable` alone, at least one member at a time.
        let max_unavailable = stored
            .placement
            .strategy
            .rolling()
            .max_unavailable
            .resolve(schedule.selected.len())
            .max(1);
        pass.apply(&carried, &given, &schedule.selected, max_unavailable)
            .await?;
        Ok(pass.done)
    }
}

impl Pass<'_> {
    async fn record(&mut self, member: &str, record: AppliedRecord) -> Result<(), AppError> {
        let stored = self.drydock.placements.record_placement_member(
            self.fleet,
            self.placement,
            member,
            &record,
        );
        stored.await.map_err(store_error)?;
        self.records.insert(member.to_owned(), record);
        Ok(())
    }

    /// Asks again about members given their objects that were not available yet.
    async fn observe(&mut self, given: &BTreeMap<String, Given>) -> Result<(), AppError> {
        let waiting: Vec<(String, AppliedRecord)> = self
            .records
            .iter()
            .filter(|(name, r)| {
                r.state == MemberPlacementState::Applied
                    && given
                        .get(*name)
                        .is_some_and(|g| g.target.revision == r.revision)
            })
            .map(|(name, r)| (name.clone(), r.clone()))
            .collect();
        for (member, record) in waiting {
            let Some(cluster) = self.clusters.get(&member).cloned() else {
                continue;
            };
            let providers = &self.drydock.providers;
            let Ok(held) = providers.observe_resources(&cluster, &self.owner).await else {
                continue;
            };
            if held.available && held.revision.as_deref() == Some(record.revision.as_str()) {
                let record = AppliedRecord {
                    state: MemberPlacementState::Available,
                    reason: format!("{} applied and available", record.revision),
                    ..record
                };
                self.record(&member, record).await?;
                self.done.now_available.push(member);
            }
        }
        Ok(())
    }

    /// Removes the placement's objects from members it no longer picks.
    async fn remove_unpicked(&mut self, picked: &[String]) -> Result<(), AppError> {
        let picked: std::collections::HashSet<&String> = picked.iter().collect();
        let leaving: Vec<String> = self
            .records
            .keys()
            .filter(|name| !picked.contains(name))
            .cloned()
            .collect();
        for member in leaving {
            // A member that left the fleet: its cluster is no longer the fleet's to clean.
            if let Some(cluster) = self.clusters.get(&member).cloned() {
                let providers = &self.drydock.providers;
                if providers
                    .delete_resources(&cluster, &self.owner)
                    .await
                    .is_err()
                {
                    continue;
                }
            }
            let forgotten = self.drydock.placements.forget_placement_member(
                self.fleet,
                self.placement,
                &member,
            );
            forgotten.await.map_err(store_error)?;
            self.records.remove(&member);
            self.done.removed.push(member);
        }
        Ok(())
    }

    /// Gives the picked members whose turn it is their objects.
    async fn apply(
        &mut self,
        carried: &Carried,
        given: &BTreeMap<String, Given>,
        picked: &[String],
        max_unavailable: usize,
    ) -> Result<(), AppError> {
        let unavailable = picked
            .iter()
            .filter_map(|m| current(&self.records, given, m))
            .filter(|r| r.state == MemberPlacementState::Applied)
            .count();
        let mut budget = max_unavailable.saturating_sub(unavailable);
        let mut due: Vec<&String> = picked
            .iter()
            .filter(|m| given.contains_key(*m) && current(&self.records, given, m).is_none())
            .collect();
        due.sort();
        for member in due {
            let holds_older = self.records.contains_key(member.as_str());
            if holds_older && budget == 0 {
                self.done.waiting.push(member.clone());
                continue;
            }
            let unavailable_now = self.apply_one(carried, &given[member], member).await?;
            if unavailable_now && holds_older {
                budget -= 1;
            }
        }
        Ok(())
    }

    /// Gives one member its objects; whether it is now unavailable (applied, not available yet).
    async fn apply_one(
        &mut self,
        carried: &Carried,
        given: &Given,
        member: &str,
    ) -> Result<bool, AppError> {
        let target = &given.target;
        let failed = |reason: String| AppliedRecord {
            snapshot: carried.snapshot.clone(),
            revision: target.revision.clone(),
            state: MemberPlacementState::Failed,
            reason,
            drifted: Vec::new(),
        };
        if let Some(problem) = &target.problem {
            let record = failed(format!("{} cannot be applied: {problem}", target.revision));
            self.record(member, record).await?;
            self.done.failed.push(member.to_owned());
            return Ok(false);
        }
        let Some(cluster) = self.clusters.get(member).cloned() else {
            return Ok(false);
        };
        let request = ResourceApply {
            cluster,
            owner: self.owner.clone(),
            revision: target.revision.clone(),
            manifests: given
                .manifests
                .clone()
                .unwrap_or_else(|| carried.manifests.clone()),
        };
        match self.drydock.providers.apply_resources(&request).await {
            Ok(held) => {
                let (state, reason) = if held.available {
                    let reason = format!("{} applied and available", target.revision);
                    (MemberPlacementState::Available, reason)
                } else {
                    let reason = format!(
                        "{} applied; waiting for it to become available",
                        target.revision
                    );
                    (MemberPlacementState::Applied, reason)
                };
                let record = AppliedRecord {
                    snapshot: carried.snapshot.clone(),
                    revision: target.revision.clone(),
                    state,
                    reason,
                    drifted: Vec::new(),
                };
                self.record(member, record).await?;
                self.done.applied.push(member.to_owned());
                Ok(state == MemberPlacementState::Applied)
            }
            Err(error @ ProviderError::Transient { .. }) => {
                tracing::info!(%error, member, placement = %self.placement, "applying resources must wait");
                Ok(false)
            }
            Err(error) => {
                let record = failed(format!("applying {} failed: {error}", target.revision));
                self.record(member, record).await?;
                self.done.failed.push(member.to_owned());
                Ok(false)
            }
        }
    }
}

/// The member's record, if it is of the revision the member is to hold now.
fn current<'r>(
    records: &'r BTreeMap<String, AppliedRecord>,
    given: &BTreeMap<String, Given>,
    member: &str,
) -> Option<&'r AppliedRecord> {
    let record = records.get(member)?;
    let target = &given.get(member)?.target;
    Some(record).filter(|r| r.revision == target.revision)
}

/// Rolls every `RollingUpdate` placement out every `every` (real time) until the service is
/// dropped. Each replica runs it; applies are idempotent by revision, so they agree.
pub fn schedule_rollouts(drydock: &std::sync::Arc<Drydock>, every: std::time::Duration) {
    super::every_while_alive(drydock, every, |drydock| async move {
        for (fleet, placement, outcome) in drydock.roll_out_placements().await {
            match outcome {
                Ok(pass) if !pass.applied.is_empty() || !pass.removed.is_empty() => {
                    tracing::info!(%fleet, %placement, applied = pass.applied.len(), removed = pass.removed.len(), "rolled a placement out");
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%fleet, %placement, error = %error.message, "rolling a placement out failed");
                }
            }
        }
    });
}
