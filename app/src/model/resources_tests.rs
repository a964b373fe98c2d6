use super::*;
use serde_json::json;

fn config_map(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": "team-a"}, "data": {"k": "v"}})
}

/// The first problem of a one-object bundle, as a person reads it.
fn refusal(object: Value) -> String {
    parse_manifests(&[object]).unwrap_err().to_string()
}

#[test]
fn a_bundle_of_valid_objects_is_taken_with_each_objects_identity() {
    let bundle = [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}),
        config_map("settings"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web.frontend", "namespace": "team-a"}, "spec": {}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "system:aggregate-to-view-widgets"}}),
        json!({"apiVersion": "example.com/v1beta2", "kind": "Widget", "metadata": {"name": "w"}}),
    ];
    let manifests = parse_manifests(&bundle).unwrap();
    let keys: Vec<String> = manifests.iter().map(|m| m.key.to_string()).collect();
    assert_eq!(
        keys,
        [
            "Namespace team-a",
            "ConfigMap team-a/settings",
            "Deployment.apps team-a/web.frontend",
            "ClusterRole.rbac.authorization.k8s.io system:aggregate-to-view-widgets",
            "Widget.example.com w",
        ]
    );
    assert_eq!(manifests[2].api_version, "apps/v1");
    assert_eq!(manifests[1].object, bundle[1], "an object is kept as given");
}

#[test]
fn each_problem_is_told_at_its_field() {
    let cases = [
        (
            json!("ConfigMap"),
            "manifests[0]: a Kubernetes object is a JSON object",
        ),
        (
            json!({"kind": "ConfigMap", "metadata": {"name": "a"}}),
            "manifests[0].apiVersion: is required",
        ),
        (
            json!({"apiVersion": 1, "kind": "ConfigMap", "metadata": {"name": "a"}}),
            "manifests[0].apiVersion: must be a string",
        ),
        (
            json!({"apiVersion": "apps/1", "kind": "Deployment", "metadata": {"name": "a"}}),
            "manifests[0].apiVersion: 'apps/1' is not an apiVersion",
        ),
        (
            json!({"apiVersion": "widgets/v1", "kind": "Widget", "metadata": {"name": "a"}}),
            "manifests[0].apiVersion: 'widgets/v1' is not an apiVersion",
        ),
        (
            json!({"apiVersion": "v1", "kind": "configMap", "metadata": {"name": "a"}}),
            "manifests[0].kind: 'configMap' is not a kind",
        ),
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap"}),
            "manifests[0].metadata: every object needs metadata with a name",
        ),
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
            "manifests[0].metadata.name: is required",
        ),
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "a-"}}),
            "manifests[0].metadata.generateName: a placed object needs a fixed metadata.name",
        ),
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Settings"}}),
            "manifests[0].metadata.name: 'Settings' is not a ConfigMap name",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}}),
            "manifests[0].metadata.name: 'team.a' is not a Namespace name",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "namespace": "b"}}),
            "manifests[0].metadata.namespace: a Namespace is cluster-scoped: it takes no namespace",
        ),
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "Team"}}),
            "manifests[0].metadata.namespace: 'Team' is not a namespace name",
        ),
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "42"}}),
            "manifests[0].metadata.resourceVersion: is set by a cluster, not given; remove it",
        ),
        (
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "a/b"}}),
            "manifests[0].metadata.name: 'a/b' is not a Role name",
        ),
    ];
    for (object, expected) in cases {
        let got = refusal(object.clone());
        assert!(got.starts_with(expected), "{object}: {got}");
    }
}

#[test]
fn an_identity_given_twice_names_both_places() {
    let mut other_version = config_map("settings");
    other_version["data"] = json!({"k": "other"});
    let error =
        parse_manifests(&[config_map("a"), config_map("settings"), other_version]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "manifests[2]: ConfigMap team-a/settings is given twice (first as manifests[1])"
    );
    let same_name_elsewhere = json!({"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "settings", "namespace": "team-b"}});
    assert!(parse_manifests(&[config_map("settings"), same_name_elsewhere]).is_ok());
    let deployments = [
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
        json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "d"}}),
    ];
    assert!(
        parse_manifests(&deployments).is_err(),
        "two versions of one group's object are one object"
    );
}

#[test]
fn a_bundle_is_bounded_in_objects_and_bytes_and_not_empty() {
    assert_eq!(
        parse_manifests(&[]).unwrap_err().to_string(),
        "manifests: give at least one Kubernetes object"
    );
    let many: Vec<Value> = (0..=MAX_MANIFESTS)
        .map(|i| config_map(&format!("c{i}")))
        .collect();
    assert!(parse_manifests(&many[..MAX_MANIFESTS]).is_ok());
    assert_eq!(
        parse_manifests(&many).unwrap_err().to_string(),
        format!("manifests: a resource holds at most {MAX_MANIFESTS} objects, not 501")
    );
    let mut large = config_map("large");
    large["data"]["k"] = json!("x".repeat(MAX_BUNDLE_BYTES));
    let error = parse_manifests(&[large]).unwrap_err();
    assert_eq!(error.index, None);
    assert!(
        error.message.contains("a resource holds at most 1048576"),
        "{error}"
    );
}

#[test]
fn api_versions_follow_kubernetes_naming() {
    for good in [
        "v1",
        "v2beta1",
        "v1alpha3",
        "apps/v1",
        "batch/v1",
        "networking.k8s.io/v1",
    ] {
        assert!(api_group(good).is_ok(), "{good}");
    }
    for bad in [
        "", "1", "v0", "v01", "v1beta", "v1gamma1", "v1beta01", "apps/", "/v1", "Apps/v1", "a/b/v1",
    ] {
        assert!(api_group(bad).is_err(), "{bad}");
    }
    assert_eq!(api_group("v1"), Ok(""));
    assert_eq!(api_group("networking.k8s.io/v1"), Ok("networking.k8s.io"));
}
