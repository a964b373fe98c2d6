//! Creating a run: the plan validates the request, and its layout (stages, groups, members) is
//! frozen into the run, so later edits of the strategy or of groups do not change it.

use super::plan::{FleetSnapshot, PlanRejection, plan};
use super::{EngineConfig, Plan};
use crate::model::run::{
    GroupRun, GroupState, MemberRun, MemberState, RunState, StageRun, StageState, UpdateRun,
    WaitState,
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
                    GroupRun {
                        name: group.name.clone(),
                        members,
                        state: GroupState::NotStarted,
                        limits: group.limits,
                    }
                })
                .collect(),
            state: StageState::NotStarted,
            wait: WaitState::NotStarted,
            limits: stage.limits,
        })
        .collect();
    let run = UpdateRun {
        name: name.to_owned(),
        uid: uid.to_owned(),
        update_strategy_id: None,
        spec,
        state: RunState::NotStarted,
        stages,
        not_in_any_stage: plan.not_in_any_stage.clone(),
        selected_images: None,
        max_allowed_failures: plan.max_allowed_failures,
    };
    Ok((run, plan))
}
