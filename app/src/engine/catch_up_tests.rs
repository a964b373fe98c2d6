//! Who a finished run left behind, and the catch-up run of them.

use super::*;
use crate::engine::fixtures::*;
use crate::engine::harness::Harness;
use crate::engine::{Command, SkipKind, SkipTarget};
use crate::model::update::{NodeImageSelectionType, UpgradeType};
use std::collections::BTreeSet;

/// g1: a (upgraded). g2: b (1.31.2 is not in westeurope yet: pending), d (already there).
/// g3: c (fails), e (skipped by a person). Stages canary (g1, g2) and prod (g3).
fn finished() -> Harness {
    let mut catalog = catalog();
    catalog.kubernetes_version_rollout.insert(
        v("1.31.2"),
        BTreeSet::from([crate::model::cluster::Region::parse("eastus").unwrap()]),
    );
    let newest_image = |m| {
        with_cluster(m, |c| {
            c.node_pools[0].node_image_version = format!("{UBUNTU}-202410.01.0").parse_image();
        })
    };
    let mut fleet = fleet(vec![
        member("a", Some("g1"), "eastus", "1.30.5"),
        member("b", Some("g2"), "westeurope", "1.30.5"),
        newest_image(member("d", Some("g2"), "eastus", "1.31.2")),
        member("c", Some("g3"), "eastus", "1.30.5"),
        member("e", Some("g3"), "eastus", "1.30.5"),
    ]);
    fleet.catalog = catalog.normalized().unwrap();
    let mut spec = full("1.31.2");
    spec.strategy = Some(strategy(serde_json::json!({"stages": [
        {"name": "canary", "groups": [{"name": "g1"}, {"name": "g2"}]},
        {"name": "prod", "groups": [{"name": "g3", "maxConcurrency": "1"}]}
    ]})));
    let mut h = Harness::new(&fleet, spec, NOW);
    h.start();
    let skip = Command::Skip(vec![SkipTarget {
        kind: SkipKind::Member,
        name: "e".into(),
    }]);
    h.command(skip).unwrap();
    for _ in 0..100 {
        if let Some(member) = h.in_flight().first().cloned() {
            match member.as_str() {
                "c" => h.fail("c", "the node pool did not drain"),
                _ => h.complete(&member),
            };
        } else if h.wake_at.is_some() {
            h.wake();
        } else {
            break;
        }
    }
    h
}

trait ParseImage {
    fn parse_image(&self) -> crate::model::version::NodeImageVersion;
}

impl ParseImage for String {
    fn parse_image(&self) -> crate::model::version::NodeImageVersion {
        crate::model::version::NodeImageVersion::parse(self).unwrap()
    }
}

#[test]
fn a_finished_run_names_whom_it_left_behind_and_why() {
    let h = finished();
    assert!(check_finished(&h.run).is_ok(), "{:?}", h.run.state);
    let left: Vec<(String, State, String)> = left_behind(&h.run)
        .into_iter()
        .map(|l| (l.name.to_string(), l.state, l.reason))
        .collect();
    let names: Vec<&str> = left.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(
        names,
        ["b", "c", "e"],
        "a was upgraded, d was there already: {left:?}"
    );
    assert_eq!(left[0].1, State::Pending);
    assert!(
        left[0].2.contains("not available in westeurope"),
        "{}",
        left[0].2
    );
    assert_eq!(left[1].1, State::Failed);
    assert!(left[1].2.contains("did not drain"));
    assert_eq!(left[2].1, State::Skipped);
    assert!(
        left[2].2.starts_with("skipped by a person"),
        "{}",
        left[2].2
    );
}

#[test]
fn the_catch_up_run_keeps_the_targets_and_only_the_stages_and_groups_holding_them() {
    let h = finished();
    let left = left_behind(&h.run);
    let spec = catch_up_spec(&h.run, &left);
    assert_eq!(spec.update.upgrade.kind, UpgradeType::Full);
    assert_eq!(spec.update.upgrade.kubernetes_version, Some(v("1.31.2")));
    let stages: Vec<(String, Vec<String>)> = spec
        .strategy
        .unwrap()
        .stages
        .iter()
        .map(|s| {
            let groups = s.groups.iter().map(|g| g.name.to_string()).collect();
            (s.name.to_string(), groups)
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("canary".into(), vec!["g2".into()]),
            ("prod".into(), vec!["g3".into()])
        ],
        "g1 had no one left behind"
    );
}

#[test]
fn a_consistent_run_is_caught_up_with_the_images_it_chose() {
    // Both in eastus: the newest image there is everyone's; b is not reached before the stop.
    let fleet = fleet(vec![
        member("a", None, "eastus", "1.30.5"),
        member("b", None, "eastus", "1.30.5"),
    ]);
    let spec = crate::engine::fixtures::spec(
        UpgradeType::NodeImageOnly,
        None,
        NodeImageSelectionType::Consistent,
    );
    let mut h = Harness::new(&fleet, spec, NOW);
    h.start();
    h.command(Command::Stop).unwrap();
    h.run_to_end();
    let chosen = h.run.selected_images.clone().expect("chosen at the start");
    let left = left_behind(&h.run);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].state, State::NotStarted);
    assert_eq!(left[0].reason, "the run was stopped before it got there");
    let spec = catch_up_spec(&h.run, &left);
    let selection = spec.update.node_image_selection;
    assert_eq!(selection.kind, NodeImageSelectionType::Custom);
    let named: Vec<String> = selection
        .custom_node_image_versions
        .iter()
        .map(|c| c.version.to_string())
        .collect();
    let wanted: Vec<String> = chosen
        .iter()
        .map(|(family, release)| format!("{family}-{release}"))
        .collect();
    assert_eq!(named, wanted);
    assert!(spec.strategy.is_none(), "one by one, as the run was");
}

#[test]
fn a_run_still_going_is_not_caught_up() {
    let fleet = fleet(vec![member("a", None, "eastus", "1.30.5")]);
    let mut h = Harness::new(&fleet, full("1.31.2"), NOW);
    assert!(
        check_finished(&h.run)
            .unwrap_err()
            .contains("has not started")
    );
    h.start();
    assert!(
        check_finished(&h.run)
            .unwrap_err()
            .contains("has not finished")
    );
}
