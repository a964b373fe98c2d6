//! Auto-upgrade profiles: stored like strategies, and triggered — by `generateUpdateRun`, and by
//! the server on a schedule — into update runs named after their upgrade, so generating the
//! same upgrade twice (two replicas, a restart, a retry) makes one run.

use super::runs::{RunOrigin, strategy_name};
use super::strategies::strategy_not_found;
use super::{Drydock, expectation, store_error};
use crate::store::StoredProfile;
use app::engine::{ChannelRefusal, ChannelTarget, Command, resolve_channel};
use app::model::access::{Caller, Role};
use app::model::auto_upgrade::{
    AutoUpgradeProfile, AutoUpgradeProfileStatus, TriggerError, TriggerStatus,
};
use app::model::cluster::ClusterState;
use app::model::error::AppError;
use app::model::names::{AutoUpgradeProfileName, FleetName, RunName};
use app::model::precondition::Precondition;
use app::model::update::{CreateRun, StrategySource};

pub(crate) fn profile_not_found(fleet: &FleetName, name: &AutoUpgradeProfileName) -> AppError {
    AppError::not_found(
        "AutoUpgradeProfileNotFound",
        format!("Fleet {fleet} has no auto-upgrade profile named {name}."),
    )
}

/// The profile's id, as generated runs name it.
pub fn profile_id(fleet: &FleetName, name: &AutoUpgradeProfileName) -> String {
    format!("/fleets/{fleet}/autoUpgradeProfiles/{name}")
}

/// Who asked for a run: a person (`generateUpdateRun`), who gets a run whatever the fleet runs
/// now, or the schedule, which generates only what some member wants and only one unfinished
/// run per profile at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Asked,
    Scheduled,
}

/// What a trigger came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triggered {
    /// A run was generated now.
    Generated(RunName),
    /// The run for this upgrade exists already (generated before, here or by another replica).
    Existing(RunName),
    /// An upgrade is wanted, but a run this profile generated before has not finished: the
    /// next is generated after it.
    Waiting(String),
    /// Nothing to generate now, and why.
    Nothing(String),
}

impl Drydock {
    pub async fn put_auto_upgrade_profile(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        profile: AutoUpgradeProfile,
        precondition: &Precondition,
    ) -> Result<(StoredProfile, bool), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        profile
            .checked()
            .map_err(|why| AppError::invalid("InvalidAutoUpgradeProfile", why))?;
        if let Some(id) = &profile.update_strategy_id {
            self.stored_strategy_source(fleet, id).await?;
        }
        let expect = self.profile_expectation(fleet, name, precondition).await?;
        let now = self.clock.now();
        self.profiles
            .put_profile(fleet, name, &profile, now, expect)
            .await
            .map_err(store_error)
    }

    pub async fn get_auto_upgrade_profile(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
    ) -> Result<StoredProfile, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let stored = self.profiles.get_profile(fleet, name).await;
        stored
            .map_err(store_error)?
            .ok_or_else(|| profile_not_found(fleet, name))
    }

    pub async fn list_auto_upgrade_profiles(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<StoredProfile>, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        self.profiles
            .list_profiles(fleet)
            .await
            .map_err(store_error)
    }

    /// Deletes a profile; the runs it generated stay (they are records of what happened).
    pub async fn delete_auto_upgrade_profile(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let expect = self.profile_expectation(fleet, name, precondition).await?;
        self.profiles
            .delete_profile(fleet, name, expect)
            .await
            .map_err(store_error)
    }

    /// What a write of `name` must find when it lands, as `precondition` says.
    async fn profile_expectation(
        &self,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
        precondition: &Precondition,
    ) -> Result<crate::store::Expect, AppError> {
        let current = self.profiles.get_profile(fleet, name).await;
        let current = current.map_err(store_error)?.map(|p| p.etag);
        expectation(
            precondition,
            &format!("Auto-upgrade profile {name}"),
            current,
        )
    }

    /// `generateUpdateRun`: the run for what the profile's channel wants now (generated, or
    /// the one generated for it before), disabled or not.
    pub async fn generate_update_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &AutoUpgradeProfileName,
    ) -> Result<RunName, AppError> {
        caller.require(Role::Operator, Some(fleet))?;
        let stored = self.get_auto_upgrade_profile(caller, fleet, name).await?;
        match self.trigger(fleet, &stored, Trigger::Asked).await? {
            Triggered::Generated(run) | Triggered::Existing(run) => Ok(run),
            Triggered::Nothing(why) | Triggered::Waiting(why) => {
                Err(AppError::conflict("NothingToGenerate", why))
            }
        }
    }

    /// Every enabled profile of every fleet, once: what the server's schedule calls. A profile
    /// that fails is recorded on its status and does not stop the others.
    pub async fn trigger_auto_upgrades(
        &self,
    ) -> Vec<(FleetName, AutoUpgradeProfileName, Triggered)> {
        let profiles = match self.profiles.enabled_profiles().await {
            Ok(profiles) => profiles,
            Err(error) => {
                tracing::warn!(%error, "reading auto-upgrade profiles failed; trying again later");
                return Vec::new();
            }
        };
        let mut outcomes = Vec::new();
        for (fleet, stored) in profiles {
            match self.trigger(&fleet, &stored, Trigger::Scheduled).await {
                Ok(triggered) => outcomes.push((fleet, stored.name, triggered)),
                Err(error) => {
                    tracing::info!(%fleet, profile = %stored.name, code = %error.code, message = %error.message, "an auto-upgrade trigger failed");
                }
            }
        }
        outcomes
    }

    /// Resolves the profile's channel against the fleet as it is and generates its run;
    /// records the outcome on the profile's status.
    async fn trigger(
        &self,
        fleet: &FleetName,
        stored: &StoredProfile,
        trigger: Trigger,
    ) -> Result<Triggered, AppError> {
        let result = self.generate(fleet, stored, trigger).await;
        self.record(fleet, stored, trigger, &result).await;
        result.map(|(triggered, _)| triggered)
    }

    async fn generate(
        &self,
        fleet: &FleetName,
        stored: &StoredProfile,
        trigger: Trigger,
    ) -> Result<(Triggered, Vec<String>), AppError> {
        let system = Caller::system();
        let snapshot = self.fleet_snapshot(&system, fleet).await?;
        let clusters: Vec<&ClusterState> = snapshot
            .members
            .iter()
            .filter_map(|m| m.cluster.as_ref().ok())
            .collect();
        let target = match resolve_channel(&stored.profile, &snapshot.catalog, &clusters) {
            Ok(target) => target,
            // Not offered yet is a wait, not a failure, for the schedule.
            Err(refusal)
                if trigger == Trigger::Scheduled
                    && refusal.code == "KubernetesVersionNotOffered" =>
            {
                return Ok((Triggered::Nothing(refusal.message), Vec::new()));
            }
            Err(ChannelRefusal { code, message }) => return Err(AppError::invalid(code, message)),
        };
        let run = generated_run_name(&stored.name, &target)?;
        let id = profile_id(fleet, &stored.name);
        if trigger == Trigger::Scheduled && target.wanted_by == 0 {
            let why = format!(
                "every member observed already runs {}",
                target.versions.join(", ")
            );
            return Ok((Triggered::Nothing(why), target.versions));
        }
        // The run's name is the profile's and the upgrade's, but a person may have taken it.
        match self
            .profiles
            .generated_by(fleet, run.as_str())
            .await
            .map_err(store_error)?
        {
            Some(Some(by)) if by == id => return Ok((Triggered::Existing(run), target.versions)),
            Some(_) => {
                return Err(AppError::conflict(
                    "UpdateRunAlreadyExists",
                    format!(
                        "an update run named {run} exists that auto-upgrade profile {} did not generate; rename or delete it",
                        stored.name
                    ),
                ));
            }
            None => {}
        }
        if trigger == Trigger::Scheduled
            && let Some(waiting) = self.waiting(fleet, &id, &target).await?
        {
            return Ok((waiting, target.versions));
        }
        let strategy = match &stored.profile.update_strategy_id {
            Some(id) => self.stored_strategy_source(fleet, id).await?,
            None => StrategySource::OneByOne,
        };
        let request = CreateRun {
            strategy,
            update: target.update.clone(),
            placement: None,
        };
        let origin = RunOrigin {
            generated_by: Some(id),
            ..RunOrigin::default()
        };
        let unconditional = &Precondition::Unconditional;
        let create = self.create_run_from(&system, fleet, &run, request, unconditional, origin);
        let created = match trigger {
            // A person's request is audited by the web layer already.
            Trigger::Asked => create.await,
            Trigger::Scheduled => self.audited(fleet, &stored.name, &run, create).await,
        };
        match created {
            Ok(_) => {}
            // Another replica generated it first.
            Err(error) if error.code == "UpdateRunAlreadyExists" => {
                return Ok((Triggered::Existing(run), target.versions));
            }
            Err(error) => return Err(error),
        }
        if stored.profile.auto_start {
            self.command_run(&system, fleet, &run, Command::Start)
                .await?;
        }
        Ok((Triggered::Generated(run), target.versions))
    }

    /// The schedule's wait while a run this profile (`id`) generated before has not finished:
    /// the next run is generated after it.
    async fn waiting(
        &self,
        fleet: &FleetName,
        id: &str,
        target: &ChannelTarget,
    ) -> Result<Option<Triggered>, AppError> {
        let unfinished = self.profiles.unfinished_generated_runs(fleet, id).await;
        let unfinished = unfinished.map_err(store_error)?;
        Ok(unfinished.first().map(|earlier| {
            Triggered::Waiting(format!(
                "{} is offered; update run {earlier}, generated by this profile before, has not finished, and the next run is generated after it",
                target.versions.join(", ")
            ))
        }))
    }

    /// `work` (the schedule's creation of `run`) with an audit entry of its own, as a request
    /// would have: the system, on behalf of the profile.
    async fn audited<T>(
        &self,
        fleet: &FleetName,
        profile: &AutoUpgradeProfileName,
        run: &RunName,
        work: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let action =
            format!("POST /api/v1/fleets/{fleet}/autoUpgradeProfiles/{profile}/generateUpdateRun");
        self.audited_as_system("auto-upgrade schedule", action, fleet, run, work)
            .await
    }

    /// `work`, something the server does of itself to `run` (`action`, as the request that
    /// would do it), with an audit entry of its own: the system, by way of `credential`.
    pub(super) async fn audited_as_system<T>(
        &self,
        credential: &str,
        action: String,
        fleet: &FleetName,
        run: &RunName,
        work: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let entry = crate::store::audit::NewAudit {
            at: crate::auth::wall_now(),
            actor: Caller::system().name,
            credential: credential.into(),
            action,
            fleet: Some(fleet.to_string()),
            run: Some(run.to_string()),
            address: "server".into(),
        };
        let ticket = crate::audit_trail::Ticket::new(entry);
        let done = crate::audit_trail::serving(ticket.clone(), work).await;
        if let Some(id) = ticket.written() {
            let (status, code) = match &done {
                Ok(_) => (200, None),
                Err(error) => (error.kind.http_status(), Some(error.code.as_str())),
            };
            if let Err(error) = self.audit.answer_audit(id, status, code).await {
                tracing::warn!(%error, "recording the outcome of a system audit entry failed");
            }
        }
        done
    }

    /// A stored strategy named by a profile, as a run's source; a missing one is a bad request.
    async fn stored_strategy_source(
        &self,
        fleet: &FleetName,
        id: &str,
    ) -> Result<StrategySource, AppError> {
        let name = strategy_name(fleet, id)?;
        let stored = self.strategies.get_strategy(fleet, &name).await;
        match stored.map_err(store_error)? {
            Some(_) => Ok(StrategySource::Stored(id.to_owned())),
            None => Err(AppError::invalid(
                "StrategyNotFound",
                strategy_not_found(fleet, &name).message,
            )),
        }
    }

    /// Writes the trigger's outcome on the profile's status: whatever was asked for; of the
    /// schedule's (it looks every minute), a run generated, a wait or a failure, each once.
    async fn record(
        &self,
        fleet: &FleetName,
        stored: &StoredProfile,
        trigger: Trigger,
        result: &Result<(Triggered, Vec<String>), AppError>,
    ) {
        let status = trigger_status(result, self.clock.now());
        if trigger == Trigger::Scheduled {
            let worth_telling = matches!(
                result,
                Ok((Triggered::Generated(_) | Triggered::Waiting(_), _)) | Err(_)
            );
            let told = stored.status.last_trigger_message == status.last_trigger_message
                && stored.status.last_trigger_error == status.last_trigger_error;
            if !worth_telling || told {
                return;
            }
        }
        let recorded = self
            .profiles
            .record_trigger(fleet, &stored.name, &status)
            .await;
        if let Err(error) = recorded {
            tracing::warn!(%fleet, profile = %stored.name, %error, "recording an auto-upgrade trigger failed");
        }
    }
}

/// Triggers every enabled profile every `every` (real time) until the service is dropped: how
/// a fleet follows its channel without anyone asking. Each replica runs it; the runs' names
/// make their triggers agree.
pub fn schedule_auto_upgrades(drydock: &std::sync::Arc<Drydock>, every: std::time::Duration) {
    super::every_while_alive(drydock, every, |drydock| async move {
        for (fleet, profile, triggered) in drydock.trigger_auto_upgrades().await {
            if let Triggered::Generated(run) = triggered {
                tracing::info!(%fleet, %profile, %run, "an auto-upgrade profile generated an update run");
            }
        }
    });
}

/// The status a trigger's outcome writes.
fn trigger_status(
    result: &Result<(Triggered, Vec<String>), AppError>,
    now: app::model::time::Timestamp,
) -> AutoUpgradeProfileStatus {
    let mut status = AutoUpgradeProfileStatus {
        last_triggered_at: Some(now),
        ..Default::default()
    };
    match result {
        Ok((triggered, versions)) => {
            status.last_trigger_status = Some(TriggerStatus::Succeeded);
            status.last_trigger_upgrade_versions = versions.clone();
            status.last_trigger_message = Some(match triggered {
                Triggered::Generated(run) => format!("generated update run {run}"),
                Triggered::Existing(run) => format!("update run {run} was generated already"),
                Triggered::Nothing(why) | Triggered::Waiting(why) => why.clone(),
            });
        }
        Err(error) => {
            status.last_trigger_status = Some(TriggerStatus::Failed);
            status.last_trigger_error = Some(TriggerError {
                code: error.code.to_string(),
                message: error.message.clone(),
            });
        }
    }
    status
}

/// `{profile}-{upgrade}`: `stable-1-30-7`, `images-images-1a2b3c4d`.
fn generated_run_name(
    profile: &AutoUpgradeProfileName,
    target: &ChannelTarget,
) -> Result<RunName, AppError> {
    RunName::parse(&format!("{profile}-{}", target.run_suffix)).map_err(|why| {
        AppError::invalid(
            "InvalidAutoUpgradeProfile",
            format!("the generated run's name: {why}"),
        )
    })
}
