//! Gates in every position: reached, approved, scheduled, timed out, skipped, stopped and
//! resumed, and kept across a restart.

use super::fixtures::*;
use super::harness::Harness;
use super::*;
use crate::model::gate::GateState;
use crate::model::run::{GroupState, RunState, StageState, State, Subject, UpdateRun};
use crate::model::time::{MS_PER_HOUR, Timestamp};

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

fn approve(h: &mut Harness, gate: &str) -> Result<Reply, Rejection> {
    h.command(Command::Approve(ApproveGate {
        gate: gate.into(),
        by: "alice".into(),
        comment: Some("CHG-42 approved".into()),
        confirm: false,
        if_match: None,
    }))
}

fn gate_state<'r>(run: &'r UpdateRun, name: &str) -> &'r GateState {
    &run.gates()
        .find(|(_, _, g)| g.name == name)
        .unwrap_or_else(|| panic!("no gate {name}"))
        .2
        .state
}

fn two_stages_with(gates: serde_json::Value) -> Harness {
    let mut strategy = serde_json::json!({"stages": [
        {"name": "canary", "groups": [{"name": "g1"}]},
        {"name": "prod", "groups": [{"name": "g2"}, {"name": "g3"}]}
    ]});
    for (path, value) in gates.as_object().unwrap() {
        let mut at = &mut strategy;
        for step in path.split('/') {
            at = match step.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[step],
            };
        }
        *at = value.clone();
    }
    staged(
        [
            in_group("a", "g1", 1),
            in_group("b", "g2", 2),
            in_group("c", "g3", 1),
        ]
        .concat(),
        strategy,
    )
}

#[test]
fn a_stage_before_gate_holds_its_groups_until_approved_and_not_before_it_is_reached() {
    let mut h = two_stages_with(serde_json::json!({
        "stages/1/beforeGates": [{"displayName": "Change ticket approved", "type": "Approval"}]
    }));
    h.start();
    let early = approve(&mut h, "run-1.prod.before").unwrap_err();
    assert!(
        early
            .message()
            .contains("has not reached gate run-1.prod.before"),
        "{early:?}"
    );
    h.complete("a1");
    assert!(h.in_flight().is_empty(), "prod waits at its gate");
    assert!(matches!(h.run.stages[1].state, StageState::Running { .. }));
    assert!(matches!(
        h.run.stages[1].groups[0].state,
        GroupState::NotStarted
    ));
    let reached = h
        .events
        .iter()
        .find(|e| e.subject == Subject::Gate("run-1.prod.before".into()))
        .unwrap();
    assert_eq!(reached.state, State::Pending);
    assert_eq!(
        reached.message.as_deref(),
        Some("Change ticket approved: waiting for approval")
    );
    assert_eq!(approve(&mut h, "run-1.prod.before"), Ok(Reply::Approved));
    assert_eq!(h.in_flight(), ["b1", "c1"]);
    assert_eq!(
        approve(&mut h, "run-1.prod.before"),
        Ok(Reply::AlreadyApproved),
        "a repeat is answered, not refused"
    );
    let GateState::Completed {
        approval: Some(approval),
        ..
    } = gate_state(&h.run, "run-1.prod.before")
    else {
        panic!("not approved");
    };
    assert_eq!(
        (approval.by.as_str(), approval.comment.as_deref()),
        ("alice", Some("CHG-42 approved"))
    );
    let status = h.run.status();
    let gate = &status.stages[1].before_gates[0];
    assert_eq!(
        (
            gate.display_name.as_str(),
            gate.gate_id.as_str(),
            gate.status.state
        ),
        (
            "Change ticket approved",
            "run-1.prod.before",
            State::Completed
        )
    );
}

#[test]
fn a_scheduled_start_completes_by_itself_at_the_next_occurrence() {
    let mut h = two_stages_with(serde_json::json!({
        "stages/0/beforeGates": [{"type": "ScheduledStart", "scheduledStartConfiguration":
            {"startDay": "Saturday", "startTime": "02:00", "utcOffset": "+01:00"}}]
    }));
    h.start();
    assert!(h.in_flight().is_empty());
    let saturday = Timestamp::parse_rfc3339("2024-09-07T01:00:00Z").unwrap();
    assert_eq!(h.wake_at, Some(saturday));
    assert_eq!(
        h.run.status().stages[0].before_gates[0].scheduled_start_time,
        Some(saturday)
    );
    h.advance(MS_PER_HOUR);
    assert!(h.in_flight().is_empty(), "not yet");
    h.wake();
    assert_eq!(h.in_flight(), ["a1"]);
    assert_eq!(h.now, saturday);
}

#[test]
fn a_group_before_gate_holds_only_its_group() {
    let mut h = two_stages_with(serde_json::json!({
        "stages/1/groups/0/beforeGates": [{"type": "Approval"}]
    }));
    h.start();
    h.complete("a1");
    assert_eq!(h.in_flight(), ["c1"], "g3 goes on while g2 waits");
    assert!(matches!(
        h.run.stages[1].groups[0].state,
        GroupState::Running { .. }
    ));
    approve(&mut h, "run-1.prod.g2.before").unwrap();
    assert_eq!(h.in_flight(), ["b1", "c1"]);
}

#[test]
fn a_group_after_gate_holds_its_completion_and_so_the_next_stage() {
    let mut h = two_stages_with(serde_json::json!({
        "stages/0/groups/0/afterGates": [{"type": "Approval", "displayName": "Canary looks healthy"}]
    }));
    h.start();
    h.complete("a1");
    assert!(matches!(
        h.run.stages[0].groups[0].state,
        GroupState::Running { .. }
    ));
    assert!(h.in_flight().is_empty());
    approve(&mut h, "run-1.canary.g1.after").unwrap();
    assert!(matches!(
        h.run.stages[0].state,
        StageState::Completed { .. }
    ));
    assert_eq!(h.in_flight(), ["b1", "c1"]);
}

#[test]
fn a_stage_after_gate_runs_beside_the_wait_and_the_stage_needs_both() {
    let mut h = two_stages_with(serde_json::json!({
        "stages/0/afterStageWaitInSeconds": 3600,
        "stages/0/afterGates": [{"type": "Approval"}]
    }));
    h.start();
    h.complete("a1");
    approve(&mut h, "run-1.canary.after").expect("the after-gate is reached with the wait");
    assert!(
        matches!(h.run.stages[0].state, StageState::Running { .. }),
        "the wait still runs"
    );
    h.wake();
    assert!(matches!(
        h.run.stages[0].state,
        StageState::Completed { .. }
    ));

    let mut h = two_stages_with(serde_json::json!({
        "stages/0/afterStageWaitInSeconds": 60,
        "stages/0/afterGates": [{"type": "Approval"}]
    }));
    h.start();
    h.complete("a1");
    h.advance(120_000);
    assert!(
        matches!(h.run.stages[0].state, StageState::Running { .. }),
        "the gate still waits"
    );
    approve(&mut h, "run-1.canary.after").unwrap();
    assert_eq!(h.in_flight(), ["b1", "c1"]);
}

#[test]
fn skipping_a_stage_or_group_skips_its_gates() {
    let mut h = two_stages_with(serde_json::json!({
        "stages/0/beforeGates": [{"type": "Approval"}],
        "stages/0/groups/0/afterGates": [{"type": "Approval"}],
        "stages/1/groups/0/beforeGates": [{"type": "Approval"}]
    }));
    h.start();
    h.command(Command::Skip(vec![SkipTarget {
        kind: SkipKind::Stage,
        name: "canary".into(),
    }]))
    .unwrap();
    for gate in ["run-1.canary.before", "run-1.canary.g1.after"] {
        assert!(
            matches!(gate_state(&h.run, gate), GateState::Skipped { .. }),
            "{gate}"
        );
    }
    h.command(Command::Skip(vec![SkipTarget {
        kind: SkipKind::Group,
        name: "g2".into(),
    }]))
    .unwrap();
    assert!(matches!(
        gate_state(&h.run, "run-1.prod.g2.before"),
        GateState::Skipped { .. }
    ));
    let refused = approve(&mut h, "run-1.prod.g2.before").unwrap_err();
    assert!(refused.message().contains("was skipped"), "{refused:?}");
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn a_run_stopped_at_a_gate_takes_the_approval_and_goes_on_when_resumed() {
    let mut h =
        two_stages_with(serde_json::json!({"stages/0/beforeGates": [{"type": "Approval"}]}));
    h.start();
    assert_eq!(h.command(Command::Stop), Ok(Reply::Stopped));
    assert_eq!(approve(&mut h, "run-1.canary.before"), Ok(Reply::Approved));
    assert!(h.in_flight().is_empty(), "a stopped run starts nothing");
    assert_eq!(h.start(), Reply::Resumed);
    assert_eq!(h.in_flight(), ["a1"]);
}

#[test]
fn a_pending_gate_survives_a_restart() {
    let mut h =
        two_stages_with(serde_json::json!({"stages/0/beforeGates": [{"type": "Approval"}]}));
    h.start();
    let stored = serde_json::to_string(&h.run).unwrap();
    h.run = serde_json::from_str(&stored).unwrap();
    h.tick();
    assert!(h.in_flight().is_empty());
    assert_eq!(approve(&mut h, "run-1.canary.before"), Ok(Reply::Approved));
    assert_eq!(h.in_flight(), ["a1"]);
}

#[test]
fn a_timed_out_gate_is_skipped_or_fails_the_run_as_it_says() {
    let mut h = two_stages_with(serde_json::json!({"stages/0/beforeGates":
        [{"type": "Approval", "timeoutInSeconds": 3600, "onTimeout": "Skip"}]}));
    h.start();
    assert_eq!(h.wake_at, Some(NOW.plus_millis(MS_PER_HOUR)));
    h.wake();
    assert!(matches!(
        gate_state(&h.run, "run-1.canary.before"),
        GateState::Skipped { .. }
    ));
    assert_eq!(h.in_flight(), ["a1"]);

    let mut h = two_stages_with(serde_json::json!({"stages/0/beforeGates":
        [{"type": "Approval", "timeoutInSeconds": 3600, "onTimeout": "Fail"}]}));
    h.start();
    h.wake();
    let RunState::Failed { error, .. } = &h.run.state else {
        panic!("the run did not fail: {:?}", h.run.state);
    };
    assert_eq!(
        error,
        "gate run-1.canary.before (Approval) was not approved within 3600 seconds"
    );
    assert!(matches!(h.start(), Reply::Retrying { .. }));
    assert!(
        matches!(gate_state(&h.run, "run-1.canary.before"), GateState::Pending { reached_at: Some(at), .. } if *at == h.now),
        "a retry reaches the gate afresh, with a fresh timeout"
    );
    approve(&mut h, "run-1.canary.before").unwrap();
    assert_eq!(h.in_flight(), ["a1"]);
}

#[test]
fn approving_a_gate_whose_members_cannot_start_needs_confirmation() {
    let members = vec![member("w1", Some("g1"), "westeurope", "1.29.9")];
    let spec = RunSpec {
        strategy: Some(strategy(serde_json::json!({"stages": [
            {"name": "s", "beforeGates": [{"type": "Approval"}], "groups": [{"name": "g1"}]}]}))),
        ..full("1.30.5")
    };
    let mut f = fleet(members);
    f.catalog = serde_json::from_value::<crate::model::catalog::Catalog>(serde_json::json!({
        "kubernetesVersions": ["1.29.9", "1.30.5"],
        "kubernetesVersionRollout": {"1.30.5": ["eastus"]},
        "nodeImages": {"eastus": {UBUNTU: ["202409.01.0"]}, "westeurope": {UBUNTU: ["202409.01.0"]}}
    }))
    .unwrap()
    .normalized()
    .unwrap();
    let mut h = Harness::new(&f, spec, NOW);
    h.start();
    let refused = approve(&mut h, "run-1.s.before").unwrap_err();
    assert!(
        matches!(&refused, Rejection::NeedsConfirmation { why } if why.contains("1 member(s) behind gate run-1.s.before cannot start yet (w1:")),
        "{refused:?}"
    );
    let confirmed = h.command(Command::Approve(ApproveGate {
        gate: "run-1.s.before".into(),
        by: "bob".into(),
        comment: None,
        confirm: true,
        if_match: None,
    }));
    assert_eq!(confirmed, Ok(Reply::Approved));
}

#[test]
fn the_plan_times_scheduled_starts_and_lists_every_gate() {
    let f = fleet([in_group("a", "g1", 1), in_group("b", "g2", 1)].concat());
    let spec = RunSpec {
        strategy: Some(strategy(serde_json::json!({"stages": [
            {"name": "canary", "groups": [{"name": "g1", "afterGates": [{"type": "Approval"}]}]},
            {"name": "prod", "beforeGates": [{"type": "ScheduledStart", "scheduledStartConfiguration":
                {"startDay": "Saturday", "startTime": "02:00", "utcOffset": "+01:00"}}],
             "groups": [{"name": "g2"}]}]}))),
        ..full("1.30.5")
    };
    let p = plan(&f, &spec, NOW, &EngineConfig::default()).unwrap();
    let saturday = Timestamp::parse_rfc3339("2024-09-07T01:00:00Z")
        .unwrap()
        .millis()
        - NOW.millis();
    assert_eq!(p.stages[0].groups[0].gates.after.len(), 1);
    let gate = &p.stages[1].gates.before[0];
    assert_eq!(gate.passes_after_ms, saturday);
    assert_eq!(
        p.stages[1].groups[0].members[0].starts_after_ms,
        Some(saturday)
    );
}

#[test]
fn an_approval_of_a_changed_gate_is_refused_as_stale() {
    let mut h =
        two_stages_with(serde_json::json!({"stages/0/beforeGates": [{"type": "Approval"}]}));
    let read = h.run.gates().next().unwrap().2.version.to_string();
    h.start();
    let with_tag = |tag: String| {
        Command::Approve(ApproveGate {
            gate: "run-1.canary.before".into(),
            by: "carol".into(),
            comment: None,
            confirm: false,
            if_match: Some(vec![tag]),
        })
    };
    let stale = h.command(with_tag(read)).unwrap_err();
    assert!(
        matches!(&stale, Rejection::Stale { why } if why.contains("has changed")),
        "{stale:?}"
    );
    let current = h.run.gates().next().unwrap().2.version.to_string();
    assert_eq!(h.command(with_tag(current)), Ok(Reply::Approved));
}
