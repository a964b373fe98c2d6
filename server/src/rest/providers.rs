//! `GET /providers[/{name}]`: the providers Drydock drives, with their kind, the form of their
//! cluster ids, their settings (never a secret), their health and the calls made to them.

use super::shapes::{List, Resource};
use super::{ApiResult, ApiState, AsCaller, typed};
use crate::provider::Provider;
use crate::provider::registry::Health;
use app::model::error::AppError;
use app::model::time::Timestamp;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    /// `simulated`, `exec` or `aks`.
    kind: &'static str,
    /// What a member's `clusterResourceId` looks like for this provider.
    cluster_resource_id_form: String,
    /// Its settings from the configuration file; never a secret.
    settings: Value,
    health: HealthView,
    /// Calls made to it since the server started, per verb.
    calls: BTreeMap<&'static str, u64>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthView {
    last_success: Option<Timestamp>,
    last_error: Option<ProviderErrorView>,
}

#[derive(Serialize, JsonSchema)]
pub struct ProviderErrorView {
    time: Timestamp,
    message: String,
}

pub type ProviderResource = Resource<ProviderView>;

fn provider(provider: &dyn Provider, health: &Health) -> ProviderResource {
    Resource::new(
        format!("/providers/{}", provider.name()),
        provider.name(),
        "Drydock/providers",
        ProviderView {
            kind: provider.kind(),
            cluster_resource_id_form: provider.id_form(),
            settings: provider.settings(),
            health: HealthView {
                last_success: health.last_success,
                last_error: health
                    .last_error
                    .as_ref()
                    .map(|(time, message)| ProviderErrorView {
                        time: *time,
                        message: message.clone(),
                    }),
            },
            calls: provider.calls(),
        },
    )
}

pub async fn index(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    let value = drydock
        .providers_for(&caller)?
        .list()
        .iter()
        .map(|(p, health)| provider(&**p, health))
        .collect();
    Ok(typed(&List { value }))
}

pub async fn get(
    State(drydock): State<ApiState>,
    AsCaller(caller): AsCaller,
    Path(name): Path<String>,
) -> ApiResult {
    let all = drydock.providers_for(&caller)?.list();
    let (provider, health) = all.iter().find(|(p, _)| p.name() == name).ok_or_else(|| {
        AppError::not_found(
            "ProviderNotFound",
            format!("There is no provider named {name}."),
        )
    })?;
    Ok(typed(&self::provider(&**provider, health)))
}
