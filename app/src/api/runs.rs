//! Server functions for update runs and strategies: the browser's side of the engine issue's
//! operations. Reads are GET; writes that carry structures take JSON.

#[cfg(feature = "ssr")]
use super::{caller, parse, with_status};
use crate::engine::{FleetSnapshot, Plan, Reply, SkipTarget};
use crate::model::error::AppError;
use crate::model::run::{RunProgress, RunView, UpdateRun};
use crate::model::status::RunSummary;
use crate::model::strategy::UpdateStrategy;
use crate::model::time::FleetTime;
use crate::model::update::CreateRun;
use crate::view::outline::{MemberPage, RunOutlineView};
#[cfg(feature = "ssr")]
use crate::{
    engine::Command,
    model::names::{FleetName, RunName, StrategyName},
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn names(fleet: &str, run: &str) -> Result<(FleetName, RunName), AppError> {
    Ok((
        parse("InvalidFleetName", FleetName::parse(fleet))?,
        parse("InvalidUpdateRunName", RunName::parse(run))?,
    ))
}

#[cfg(feature = "ssr")]
async fn command(fleet: String, run: String, command: Command) -> Result<Reply, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?
                .run_command(&caller(), &fleet, &run, command)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "fleet_snapshot", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn get_fleet_snapshot(fleet: String) -> Result<FleetSnapshot, AppError> {
    with_status(
        async {
            super::service()?
                .fleet_snapshot(
                    &caller(),
                    &parse("InvalidFleetName", FleetName::parse(&fleet))?,
                )
                .await
        }
        .await,
    )
}

/// The fleet clock, so a page can count waits down and preview plans at fleet time.
#[server(prefix = "/fn", endpoint = "fleet_time", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn get_fleet_time() -> Result<FleetTime, AppError> {
    Ok(super::service()?.fleet_time())
}

#[server(prefix = "/fn", endpoint = "list_runs", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn list_runs(fleet: String) -> Result<Vec<RunSummary>, AppError> {
    with_status(
        async {
            super::service()?
                .run_summaries(
                    &caller(),
                    &parse("InvalidFleetName", FleetName::parse(&fleet))?,
                )
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "get_run", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn get_run(fleet: String, run: String) -> Result<UpdateRun, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?.get_run(&caller(), &fleet, &run).await
        }
        .await,
    )
}

/// The run page's one read: the run, the fleet clock, and where to follow its event stream from.
#[server(prefix = "/fn", endpoint = "run_view", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn get_run_view(fleet: String, run: String) -> Result<RunView, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?.run_view(&caller(), &fleet, &run).await
        }
        .await,
    )
}

/// The run page's one read: the run folded to its stages, groups and counts (members listed
/// only for a small run), the fleet clock, and where to follow its event stream from.
#[server(prefix = "/fn", endpoint = "run_outline", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn get_run_outline(fleet: String, run: String) -> Result<RunOutlineView, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?.run_outline(&caller(), &fleet, &run).await
        }
        .await,
    )
}

/// A page of a group's members (at most 100) from `offset`: what an opened group shows.
#[server(prefix = "/fn", endpoint = "run_members", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn get_run_members(
    fleet: String,
    run: String,
    group: String,
    #[server(default)] offset: usize,
) -> Result<MemberPage, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?
                .run_members(&caller(), &fleet, &run, &group, offset)
                .await
        }
        .await,
    )
}

/// How far the run's upgrades in flight have come (nodes upgraded of all), per member: what the
/// run page polls while upgrades are in flight.
#[server(prefix = "/fn", endpoint = "run_progress", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn get_run_progress(fleet: String, run: String) -> Result<RunProgress, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?
                .run_progress(&caller(), &fleet, &run)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "create_run", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn create_update_run(
    fleet: String,
    run: String,
    request: CreateRun,
) -> Result<(), AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?
                .create_run(&caller(), &fleet, &run, request)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "start_run", output = crate::api::codec::Json)]
pub async fn start_run(fleet: String, run: String) -> Result<Reply, AppError> {
    command(fleet, run, Command::Start).await
}

#[server(prefix = "/fn", endpoint = "stop_run", output = crate::api::codec::Json)]
pub async fn stop_run(fleet: String, run: String) -> Result<Reply, AppError> {
    command(fleet, run, Command::Stop).await
}

#[server(prefix = "/fn", endpoint = "skip", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn skip_in_run(
    fleet: String,
    run: String,
    targets: Vec<SkipTarget>,
) -> Result<Reply, AppError> {
    command(fleet, run, Command::Skip(targets)).await
}

/// Deletes a run that is not running, stopping or upgrading (409 `UpdateRunActive` says why).
#[server(prefix = "/fn", endpoint = "delete_run", output = crate::api::codec::Json)]
pub async fn delete_run(fleet: String, run: String) -> Result<(), AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?.delete_run(&caller(), &fleet, &run).await
        }
        .await,
    )
}

/// The members a run left behind so far, and why.
#[server(prefix = "/fn", endpoint = "left_behind", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn left_behind(
    fleet: String,
    run: String,
) -> Result<Vec<crate::engine::LeftBehind>, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?.left_behind(&caller(), &fleet, &run).await
        }
        .await,
    )
}

/// A run of exactly the members a finished run left behind; answers the new run's name (an
/// empty `name` is `{run}-catch-up`).
#[server(prefix = "/fn", endpoint = "create_catch_up_run", output = crate::api::codec::Json)]
pub async fn create_catch_up_run(
    fleet: String,
    run: String,
    #[server(default)] name: String,
) -> Result<String, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            let name = match name.trim() {
                "" => None,
                name => Some(parse("InvalidUpdateRunName", RunName::parse(name))?),
            };
            let created = super::service()?
                .create_catch_up_run(&caller(), &fleet, &run, name)
                .await?;
            Ok(created.to_string())
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "run_plan", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn run_plan(fleet: String, run: String) -> Result<Plan, AppError> {
    with_status(
        async {
            let (fleet, run) = names(&fleet, &run)?;
            super::service()?.run_plan(&caller(), &fleet, &run).await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "list_strategies", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn list_strategies(fleet: String) -> Result<Vec<(String, UpdateStrategy)>, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let list = super::service()?.list_strategies(&caller(), &fleet).await?;
            Ok(list
                .into_iter()
                .map(|(name, strategy)| (name.to_string(), strategy))
                .collect())
        }
        .await,
    )
}

/// Saves a strategy; one of that name already stored is replaced only with `"replace": true`
/// (409 `StrategyAlreadyExists` otherwise, so the page can ask first).
#[server(prefix = "/fn", endpoint = "save_strategy", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn save_strategy(
    fleet: String,
    name: String,
    strategy: UpdateStrategy,
    #[server(default)] replace: bool,
) -> Result<(), AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let name = parse("InvalidStrategyName", StrategyName::parse(&name))?;
            super::service()?
                .put_strategy(&caller(), &fleet, &name, strategy, replace)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "delete_strategy", output = crate::api::codec::Json)]
pub async fn delete_strategy(fleet: String, name: String) -> Result<(), AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let name = parse("InvalidStrategyName", StrategyName::parse(&name))?;
            super::service()?
                .delete_strategy(&caller(), &fleet, &name)
                .await
        }
        .await,
    )
}
