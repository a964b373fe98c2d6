//! Stages and groups chosen by label: who lands where, overlaps refused with the members named,
//! members no stage selects listed.

use super::fixtures::*;
use super::*;
use crate::model::names::MemberName;

fn fleet_of_labels() -> FleetSnapshot {
    fleet(vec![
        labelled(member("c1", None, "eastus", "1.29.9"), &[("env", "canary")]),
        labelled(
            member("p1", Some("g-eu"), "eastus", "1.29.9"),
            &[("env", "prod"), ("region", "eu")],
        ),
        labelled(
            member("p2", None, "eastus", "1.29.9"),
            &[("env", "prod"), ("region", "us")],
        ),
        labelled(
            member("p3", None, "eastus", "1.29.9"),
            &[("env", "prod"), ("region", "asia")],
        ),
        labelled(
            member("d1", Some("g-eu"), "eastus", "1.29.9"),
            &[("env", "dev")],
        ),
    ])
}

fn planned(strategy: serde_json::Value) -> Result<Plan, PlanRejection> {
    let spec = RunSpec {
        strategy: Some(super::fixtures::strategy(strategy)),
        ..full("1.30.5")
    };
    plan(&fleet_of_labels(), &spec, NOW, &EngineConfig::default())
}

fn layout_of(plan: &Plan) -> Vec<(String, String, Vec<String>)> {
    plan.stages
        .iter()
        .flat_map(|s| {
            s.groups.iter().map(|g| {
                let mut names: Vec<String> = g.members.iter().map(|m| m.name.to_string()).collect();
                names.sort();
                (s.name.clone(), g.name.clone(), names)
            })
        })
        .collect()
}

#[test]
fn stages_and_groups_take_members_by_label_beside_update_groups() {
    let p = planned(serde_json::json!({"stages": [
        {"name": "canary", "memberSelector": {"byLabel": "env=canary"}, "maxConcurrency": "2"},
        {"name": "prod", "memberSelector": {"byLabel": "env=prod"}, "groups": [
            {"name": "g-eu"},
            {"name": "americas", "memberSelector": {"byLabel": "region in (us)"}}]}
    ]}))
    .unwrap();
    assert_eq!(
        layout_of(&p),
        [
            ("canary".into(), "canary".into(), vec!["c1".into()]),
            ("prod".into(), "g-eu".into(), vec!["p1".into()]),
            ("prod".into(), "americas".into(), vec!["p2".into()]),
        ],
        "d1 is in g-eu but not selected by its stage; p3 is selected by no group"
    );
    assert_eq!(
        p.not_in_any_stage,
        [
            MemberName::parse("d1").unwrap(),
            MemberName::parse("p3").unwrap()
        ]
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w == "not in any stage, so not updated: d1, p3")
    );
    assert_eq!(
        p.stages[0].groups[0].limits.max_concurrency,
        Some(2),
        "a stage chosen by label alone runs as many at once as it allows"
    );
}

#[test]
fn selectors_that_put_a_member_in_two_places_are_refused_naming_the_members() {
    let overlap = planned(serde_json::json!({"stages": [
        {"name": "first", "memberSelector": {"byLabel": "env=prod"}},
        {"name": "second", "memberSelector": {"byLabel": "region in (eu,us)"}}
    ]}))
    .unwrap_err();
    assert_eq!(
        overlap.to_string(),
        "members would fall in both stage first and stage second: p1, p2; a member may be in one stage and group only"
    );
    let within = planned(serde_json::json!({"stages": [
        {"name": "s", "groups": [
            {"name": "a", "memberSelector": {"byLabel": "env=prod"}},
            {"name": "b", "memberSelector": {"byLabel": "region=asia"}}]}
    ]}))
    .unwrap_err();
    assert!(
        within
            .to_string()
            .contains("stage s (group a) and stage s (group b): p3"),
        "{within}"
    );
}

#[test]
fn a_stage_needs_groups_or_a_selector_and_its_implicit_group_a_free_name() {
    let neither = planned(serde_json::json!({"stages": [{"name": "s"}]})).unwrap_err();
    assert!(
        neither
            .to_string()
            .contains("no update groups and no memberSelector")
    );
    let clash = planned(serde_json::json!({"stages": [
        {"name": "g-eu", "memberSelector": {"byLabel": "env=canary"}},
        {"name": "prod", "groups": [{"name": "g-eu"}]}
    ]}))
    .unwrap_err();
    assert!(
        clash.to_string().contains("runs them as group g-eu"),
        "{clash}"
    );
}

#[test]
fn a_run_freezes_who_its_selectors_chose() {
    let spec = RunSpec {
        strategy: Some(strategy(serde_json::json!({"stages": [
            {"name": "prod", "memberSelector": {"byLabel": "env=prod"}}]}))),
        ..full("1.30.5")
    };
    let mut f = fleet_of_labels();
    let (run, _) = create_run(
        "r",
        "uid-r",
        &f,
        spec.clone(),
        NOW,
        &EngineConfig::default(),
    )
    .unwrap();
    let names: Vec<&str> = run.members().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["p1", "p2", "p3"]);
    f.members[0].labels.insert("env".into(), "prod".into());
    let (later, _) = create_run("r2", "uid-r2", &f, spec, NOW, &EngineConfig::default()).unwrap();
    assert_eq!(later.members().count(), 4, "a new run selects again");
    assert_eq!(
        run.members().count(),
        3,
        "the first run keeps what it chose"
    );
}
