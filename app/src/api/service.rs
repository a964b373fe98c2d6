//! What the server functions need from the server. The server implements this over its store
//! and provider and hands it to Leptos as context; the REST API calls the same implementation,
//! so the browser and scripts can never see two different behaviours.

use crate::model::error::AppError;
use crate::model::member::{FleetSummary, MemberSpec};
use crate::model::names::{FleetName, GroupName, MemberName};
use crate::model::overview::FleetOverview;
use std::sync::Arc;

#[async_trait::async_trait]
pub trait FleetService: Send + Sync + 'static {
    async fn list_fleets(&self) -> Result<Vec<FleetSummary>, AppError>;

    async fn fleet_overview(&self, fleet: &FleetName) -> Result<FleetOverview, AppError>;

    /// Adds a member; a member of that name already in the fleet is a conflict, not a replace.
    async fn join_member(
        &self,
        fleet: &FleetName,
        name: &MemberName,
        spec: MemberSpec,
    ) -> Result<(), AppError>;

    /// Puts every named member into `group` (or into no group), all or none.
    async fn assign_group(
        &self,
        fleet: &FleetName,
        members: &[MemberName],
        group: Option<GroupName>,
    ) -> Result<usize, AppError>;

    async fn remove_member(&self, fleet: &FleetName, name: &MemberName) -> Result<(), AppError>;
}

/// The context value server functions look up.
pub type SharedFleetService = Arc<dyn FleetService>;
