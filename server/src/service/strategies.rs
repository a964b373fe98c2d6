//! Update strategies: stored stage layouts, validated against the fleet's groups and labels.

use super::{Drydock, expectation, store_error};
use crate::store::{Expect, StoredStrategy};
use app::engine::{FleetSnapshot, PlanMember, PlanRejection, check_layout};
use app::model::access::{Caller, Role};
use app::model::error::AppError;
use app::model::names::{FleetName, GroupName, StrategyName};
use app::model::precondition::Precondition;
use app::model::strategy::UpdateStrategy;
use std::collections::BTreeSet;

pub(crate) fn strategy_not_found(fleet: &FleetName, name: &StrategyName) -> AppError {
    AppError::not_found(
        "StrategyNotFound",
        format!("Fleet {fleet} has no update strategy named {name}."),
    )
}

impl Drydock {
    /// The update groups that exist in a fleet: those some member names.
    pub async fn fleet_groups(&self, fleet: &FleetName) -> Result<BTreeSet<GroupName>, AppError> {
        let members = self.store.list_members(fleet).await.map_err(store_error)?;
        Ok(members.into_iter().filter_map(|m| m.spec.group).collect())
    }

    /// Checks a strategy on its own and against the fleet's groups.
    pub async fn check_strategy(
        &self,
        fleet: &FleetName,
        strategy: &UpdateStrategy,
    ) -> Result<(), AppError> {
        let members = self.store.list_members(fleet).await.map_err(store_error)?;
        let members = members
            .into_iter()
            .map(|m| PlanMember {
                name: m.name,
                cluster_resource_id: m.spec.cluster_resource_id,
                group: m.spec.group,
                cluster: Err("not observed".into()),
                labels: m.spec.labels,
            })
            .collect();
        let fleet = FleetSnapshot {
            members,
            catalog: Default::default(),
        };
        check_layout(&fleet, strategy).map_err(|refusal| {
            let code = match refusal {
                PlanRejection::UnknownGroups(_) => "UnknownUpdateGroup",
                PlanRejection::OverlappingSelection(_) => "OverlappingMemberSelectors",
                PlanRejection::InvalidStrategy(_)
                | PlanRejection::InvalidUpgrade(_)
                | PlanRejection::VersionNotOffered(_) => "InvalidStrategy",
            };
            AppError::invalid(code, refusal.to_string())
        })
    }

    /// Creates or replaces a strategy as the precondition allows; runs created from an older
    /// version keep their copy.
    pub async fn put_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
        strategy: UpdateStrategy,
        precondition: &Precondition,
    ) -> Result<(StoredStrategy, bool), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        self.check_strategy(fleet, &strategy).await?;
        let expect = self.strategy_expectation(fleet, name, precondition).await?;
        self.strategies
            .put_strategy(fleet, name, &strategy, self.clock.now(), expect)
            .await
            .map_err(store_error)
    }

    async fn strategy_expectation(
        &self,
        fleet: &FleetName,
        name: &StrategyName,
        precondition: &Precondition,
    ) -> Result<Expect, AppError> {
        if *precondition == Precondition::Unconditional {
            return Ok(Expect::Any);
        }
        let current = self
            .strategies
            .get_strategy(fleet, name)
            .await
            .map_err(store_error)?;
        expectation(
            precondition,
            &format!("Update strategy {name}"),
            current.map(|s| s.etag),
        )
    }

    pub async fn get_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
    ) -> Result<StoredStrategy, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let stored = self
            .strategies
            .get_strategy(fleet, name)
            .await
            .map_err(store_error)?;
        stored.ok_or_else(|| strategy_not_found(fleet, name))
    }

    pub async fn list_strategies(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<StoredStrategy>, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        self.strategies
            .list_strategies(fleet)
            .await
            .map_err(store_error)
    }

    pub async fn delete_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let expect = self.strategy_expectation(fleet, name, precondition).await?;
        self.strategies
            .delete_strategy(fleet, name, expect)
            .await
            .map_err(store_error)
    }
}
