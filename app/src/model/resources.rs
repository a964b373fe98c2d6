//! Resource bundles (issue 17): the Kubernetes objects a fleet places on its members. A bundle
//! is checked here, at the edge, as a Kubernetes API server would check each object's identity
//! (apiVersion, kind, metadata.name, namespace), so a rollout never carries an object that every
//! member would refuse, and two objects of one bundle never claim the same identity. What an
//! object says beyond its identity is the cluster's to judge when it is applied.

use super::names::is_dns_label;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// A bundle's size limit, as the JSON the manifests make: a Kubernetes object (and so a
/// ConfigMap carrying one) cannot be larger than about 1 MiB in etcd either.
pub const MAX_BUNDLE_BYTES: usize = 1024 * 1024;
/// How many objects a bundle may hold.
pub const MAX_MANIFESTS: usize = 500;

/// Built-in kinds that are not namespaced: a manifest of one naming a namespace is an error.
/// Kinds not listed (custom resources among them) are taken as written.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
];

/// RBAC kinds take any path-segment name (`system:aggregate-to-view`), as Kubernetes allows.
const PATH_SEGMENT_NAMED: &[&str] = &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"];

/// Server-set fields an exported object carries; applied to another cluster they would fail
/// or conflict, so they are refused with the advice to remove them.
const SERVER_SET: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
];

/// What makes an object the same object on a cluster: its API group, kind, namespace and name
/// (the version is not part of it: `apps/v1` and `apps/v1beta1` Deployments are one object).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// Empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    /// `None` for cluster-scoped objects and for namespaced ones that name none (`default`).
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.group.as_str() {
            "" => self.kind.clone(),
            group => format!("{}.{group}", self.kind),
        };
        match &self.namespace {
            Some(namespace) => write!(f, "{kind} {namespace}/{}", self.name),
            None => write!(f, "{kind} {}", self.name),
        }
    }
}

/// One checked object of a bundle, as it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub key: ObjectKey,
    pub api_version: String,
    pub object: Value,
}

impl Manifest {
    /// The object as people name it, for lists and messages.
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.key.kind.clone(),
            namespace: self.key.namespace.clone(),
            name: self.key.name.clone(),
        }
    }
}

/// An object of a bundle as its manifest names it: `apps/v1` `Deployment` `web/frontend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// `ConfigMap web/settings`, `Namespace web`: how the object is named to people.
    pub fn words(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{} {namespace}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// One immutable, numbered version of a resource: what it held from `created_at` on. Placements
/// and rollouts name a snapshot, never "the resource", so what a member was given stays known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// 1 for a resource's first content, one more for each change.
    pub index: i64,
    /// `sha256:` and the hex digest of the objects as stored (JSON, keys sorted): equal hashes,
    /// equal objects.
    pub hash: String,
    pub created_at: Timestamp,
    pub objects: Vec<ObjectRef>,
}

/// What is wrong with a bundle, at the field that is wrong: `manifests[2].metadata.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest's place in the bundle; `None` for the bundle as a whole.
    pub index: Option<usize>,
    /// The field within the manifest (`metadata.name`), empty for the manifest itself.
    pub field: String,
    pub message: String,
    /// For an object given twice: where it was first given.
    pub first: Option<usize>,
}

impl ManifestError {
    fn bundle(message: String) -> Self {
        Self {
            index: None,
            field: String::new(),
            message,
            first: None,
        }
    }

    fn at(index: usize, field: &str, message: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            field: field.to_owned(),
            message: message.into(),
            first: None,
        }
    }

    /// Where the problem is, as a path into the request body.
    pub fn path(&self) -> String {
        match (self.index, self.field.as_str()) {
            (None, _) => "manifests".into(),
            (Some(i), "") => format!("manifests[{i}]"),
            (Some(i), field) => format!("manifests[{i}].{field}"),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path(), self.message)?;
        match self.first {
            Some(first) => write!(f, " (first as manifests[{first}])"),
            None => Ok(()),
        }
    }
}

/// Checks a bundle: at least one object, within the limits, each object's identity valid, no
/// identity twice. The first problem is returned.
pub fn parse_manifests(values: &[Value]) -> Result<Vec<Manifest>, ManifestError> {
    if values.is_empty() {
        return Err(ManifestError::bundle(
            "give at least one Kubernetes object".into(),
        ));
    }
    if values.len() > MAX_MANIFESTS {
        return Err(ManifestError::bundle(format!(
            "a resource holds at most {MAX_MANIFESTS} objects, not {}",
            values.len()
        )));
    }
    let bytes = serde_json::to_vec(values).map_or(usize::MAX, |b| b.len());
    if bytes > MAX_BUNDLE_BYTES {
        return Err(ManifestError::bundle(format!(
            "the objects take {bytes} bytes as JSON; a resource holds at most {MAX_BUNDLE_BYTES}"
        )));
    }
    let mut seen = std::collections::HashMap::new();
    let mut manifests = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let manifest = parse_manifest(index, value)?;
        if let Some(first) = seen.insert(manifest.key.clone(), index) {
            return Err(ManifestError {
                first: Some(first),
                ..ManifestError::at(index, "", format!("{} is given twice", manifest.key))
            });
        }
        manifests.push(manifest);
    }
    Ok(manifests)
}

fn parse_manifest(index: usize, value: &Value) -> Result<Manifest, ManifestError> {
    let object = value
        .as_object()
        .ok_or_else(|| ManifestError::at(index, "", "a Kubernetes object is a JSON object"))?;
    let api_version = required_text(index, object, "apiVersion")?;
    let group =
        api_group(api_version).map_err(|why| ManifestError::at(index, "apiVersion", why))?;
    let kind = required_text(index, object, "kind")?;
    if !is_kind(kind) {
        return Err(ManifestError::at(
            index,
            "kind",
            format!(
                "'{kind}' is not a kind: a capitalised name of letters and digits, such as ConfigMap"
            ),
        ));
    }
    let metadata = object
        .get("metadata")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ManifestError::at(index, "metadata", "every object needs metadata with a name")
        })?;
    for field in SERVER_SET {
        if metadata.contains_key(*field) {
            return Err(ManifestError::at(
                index,
                &format!("metadata.{field}"),
                "is set by a cluster, not given; remove it (an object exported from a cluster carries it)",
            ));
        }
    }
    let name = object_name(index, kind, metadata)?;
    let namespace = object_namespace(index, kind, metadata)?;
    Ok(Manifest {
        key: ObjectKey {
            group: group.to_owned(),
            kind: kind.to_owned(),
            namespace,
            name,
        },
        api_version: api_version.to_owned(),
        object: value.clone(),
    })
}

fn required_text<'a>(
    index: usize,
    object: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a str, ManifestError> {
    match object.get(field) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(Value::String(_)) | None => Err(ManifestError::at(index, field, "is required")),
        Some(_) => Err(ManifestError::at(index, field, "must be a string")),
    }
}

fn object_name(
    index: usize,
    kind: &str,
    metadata: &Map<String, Value>,
) -> Result<String, ManifestError> {
    let name = match metadata.get("name") {
        Some(Value::String(name)) if !name.is_empty() => name,
        _ if metadata.contains_key("generateName") => {
            return Err(ManifestError::at(
                index,
                "metadata.generateName",
                "a placed object needs a fixed metadata.name, so each member gets the same object and a later snapshot changes it",
            ));
        }
        _ => return Err(ManifestError::at(index, "metadata.name", "is required")),
    };
    let (valid, rule) = name_rule(kind);
    if !valid(name) {
        return Err(ManifestError::at(
            index,
            "metadata.name",
            format!("'{name}' is not a {kind} name: {rule}"),
        ));
    }
    Ok(name.clone())
}

/// How a kind's objects are named, as Kubernetes checks it, and that rule in words.
fn name_rule(kind: &str) -> (fn(&str) -> bool, &'static str) {
    if kind == "Namespace" {
        (is_namespace_name, LABEL_RULE)
    } else if PATH_SEGMENT_NAMED.contains(&kind) {
        (
            is_path_segment,
            "any text without '/' or '%', other than '.' and '..'",
        )
    } else {
        (
            is_dns_subdomain,
            "1 to 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
        )
    }
}

/// A DNS label's rule in words: namespaces' names.
const LABEL_RULE: &str =
    "1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit";

fn object_namespace(
    index: usize,
    kind: &str,
    metadata: &Map<String, Value>,
) -> Result<Option<String>, ManifestError> {
    let namespace = match metadata.get("namespace") {
        None => return Ok(None),
        Some(Value::String(namespace)) => namespace,
        Some(_) => {
            return Err(ManifestError::at(
                index,
                "metadata.namespace",
                "must be a string",
            ));
        }
    };
    if CLUSTER_SCOPED.contains(&kind) {
        return Err(ManifestError::at(
            index,
            "metadata.namespace",
            format!("a {kind} is cluster-scoped: it takes no namespace"),
        ));
    }
    if !is_namespace_name(namespace) {
        return Err(ManifestError::at(
            index,
            "metadata.namespace",
            format!("'{namespace}' is not a namespace name: {LABEL_RULE}"),
        ));
    }
    Ok(Some(namespace.clone()))
}

/// The API group of an `apiVersion` (`""` for the core `v1`), or why it is not one.
fn api_group(api_version: &str) -> Result<&str, String> {
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    };
    // "/v1" names an empty group: only a version without a slash is the core group's.
    let core = !api_version.contains('/');
    let group_ok = core
        || (is_dns_subdomain(group) && group.contains('.'))
        || BUILT_IN_GROUPS.contains(&group);
    if !group_ok || !is_api_version(version) {
        return Err(format!(
            "'{api_version}' is not an apiVersion: a version such as v1, or a group and a version such as apps/v1"
        ));
    }
    Ok(group)
}

/// Built-in API groups without a dot in their name; every other group has one (`example.com`).
const BUILT_IN_GROUPS: &[&str] = &["apps", "autoscaling", "batch", "policy"];

/// `v1`, `v2beta1`, `v1alpha3`: Kubernetes API versions.
fn is_api_version(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || rest.starts_with('0') {
        return false;
    }
    let stage = &rest[digits..];
    stage.is_empty()
        || ["alpha", "beta"].iter().any(|level| {
            stage.strip_prefix(level).is_some_and(|n| {
                !n.is_empty() && !n.starts_with('0') && n.bytes().all(|c| c.is_ascii_digit())
            })
        })
}

fn is_kind(kind: &str) -> bool {
    kind.len() <= 63
        && kind.starts_with(|c: char| c.is_ascii_uppercase())
        && kind.chars().all(|c| c.is_ascii_alphanumeric())
}

/// RFC 1123 label of at most 63 characters: a namespace's name.
fn is_namespace_name(text: &str) -> bool {
    text.len() <= 63 && is_dns_label(text)
}

/// RFC 1123 subdomain: dot-separated labels, 253 characters at most.
fn is_dns_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(is_namespace_name)
}

fn is_path_segment(text: &str) -> bool {
    !text.is_empty() && text != "." && text != ".." && !text.contains(['/', '%'])
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
