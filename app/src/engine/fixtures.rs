//! Small fleets built in a line, shared by the engine's tests.

use super::*;
use crate::model::catalog::Catalog;
use crate::model::cluster::{ClusterState, NodePool, Region};
use crate::model::member::ClusterResourceId;
use crate::model::names::{ClusterName, GroupName, MemberName};
use crate::model::strategy::UpdateStrategy;
use crate::model::time::Timestamp;
use crate::model::update::{
    ManagedClusterUpdate, NodeImageSelection, NodeImageSelectionType, UpgradeSpec, UpgradeType,
};
use crate::model::version::{ImageFamily, KubernetesVersion, NodeImageVersion};
use crate::model::window::{DayOfWeek, MaintenanceWindow, Schedule, WeeklySchedule};

pub const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";
/// 2024-09-02T12:00:00Z, a Monday.
pub const NOW: Timestamp = Timestamp(1_725_278_400_000);

pub fn v(text: &str) -> KubernetesVersion {
    KubernetesVersion::parse(text).unwrap()
}

pub fn catalog() -> Catalog {
    serde_json::from_value::<Catalog>(serde_json::json!({
        "kubernetesVersions": ["1.28.5", "1.29.9", "1.30.5", "1.31.2"],
        "nodeImages": {
            "eastus": {UBUNTU: ["202409.01.0", "202410.01.0"]},
            "westeurope": {UBUNTU: ["202409.01.0"]}
        }
    }))
    .unwrap()
    .normalized()
    .unwrap()
}

/// A member with one 3-node pool at the control plane's version and the oldest image.
pub fn member(name: &str, group: Option<&str>, region: &str, version: &str) -> PlanMember {
    let family = ImageFamily::parse(UBUNTU).unwrap();
    let cluster = ClusterState {
        location: Region::parse(region).unwrap(),
        kubernetes_version: v(version),
        node_pools: vec![NodePool {
            name: "system".into(),
            count: 3,
            kubernetes_version: v(version),
            node_image_version: NodeImageVersion::parse(&format!("{UBUNTU}-202409.01.0")).unwrap(),
            os_sku: family,
        }],
        maintenance_window: None,
        node_os_maintenance_window: None,
        power_state: Default::default(),
        limits: Default::default(),
    };
    PlanMember {
        name: MemberName::parse(name).unwrap(),
        cluster_resource_id: ClusterResourceId::simulated(&ClusterName::parse(name).unwrap()),
        group: group.map(|g| GroupName::parse(g).unwrap()),
        cluster: Ok(cluster),
        labels: Default::default(),
    }
}

/// The member with these labels.
pub fn labelled(mut m: PlanMember, labels: &[(&str, &str)]) -> PlanMember {
    m.labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    m
}

pub fn with_cluster(mut m: PlanMember, change: impl FnOnce(&mut ClusterState)) -> PlanMember {
    if let Ok(cluster) = &mut m.cluster {
        change(cluster);
    }
    m
}

pub fn fleet(members: Vec<PlanMember>) -> FleetSnapshot {
    FleetSnapshot {
        members,
        catalog: catalog(),
    }
}

pub fn spec(kind: UpgradeType, version: Option<&str>, images: NodeImageSelectionType) -> RunSpec {
    RunSpec {
        strategy: None,
        update: ManagedClusterUpdate {
            upgrade: UpgradeSpec {
                kind,
                kubernetes_version: version.map(v),
                hops: Default::default(),
            },
            node_image_selection: NodeImageSelection::of(images),
            stopped_cluster_action: Default::default(),
            defer_until_available: None,
        },
        placement: None,
    }
}

pub fn full(version: &str) -> RunSpec {
    spec(
        UpgradeType::Full,
        Some(version),
        NodeImageSelectionType::Latest,
    )
}

pub fn strategy(json: serde_json::Value) -> UpdateStrategy {
    serde_json::from_value(json).unwrap()
}

pub fn two_stages() -> UpdateStrategy {
    strategy(serde_json::json!({"stages": [
        {"name": "canary", "groups": [{"name": "g1"}, {"name": "g2"}], "afterStageWaitInSeconds": 3600},
        {"name": "prod", "groups": [{"name": "g3"}]}
    ]}))
}

pub fn window(day: DayOfWeek, start: &str) -> MaintenanceWindow {
    MaintenanceWindow {
        schedule: Schedule::Weekly(WeeklySchedule {
            day_of_week: day,
            interval_weeks: 1,
        }),
        start_time: start.into(),
        duration_hours: 4,
        utc_offset: "+00:00".into(),
        start_date: None,
        not_allowed_dates: Vec::new(),
    }
}
