//! Multi-hop upgrades: the chain a member goes through, the rules held at each hop, and a run
//! taking a member through its hops (and stopping, or waiting for its window, between them).

use super::fixtures::*;
use super::harness::Harness;
use super::*;
use crate::model::cluster::Region;
use crate::model::run::{MemberState, RunState};
use crate::model::time::MS_PER_HOUR;
use crate::model::update::{Hops, UpgradeType};
use crate::model::window::DayOfWeek;

fn with_hops(mut spec: RunSpec) -> RunSpec {
    spec.update.upgrade.hops = Hops::PerMember;
    spec
}

fn old_member(name: &str, region: &str) -> PlanMember {
    member(name, None, region, "1.28.5")
}

fn action(spec: &RunSpec, members: Vec<PlanMember>) -> MemberAction {
    plan(&fleet(members), spec, NOW, &EngineConfig::default())
        .unwrap()
        .members()
        .next()
        .unwrap()
        .action
        .clone()
}

/// The control plane's versions an action goes through, in order.
fn control_plane_path(action: &MemberAction) -> Vec<String> {
    let MemberAction::Upgrade { target, then } = action else {
        panic!("not an upgrade: {action:?}");
    };
    let mut path = vec![target.control_plane.as_ref().unwrap().from.to_string()];
    for hop in std::iter::once(target).chain(then) {
        path.push(hop.control_plane.as_ref().unwrap().to.to_string());
    }
    path
}

#[test]
fn a_member_three_minors_behind_goes_through_the_newest_patch_of_each_minor() {
    let refused = action(&full("1.31.2"), vec![old_member("a", "eastus")]);
    assert!(
        matches!(&refused, MemberAction::Fail { reason } if reason.contains("would skip minor version 1.29")),
        "without hops the member is refused, as Azure does: {refused:?}"
    );
    let hopping = action(&with_hops(full("1.31.2")), vec![old_member("a", "eastus")]);
    assert_eq!(
        control_plane_path(&hopping),
        ["1.28.5", "1.29.9", "1.30.5", "1.31.2"]
    );
    let MemberAction::Upgrade { target, then } = &hopping else {
        unreachable!()
    };
    let pool = |hop: &UpgradeTarget| hop.node_pools[0].clone();
    assert_eq!(
        pool(target).kubernetes_version.unwrap().to,
        v("1.29.9"),
        "the node pools go with the control plane at each hop: no skew builds up"
    );
    assert!(
        pool(target).node_image_version.is_some(),
        "the node image moves with the first hop"
    );
    assert!(
        then.iter()
            .all(|hop| pool(hop).node_image_version.is_none()),
        "and not again"
    );
    let one_minor = action(&with_hops(full("1.29.9")), vec![old_member("a", "eastus")]);
    assert!(
        matches!(&one_minor, MemberAction::Upgrade { then, .. } if then.is_empty()),
        "one minor ahead is one upgrade, hops or not"
    );
}

#[test]
fn the_plan_times_every_hop_in_the_members_turn() {
    let cfg = EngineConfig::default();
    let one = plan(
        &fleet(vec![member("a", None, "eastus", "1.30.5")]),
        &full("1.31.2"),
        NOW,
        &cfg,
    )
    .unwrap();
    let three = plan(
        &fleet(vec![
            old_member("a", "eastus"),
            member("b", None, "eastus", "1.30.5"),
        ]),
        &with_hops(full("1.31.2")),
        NOW,
        &cfg,
    )
    .unwrap();
    let a = three.members().find(|m| m.name.as_str() == "a").unwrap();
    let b = three.members().find(|m| m.name.as_str() == "b").unwrap();
    let hop_ms = one.duration_ms;
    assert!(hop_ms > 0);
    assert!(
        a.ends_after_ms.unwrap() - a.starts_after_ms.unwrap() >= 3 * hop_ms - 3 * hop_ms / 10,
        "three hops take about three upgrades: {a:?} against {hop_ms}"
    );
    assert_eq!(
        b.starts_after_ms, a.ends_after_ms,
        "one at a time: the next member starts when the last hop ends"
    );
}

#[test]
fn a_hop_whose_version_is_not_in_the_region_yet_leaves_the_member_pending() {
    let mut f = fleet(vec![old_member("a", "westeurope")]);
    f.catalog
        .kubernetes_version_rollout
        .insert(v("1.30.5"), [Region::parse("eastus").unwrap()].into());
    let p = plan(
        &f,
        &with_hops(full("1.31.2")),
        NOW,
        &EngineConfig::default(),
    )
    .unwrap();
    let action = &p.members().next().unwrap().action;
    assert!(
        matches!(action, MemberAction::Pending { reason } if reason.contains("no Kubernetes 1.30 is available in westeurope yet")),
        "it does not start a chain it cannot finish: {action:?}"
    );
}

#[test]
fn a_minor_no_one_offers_fails_the_member() {
    let mut f = fleet(vec![old_member("a", "eastus")]);
    f.catalog.kubernetes_versions.retain(|k| *k != v("1.29.9"));
    let p = plan(
        &f,
        &with_hops(full("1.31.2")),
        NOW,
        &EngineConfig::default(),
    )
    .unwrap();
    let action = &p.members().next().unwrap().action;
    assert!(
        matches!(action, MemberAction::Fail { reason } if reason.contains("no Kubernetes 1.29 is offered")),
        "{action:?}"
    );
}

#[test]
fn control_plane_only_hops_stop_where_the_pools_would_fall_too_far_behind() {
    let spec = with_hops(spec(
        UpgradeType::ControlPlaneOnly,
        Some("1.31.2"),
        Default::default(),
    ));
    let action = action(&spec, vec![old_member("a", "eastus")]);
    assert!(
        matches!(&action, MemberAction::Fail { reason }
            if reason.starts_with("hop 3 of 3 (to 1.31.2)") && reason.contains("3 minor versions behind")),
        "the skew limit (2 minors) holds at every hop: {action:?}"
    );
    let two = with_hops(spec_to("1.30.5"));
    assert_eq!(
        control_plane_path(&super::hops_tests::action(
            &two,
            vec![old_member("a", "eastus")]
        )),
        ["1.28.5", "1.29.9", "1.30.5"]
    );
}

fn spec_to(version: &str) -> RunSpec {
    spec(
        UpgradeType::ControlPlaneOnly,
        Some(version),
        Default::default(),
    )
}

/// The control plane's target of the member's upgrade in flight, and its hop.
fn in_flight(h: &Harness, name: &str) -> (String, Option<(u32, u32)>) {
    match h.member_state(name) {
        MemberState::Upgrading { target, hop, .. } => (
            target.control_plane.as_ref().unwrap().to.to_string(),
            hop.map(|h| (h.number, h.of)),
        ),
        other => panic!("{name} is not upgrading: {other:?}"),
    }
}

#[test]
fn a_run_takes_the_member_through_each_hop_then_the_next_member() {
    let f = fleet(vec![
        old_member("a", "eastus"),
        member("b", None, "eastus", "1.30.5"),
    ]);
    let mut h = Harness::new(&f, with_hops(full("1.31.2")), NOW);
    h.start();
    let started = h.now;
    assert_eq!(in_flight(&h, "a"), ("1.29.9".into(), Some((1, 3))));
    h.advance(MS_PER_HOUR);
    h.complete("a");
    assert_eq!(in_flight(&h, "a"), ("1.30.5".into(), Some((2, 3))));
    assert_eq!(
        h.member_state("b"),
        &MemberState::NotStarted,
        "a's turn goes on"
    );
    h.complete("a");
    assert_eq!(in_flight(&h, "a"), ("1.31.2".into(), Some((3, 3))));
    h.complete("a");
    match h.member_state("a") {
        MemberState::Completed {
            attempt,
            started_at,
            ..
        } => {
            assert_eq!(*attempt, 3, "one attempt per hop");
            assert_eq!(*started_at, started, "its turn began with the first hop");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        h.start_order(),
        ["a", "a", "a", "b"],
        "b starts once a's last hop is done"
    );
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    let a = &h.world.clusters[&f.members[0].cluster_resource_id];
    assert_eq!(a.kubernetes_version, v("1.31.2"));
    assert_eq!(a.node_pools[0].kubernetes_version, v("1.31.2"));
    assert!(
        h.events
            .iter()
            .any(|e| e.message.as_deref() == Some("attempt 2: hop 2 of 3, to Kubernetes 1.30.5")),
        "{:?}",
        h.events
    );
}

#[test]
fn a_run_stopped_between_hops_leaves_the_member_pending_and_goes_on_when_started() {
    let f = fleet(vec![old_member("a", "eastus")]);
    let mut h = Harness::new(&f, with_hops(full("1.31.2")), NOW);
    h.start();
    h.command(Command::Stop).unwrap();
    h.complete("a");
    assert!(matches!(h.run.state, RunState::Stopped { .. }));
    match h.member_state("a") {
        MemberState::Pending { reason, .. } => {
            assert!(reason.starts_with("1 of 3 hops done"), "{reason}")
        }
        other => panic!("not a Completed it did not reach: {other:?}"),
    }
    h.start();
    assert_eq!(
        in_flight(&h, "a"),
        ("1.30.5".into(), Some((1, 2))),
        "it goes on from where it is"
    );
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
}

#[test]
fn a_window_that_closes_between_hops_holds_the_rest_until_it_opens_again() {
    // Monday 11:00–15:00 UTC; the run starts Monday 12:00.
    let open_now = with_cluster(old_member("a", "eastus"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Monday, "11:00"));
    });
    let f = fleet(vec![open_now]);
    let mut h = Harness::new(&f, with_hops(full("1.31.2")), NOW);
    h.start();
    h.advance(4 * MS_PER_HOUR);
    h.complete("a");
    match h.member_state("a") {
        MemberState::Pending { reason, until, .. } => {
            assert!(reason.starts_with("maintenance window closed"), "{reason}");
            assert_eq!(
                *until,
                Some(NOW.plus_millis(7 * 24 * MS_PER_HOUR - MS_PER_HOUR))
            );
        }
        other => panic!("{other:?}"),
    }
    h.wake();
    assert_eq!(in_flight(&h, "a"), ("1.30.5".into(), Some((1, 2))));
}

#[test]
fn a_hop_that_fails_fails_the_member_at_that_hop() {
    let f = fleet(vec![
        old_member("a", "eastus"),
        member("b", None, "eastus", "1.30.5"),
    ]);
    let mut h = Harness::new(&f, with_hops(full("1.31.2")), NOW);
    h.start();
    h.complete("a");
    h.fail("a", "the API server did not come back");
    match h.member_state("a") {
        MemberState::Failed { message, .. } => {
            assert_eq!(message, "the API server did not come back")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(h.run.state, RunState::Failed { .. }),
        "no budget: the run fails"
    );
    let a = &h.world.clusters[&f.members[0].cluster_resource_id];
    assert_eq!(
        a.kubernetes_version,
        v("1.29.9"),
        "the first hop stays done"
    );
}
