//! The service as the browser's server functions see it (`app::api::service::FleetService`):
//! the same operations, under the same names, as the REST API calls on [`Drydock`], answered in
//! the shapes the browser wants (no etags, runs as summaries, `()` where REST answers the
//! resource). Nothing here decides who may do what: each method hands the caller to the one
//! service method that checks (`caller.require` at its top), so a server function cannot do
//! anything its REST twin would refuse. (Calls name `Drydock::…` explicitly: a method of this
//! trait calling itself by mistake would compile, boxed by `async_trait`, and never return.)

use super::gates::{GateApproval, GateFilter};
use super::{Drydock, members, runs, strategies};
use app::api::service::FleetService;
use app::model::access::{Caller, Grant, Role, UserView};
use app::model::error::{AppError, ErrorKind};
use app::model::member::{FleetSummary, MemberSpec};
use app::model::names::{FleetName, GroupName, MemberName, RunName, StrategyName, UserName};
use app::model::overview::FleetOverview;
use app::model::precondition::Precondition;

#[async_trait::async_trait]
impl FleetService for Drydock {
    fn single_sign_on(&self) -> Option<String> {
        self.access()
            .single_sign_on()
            .map(|sso| sso.display_name().to_owned())
    }

    fn fleet_time(&self) -> app::model::time::FleetTime {
        Drydock::fleet_time(self)
    }

    async fn audit_log(
        &self,
        caller: &Caller,
        query: app::model::audit::AuditQuery,
    ) -> Result<app::model::audit::AuditPage, AppError> {
        Drydock::audit_log(self, caller, &query).await
    }

    async fn list_tokens(
        &self,
        caller: &Caller,
    ) -> Result<Vec<app::model::access::TokenView>, AppError> {
        let tokens = self.access.list_tokens(caller).await?;
        Ok(tokens.iter().map(crate::auth::token_view).collect())
    }

    async fn create_token(
        &self,
        caller: &Caller,
        role: Role,
        fleet: Option<FleetName>,
        expires_in_days: Option<u32>,
        description: String,
    ) -> Result<app::model::access::CreatedToken, AppError> {
        let request = crate::auth::NewToken {
            role,
            fleet,
            expires_in_days,
            description,
        };
        let (token, secret) = self.access.create_token(caller, request).await?;
        Ok(app::model::access::CreatedToken {
            token: crate::auth::token_view(&token),
            secret,
        })
    }

    async fn list_users(&self, caller: &Caller) -> Result<Vec<UserView>, AppError> {
        let users = self.access.list_users(caller).await?;
        Ok(users.iter().map(crate::auth::user_view).collect())
    }

    async fn put_user(
        &self,
        caller: &Caller,
        name: &UserName,
        password: Option<String>,
        roles: Vec<Grant>,
        create: bool,
    ) -> Result<UserView, AppError> {
        let precondition = if create {
            Precondition::Absent
        } else {
            Precondition::Unconditional
        };
        let update = crate::auth::UserUpdate { password, roles };
        match self
            .access
            .put_user(caller, name, update, &precondition)
            .await
        {
            Ok((user, _)) => Ok(crate::auth::user_view(&user)),
            Err(error) if error.kind == ErrorKind::PreconditionFailed => Err(AppError::conflict(
                "UserAlreadyExists",
                format!("There is a user named {name} already."),
            )),
            Err(error) => Err(error),
        }
    }

    async fn delete_user(&self, caller: &Caller, name: &UserName) -> Result<(), AppError> {
        let deleted = self
            .access
            .delete_user(caller, name, &Precondition::Unconditional)
            .await?;
        if deleted {
            Ok(())
        } else {
            Err(crate::auth::user_not_found(name))
        }
    }

    async fn revoke_token(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        self.access.revoke_token(caller, id).await.map(|_| ())
    }

    async fn list_fleets(&self, caller: &Caller) -> Result<Vec<FleetSummary>, AppError> {
        Drydock::list_fleets(self, caller).await
    }

    async fn overview(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<FleetOverview, AppError> {
        Drydock::overview(self, caller, fleet).await
    }

    async fn create_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        spec: MemberSpec,
    ) -> Result<(), AppError> {
        Drydock::create_member(self, caller, fleet, name, spec)
            .await
            .map(|_| ())
    }

    async fn set_group(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        members: &[MemberName],
        group: Option<GroupName>,
    ) -> Result<usize, AppError> {
        Drydock::set_group(self, caller, fleet, members, group.as_ref()).await
    }

    async fn fleet_snapshot(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<app::engine::FleetSnapshot, AppError> {
        Drydock::fleet_snapshot(self, caller, fleet).await
    }

    async fn run_summaries(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<app::model::status::RunSummary>, AppError> {
        Ok(self
            .list_runs(caller, fleet)
            .await?
            .iter()
            .map(|r| r.run.summary())
            .collect())
    }

    async fn get_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::model::run::UpdateRun, AppError> {
        Ok(Drydock::get_run(self, caller, fleet, name).await?.run)
    }

    async fn run_view(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::model::run::RunView, AppError> {
        let page = self.run_for_page(caller, fleet, name).await?;
        Ok(app::model::run::RunView {
            run: page.run,
            time: page.time,
            events_through: page.events_through,
            forecast: page.forecast,
        })
    }

    async fn run_outline(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::view::outline::RunOutlineView, AppError> {
        let page = self.run_for_page(caller, fleet, name).await?;
        Ok(app::view::outline::RunOutlineView {
            outline: app::view::outline::outline(&page.run, page.forecast, page.time.now),
            time: page.time,
            events_through: page.events_through,
        })
    }

    async fn run_members(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        group: &str,
        offset: usize,
    ) -> Result<app::view::outline::MemberPage, AppError> {
        let run = Drydock::get_run(self, caller, fleet, name).await?.run;
        app::view::outline::member_page(&run, group, offset).ok_or_else(|| {
            AppError::not_found(
                "UpdateGroupNotFound",
                format!("update run {name} has no group named {group}"),
            )
        })
    }

    async fn run_progress(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::model::run::RunProgress, AppError> {
        let run = Drydock::get_run(self, caller, fleet, name).await?.run;
        Ok(app::model::run::RunProgress {
            time: self.fleet_time(),
            members: self.progress_in_flight(&run).await,
        })
    }

    async fn create_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        request: app::model::update::CreateRun,
    ) -> Result<(), AppError> {
        Drydock::create_run(
            self,
            caller,
            fleet,
            name,
            request,
            &Precondition::Unconditional,
        )
        .await
        .map(|_| ())
    }

    async fn run_command(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        command: app::engine::Command,
    ) -> Result<app::engine::Reply, AppError> {
        Drydock::command_run(self, caller, fleet, name, command).await
    }

    async fn run_plan(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::engine::Plan, AppError> {
        Drydock::run_plan(self, caller, fleet, name).await
    }

    async fn list_strategies(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<(StrategyName, app::model::strategy::UpdateStrategy)>, AppError> {
        Ok(Drydock::list_strategies(self, caller, fleet)
            .await?
            .into_iter()
            .map(|s| (s.name, s.strategy))
            .collect())
    }

    async fn put_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
        strategy: app::model::strategy::UpdateStrategy,
        replace: bool,
    ) -> Result<(), AppError> {
        let precondition = if replace {
            Precondition::Unconditional
        } else {
            Precondition::Absent
        };
        match Drydock::put_strategy(self, caller, fleet, name, strategy, &precondition).await {
            Ok(_) => Ok(()),
            Err(error) if error.kind == ErrorKind::PreconditionFailed => Err(AppError::conflict(
                "StrategyAlreadyExists",
                format!(
                    "Fleet {fleet} already has an update strategy named {name}; save with replace to overwrite it (runs created from it keep their copy)."
                ),
            )),
            Err(error) => Err(error),
        }
    }

    async fn delete_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<(), AppError> {
        match Drydock::delete_run(self, caller, fleet, name, &Precondition::Unconditional).await? {
            true => Ok(()),
            false => Err(runs::run_not_found(fleet, name)),
        }
    }

    async fn waiting_gates(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<app::model::gate::GateResource>, AppError> {
        let filter = GateFilter {
            state: Some(app::model::run::State::Pending),
            gate_type: Some(app::model::gate::GateType::Approval),
            run: None,
        };
        let mut gates: Vec<_> = self
            .list_gates(caller, fleet, &filter)
            .await?
            .into_iter()
            .filter(|g| g.properties.reached_time.is_some())
            .collect();
        gates.sort_by_key(|g| g.properties.reached_time);
        Ok(gates)
    }

    async fn approve_gate(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        gate: &str,
        comment: Option<String>,
        confirm: bool,
    ) -> Result<app::engine::Reply, AppError> {
        let approval = GateApproval { comment, confirm };
        let approved = Drydock::approve_gate(
            self,
            caller,
            fleet,
            gate,
            approval,
            &Precondition::Unconditional,
        );
        Ok(approved.await?.0)
    }

    async fn delete_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
    ) -> Result<(), AppError> {
        match Drydock::delete_strategy(self, caller, fleet, name, &Precondition::Unconditional)
            .await?
        {
            true => Ok(()),
            false => Err(strategies::strategy_not_found(fleet, name)),
        }
    }

    async fn left_behind(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        run: &RunName,
    ) -> Result<Vec<app::engine::LeftBehind>, AppError> {
        Drydock::left_behind(self, caller, fleet, run).await
    }

    async fn create_catch_up_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        run: &RunName,
        name: Option<RunName>,
    ) -> Result<RunName, AppError> {
        let stored = Drydock::create_catch_up_run(self, caller, fleet, run, name).await?;
        RunName::parse(&stored.run.name).map_err(|_| AppError::internal())
    }

    async fn placements_overview(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<app::api::PlacementsPageData, AppError> {
        let (views, members) = self.placements_and_members(caller, fleet).await?;
        let placements = views
            .into_iter()
            .map(|view| app::api::PlacementItem {
                name: view.stored.name.to_string(),
                placement: view.stored.placement,
                status: view.status,
            })
            .collect();
        let mut resources = Vec::new();
        for resource in Drydock::list_resources(self, caller, fleet).await? {
            let snapshots = self
                .list_resource_snapshots(caller, fleet, &resource.name)
                .await?;
            resources.push(app::api::ResourceItem {
                name: resource.name.to_string(),
                snapshots: snapshots.iter().map(super::snapshot_info).collect(),
            });
        }
        let overrides = Drydock::list_resource_overrides(self, caller, fleet).await?;
        Ok(app::api::PlacementsPageData {
            placements,
            resources,
            candidates: super::placements::candidates(&members),
            overrides: overrides
                .into_iter()
                .map(|o| app::api::OverrideItem {
                    name: o.name.to_string(),
                    spec: o.spec,
                })
                .collect(),
        })
    }

    async fn placement_matrix(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        offset: usize,
        limit: usize,
    ) -> Result<app::view::matrix::PlacementMatrix, AppError> {
        // Most fleets place nothing: their page must not observe every member to say so.
        caller.require(Role::Viewer, Some(fleet))?;
        if !self.places_anything(fleet).await? {
            return Ok(Default::default());
        }
        let views = Drydock::list_placements(self, caller, fleet).await?;
        let statuses: Vec<(String, &app::engine::PlacementStatus)> = views
            .iter()
            .map(|view| (view.stored.name.to_string(), &view.status))
            .collect();
        Ok(app::view::matrix::matrix_page(&statuses, offset, limit))
    }

    async fn snapshot_diff(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        resource: &app::model::names::ResourceName,
        index: i64,
    ) -> Result<Vec<app::view::diff::DiffLine>, AppError> {
        let text = |manifests: &[serde_json::Value]| {
            serde_json::to_string_pretty(manifests).unwrap_or_default()
        };
        let new = self
            .get_resource_snapshot(caller, fleet, resource, index)
            .await?;
        let old = match index {
            1 => String::new(),
            _ => {
                let before = self
                    .get_resource_snapshot(caller, fleet, resource, index - 1)
                    .await?;
                text(&before.manifests)
            }
        };
        Ok(app::view::diff::line_diff(&old, &text(&new.manifests)))
    }

    async fn save_override(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &app::model::names::OverrideName,
        spec: app::model::overrides::ResourceOverride,
    ) -> Result<(), AppError> {
        let unconditional = app::model::precondition::Precondition::Unconditional;
        Drydock::put_resource_override(self, caller, fleet, name, spec, &unconditional).await?;
        Ok(())
    }

    async fn delete_override(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &app::model::names::OverrideName,
    ) -> Result<(), AppError> {
        let unconditional = app::model::precondition::Precondition::Unconditional;
        Drydock::delete_resource_override(self, caller, fleet, name, &unconditional).await?;
        Ok(())
    }

    async fn save_placement(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &app::model::names::PlacementName,
        placement: app::model::placement::Placement,
    ) -> Result<(), AppError> {
        let unconditional = app::model::precondition::Precondition::Unconditional;
        Drydock::put_placement(self, caller, fleet, name, placement, &unconditional).await?;
        Ok(())
    }

    async fn list_auto_upgrade_profiles(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<app::model::auto_upgrade::ProfileView>, AppError> {
        let stored = Drydock::list_auto_upgrade_profiles(self, caller, fleet).await?;
        Ok(stored
            .into_iter()
            .map(|p| app::model::auto_upgrade::ProfileView {
                name: p.name.to_string(),
                profile: p.profile,
                status: p.status,
            })
            .collect())
    }

    async fn put_auto_upgrade_profile(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &app::model::names::AutoUpgradeProfileName,
        profile: app::model::auto_upgrade::AutoUpgradeProfile,
    ) -> Result<(), AppError> {
        let unconditional = &Precondition::Unconditional;
        Drydock::put_auto_upgrade_profile(self, caller, fleet, name, profile, unconditional)
            .await
            .map(|_| ())
    }

    async fn delete_auto_upgrade_profile(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &app::model::names::AutoUpgradeProfileName,
    ) -> Result<(), AppError> {
        let unconditional = &Precondition::Unconditional;
        match Drydock::delete_auto_upgrade_profile(self, caller, fleet, name, unconditional).await?
        {
            true => Ok(()),
            false => Err(super::auto_upgrade::profile_not_found(fleet, name)),
        }
    }

    async fn generate_update_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &app::model::names::AutoUpgradeProfileName,
    ) -> Result<app::model::names::RunName, AppError> {
        Drydock::generate_update_run(self, caller, fleet, name).await
    }

    async fn remove_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        force: bool,
    ) -> Result<(), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        match self
            .delete_member(caller, fleet, name, force, &Precondition::Unconditional)
            .await?
        {
            true => Ok(()),
            false => Err(members::member_not_found(fleet, name)),
        }
    }
}
