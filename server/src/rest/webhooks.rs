//! `/webhooks`: where run, stage, group, member and gate transitions are sent as CloudEvents,
//! and `/webhooks/{name}/deliveries`, what was sent and how it went.

use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, delete_response, list, ok,
    parse_name, put_response, query_pairs,
};
use crate::store::{Delivery, DeliveryState, StoredWebhook};
use crate::webhooks::WebhookSpec;
use app::model::error::AppError;
use app::model::names::{FleetName, WebhookName};
use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};

/// A PUT's properties: the spec, plus what a GET returns read-only (accepted and ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutWebhookProperties {
    url: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    event_types: Vec<String>,
    #[serde(default)]
    fleets: Vec<FleetName>,
    #[serde(default)]
    disabled: bool,
    #[serde(default, rename = "secretSet")]
    _secret_set: Option<bool>,
    #[serde(default, rename = "createdTime")]
    _created_time: Option<String>,
}

fn webhook_name(name: &str) -> Result<WebhookName, super::ApiError> {
    parse_name("InvalidWebhookName", WebhookName::parse(name))
}

/// Never the secret itself: only whether there is one.
fn webhook_json(stored: &StoredWebhook) -> Value {
    let spec = &stored.spec;
    json!({
        "id": format!("/webhooks/{}", stored.name),
        "name": stored.name,
        "type": "Drydock/webhooks",
        "etag": stored.etag.to_string(),
        "properties": {
            "url": spec.url,
            "eventTypes": spec.event_types,
            "fleets": spec.fleets,
            "disabled": spec.disabled,
            "secretSet": spec.secret.is_some(),
            "createdTime": stored.created_at.to_string(),
        },
    })
}

fn delivery_json(d: &Delivery) -> Value {
    let mut value = json!({
        "id": d.id,
        "eventId": d.event_id,
        "eventType": d.event_type,
        "state": d.state,
        "attempts": d.attempts,
        "createdTime": d.created_at.to_string(),
        "event": serde_json::from_str::<Value>(&d.payload).unwrap_or(Value::Null),
    });
    if let Some(at) = d.last_attempt_at {
        value["lastAttemptTime"] = json!(at.to_string());
    }
    if let Some(status) = d.last_status {
        value["responseStatus"] = json!(status);
    }
    if let Some(error) = &d.last_error {
        value["error"] = json!(error);
    }
    if d.state == DeliveryState::Pending {
        value["nextAttemptTime"] = json!(d.next_attempt_at.to_string());
    }
    value
}

pub async fn index(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let webhooks = drydock.list_webhooks(&caller).await?;
    Ok(list(webhooks.iter().map(webhook_json).collect()))
}

pub async fn put(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    IfMatch(precondition): IfMatch,
    ArmJson(body): ArmJson<ArmBody<PutWebhookProperties>>,
) -> ApiResult {
    let name = webhook_name(&name)?;
    let p = body.properties;
    let spec = WebhookSpec {
        url: p.url,
        secret: p.secret,
        event_types: p.event_types,
        fleets: p.fleets,
        disabled: p.disabled,
    };
    let (stored, created) = drydock
        .put_webhook(&caller, &name, spec, &precondition)
        .await?;
    Ok(put_response(created, webhook_json(&stored)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
) -> ApiResult {
    let name = webhook_name(&name)?;
    Ok(ok(webhook_json(
        &drydock.get_webhook(&caller, &name).await?,
    )))
}

pub async fn delete(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    IfMatch(precondition): IfMatch,
) -> ApiResult {
    let name = webhook_name(&name)?;
    Ok(delete_response(
        drydock
            .delete_webhook(&caller, &name, &precondition)
            .await?,
    ))
}

/// Deliveries shown by default, and at most.
const DELIVERIES_SHOWN: i64 = 100;
const DELIVERIES_MAX: i64 = 1000;

pub async fn deliveries(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let name = webhook_name(&name)?;
    let mut limit = DELIVERIES_SHOWN;
    for (_, value) in query_pairs(query.as_deref(), &["limit"])? {
        limit = value
            .parse()
            .ok()
            .filter(|n| (1..=DELIVERIES_MAX).contains(n))
            .ok_or_else(|| {
                AppError::invalid(
                    "InvalidQueryParameter",
                    format!(
                        "limit must be a whole number from 1 to {DELIVERIES_MAX}, not {value:?}."
                    ),
                )
            })?;
    }
    let deliveries = drydock.webhook_deliveries(&caller, &name, limit).await?;
    Ok(list(deliveries.iter().map(delivery_json).collect()))
}
