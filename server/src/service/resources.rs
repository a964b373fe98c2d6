//! Resource bundles: Kubernetes objects a fleet places on its members, given as JSON objects or
//! multi-document YAML, checked as an API server checks identities, and kept as immutable,
//! numbered snapshots (a write that changes nothing makes none).

use super::{Drydock, expectation, store_error};
use crate::store::{Expect, ResourceWrite, StoredResource, StoredSnapshot};
use crate::yaml::{Documents, parse_documents};
use app::model::access::{Caller, Role};
use app::model::error::AppError;
use app::model::names::{FleetName, ResourceName};
use app::model::precondition::Precondition;
use app::model::resources::{Manifest, ManifestError, SnapshotInfo, parse_manifests};
use serde_json::Value;

/// How a bundle's objects were given.
pub enum BundleInput {
    /// `properties.manifests`: the objects as JSON.
    Manifests(Vec<Value>),
    /// `properties.yaml`: multi-document YAML, as `kubectl apply -f` reads it.
    Yaml(String),
}

fn invalid(message: String) -> AppError {
    AppError::invalid("InvalidManifest", message)
}

/// The checked objects of a bundle, or a 400 saying where the first problem is: the field's
/// path for JSON, its line for YAML.
pub fn read_bundle(input: BundleInput) -> Result<Vec<Manifest>, AppError> {
    match input {
        BundleInput::Manifests(values) => {
            parse_manifests(&values).map_err(|e| invalid(format!("properties.{e}")))
        }
        BundleInput::Yaml(text) => {
            let documents =
                parse_documents(&text).map_err(|e| invalid(format!("properties.yaml {e}")))?;
            parse_manifests(&documents.values).map_err(|e| invalid(yaml_problem(&documents, &e)))
        }
    }
}

/// A problem found in YAML input, said by line: `properties.yaml line 14: metadata.name: …`.
fn yaml_problem(documents: &Documents, error: &ManifestError) -> String {
    let Some(index) = error.index else {
        return format!("properties.yaml: {}", error.message);
    };
    let line = documents.line_of(index, &error.field).unwrap_or(1);
    let field = match error.field.as_str() {
        "" => String::new(),
        field => format!("{field}: "),
    };
    let first = error
        .first
        .and_then(|first| documents.line_of(first, ""))
        .map(|line| format!(" (first at line {line})"))
        .unwrap_or_default();
    format!(
        "properties.yaml line {line}: {field}{}{first}",
        error.message
    )
}

/// The text a snapshot stores (the objects as a JSON array, keys sorted) and its digest.
fn snapshot_text(manifests: &[Manifest]) -> (String, String) {
    let objects: Vec<&Value> = manifests.iter().map(|m| &m.object).collect();
    let text = serde_json::to_string(&objects).expect("JSON values serialize");
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let hex: String = digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    (text, format!("sha256:{hex}"))
}

/// What a stored snapshot holds, as the API lists it.
pub fn snapshot_info(snapshot: &StoredSnapshot) -> SnapshotInfo {
    // Stored snapshots were checked when written; one that no longer parses lists no objects
    // rather than failing the listing.
    let objects = parse_manifests(&snapshot.manifests)
        .map(|manifests| manifests.iter().map(Manifest::reference).collect())
        .unwrap_or_default();
    SnapshotInfo {
        index: snapshot.index,
        hash: snapshot.hash.clone(),
        created_at: snapshot.created_at,
        objects,
    }
}

fn resource_not_found(fleet: &FleetName, name: &ResourceName) -> AppError {
    AppError::not_found(
        "ResourceNotFound",
        format!("Fleet {fleet} has no resource named {name}."),
    )
}

impl Drydock {
    /// Makes `manifests` the resource's newest snapshot (if they differ from it).
    pub async fn put_resource(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &ResourceName,
        manifests: &[Manifest],
        precondition: &Precondition,
    ) -> Result<(StoredResource, ResourceWrite), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let expect = self.resource_expectation(fleet, name, precondition).await?;
        let (text, hash) = snapshot_text(manifests);
        let now = self.clock.now();
        self.resources
            .put_resource(fleet, name, &text, &hash, now, expect)
            .await
            .map_err(store_error)
    }

    pub async fn get_resource(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &ResourceName,
    ) -> Result<StoredResource, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let stored = self.resources.get_resource(fleet, name).await;
        stored
            .map_err(store_error)?
            .ok_or_else(|| resource_not_found(fleet, name))
    }

    pub async fn list_resources(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<StoredResource>, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        self.resources
            .list_resources(fleet)
            .await
            .map_err(store_error)
    }

    /// Deletes a resource with its snapshots; refused while a placement names it.
    pub async fn delete_resource(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &ResourceName,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let placed_by = self.placements_of(fleet, name).await?;
        if !placed_by.is_empty() {
            return Err(AppError::conflict(
                "ResourceInUse",
                format!(
                    "Resource {name} is placed by {}; remove it from them first.",
                    app::model::names::in_brief(&placed_by)
                ),
            ));
        }
        let expect = self.resource_expectation(fleet, name, precondition).await?;
        self.resources
            .delete_resource(fleet, name, expect)
            .await
            .map_err(store_error)
    }

    /// The resource's kept snapshots, newest first.
    pub async fn list_resource_snapshots(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &ResourceName,
    ) -> Result<Vec<StoredSnapshot>, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let snapshots = self.resources.list_snapshots(fleet, name).await;
        snapshots
            .map_err(store_error)?
            .ok_or_else(|| resource_not_found(fleet, name))
    }

    pub async fn get_resource_snapshot(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &ResourceName,
        index: i64,
    ) -> Result<StoredSnapshot, AppError> {
        let resource = self.get_resource(caller, fleet, name).await?;
        let snapshot = self.resources.get_snapshot(fleet, name, index).await;
        if let Some(found) = snapshot.map_err(store_error)? {
            return Ok(found);
        }
        let kept = self.resources.list_snapshots(fleet, name).await;
        let oldest = kept
            .map_err(store_error)?
            .and_then(|kept| kept.last().map(|s| s.index))
            .unwrap_or(resource.latest.index);
        Err(AppError::not_found(
            "ResourceSnapshotNotFound",
            format!(
                "Resource {name} has no snapshot {index}: it keeps snapshots {oldest} to {}.",
                resource.latest.index
            ),
        ))
    }

    async fn resource_expectation(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
        precondition: &Precondition,
    ) -> Result<Expect, AppError> {
        if *precondition == Precondition::Unconditional {
            return Ok(Expect::Any);
        }
        let current = self.resources.get_resource(fleet, name).await;
        let current = current.map_err(store_error)?.map(|r| r.latest.index);
        expectation(precondition, &format!("Resource {name}"), current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(input: BundleInput) -> String {
        read_bundle(input).expect_err("refused").message
    }

    #[test]
    fn json_problems_name_their_field() {
        let message = refusal(BundleInput::Manifests(vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}),
        ]));
        assert!(
            message.starts_with("properties.manifests[0].metadata.name: 'Bad_Name'"),
            "{message}"
        );
    }

    #[test]
    fn yaml_problems_name_their_line() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\n# two\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Two\n";
        let message = refusal(BundleInput::Yaml(yaml.into()));
        assert!(
            message.starts_with("properties.yaml line 10: metadata.name: 'Two'"),
            "{message}"
        );
        let twice = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n";
        assert_eq!(
            refusal(BundleInput::Yaml(twice.into())),
            "properties.yaml line 6: ConfigMap one is given twice (first at line 1)"
        );
        let broken = refusal(BundleInput::Yaml("kind: ConfigMap\ndata: [b\n".into()));
        assert!(broken.starts_with("properties.yaml line "), "{broken}");
        assert!(broken.contains("not valid YAML"), "{broken}");
        assert!(refusal(BundleInput::Yaml("# nothing\n".into())).contains("at least one"));
    }

    #[test]
    fn equal_objects_hash_equally_whatever_their_key_order() {
        let one = parse_manifests(&[json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "1", "y": "2"}}})]).unwrap();
        let two = parse_manifests(&[json!({"metadata": {"labels": {"y": "2", "x": "1"}, "name": "a"}, "kind": "Namespace", "apiVersion": "v1"})]).unwrap();
        assert_eq!(snapshot_text(&one), snapshot_text(&two));
        assert!(snapshot_text(&one).1.starts_with("sha256:"));
        assert_eq!(snapshot_text(&one).1.len(), "sha256:".len() + 64);
    }
}
