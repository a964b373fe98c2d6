//! `drydock resource` and `drydock placement`: Kubernetes objects placed on a fleet's members,
//! from files as `kubectl apply -f` takes them, and where each placement stands.

use super::{Fleet, Named, call};
use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ResourceCommand {
    /// Store the objects of a file (multi-document YAML, or a JSON list of objects) as the
    /// resource's next snapshot (the same objects again make none).
    Apply {
        #[command(flatten)]
        resource: Named,
        #[arg(long)]
        file: PathBuf,
    },
    Show(Named),
    List(Fleet),
    /// The kept snapshots, newest first.
    Snapshots(Named),
    Delete(Named),
}

#[derive(Subcommand, Debug)]
pub enum PlacementCommand {
    /// Create or replace a placement from a file of its properties (YAML or JSON:
    /// `resources`, `policy`, `strategy`, as the REST API takes them).
    Create {
        #[command(flatten)]
        placement: Named,
        #[arg(long)]
        file: PathBuf,
    },
    /// A placement with every member's state and why.
    Show(Named),
    List(Fleet),
    Delete(Named),
}

fn read(file: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))
}

/// What a resource file says, as the REST API takes it: a JSON list as `manifests`, anything
/// else as `yaml` (which the server reads, naming the line of a problem).
fn objects(text: &str) -> anyhow::Result<Value> {
    if text.trim_start().starts_with('[') {
        let list: Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("the file is not a JSON list of objects: {e}"))?;
        return Ok(json!({ "manifests": list }));
    }
    Ok(json!({ "yaml": text }))
}

pub fn resource(command: ResourceCommand) -> anyhow::Result<Value> {
    let path = |r: &Named| format!("/api/v1/fleets/{}/resources/{}", r.at.fleet, r.name);
    match command {
        ResourceCommand::Apply { resource, file } => {
            let body = json!({ "properties": objects(&read(&file)?)? });
            call(&resource.at.server, "PUT", &path(&resource), Some(body))
        }
        ResourceCommand::Show(r) => call(&r.at.server, "GET", &path(&r), None),
        ResourceCommand::List(at) => call(
            &at.server,
            "GET",
            &format!("/api/v1/fleets/{}/resources", at.fleet),
            None,
        ),
        ResourceCommand::Snapshots(r) => call(
            &r.at.server,
            "GET",
            &format!("{}/snapshots", path(&r)),
            None,
        ),
        ResourceCommand::Delete(r) => call(&r.at.server, "DELETE", &path(&r), None),
    }
}

pub fn placement(command: PlacementCommand) -> anyhow::Result<Value> {
    let path = |p: &Named| format!("/api/v1/fleets/{}/placements/{}", p.at.fleet, p.name);
    match command {
        PlacementCommand::Create { placement, file } => {
            let text = read(&file)?;
            let documents = crate::yaml::parse_documents(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let [properties] = documents.values.as_slice() else {
                anyhow::bail!(
                    "{}: give the placement's properties as one YAML or JSON document",
                    file.display()
                );
            };
            let body = json!({ "properties": properties });
            call(&placement.at.server, "PUT", &path(&placement), Some(body))
        }
        PlacementCommand::Show(p) => call(&p.at.server, "GET", &path(&p), None),
        PlacementCommand::List(at) => call(
            &at.server,
            "GET",
            &format!("/api/v1/fleets/{}/placements", at.fleet),
            None,
        ),
        PlacementCommand::Delete(p) => call(&p.at.server, "DELETE", &path(&p), None),
    }
}
