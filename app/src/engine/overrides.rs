//! Applying resource overrides to a placement's objects for one member, after scheduling: pure,
//! so the browser's preview shows exactly what a member will be given.

use super::placement::{Candidate, selector_matches};
use crate::model::overrides::{
    JsonPatch, MEMBER_NAME_VARIABLE, OverrideType, PatchOp, ResourceOverride, ResourceSelector,
};
use crate::model::resources::{ObjectKey, parse_manifests};
use serde_json::Value;

/// What a member is given: its objects, and the overrides that changed them (`name@etag`).
#[derive(Debug, Clone, PartialEq)]
pub struct Overridden {
    pub manifests: Vec<Value>,
    pub applied: Vec<String>,
}

/// A stored override as the rollout reads it: its name and version beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedOverride {
    pub name: String,
    pub etag: i64,
    pub spec: ResourceOverride,
}

/// The objects `member` gets: every override (in the order given) whose rules pick the member
/// patches the objects it selects, or drops them (`Delete`). An error names the override, the
/// rule and the patch that cannot apply.
pub fn overridden(
    manifests: &[Value],
    member: &Candidate,
    overrides: &[NamedOverride],
) -> Result<Overridden, String> {
    let keys: Vec<ObjectKey> = parse_manifests(manifests)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|m| m.key)
        .collect();
    let mut objects: Vec<Option<Value>> = manifests.iter().cloned().map(Some).collect();
    let mut applied = Vec::new();
    for named in overrides {
        let mut changed = false;
        for (r, rule) in named.spec.policy.override_rules.iter().enumerate() {
            let picked = rule
                .cluster_selector
                .as_ref()
                .is_none_or(|selector| selector_matches(selector, member));
            if !picked {
                continue;
            }
            for (object, key) in objects.iter_mut().zip(&keys) {
                if !selected(&named.spec.resource_selectors, key) || object.is_none() {
                    continue;
                }
                changed = true;
                if rule.override_type == OverrideType::Delete {
                    *object = None;
                    continue;
                }
                for (p, patch) in rule.json_patch_overrides.iter().enumerate() {
                    let target = object.as_mut().expect("kept objects are Some");
                    apply_patch(target, patch, &member.name).map_err(|why| {
                        format!(
                            "override {}, rule {}, patch {} on {key}: {why}",
                            named.name,
                            r + 1,
                            p + 1
                        )
                    })?;
                }
            }
        }
        if changed {
            applied.push(format!("{}@{}", named.name, named.etag));
        }
    }
    Ok(Overridden {
        manifests: objects.into_iter().flatten().collect(),
        applied,
    })
}

/// Whether a rule of one of `overrides` picks `member`: when none does, it is given the
/// placement's objects as they are, and nothing need be copied or parsed for it.
pub fn any_rule_picks(member: &Candidate, overrides: &[NamedOverride]) -> bool {
    overrides
        .iter()
        .flat_map(|o| &o.spec.policy.override_rules)
        .any(|rule| {
            rule.cluster_selector
                .as_ref()
                .is_none_or(|selector| selector_matches(selector, member))
        })
}

fn selected(selectors: &[ResourceSelector], key: &ObjectKey) -> bool {
    selectors.is_empty()
        || selectors.iter().any(|s| {
            s.group == key.group
                && s.kind == key.kind
                && s.name == key.name
                && s.namespace
                    .as_ref()
                    .is_none_or(|ns| key.namespace.as_ref() == Some(ns))
        })
}

/// `value` with the member variable replaced in every string it holds.
fn with_member(value: &Value, member: &str) -> Value {
    match value {
        Value::String(text) => Value::String(text.replace(MEMBER_NAME_VARIABLE, member)),
        Value::Array(items) => Value::Array(items.iter().map(|v| with_member(v, member)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_member(v, member)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One RFC 6902 `add`, `remove` or `replace`.
fn apply_patch(object: &mut Value, patch: &JsonPatch, member: &str) -> Result<(), String> {
    let tokens: Vec<String> = patch.path[1..]
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let (last, parents) = tokens.split_last().ok_or("the path names no field")?;
    let mut parent = &mut *object;
    for (depth, token) in parents.iter().enumerate() {
        parent = child(parent, token)
            .ok_or_else(|| format!("/{} does not exist", tokens[..=depth].join("/")))?;
    }
    let value = patch.value.as_ref().map(|v| with_member(v, member));
    let missing = || format!("{} does not exist", patch.path);
    match (patch.op, parent) {
        (PatchOp::Add, Value::Object(map)) => {
            map.insert(last.clone(), value.unwrap_or(Value::Null));
        }
        (PatchOp::Replace, Value::Object(map)) => {
            let slot = map.get_mut(last).ok_or_else(missing)?;
            *slot = value.unwrap_or(Value::Null);
        }
        (PatchOp::Remove, Value::Object(map)) => {
            map.remove(last).ok_or_else(missing)?;
        }
        (op, Value::Array(items)) => {
            let index = if last == "-" && op == PatchOp::Add {
                items.len()
            } else {
                last.parse::<usize>()
                    .map_err(|_| format!("{} is not an index", patch.path))?
            };
            match op {
                PatchOp::Add if index <= items.len() => {
                    items.insert(index, value.unwrap_or(Value::Null));
                }
                PatchOp::Replace if index < items.len() => {
                    items[index] = value.unwrap_or(Value::Null);
                }
                PatchOp::Remove if index < items.len() => {
                    items.remove(index);
                }
                _ => return Err(missing()),
            }
        }
        _ => {
            return Err(format!(
                "{} is inside a value that is not an object or a list",
                patch.path
            ));
        }
    }
    Ok(())
}

fn child<'a>(value: &'a mut Value, token: &str) -> Option<&'a mut Value> {
    match value {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "overrides_tests.rs"]
mod tests;
