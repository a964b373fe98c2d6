//! `GET /providers[/{name}]`: the providers Drydock drives, with their kind, the form of their
//! cluster ids, their settings (never a secret), their health and the calls made to them.

use super::{ApiResult, ApiState, AsCaller, list, ok};
use crate::provider::Provider;
use crate::provider::registry::Health;
use app::model::error::AppError;
use axum::extract::{Path, State};
use serde_json::{Value, json};

fn provider_json(provider: &dyn Provider, health: &Health) -> Value {
    json!({
        "id": format!("/providers/{}", provider.name()),
        "name": provider.name(),
        "type": "Drydock/providers",
        "properties": {
            "kind": provider.kind(),
            "clusterResourceIdForm": provider.id_form(),
            "settings": provider.settings(),
            "health": {
                "lastSuccess": health.last_success,
                "lastError": health.last_error.as_ref().map(|(at, message)| json!({"time": at, "message": message})),
            },
            "calls": provider.calls(),
        }
    })
}

pub async fn index(State(drydock): State<ApiState>, AsCaller(caller): AsCaller) -> ApiResult {
    Ok(list(
        drydock
            .providers_for(&caller)?
            .list()
            .iter()
            .map(|(provider, health)| provider_json(&**provider, health))
            .collect(),
    ))
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
    Ok(ok(provider_json(&**provider, health)))
}
