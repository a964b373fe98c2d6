//! Placements: which of a fleet's resources go to which members. Stored as given (checked
//! first: the policy's rules and that every resource named exists); their status is the
//! schedule over the members as observed now, so it follows labels, taints and clusters as
//! they change.

use super::given::given;
use super::{Drydock, MemberView, expectation, store_error};
use crate::store::{Expect, StoredPlacement};
use app::engine::{Candidate, PlacementStatus, placement_status, schedule_placement};
use app::model::access::{Caller, Role};
use app::model::error::AppError;
use app::model::names::{FleetName, PlacementName, ResourceName};
use app::model::placement::Placement;
use app::model::placement::RolloutType;
use app::model::precondition::Precondition;

/// A placement with its status now.
pub struct PlacementView {
    pub stored: StoredPlacement,
    pub status: PlacementStatus,
}

fn placement_not_found(fleet: &FleetName, name: &PlacementName) -> AppError {
    AppError::not_found(
        "PlacementNotFound",
        format!("Fleet {fleet} has no placement named {name}."),
    )
}

fn invalid(message: String) -> AppError {
    AppError::invalid("InvalidPlacement", message)
}

/// The members as scheduling sees them; an unobservable member keeps what was last seen.
pub(crate) fn candidates(views: &[MemberView]) -> Vec<Candidate> {
    views
        .iter()
        .map(|view| {
            let observed = view.observed.as_ref().ok().or(view.last_seen.as_ref());
            Candidate::of(&view.member, observed)
        })
        .collect()
}

impl Drydock {
    pub async fn put_placement(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &PlacementName,
        placement: Placement,
        precondition: &Precondition,
    ) -> Result<(PlacementView, bool), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        placement
            .checked()
            .map_err(|why| invalid(format!("properties.{why}")))?;
        for (i, resource) in placement.resources.iter().enumerate() {
            let found = self.resources.get_resource(fleet, resource).await;
            if found.map_err(store_error)?.is_none() {
                return Err(invalid(format!(
                    "properties.resources[{i}]: fleet {fleet} has no resource named {resource}"
                )));
            }
        }
        let expect = self
            .placement_expectation(fleet, name, precondition)
            .await?;
        let now = self.clock.now();
        let (stored, created) = self
            .placements
            .put_placement(fleet, name, &placement, now, expect)
            .await
            .map_err(store_error)?;
        let members = self.list_members(caller, fleet).await?;
        let view = self.placement_view(fleet, stored, &members).await?;
        Ok((view, created))
    }

    pub async fn get_placement(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &PlacementName,
    ) -> Result<PlacementView, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let stored = self.placements.get_placement(fleet, name).await;
        let stored = stored
            .map_err(store_error)?
            .ok_or_else(|| placement_not_found(fleet, name))?;
        let members = self.list_members(caller, fleet).await?;
        self.placement_view(fleet, stored, &members).await
    }

    pub async fn list_placements(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<PlacementView>, AppError> {
        Ok(self.placements_and_members(caller, fleet).await?.0)
    }

    /// Whether the fleet has a placement (a 404 when there is no such fleet).
    pub(crate) async fn places_anything(&self, fleet: &FleetName) -> Result<bool, AppError> {
        self.require_fleet(fleet).await?;
        let stored = self.placements.list_placements(fleet).await;
        Ok(!stored.map_err(store_error)?.is_empty())
    }

    /// The fleet's placements with their status, and the members (as observed) the status was
    /// computed from: one observation of the fleet for both.
    pub(crate) async fn placements_and_members(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<(Vec<PlacementView>, Vec<MemberView>), AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let stored = self.placements.list_placements(fleet).await;
        let members = self.list_members(caller, fleet).await?;
        let mut views = Vec::new();
        for placement in stored.map_err(store_error)? {
            views.push(self.placement_view(fleet, placement, &members).await?);
        }
        Ok((views, members))
    }

    pub async fn delete_placement(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &PlacementName,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let expect = self
            .placement_expectation(fleet, name, precondition)
            .await?;
        self.remove_placed_objects(fleet, name).await?;
        let deleted = self
            .placements
            .delete_placement(fleet, name, expect)
            .await
            .map_err(store_error)?;
        // A rollout pass that applied while this one removed: removed again, now for good.
        if let Err(error) = self.remove_placed_objects(fleet, name).await {
            tracing::warn!(%fleet, placement = %name, error = %error.message, "objects of a deleted placement may remain");
        }
        Ok(deleted)
    }

    /// Removes a placement's objects from every member its rollout gave them to; refused (and
    /// nothing more removed) when a cluster cannot answer now, so no object is left behind
    /// unrecorded.
    pub(crate) async fn remove_placed_objects(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
    ) -> Result<(), AppError> {
        let records = self.placements.placement_members(fleet, name).await;
        let records = records.map_err(store_error)?;
        if records.is_empty() {
            return Ok(());
        }
        let owner = format!("{fleet}/{name}");
        // One read of the members for every record, not one per record.
        let members = self.store.list_members(fleet).await.map_err(store_error)?;
        let clusters: std::collections::HashMap<String, _> = members
            .into_iter()
            .map(|m| (m.name.to_string(), m.spec.cluster_resource_id))
            .collect();
        for member in records.keys() {
            // A member that left the fleet: its cluster is no longer the fleet's to clean.
            if let Some(cluster) = clusters.get(member)
                && let Err(error) = self.providers.delete_resources(cluster, &owner).await
            {
                return Err(AppError::new(
                    app::model::error::ErrorKind::Unavailable,
                    "PlacedObjectsRemain",
                    format!(
                        "The placement's objects could not be removed from member {member} ({error}); the placement stays. Try again."
                    ),
                ));
            }
            self.placements
                .forget_placement_member(fleet, name, member)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    /// Removes the objects every placement gave `member`'s cluster and forgets them. A cluster
    /// that cannot answer refuses the removal (503 `PlacedObjectsRemain`) unless `force`, which
    /// leaves the objects there (logged).
    pub(crate) async fn unplace(
        &self,
        fleet: &FleetName,
        member: &app::model::member::Member,
        force: bool,
    ) -> Result<(), AppError> {
        let placements = self
            .placements
            .placements_holding(fleet, member.name.as_str())
            .await;
        for placement in placements.map_err(store_error)? {
            let owner = format!("{fleet}/{placement}");
            let cluster = &member.spec.cluster_resource_id;
            if let Err(error) = self.providers.delete_resources(cluster, &owner).await {
                if !force {
                    return Err(AppError::new(
                        app::model::error::ErrorKind::Unavailable,
                        "PlacedObjectsRemain",
                        format!(
                            "Placement {}'s objects could not be removed from member {} ({error}); the member stays. Try again, or remove it with force to leave them there.",
                            placement, member.name
                        ),
                    ));
                }
                tracing::warn!(%fleet, member = %member.name, %placement, %error, "a member removed by force keeps placed objects");
            }
            self.placements
                .forget_placement_member(fleet, &placement, member.name.as_str())
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    /// The placements of `fleet` that name `resource`.
    pub(crate) async fn placements_of(
        &self,
        fleet: &FleetName,
        resource: &ResourceName,
    ) -> Result<Vec<PlacementName>, AppError> {
        let all = self.placements.list_placements(fleet).await;
        Ok(all
            .map_err(store_error)?
            .into_iter()
            .filter(|p| p.placement.resources.contains(resource))
            .map(|p| p.name)
            .collect())
    }

    async fn placement_view(
        &self,
        fleet: &FleetName,
        stored: StoredPlacement,
        members: &[MemberView],
    ) -> Result<PlacementView, AppError> {
        let carried = self.carried(fleet, &stored).await?;
        let overrides = self.overrides_of(fleet, &stored).await?;
        let candidates = candidates(members);
        let schedule = schedule_placement(&stored.placement.policy, &candidates);
        let targets = given(&carried, &schedule.selected, &candidates, &overrides)
            .into_iter()
            .map(|(member, given)| (member, given.target))
            .collect();
        let records = self.placements.placement_members(fleet, &stored.name).await;
        let records = records.map_err(store_error)?;
        let by_run = stored.placement.strategy.kind == RolloutType::External;
        let status = placement_status(&schedule, &carried.snapshot, &targets, &records, by_run);
        Ok(PlacementView { stored, status })
    }

    async fn placement_expectation(
        &self,
        fleet: &FleetName,
        name: &PlacementName,
        precondition: &Precondition,
    ) -> Result<Expect, AppError> {
        if *precondition == Precondition::Unconditional {
            return Ok(Expect::Any);
        }
        let current = self.placements.get_placement(fleet, name).await;
        let current = current.map_err(store_error)?.map(|p| p.etag);
        expectation(precondition, &format!("Placement {name}"), current)
    }
}
