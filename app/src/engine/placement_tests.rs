use super::*;
use crate::model::placement::TaintEffect;
use serde_json::{Value, json};

/// A member `name` with `labels` (`key=value,…`), `nodes` nodes and Kubernetes `version`.
fn member(name: &str, labels: &str, nodes: u64, version: &str) -> Candidate {
    Candidate {
        name: name.into(),
        labels: labels
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap();
                (key.to_owned(), value.to_owned())
            })
            .collect(),
        taints: Vec::new(),
        node_count: Some(nodes),
        kubernetes_version: Some(KubernetesVersion::parse(version).unwrap()),
    }
}

fn fleet() -> Vec<Candidate> {
    vec![
        member("east-1", "env=prod,region=east", 3, "1.30.5"),
        member("east-2", "env=prod,region=east", 6, "1.29.9"),
        member("east-3", "env=dev,region=east", 9, "1.30.2"),
        member("west-1", "env=prod,region=west", 4, "1.31.1"),
        member("west-2", "env=dev,region=west", 12, "1.30.5"),
        member("north-1", "env=prod,region=north", 2, "1.30.5"),
    ]
}

fn run(policy: Value, candidates: &[Candidate]) -> PlacementSchedule {
    let policy: PlacementPolicy = serde_json::from_value(policy).unwrap();
    policy.checked().unwrap();
    schedule_placement(&policy, candidates)
}

fn reasons<'a>(schedule: &'a PlacementSchedule, name: &str) -> &'a [String] {
    &schedule
        .decisions
        .iter()
        .find(|d| d.name == name)
        .unwrap()
        .reasons
}

fn required(terms: Value) -> Value {
    json!({"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": terms}}})
}

fn preferred(terms: Value) -> Value {
    json!({"clusterAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": terms}})
}

#[test]
fn each_policy_picks_the_members_it_should() {
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "PickAll with no rules takes everyone",
            json!({}),
            vec!["east-1", "east-2", "east-3", "north-1", "west-1", "west-2"],
        ),
        (
            "a required label term",
            json!({"affinity": required(json!([{"labelSelector": {"matchLabels": {"env": "prod"}}}]))}),
            vec!["east-1", "east-2", "north-1", "west-1"],
        ),
        (
            "required terms are ORed, a term's selectors ANDed",
            json!({"affinity": required(json!([
                {"labelSelector": {"matchLabels": {"region": "west"}}},
                {"labelSelector": {"matchExpressions": [{"key": "region", "operator": "In", "values": ["east"]}]},
                 "propertySelector": {"matchExpressions": [{"name": "kubernetes-fleet.io/node-count", "operator": "Gt", "values": ["5"]}]}}]))}),
            vec!["east-2", "east-3", "west-1", "west-2"],
        ),
        (
            "a version property at minor precision",
            json!({"affinity": required(json!([{"propertySelector": {"matchExpressions": [
                {"name": "drydock.io/kubernetes-version", "operator": "Eq", "values": ["1.30"]}]}}]))}),
            vec!["east-1", "east-3", "north-1", "west-2"],
        ),
        (
            "PickN takes the highest weights, then names",
            json!({"placementType": "PickN", "numberOfClusters": 3, "affinity": preferred(json!([
                {"weight": 50, "preference": {"labelSelector": {"matchLabels": {"region": "west"}}}},
                {"weight": -20, "preference": {"labelSelector": {"matchLabels": {"env": "dev"}}}}]))}),
            vec!["west-1", "west-2", "east-1"],
        ),
        (
            "PickN by a property sorter, most nodes first",
            json!({"placementType": "PickN", "numberOfClusters": 2, "affinity": preferred(json!([
                {"weight": 100, "preference": {"propertySorter": {"name": "kubernetes-fleet.io/node-count", "sortOrder": "Descending"}}}]))}),
            vec!["west-2", "east-3"],
        ),
        (
            "PickN by a property sorter, fewest nodes first",
            json!({"placementType": "PickN", "numberOfClusters": 2, "affinity": preferred(json!([
                {"weight": 100, "preference": {"propertySorter": {"name": "kubernetes-fleet.io/node-count", "sortOrder": "Ascending"}}}]))}),
            vec!["north-1", "east-1"],
        ),
        (
            "PickN spread over regions before affinity",
            json!({"placementType": "PickN", "numberOfClusters": 3,
                   "affinity": preferred(json!([{"weight": 90, "preference": {"labelSelector": {"matchLabels": {"region": "east"}}}}])),
                   "topologySpreadConstraints": [{"topologyKey": "region"}]}),
            vec!["east-1", "north-1", "west-1"],
        ),
        (
            "PickFixed takes the named members in their order",
            json!({"placementType": "PickFixed", "clusterNames": ["west-2", "east-1"]}),
            vec!["west-2", "east-1"],
        ),
    ];
    for (what, policy, wanted) in cases {
        let schedule = run(policy, &fleet());
        assert_eq!(schedule.selected, wanted, "{what}: {schedule:#?}");
        let flagged: Vec<&str> = schedule
            .decisions
            .iter()
            .filter(|d| d.selected)
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(flagged.len(), wanted.len(), "{what}");
        assert!(wanted.iter().all(|w| flagged.contains(w)), "{what}");
    }
}

#[test]
fn every_member_is_told_why() {
    let schedule = run(
        json!({"affinity": required(json!([
            {"labelSelector": {"matchLabels": {"env": "prod"}}},
            {"propertySelector": {"matchExpressions": [{"name": "kubernetes-fleet.io/node-count", "operator": "Ge", "values": ["10"]}]}}]))}),
        &fleet(),
    );
    assert_eq!(
        reasons(&schedule, "east-3"),
        [
            "matches no required term (term 1: wants env in (prod), has env=dev; term 2: wants kubernetes-fleet.io/node-count >= 10, has 9)"
        ]
    );
    assert_eq!(
        reasons(&schedule, "west-2"),
        [
            "matches required term 2",
            "picked: PickAll takes every member that passes"
        ]
    );
    assert_eq!(
        schedule.summary,
        "PickAll: 5 picked; 5 of 6 members pass the filters"
    );
    let missing_label = run(
        json!({"affinity": required(json!([{"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}}]))}),
        &fleet(),
    );
    assert_eq!(
        reasons(&missing_label, "east-1"),
        ["matches no required term (term 1: wants tier, has no tier label)"]
    );
}

#[test]
fn taints_keep_members_out_unless_tolerated_and_pick_fixed_ignores_them() {
    let mut members = fleet();
    members[0].taints.push(Taint {
        key: "dedicated".into(),
        value: Some("gpu".into()),
        effect: TaintEffect::NoSchedule,
    });
    let untolerated = run(json!({}), &members);
    assert!(!untolerated.selected.contains(&"east-1".to_owned()));
    assert_eq!(
        reasons(&untolerated, "east-1"),
        ["does not tolerate taint dedicated=gpu:NoSchedule"]
    );
    let tolerated = run(
        json!({"tolerations": [{"key": "dedicated", "operator": "Exists"}]}),
        &members,
    );
    assert!(tolerated.selected.contains(&"east-1".to_owned()));
    let fixed = run(
        json!({"placementType": "PickFixed", "clusterNames": ["east-1", "gone"]}),
        &members,
    );
    assert_eq!(fixed.selected, ["east-1"]);
    assert_eq!(fixed.missing, ["gone"]);
    assert_eq!(
        fixed.summary,
        "PickFixed: 1 of 2 named members picked; not members of the fleet: gone"
    );
}

#[test]
fn a_spread_that_cannot_hold_picks_fewer_or_breaks_it_by_as_little_as_it_can() {
    // Four in east, one in west: four members cannot be spread with a skew of 1.
    let members = vec![
        member("e1", "region=east", 1, "1.30.1"),
        member("e2", "region=east", 1, "1.30.1"),
        member("e3", "region=east", 1, "1.30.1"),
        member("e4", "region=east", 1, "1.30.1"),
        member("w1", "region=west", 1, "1.30.1"),
        member("x1", "", 1, "1.30.1"),
    ];
    let strict = run(
        json!({"placementType": "PickN", "numberOfClusters": 4,
               "topologySpreadConstraints": [{"topologyKey": "region"}]}),
        &members,
    );
    assert_eq!(strict.selected, ["e1", "w1", "e2"]);
    assert_eq!(
        strict.summary,
        "PickN: 3 of 4 wanted picked; 5 of 6 members pass the filters and the spread constraints allow no more"
    );
    assert_eq!(
        reasons(&strict, "e3"),
        ["not picked: picking it would put 3 in region=east against 1 elsewhere (maxSkew 1)"]
    );
    assert_eq!(
        reasons(&strict, "x1"),
        ["has no region label, which a DoNotSchedule spread over it needs"]
    );

    let lenient = run(
        json!({"placementType": "PickN", "numberOfClusters": 4,
               "topologySpreadConstraints": [{"topologyKey": "region", "whenUnsatisfiable": "ScheduleAnyway"}]}),
        &members,
    );
    // x1 has no region: it costs the spread nothing, so it goes before a third east member.
    assert_eq!(lenient.selected, ["e1", "w1", "e2", "x1"]);
    let e3 = lenient.decisions.iter().find(|d| d.name == "e3").unwrap();
    assert_eq!(
        e3.score,
        Some(PlacementScore {
            affinity: 0,
            topology_spread: -1
        })
    );
}

#[test]
fn pick_n_with_too_few_members_picks_those_there_are() {
    let schedule = run(
        json!({"placementType": "PickN", "numberOfClusters": 10,
               "affinity": required(json!([{"labelSelector": {"matchLabels": {"env": "dev"}}}]))}),
        &fleet(),
    );
    assert_eq!(schedule.selected, ["east-3", "west-2"]);
    assert_eq!(
        schedule.summary,
        "PickN: 2 of 10 wanted picked; 2 of 6 members pass the filters"
    );
}

#[test]
fn the_order_members_come_in_changes_nothing() {
    let policy = json!({"placementType": "PickN", "numberOfClusters": 3,
        "affinity": preferred(json!([{"weight": 10, "preference": {"labelSelector": {"matchLabels": {"env": "prod"}}}}])),
        "topologySpreadConstraints": [{"topologyKey": "region", "maxSkew": 1}]});
    let forward = run(policy.clone(), &fleet());
    let mut reversed = fleet();
    reversed.reverse();
    assert_eq!(run(policy, &reversed), forward);
}
