//! The REST API under `/api/v1`, shaped like the ARM resources users already script against:
//! `{"properties": …}` bodies, `{"value": […]}` lists, `{"error": {"code", "message"}}` errors.
//! PUT creates (201) or replaces (200); DELETE answers 200, or 204 when there was nothing.

mod access;
mod auto_upgrade;
mod edges;
mod events;
mod extract;
mod fleets;
mod gates;
mod members;
pub mod openapi;
mod overrides;
mod placements;
mod providers;
mod resources;
mod runs;
mod shapes;
mod sim_resources;
mod simulator;
mod strategies;
mod webhooks;

pub use edges::{NoInput, arm_errors};
pub use extract::{ApiError, ArmBody, ArmJson, AsCaller, IfMatch, ReadOnlyObject};

use crate::service::Drydock;
use app::model::error::{AppError, ErrorKind};
use app::model::overrides::ResourceOverride;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openapi::{Op, Route};
use serde_json::{Value, json};
use shapes::List;
use std::sync::Arc;

pub type ApiState = Arc<Drydock>;
pub type ApiResult = Result<Response, ApiError>;

/// Request bodies larger than this are refused with 413 before they are read. Room for a
/// resource's 1 MiB of objects given as indented YAML inside a JSON string.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Every API route: its path, each method's handler and what it does. The router and the
/// OpenAPI document are built from this list, and the access matrix test walks it, so a new
/// route cannot miss the document or the test.
pub fn routes() -> Vec<Route> {
    let mut all = fleet_routes();
    all.extend(resource_routes());
    all.extend(run_routes());
    all.extend(access_routes());
    all.extend(provider_routes());
    all
}

fn fleet_routes() -> Vec<Route> {
    vec![
        Route::at("/fleets").get(
            fleets::index,
            Op::new("listFleets", "Lists the fleets the caller may see.")
                .ok::<List<fleets::Fleet>>(),
        ),
        Route::at("/fleets/{fleet}")
            .put(
                fleets::put,
                Op::new("putFleet", "Creates a fleet (or leaves one as it is).")
                    .body::<fleets::PutFleet>()
                    .put::<fleets::Fleet>(),
            )
            .get(
                fleets::get,
                Op::new("getFleet", "Reads a fleet.").ok::<fleets::Fleet>(),
            )
            .delete(
                fleets::delete,
                Op::new(
                    "deleteFleet",
                    "Deletes a fleet with its members, runs, strategies, resources and placements, removing placed objects from clusters first (refused while a run upgrades).",
                )
                .deletes(),
            ),
        Route::at("/fleets/{fleet}/members").get(
            members::index,
            Op::new(
                "listMembers",
                "Lists a fleet's members with what their clusters run.",
            )
            .ok::<List<members::Member>>(),
        ),
        Route::at("/fleets/{fleet}/members/{member}")
            .put(
                members::put,
                Op::new(
                    "putMember",
                    "Joins a cluster to the fleet, or changes a member's group and labels.",
                )
                .body::<ArmBody<members::PutMemberProperties>>()
                .put::<members::Member>(),
            )
            .get(
                members::get,
                Op::new("getMember", "Reads a member and what its cluster runs.")
                    .ok::<members::Member>(),
            )
            .delete(
                members::delete,
                Op::new(
                    "deleteMember",
                    "Removes a member, and the objects placements gave its cluster (a member being upgraded, or whose cluster cannot answer, only with force=true).",
                )
                .query("force", "true: remove it even while a run upgrades it.")
                .preconditions()
                .deletes(),
            ),
        Route::at("/fleets/{fleet}/updateStrategies").get(
            strategies::index,
            Op::new("listUpdateStrategies", "Lists a fleet's stored strategies.")
                .ok::<List<strategies::Strategy>>(),
        ),
        Route::at("/fleets/{fleet}/updateStrategies/{name}")
            .put(
                strategies::put,
                Op::new("putUpdateStrategy", "Stores a strategy: stages, groups, waits, gates.")
                    .body::<ArmBody<strategies::PutStrategyProperties>>()
                    .put::<strategies::Strategy>(),
            )
            .get(
                strategies::get,
                Op::new("getUpdateStrategy", "Reads a stored strategy.")
                    .ok::<strategies::Strategy>(),
            )
            .delete(
                strategies::delete,
                Op::new(
                    "deleteUpdateStrategy",
                    "Deletes a stored strategy (runs keep their copies).",
                )
                .preconditions()
                .deletes(),
            ),
        Route::at("/fleets/{fleet}/autoUpgradeProfiles").get(
            auto_upgrade::index,
            Op::new("listAutoUpgradeProfiles", "Lists a fleet's auto-upgrade profiles.")
                .ok::<List<auto_upgrade::Profile>>(),
        ),
        Route::at("/fleets/{fleet}/autoUpgradeProfiles/{name}")
            .put(
                auto_upgrade::put,
                Op::new(
                    "putAutoUpgradeProfile",
                    "Stores an auto-upgrade profile: the channel a fleet follows and the strategy its generated runs go through.",
                )
                .body::<ArmBody<auto_upgrade::PutProfileProperties>>()
                .put::<auto_upgrade::Profile>(),
            )
            .get(
                auto_upgrade::get,
                Op::new(
                    "getAutoUpgradeProfile",
                    "Reads a profile and what its last trigger did.",
                )
                .ok::<auto_upgrade::Profile>(),
            )
            .delete(
                auto_upgrade::delete,
                Op::new(
                    "deleteAutoUpgradeProfile",
                    "Deletes a profile (the runs it generated stay).",
                )
                .preconditions()
                .deletes(),
            ),
        Route::at("/fleets/{fleet}/autoUpgradeProfiles/{name}/generateUpdateRun").post(
            auto_upgrade::generate,
            Op::new(
                "generateUpdateRun",
                "Generates the update run for what the profile's channel offers now (or answers with the one generated for it before); not started unless the profile says autoStart.",
            )
            .body::<NoInput>()
            .ok::<auto_upgrade::Generated>(),
        ),
    ]
}

fn resource_routes() -> Vec<Route> {
    vec![
        Route::at("/fleets/{fleet}/resources").get(
            resources::index,
            Op::new(
                "listResources",
                "Lists a fleet's resources: bundles of Kubernetes objects to place on members.",
            )
            .ok::<List<resources::ResourceBundle>>(),
        ),
        Route::at("/fleets/{fleet}/resources/{name}")
            .put(
                resources::put,
                Op::new(
                    "putResource",
                    "Stores Kubernetes objects (JSON manifests or multi-document YAML) as the resource's next snapshot; the same objects again make none.",
                )
                .body::<ArmBody<resources::PutResourceProperties>>()
                .put::<resources::ResourceBundle>(),
            )
            .get(
                resources::get,
                Op::new(
                    "getResource",
                    "Reads a resource: its newest snapshot's objects.",
                )
                .ok::<resources::ResourceBundle>(),
            )
            .delete(
                resources::delete,
                Op::new("deleteResource", "Deletes a resource with its snapshots.")
                    .preconditions()
                    .deletes(),
            ),
        Route::at("/fleets/{fleet}/placements").get(
            placements::index,
            Op::new(
                "listPlacements",
                "Lists a fleet's placements with each member's state.",
            )
            .ok::<List<placements::PlacementResource>>(),
        ),
        Route::at("/fleets/{fleet}/placements/{name}")
            .put(
                placements::put,
                Op::new(
                    "putPlacement",
                    "Stores a placement: which resources go to which members (PickAll, PickN or PickFixed, with affinity, spread and tolerations), rolled out how.",
                )
                .body::<ArmBody<placements::PutPlacementProperties>>()
                .put::<placements::PlacementResource>(),
            )
            .get(
                placements::get,
                Op::new(
                    "getPlacement",
                    "Reads a placement with each member's state and why: picked or not, applied, available, failed.",
                )
                .ok::<placements::PlacementResource>(),
            )
            .delete(
                placements::delete,
                Op::new("deletePlacement", "Deletes a placement.")
                    .preconditions()
                    .deletes(),
            ),
        Route::at("/fleets/{fleet}/resourceOverrides").get(
            overrides::index,
            Op::new(
                "listResourceOverrides",
                "Lists a fleet's resource overrides.",
            )
            .ok::<List<overrides::OverrideResource>>(),
        ),
        Route::at("/fleets/{fleet}/resourceOverrides/{name}")
            .put(
                overrides::put,
                Op::new(
                    "putResourceOverride",
                    "Stores a resource override: JSON patches (or Delete) of a placement's objects for the members its rules pick.",
                )
                .body::<ArmBody<ResourceOverride>>()
                .put::<overrides::OverrideResource>(),
            )
            .get(
                overrides::get,
                Op::new("getResourceOverride", "Reads a resource override.")
                    .ok::<overrides::OverrideResource>(),
            )
            .delete(
                overrides::delete,
                Op::new("deleteResourceOverride", "Deletes a resource override.")
                    .preconditions()
                    .deletes(),
            ),
        Route::at("/fleets/{fleet}/resources/{name}/snapshots").get(
            resources::snapshots,
            Op::new(
                "listResourceSnapshots",
                "The resource's kept snapshots (the newest ten), newest first, without their objects.",
            )
            .ok::<List<resources::SnapshotSummary>>(),
        ),
        Route::at("/fleets/{fleet}/resources/{name}/snapshots/{index}").get(
            resources::snapshot,
            Op::new(
                "getResourceSnapshot",
                "Reads one snapshot with its objects.",
            )
            .ok::<resources::Snapshot>(),
        ),
    ]
}

fn run_routes() -> Vec<Route> {
    let command = |id, summary| Op::new(id, summary).body::<NoInput>().ok::<runs::Run>();
    vec![
        Route::at("/fleets/{fleet}/updateRuns").get(
            runs::index,
            Op::new("listUpdateRuns", "Lists a fleet's update runs.").ok::<List<runs::Run>>(),
        ),
        Route::at("/fleets/{fleet}/updateRuns/{run}")
            .put(
                runs::put,
                Op::new(
                    "createUpdateRun",
                    "Creates an update run (not started): its stages are frozen from the strategy given, stored or inline, or one member after another.",
                )
                .body::<ArmBody<runs::PutRunProperties>>()
                .answers::<runs::Run>(201, "Created")
                .preconditions(),
            )
            .get(
                runs::get,
                Op::new(
                    "getUpdateRun",
                    "Reads a run: what was asked and where every stage, group and member is.",
                )
                .ok::<runs::Run>(),
            )
            .delete(
                runs::delete,
                Op::new("deleteUpdateRun", "Deletes a run that is not running.")
                    .preconditions()
                    .deletes(),
            ),
        Route::at("/fleets/{fleet}/updateRuns/{run}/plan")
            .get(
                runs::plan,
                Op::new(
                    "getUpdateRunPlan",
                    "What the run would do from here: order, targets, reasons and an ETA.",
                )
                .ok::<app::engine::Plan>(),
            )
            .post(
                runs::plan,
                Op::new("planUpdateRun", "The same plan, for clients that POST.")
                    .body::<NoInput>()
                    .ok::<app::engine::Plan>(),
            ),
        Route::at("/fleets/{fleet}/updateRuns/{run}/leftBehind").get(
            runs::left_behind,
            Op::new(
                "listLeftBehind",
                "The members the run left behind (pending, skipped by a person, failed, or not reached once it ended), with why.",
            )
            .ok::<runs::LeftBehindList>(),
        ),
        Route::at("/fleets/{fleet}/updateRuns/{run}/createCatchUpRun").post(
            runs::create_catch_up,
            Op::new(
                "createCatchUpRun",
                "Creates a run (not started) of exactly the members a finished run left behind, to its targets (a Consistent run's images, named), through its stages that hold them.",
            )
            .body::<runs::CatchUpBody>()
            .answers::<runs::Run>(201, "Created"),
        ),
        Route::at("/fleets/{fleet}/updateRuns/{run}/events").get(
            events::stream,
            Op::new(
                "followUpdateRunEvents",
                "The run's timeline as Server-Sent Events (event `state`), from the start or after an id, then live.",
            )
            .query("after", "Only events after this id (Last-Event-ID is honoured too).")
            .events(),
        ),
        Route::at("/fleets/{fleet}/updateRuns/{run}/timeline").get(
            events::timeline,
            Op::new("getUpdateRunTimeline", "One page of the run's timeline.")
                .query("after", "Only events after this id (a page's nextAfter).")
                .query("limit", "At most this many events (1–10000, 1000 by default).")
                .ok::<events::Timeline>(),
        ),
        Route::at("/fleets/{fleet}/updateRuns/{run}/start").post(
            runs::start,
            command("startUpdateRun", "Starts a run, or resumes a stopped one (retrying failed members)."),
        ),
        Route::at("/fleets/{fleet}/updateRuns/{run}/stop").post(
            runs::stop,
            command("stopUpdateRun", "Stops a run: nothing more starts; upgrades in flight finish."),
        ),
        Route::at("/fleets/{fleet}/updateRuns/{run}/skip").post(
            runs::skip,
            Op::new("skipInUpdateRun", "Skips stages, groups, members or gates of a run.")
                .body::<runs::SkipBody>()
                .ok::<runs::Run>(),
        ),
        Route::at("/fleets/{fleet}/gates").get(
            gates::index,
            Op::new("listGates", "Lists the gates of a fleet's runs.")
                .query("state", "Pending, Completed or Skipped.")
                .query("gateType", "Approval or ScheduledStart.")
                .query("updateRun", "Only this run's gates.")
                .ok::<List<app::model::gate::GateResource>>(),
        ),
        Route::at("/fleets/{fleet}/gates/{gate}")
            .get(
                gates::get,
                Op::new("getGate", "Reads a gate.").ok::<app::model::gate::GateResource>(),
            )
            .patch(
                gates::patch,
                Op::new("approveGate", "Approves a gate: state Completed.")
                    .body::<ArmBody<gates::PatchGateProperties>>()
                    .preconditions()
                    .ok::<app::model::gate::GateResource>(),
            ),
    ]
}

fn access_routes() -> Vec<Route> {
    vec![
        Route::at("/webhooks").get(
            webhooks::index,
            Op::new("listWebhooks", "Lists the webhooks.").ok::<List<webhooks::Webhook>>(),
        ),
        Route::at("/webhooks/{name}")
            .put(
                webhooks::put,
                Op::new(
                    "putWebhook",
                    "Sends run, stage, group, member and gate transitions to a URL as CloudEvents.",
                )
                .body::<ArmBody<webhooks::PutWebhookProperties>>()
                .put::<webhooks::Webhook>(),
            )
            .get(
                webhooks::get,
                Op::new("getWebhook", "Reads a webhook (never its secret).")
                    .ok::<webhooks::Webhook>(),
            )
            .delete(
                webhooks::delete,
                Op::new("deleteWebhook", "Deletes a webhook.")
                    .preconditions()
                    .deletes(),
            ),
        Route::at("/webhooks/{name}/deliveries").get(
            webhooks::deliveries,
            Op::new(
                "listWebhookDeliveries",
                "What was sent to a webhook and how it went, newest first.",
            )
            .query("limit", "At most this many (1–1000, 100 by default).")
            .ok::<List<webhooks::DeliveryView>>(),
        ),
        Route::at("/tokens")
            .get(
                access::list_tokens,
                Op::new(
                    "listTokens",
                    "Lists the caller's API tokens (all of them for a global admin).",
                )
                .ok::<List<access::Token>>(),
            )
            .post(
                access::create_token,
                Op::new(
                    "createToken",
                    "Creates an API token; its secret is in this answer only.",
                )
                .body::<ArmBody<access::TokenProperties>>()
                .answers::<access::Token>(201, "Created"),
            ),
        Route::at("/tokens/{id}").delete(
            access::revoke_token,
            Op::new(
                "revokeToken",
                "Revokes an API token (204: it was revoked already).",
            )
            .deletes(),
        ),
        Route::at("/users").get(
            access::list_users,
            Op::new("listUsers", "Lists the users and their roles.").ok::<List<access::User>>(),
        ),
        Route::at("/users/{name}")
            .put(
                access::put_user,
                Op::new(
                    "putUser",
                    "Creates a user or changes their password and roles.",
                )
                .body::<ArmBody<access::UserProperties>>()
                .put::<access::User>(),
            )
            .get(
                access::get_user,
                Op::new("getUser", "Reads a user.").ok::<access::User>(),
            )
            .delete(
                access::delete_user,
                Op::new("deleteUser", "Deletes a user and revokes their tokens.")
                    .preconditions()
                    .deletes(),
            ),
        Route::at("/me").get(
            access::me,
            Op::new(
                "getMe",
                "Who the request's credential belongs to, with its roles.",
            )
            .ok::<access::Me>(),
        ),
        Route::at("/audit").get(
            access::audit,
            Op::new("listAuditEntries", "Who changed what, newest first.")
                .query("actor", "Only this user's changes.")
                .query("fleet", "Only changes to this fleet.")
                .query("run", "Only changes to runs of this name.")
                .query(
                    "before",
                    "Only entries before this id (a page's nextBefore).",
                )
                .query("limit", "At most this many entries.")
                .ok::<app::model::audit::AuditPage>(),
        ),
    ]
}

fn provider_routes() -> Vec<Route> {
    vec![
        Route::at("/providers").get(
            providers::index,
            Op::new(
                "listProviders",
                "The providers that change clusters, with their health.",
            )
            .ok::<List<providers::ProviderResource>>(),
        ),
        Route::at("/providers/{name}").get(
            providers::get,
            Op::new("getProvider", "Reads a provider.").ok::<providers::ProviderResource>(),
        ),
        Route::at("/simulator/catalog")
            .get(
                simulator::get_catalog,
                Op::new(
                    "getSimulatorCatalog",
                    "The simulated releases: Kubernetes versions and node images per region.",
                )
                .ok::<app::model::catalog::Catalog>(),
            )
            .put(
                simulator::put_catalog,
                Op::new(
                    "putSimulatorCatalog",
                    "Replaces the simulated releases (refused if a run's target would go).",
                )
                .body::<app::model::catalog::Catalog>()
                .ok::<app::model::catalog::Catalog>(),
            ),
        Route::at("/simulator/clusters").get(
            simulator::list_clusters,
            Op::new("listSimulatorClusters", "The simulated clusters.")
                .ok::<List<simulator::SimClusterView>>(),
        ),
        Route::at("/simulator/operations").get(
            simulator::list_operations,
            Op::new(
                "listSimulatorOperations",
                "Every upgrade the simulator was asked to start, oldest first.",
            )
            .ok::<List<simulator::SimOperationView>>(),
        ),
        Route::at("/simulator/clusters/{name}")
            .put(
                simulator::put_cluster,
                Op::new(
                    "putSimulatorCluster",
                    "Creates or replaces a simulated cluster, with injected faults.",
                )
                .body::<simulator::PutCluster>()
                .answers::<simulator::SimClusterView>(201, "Created")
                .answers::<simulator::SimClusterView>(200, "Replaced"),
            )
            .get(
                simulator::get_cluster,
                Op::new("getSimulatorCluster", "Reads a simulated cluster.")
                    .ok::<simulator::SimClusterView>(),
            )
            .delete(
                simulator::delete_cluster,
                Op::new(
                    "deleteSimulatorCluster",
                    "Deletes a simulated cluster (one a member points at only with force=true).",
                )
                .query("force", "true: delete it even while a member points at it.")
                .deletes(),
            ),
        Route::at("/simulator/clusters/{name}/resources").get(
            sim_resources::held,
            Op::new(
                "listSimulatorClusterResources",
                "What a simulated cluster holds of placed objects, by owner, with how many times a new revision was applied.",
            )
            .ok::<List<sim_resources::HeldView>>(),
        ),
        Route::at("/simulator/clusters/{name}/drift").post(
            sim_resources::drift,
            Op::new(
                "driftSimulatorClusterResources",
                "Changes placed objects on a simulated cluster by hand: the cluster reports them drifted until a new revision is applied (an empty list mends it).",
            )
            .body::<sim_resources::DriftRequest>()
            .ok::<sim_resources::HeldView>(),
        ),
        Route::at("/simulator/clusters/{name}/resourceFaults")
            .get(
                sim_resources::get_faults,
                Op::new(
                    "getSimulatorResourceFaults",
                    "How a simulated cluster's API server treats applied objects.",
                )
                .ok::<crate::store::SimResourceFaults>(),
            )
            .put(
                sim_resources::put_faults,
                Op::new(
                    "putSimulatorResourceFaults",
                    "Injects faults into applies to a simulated cluster: the next refused (applyFailNext), objects ready only after readyAfterSeconds.",
                )
                .body::<crate::store::SimResourceFaults>()
                .ok::<crate::store::SimResourceFaults>(),
            ),
        Route::at("/openapi.json").get(
            openapi::json,
            Op::new("getOpenApiDocument", "This document.").ok::<serde_json::Value>(),
        ),
    ]
}

/// The API routes, ready to nest into a router of any state.
pub fn router<S: Clone + Send + Sync + 'static>(drydock: Arc<Drydock>) -> Router<S> {
    routes()
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(route.path, route.methods)
        })
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(edges::arm_errors))
        .with_state(drydock)
}

async fn no_route() -> ApiError {
    AppError::not_found("NoSuchRoute", "There is no such API route.").into()
}

async fn method_not_allowed() -> ApiError {
    AppError::new(
        ErrorKind::MethodNotAllowed,
        "MethodNotAllowed",
        "This route does not take that HTTP method.",
    )
    .into()
}

/// 201 for a created resource, 200 for a replaced one.
pub fn put_response(created: bool, body: &impl serde::Serialize) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, axum::Json(body)).into_response()
}

/// 200 with `body`, one of the types the OpenAPI document names.
pub fn typed(body: &impl serde::Serialize) -> Response {
    axum::Json(body).into_response()
}

/// 200 when something was deleted, 204 when there was nothing to delete (ARM semantics).
pub fn delete_response(deleted: bool) -> Response {
    if deleted {
        StatusCode::OK.into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

pub fn ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

pub fn list(values: Vec<Value>) -> Response {
    ok(json!({ "value": values }))
}

/// Parses a path segment into a name type, or a 400 naming what was wrong.
pub fn parse_name<T>(code: &str, parsed: Result<T, String>) -> Result<T, ApiError> {
    parsed.map_err(|message| AppError::invalid(code, message).into())
}

/// The query's `name=value` pairs, each name one of `known`; an unknown name is an ARM error
/// that lists the known ones. Values are left to the caller.
pub fn query_pairs<'q>(
    query: Option<&'q str>,
    known: &[&str],
) -> Result<Vec<(&'q str, &'q str)>, ApiError> {
    let mut pairs = Vec::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !known.contains(&key) {
            return Err(AppError::invalid(
                "InvalidQueryParameter",
                format!(
                    "Unknown query parameter {key:?}; this takes {}.",
                    known.join(" and ")
                ),
            )
            .into());
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Boolean query parameters (`true` or `false`), each known by name; an unknown name or another
/// value is an ARM error naming it. Absent ones are left as they were.
pub fn flags_of(query: Option<&str>, known: &mut [(&str, &mut bool)]) -> Result<(), ApiError> {
    let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
    for (key, value) in query_pairs(query, &names)? {
        let Some((_, slot)) = known.iter_mut().find(|(name, _)| *name == key) else {
            continue;
        };
        **slot = match value {
            "true" => true,
            "false" => false,
            other => {
                return Err(AppError::invalid(
                    "InvalidQueryParameter",
                    format!("{key} must be true or false, not {other:?}."),
                )
                .into());
            }
        };
    }
    Ok(())
}
