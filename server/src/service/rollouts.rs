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

use super::placements::candidates;
use super::{Drydock, MemberView, store_error};
use crate::provider::{ProviderError, ResourceApply};
use crate::store::StoredPlacement;
use app::engine::{
    AppliedRecord, MemberPlacementState, SnapshotSet, revision_of, schedule_placement,
};
use app::model::error::AppError;
use app::model::member::ClusterResourceId;
use app::model::names::{FleetName, PlacementName};
use app::model::placement::RolloutType;
use app::model::resources::parse_manifests;
use serde_json::Value;
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

/// The objects a placement carries now: every resource's newest snapshot.
struct Carried {
    snapshot: SnapshotSet,
    manifests: Vec<Value>,
    /// Why the objects cannot be applied together, if they cannot.
    clash: Option<String>,
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
        let schedule = schedule_placement(&stored.placement.policy, &candidates(views));
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
        pass.observe(&carried.snapshot).await?;
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
        pass.apply(&carried, &schedule.selected, max_unavailable)
            .await?;
        Ok(pass.done)
    }

    /// The newest snapshot of every resource the placement names, objects together.
    async fn carried(
        &self,
        fleet: &FleetName,
        stored: &StoredPlacement,
    ) -> Result<Carried, AppError> {
        let mut snapshot = SnapshotSet::new();
        let mut manifests = Vec::new();
        let mut sources = Vec::new();
        for resource in &stored.placement.resources {
            let found = self.resources.get_resource(fleet, resource).await;
            if let Some(found) = found.map_err(store_error)? {
                snapshot.insert(resource.to_string(), found.latest.index);
                sources.extend(found.latest.manifests.iter().map(|_| resource.to_string()));
                manifests.extend(found.latest.manifests);
            }
        }
        let clash = match parse_manifests(&manifests) {
            Ok(_) => None,
            Err(error) => Some(match (error.index, error.first) {
                (Some(at), Some(first)) => format!(
                    "{} (from {} and {})",
                    error.message, sources[first], sources[at]
                ),
                _ => error.to_string(),
            }),
        };
        Ok(Carried {
            snapshot,
            manifests,
            clash,
        })
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

    /// Asks again about members applied at `latest` that were not available yet.
    async fn observe(&mut self, latest: &SnapshotSet) -> Result<(), AppError> {
        let waiting: Vec<String> = self
            .records
            .iter()
            .filter(|(_, r)| r.snapshot == *latest && r.state == MemberPlacementState::Applied)
            .map(|(name, _)| name.clone())
            .collect();
        for member in waiting {
            let Some(cluster) = self.clusters.get(&member).cloned() else {
                continue;
            };
            let providers = &self.drydock.providers;
            let Ok(held) = providers.observe_resources(&cluster, &self.owner).await else {
                continue;
            };
            if held.available && held.revision.as_deref() == Some(&revision_of(latest)) {
                let record = AppliedRecord {
                    snapshot: latest.clone(),
                    state: MemberPlacementState::Available,
                    reason: format!("{} applied and available", revision_of(latest)),
                };
                self.record(&member, record).await?;
                self.done.now_available.push(member);
            }
        }
        Ok(())
    }

    /// Removes the placement's objects from members it no longer picks.
    async fn remove_unpicked(&mut self, picked: &[String]) -> Result<(), AppError> {
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

    /// Applies the carried objects to the picked members whose turn it is.
    async fn apply(
        &mut self,
        carried: &Carried,
        picked: &[String],
        max_unavailable: usize,
    ) -> Result<(), AppError> {
        let latest = &carried.snapshot;
        let at_latest = |r: &AppliedRecord| r.snapshot == *latest;
        let unavailable = picked
            .iter()
            .filter_map(|m| self.records.get(m))
            .filter(|r| at_latest(r) && r.state == MemberPlacementState::Applied)
            .count();
        let mut budget = max_unavailable.saturating_sub(unavailable);
        let mut due: Vec<&String> = picked
            .iter()
            .filter(|m| self.records.get(*m).is_none_or(|r| !at_latest(r)))
            .collect();
        due.sort();
        for member in due {
            let holds_older = self.records.contains_key(member.as_str());
            if holds_older && budget == 0 {
                self.done.waiting.push(member.clone());
                continue;
            }
            let unavailable_now = self.apply_one(carried, member).await?;
            if unavailable_now && holds_older {
                budget -= 1;
            }
        }
        Ok(())
    }

    /// Applies to one member; whether it is now unavailable (applied, not available yet).
    async fn apply_one(&mut self, carried: &Carried, member: &str) -> Result<bool, AppError> {
        let latest = &carried.snapshot;
        let revision = revision_of(latest);
        let failed = |reason: String| AppliedRecord {
            snapshot: latest.clone(),
            state: MemberPlacementState::Failed,
            reason,
        };
        if let Some(clash) = &carried.clash {
            self.record(
                member,
                failed(format!("{revision} cannot be applied: {clash}")),
            )
            .await?;
            self.done.failed.push(member.to_owned());
            return Ok(false);
        }
        let Some(cluster) = self.clusters.get(member).cloned() else {
            return Ok(false);
        };
        let request = ResourceApply {
            cluster,
            owner: self.owner.clone(),
            revision: revision.clone(),
            manifests: carried.manifests.clone(),
        };
        match self.drydock.providers.apply_resources(&request).await {
            Ok(held) => {
                let state = if held.available {
                    MemberPlacementState::Available
                } else {
                    MemberPlacementState::Applied
                };
                let reason = match state {
                    MemberPlacementState::Available => format!("{revision} applied and available"),
                    _ => format!("{revision} applied; waiting for it to become available"),
                };
                let record = AppliedRecord {
                    snapshot: latest.clone(),
                    state,
                    reason,
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
                self.record(
                    member,
                    failed(format!("applying {revision} failed: {error}")),
                )
                .await?;
                self.done.failed.push(member.to_owned());
                Ok(false)
            }
        }
    }
}

/// Rolls every `RollingUpdate` placement out every `every` (real time) until the service is
/// dropped. Each replica runs it; applies are idempotent by revision, so they agree.
pub fn schedule_rollouts(drydock: &std::sync::Arc<Drydock>, every: std::time::Duration) {
    let drydock = std::sync::Arc::downgrade(drydock);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(drydock) = drydock.upgrade() else {
                return;
            };
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
        }
    });
}
