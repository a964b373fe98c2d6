//! `deferUntilAvailable`: a member whose version has not reached its region waits for it,
//! holding its group, up to the bound; without it (Azure's way) it is left pending at once.

use super::fixtures::*;
use super::harness::Harness;
use super::*;
use crate::model::cluster::Region;
use crate::model::run::{MemberState, RunState};
use crate::model::time::{MS_PER_HOUR, MS_PER_MINUTE};
use crate::model::update::DeferUntilAvailable;

/// 1.31.2 has reached eastus only; `west` waits for it, `east` does not.
fn fleet_waiting_for_west() -> FleetSnapshot {
    let mut f = fleet(vec![
        member("east", None, "eastus", "1.30.5"),
        member("west", None, "westeurope", "1.30.5"),
    ]);
    f.catalog
        .kubernetes_version_rollout
        .insert(v("1.31.2"), [Region::parse("eastus").unwrap()].into());
    f
}

fn deferred(seconds: i64) -> RunSpec {
    let mut spec = full("1.31.2");
    spec.update.defer_until_available = Some(DeferUntilAvailable {
        max_wait_in_seconds: seconds,
    });
    spec
}

fn arrives_everywhere(h: &mut Harness) {
    h.world.catalog.kubernetes_version_rollout.clear();
}

#[test]
fn without_it_the_member_is_left_pending_and_the_run_completes() {
    let mut h = Harness::new(&fleet_waiting_for_west(), full("1.31.2"), NOW);
    h.start();
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    assert!(matches!(
        h.member_state("west"),
        MemberState::Pending { until: None, .. }
    ));
}

#[test]
fn the_member_waits_holding_its_group_and_upgrades_when_the_version_arrives() {
    let mut h = Harness::new(&fleet_waiting_for_west(), deferred(24 * 3600), NOW);
    h.start();
    h.complete("east");
    match h.member_state("west") {
        MemberState::Pending { reason, until, .. } => {
            assert!(
                reason.contains("not available in westeurope yet"),
                "{reason}"
            );
            assert!(reason.contains("deferUntilAvailable"), "{reason}");
            assert_eq!(*until, Some(NOW.plus_millis(24 * MS_PER_HOUR)));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(h.run.state, RunState::Running { .. }),
        "the group waits for it"
    );
    assert!(
        h.wake_at.unwrap() <= h.now.plus_millis(15 * MS_PER_MINUTE),
        "it looks again soon: catalogs change without telling the run"
    );
    arrives_everywhere(&mut h);
    h.wake();
    assert!(matches!(
        h.member_state("west"),
        MemberState::Upgrading { .. }
    ));
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    assert!(matches!(
        h.member_state("west"),
        MemberState::Completed { .. }
    ));
}

#[test]
fn past_the_bound_the_member_is_left_pending_and_the_run_goes_on() {
    let mut h = Harness::new(&fleet_waiting_for_west(), deferred(3600), NOW);
    h.start();
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    match h.member_state("west") {
        MemberState::Pending { reason, until, .. } => {
            assert!(reason.contains("the run waited 1h 0m for it"), "{reason}");
            assert_eq!(*until, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(h.now >= NOW.plus_millis(MS_PER_HOUR));
}

#[test]
fn the_plan_says_who_will_wait_and_refuses_a_bound_out_of_range() {
    let cfg = EngineConfig::default();
    let p = plan(&fleet_waiting_for_west(), &deferred(7200), NOW, &cfg).unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("1 pending member(s) will wait up to 2h 0m")),
        "{:?}",
        p.warnings
    );
    for bad in [0, 31 * 24 * 3600] {
        let refused = plan(&fleet_waiting_for_west(), &deferred(bad), NOW, &cfg).unwrap_err();
        assert!(
            refused.to_string().contains("maxWaitInSeconds"),
            "{refused}"
        );
    }
}
