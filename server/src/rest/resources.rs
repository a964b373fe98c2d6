//! `/fleets/{fleet}/resources`: bundles of Kubernetes objects to place on members, given as JSON
//! (`manifests`) or YAML (`yaml`), and their immutable, numbered snapshots.

use super::shapes::{List, Resource};
use super::{
    ApiError, ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, ReadOnlyObject,
    delete_response, parse_name, put_response, typed,
};
use crate::service::{BundleInput, read_bundle, snapshot_info};
use crate::store::{ResourceWrite, StoredResource, StoredSnapshot};
use app::model::error::AppError;
use app::model::names::{FleetName, ResourceName};
use app::model::resources::SnapshotInfo;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a PUT sets: the objects, as JSON or as YAML (one of the two). `latestSnapshot`
/// (read-only) is accepted and ignored, so a GET can be sent back.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutResourceProperties {
    /// The Kubernetes objects, each with apiVersion, kind and metadata.name (at most 500, 1 MiB
    /// as JSON).
    #[serde(default)]
    manifests: Option<Vec<Value>>,
    /// The objects as multi-document YAML, as `kubectl apply -f` reads it.
    #[serde(default)]
    yaml: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    latest_snapshot: Option<ReadOnlyObject>,
}

impl PutResourceProperties {
    fn input(self) -> Result<BundleInput, AppError> {
        match (self.manifests, self.yaml) {
            (Some(manifests), None) => Ok(BundleInput::Manifests(manifests)),
            (None, Some(yaml)) => Ok(BundleInput::Yaml(yaml)),
            (Some(_), Some(_)) => Err(AppError::invalid(
                "InvalidManifest",
                "properties: give the objects as manifests or as yaml, not both",
            )),
            (None, None) => Err(AppError::invalid(
                "InvalidManifest",
                "properties: give the objects as manifests (a list of Kubernetes objects) or as yaml (multi-document YAML)",
            )),
        }
    }
}

fn names(fleet: &str, name: &str) -> Result<(FleetName, ResourceName), ApiError> {
    Ok((
        parse_name("InvalidFleetName", FleetName::parse(fleet))?,
        parse_name("InvalidResourceName", ResourceName::parse(name))?,
    ))
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceProperties<'a> {
    /// The objects of the newest snapshot, as stored (keys sorted).
    manifests: &'a [Value],
    /// The newest snapshot: its index is the resource's etag.
    latest_snapshot: SnapshotInfo,
}

pub type ResourceBundle<'a> = Resource<ResourceProperties<'a>>;

fn resource<'a>(fleet: &FleetName, stored: &'a StoredResource) -> ResourceBundle<'a> {
    Resource::new(
        format!("/fleets/{fleet}/resources/{}", stored.name),
        stored.name.as_str(),
        "Drydock/fleets/resources",
        ResourceProperties {
            manifests: &stored.latest.manifests,
            latest_snapshot: snapshot_info(&stored.latest),
        },
    )
    .etag(stored.latest.index)
}

/// A snapshot with its objects (one snapshot's GET).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotProperties<'a> {
    #[serde(flatten)]
    info: SnapshotInfo,
    manifests: &'a [Value],
}

pub type Snapshot<'a> = Resource<SnapshotProperties<'a>>;
/// A snapshot as a list shows it: what it holds, without the objects themselves.
pub type SnapshotSummary = Resource<SnapshotInfo>;

const SNAPSHOT_TYPE: &str = "Drydock/fleets/resources/snapshots";

fn snapshot_id(fleet: &FleetName, name: &ResourceName, snapshot: &StoredSnapshot) -> String {
    format!(
        "/fleets/{fleet}/resources/{name}/snapshots/{}",
        snapshot.index
    )
}

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let stored = drydock.list_resources(&caller, &fleet).await?;
    Ok(typed(&List {
        value: stored.iter().map(|r| resource(&fleet, r)).collect(),
    }))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<PutResourceProperties>>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let manifests = read_bundle(body.properties.input()?)?;
    let (stored, write) = drydock
        .put_resource(&caller, &fleet, &name, &manifests, &precondition)
        .await?;
    Ok(put_response(
        write == ResourceWrite::Created,
        &resource(&fleet, &stored),
    ))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let stored = drydock.get_resource(&caller, &fleet, &name).await?;
    Ok(typed(&resource(&fleet, &stored)))
}

pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let deleted = drydock
        .delete_resource(&caller, &fleet, &name, &precondition)
        .await?;
    Ok(delete_response(deleted))
}

pub async fn snapshots(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let stored = drydock
        .list_resource_snapshots(&caller, &fleet, &name)
        .await?;
    let value: Vec<SnapshotSummary> = stored
        .iter()
        .map(|s| {
            Resource::new(
                snapshot_id(&fleet, &name, s),
                s.index.to_string(),
                SNAPSHOT_TYPE,
                snapshot_info(s),
            )
        })
        .collect();
    Ok(typed(&List { value }))
}

pub async fn snapshot(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name, index)): Path<(String, String, String)>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let index = index
        .parse::<i64>()
        .ok()
        .filter(|i| *i >= 1)
        .ok_or_else(|| {
            AppError::invalid(
                "InvalidSnapshotIndex",
                format!("'{index}' is not a snapshot index: snapshots are numbered 1, 2, 3, …"),
            )
        })?;
    let stored = drydock
        .get_resource_snapshot(&caller, &fleet, &name, index)
        .await?;
    Ok(typed(&Resource::new(
        snapshot_id(&fleet, &name, &stored),
        stored.index.to_string(),
        SNAPSHOT_TYPE,
        SnapshotProperties {
            info: snapshot_info(&stored),
            manifests: &stored.manifests,
        },
    )))
}
