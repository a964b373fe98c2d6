//! The command line client, in the same binary as the server, mirroring `az fleet`:
//! `drydock updaterun create --fleet-name demo --name run-1 --upgrade-type Full
//! --kubernetes-version 1.30.5 --stages example-stages.json`. It speaks the REST API of a
//! server (`--server`, default `http://127.0.0.1:3000`) and prints its JSON answers.

mod gates;
mod http;
mod placements;
mod profiles;
mod tokens;

pub use gates::{GateCommand, gate};
pub use placements::{PlacementCommand, ResourceCommand, placement, resource};
pub use profiles::{ProfileCommand, auto_upgrade_profile};
pub use tokens::{TokenCommand, token};

use clap::{Args, Subcommand};
use http::Server;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct Fleet {
    /// The fleet.
    #[arg(long = "fleet-name", short = 'f')]
    pub fleet: String,
    /// The Drydock server to talk to.
    #[arg(long, env = "DRYDOCK_SERVER", default_value = "http://127.0.0.1:3000")]
    pub server: String,
}

#[derive(Args, Debug, Clone)]
pub struct Named {
    #[command(flatten)]
    pub at: Fleet,
    #[arg(long, short = 'n')]
    pub name: String,
}

/// One command line is parsed once per process: the size of `Create` costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum RunCommand {
    /// Create an update run: one by one, from `--stages FILE`, or from `--update-strategy-name`;
    /// it upgrades (`--upgrade-type`) or rolls an External placement out (`--placement`).
    Create {
        #[command(flatten)]
        run: Named,
        /// Full, ControlPlaneOnly or NodeImageOnly.
        #[arg(
            long,
            required_unless_present = "placement",
            conflicts_with = "placement"
        )]
        upgrade_type: Option<String>,
        /// Roll this External placement's snapshots out instead of upgrading.
        #[arg(long)]
        placement: Option<String>,
        /// With `--placement`: the snapshot of its resource (default: the newest).
        #[arg(long, requires = "placement")]
        snapshot: Option<i64>,
        /// Required for Full and ControlPlaneOnly, refused for NodeImageOnly.
        #[arg(long)]
        kubernetes_version: Option<String>,
        /// None (default: a member more than one minor behind fails, as in Azure), PerMember
        /// (it goes through the newest patch of each minor in between, in its turn) or
        /// PerStrategyPass (the fleet goes one minor at a time: a run of the whole strategy
        /// per minor, `{run}-hop-2` and on, each started when the one before completes).
        #[arg(long)]
        hops: Option<String>,
        /// Latest (default), Consistent or Custom.
        #[arg(long)]
        node_image_selection: Option<String>,
        /// For Custom: the node image versions to install, one per image family
        /// (space- or comma-separated).
        #[arg(long, num_args = 1.., value_delimiter = ',')]
        custom_node_image_versions: Vec<String>,
        /// Skip (default) or Fail: what becomes of a member whose cluster is stopped.
        #[arg(long)]
        stopped_cluster_action: Option<String>,
        /// Wait up to this many seconds for a version or image to reach a member's region,
        /// holding its group, instead of leaving it Pending at once.
        #[arg(long)]
        defer_until_available_seconds: Option<i64>,
        /// A JSON file shaped like the seeds' example-stages.json.
        #[arg(long, conflicts_with = "update_strategy_name")]
        stages: Option<PathBuf>,
        #[arg(long)]
        update_strategy_name: Option<String>,
    },
    Start(Named),
    Stop(Named),
    /// Skip targets, e.g. `--targets Group:group-1a Stage:stage2 Member:aks-1 AfterStageWait:stage1`.
    Skip {
        #[command(flatten)]
        run: Named,
        #[arg(long, num_args = 1.., required = true)]
        targets: Vec<String>,
    },
    Show(Named),
    /// What the run will do from here: order, targets, skips and pendings with reasons, ETA.
    Plan(Named),
    /// The members the run left behind (pending, skipped by a person, failed, not reached), why.
    LeftBehind(Named),
    /// A run of exactly the members a finished run left behind, to the same targets.
    CreateCatchUp {
        #[command(flatten)]
        run: Named,
        /// The new run's name (`{name}-catch-up` when not given).
        #[arg(long)]
        catch_up_name: Option<String>,
    },
    List(Fleet),
    Delete(Named),
}

#[derive(Subcommand, Debug)]
pub enum StrategyCommand {
    Create {
        #[command(flatten)]
        strategy: Named,
        #[arg(long)]
        stages: PathBuf,
    },
    Show(Named),
    List(Fleet),
    Delete(Named),
}

#[derive(Subcommand, Debug)]
pub enum MemberCommand {
    /// Join a cluster to the fleet (a simulated one is `sim:{name}`).
    Create {
        #[command(flatten)]
        member: Named,
        #[arg(long)]
        member_cluster_id: String,
        #[arg(long)]
        update_group: Option<String>,
    },
    /// Assign the member to an update group (an empty group removes it from its group).
    Update {
        #[command(flatten)]
        member: Named,
        #[arg(long)]
        update_group: String,
    },
    List(Fleet),
}

/// The credential the CLI sends: an API token from `DRYDOCK_TOKEN`, or else a user's password
/// from `DRYDOCK_USER` and `DRYDOCK_PASSWORD` (needed to create tokens). Never a flag, so it
/// does not show in the process list or the shell's history.
fn credential() -> Option<String> {
    use base64::Engine;
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(token) = set("DRYDOCK_TOKEN") {
        return Some(format!("Bearer {token}"));
    }
    let (user, password) = (set("DRYDOCK_USER")?, set("DRYDOCK_PASSWORD")?);
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Some(format!("Basic {encoded}"))
}

/// Sends one request; a 4xx/5xx answer becomes the error's own words.
fn call(server: &str, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let server = Server::parse(server)
        .map_err(anyhow::Error::msg)?
        .authorized(credential());
    let response = server
        .send(method, path, body.as_ref())
        .map_err(anyhow::Error::msg)?;
    if response.status >= 400 {
        let error = &response.body["error"];
        anyhow::bail!(
            "{} ({})",
            error["message"].as_str().unwrap_or("the request failed"),
            error["code"].as_str().unwrap_or("Error")
        );
    }
    Ok(response.body)
}

fn read_stages(file: &PathBuf) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))
}

/// `Group:group-1a` → `{"type": "Group", "name": "group-1a"}`.
fn skip_target(text: &str) -> anyhow::Result<Value> {
    let (kind, name) = text
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("skip target '{text}' should look like Group:name, Stage:name, Member:name or AfterStageWait:name"))?;
    Ok(json!({"type": kind, "name": name}))
}

fn runs(at: &Fleet) -> String {
    format!("/api/v1/fleets/{}/updateRuns", at.fleet)
}

fn run_path(run: &Named) -> String {
    format!("{}/{}", runs(&run.at), run.name)
}

pub fn update_run(command: RunCommand) -> anyhow::Result<Value> {
    match command {
        RunCommand::Create {
            run,
            upgrade_type,
            placement,
            snapshot,
            kubernetes_version,
            hops,
            node_image_selection,
            custom_node_image_versions,
            stopped_cluster_action,
            defer_until_available_seconds,
            stages,
            update_strategy_name,
        } => {
            let mut upgrade = json!({"type": upgrade_type});
            if let Some(version) = kubernetes_version {
                upgrade["kubernetesVersion"] = json!(version);
            }
            if let Some(hops) = hops {
                upgrade["hops"] = json!(hops);
            }
            let mut update = json!({"upgrade": upgrade});
            if let Some(selection) = node_image_selection {
                update["nodeImageSelection"] = json!({"type": selection});
            }
            if !custom_node_image_versions.is_empty() {
                // Sent as given (even without `Custom`), so the server says what is wrong.
                let versions: Vec<Value> = custom_node_image_versions
                    .iter()
                    .map(|v| json!({"version": v}))
                    .collect();
                update["nodeImageSelection"]["customNodeImageVersions"] = json!(versions);
            }
            if let Some(action) = stopped_cluster_action {
                update["stoppedClusterAction"] = json!(action);
            }
            if let Some(seconds) = defer_until_available_seconds {
                update["deferUntilAvailable"] = json!({"maxWaitInSeconds": seconds});
            }
            let mut properties = match placement {
                Some(name) => {
                    let mut rollout = json!({"placementName": name});
                    if let Some(index) = snapshot {
                        rollout["snapshot"] = json!(index);
                    }
                    json!({"placementRollout": rollout})
                }
                None => json!({"managedClusterUpdate": update}),
            };
            if let Some(file) = &stages {
                properties["strategy"] = read_stages(file)?;
            }
            if let Some(strategy) = update_strategy_name {
                properties["updateStrategyId"] = json!(strategy);
            }
            call(
                &run.at.server,
                "PUT",
                &run_path(&run),
                Some(json!({"properties": properties})),
            )
        }
        RunCommand::Start(run) => call(
            &run.at.server,
            "POST",
            &format!("{}/start", run_path(&run)),
            None,
        ),
        RunCommand::Stop(run) => call(
            &run.at.server,
            "POST",
            &format!("{}/stop", run_path(&run)),
            None,
        ),
        RunCommand::Skip { run, targets } => {
            let targets = targets
                .iter()
                .map(|t| skip_target(t))
                .collect::<anyhow::Result<Vec<_>>>()?;
            call(
                &run.at.server,
                "POST",
                &format!("{}/skip", run_path(&run)),
                Some(json!({"targets": targets})),
            )
        }
        RunCommand::Show(run) => call(&run.at.server, "GET", &run_path(&run), None),
        RunCommand::Plan(run) => call(
            &run.at.server,
            "GET",
            &format!("{}/plan", run_path(&run)),
            None,
        ),
        RunCommand::LeftBehind(run) => call(
            &run.at.server,
            "GET",
            &format!("{}/leftBehind", run_path(&run)),
            None,
        ),
        RunCommand::CreateCatchUp { run, catch_up_name } => {
            let body = catch_up_name.map(|name| json!({ "name": name }));
            let path = format!("{}/createCatchUpRun", run_path(&run));
            call(&run.at.server, "POST", &path, body)
        }
        RunCommand::List(at) => call(&at.server, "GET", &runs(&at), None),
        RunCommand::Delete(run) => call(&run.at.server, "DELETE", &run_path(&run), None),
    }
}

pub fn update_strategy(command: StrategyCommand) -> anyhow::Result<Value> {
    let path = |s: &Named| format!("/api/v1/fleets/{}/updateStrategies/{}", s.at.fleet, s.name);
    match command {
        StrategyCommand::Create { strategy, stages } => {
            let body = json!({"properties": {"strategy": read_stages(&stages)?}});
            call(&strategy.at.server, "PUT", &path(&strategy), Some(body))
        }
        StrategyCommand::Show(s) => call(&s.at.server, "GET", &path(&s), None),
        StrategyCommand::List(at) => call(
            &at.server,
            "GET",
            &format!("/api/v1/fleets/{}/updateStrategies", at.fleet),
            None,
        ),
        StrategyCommand::Delete(s) => call(&s.at.server, "DELETE", &path(&s), None),
    }
}

pub fn member(command: MemberCommand) -> anyhow::Result<Value> {
    let path = |m: &Named| format!("/api/v1/fleets/{}/members/{}", m.at.fleet, m.name);
    match command {
        MemberCommand::Create {
            member,
            member_cluster_id,
            update_group,
        } => {
            let mut properties = json!({"clusterResourceId": member_cluster_id});
            if let Some(group) = update_group {
                properties["group"] = json!(group);
            }
            call(
                &member.at.server,
                "PUT",
                &path(&member),
                Some(json!({"properties": properties})),
            )
        }
        MemberCommand::Update {
            member,
            update_group,
        } => {
            // A GET can be sent back as a PUT: change the group and keep the rest.
            let mut current = call(&member.at.server, "GET", &path(&member), None)?;
            current["properties"]["group"] = if update_group.is_empty() {
                Value::Null
            } else {
                json!(update_group)
            };
            call(&member.at.server, "PUT", &path(&member), Some(current))
        }
        MemberCommand::List(at) => call(
            &at.server,
            "GET",
            &format!("/api/v1/fleets/{}/members", at.fleet),
            None,
        ),
    }
}
