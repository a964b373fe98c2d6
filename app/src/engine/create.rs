//! Creating a run: the plan validates the request, and its layout (stages, groups, members) is
//! frozen into the run, so later edits of the strategy or of groups do not change it.

use super::plan::{FleetSnapshot, PlanRejection, plan, plan_pass};
use super::{EngineConfig, GatePlan, Plan};
use crate::model::gate::{GateRun, Timing, gate_name};
use crate::model::run::{
    GroupRun, GroupState, MemberRun, MemberState, RunHop, RunState, StageRun, StageState,
    UpdateRun, WaitState,
};
use crate::model::time::Timestamp;
use crate::model::update::RunSpec;

/// A new run in `NotStarted`, and the plan it was made from. `uid` must never have been given
/// to another run (the runtime builds operation ids from it).
pub fn create_run(
    name: &str,
    uid: &str,
    fleet: &FleetSnapshot,
    spec: RunSpec,
    now: Timestamp,
    cfg: &EngineConfig,
) -> Result<(UpdateRun, Plan), PlanRejection> {
    let plan = plan(fleet, &spec, now, cfg)?;
    Ok(freeze(name, uid, spec, plan))
}

/// The run of pass `hop` of a chain (see [`RunHop`]), over the fleet as it is now: the pass
/// before it completed.
pub fn create_pass(
    name: &str,
    uid: &str,
    fleet: &FleetSnapshot,
    spec: RunSpec,
    hop: RunHop,
    now: Timestamp,
    cfg: &EngineConfig,
) -> Result<(UpdateRun, Plan), PlanRejection> {
    let plan = plan_pass(fleet, &spec, hop, now, cfg)?;
    Ok(freeze(name, uid, spec, plan))
}

/// The run `plan` lays out, not started; a chain's first pass names the chain after itself.
fn freeze(name: &str, uid: &str, spec: RunSpec, plan: Plan) -> (UpdateRun, Plan) {
    let hop = plan.hop.clone().map(|mut hop| {
        if hop.first_run.is_empty() {
            hop.first_run = name.to_owned();
        }
        hop
    });
    let stages = plan
        .stages
        .iter()
        .map(|stage| StageRun {
            name: stage.name.clone(),
            after_stage_wait_in_seconds: stage.after_stage_wait_in_seconds,
            groups: stage
                .groups
                .iter()
                .map(|group| {
                    let mut members: Vec<MemberRun> = group
                        .members
                        .iter()
                        .map(|m| MemberRun {
                            name: m.name.clone(),
                            cluster_resource_id: m.cluster_resource_id.clone(),
                            attempts: 0,
                            state: MemberState::NotStarted,
                        })
                        .collect();
                    members.sort_by(|a, b| a.name.cmp(&b.name));
                    let gates = |timing, plans: &[GatePlan]| {
                        gate_runs(name, &stage.name, Some(&group.name), timing, plans)
                    };
                    GroupRun {
                        name: group.name.clone(),
                        members,
                        state: GroupState::NotStarted,
                        limits: group.limits,
                        before_gates: gates(Timing::Before, &group.gates.before),
                        after_gates: gates(Timing::After, &group.gates.after),
                    }
                })
                .collect(),
            state: StageState::NotStarted,
            wait: WaitState::NotStarted,
            limits: stage.limits,
            before_gates: gate_runs(name, &stage.name, None, Timing::Before, &stage.gates.before),
            after_gates: gate_runs(name, &stage.name, None, Timing::After, &stage.gates.after),
        })
        .collect();
    let run = UpdateRun {
        name: name.to_owned(),
        uid: uid.to_owned(),
        update_strategy_id: None,
        auto_upgrade_profile_id: None,
        catch_up_of: None,
        hop,
        spec,
        state: RunState::NotStarted,
        stages,
        not_in_any_stage: plan.not_in_any_stage.clone(),
        selected_images: None,
        max_allowed_failures: plan.max_allowed_failures,
    };
    (run, plan)
}

/// The gates at one place of the run, named by where they are.
fn gate_runs(
    run: &str,
    stage: &str,
    group: Option<&str>,
    timing: Timing,
    plans: &[GatePlan],
) -> Vec<GateRun> {
    plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let name = gate_name(run, stage, group, timing, i);
            GateRun::new(name, timing, plan.config.clone())
        })
        .collect()
}
