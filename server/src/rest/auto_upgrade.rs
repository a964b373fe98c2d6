//! `/fleets/{fleet}/autoUpgradeProfiles`: Azure Fleet Manager's auto-upgrade profiles, their
//! `autoUpgradeProfileStatus`, and `generateUpdateRun`.

use super::shapes::{List, Resource};
use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, ReadOnlyObject, delete_response,
    parse_name, put_response, typed,
};
use crate::store::StoredProfile;
use app::model::auto_upgrade::{AutoUpgradeProfile, AutoUpgradeProfileStatus};
use app::model::names::{AutoUpgradeProfileName, FleetName};
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a PUT sets, for the OpenAPI document: the profile; `autoUpgradeProfileStatus`
/// (read-only) is accepted and ignored, so a GET can be sent back. (`profile_of` reads it.)
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct PutProfileProperties {
    #[serde(flatten)]
    profile: AutoUpgradeProfile,
    #[serde(default)]
    auto_upgrade_profile_status: Option<ReadOnlyObject>,
}

/// `deny_unknown_fields` does not work through `flatten`: the status is taken out first.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithStatus {
    #[allow(dead_code)]
    auto_upgrade_profile_status: Option<ReadOnlyObject>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// Reads a PUT's properties: the profile's fields and nothing else but its status.
fn profile_of(properties: serde_json::Value) -> Result<AutoUpgradeProfile, super::ApiError> {
    let bad = |e: serde_json::Error| {
        super::ApiError::from(app::model::error::AppError::invalid(
            "InvalidAutoUpgradeProfile",
            format!("properties: {e}"),
        ))
    };
    let WithStatus { rest, .. } = serde_json::from_value(properties).map_err(bad)?;
    serde_json::from_value(serde_json::Value::Object(rest)).map_err(bad)
}

fn names(fleet: &str, name: &str) -> Result<(FleetName, AutoUpgradeProfileName), super::ApiError> {
    Ok((
        parse_name("InvalidFleetName", FleetName::parse(fleet))?,
        parse_name(
            "InvalidAutoUpgradeProfileName",
            AutoUpgradeProfileName::parse(name),
        )?,
    ))
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileProperties<'a> {
    #[serde(flatten)]
    profile: &'a AutoUpgradeProfile,
    /// What the last trigger did.
    auto_upgrade_profile_status: &'a AutoUpgradeProfileStatus,
}

pub type Profile<'a> = Resource<ProfileProperties<'a>>;

pub fn profile<'a>(fleet: &FleetName, stored: &'a StoredProfile) -> Profile<'a> {
    Resource::new(
        crate::service::profile_id(fleet, &stored.name),
        stored.name.as_str(),
        "Drydock/fleets/autoUpgradeProfiles",
        ProfileProperties {
            profile: &stored.profile,
            auto_upgrade_profile_status: &stored.status,
        },
    )
    .etag(stored.etag)
}

/// `generateUpdateRun`'s answer, as Azure's: the run's id.
#[derive(Serialize, JsonSchema)]
pub struct Generated {
    /// `/fleets/{fleet}/updateRuns/{name}`.
    id: String,
}

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let profiles = drydock.list_auto_upgrade_profiles(&caller, &fleet).await?;
    Ok(typed(&List {
        value: profiles.iter().map(|p| profile(&fleet, p)).collect(),
    }))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<serde_json::Value>>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let wanted = profile_of(body.properties)?;
    let (stored, created) = drydock
        .put_auto_upgrade_profile(&caller, &fleet, &name, wanted, &precondition)
        .await?;
    Ok(put_response(created, &profile(&fleet, &stored)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let stored = drydock
        .get_auto_upgrade_profile(&caller, &fleet, &name)
        .await?;
    Ok(typed(&profile(&fleet, &stored)))
}

pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let deleted = drydock
        .delete_auto_upgrade_profile(&caller, &fleet, &name, &precondition)
        .await?;
    Ok(delete_response(deleted))
}

pub async fn generate(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, name)): Path<(String, String)>,
    ArmJson(super::NoInput {}): ArmJson<super::NoInput>,
) -> ApiResult {
    let (fleet, name) = names(&fleet, &name)?;
    let run = drydock.generate_update_run(&caller, &fleet, &name).await?;
    Ok(typed(&Generated {
        id: format!("/fleets/{fleet}/updateRuns/{run}"),
    }))
}
