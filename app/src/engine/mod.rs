//! The orchestration engine: pure decisions over update runs (DESIGN.md §4). No IO, no clock, no
//! async: time comes in as a value, and everything here also compiles to WASM so the browser's
//! stage builder can preview a plan without a round trip.
//!
//! - [`plan`] resolves what a run will do: per-member targets, skips, pendings and failures with
//!   their reasons, the Consistent node image versions, the order and an ETA.
//! - [`create_run`] freezes a run's layout (stages, groups, members) from a plan.
//! - [`decide`] is the state machine over a run: commands, reports and the passing of time in;
//!   the new run, effects, events and the next wake-up out.
//! - [`controls`] and [`can_skip`] answer what an operator may do now, by the same rules.

mod advance;
mod budgets;
mod catch_up;
mod changes;
mod channels;
mod commands;
mod controls;
mod create;
mod decide;
mod eta;
mod forecast;
mod gates;
mod hops;
mod images;
mod layout;
mod overrides;
mod passes;
mod placement;
mod placement_status;
mod plan;
mod rollout;
mod schedule;
mod targets;

pub use crate::model::target::{PoolTarget, Step, UpgradeTarget};
pub use crate::model::update::RunSpec;
pub use catch_up::{LeftBehind, catch_up_spec, check_finished, has_ended, left_behind};
pub use changes::{Decided, Places, decide_in_place};
pub use channels::{ChannelRefusal, ChannelTarget, resolve_channel};
pub use controls::{Controls, can_approve, can_skip, can_skip_member, controls};
pub use create::{create_pass, create_run};
pub use decide::{
    Command, Decision, Effect, Input, Outcome, Rejection, Reply, Report, SkipKind, SkipTarget,
    Unobservable, World, decide,
};
pub use eta::DurationModel;
pub use forecast::{
    Forecast, GroupForecast, MemberForecast, StageForecast, clusters_to_observe, clusters_to_start,
    forecast,
};
pub use gates::ApproveGate;
pub use hops::{HopRule, first_pass, hop_count, resolve_with_hops};
pub use images::{ImageChoice, consistent_images};
pub use layout::{check_layout, members_in_run};
pub use overrides::{NamedOverride, Overridden, any_rule_picks, overridden};
pub use placement::{
    Candidate, MemberDecision, PlacementSchedule, PlacementScore, schedule_placement,
};
pub use placement_status::{
    AppliedRecord, MemberPlacementState, MemberPlacementStatus, MemberTarget, PlacementStatus,
    SnapshotSet, placement_status, revision_of,
};
pub use plan::{
    FleetSnapshot, GatePlan, GatesPlan, GroupPlan, HopPlan, MemberPlan, Plan, PlanMember,
    PlanRejection, StagePlan, not_in_any_stage_warning, plan, plan_pass, replan,
};
pub use rollout::{ALREADY_HOLDS, NOT_PICKED, PlacementAction};
pub use targets::{MemberAction, newest_workable_version, resolve_member};

use serde::{Deserialize, Serialize};

/// Tunables of the engine's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EngineConfig {
    /// After an upgrade, a node pool may lag its control plane by at most this many minor
    /// versions. Kubernetes allows 3; AKS, and so the default, 2.
    pub max_pool_skew_minors: i64,
    /// How long operations take, for ETAs (and for the simulated provider).
    pub durations: DurationModel,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_pool_skew_minors: 2,
            durations: DurationModel::default(),
        }
    }
}

/// Name of the one stage and one group of a run without a strategy (members one by one).
pub const IMPLICIT_NAME: &str = "all-members";

#[cfg(test)]
mod controls_tests;
#[cfg(test)]
pub(crate) mod decide_tests;
#[cfg(test)]
mod defer_tests;
#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod forecast_tests;
#[cfg(test)]
mod gates_tests;
#[cfg(test)]
pub(crate) mod harness;
#[cfg(test)]
mod hops_tests;
#[cfg(test)]
mod images_tests;
#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod passes_tests;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod rollout_tests;
#[cfg(test)]
mod tests;
