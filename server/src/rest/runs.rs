//! `/fleets/{fleet}/updateRuns`: create (with an inline strategy, a stored one, or none), read
//! with the ARM-shaped status tree, list, delete, and the plan. Start, stop and skip come with
//! the runtime that carries them out.

use super::shapes::{List, Resource};
use super::{
    ApiError, ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, NoInput, ReadOnlyObject,
    delete_response, parse_name, put_response, typed,
};
use crate::store::StoredRun;
use app::engine::{Command, SkipTarget};
use app::model::access::Caller;
use app::model::error::AppError;
use app::model::names::{FleetName, RunName};
use app::model::rollout::{PlacementRollout, PlacementRolloutRequest};
use app::model::status::RunStatus;
use app::model::strategy::UpdateStrategy;
use app::model::update::ManagedClusterUpdate;
use app::model::update::{CreateRun, StrategySource};
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
/// What a run PUT sets: the strategy (by id, inline, or neither) and the update;
/// `uid`, `autoUpgradeProfileId`, `catchUpOf`, `hop` and `status` (read-only) are accepted
/// and ignored.
pub struct PutRunProperties {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    update_strategy_id: Option<String>,
    #[serde(default)]
    auto_upgrade_profile_id: Option<String>,
    #[serde(default)]
    catch_up_of: Option<String>,
    #[serde(default)]
    hop: Option<ReadOnlyObject>,
    #[serde(default)]
    strategy: Option<UpdateStrategy>,
    /// What each member is upgraded to; give this or `placementRollout`.
    #[serde(default)]
    managed_cluster_update: Option<ManagedClusterUpdate>,
    /// Roll an `External` placement's snapshots out through the stages instead of upgrading.
    #[serde(default)]
    placement_rollout: Option<PlacementRolloutRequest>,
    #[serde(default)]
    status: Option<ReadOnlyObject>,
}

fn names(fleet: &str, run: &str) -> Result<(FleetName, RunName), ApiError> {
    Ok((
        parse_name("InvalidFleetName", FleetName::parse(fleet))?,
        parse_name("InvalidUpdateRunName", RunName::parse(run))?,
    ))
}

/// A run as the API shows it: what was asked (frozen at creation) and where it is.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunProperties<'a> {
    /// Unique for all time: a run created again under the same name has another.
    uid: &'a str,
    /// The stored strategy the stages were copied from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    update_strategy_id: Option<&'a str>,
    /// The auto-upgrade profile that generated the run, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_upgrade_profile_id: Option<&'a str>,
    /// The run a catch-up run takes on from.
    #[serde(skip_serializing_if = "Option::is_none")]
    catch_up_of: Option<&'a str>,
    /// The pass of a chain the run is (`hops: PerStrategyPass`).
    #[serde(skip_serializing_if = "Option::is_none")]
    hop: Option<HopView>,
    /// The stages the run goes through (null: one member after another).
    strategy: Option<&'a UpdateStrategy>,
    /// What each member is upgraded to (absent on a placement run).
    #[serde(skip_serializing_if = "Option::is_none")]
    managed_cluster_update: Option<&'a ManagedClusterUpdate>,
    /// The placement and the snapshots a placement run rolls out.
    #[serde(skip_serializing_if = "Option::is_none")]
    placement_rollout: Option<&'a PlacementRollout>,
    status: RunStatus,
}

/// A pass of a chain, with the runs around it.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HopView {
    /// 1 for the first pass.
    number: u32,
    of: u32,
    /// Where the pass takes its members: the newest patch of this minor in each member's
    /// region (the last pass: the run's own `kubernetesVersion`).
    kubernetes_minor_version: String,
    first_update_run_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_update_run_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_update_run_id: Option<String>,
}

impl HopView {
    fn of(fleet: &FleetName, run: &app::model::run::UpdateRun) -> Option<Self> {
        let hop = run.hop.as_ref()?;
        let major = run
            .spec
            .update
            .upgrade
            .kubernetes_version
            .map_or(1, |v| v.major);
        let id = |number| {
            format!(
                "/fleets/{fleet}/updateRuns/{}",
                app::model::run::RunHop::run_name(&hop.first_run, number)
            )
        };
        Some(Self {
            number: hop.number,
            of: hop.of,
            kubernetes_minor_version: format!("{major}.{}", hop.minor),
            first_update_run_id: id(1),
            previous_update_run_id: (hop.number > 1).then(|| id(hop.number - 1)),
            next_update_run_id: hop.more_to_go().then(|| id(hop.number + 1)),
        })
    }
}

pub type Run<'a> = Resource<RunProperties<'a>>;

pub fn run<'a>(fleet: &FleetName, stored: &'a StoredRun) -> Run<'a> {
    let run = &stored.run;
    Resource::new(
        format!("/fleets/{fleet}/updateRuns/{}", run.name),
        run.name.as_str(),
        "Drydock/fleets/updateRuns",
        RunProperties {
            uid: &run.uid,
            update_strategy_id: run.update_strategy_id.as_deref(),
            auto_upgrade_profile_id: run.auto_upgrade_profile_id.as_deref(),
            catch_up_of: run.catch_up_of.as_deref(),
            hop: HopView::of(fleet, run),
            strategy: run.spec.strategy.as_ref(),
            managed_cluster_update: run.spec.placement.is_none().then_some(&run.spec.update),
            placement_rollout: run.spec.placement.as_ref(),
            status: run.status(),
        },
    )
    .etag(stored.etag)
}

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let runs = drydock.list_runs(&caller, &fleet).await?;
    Ok(typed(&List {
        value: runs.iter().map(|r| run(&fleet, r)).collect(),
    }))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<PutRunProperties>>,
) -> ApiResult {
    let (fleet, run) = names(&fleet, &run)?;
    let p = body.properties;
    let strategy = match (p.update_strategy_id, p.strategy) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "AmbiguousStrategy",
                "Give either updateStrategyId or strategy, not both.",
            )
            .into());
        }
        (Some(id), None) => StrategySource::Stored(id),
        (None, Some(strategy)) => StrategySource::Inline(strategy),
        (None, None) => StrategySource::OneByOne,
    };
    let (update, placement) = match (p.managed_cluster_update, p.placement_rollout) {
        (Some(update), None) => (update, None),
        (None, Some(placement)) => (ManagedClusterUpdate::of_placement_run(), Some(placement)),
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "AmbiguousUpdate",
                "Give either managedClusterUpdate or placementRollout, not both.",
            )
            .into());
        }
        (None, None) => {
            return Err(AppError::invalid(
                "MissingUpdate",
                "Give managedClusterUpdate (what to upgrade members to) or placementRollout (an External placement to roll out).",
            )
            .into());
        }
    };
    let request = CreateRun {
        strategy,
        update,
        placement,
    };
    let stored = drydock
        .create_run(&caller, &fleet, &run, request, &precondition)
        .await?;
    Ok(put_response(true, &self::run(&fleet, &stored)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, run) = names(&fleet, &run)?;
    let stored = drydock.get_run(&caller, &fleet, &run).await?;
    Ok(typed(&self::run(&fleet, &stored)))
}

pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
) -> ApiResult {
    let (fleet, run) = names(&fleet, &run)?;
    Ok(delete_response(
        drydock
            .delete_run(&caller, &fleet, &run, &precondition)
            .await?,
    ))
}

pub async fn plan(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    ArmJson(NoInput {}): ArmJson<NoInput>,
) -> ApiResult {
    let (fleet, run) = names(&fleet, &run)?;
    let plan = drydock.run_plan(&caller, &fleet, &run).await?;
    Ok(typed(&plan))
}

/// The members a run left behind, and why.
#[derive(Serialize, JsonSchema)]
pub struct LeftBehindList {
    value: Vec<app::engine::LeftBehind>,
}

pub async fn left_behind(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, run) = names(&fleet, &run)?;
    let value = drydock.left_behind(&caller, &fleet, &run).await?;
    Ok(typed(&LeftBehindList { value }))
}

/// `createCatchUpRun`'s body: the new run's name (`{run}-catch-up` when not given).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatchUpBody {
    #[serde(default)]
    name: Option<String>,
}

pub async fn create_catch_up(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    ArmJson(body): ArmJson<CatchUpBody>,
) -> ApiResult {
    let (fleet, run) = names(&fleet, &run)?;
    let name = body
        .name
        .map(|name| parse_name("InvalidUpdateRunName", RunName::parse(&name)))
        .transpose()?;
    let stored = drydock
        .create_catch_up_run(&caller, &fleet, &run, name)
        .await?;
    Ok(super::put_response(true, &self::run(&fleet, &stored)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipBody {
    targets: Vec<SkipTarget>,
}

/// The run after a command, with the engine's typed reply in a header (`AlreadyRunning`, …).
async fn command(
    drydock: &ApiState,
    caller: &Caller,
    fleet: &str,
    run: &str,
    command: Command,
) -> ApiResult {
    let (fleet, run) = names(fleet, run)?;
    let (reply, stored) = drydock.run_command(caller, &fleet, &run, command).await?;
    Ok(with_reply(typed(&self::run(&fleet, &stored)), &reply))
}

/// The engine's reply as one word in the `x-drydock-reply` header.
pub fn with_reply(
    mut response: axum::response::Response,
    reply: &app::engine::Reply,
) -> axum::response::Response {
    let word = format!("{reply:?}");
    let word = word
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned();
    if let Ok(value) = axum::http::HeaderValue::from_str(&word) {
        response.headers_mut().insert("x-drydock-reply", value);
    }
    response
}

pub async fn start(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    ArmJson(NoInput {}): ArmJson<NoInput>,
) -> ApiResult {
    command(&drydock, &caller, &fleet, &run, Command::Start).await
}

pub async fn stop(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    ArmJson(NoInput {}): ArmJson<NoInput>,
) -> ApiResult {
    command(&drydock, &caller, &fleet, &run, Command::Stop).await
}

pub async fn skip(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, run)): Path<(String, String)>,
    ArmJson(body): ArmJson<SkipBody>,
) -> ApiResult {
    command(&drydock, &caller, &fleet, &run, Command::Skip(body.targets)).await
}
