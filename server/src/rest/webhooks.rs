//! `/webhooks`: where run, stage, group, member and gate transitions are sent as CloudEvents,
//! and `/webhooks/{name}/deliveries`, what was sent and how it went.

use super::shapes::{List, Resource};
use super::{
    ApiResult, ApiState, ArmBody, ArmJson, AsCaller, IfMatch, delete_response, parse_name,
    put_response, query_pairs, typed,
};
use crate::store::{Delivery, DeliveryState, StoredWebhook};
use crate::webhooks::WebhookSpec;
use app::model::error::AppError;
use app::model::names::{FleetName, WebhookName};
use app::model::time::Timestamp;
use axum::extract::{Path, RawQuery, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A PUT's properties: the spec, plus what a GET returns read-only (accepted and ignored).
#[derive(Deserialize, JsonSchema)]
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
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookProperties<'a> {
    url: &'a str,
    event_types: &'a [String],
    fleets: &'a [FleetName],
    disabled: bool,
    secret_set: bool,
    created_time: Timestamp,
}

pub type Webhook<'a> = Resource<WebhookProperties<'a>>;

fn webhook(stored: &StoredWebhook) -> Webhook<'_> {
    let spec = &stored.spec;
    Resource::new(
        format!("/webhooks/{}", stored.name),
        stored.name.as_str(),
        "Drydock/webhooks",
        WebhookProperties {
            url: &spec.url,
            event_types: &spec.event_types,
            fleets: &spec.fleets,
            disabled: spec.disabled,
            secret_set: spec.secret.is_some(),
            created_time: stored.created_at,
        },
    )
    .etag(stored.etag)
}

/// One event sent (or being sent) to a webhook, and how it went.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView<'a> {
    id: i64,
    event_id: i64,
    event_type: &'a str,
    state: DeliveryState,
    attempts: u32,
    created_time: Timestamp,
    /// The CloudEvent as sent.
    event: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_attempt_time: Option<Timestamp>,
    /// The HTTP status the webhook answered the last attempt with.
    #[serde(skip_serializing_if = "Option::is_none")]
    response_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// While pending: when it is tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_attempt_time: Option<Timestamp>,
}

fn delivery(d: &Delivery) -> DeliveryView<'_> {
    DeliveryView {
        id: d.id,
        event_id: d.event_id,
        event_type: &d.event_type,
        state: d.state,
        attempts: d.attempts,
        created_time: d.created_at,
        event: serde_json::from_str::<Value>(&d.payload).unwrap_or(Value::Null),
        last_attempt_time: d.last_attempt_at,
        response_status: d.last_status,
        error: d.last_error.as_deref(),
        next_attempt_time: (d.state == DeliveryState::Pending).then_some(d.next_attempt_at),
    }
}

pub async fn index(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let webhooks = drydock.list_webhooks(&caller).await?;
    Ok(typed(&List {
        value: webhooks.iter().map(webhook).collect(),
    }))
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
    Ok(put_response(created, &webhook(&stored)))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
) -> ApiResult {
    let name = webhook_name(&name)?;
    let stored = drydock.get_webhook(&caller, &name).await?;
    Ok(typed(&webhook(&stored)))
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
    Ok(typed(&List {
        value: deliveries.iter().map(delivery).collect(),
    }))
}
