//! The `exec` provider protocol, `drydock/provider/v1` (`docs/providers.md`): what each verb
//! sends and what its answer must be. Shapes reuse the simulator's REST shapes. An answer that
//! is not what the verb promises is a permanent error naming the verb and the field.

use crate::provider::{OperationStatus, ProviderError};
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::target::UpgradeProgress;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub const API_VERSION: &str = "drydock/provider/v1";

/// A request: its fields and the protocol version.
pub fn request(mut fields: Value) -> Value {
    if let Value::Object(map) = &mut fields {
        map.insert("apiVersion".into(), json!(API_VERSION));
    }
    fields
}

fn malformed(verb: &str, why: impl std::fmt::Display) -> ProviderError {
    ProviderError::permanent(format!("the provider's {verb} answer is malformed: {why}"))
}

/// Decodes an answer, naming the path of what was wrong (`clusters[1].state.location: …`).
fn decode<T: DeserializeOwned>(verb: &str, answer: Value) -> Result<T, ProviderError> {
    serde_path_to_error::deserialize(answer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            malformed(verb, inner)
        } else {
            malformed(verb, format!("{path}: {inner}"))
        }
    })
}

/// A cluster name as the provider gives it: what follows `exec:{provider}/`.
pub fn check_cluster_name(name: &str) -> Result<(), String> {
    let ok = (1..=400).contains(&name.len())
        && !name.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "cluster name {name:?} must be 1 to 400 characters without spaces"
        ))
    }
}

#[derive(Deserialize)]
struct ListAnswer {
    clusters: Vec<String>,
}

pub fn decode_list(answer: Value) -> Result<Vec<String>, ProviderError> {
    let list: ListAnswer = decode("list", answer)?;
    for name in &list.clusters {
        check_cluster_name(name).map_err(|why| malformed("list", why))?;
    }
    Ok(list.clusters)
}

pub fn decode_catalog(answer: Value) -> Result<Catalog, ProviderError> {
    let catalog: Catalog = decode("catalog", answer)?;
    catalog
        .normalized()
        .map_err(|why| malformed("catalog", why))
}

#[derive(Deserialize)]
struct ObserveAnswer {
    clusters: Vec<ObservedEntry>,
}

#[derive(Deserialize)]
struct ObservedEntry {
    name: String,
    #[serde(default)]
    state: Option<Value>,
    #[serde(default)]
    error: Option<ClusterError>,
}

#[derive(Deserialize)]
struct ClusterError {
    #[serde(default)]
    code: Option<String>,
    message: String,
    #[serde(default)]
    transient: bool,
}

/// The codes that mean the cluster does not exist (as a provider's CLI would say it).
const NOT_FOUND: [&str; 3] = ["ClusterNotFound", "NotFound", "ResourceNotFoundException"];

/// One answer per asked cluster, in the order asked. A cluster the answer leaves out, or says
/// nothing usable about, is a malformed answer for that cluster.
pub fn decode_observe(
    answer: Value,
    asked: &[&str],
    not_found: impl Fn(&str) -> ProviderError,
) -> Result<Vec<Result<ClusterState, ProviderError>>, ProviderError> {
    let answer: ObserveAnswer = decode("observe", answer)?;
    let mut by_name: std::collections::HashMap<String, ObservedEntry> = answer
        .clusters
        .into_iter()
        .map(|entry| (entry.name.clone(), entry))
        .collect();
    Ok(asked
        .iter()
        .map(|name| match by_name.remove(*name) {
            None => Err(malformed(
                "observe",
                format!("it says nothing about cluster {name}"),
            )),
            Some(entry) => observed(entry, &not_found),
        })
        .collect())
}

fn observed(
    entry: ObservedEntry,
    not_found: &impl Fn(&str) -> ProviderError,
) -> Result<ClusterState, ProviderError> {
    let name = entry.name;
    match (entry.state, entry.error) {
        (Some(state), None) => {
            let state: ClusterState =
                decode("observe", known_fields(state)).map_err(|e| with_cluster(e, &name))?;
            state
                .validate_observed()
                .map_err(|why| malformed("observe", format!("cluster {name}: {why}")))?;
            Ok(state)
        }
        (None, Some(error)) => {
            let code = error.code.unwrap_or_default();
            if NOT_FOUND.contains(&code.as_str()) {
                Err(not_found(&name))
            } else if error.transient {
                Err(ProviderError::transient(error.message))
            } else if code.is_empty() {
                Err(ProviderError::permanent(error.message))
            } else {
                Err(ProviderError::permanent(format!(
                    "{code}: {}",
                    error.message
                )))
            }
        }
        _ => Err(malformed(
            "observe",
            format!("cluster {name} needs exactly one of state or error"),
        )),
    }
}

fn with_cluster(error: ProviderError, name: &str) -> ProviderError {
    match error {
        ProviderError::Permanent { message } => ProviderError::permanent(message.replacen(
            "malformed: ",
            &format!("malformed: cluster {name}: "),
            1,
        )),
        other => other,
    }
}

/// A cluster state with only the fields Drydock reads, so a provider may say more (the
/// simulator's own `GET` answer, with its name and faults, is a valid state).
fn known_fields(state: Value) -> Value {
    let keep = |value: Value, keys: &[&str]| match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .collect(),
        ),
        other => other,
    };
    let mut state = keep(
        state,
        &[
            "location",
            "kubernetesVersion",
            "nodePools",
            "maintenanceWindow",
        ],
    );
    if let Some(Value::Array(pools)) = state.get_mut("nodePools") {
        for pool in pools.iter_mut() {
            *pool = keep(
                std::mem::take(pool),
                &[
                    "name",
                    "count",
                    "kubernetesVersion",
                    "osSku",
                    "nodeImageVersion",
                ],
            );
        }
    }
    state
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationAnswer {
    state: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retry_after_seconds: Option<f64>,
    #[serde(default)]
    progress: Option<UpgradeProgress>,
}

/// What an operation answer says: its status (`None`: "Unknown", never started) and how long
/// to wait before asking again, if the provider said.
pub struct OperationAnswerDecoded {
    pub status: Option<OperationStatus>,
    pub retry_after: Option<std::time::Duration>,
}

pub fn decode_operation(
    verb: &str,
    answer: Value,
) -> Result<OperationAnswerDecoded, ProviderError> {
    let answer: OperationAnswer = decode(verb, answer)?;
    let retry_after = match answer.retry_after_seconds {
        Some(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => {
            Some(std::time::Duration::from_secs_f64(s))
        }
        Some(s) => {
            return Err(malformed(
                verb,
                format!("retryAfterSeconds must be between 0 and 86400, not {s}"),
            ));
        }
        None => None,
    };
    let status = match answer.state.as_str() {
        "Running" => Some(OperationStatus::Running {
            progress: answer.progress,
            message: answer.message,
            look_again_at: None,
        }),
        "Succeeded" => Some(OperationStatus::Succeeded),
        "Failed" => Some(OperationStatus::Failed {
            message: answer.message.unwrap_or_else(|| {
                "the provider says the upgrade failed, without a message".into()
            }),
        }),
        "Unknown" if verb == "operation-status" => None,
        other => {
            return Err(malformed(
                verb,
                format!("state {other:?} is not Running, Succeeded or Failed"),
            ));
        }
    };
    Ok(OperationAnswerDecoded {
        status,
        retry_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gone(name: &str) -> ProviderError {
        ProviderError::permanent(format!("{name} is gone"))
    }

    fn state() -> Value {
        json!({"location": "us-east-1", "kubernetesVersion": "1.29.0", "name": "ignored",
               "nodePools": [{"name": "ng-general", "count": 0, "kubernetesVersion": "1.29.0",
                              "osSku": "AL2023-x86-64-STANDARD", "extra": true,
                              "nodeImageVersion": "AL2023-x86-64-STANDARD-20240129"}]})
    }

    #[test]
    fn observe_answers_come_back_in_the_order_asked_with_their_nature() {
        let answer = json!({"clusters": [
            {"name": "b", "error": {"code": "Throttling", "message": "slow down", "transient": true}},
            {"name": "a", "state": state()},
            {"name": "c", "error": {"code": "ResourceNotFoundException", "message": "no"}},
            {"name": "d", "error": {"code": "AccessDenied", "message": "forbidden"}},
        ]});
        let out = decode_observe(answer, &["a", "b", "c", "d", "e"], gone).unwrap();
        assert_eq!(out[0].as_ref().unwrap().node_pools[0].count, 0);
        assert!(out[1].as_ref().unwrap_err().is_transient());
        assert_eq!(out[2], Err(gone("c")));
        assert_eq!(
            out[3],
            Err(ProviderError::permanent("AccessDenied: forbidden"))
        );
        assert!(
            out[4]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("nothing about cluster e")
        );
    }

    #[test]
    fn a_malformed_state_names_the_verb_the_cluster_and_the_field() {
        let mut bad = state();
        bad["kubernetesVersion"] = json!("1.29");
        let answer = json!({"clusters": [{"name": "a", "state": bad}]});
        let error = decode_observe(answer, &["a"], gone)
            .unwrap()
            .remove(0)
            .unwrap_err();
        let text = error.to_string();
        assert!(!error.is_transient());
        assert!(
            text.contains("observe answer is malformed: cluster a: kubernetesVersion"),
            "{text}"
        );
        assert!(text.contains("1.29"), "{text}");
    }

    #[test]
    fn operation_answers() {
        let running = decode_operation(
            "start-upgrade",
            json!({"state": "Running", "message": "draining", "retryAfterSeconds": 30}),
        )
        .unwrap();
        assert!(matches!(
            running.status,
            Some(OperationStatus::Running {
                message: Some(_),
                ..
            })
        ));
        assert_eq!(
            running.retry_after,
            Some(std::time::Duration::from_secs(30))
        );
        let unknown = decode_operation("operation-status", json!({"state": "Unknown"})).unwrap();
        assert!(unknown.status.is_none());
        let error = decode_operation("start-upgrade", json!({"state": "Unknown"}))
            .err()
            .unwrap();
        assert!(
            error
                .to_string()
                .contains("start-upgrade answer is malformed")
        );
        let error = decode_operation("operation-status", json!({"status": "Running"}))
            .err()
            .unwrap();
        assert!(
            error.to_string().contains("missing field `state`"),
            "{error}"
        );
    }

    #[test]
    fn list_names_are_checked() {
        assert_eq!(
            decode_list(json!({"clusters": ["a", "b/c"]})).unwrap(),
            ["a", "b/c"]
        );
        assert!(decode_list(json!({"clusters": ["a b"]})).is_err());
        assert!(decode_list(json!(["a"])).is_err());
    }
}

/// What `apply-resources` and `observe-resources` answer: the owner's objects on the cluster.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourcesAnswer {
    revision: Option<String>,
    #[serde(default)]
    available: bool,
    #[serde(default)]
    drifted: Vec<String>,
}

pub fn decode_resources(
    verb: &str,
    answer: Value,
) -> Result<crate::provider::AppliedResources, ProviderError> {
    let answer: ResourcesAnswer = decode(verb, answer)?;
    Ok(crate::provider::AppliedResources {
        revision: answer.revision,
        available: answer.available,
        drifted: answer.drifted,
    })
}
