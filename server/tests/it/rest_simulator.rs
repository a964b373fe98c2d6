//! REST: the simulator's catalog and clusters.

use crate::common;

use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_catalog_can_be_read_and_replaced() {
    let s = common::start().await;
    let generated = s.get("/api/v1/simulator/catalog").await;
    assert_eq!(generated.status, StatusCode::OK);
    assert!(
        generated.body["kubernetesVersions"]
            .as_array()
            .unwrap()
            .len()
            >= 8
    );
    let catalog = json!({
        "kubernetesVersions": ["1.31.2", "1.29.9", "1.30.5"],
        "nodeImages": {"eastus": {"AKSUbuntu-2204gen2containerd": ["202409.01.0", "202410.01.0"]},
                       "westeurope": {"AKSUbuntu-2204gen2containerd": ["202409.01.0"]}}
    });
    let put = s.put("/api/v1/simulator/catalog", catalog).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let got = s.get("/api/v1/simulator/catalog").await.body;
    assert_eq!(
        got["kubernetesVersions"],
        json!(["1.29.9", "1.30.5", "1.31.2"]),
        "kept sorted"
    );
    assert_eq!(
        got["nodeImages"]["westeurope"]["AKSUbuntu-2204gen2containerd"],
        json!(["202409.01.0"])
    );
}

#[tokio::test]
async fn a_bad_catalog_changes_nothing() {
    let s = common::start().await;
    let before = s.get("/api/v1/simulator/catalog").await.body;
    for bad in [
        json!({"kubernetesVersions": [], "nodeImages": {"eastus": {"AKSUbuntu-2204gen2containerd": ["202409.01.0"]}}}),
        json!({"kubernetesVersions": ["1.30"], "nodeImages": {}}),
        json!({"kubernetesVersions": ["1.30.1"], "nodeImages": {"East US": {}}}),
        json!({"kubernetesVersions": ["1.30.1"], "nodeImages": {"eastus": {"AKSUbuntu": ["latest"]}}}),
    ] {
        let reply = s.put("/api/v1/simulator/catalog", bad.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(s.get("/api/v1/simulator/catalog").await.body, before);
}

#[tokio::test]
async fn clusters_are_created_replaced_listed_and_deleted() {
    let s = common::start().await;
    let version = s.some_version().await;
    let created = s.sim_cluster("aks-1", "eastus", &version).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["clusterResourceId"], "sim:aks-1");
    assert_eq!(
        s.sim_cluster("aks-1", "eastus", &version).await.status,
        StatusCode::OK
    );
    let got = s.get("/api/v1/simulator/clusters/aks-1").await;
    assert_eq!(got.body["location"], "eastus");
    assert_eq!(got.body["kubernetesVersion"], version.as_str());
    // A GET can be sent back as is.
    assert_eq!(
        s.put("/api/v1/simulator/clusters/aks-1", got.body.clone())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        s.get("/api/v1/simulator/clusters").await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.delete("/api/v1/simulator/clusters/aks-1").await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.delete("/api/v1/simulator/clusters/aks-1").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get("/api/v1/simulator/clusters/aks-1").await.code(),
        "ClusterNotFound"
    );
}

#[tokio::test]
async fn a_cluster_with_a_maintenance_window_in_the_aks_shape() {
    let s = common::start().await;
    let version = s.some_version().await;
    let image = s.newest_image("eastus").await;
    let body = json!({
        "location": "eastus", "kubernetesVersion": version,
        "nodePools": [{"name": "system", "count": 3, "kubernetesVersion": version,
                       "osSku": "AKSUbuntu-2204gen2containerd",
                       "nodeImageVersion": format!("AKSUbuntu-2204gen2containerd-{image}")}],
        "maintenanceWindow": {"schedule": {"weekly": {"dayOfWeek": "Sunday", "intervalWeeks": 1}},
                              "startTime": "01:00", "durationHours": 4, "utcOffset": "+00:00"}
    });
    let reply = s.put("/api/v1/simulator/clusters/aks-w", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["maintenanceWindow"]["startTime"], "01:00");
}

#[tokio::test]
async fn a_cluster_keeps_both_windows_of_every_aks_schedule_kind() {
    let s = common::start().await;
    let version = s.some_version().await;
    let image = s.newest_image("eastus").await;
    let node_os = json!({"schedule": {"relativeMonthly": {"intervalMonths": 1, "weekIndex": "Last", "dayOfWeek": "Friday"}},
                         "startTime": "22:00", "durationHours": 8, "utcOffset": "+02:00",
                         "notAllowedDates": [{"start": "2024-12-23", "end": "2025-01-05"}]});
    let body = |node_os: serde_json::Value| {
        json!({
            "location": "eastus", "kubernetesVersion": version,
            "nodePools": [{"name": "system", "count": 3, "kubernetesVersion": version,
                           "osSku": "AKSUbuntu-2204gen2containerd",
                           "nodeImageVersion": format!("AKSUbuntu-2204gen2containerd-{image}")}],
            "maintenanceWindow": {"schedule": {"absoluteMonthly": {"intervalMonths": 2, "dayOfMonth": 31}},
                                  "startTime": "01:00", "durationHours": 4},
            "nodeOsMaintenanceWindow": node_os
        })
    };
    let reply = s
        .put("/api/v1/simulator/clusters/aks-w", body(node_os.clone()))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["nodeOsMaintenanceWindow"], node_os);
    assert_eq!(
        reply.body["maintenanceWindow"]["schedule"]["absoluteMonthly"]["dayOfMonth"],
        31
    );
    let mut bad = node_os.clone();
    bad["schedule"] = json!({"daily": {"intervalDays": 9}});
    let refused = s.put("/api/v1/simulator/clusters/aks-w", body(bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("intervalDays")
    );
    let kept = s.get("/api/v1/simulator/clusters/aks-w").await.body;
    assert_eq!(
        kept["nodeOsMaintenanceWindow"], node_os,
        "the refused PUT changed nothing"
    );
}

#[tokio::test]
async fn invalid_clusters_are_rejected_with_the_reason() {
    let s = common::start().await;
    let version = s.some_version().await;
    let unknown_region = s
        .put(
            "/api/v1/simulator/clusters/aks-1",
            json!({"location": "mars", "kubernetesVersion": version, "nodePools": [{"name": "system", "count": 1,
                "kubernetesVersion": version, "osSku": "AKSUbuntu-2204gen2containerd",
                "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202409.01.0"}]}),
        )
        .await;
    assert_eq!(unknown_region.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown_region.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mars")
    );
    let no_pools = s
        .put(
            "/api/v1/simulator/clusters/aks-1",
            json!({"location": "eastus", "kubernetesVersion": version, "nodePools": []}),
        )
        .await;
    assert_eq!(no_pools.status, StatusCode::BAD_REQUEST);
    let bad_window = s
        .put(
            "/api/v1/simulator/clusters/aks-1",
            json!({"location": "eastus", "kubernetesVersion": version, "nodePools": [{"name": "system", "count": 1,
                "kubernetesVersion": version, "osSku": "AKSUbuntu-2204gen2containerd",
                "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202409.01.0"}],
                "maintenanceWindow": {"schedule": {"weekly": {"dayOfWeek": "Sunday"}}, "startTime": "1am", "durationHours": 4}}),
        )
        .await;
    assert_eq!(bad_window.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_window.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("startTime")
    );
    assert_eq!(
        s.get("/api/v1/simulator/clusters").await.body["value"],
        json!([])
    );
}

#[tokio::test]
async fn a_cluster_in_use_cannot_be_deleted() {
    let s = common::start().await;
    let version = s.some_version().await;
    s.sim_cluster("aks-1", "eastus", &version).await;
    s.fleet("prod").await;
    s.join("prod", "m1", "sim:aks-1", None).await;
    let reply = s.delete("/api/v1/simulator/clusters/aks-1").await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("m1")
    );
    assert_eq!(
        s.get("/api/v1/simulator/clusters/aks-1").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_catalog_that_drops_what_runs_or_clusters_need_is_refused_with_the_reason() {
    let s = common::start_with("sqlite::memory:", true).await;
    let before = s.get("/api/v1/simulator/catalog").await.body;
    let target = common::newest_of(&s, 30).await;
    let run = s
        .put(
            "/api/v1/fleets/demo/updateRuns/needs-it",
            json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": target}}}}),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED);
    let mut without_target = before.clone();
    without_target["kubernetesVersions"]
        .as_array_mut()
        .unwrap()
        .retain(|v| *v != target.as_str());
    let refused = s.put("/api/v1/simulator/catalog", without_target).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.code(), "CatalogInUse");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&target) && message.contains("update run needs-it of fleet demo"),
        "{message}"
    );
    let mut without_eastus = before.clone();
    without_eastus["nodeImages"]
        .as_object_mut()
        .unwrap()
        .remove("eastus");
    if let Some(rollout) = without_eastus["kubernetesVersionRollout"].as_object_mut() {
        for regions in rollout.values_mut() {
            regions.as_array_mut().unwrap().retain(|r| r != "eastus");
        }
    }
    let refused = s.put("/api/v1/simulator/catalog", without_eastus).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("region eastus") && message.contains("aks-eastus-1"),
        "{message}"
    );
    assert_eq!(s.get("/api/v1/simulator/catalog").await.body, before);
    // Once the run is gone, the version may go.
    s.delete("/api/v1/fleets/demo/updateRuns/needs-it").await;
    let mut without_target = before.clone();
    without_target["kubernetesVersions"]
        .as_array_mut()
        .unwrap()
        .retain(|v| *v != target.as_str());
    without_target
        .as_object_mut()
        .unwrap()
        .remove("kubernetesVersionRollout");
    let accepted = s.put("/api/v1/simulator/catalog", without_target).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
}
