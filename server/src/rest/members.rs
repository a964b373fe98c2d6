use super::shapes::{ErrorBody, List, Resource};
use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, ReadOnlyObject, delete_response,
    parse_name, put_response, typed,
};
use crate::service::MemberView;
use app::model::cluster::ClusterState;
use app::model::member::{ClusterResourceId, Labels, MemberSpec};
use app::model::names::{FleetName, GroupName, MemberName};
use app::model::placement::Taint;
use axum::extract::{Path, RawQuery, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a member PUT may set; `status` and `provider` (read-only) are accepted and ignored.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct PutMemberProperties {
    cluster_resource_id: ClusterResourceId,
    #[serde(default)]
    group: Option<GroupName>,
    #[serde(default)]
    labels: Labels,
    /// Placements that do not tolerate these do not pick the member.
    #[serde(default)]
    taints: Vec<Taint>,
    #[serde(default)]
    status: Option<ReadOnlyObject>,
    /// Read-only: the provider answering for the cluster.
    #[serde(default)]
    provider: Option<Value>,
}

fn names(fleet: &str, member: &str) -> Result<(FleetName, MemberName), super::ApiError> {
    Ok((
        parse_name("InvalidFleetName", FleetName::parse(fleet))?,
        parse_name("InvalidMemberName", MemberName::parse(member))?,
    ))
}

/// What the provider observes; when it cannot, why, and what was last seen.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ClusterStatus {
    Observed(ClusterState),
    Unobservable {
        /// `ClusterUnobservable`, with the provider's reason.
        error: ErrorBody,
        #[serde(rename = "lastSeen", skip_serializing_if = "Option::is_none")]
        last_seen: Option<ClusterState>,
    },
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberProperties {
    cluster_resource_id: ClusterResourceId,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<GroupName>,
    labels: Labels,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    taints: Vec<Taint>,
    /// The provider answering for the cluster; null when none understands its id.
    provider: Option<String>,
    status: ClusterStatus,
}

pub type Member = Resource<MemberProperties>;

pub fn member(view: &MemberView) -> Member {
    let member = &view.member;
    let status = match &view.observed {
        Ok(state) => ClusterStatus::Observed(state.clone()),
        Err(error) => ClusterStatus::Unobservable {
            error: ErrorBody {
                code: "ClusterUnobservable".into(),
                message: error.to_string(),
            },
            last_seen: view.last_seen.clone(),
        },
    };
    Resource::new(
        format!("/fleets/{}/members/{}", member.fleet, member.name),
        member.name.as_str(),
        "Drydock/fleets/members",
        MemberProperties {
            cluster_resource_id: member.spec.cluster_resource_id.clone(),
            group: member.spec.group.clone(),
            labels: member.spec.labels.clone(),
            taints: member.spec.taints.clone(),
            provider: view.provider.clone(),
            status,
        },
    )
    .etag(member.etag)
}

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let views = drydock.list_members(&caller, &fleet).await?;
    Ok(typed(&List {
        value: views.iter().map(member).collect(),
    }))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, member)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<PutMemberProperties>>,
) -> ApiResult {
    let (fleet, member) = names(&fleet, &member)?;
    let p = body.properties;
    let spec = MemberSpec {
        cluster_resource_id: p.cluster_resource_id,
        group: p.group,
        labels: p.labels,
        taints: p.taints,
    };
    let (view, created) = drydock
        .put_member(&caller, &fleet, &member, spec, &precondition)
        .await?;
    Ok(put_response(created, &self::member(&view)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, member)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, member) = names(&fleet, &member)?;
    Ok(typed(&self::member(
        &drydock.get_member(&caller, &fleet, &member).await?,
    )))
}

/// `DELETE …/members/{member}[?force=true]`: a member a run is upgrading is removed only with
/// `force` (409 `MemberBeingUpgraded` naming the run otherwise).
pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, member)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let (fleet, member) = names(&fleet, &member)?;
    let mut force = false;
    super::flags_of(query.as_deref(), &mut [("force", &mut force)])?;
    Ok(delete_response(
        drydock
            .delete_member(&caller, &fleet, &member, force, &precondition)
            .await?,
    ))
}
