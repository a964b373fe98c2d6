//! Gates as fleet resources (`/fleets/{fleet}/gates`): read from the runs that hold them, and
//! approved through the run's driver like any other command, so an approval is decided,
//! stored and evented exactly once.

use super::Drydock;
use app::engine::{ApproveGate, Command, Reply};
use app::model::access::{Caller, Role};
use app::model::error::AppError;
use app::model::gate::{GateResource, GateType, MAX_COMMENT_LEN};
use app::model::names::{FleetName, RunName};
use app::model::precondition::Precondition;
use app::model::run::{State, UpdateRun};

/// Which gates a list shows; each filter unset shows all.
#[derive(Debug, Clone, Default)]
pub struct GateFilter {
    pub state: Option<State>,
    pub gate_type: Option<GateType>,
    pub run: Option<RunName>,
}

impl GateFilter {
    fn admits(&self, gate: &GateResource) -> bool {
        let p = &gate.properties;
        self.state.is_none_or(|s| p.state == s)
            && self.gate_type.is_none_or(|t| p.gate_type == t)
            && self
                .run
                .as_ref()
                .is_none_or(|r| p.target.update_run_properties.name == r.as_str())
    }
}

/// An approval as a caller asks for it.
#[derive(Debug, Clone, Default)]
pub struct GateApproval {
    pub comment: Option<String>,
    pub confirm: bool,
}

fn gate_not_found(fleet: &FleetName, name: &str) -> AppError {
    AppError::not_found(
        "GateNotFound",
        format!("Fleet {fleet} has no gate named {name}."),
    )
}

/// The run a gate's name says it belongs to.
fn run_of_gate(fleet: &FleetName, name: &str) -> Result<RunName, AppError> {
    GateResource::run_of(name)
        .and_then(|run| RunName::parse(run).ok())
        .ok_or_else(|| gate_not_found(fleet, name))
}

/// The run's gates as resources of `fleet`.
pub fn gates_of(fleet: &FleetName, run: &UpdateRun) -> Vec<GateResource> {
    run.gates()
        .map(|(stage, group, gate)| {
            let group = group.map(|g| g.name.as_str());
            GateResource::new(fleet.as_str(), &run.name, &stage.name, group, gate)
        })
        .collect()
}

impl Drydock {
    pub async fn list_gates(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        filter: &GateFilter,
    ) -> Result<Vec<GateResource>, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        let runs = match &filter.run {
            Some(run) => vec![self.get_run(caller, fleet, run).await?],
            None => self.list_runs(caller, fleet).await?,
        };
        Ok(runs
            .iter()
            .flat_map(|stored| gates_of(fleet, &stored.run))
            .filter(|gate| filter.admits(gate))
            .collect())
    }

    pub async fn get_gate(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &str,
    ) -> Result<GateResource, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        let run = run_of_gate(fleet, name)?;
        let stored = match self.get_run(caller, fleet, &run).await {
            Ok(stored) => stored,
            Err(error) if error.code == "UpdateRunNotFound" => {
                return Err(gate_not_found(fleet, name));
            }
            Err(error) => return Err(error),
        };
        gates_of(fleet, &stored.run)
            .into_iter()
            .find(|g| g.name == name)
            .ok_or_else(|| gate_not_found(fleet, name))
    }

    /// Approves a gate the run waits at (`If-Match`: only the gate as it was read). Answers
    /// with the engine's reply and the gate afterwards.
    pub async fn approve_gate(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &str,
        approval: GateApproval,
        precondition: &Precondition,
    ) -> Result<(Reply, GateResource), AppError> {
        caller.require(Role::Operator, Some(fleet))?;
        if approval
            .comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_COMMENT_LEN)
        {
            return Err(AppError::invalid(
                "InvalidComment",
                format!("An approval's comment may be {MAX_COMMENT_LEN} characters at most."),
            ));
        }
        let gate = self.get_gate(caller, fleet, name).await?;
        let etag = gate.etag.parse::<i64>().ok();
        precondition.check(&format!("Gate {name}"), etag)?;
        let if_match = match precondition {
            Precondition::Etag(tags) => Some(tags.clone()),
            Precondition::Unconditional | Precondition::Present | Precondition::Absent => None,
        };
        let run_name = run_of_gate(fleet, name)?;
        let command = Command::Approve(ApproveGate {
            gate: name.to_owned(),
            by: caller.name.clone(),
            comment: approval.comment.filter(|c| !c.trim().is_empty()),
            confirm: approval.confirm,
            if_match,
        });
        let reply = self.command_run(caller, fleet, &run_name, command).await?;
        Ok((reply, self.get_gate(caller, fleet, name).await?))
    }
}
