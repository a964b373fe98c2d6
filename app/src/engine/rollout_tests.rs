//! Placement runs in the engine: members are given what the world's plan says (objects at a
//! revision, a skip or a failure with its reason), through the same stages and budgets as
//! upgrades; maintenance windows do not hold them (they govern upgrades), a stopped cluster
//! follows `stoppedClusterAction`, and a plan that cannot be read makes members wait.

use super::fixtures::*;
use super::harness::Harness;
use super::*;
use crate::model::cluster::PowerState;
use crate::model::names::PlacementName;
use crate::model::rollout::PlacementRollout;
use crate::model::run::{MemberState, RunState, WaitingOn};
use crate::model::time::Timestamp;
use crate::model::update::{ManagedClusterUpdate, StoppedClusterAction};
use crate::model::window::DayOfWeek;

fn placement_run(members: Vec<PlanMember>) -> Harness {
    let spec = RunSpec {
        strategy: None,
        update: ManagedClusterUpdate::of_placement_run(),
        placement: Some(PlacementRollout {
            placement_name: PlacementName::parse("web").unwrap(),
            snapshot: [("web".to_owned(), 2)].into(),
        }),
    };
    Harness::new(&fleet(members), spec, Timestamp(0))
}

fn give(h: &mut Harness, member: &str, revision: &str) {
    let action = PlacementAction::Give {
        revision: revision.into(),
    };
    h.world.placement.insert(member.into(), action);
}

fn reason_of(state: &MemberState) -> &str {
    match state {
        MemberState::Skipped { reason, .. } => reason,
        MemberState::Failed { message, .. } => message,
        MemberState::Pending { reason, .. } => reason,
        other => panic!("no reason in {other:?}"),
    }
}

#[test]
fn members_are_given_the_revision_the_plan_names_or_skipped_with_its_reason() {
    let members = ["a", "b", "c"].map(|n| member(n, None, "eastus", "1.29.9"));
    let mut h = placement_run(members.into());
    give(&mut h, "a", "web@2");
    h.world.placement.insert(
        "b".into(),
        PlacementAction::Skip {
            reason: format!("{NOT_PICKED}web: matches no required term"),
        },
    );
    give(&mut h, "c", "web@2+eu#0badf00d");
    h.start();
    let Effect::StartUpgrade { target, member, .. } = h.effects.last().unwrap();
    assert_eq!(member.as_str(), "a");
    let resources = target.resources.as_ref().expect("objects, not an upgrade");
    assert_eq!(
        (resources.placement.as_str(), resources.revision.as_str()),
        ("web", "web@2")
    );
    assert!(target.control_plane.is_none() && target.node_pools.is_empty());
    assert_eq!(target.kind(), "Resources");
    h.run_to_end();
    assert_eq!(h.start_order(), ["a", "c"]);
    assert_eq!(
        reason_of(h.member_state("b")),
        "not picked by placement web: matches no required term"
    );
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    // A catch-up run leaves out members that needed nothing.
    assert!(super::targets::is_already_there(reason_of(
        h.member_state("b")
    )));
}

#[test]
fn a_member_that_cannot_be_given_its_objects_fails_the_run() {
    let members = ["a", "b"].map(|n| member(n, None, "eastus", "1.29.9"));
    let mut h = placement_run(members.into());
    let why = "web@2+eu cannot be applied: override eu, rule 1, patch 1 on Namespace web: /data does not exist";
    h.world
        .placement
        .insert("a".into(), PlacementAction::Fail { reason: why.into() });
    give(&mut h, "b", "web@2");
    h.start();
    assert_eq!(reason_of(h.member_state("a")), why);
    assert!(matches!(h.run.state, RunState::Failed { .. }));
    assert!(h.effects.is_empty(), "fail fast: b never started");
}

#[test]
fn windows_do_not_hold_objects_but_a_stopped_cluster_follows_the_runs_rule() {
    let closed = with_cluster(member("a", None, "eastus", "1.29.9"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Saturday, "02:00"));
    });
    let stopped = with_cluster(member("b", None, "eastus", "1.29.9"), |c| {
        c.power_state = PowerState::Stopped;
    });
    let mut h = placement_run(vec![closed, stopped]);
    give(&mut h, "a", "web@2");
    give(&mut h, "b", "web@2");
    h.start();
    assert_eq!(
        h.in_flight(),
        ["a"],
        "a window governs upgrades, not objects"
    );
    h.run_to_end();
    assert_eq!(
        reason_of(h.member_state("b")),
        "the cluster is stopped; its objects cannot be applied"
    );

    let stopped = with_cluster(member("b", None, "eastus", "1.29.9"), |c| {
        c.power_state = PowerState::Stopped;
    });
    let mut h = placement_run(vec![stopped]);
    h.run.spec.update.stopped_cluster_action = StoppedClusterAction::Fail;
    give(&mut h, "b", "web@2");
    h.start();
    assert!(matches!(h.member_state("b"), MemberState::Failed { .. }));
}

#[test]
fn a_plan_that_cannot_be_read_makes_members_wait_for_it() {
    let mut h = placement_run(vec![member("a", None, "eastus", "1.29.9")]);
    h.start();
    let MemberState::Pending {
        reason, waiting_on, ..
    } = h.member_state("a")
    else {
        panic!("a waits: {:?}", h.member_state("a"));
    };
    assert_eq!(reason, "the placement has not been read yet");
    assert_eq!(*waiting_on, Some(WaitingOn::Provider));
    give(&mut h, "a", "web@2");
    h.tick();
    assert_eq!(h.in_flight(), ["a"]);
}
