//! `forecast` against the same schedule `plan` makes, through a run's life.

use super::decide_tests::{one_by_one, staged};
use super::fixtures::*;
use super::*;
use crate::model::time::MS_PER_HOUR;
use crate::model::window::DayOfWeek;

fn forecast_of(h: &harness::Harness) -> Forecast {
    forecast(&h.run, &h.world, h.now, &h.cfg)
}

fn fleet_of(h: &harness::Harness) -> FleetSnapshot {
    // The run's members as a fresh plan sees them (staged runs name their groups).
    let members = h
        .run
        .stages
        .iter()
        .flat_map(|s| s.groups.iter())
        .flat_map(|g| {
            g.members.iter().map(move |m| PlanMember {
                name: m.name.clone(),
                cluster_resource_id: m.cluster_resource_id.clone(),
                group: crate::model::names::GroupName::parse(&g.name).ok(),
                cluster: h
                    .world
                    .observe(&m.cluster_resource_id)
                    .map_err(|u| u.message),
                labels: Default::default(),
            })
        })
        .collect();
    FleetSnapshot {
        members,
        catalog: h.world.catalog.clone(),
    }
}

#[test]
fn before_the_start_the_forecast_is_the_plan() {
    let h = staged();
    let planned = plan(&fleet_of(&h), &h.run.spec, h.now, &h.cfg).unwrap();
    let ahead = forecast_of(&h);
    assert_eq!(ahead.eta, Some(h.now.plus_millis(planned.duration_ms)));
    let planned_ends: Vec<_> = planned
        .members()
        .filter_map(|m| {
            m.ends_after_ms
                .map(|e| (m.name.clone(), h.now.plus_millis(e)))
        })
        .collect();
    let mut forecast_ends: Vec<_> = ahead.members().map(|m| (m.name.clone(), m.ends)).collect();
    forecast_ends.sort();
    let mut planned_ends = planned_ends;
    planned_ends.sort();
    assert_eq!(forecast_ends, planned_ends);
}

#[test]
fn an_upgrade_in_flight_ends_when_its_duration_says_and_the_rest_follow_it() {
    let mut h = one_by_one(&["a", "b"]);
    let at_start = forecast_of(&h).eta.unwrap();
    h.start();
    h.advance(60_000);
    let ahead = forecast_of(&h);
    let a = &ahead.stages[0].groups[0].members[0];
    assert!(a.in_flight);
    assert_eq!(a.starts, NOW, "in flight since the start");
    let b = &ahead.stages[0].groups[0].members[1];
    assert!(!b.in_flight);
    assert_eq!(b.starts, a.ends, "b follows a");
    assert_eq!(ahead.eta, Some(b.ends));
    assert_eq!(ahead.eta, Some(at_start), "a minute in, on schedule");
    // a finishes early: everything left moves up.
    h.complete("a");
    let after = forecast_of(&h);
    assert_eq!(after.members().count(), 1);
    assert!(after.eta.unwrap() < at_start);
}

#[test]
fn an_upgrade_running_late_pushes_the_eta_to_now_and_beyond() {
    let mut h = one_by_one(&["a"]);
    h.start();
    let expected = forecast_of(&h).eta.unwrap();
    h.now = expected.plus_millis(MS_PER_HOUR);
    let late = forecast_of(&h);
    assert_eq!(
        late.eta,
        Some(h.now),
        "an overdue upgrade is expected to end now, not in the past"
    );
}

#[test]
fn a_running_wait_and_the_stages_after_it_count() {
    let mut h = staged();
    h.start();
    for m in ["a1", "b1"] {
        h.complete(m);
    }
    h.complete("a2");
    // Stage canary waits an hour now.
    let ahead = forecast_of(&h);
    assert_eq!(ahead.stages[0].name, "canary");
    assert_eq!(ahead.stages[0].wait_ends, h.now.plus_millis(MS_PER_HOUR));
    assert_eq!(ahead.stages[1].starts, ahead.stages[0].wait_ends);
    assert!(ahead.eta.unwrap() > ahead.stages[0].wait_ends);
    h.run_to_end();
    assert_eq!(forecast_of(&h), Forecast::default(), "nothing left");
}

#[test]
fn a_member_waiting_for_its_window_is_expected_when_it_opens() {
    let waiting = with_cluster(member("a", None, "eastus", "1.29.9"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Tuesday, "02:00"))
    });
    let h = harness::Harness::new(&fleet(vec![waiting]), full("1.30.5"), NOW);
    let tuesday = crate::model::time::Timestamp::parse_rfc3339("2024-09-03T02:00:00Z").unwrap();
    let a = forecast_of(&h).members().next().cloned().unwrap();
    assert_eq!(a.starts, tuesday);
    assert_eq!(a.waits_for_window_until, Some(tuesday));
}

#[test]
fn what_the_driver_observes_is_what_can_start_now() {
    let mut h = staged();
    let next = |h: &harness::Harness| -> Vec<String> {
        let ids = clusters_to_start(&h.run, &Places::of(&h.run), &Input::Tick, 1);
        let mut names: Vec<String> = h
            .run
            .members()
            .filter(|m| ids.contains(&m.cluster_resource_id))
            .map(|m| m.name.to_string())
            .collect();
        names.sort();
        names
    };
    // Before the start: the first stage's groups, their free place and one more each; not the
    // second stage.
    assert_eq!(next(&h), ["a1", "a2", "b1"]);
    h.start();
    assert_eq!(h.in_flight(), ["a1", "b1"]);
    // Every group's place is taken: nothing can start, so nothing needs looking at...
    assert!(next(&h).is_empty(), "{:?}", next(&h));
    // ...unless the decision is about an attempt ending, which frees its group's place.
    let report = Input::Report {
        member: crate::model::names::MemberName::parse("a1").unwrap(),
        attempt: 1,
        outcome: Outcome::Succeeded,
    };
    let ids = clusters_to_start(&h.run, &Places::of(&h.run), &report, 1);
    assert_eq!(ids.len(), 1, "a2 (g1), not g2's nobody: {ids:?}");
    h.complete("b1");
    assert!(next(&h).is_empty(), "g2 has nobody left, g1 is full");
    h.complete("a1");
    assert_eq!(h.in_flight(), ["a2"]);
    // The first stage has nothing left to start: the second may begin in the same decision.
    assert_eq!(next(&h), ["c1", "c2"]);
}

/// The cluster of the run's member `name`.
fn cluster_of(h: &harness::Harness, name: &str) -> crate::model::member::ClusterResourceId {
    h.run
        .members()
        .find(|m| m.name.as_str() == name)
        .map(|m| m.cluster_resource_id.clone())
        .unwrap()
}

#[test]
fn members_not_observed_still_count_in_the_eta_as_long_as_those_observed() {
    let mut h = one_by_one(&["a", "b", "c", "d"]);
    let all_seen = forecast_of(&h);
    // The forecast's world sees only the next members of a group (a large run's clusters are
    // not all observed for a page); c and d cannot be seen now.
    for name in ["c", "d"] {
        let cluster = cluster_of(&h, name);
        h.world
            .unreachable
            .insert(cluster, "not observed yet".into());
    }
    let partly_seen = forecast_of(&h);
    assert_eq!(
        partly_seen.eta, all_seen.eta,
        "c and d take as long as a and b, one after the other"
    );
    let group = &partly_seen.stages[0].groups[0];
    assert_eq!(group.members.len(), 2, "a and b are planned one by one");
    assert_eq!(group.more, 2, "c and d are counted");
    // With none of its members seen, a group is expected to take the duration model's
    // nominal cluster (three nodes, as these are) each.
    for name in ["a", "b"] {
        let cluster = cluster_of(&h, name);
        h.world
            .unreachable
            .insert(cluster, "not observed yet".into());
    }
    assert_eq!(forecast_of(&h).eta, all_seen.eta);
    // A cluster gone for good fails on its turn and takes no time.
    h.world.unreachable.clear();
    let gone = cluster_of(&h, "d");
    h.world.clusters.remove(&gone);
    let three = forecast_of(&h);
    assert!(three.eta < all_seen.eta);
    assert_eq!(three.stages[0].groups[0].more, 0);
}

#[test]
fn unobserved_members_share_a_stage_ceiling() {
    let mut h = staged();
    for name in ["a1", "a2", "b1"] {
        let cluster = cluster_of(&h, name);
        h.world
            .unreachable
            .insert(cluster, "not observed yet".into());
    }
    let upgrade = h.run.spec.update.upgrade.checked().unwrap();
    let each = h.cfg.durations.nominal_upgrade_ms(upgrade);
    let canary = |h: &harness::Harness| {
        let stage = forecast_of(h).stages[0].clone();
        stage.ends.millis() - stage.starts.millis()
    };
    assert_eq!(
        canary(&h),
        2 * each,
        "g1's two one after the other, g2's one beside them"
    );
    h.run.stages[0].limits.max_concurrency = Some(1);
    assert_eq!(canary(&h), 3 * each, "one at a time in the stage");
}
