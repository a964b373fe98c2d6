//! Scenario tests of `decide`, one rule per test, driven by explicit ticks and reports.

use super::fixtures::*;
use super::harness::Harness;
use super::*;
use crate::model::run::{
    GroupState, MemberState, RunState, SkippedBy, StageState, State, Subject, WaitState,
};
use crate::model::time::{MS_PER_HOUR, MS_PER_SECOND, Timestamp};
use crate::model::update::{NodeImageSelectionType, UpgradeType};
use crate::model::version::NodeImageVersion;
use crate::model::window::DayOfWeek;

pub(super) fn one_by_one(names: &[&str]) -> Harness {
    let members = names
        .iter()
        .map(|n| member(n, None, "eastus", "1.29.9"))
        .collect();
    Harness::new(&fleet(members), full("1.30.5"), NOW)
}

/// Stage canary (g1: a1, a2; g2: b1) waits an hour; stage prod (g3: c1, c2).
pub(crate) fn staged() -> Harness {
    let members = vec![
        member("a1", Some("g1"), "eastus", "1.29.9"),
        member("a2", Some("g1"), "eastus", "1.29.9"),
        member("b1", Some("g2"), "westeurope", "1.29.9"),
        member("c1", Some("g3"), "eastus", "1.29.9"),
        member("c2", Some("g3"), "westeurope", "1.29.9"),
    ];
    Harness::new(
        &fleet(members),
        RunSpec {
            strategy: Some(two_stages()),
            ..full("1.30.5")
        },
        NOW,
    )
}

fn skip(kind: SkipKind, name: &str) -> Command {
    Command::Skip(vec![SkipTarget {
        kind,
        name: name.into(),
    }])
}

fn not_allowed(result: Result<Reply, Rejection>) -> String {
    match result {
        Err(Rejection::NotAllowed { why }) => why,
        other => panic!("expected NotAllowed, got {other:?}"),
    }
}

#[test]
fn a_new_run_is_not_started_and_a_tick_changes_nothing() {
    let mut h = one_by_one(&["a", "b"]);
    h.tick();
    assert_eq!(h.run.state, RunState::NotStarted);
    assert!(h.effects.is_empty() && h.events.is_empty());
}

#[test]
fn one_by_one_upgrades_each_member_in_turn_until_completed() {
    let mut h = one_by_one(&["c", "a", "b"]);
    assert_eq!(h.start(), Reply::Started);
    assert_eq!(h.in_flight(), ["a"]);
    h.complete("a");
    assert_eq!(
        h.in_flight(),
        ["b"],
        "the next member starts as soon as the last completes"
    );
    h.complete("b");
    h.complete("c");
    assert_eq!(h.start_order(), ["a", "b", "c"]);
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    assert!(
        h.events
            .iter()
            .any(|e| e.subject == Subject::Run && e.state == State::Completed)
    );
}

#[test]
fn each_upgrade_carries_an_idempotency_key_and_the_full_target() {
    let mut h = one_by_one(&["a"]);
    h.start();
    let Effect::StartUpgrade {
        operation_id,
        attempt,
        target,
        ..
    } = &h.effects[0];
    assert_eq!(operation_id, "uid-run-1/a/1");
    assert_eq!(*attempt, 1);
    assert_eq!(target.control_plane.as_ref().unwrap().to, v("1.30.5"));
    assert_eq!(
        target.node_pools[0].kubernetes_version.as_ref().unwrap().to,
        v("1.30.5")
    );
    assert!(
        target.node_pools[0].node_image_version.is_some(),
        "Full includes node images"
    );
}

#[test]
fn groups_of_a_stage_go_in_parallel_and_the_next_stage_waits_for_the_wait() {
    let mut h = staged();
    h.start();
    assert_eq!(
        h.in_flight(),
        ["a1", "b1"],
        "one member per group, both groups of stage 1"
    );
    h.complete("b1");
    h.complete("a1");
    assert_eq!(h.in_flight(), ["a2"]);
    h.complete("a2");
    assert!(h.in_flight().is_empty());
    assert!(matches!(h.run.stages[0].wait, WaitState::Running { .. }));
    let until = h.now.plus_millis(3600 * MS_PER_SECOND);
    assert_eq!(
        h.wake_at,
        Some(until),
        "it sleeps until the wait ends; nothing polls"
    );
    h.advance(3599 * MS_PER_SECOND);
    assert!(
        h.in_flight().is_empty(),
        "stage 2 never starts before the wait is over"
    );
    h.wake();
    assert!(matches!(
        h.run.stages[0].state,
        StageState::Completed { .. }
    ));
    assert_eq!(h.in_flight(), ["c1"]);
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn stop_lets_in_flight_upgrades_finish_and_start_resumes() {
    let mut h = one_by_one(&["a", "b", "c"]);
    h.start();
    assert_eq!(h.command(Command::Stop), Ok(Reply::Stopping));
    assert!(matches!(h.run.state, RunState::Stopping { .. }));
    h.complete("a");
    assert!(
        matches!(h.run.state, RunState::Stopped { .. }),
        "stopped once nothing is in flight"
    );
    assert!(h.in_flight().is_empty(), "nothing new starts");
    assert_eq!(
        h.command(Command::Stop),
        Ok(Reply::AlreadyStopped),
        "repeating is harmless"
    );
    assert_eq!(h.start(), Reply::Resumed);
    assert_eq!(h.in_flight(), ["b"]);
    h.run_to_end();
    assert_eq!(h.start_order(), ["a", "b", "c"]);
}

#[test]
fn stop_with_nothing_in_flight_stops_at_once() {
    let mut h = one_by_one(&["a"]);
    h.start();
    h.complete("a");
    let mut h2 = staged();
    h2.start();
    h2.complete("a1");
    h2.complete("b1");
    h2.complete("a2");
    assert_eq!(
        h2.command(Command::Stop),
        Ok(Reply::Stopped),
        "waiting after a stage, nothing in flight"
    );
}

#[test]
fn commands_the_state_does_not_allow_are_refused_with_the_reason() {
    let mut h = one_by_one(&["a"]);
    assert!(not_allowed(h.command(Command::Stop)).contains("has not started"));
    h.start();
    assert_eq!(h.start(), Reply::AlreadyRunning);
    h.command(Command::Stop).unwrap();
    assert!(not_allowed(h.command(Command::Start)).contains("stopping"));
    h.complete("a");
    h.start();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    assert!(not_allowed(h.command(Command::Start)).contains("completed"));
    assert!(not_allowed(h.command(Command::Stop)).contains("completed"));
    assert!(not_allowed(h.command(skip(SkipKind::Member, "a"))).contains("completed"));
}

#[test]
fn a_failure_fails_group_stage_and_run_and_start_retries_the_failed_member() {
    let mut h = staged();
    h.start();
    h.fail("a1", "the API server did not come back");
    assert!(matches!(
        h.member_state("a1"),
        MemberState::Failed {
            attempt: Some(1),
            started_at: Some(_),
            ..
        }
    ));
    assert!(matches!(
        h.run.stages[0].groups[0].state,
        GroupState::Failed { .. }
    ));
    assert!(matches!(h.run.stages[0].state, StageState::Failed { .. }));
    let RunState::Failed { error, .. } = &h.run.state else {
        panic!("{:?}", h.run.state)
    };
    assert!(error.contains("a1") && error.contains("did not come back"));
    assert_eq!(h.in_flight(), ["b1"], "in-flight upgrades elsewhere finish");
    h.complete("b1");
    assert!(
        h.in_flight().is_empty(),
        "nothing new starts after a failure"
    );
    assert_eq!(h.start(), Reply::Retrying { failed_members: 1 });
    assert_eq!(h.in_flight(), ["a1"]);
    let Effect::StartUpgrade { operation_id, .. } = h.effects.last().unwrap();
    assert_eq!(operation_id, "uid-run-1/a1/2", "a retry is a new attempt");
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn late_and_repeated_reports_are_ignored() {
    let mut h = one_by_one(&["a", "b"]);
    h.start();
    h.fail("a", "boom");
    h.start();
    let stale = Input::Report {
        member: crate::model::names::MemberName::parse("a").unwrap(),
        attempt: 1,
        outcome: Outcome::Succeeded,
    };
    assert!(matches!(h.input(stale.clone()), Ok(Reply::Ignored { .. })));
    assert!(matches!(
        h.member_state("a"),
        MemberState::Upgrading { attempt: 2, .. }
    ));
    h.complete("a");
    let before = h.run.clone();
    let again = Input::Report {
        member: crate::model::names::MemberName::parse("a").unwrap(),
        attempt: 2,
        outcome: Outcome::Succeeded,
    };
    assert!(matches!(h.input(again), Ok(Reply::Ignored { .. })));
    assert_eq!(h.run, before);
}

#[test]
fn skipping_a_member_a_group_a_stage_or_a_wait() {
    let mut h = staged();
    h.command(skip(SkipKind::Member, "a2")).unwrap();
    assert!(matches!(
        h.member_state("a2"),
        MemberState::Skipped {
            by: SkippedBy::Operator,
            ..
        }
    ));
    h.command(skip(SkipKind::Group, "g2")).unwrap();
    assert!(matches!(
        h.run.stages[0].groups[1].state,
        GroupState::Skipped { .. }
    ));
    h.command(skip(SkipKind::AfterStageWait, "canary")).unwrap();
    h.start();
    assert_eq!(h.in_flight(), ["a1"]);
    h.complete("a1");
    assert_eq!(h.in_flight(), ["c1"], "no wait: it was skipped");
    h.command(skip(SkipKind::Stage, "prod")).unwrap();
    assert!(matches!(h.member_state("c2"), MemberState::Skipped { .. }));
    assert_eq!(h.in_flight(), ["c1"], "an in-flight upgrade finishes");
    assert!(
        matches!(h.run.state, RunState::Running { .. }),
        "the run waits for it"
    );
    h.complete("c1");
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    assert_eq!(h.start_order(), ["a1", "c1"]);
}

#[test]
fn skip_refusals_say_why_and_a_partly_bad_skip_changes_nothing() {
    let mut h = staged();
    h.start();
    let refused = h.command(skip(SkipKind::Member, "a1"));
    assert!(
        matches!(refused, Err(Rejection::NotSkippable { why }) if why.contains("being upgraded"))
    );
    let unknown = h.command(skip(SkipKind::Group, "nope"));
    assert!(
        matches!(unknown, Err(Rejection::UnknownTarget { what }) if what.contains("no group named nope"))
    );
    let before = h.run.clone();
    let mixed = Command::Skip(vec![
        SkipTarget {
            kind: SkipKind::Member,
            name: "a2".into(),
        },
        SkipTarget {
            kind: SkipKind::Stage,
            name: "nope".into(),
        },
    ]);
    assert!(h.command(mixed).is_err());
    assert_eq!(h.run, before, "all or nothing");
    h.complete("a1");
    let done = h.command(skip(SkipKind::Member, "a1"));
    assert!(
        matches!(done, Err(Rejection::NotSkippable { why }) if why.contains("already finished"))
    );
    h.command(Command::Stop).unwrap();
    assert!(not_allowed(h.command(skip(SkipKind::Member, "a2"))).contains("stopping"));
}

#[test]
fn a_failed_member_may_be_skipped_and_the_run_then_goes_on() {
    let mut h = one_by_one(&["a", "b"]);
    h.start();
    h.fail("a", "boom");
    h.command(skip(SkipKind::Member, "a")).unwrap();
    assert_eq!(h.start(), Reply::Retrying { failed_members: 0 });
    assert_eq!(h.in_flight(), ["b"]);
    h.complete("b");
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn a_member_already_at_target_is_skipped_by_the_system() {
    let members = vec![
        member("a", None, "westeurope", "1.30.5"),
        member("b", None, "eastus", "1.29.9"),
    ];
    let mut h = Harness::new(&fleet(members), full("1.30.5"), NOW);
    h.start();
    let MemberState::Skipped { by, reason, .. } = h.member_state("a") else {
        panic!()
    };
    assert_eq!(*by, SkippedBy::System);
    assert!(reason.contains("already at Kubernetes 1.30.5"));
    assert_eq!(h.in_flight(), ["b"]);
}

#[test]
fn a_member_that_cannot_take_the_target_fails_before_any_operation() {
    let members = vec![
        member("a", None, "eastus", "1.29.9"),
        member("b", None, "eastus", "1.30.5"),
    ];
    let mut h = Harness::new(&fleet(members), full("1.31.2"), NOW);
    h.start();
    let MemberState::Failed {
        attempt, message, ..
    } = h.member_state("a")
    else {
        panic!()
    };
    assert_eq!(*attempt, None, "no operation was started");
    assert!(message.contains("skip minor version 1.30"));
    assert!(h.effects.is_empty());
    assert!(matches!(h.run.state, RunState::Failed { .. }));
}

#[test]
fn a_closed_window_makes_the_member_wait_without_blocking_the_group() {
    // NOW is Monday 12:00; "a" may only be upgraded on Tuesdays from 02:00.
    let waiting = with_cluster(member("a", None, "eastus", "1.29.9"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Tuesday, "02:00"))
    });
    let mut h = Harness::new(
        &fleet(vec![waiting, member("b", None, "eastus", "1.29.9")]),
        full("1.30.5"),
        NOW,
    );
    h.start();
    assert_eq!(h.in_flight(), ["b"], "b goes while a's window is closed");
    let tuesday = Timestamp::parse_rfc3339("2024-09-03T02:00:00Z").unwrap();
    let MemberState::Pending { reason, until, .. } = h.member_state("a") else {
        panic!()
    };
    assert!(reason.contains("maintenance window closed"));
    assert_eq!(*until, Some(tuesday));
    h.complete("b");
    assert_eq!(h.wake_at, Some(tuesday), "it wakes when the window opens");
    assert!(matches!(h.run.state, RunState::Running { .. }));
    h.wake();
    assert_eq!(h.in_flight(), ["a"]);
    h.complete("a");
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn a_version_missing_in_the_region_leaves_the_member_pending_and_the_run_completes() {
    let mut f = fleet(vec![
        member("a", None, "westeurope", "1.30.5"),
        member("b", None, "eastus", "1.30.5"),
    ]);
    f.catalog.kubernetes_version_rollout.insert(
        v("1.31.2"),
        [crate::model::cluster::Region::parse("eastus").unwrap()].into(),
    );
    let mut h = Harness::new(&f, full("1.31.2"), NOW);
    h.start();
    assert_eq!(h.in_flight(), ["b"]);
    h.complete("b");
    let MemberState::Pending { reason, .. } = h.member_state("a") else {
        panic!()
    };
    assert_eq!(
        reason,
        "Kubernetes 1.31.2 is not available in westeurope yet"
    );
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    assert!(
        h.events
            .iter()
            .any(|e| e.message.as_deref() == Some("1 member(s) still pending"))
    );
}

#[test]
fn consistent_images_are_fixed_at_start_and_used_everywhere() {
    let members = vec![
        member("east", None, "eastus", "1.29.9"),
        member("west", None, "westeurope", "1.29.9"),
    ];
    let node_images_only = spec(
        UpgradeType::NodeImageOnly,
        None,
        NodeImageSelectionType::Consistent,
    );
    let mut h = Harness::new(&fleet(members.clone()), node_images_only, NOW);
    h.start();
    let selected = h.run.selected_images.clone().unwrap();
    assert_eq!(
        selected.values().next().unwrap().as_str(),
        "202409.01.0",
        "the newest both regions have"
    );
    h.run_to_end();
    assert!(h.effects.is_empty(), "both already run the common image");
    let mut latest = Harness::new(
        &fleet(members),
        spec(
            UpgradeType::NodeImageOnly,
            None,
            NodeImageSelectionType::Latest,
        ),
        NOW,
    );
    latest.start();
    let Effect::StartUpgrade { target, member, .. } = &latest.effects[0];
    assert_eq!(member.as_str(), "east");
    let expected = NodeImageVersion::parse(&format!("{UBUNTU}-202410.01.0")).unwrap();
    assert_eq!(
        target.node_pools[0].node_image_version.as_ref().unwrap().to,
        expected
    );
    assert!(latest.run.selected_images.is_none());
}

#[test]
fn control_plane_only_leaves_node_pools_alone() {
    let mut h = Harness::new(
        &fleet(vec![member("a", None, "eastus", "1.29.9")]),
        spec(
            UpgradeType::ControlPlaneOnly,
            Some("1.30.5"),
            NodeImageSelectionType::Latest,
        ),
        NOW,
    );
    h.start();
    let Effect::StartUpgrade { target, .. } = &h.effects[0];
    assert!(target.control_plane.is_some());
    assert!(target.node_pools.is_empty());
}

#[test]
fn every_state_change_is_an_event_with_its_time() {
    let mut h = staged();
    h.start();
    h.advance(MS_PER_HOUR);
    h.complete("a1");
    let member_events: Vec<_> = h
        .events
        .iter()
        .filter(|e| {
            e.subject == Subject::Member(crate::model::names::MemberName::parse("a1").unwrap())
        })
        .collect();
    assert_eq!(
        member_events.iter().map(|e| e.state).collect::<Vec<_>>(),
        [State::Running, State::Completed]
    );
    assert_eq!(member_events[0].at, NOW);
    assert_eq!(member_events[1].at, NOW.plus_millis(MS_PER_HOUR));
    for subject in [
        Subject::Run,
        Subject::Stage("canary".into()),
        Subject::Group("g1".into()),
    ] {
        assert!(
            h.events
                .iter()
                .any(|e| e.subject == subject && e.state == State::Running),
            "{subject:?}"
        );
    }
}

#[test]
fn a_late_failure_in_a_skipped_group_is_recorded_but_does_not_fail_the_run() {
    let mut h = staged();
    h.start();
    h.command(skip(SkipKind::Group, "g1")).unwrap();
    assert_eq!(h.in_flight(), ["a1", "b1"], "a1's upgrade goes on");
    h.fail("a1", "node drain timed out");
    assert!(matches!(h.member_state("a1"), MemberState::Failed { .. }));
    assert!(matches!(
        h.run.stages[0].groups[0].state,
        GroupState::Skipped { .. }
    ));
    assert!(matches!(h.run.state, RunState::Running { .. }));
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn a_cluster_another_run_is_upgrading_waits_and_holds_its_group_until_free() {
    let mut h = one_by_one(&["a", "b"]);
    let a = h.run.stages[0].groups[0].members[0]
        .cluster_resource_id
        .clone();
    h.world
        .holders
        .insert(a.clone(), "update run other of fleet f".into());
    h.start();
    assert_eq!(h.in_flight(), ["b"], "b goes while a's cluster is busy");
    let MemberState::Pending {
        reason, waiting_on, ..
    } = h.member_state("a")
    else {
        panic!("{:?}", h.member_state("a"))
    };
    assert!(
        reason.contains("being upgraded by update run other of fleet f"),
        "{reason}"
    );
    assert_eq!(
        *waiting_on,
        Some(crate::model::run::WaitingOn::OtherRun {
            holder: "update run other of fleet f".into()
        })
    );
    h.complete("b");
    assert!(
        matches!(h.run.state, RunState::Running { .. }),
        "the group waits for a: {:?}",
        h.run.state
    );
    assert!(h.effects.iter().all(|e| {
        let Effect::StartUpgrade { cluster, .. } = e;
        *cluster != a
    }));
    h.world.holders.clear();
    h.tick();
    assert_eq!(h.in_flight(), ["a"], "a goes once its cluster is free");
    h.complete("a");
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn a_group_or_stage_skipped_after_it_started_keeps_its_start_time() {
    let mut h = staged();
    h.start();
    h.complete("a1");
    h.command(skip(SkipKind::Group, "g1")).unwrap();
    h.command(skip(SkipKind::Stage, "canary")).unwrap();
    let status = h.run.status();
    let canary = &status.stages[0];
    assert_eq!(canary.status.state, State::Skipped);
    assert_eq!(canary.status.start_time, Some(NOW), "the stage had started");
    let g1 = &canary.groups[0];
    assert_eq!(g1.status.state, State::Skipped);
    assert_eq!(g1.status.start_time, Some(NOW), "its member a1 ran");
    assert!(g1.status.completed_time.is_some());
    let prod = &status.stages[1];
    assert_eq!(prod.status.start_time, None, "never started");
}

#[test]
fn a_cluster_the_provider_cannot_reach_now_waits_and_holds_its_group() {
    let mut h = one_by_one(&["a", "b"]);
    let a = h.run.stages[0].groups[0].members[0]
        .cluster_resource_id
        .clone();
    h.world
        .unreachable
        .insert(a.clone(), "the provider is throttling".into());
    h.start();
    assert_eq!(h.in_flight(), ["b"]);
    let MemberState::Pending {
        reason, waiting_on, ..
    } = h.member_state("a")
    else {
        panic!()
    };
    assert!(reason.contains("the provider is throttling"), "{reason}");
    assert_eq!(*waiting_on, Some(crate::model::run::WaitingOn::Provider));
    h.complete("b");
    assert!(
        matches!(h.run.state, RunState::Running { .. }),
        "a holds the group"
    );
    h.world.unreachable.clear();
    h.tick();
    assert_eq!(h.in_flight(), ["a"]);
}

#[test]
fn a_cluster_gone_for_good_fails_its_member_with_the_providers_words() {
    let mut h = one_by_one(&["a", "b"]);
    let a = h.run.stages[0].groups[0].members[0]
        .cluster_resource_id
        .clone();
    h.world.clusters.remove(&a);
    h.start();
    let MemberState::Failed { message, .. } = h.member_state("a") else {
        panic!("{:?}", h.member_state("a"))
    };
    assert!(message.contains("does not exist"), "{message}");
    assert!(matches!(h.run.state, RunState::Failed { .. }));
}

#[test]
fn a_provider_that_stops_answering_shows_on_the_member_until_it_answers_again() {
    let mut h = one_by_one(&["a"]);
    h.start();
    let trouble = |message: Option<&str>| Input::Report {
        member: crate::model::names::MemberName::parse("a").unwrap(),
        attempt: 1,
        outcome: Outcome::Trouble {
            message: message.map(str::to_owned),
        },
    };
    h.input(trouble(Some("connection refused"))).unwrap();
    let since = h.now;
    h.advance(60_000);
    assert_eq!(
        h.input(trouble(Some("connection refused"))).unwrap(),
        Reply::Ignored {
            why: "nothing new about the provider".into()
        },
        "the same trouble again changes nothing"
    );
    let message = h.run.members().next().unwrap().state.message().unwrap();
    assert_eq!(
        message,
        format!("waiting for the provider since {since}: connection refused")
    );
    h.input(trouble(None)).unwrap();
    assert_eq!(h.run.members().next().unwrap().state.message(), None);
    assert_eq!(h.in_flight(), ["a"], "the attempt goes on");
    h.complete("a");
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn a_node_image_run_waits_for_the_node_os_window_not_the_kubernetes_one() {
    // NOW is Monday 12:00: the Kubernetes window is open, the node OS one opens Tuesday.
    let m = with_cluster(member("a", None, "eastus", "1.29.9"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Monday, "11:00"));
        c.node_os_maintenance_window = Some(window(DayOfWeek::Tuesday, "02:00"));
    });
    let images = spec(
        UpgradeType::NodeImageOnly,
        None,
        NodeImageSelectionType::Latest,
    );
    let mut h = Harness::new(&fleet(vec![m]), images, NOW);
    h.start();
    assert!(h.in_flight().is_empty());
    let MemberState::Pending { until, .. } = h.member_state("a") else {
        panic!()
    };
    assert_eq!(
        *until,
        Some(Timestamp::parse_rfc3339("2024-09-03T02:00:00Z").unwrap())
    );
    h.wake();
    assert_eq!(h.in_flight(), ["a"]);
}

#[test]
fn a_run_that_fails_stopped_clusters_fails_on_one() {
    let stopped = with_cluster(member("a", None, "eastus", "1.29.9"), |c| {
        c.power_state = crate::model::cluster::PowerState::Stopped
    });
    let mut spec = full("1.30.5");
    spec.update.stopped_cluster_action = crate::model::update::StoppedClusterAction::Fail;
    let mut h = Harness::new(&fleet(vec![stopped]), spec, NOW);
    h.start();
    assert!(h.effects.is_empty(), "nothing is sent to a stopped cluster");
    assert!(matches!(h.run.state, RunState::Failed { .. }));
    let MemberState::Failed { message, .. } = h.member_state("a") else {
        panic!("{:?}", h.member_state("a"))
    };
    assert!(message.contains("stopped"));
}
