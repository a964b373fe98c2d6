use super::*;
use serde_json::{Value, json};

fn policy(value: Value) -> Result<PlacementPolicy, String> {
    let policy: PlacementPolicy = serde_json::from_value(value).map_err(|e| e.to_string())?;
    policy.checked()?;
    Ok(policy)
}

#[test]
fn kubefleet_shapes_read_and_write_back_the_same() {
    let given = json!({
        "placementType": "PickN",
        "numberOfClusters": 3,
        "affinity": {"clusterAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"labelSelector": {"matchLabels": {"env": "prod"},
                                   "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["edge"]}]},
                 "propertySelector": {"matchExpressions": [
                     {"name": "kubernetes-fleet.io/node-count", "operator": "Ge", "values": ["3"]}]}}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 20, "preference": {"labelSelector": {"matchLabels": {"fleet.azure.com/location": "eastus"}}}},
                {"weight": -10, "preference": {"propertySorter": {"name": "kubernetes-fleet.io/node-count", "sortOrder": "Ascending"}}}]}},
        "topologySpreadConstraints": [{"maxSkew": 2, "topologyKey": "fleet.azure.com/location", "whenUnsatisfiable": "ScheduleAnyway"}],
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    });
    let read = policy(given.clone()).unwrap();
    assert_eq!(serde_json::to_value(&read).unwrap(), given);
    assert_eq!(
        policy(json!({})).unwrap().placement_type,
        PlacementType::PickAll
    );
}

#[test]
fn each_bad_policy_is_refused_at_its_field() {
    let cases = [
        (
            json!({"placementType": "PickSome"}),
            "unknown variant `PickSome`",
        ),
        (
            json!({"numberOfClusters": 2}),
            "policy.numberOfClusters: only PickN takes it",
        ),
        (
            json!({"placementType": "PickN"}),
            "policy.numberOfClusters: PickN needs it",
        ),
        (
            json!({"placementType": "PickN", "numberOfClusters": 100001}),
            "policy.numberOfClusters: at most 100000",
        ),
        (
            json!({"clusterNames": ["a"]}),
            "policy.clusterNames: only PickFixed takes it",
        ),
        (
            json!({"placementType": "PickFixed"}),
            "policy.clusterNames: PickFixed needs",
        ),
        (
            json!({"placementType": "PickFixed", "clusterNames": ["a", "a"]}),
            "policy.clusterNames[1]: a is named twice",
        ),
        (
            json!({"placementType": "PickFixed", "clusterNames": ["A b"]}),
            "policy.clusterNames[0]: ",
        ),
        (
            json!({"placementType": "PickFixed", "clusterNames": ["a"], "tolerations": [{"operator": "Exists"}]}),
            "policy.tolerations: PickFixed",
        ),
        (
            json!({"placementType": "PickFixed", "clusterNames": ["a"], "affinity": {}}),
            "policy.affinity: PickFixed",
        ),
        (
            json!({"topologySpreadConstraints": [{"topologyKey": "zone"}]}),
            "policy.topologySpreadConstraints: only PickN",
        ),
        (
            json!({"placementType": "PickN", "numberOfClusters": 1, "topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 0}]}),
            "policy.topologySpreadConstraints[0].maxSkew: at least 1",
        ),
        (
            json!({"placementType": "PickN", "numberOfClusters": 1, "topologySpreadConstraints": [{"topologyKey": "zone"}, {"topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"}]}),
            "policy.topologySpreadConstraints[1].topologyKey: zone is constrained twice",
        ),
        (
            json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": []}}}}),
            "policy.affinity.clusterAffinity.requiredDuringSchedulingIgnoredDuringExecution.clusterSelectorTerms: give at least one term",
        ),
        (
            json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {}, {"labelSelector": {"matchExpressions": [{"key": "env", "operator": "In"}]}}]}}}}),
            "policy.affinity.clusterAffinity.requiredDuringSchedulingIgnoredDuringExecution.clusterSelectorTerms[1].labelSelector.matchExpressions[0].values: In needs at least one",
        ),
        (
            json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"labelSelector": {"matchExpressions": [{"key": "env", "operator": "Exists", "values": ["x"]}]}}]}}}}),
            "clusterSelectorTerms[0].labelSelector.matchExpressions[0].values: Exists takes none",
        ),
        (
            json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"propertySorter": {"name": "kubernetes-fleet.io/node-count", "sortOrder": "Descending"}}]}}}}),
            "clusterSelectorTerms[0].propertySorter: a required term selects",
        ),
        (
            json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"propertySelector": {"matchExpressions": [{"name": "cpu", "operator": "Gt", "values": ["1"]}]}}]}}}}),
            "clusterSelectorTerms[0].propertySelector.matchExpressions[0]: 'cpu' is not a property Drydock knows",
        ),
        (
            json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"propertySelector": {"matchExpressions": [{"name": "kubernetes-fleet.io/node-count", "operator": "Gt", "values": ["1", "2"]}]}}]}}}}),
            "Gt compares with exactly one value, not 2",
        ),
        (
            json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"propertySelector": {"matchExpressions": [{"name": "drydock.io/kubernetes-version", "operator": "Ge", "values": ["one.thirty"]}]}}]}}}}),
            "'one.thirty' is not a version such as 1.30 or 1.30.5",
        ),
        (
            json!({"affinity": {"clusterAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 101, "preference": {}}]}}}),
            "policy.affinity.clusterAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: -100 to 100, not 101",
        ),
        (
            json!({"tolerations": [{"operator": "Exists", "value": "x"}]}),
            "policy.tolerations[0]: value: Exists matches any value",
        ),
        (
            json!({"tolerations": [{"value": "x"}]}),
            "policy.tolerations[0]: key: Equal needs a key",
        ),
        (
            json!({"tolerations": [{"key": "bad key", "operator": "Exists"}]}),
            "policy.tolerations[0]: key: label key 'bad key'",
        ),
    ];
    for (given, wanted) in cases {
        let refused = policy(given.clone()).expect_err(&given.to_string());
        assert!(refused.contains(wanted), "{given}: {refused}");
    }
}

#[test]
fn tolerations_match_taints_as_kubernetes_does() {
    let taint = Taint {
        key: "dedicated".into(),
        value: Some("gpu".into()),
        effect: TaintEffect::NoSchedule,
    };
    let toleration = |value: Value| serde_json::from_value::<Toleration>(value).unwrap();
    assert!(toleration(json!({"key": "dedicated", "value": "gpu"})).tolerates(&taint));
    assert!(!toleration(json!({"key": "dedicated", "value": "cpu"})).tolerates(&taint));
    assert!(toleration(json!({"key": "dedicated", "operator": "Exists"})).tolerates(&taint));
    assert!(toleration(json!({"operator": "Exists"})).tolerates(&taint));
    assert!(!toleration(json!({"key": "spot", "operator": "Exists"})).tolerates(&taint));
    assert_eq!(taint.to_string(), "dedicated=gpu:NoSchedule");
}

#[test]
fn versions_compare_at_the_precision_given() {
    let v = |text: &str| PropertyValue::Version(KubernetesVersion::parse(text).unwrap());
    let bound = |text: &str| PropertyBound::parse(KUBERNETES_VERSION_PROPERTY, text).unwrap();
    use std::cmp::Ordering::{Equal, Greater, Less};
    assert_eq!(bound("1.30").compare(v("1.30.7")), Some(Equal));
    assert_eq!(bound("1.30").compare(v("1.31.0")), Some(Greater));
    assert_eq!(bound("1.30.5").compare(v("1.30.7")), Some(Greater));
    assert_eq!(bound("1.30.5").compare(v("1.30.2")), Some(Less));
    assert_eq!(bound("1.30").compare(PropertyValue::Number(3.0)), None);
}
