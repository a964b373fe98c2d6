//! Property tests of `decide` over random fleets and random sequences of operator commands,
//! provider reports and the passing of time.

use super::fixtures::*;
use super::harness::Harness;
use super::*;
use crate::model::run::{MemberState, RunState, UpdateRun};
use crate::model::time::MS_PER_MINUTE;
use crate::model::window::DayOfWeek;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Tick {
        minutes: i64,
    },
    Complete(usize),
    /// Every in-flight upgrade succeeds, reported in one batch.
    CompleteAll,
    Fail(usize),
    Start,
    Stop,
    Skip(SkipKind, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0i64..240).prop_map(|minutes| Op::Tick { minutes }),
        4 => (0usize..16).prop_map(Op::Complete),
        2 => Just(Op::CompleteAll),
        1 => (0usize..16).prop_map(Op::Fail),
        2 => Just(Op::Start),
        1 => Just(Op::Stop),
        1 => (prop_oneof![Just(SkipKind::Member), Just(SkipKind::Group), Just(SkipKind::Stage), Just(SkipKind::AfterStageWait)], 0usize..16)
            .prop_map(|(kind, i)| Op::Skip(kind, i)),
    ]
}

/// One member's shape: group (0–3 or none), behind or at target, region, window day.
pub(super) type Shape = (Option<usize>, bool, bool, Option<u8>);

/// A stage's or group's limits as a strategy sets them: `maxConcurrency` 1–4 and
/// `maxAllowedFailures` 0–2, either possibly unset.
pub(super) type LimitShape = (Option<u8>, Option<u8>);

pub(super) fn limit_shape() -> impl Strategy<Value = LimitShape> {
    (proptest::option::of(1u8..5), proptest::option::of(0u8..3))
}

/// The limits of stages s1, s2, groups g1–g4 and the run.
pub(super) type Limits = ([LimitShape; 6], Option<u8>);

pub(super) fn limits() -> impl Strategy<Value = Limits> {
    (
        proptest::array::uniform6(limit_shape()),
        proptest::option::of(0u8..4),
    )
}

/// Gates a strategy may have: a scheduled start before s2 (on a day), approvals before g1, after
/// g3 and after s1.
pub(super) type GateShape = (Option<u8>, bool, bool, bool);

pub(super) fn gate_shape() -> impl Strategy<Value = GateShape> {
    (
        proptest::option::of(0u8..7),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
}

/// A two-stage strategy (g1, g2 then g3, g4) with the given limits and gates.
pub(super) fn limited_strategy(
    wait_seconds: i64,
    limits: &Limits,
    gates: &GateShape,
) -> crate::model::strategy::UpdateStrategy {
    let (levels, run) = limits;
    let with = |mut value: serde_json::Value, (concurrency, failures): LimitShape| {
        if let Some(c) = concurrency {
            value["maxConcurrency"] = c.to_string().into();
        }
        if let Some(f) = failures {
            value["maxAllowedFailures"] = f.to_string().into();
        }
        value
    };
    let group = |i: usize| {
        with(
            serde_json::json!({"name": format!("g{}", i + 1)}),
            levels[2 + i],
        )
    };
    let mut document = serde_json::json!({"stages": [
        with(serde_json::json!({"name": "s1", "groups": [group(0), group(1)], "afterStageWaitInSeconds": wait_seconds}), levels[0]),
        with(serde_json::json!({"name": "s2", "groups": [group(2), group(3)]}), levels[1]),
    ]});
    if let Some(r) = run {
        document["maxAllowedFailures"] = r.to_string().into();
    }
    let (scheduled, before_g1, after_g3, after_s1) = *gates;
    let approval = serde_json::json!([{"type": "Approval"}]);
    if let Some(day) = scheduled {
        document["stages"][1]["beforeGates"] = serde_json::json!([{"type": "ScheduledStart",
            "scheduledStartConfiguration": {"startDay": DayOfWeek::ALL[day as usize], "startTime": "05:30", "utcOffset": "+02:00"}}]);
    }
    if before_g1 {
        document["stages"][0]["groups"][0]["beforeGates"] = approval.clone();
    }
    if after_g3 {
        document["stages"][1]["groups"][0]["afterGates"] = approval.clone();
    }
    if after_s1 {
        document["stages"][0]["afterGates"] = approval;
    }
    strategy(document)
}

pub(super) fn shape() -> impl Strategy<Value = Shape> {
    (
        proptest::option::of(0usize..4),
        any::<bool>(),
        any::<bool>(),
        proptest::option::weighted(0.2, 0u8..7),
    )
}

/// The members the shapes describe; the first four make sure every group g1–g4 exists.
pub(super) fn members(shapes: &[Shape]) -> Vec<PlanMember> {
    shapes
        .iter()
        .enumerate()
        .map(|(i, (group, behind, east, day))| {
            let group = if i < 4 { Some(i) } else { *group };
            let name = format!("m{i:02}");
            let group_name = group.map(|g| format!("g{}", g + 1));
            let version = if *behind { "1.29.9" } else { "1.30.5" };
            let region = if *east { "eastus" } else { "westeurope" };
            with_cluster(member(&name, group_name.as_deref(), region, version), |c| {
                c.maintenance_window = day.map(|d| window(DayOfWeek::ALL[d as usize], "03:00"));
                c.node_pools[0].count = 1 + (i as u32 * 7) % 9;
            })
        })
        .collect()
}

fn harness(shapes: &[Shape], wait_seconds: i64, staged: Option<&Limits>) -> Harness {
    let members = members(shapes);
    let no_gates = (None, false, false, false);
    let strategy = staged.map(|limits| limited_strategy(wait_seconds, limits, &no_gates));
    Harness::new(
        &fleet(members),
        RunSpec {
            strategy,
            ..full("1.30.5")
        },
        NOW,
    )
}

fn member_names(run: &UpdateRun) -> Vec<String> {
    run.members().map(|m| m.name.to_string()).collect()
}

fn apply(h: &mut Harness, op: &Op) -> Option<Input> {
    let names = member_names(&h.run);
    let in_flight = h.in_flight();
    let pick = |list: &[String], i: usize| (!list.is_empty()).then(|| list[i % list.len()].clone());
    match op {
        Op::Tick { minutes } => {
            h.now = h.now.plus_millis(minutes * MS_PER_MINUTE);
            Some(Input::Tick)
        }
        Op::Complete(i) => pick(&in_flight, *i).map(|m| {
            h.complete(&m);
            None
        })?,
        Op::CompleteAll => {
            let reports = h
                .run
                .members()
                .filter_map(|m| match &m.state {
                    MemberState::Upgrading {
                        attempt, target, ..
                    } => Some((
                        m.name.clone(),
                        *attempt,
                        target.clone(),
                        m.cluster_resource_id.clone(),
                    )),
                    _ => None,
                })
                .map(|(member, attempt, target, cluster)| {
                    h.world.apply(&cluster, &target);
                    Report {
                        member,
                        attempt,
                        outcome: Outcome::Succeeded,
                    }
                })
                .collect::<Vec<_>>();
            (!reports.is_empty()).then_some(Input::Reports(reports))
        }
        Op::Fail(i) => pick(&in_flight, *i).map(|m| {
            h.fail(&m, "injected failure");
            None
        })?,
        Op::Start => Some(Input::Command(Command::Start)),
        Op::Stop => Some(Input::Command(Command::Stop)),
        Op::Skip(kind, i) => {
            let name = match kind {
                SkipKind::Member => pick(&names, *i)?,
                SkipKind::Group => h
                    .run
                    .stages
                    .iter()
                    .flat_map(|s| &s.groups)
                    .map(|g| g.name.clone())
                    .nth(i % 4)?,
                SkipKind::Stage | SkipKind::AfterStageWait => {
                    h.run.stages.get(i % h.run.stages.len())?.name.clone()
                }
            };
            Some(Input::Command(Command::Skip(vec![SkipTarget {
                kind: *kind,
                name,
            }])))
        }
    }
}

fn check_invariants(run: &UpdateRun) -> Result<(), TestCaseError> {
    for stage in &run.stages {
        for group in &stage.groups {
            let in_flight = group.in_flight();
            prop_assert!(
                in_flight <= group.concurrency(),
                "group {} has {in_flight} members in flight, more than its {}",
                group.name,
                group.concurrency()
            );
        }
        if let Some(ceiling) = stage.limits.max_concurrency {
            prop_assert!(
                stage.in_flight() <= ceiling as usize,
                "stage {} has {} members in flight, over its ceiling of {ceiling}",
                stage.name,
                stage.in_flight()
            );
        }
    }
    for (k, stage) in run.stages.iter().enumerate() {
        let started = stage
            .groups
            .iter()
            .flat_map(|g| &g.members)
            .any(|m| m.attempts > 0);
        if started {
            for earlier in &run.stages[..k] {
                prop_assert!(
                    earlier.state.is_done(),
                    "stage {} started before stage {} was done",
                    stage.name,
                    earlier.name
                );
                prop_assert!(
                    earlier.wait.is_done(),
                    "stage {} started before the wait after {}",
                    stage.name,
                    earlier.name
                );
            }
        }
    }
    Ok(())
}

/// Deciding in place (as the runtime does) is the same decision as on a copy; the members it
/// says it changed are exactly those that differ (the store writes only those); undoing it, or
/// a rejection, leaves the run exactly as it was.
fn check_in_place(h: &Harness, input: &Input) -> Result<(), TestCaseError> {
    let mut run = h.run.clone();
    // The index kept across decisions, against a copy decided with a fresh one.
    let copied = decide(&h.run, input.clone(), h.now, &h.world, &h.cfg);
    let decided = decide_in_place(&mut run, &h.places, input.clone(), h.now, &h.world, &h.cfg);
    let decided = match (decided, copied) {
        (Ok(decided), Ok(copied)) => {
            prop_assert_eq!(&run, &copied.run);
            prop_assert_eq!(&decided.effects, &copied.effects);
            prop_assert_eq!(&decided.events, &copied.events);
            decided
        }
        (Err(in_place), Err(copied)) => {
            prop_assert_eq!(in_place, copied);
            prop_assert_eq!(&run, &h.run, "a rejection changed the run");
            return Ok(());
        }
        (in_place, copied) => {
            return Err(TestCaseError::fail(format!(
                "in place: {in_place:?}, on a copy: {copied:?}"
            )));
        }
    };
    let differ: Vec<_> = run
        .placed()
        .zip(h.run.placed())
        .filter(|((_, now), (_, was))| now != was)
        .map(|((place, _), _)| place)
        .collect();
    let said: Vec<_> = decided.changed.iter().map(|(place, _)| *place).collect();
    prop_assert_eq!(
        said,
        differ,
        "the changed members are not the ones that differ"
    );
    prop_assert_eq!(
        decided.changed_outside_members(&run),
        !same_but_members(&run, &h.run)
    );
    decided.undo(&mut run);
    prop_assert_eq!(&run, &h.run, "undo did not put the run back");
    Ok(())
}

/// Whether two runs differ only in their members.
fn same_but_members(a: &UpdateRun, b: &UpdateRun) -> bool {
    let strip = |run: &UpdateRun| {
        let mut run = run.clone();
        run.stages
            .iter_mut()
            .flat_map(|s| s.groups.iter_mut())
            .for_each(|g| g.members.clear());
        run
    };
    strip(a) == strip(b)
}

/// Drives the run to its end as a persistent operator would: complete what runs, wake for
/// windows and waits, skip members that cannot take the target, start again after failures.
fn drive_to_end(h: &mut Harness) {
    for _ in 0..200 {
        h.run_to_end();
        match h.run.state.clone() {
            RunState::Completed { .. } => return,
            RunState::Failed { .. } => {
                let failed: Vec<String> = h
                    .run
                    .members()
                    .filter(|m| matches!(m.state, MemberState::Failed { attempt: None, .. }))
                    .map(|m| m.name.to_string())
                    .collect();
                for name in failed {
                    let _ = h.command(Command::Skip(vec![SkipTarget {
                        kind: SkipKind::Member,
                        name,
                    }]));
                }
                h.start();
            }
            RunState::NotStarted | RunState::Stopped { .. } => {
                h.start();
            }
            RunState::Running { .. } | RunState::Stopping { .. } => h.tick(),
        }
    }
    panic!("the run never completed: {:?}", h.run.state);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_whatever_happens(
        shapes in proptest::collection::vec(shape(), 4..14),
        wait_minutes in 0i64..180,
        staged in proptest::option::of(limits()),
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let mut h = harness(&shapes, wait_minutes * 60, staged.as_ref());
        for op in &ops {
            if let Some(input) = apply(&mut h, op) {
                check_in_place(&h, &input)?;
                let first = decide(&h.run, input.clone(), h.now, &h.world, &h.cfg);
                if let Ok(first) = first {
                    // Repeating an input changes nothing.
                    let again = decide(&first.run, input, h.now, &h.world, &h.cfg);
                    if let Ok(again) = again {
                        prop_assert_eq!(&again.run, &first.run);
                        prop_assert!(again.effects.is_empty(), "a repeat started {:?}", again.effects);
                    }
                    h.run = first.run;
                    h.places.settle(&h.run, first.changed.iter().copied());
                    h.effects.extend(first.effects);
                    h.wake_at = first.wake_at;
                }
            }
            check_invariants(&h.run)?;
            // Settled after each decision, the index is what one made afresh would be.
            prop_assert_eq!(&h.places, &Places::of(&h.run));
        }
        drive_to_end(&mut h);
        check_invariants(&h.run)?;
        for m in h.run.members() {
            let finished = match &m.state {
                MemberState::Completed { .. } => true,
                MemberState::Skipped { reason, .. } | MemberState::Pending { reason, .. } => !reason.is_empty(),
                MemberState::Failed { message, .. } => !message.is_empty(),
                MemberState::NotStarted | MemberState::Upgrading { .. } => false,
            };
            prop_assert!(finished, "member {} ended {:?}", m.name, m.state);
        }
    }
}
