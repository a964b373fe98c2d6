use super::{
    ApiResult, ApiState, ArmBody, ArmJson, IfMatch, ReadOnlyObject, delete_response, list, ok,
    parse_name, put_response,
};
use crate::provider::ProviderError;
use crate::service::MemberView;
use app::model::member::{ClusterResourceId, Labels, MemberSpec};
use app::model::names::{FleetName, GroupName, MemberName};
use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};

/// What a member PUT may set; `status` (read-only) is accepted and ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct PutMemberProperties {
    cluster_resource_id: ClusterResourceId,
    #[serde(default)]
    group: Option<GroupName>,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    status: Option<ReadOnlyObject>,
}

fn names(fleet: &str, member: &str) -> Result<(FleetName, MemberName), super::ApiError> {
    Ok((
        parse_name("InvalidFleetName", FleetName::parse(fleet))?,
        parse_name("InvalidMemberName", MemberName::parse(member))?,
    ))
}

fn status_json(observed: &Result<app::model::cluster::ClusterState, ProviderError>) -> Value {
    match observed {
        Ok(state) => serde_json::to_value(state).unwrap_or(Value::Null),
        Err(error) => {
            json!({ "error": { "code": "ClusterUnobservable", "message": error.to_string() } })
        }
    }
}

pub fn member_json(view: &MemberView) -> Value {
    let member = &view.member;
    let mut properties = json!({
        "clusterResourceId": member.spec.cluster_resource_id,
        "labels": member.spec.labels,
        "status": status_json(&view.observed),
    });
    if let Some(group) = &member.spec.group {
        properties["group"] = json!(group);
    }
    json!({
        "id": format!("/fleets/{}/members/{}", member.fleet, member.name),
        "name": member.name,
        "type": "Drydock/fleets/members",
        "etag": member.etag.to_string(),
        "properties": properties,
    })
}

pub async fn index(State(drydock): State<ApiState>, Path(fleet): Path<String>) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let views = drydock.list_members(&fleet).await?;
    Ok(list(views.iter().map(member_json).collect()))
}

pub async fn put(
    State(drydock): State<ApiState>,
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
    };
    let (view, created) = drydock
        .put_member(&fleet, &member, spec, &precondition)
        .await?;
    Ok(put_response(created, member_json(&view)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    Path((fleet, member)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, member) = names(&fleet, &member)?;
    Ok(ok(member_json(&drydock.get_member(&fleet, &member).await?)))
}

/// `DELETE …/members/{member}[?force=true]`: a member a run is upgrading is removed only with
/// `force` (409 `MemberBeingUpgraded` naming the run otherwise).
pub async fn delete(
    State(drydock): State<ApiState>,
    Path((fleet, member)): Path<(String, String)>,
    IfMatch(precondition): IfMatch,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let (fleet, member) = names(&fleet, &member)?;
    let mut force = false;
    super::flags_of(query.as_deref(), &mut [("force", &mut force)])?;
    Ok(delete_response(
        drydock
            .delete_member(&fleet, &member, force, &precondition)
            .await?,
    ))
}
