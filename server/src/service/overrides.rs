//! Resource overrides: per-member changes to a placement's objects, checked when stored (the
//! rules, and that the placement exists); the placement's status and rollout apply them.

use super::{Drydock, expectation, store_error};
use crate::store::{Expect, StoredOverride};
use app::model::access::{Caller, Role};
use app::model::error::AppError;
use app::model::names::{FleetName, OverrideName};
use app::model::overrides::ResourceOverride;
use app::model::precondition::Precondition;

fn override_not_found(fleet: &FleetName, name: &OverrideName) -> AppError {
    AppError::not_found(
        "ResourceOverrideNotFound",
        format!("Fleet {fleet} has no resource override named {name}."),
    )
}

impl Drydock {
    pub async fn put_resource_override(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &OverrideName,
        spec: ResourceOverride,
        precondition: &Precondition,
    ) -> Result<(StoredOverride, bool), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let invalid = |why: String| AppError::invalid("InvalidResourceOverride", why);
        spec.checked()
            .map_err(|why| invalid(format!("properties.{why}")))?;
        let placement = self.placements.get_placement(fleet, &spec.placement).await;
        if placement.map_err(store_error)?.is_none() {
            return Err(invalid(format!(
                "properties.placement: fleet {fleet} has no placement named {}",
                spec.placement
            )));
        }
        let expect = self.override_expectation(fleet, name, precondition).await?;
        let now = self.clock.now();
        self.placements
            .put_override(fleet, name, &spec, now, expect)
            .await
            .map_err(store_error)
    }

    pub async fn list_resource_overrides(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<StoredOverride>, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        self.placements
            .list_overrides(fleet)
            .await
            .map_err(store_error)
    }

    pub async fn get_resource_override(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &OverrideName,
    ) -> Result<StoredOverride, AppError> {
        let all = self.list_resource_overrides(caller, fleet).await?;
        all.into_iter()
            .find(|o| o.name == *name)
            .ok_or_else(|| override_not_found(fleet, name))
    }

    /// Deletes an override; the next rollout pass gives its members their objects without it.
    pub async fn delete_resource_override(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &OverrideName,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let expect = self.override_expectation(fleet, name, precondition).await?;
        self.placements
            .delete_override(fleet, name, expect)
            .await
            .map_err(store_error)
    }

    async fn override_expectation(
        &self,
        fleet: &FleetName,
        name: &OverrideName,
        precondition: &Precondition,
    ) -> Result<Expect, AppError> {
        if *precondition == Precondition::Unconditional {
            return Ok(Expect::Any);
        }
        let all = self.placements.list_overrides(fleet).await;
        let current = all
            .map_err(store_error)?
            .into_iter()
            .find(|o| o.name == *name)
            .map(|o| o.etag);
        expectation(precondition, &format!("Resource override {name}"), current)
    }
}
