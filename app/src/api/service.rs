//! What the server functions need from the server. The server implements this over its store
//! and provider and hands it to Leptos as context; the REST API calls the same implementation,
//! so the browser and scripts can never see two different behaviours. Every call names its
//! caller, whose roles the server checks inside (so no server function can forget to).

use crate::engine::{Command, FleetSnapshot, Plan, Reply};
use crate::model::access::Caller;
use crate::model::error::AppError;
use crate::model::gate::GateResource;
use crate::model::member::{FleetSummary, MemberSpec};
use crate::model::names::{
    AutoUpgradeProfileName, FleetName, GroupName, MemberName, RunName, StrategyName,
};
use crate::model::overview::FleetOverview;
use crate::model::run::{RunProgress, RunView, UpdateRun};
use crate::model::status::RunSummary;
use crate::model::strategy::UpdateStrategy;
use crate::model::time::FleetTime;
use crate::model::update::CreateRun;
use std::sync::Arc;

#[async_trait::async_trait]
pub trait FleetService: Send + Sync + 'static {
    /// The fleet clock now, and how fast it runs.
    fn fleet_time(&self) -> FleetTime;

    /// What the sign-in page's single sign-on button says, when single sign-on is configured.
    fn single_sign_on(&self) -> Option<String>;

    /// The audit trail as far as the caller may read it, newest first.
    async fn audit_log(
        &self,
        caller: &Caller,
        query: crate::model::audit::AuditQuery,
    ) -> Result<crate::model::audit::AuditPage, AppError>;

    /// The caller's API tokens (everyone's for an admin of every fleet), newest first.
    async fn list_tokens(
        &self,
        caller: &Caller,
    ) -> Result<Vec<crate::model::access::TokenView>, AppError>;

    /// A new token of the caller's, at most their own role where it applies.
    async fn create_token(
        &self,
        caller: &Caller,
        role: crate::model::access::Role,
        fleet: Option<FleetName>,
        expires_in_days: Option<u32>,
        description: String,
    ) -> Result<crate::model::access::CreatedToken, AppError>;

    async fn revoke_token(&self, caller: &Caller, id: &str) -> Result<(), AppError>;

    /// Every user (admins of every fleet only).
    async fn list_users(
        &self,
        caller: &Caller,
    ) -> Result<Vec<crate::model::access::UserView>, AppError>;

    /// Creates a user (`password` required, and the name must be free when `create` is set)
    /// or gives an existing one these roles (and a new password, if one is given).
    async fn put_user(
        &self,
        caller: &Caller,
        name: &crate::model::names::UserName,
        password: Option<String>,
        roles: Vec<crate::model::access::Grant>,
        create: bool,
    ) -> Result<crate::model::access::UserView, AppError>;

    async fn delete_user(
        &self,
        caller: &Caller,
        name: &crate::model::names::UserName,
    ) -> Result<(), AppError>;

    async fn list_fleets(&self, caller: &Caller) -> Result<Vec<FleetSummary>, AppError>;

    async fn overview(&self, caller: &Caller, fleet: &FleetName)
    -> Result<FleetOverview, AppError>;

    /// Adds a member; a member of that name already in the fleet is a conflict, not a replace.
    async fn create_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        spec: MemberSpec,
    ) -> Result<(), AppError>;

    /// Puts every named member into `group` (or into no group), all or none.
    async fn set_group(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        members: &[MemberName],
        group: Option<GroupName>,
    ) -> Result<usize, AppError>;

    /// Removes a member; one whose cluster a run is upgrading only with `force` (a conflict
    /// naming the run otherwise).
    async fn remove_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        force: bool,
    ) -> Result<(), AppError>;

    /// Members, what their clusters run and the catalog: what the browser plans previews from.
    async fn fleet_snapshot(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<FleetSnapshot, AppError>;

    async fn run_summaries(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<RunSummary>, AppError>;

    async fn get_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<UpdateRun, AppError>;

    /// The run with the fleet clock and the newest event it reflects: what a run page follows.
    async fn run_view(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<RunView, AppError>;

    /// The run folded for its page (stages, groups, counts, the engine's answers), the fleet
    /// clock and the newest event it reflects: what a run page reads and follows.
    async fn run_outline(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<crate::view::outline::RunOutlineView, AppError>;

    /// Up to a page of a group's members from `offset`: what a run page shows of an open group.
    async fn run_members(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        group: &str,
        offset: usize,
    ) -> Result<crate::view::outline::MemberPage, AppError>;

    /// How far the run's upgrades in flight have come: what a run page polls between events.
    async fn run_progress(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<RunProgress, AppError>;

    async fn create_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        request: CreateRun,
    ) -> Result<(), AppError>;

    async fn run_command(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        command: Command,
    ) -> Result<Reply, AppError>;

    async fn run_plan(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<Plan, AppError>;

    async fn list_strategies(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<(StrategyName, UpdateStrategy)>, AppError>;

    /// Saves a strategy; one of that name already stored is replaced only with `replace`
    /// (a conflict, `StrategyAlreadyExists`, otherwise).
    async fn put_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
        strategy: UpdateStrategy,
        replace: bool,
    ) -> Result<(), AppError>;

    async fn delete_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
    ) -> Result<(), AppError>;

    /// The members a run left behind so far, and why.
    async fn left_behind(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        run: &RunName,
    ) -> Result<Vec<crate::engine::LeftBehind>, AppError>;

    /// A run of exactly the members a finished run left behind (`name`, or `{run}-catch-up`).
    async fn create_catch_up_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        run: &RunName,
        name: Option<RunName>,
    ) -> Result<RunName, AppError>;

    /// The Placements page: placements with their status, resources with their snapshots, and
    /// the members as scheduling sees them (for the editor's preview).
    async fn placements_overview(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<crate::api::PlacementsPageData, AppError>;

    /// A page of the member × placement matrix (see [`crate::view::matrix`]).
    async fn placement_matrix(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        offset: usize,
        limit: usize,
    ) -> Result<crate::view::matrix::PlacementMatrix, AppError>;

    /// What snapshot `index` of a resource changed from the one before it (everything added
    /// for the first).
    async fn snapshot_diff(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        resource: &crate::model::names::ResourceName,
        index: i64,
    ) -> Result<Vec<crate::view::diff::DiffLine>, AppError>;

    /// Creates or replaces a placement.
    async fn save_placement(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &crate::model::names::PlacementName,
        placement: crate::model::placement::Placement,
    ) -> Result<(), AppError>;

    /// Creates or replaces a resource override.
    async fn save_override(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &crate::model::names::OverrideName,
        spec: crate::model::overrides::ResourceOverride,
    ) -> Result<(), AppError>;

    async fn delete_override(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &crate::model::names::OverrideName,
    ) -> Result<(), AppError>;

    /// The fleet's auto-upgrade profiles, by name.
    async fn list_auto_upgrade_profiles(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<crate::model::auto_upgrade::ProfileView>, AppError>;

    /// Creates or replaces a profile.
    async fn put_auto_upgrade_profile(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        profile: crate::model::auto_upgrade::AutoUpgradeProfile,
    ) -> Result<(), AppError>;

    async fn delete_auto_upgrade_profile(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
    ) -> Result<(), AppError>;

    /// `generateUpdateRun`: the run for what the profile's channel offers now.
    async fn generate_update_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
    ) -> Result<RunName, AppError>;

    /// Deletes a run that is not running, stopping or upgrading (a conflict says why otherwise).
    async fn delete_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<(), AppError>;

    /// Approval gates the fleet's runs wait at now, oldest first.
    async fn waiting_gates(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<GateResource>, AppError>;

    /// Approves a gate; `confirm` goes on although some members behind it cannot start yet.
    async fn approve_gate(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        gate: &str,
        comment: Option<String>,
        confirm: bool,
    ) -> Result<Reply, AppError>;
}

/// The context value server functions look up.
pub type SharedFleetService = Arc<dyn FleetService>;
