use super::*;
use crate::model::version::KubernetesVersion;
use serde_json::json;

fn member(name: &str, region: &str) -> Candidate {
    Candidate {
        name: name.into(),
        labels: [("region".to_owned(), region.to_owned())]
            .into_iter()
            .collect(),
        taints: Vec::new(),
        node_count: Some(3),
        kubernetes_version: Some(KubernetesVersion::new(1, 30, 5)),
    }
}

fn objects() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "web"},
               "data": {"region": "any", "keep": "yes"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "web"},
               "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}),
    ]
}

fn named(name: &str, spec: Value) -> NamedOverride {
    let spec: ResourceOverride = serde_json::from_value(spec).unwrap();
    spec.checked().unwrap();
    NamedOverride {
        name: name.into(),
        etag: 3,
        spec,
    }
}

fn eu_rule(patches: Value) -> Value {
    json!({"placement": "web", "policy": {"overrideRules": [{
        "clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"region": "eu"}}}]},
        "jsonPatchOverrides": patches}]}})
}

#[test]
fn a_rule_patches_the_members_it_picks_and_no_others() {
    let overrides = [named(
        "eu",
        eu_rule(json!([
            {"op": "replace", "path": "/data/region", "value": "eu-${MEMBER-CLUSTER-NAME}"},
            {"op": "remove", "path": "/data/keep"},
            {"op": "add", "path": "/metadata/labels", "value": {"placed-on": "${MEMBER-CLUSTER-NAME}"}}])),
    )];
    let mut only_settings = overrides.clone();
    only_settings[0].spec.resource_selectors = vec![ResourceSelector {
        group: String::new(),
        kind: "ConfigMap".into(),
        namespace: None,
        name: "settings".into(),
    }];
    let eu = overridden(&objects(), &member("eu-1", "eu"), &only_settings).unwrap();
    assert_eq!(eu.applied, ["eu@3"]);
    assert_eq!(eu.manifests[0]["data"], json!({"region": "eu-eu-1"}));
    assert_eq!(
        eu.manifests[0]["metadata"]["labels"],
        json!({"placed-on": "eu-1"})
    );
    assert_eq!(
        eu.manifests[1],
        objects()[1],
        "the Deployment is not selected"
    );
    let us = overridden(&objects(), &member("us-1", "us"), &only_settings).unwrap();
    assert_eq!(
        (us.manifests, us.applied),
        (objects(), Vec::<String>::new())
    );
}

#[test]
fn lists_are_patched_by_index_and_delete_keeps_objects_off() {
    let image = named(
        "image",
        json!({"placement": "web", "resourceSelectors": [{"group": "apps", "kind": "Deployment", "name": "web"}],
               "policy": {"overrideRules": [{"jsonPatchOverrides": [
                   {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "web:2"},
                   {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "sidecar", "image": "log:1"}}]}]}}),
    );
    let drop_in_eu = named(
        "no-config-in-eu",
        json!({"placement": "web", "resourceSelectors": [{"kind": "ConfigMap", "name": "settings", "namespace": "web"}],
               "policy": {"overrideRules": [{"overrideType": "Delete",
                   "clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"region": "eu"}}}]}}]}}),
    );
    let eu = overridden(
        &objects(),
        &member("eu-1", "eu"),
        &[image.clone(), drop_in_eu.clone()],
    )
    .unwrap();
    assert_eq!(eu.manifests.len(), 1);
    let containers = &eu.manifests[0]["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["image"], "web:2");
    assert_eq!(containers[1]["name"], "sidecar");
    assert_eq!(eu.applied, ["image@3", "no-config-in-eu@3"]);
    let us = overridden(&objects(), &member("us-1", "us"), &[image, drop_in_eu]).unwrap();
    assert_eq!(us.manifests.len(), 2);
    assert_eq!(us.applied, ["image@3"]);
}

#[test]
fn a_patch_that_cannot_apply_says_where() {
    let broken = named(
        "eu",
        eu_rule(json!([{"op": "replace", "path": "/data/missing", "value": "x"}])),
    );
    let error = overridden(&objects(), &member("eu-1", "eu"), &[broken]).unwrap_err();
    assert_eq!(
        error,
        "override eu, rule 1, patch 1 on ConfigMap web/settings: /data/missing does not exist"
    );
    let deep = named(
        "eu",
        eu_rule(json!([{"op": "add", "path": "/spec/none/x", "value": 1}])),
    );
    let mut only_deployment = deep;
    only_deployment.spec.resource_selectors = vec![ResourceSelector {
        group: "apps".into(),
        kind: "Deployment".into(),
        namespace: Some("web".into()),
        name: "web".into(),
    }];
    let error = overridden(&objects(), &member("eu-1", "eu"), &[only_deployment]).unwrap_err();
    assert!(error.ends_with("/spec/none does not exist"), "{error}");
}

#[test]
fn bad_overrides_are_refused_at_their_field() {
    let cases = [
        (
            json!({"placement": "web", "policy": {"overrideRules": []}}),
            "policy.overrideRules: give 1 to 100 rules",
        ),
        (
            eu_rule(json!([])),
            "policy.overrideRules[0].jsonPatchOverrides: a JSONPatch rule needs at least one patch",
        ),
        (
            eu_rule(json!([{"op": "replace", "path": "/metadata/name", "value": "x"}])),
            "policy.overrideRules[0].jsonPatchOverrides[0].path: /metadata/name is the object's identity",
        ),
        (
            eu_rule(json!([{"op": "replace", "path": "data/x", "value": "x"}])),
            "jsonPatchOverrides[0].path: 'data/x' is not a JSON Pointer",
        ),
        (
            eu_rule(json!([{"op": "remove", "path": "/data/x", "value": "x"}])),
            "jsonPatchOverrides[0].value: remove takes no value",
        ),
        (
            eu_rule(json!([{"op": "add", "path": "/data/x"}])),
            "jsonPatchOverrides[0].value: add needs one",
        ),
        (
            json!({"placement": "web", "policy": {"overrideRules": [{"overrideType": "Delete", "jsonPatchOverrides": [{"op": "remove", "path": "/data"}]}]}}),
            "a Delete rule keeps the objects off its members",
        ),
        (
            json!({"placement": "web", "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": []}, "jsonPatchOverrides": [{"op": "remove", "path": "/data"}]}]}}),
            "policy.overrideRules[0].clusterSelector.clusterSelectorTerms: give at least one term",
        ),
    ];
    for (given, wanted) in cases {
        let spec: ResourceOverride = serde_json::from_value(given.clone()).unwrap();
        let refused = spec.checked().expect_err(&given.to_string());
        assert!(refused.contains(wanted), "{given}: {refused}");
    }
}
