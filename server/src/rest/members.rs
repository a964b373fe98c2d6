use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, ReadOnlyObject, delete_response,
    list, ok, parse_name, put_response,
};
use crate::service::MemberView;
use app::model::member::{ClusterResourceId, Labels, MemberSpec};
use app::model::names::{FleetName, GroupName, MemberName};
use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};

/// What a member PUT may set; `status` and `provider` (read-only) are accepted and ignored.
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
fn status_json(view: &MemberView) -> Value {
    match &view.observed {
        Ok(state) => serde_json::to_value(state).unwrap_or(Value::Null),
        Err(error) => {
            let mut status =
                json!({ "error": { "code": "ClusterUnobservable", "message": error.to_string() } });
            if let Some(seen) = &view.last_seen {
                status["lastSeen"] = serde_json::to_value(seen).unwrap_or(Value::Null);
            }
            status
        }
    }
}

pub fn member_json(view: &MemberView) -> Value {
    let member = &view.member;
    let mut properties = json!({
        "clusterResourceId": member.spec.cluster_resource_id,
        "labels": member.spec.labels,
        "provider": view.provider,
        "status": status_json(view),
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

pub async fn index(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(fleet): Path<String>,
) -> ApiResult {
    let fleet = parse_name("InvalidFleetName", FleetName::parse(&fleet))?;
    let views = drydock.list_members(&caller, &fleet).await?;
    Ok(list(views.iter().map(member_json).collect()))
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
    };
    let (view, created) = drydock
        .put_member(&caller, &fleet, &member, spec, &precondition)
        .await?;
    Ok(put_response(created, member_json(&view)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path((fleet, member)): Path<(String, String)>,
) -> ApiResult {
    let (fleet, member) = names(&fleet, &member)?;
    Ok(ok(member_json(
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
