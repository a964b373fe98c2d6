//! `maxConcurrency` and `maxAllowedFailures` at every level, and the plan timing members
//! exactly as the run starts them.

use super::fixtures::*;
use super::harness::Harness;
use super::properties::{GateShape, Limits, gate_shape, limited_strategy, limits, members, shape};
use super::*;
use crate::model::gate::GateType;
use crate::model::names::MemberName;
use crate::model::run::{MemberState, RunState, State, Subject};
use crate::model::time::Timestamp;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Members `{prefix}1..=n` of `group`, all behind the target.
fn in_group(prefix: &str, group: &str, n: usize) -> Vec<PlanMember> {
    (1..=n)
        .map(|i| member(&format!("{prefix}{i}"), Some(group), "eastus", "1.29.9"))
        .collect()
}

fn staged(members: Vec<PlanMember>, strategy: serde_json::Value) -> Harness {
    let spec = RunSpec {
        strategy: Some(super::fixtures::strategy(strategy)),
        ..full("1.30.5")
    };
    Harness::new(&fleet(members), spec, NOW)
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

#[test]
fn a_group_upgrades_up_to_its_max_concurrency_at_once() {
    let mut h = staged(
        in_group("a", "g1", 5),
        serde_json::json!({"stages": [{"name": "s", "groups": [{"name": "g1", "maxConcurrency": "2"}]}]}),
    );
    h.start();
    assert_eq!(h.in_flight(), ["a1", "a2"]);
    h.complete("a2");
    assert_eq!(
        h.in_flight(),
        ["a1", "a3"],
        "a freed place is taken at once"
    );
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn percentages_round_down_but_never_below_one() {
    let mut h = staged(
        [in_group("a", "g1", 5), in_group("b", "g2", 3)].concat(),
        serde_json::json!({"stages": [{"name": "s", "groups": [
            {"name": "g1", "maxConcurrency": "50%"}, {"name": "g2", "maxConcurrency": "10%"}]}]}),
    );
    h.start();
    assert_eq!(sorted(h.in_flight()), ["a1", "a2", "b1"]);
    assert_eq!(h.run.stages[0].groups[0].limits.max_concurrency, Some(2));
    assert_eq!(h.run.stages[0].groups[1].limits.max_concurrency, Some(1));
}

#[test]
fn a_stage_ceiling_holds_across_its_groups_and_shares_places_in_turn() {
    let mut h = staged(
        [in_group("a", "g1", 4), in_group("b", "g2", 4)].concat(),
        serde_json::json!({"stages": [{"name": "s", "maxConcurrency": "3", "groups": [
            {"name": "g1", "maxConcurrency": "4"}, {"name": "g2", "maxConcurrency": "4"}]}]}),
    );
    h.start();
    assert_eq!(sorted(h.in_flight()), ["a1", "a2", "b1"]);
    h.complete("a1");
    assert_eq!(sorted(h.in_flight()), ["a2", "a3", "b1"]);
    h.complete("b1");
    h.complete("a2");
    assert_eq!(h.run.stages[0].in_flight(), 3);
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn without_limits_a_group_goes_one_at_a_time_and_groups_in_parallel() {
    let mut h = staged(
        [in_group("a", "g1", 2), in_group("b", "g2", 2)].concat(),
        serde_json::json!({"stages": [{"name": "s", "groups": [{"name": "g1"}, {"name": "g2"}]}]}),
    );
    h.start();
    assert_eq!(sorted(h.in_flight()), ["a1", "b1"]);
}

fn error_of(h: &Harness) -> String {
    match &h.run.state {
        RunState::Failed { error, .. } => error.clone(),
        other => panic!("the run did not fail: {other:?}"),
    }
}

#[test]
fn a_group_goes_on_within_its_budget_and_fails_past_it() {
    let mut h = staged(
        in_group("a", "g1", 4),
        serde_json::json!({"stages": [{"name": "s", "groups": [{"name": "g1", "maxAllowedFailures": "1"}]}]}),
    );
    h.start();
    h.fail("a1", "node drain timed out");
    assert!(matches!(h.run.state, RunState::Running { .. }));
    assert_eq!(h.in_flight(), ["a2"], "the group goes on after one failure");
    h.fail("a2", "quota exceeded");
    assert_eq!(
        error_of(&h),
        "member a2 failed: quota exceeded; 2 failed member(s) exceed the maxAllowedFailures of group g1 (1)"
    );
    assert_eq!(h.run.stages[0].groups[0].state.public(), State::Failed);
    assert_eq!(h.run.stages[0].state.public(), State::Failed);
    assert!(
        h.in_flight().is_empty(),
        "nothing starts after the budget is spent"
    );
    assert_eq!(h.run.status().failure_count, 2);
}

#[test]
fn a_group_over_its_own_budget_fails_whatever_its_stage_allows() {
    let mut h = staged(
        [in_group("a", "g1", 2), in_group("b", "g2", 2)].concat(),
        serde_json::json!({"stages": [{"name": "s", "maxAllowedFailures": "5", "groups": [
            {"name": "g1", "maxAllowedFailures": "0"}, {"name": "g2"}]}]}),
    );
    h.start();
    h.fail("b1", "boom");
    assert!(
        matches!(h.run.state, RunState::Running { .. }),
        "g2 has no budget of its own: the stage's holds"
    );
    h.fail("a1", "boom");
    assert!(error_of(&h).contains("maxAllowedFailures of group g1 (0)"));
}

#[test]
fn a_stage_budget_counts_failures_across_its_groups() {
    let mut h = staged(
        [in_group("a", "g1", 2), in_group("b", "g2", 2)].concat(),
        serde_json::json!({"stages": [{"name": "s", "maxAllowedFailures": "1", "groups": [{"name": "g1"}, {"name": "g2"}]}]}),
    );
    h.start();
    h.fail("a1", "boom");
    assert!(matches!(h.run.state, RunState::Running { .. }));
    h.fail("b1", "bang");
    assert_eq!(
        error_of(&h),
        "member b1 failed: bang; 2 failed member(s) exceed the maxAllowedFailures of stage s (1)"
    );
    assert_eq!(
        h.run.stages[0].groups[1].state.public(),
        State::Running,
        "a group within its own budget is not failed"
    );
    let status = h.run.status();
    assert_eq!(status.stages[0].failure_count, 2);
    assert_eq!(status.stages[0].groups[0].failure_count, 1);
}

#[test]
fn a_run_budget_counts_failures_across_stages() {
    let mut h = staged(
        [in_group("a", "g1", 2), in_group("b", "g2", 2)].concat(),
        serde_json::json!({"maxAllowedFailures": "1", "stages": [
            {"name": "s1", "maxAllowedFailures": "3", "groups": [{"name": "g1"}]},
            {"name": "s2", "maxAllowedFailures": "3", "groups": [{"name": "g2"}]}]}),
    );
    h.start();
    h.fail("a1", "boom");
    h.complete("a2");
    assert_eq!(h.run.stages[0].state.public(), State::Completed);
    h.fail("b1", "bang");
    assert!(error_of(&h).contains("maxAllowedFailures of the run (1)"));
    assert_eq!(h.run.stages[1].state.public(), State::Failed);
}

#[test]
fn a_run_within_its_budgets_completes_and_says_how_many_failed() {
    let mut h = staged(
        in_group("a", "g1", 10),
        serde_json::json!({"stages": [{"name": "s", "groups": [{"name": "g1", "maxConcurrency": "5", "maxAllowedFailures": "10%"}]}]}),
    );
    h.start();
    h.fail("a3", "boom");
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    let completed = h
        .events
        .iter()
        .find(|e| e.subject == Subject::Run && e.state == State::Completed)
        .unwrap();
    assert_eq!(
        completed.message.as_deref(),
        Some("1 member(s) failed, within the failure budgets")
    );
    let status = h.run.status();
    assert_eq!(status.failure_count, 1);
    assert_eq!(status.stages[0].groups[0].max_allowed_failures, Some(1));
    assert_eq!(status.stages[0].groups[0].max_concurrency, Some(5));
}

#[test]
fn a_retry_starts_the_failed_members_of_unfinished_groups_only() {
    let mut h = staged(
        [in_group("a", "g1", 2), in_group("b", "g2", 2)].concat(),
        serde_json::json!({"stages": [{"name": "s", "maxAllowedFailures": "1", "groups": [{"name": "g1"}, {"name": "g2"}]}]}),
    );
    h.start();
    h.fail("a1", "boom");
    h.complete("a2");
    assert_eq!(h.run.stages[0].groups[0].state.public(), State::Completed);
    h.fail("b1", "bang");
    assert!(matches!(h.run.state, RunState::Failed { .. }));
    assert_eq!(
        h.start(),
        Reply::Retrying { failed_members: 1 },
        "b1 is retried; a1's group had finished"
    );
    assert!(matches!(h.member_state("a1"), MemberState::Failed { .. }));
    assert_eq!(sorted(h.in_flight()), ["b1"]);
}

#[test]
fn the_plan_times_batches_and_resolves_budgets() {
    let f = fleet(in_group("a", "g1", 5));
    let spec = RunSpec {
        strategy: Some(strategy(
            serde_json::json!({"maxAllowedFailures": "20%", "stages": [
            {"name": "s", "maxAllowedFailures": "2", "groups": [{"name": "g1", "maxConcurrency": "2"}]}]}),
        )),
        ..full("1.30.5")
    };
    let p = plan(&f, &spec, NOW, &EngineConfig::default()).unwrap();
    let starts: Vec<i64> = p.stages[0].groups[0]
        .members
        .iter()
        .map(|m| m.starts_after_ms.unwrap())
        .collect();
    let one = p.stages[0].groups[0].members[0].ends_after_ms.unwrap();
    assert_eq!(starts, [0, 0, one, one, 2 * one], "batches of two");
    assert_eq!(p.duration_ms, 3 * one);
    assert_eq!(p.stages[0].limits.max_allowed_failures, Some(2));
    assert_eq!(p.max_allowed_failures, Some(1));
}

#[test]
fn a_plan_with_failures_says_whether_a_budget_is_spent() {
    let broken = |name: &str| {
        with_cluster(member(name, Some("g1"), "eastus", "1.27.3"), |c| {
            c.node_pools[0].kubernetes_version = v("1.27.3");
        })
    };
    let mut members = in_group("a", "g1", 2);
    members.push(broken("x1"));
    let warnings = |budget: &str| {
        let spec = RunSpec {
            strategy: Some(strategy(serde_json::json!({"stages": [
                {"name": "s", "groups": [{"name": "g1", "maxAllowedFailures": budget}]}]}))),
            ..full("1.30.5")
        };
        plan(
            &fleet(members.clone()),
            &spec,
            NOW,
            &EngineConfig::default(),
        )
        .unwrap()
        .warnings
    };
    assert!(
        warnings("0")
            .iter()
            .any(|w| w.contains("exceed the failure budget of group g1 (allowed 0)")),
        "{:?}",
        warnings("0")
    );
    assert!(
        warnings("1")
            .iter()
            .any(|w| w.contains("within the failure budgets")),
        "{:?}",
        warnings("1")
    );
}

/// Approves every gate the run waits at, as an operator who approves at once would, again
/// while approving one brings the run to the next (a stage whose members are all already there
/// passes straight on to its own gates).
fn approve_reached(h: &mut Harness) {
    loop {
        let reached: Vec<String> = h
            .run
            .gates()
            .filter(|(_, _, g)| g.reached() && g.config.kind == GateType::Approval)
            .map(|(_, _, g)| g.name.clone())
            .collect();
        if reached.is_empty() {
            return;
        }
        approve_each(h, reached);
    }
}

fn approve_each(h: &mut Harness, reached: Vec<String>) {
    for gate in reached {
        let approval = ApproveGate {
            gate,
            by: "test".into(),
            comment: None,
            confirm: true,
            if_match: None,
        };
        h.command(Command::Approve(approval)).unwrap();
    }
}

/// Drives a run as its provider would, in time: each upgrade ends when the duration model
/// says, everything ending at the same moment is reported together; approval gates are approved
/// as soon as they are reached. Returns when each member started, and when the run completed.
fn run_in_time(h: &mut Harness) -> (BTreeMap<MemberName, Timestamp>, Option<Timestamp>) {
    let mut starts = BTreeMap::new();
    h.start();
    for _ in 0..10_000 {
        approve_reached(h);
        for effect in h.effects.drain(..) {
            let Effect::StartUpgrade { member, .. } = effect;
            starts.insert(member, h.now);
        }
        let ends: Vec<(MemberName, u32, Timestamp)> = h
            .run
            .members()
            .filter_map(|m| match &m.state {
                MemberState::Upgrading {
                    attempt,
                    started_at,
                    target,
                    ..
                } => {
                    let cluster = h.world.clusters.get(&m.cluster_resource_id)?;
                    let ends = started_at.plus_millis(h.cfg.durations.upgrade_ms(target, cluster));
                    Some((m.name.clone(), *attempt, ends))
                }
                _ => None,
            })
            .collect();
        let next = ends.iter().map(|(_, _, at)| *at).chain(h.wake_at).min();
        let Some(next) = next else {
            break;
        };
        h.now = h.now.max(next);
        let reports: Vec<Report> = ends
            .into_iter()
            .filter(|(_, _, at)| *at <= h.now)
            .map(|(member, attempt, _)| {
                let m = h.run.members().find(|m| m.name == member).unwrap();
                if let MemberState::Upgrading { target, .. } = &m.state {
                    let (cluster, target) = (m.cluster_resource_id.clone(), target.clone());
                    h.world.apply(&cluster, &target);
                }
                Report {
                    member,
                    attempt,
                    outcome: Outcome::Succeeded,
                }
            })
            .collect();
        match reports.is_empty() {
            true => h.tick(),
            false => {
                h.input(Input::Reports(reports)).unwrap();
            }
        }
    }
    let completed = match h.run.state {
        RunState::Completed { completed_at, .. } => Some(completed_at),
        _ => None,
    };
    (starts, completed)
}

fn plan_matches_run(
    shapes: &[super::properties::Shape],
    wait_seconds: i64,
    limits: &Limits,
    gates: &GateShape,
) -> Result<(), TestCaseError> {
    let f = fleet(members(shapes));
    let spec = RunSpec {
        strategy: Some(limited_strategy(wait_seconds, limits, gates)),
        ..full("1.30.5")
    };
    let p = plan(&f, &spec, NOW, &EngineConfig::default()).unwrap();
    let mut h = Harness::new(&f, spec, NOW);
    let (starts, completed) = run_in_time(&mut h);
    for planned in p.members() {
        let started = starts.get(&planned.name).copied();
        let expected = planned.starts_after_ms.map(|ms| NOW.plus_millis(ms));
        prop_assert_eq!(started, expected, "member {}", planned.name);
    }
    prop_assert_eq!(completed, Some(NOW.plus_millis(p.duration_ms)));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// The plan's order and batches are what the run does: every member starts exactly when
    /// the plan said, under any limits, windows, waits and gates (approved when reached).
    #[test]
    fn the_run_starts_each_member_when_the_plan_says(
        shapes in proptest::collection::vec(shape(), 4..16),
        wait_minutes in 0i64..120,
        limits in limits(),
        gates in gate_shape(),
    ) {
        plan_matches_run(&shapes, wait_minutes * 60, &limits, &gates)?;
    }
}
