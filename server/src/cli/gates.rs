//! `drydock gate list|show|approve`, like `az fleet gate`.

use super::{Fleet, call};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

#[derive(Args, Debug, Clone)]
pub struct GateName {
    #[command(flatten)]
    pub at: Fleet,
    /// The gate, e.g. `run-1.canary.before` (`drydock gate list` names them).
    #[arg(long = "gate-name", short = 'n', alias = "name")]
    pub name: String,
}

#[derive(Subcommand, Debug)]
pub enum GateCommand {
    /// The fleet's gates, e.g. `--state Pending --gate-type Approval`.
    List {
        #[command(flatten)]
        at: Fleet,
        /// Pending, Completed or Skipped.
        #[arg(long)]
        state: Option<String>,
        /// Approval or ScheduledStart.
        #[arg(long)]
        gate_type: Option<String>,
        /// Only the gates of this update run.
        #[arg(long)]
        update_run_name: Option<String>,
    },
    Show(GateName),
    /// Approve a gate the run waits at (its state becomes Completed).
    Approve {
        #[command(flatten)]
        gate: GateName,
        /// Why, for the record.
        #[arg(long)]
        comment: Option<String>,
        /// Approve even though some members behind the gate cannot start yet.
        #[arg(long)]
        confirm: bool,
    },
}

fn gates(at: &Fleet) -> String {
    format!("/api/v1/fleets/{}/gates", at.fleet)
}

pub fn gate(command: GateCommand) -> anyhow::Result<Value> {
    match command {
        GateCommand::List {
            at,
            state,
            gate_type,
            update_run_name,
        } => {
            let filters: Vec<String> = [
                ("state", state),
                ("gateType", gate_type),
                ("updateRun", update_run_name),
            ]
            .into_iter()
            .filter_map(|(key, value)| Some(format!("{key}={}", value?)))
            .collect();
            let query = match filters.is_empty() {
                true => String::new(),
                false => format!("?{}", filters.join("&")),
            };
            call(&at.server, "GET", &format!("{}{query}", gates(&at)), None)
        }
        GateCommand::Show(gate) => call(
            &gate.at.server,
            "GET",
            &format!("{}/{}", gates(&gate.at), gate.name),
            None,
        ),
        GateCommand::Approve {
            gate,
            comment,
            confirm,
        } => {
            let mut properties = json!({"state": "Completed", "confirm": confirm});
            if let Some(comment) = comment {
                properties["comment"] = json!(comment);
            }
            call(
                &gate.at.server,
                "PATCH",
                &format!("{}/{}", gates(&gate.at), gate.name),
                Some(json!({ "properties": properties })),
            )
        }
    }
}
