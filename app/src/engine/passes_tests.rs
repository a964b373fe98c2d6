//! Chains of passes (`hops: PerStrategyPass`): a pass per minor, each taking the members below
//! its minor to that minor's newest patch, planned and timed as a whole, and run pass by pass.

use super::fixtures::*;
use super::harness::Harness;
use super::*;
use crate::model::cluster::Region;
use crate::model::run::{MemberState, RunHop, RunState};
use crate::model::update::Hops;

fn by_passes(mut spec: RunSpec) -> RunSpec {
    spec.update.upgrade.hops = Hops::PerStrategyPass;
    spec
}

/// a three minors behind 1.31.2, b two, c one.
fn spread_fleet() -> FleetSnapshot {
    fleet(vec![
        member("a", None, "eastus", "1.28.5"),
        member("b", None, "eastus", "1.29.9"),
        member("c", None, "eastus", "1.30.5"),
    ])
}

fn action<'a>(plan: &'a Plan, name: &str) -> &'a MemberAction {
    &plan
        .members()
        .find(|m| m.name.as_str() == name)
        .expect("a member of the plan")
        .action
}

fn control_plane_to(action: &MemberAction) -> Vec<String> {
    let MemberAction::Upgrade { target, then } = action else {
        panic!("not an upgrade: {action:?}");
    };
    std::iter::once(target)
        .chain(then)
        .map(|t| t.control_plane.as_ref().unwrap().to.to_string())
        .collect()
}

#[test]
fn the_plan_of_a_chain_has_a_pass_per_minor_and_times_them_one_after_another() {
    let p = plan(
        &spread_fleet(),
        &by_passes(full("1.31.2")),
        NOW,
        &EngineConfig::default(),
    )
    .unwrap();
    assert_eq!(
        p.hop,
        Some(RunHop {
            number: 1,
            of: 3,
            minor: 29,
            first_run: String::new()
        })
    );
    let passes: Vec<(&str, usize)> = p.hops.iter().map(|h| (h.to.as_str(), h.upgrades)).collect();
    assert_eq!(
        passes,
        [("1.29", 1), ("1.30", 2), ("1.31.2", 3)],
        "each pass takes everyone below its minor there"
    );
    for pair in p.hops.windows(2) {
        assert_eq!(pair[1].starts_after_ms, pair[0].ends_after_ms);
        assert!(pair[1].ends_after_ms > pair[1].starts_after_ms);
    }
    assert_eq!(
        p.duration_ms, p.hops[2].ends_after_ms,
        "the ETA is the chain's"
    );
    assert_eq!(
        control_plane_to(action(&p, "a")),
        ["1.29.9", "1.30.5", "1.31.2"],
        "what a member goes through, pass by pass"
    );
    match action(&p, "b") {
        MemberAction::Skip { reason } => {
            assert!(reason.starts_with("already at 1.29.9"), "{reason}");
            assert!(reason.contains("later passes: 1.30.5, 1.31.2"), "{reason}");
        }
        other => panic!("b waits for the second pass: {other:?}"),
    }
}

#[test]
fn a_fleet_within_one_minor_of_the_target_is_one_plain_run() {
    let f = fleet(vec![
        member("b", None, "eastus", "1.30.5"),
        member("c", None, "eastus", "1.31.2"),
    ]);
    let p = plan(
        &f,
        &by_passes(full("1.31.2")),
        NOW,
        &EngineConfig::default(),
    )
    .unwrap();
    assert_eq!(p.hop, None);
    assert!(p.hops.is_empty());
    assert_eq!(control_plane_to(action(&p, "b")), ["1.31.2"]);
}

#[test]
fn the_run_of_each_pass_takes_its_members_to_its_minor_and_no_further() {
    let f = spread_fleet();
    let spec = by_passes(full("1.31.2"));
    let mut h = Harness::new(&f, spec.clone(), NOW);
    assert_eq!(h.run.hop.as_ref().unwrap().first_run, "run-1");
    h.start();
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    assert_eq!(versions(&h), ["1.29.9", "1.29.9", "1.30.5"]);
    assert!(
        left_behind(&h.run).is_empty(),
        "the members a later pass takes on were not left behind"
    );
    for number in 2..=3 {
        let next = h.run.hop.as_ref().unwrap().next().unwrap();
        assert_eq!(next.number, number);
        h = next_pass(&h, &spec, next);
        h.start();
        h.run_to_end();
        assert!(matches!(h.run.state, RunState::Completed { .. }));
    }
    assert_eq!(versions(&h), ["1.31.2", "1.31.2", "1.31.2"]);
    assert!(
        h.run.hop.as_ref().unwrap().next().is_none(),
        "the last pass"
    );
}

#[test]
fn a_member_a_pass_left_behind_fails_the_next_pass_rather_than_skip_a_minor() {
    let f = spread_fleet();
    let spec = by_passes(full("1.31.2"));
    let mut h = Harness::new(&f, spec.clone(), NOW);
    h.start();
    h.fail("a", "the API server did not come back");
    h.run_to_end();
    assert!(matches!(h.run.state, RunState::Failed { .. }));
    let next = h.run.hop.as_ref().unwrap().next().unwrap();
    let second = next_pass(&h, &spec, next);
    let p = replan(&second.run, &snapshot_of(&second), NOW, &second.cfg).unwrap();
    assert!(
        matches!(action(&p, "a"), MemberAction::Fail { reason } if reason.contains("would skip minor version")),
        "{:?}",
        action(&p, "a")
    );
    assert_eq!(p.hops.len(), 2, "the plan of pass 2 shows passes 2 and 3");
}

#[test]
fn a_member_whose_region_lacks_the_passs_minor_waits_pending() {
    let mut f = fleet(vec![member("a", None, "westeurope", "1.28.5")]);
    f.catalog
        .kubernetes_version_rollout
        .insert(v("1.29.9"), [Region::parse("eastus").unwrap()].into());
    let mut h = Harness::new(&f, by_passes(full("1.31.2")), NOW);
    h.start();
    h.run_to_end();
    match h.member_state("a") {
        MemberState::Pending { reason, .. } => {
            assert!(
                reason.contains("no Kubernetes 1.29 is available in westeurope yet"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_a_pass_before_the_last_resolves_to_its_minor() {
    let hop = |number| RunHop {
        number,
        of: 3,
        minor: 28 + number,
        first_run: "r".into(),
    };
    assert_eq!(
        HopRule::of(Hops::PerStrategyPass, Some(&hop(2))),
        HopRule::Pass { minor: 30 }
    );
    assert_eq!(
        HopRule::of(Hops::PerStrategyPass, Some(&hop(3))),
        HopRule::Direct
    );
    assert_eq!(HopRule::of(Hops::PerStrategyPass, None), HopRule::Direct);
    assert_eq!(RunHop::run_name("up", 1), "up");
    assert_eq!(RunHop::run_name("up", 3), "up-hop-3");
}

/// The members' control plane versions, by name.
fn versions(h: &Harness) -> Vec<String> {
    h.world
        .clusters
        .values()
        .map(|c| c.kubernetes_version.to_string())
        .collect()
}

/// The fleet as `h`'s world has it now.
fn snapshot_of(h: &Harness) -> FleetSnapshot {
    let mut f = spread_fleet();
    f.catalog = h.world.catalog.clone();
    for m in &mut f.members {
        m.cluster = Ok(h.world.clusters[&m.cluster_resource_id].clone());
    }
    f
}

/// A harness on the run of pass `hop`, created over the fleet `h` leaves.
fn next_pass(h: &Harness, spec: &RunSpec, hop: RunHop) -> Harness {
    let snapshot = snapshot_of(h);
    let name = RunHop::run_name(&hop.first_run, hop.number);
    let (run, _) = create_pass(&name, &name, &snapshot, spec.clone(), hop, h.now, &h.cfg)
        .expect("the pass is valid");
    Harness {
        places: super::Places::of(&run),
        run,
        world: super::harness::TestWorld {
            catalog: h.world.catalog.clone(),
            clusters: h.world.clusters.clone(),
            holders: Default::default(),
            unreachable: Default::default(),
            placement: Default::default(),
        },
        now: h.now,
        cfg: h.cfg.clone(),
        events: Vec::new(),
        effects: Vec::new(),
        wake_at: None,
    }
}
