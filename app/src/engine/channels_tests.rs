//! Channel resolution against catalogs, as tables: each row a profile, a fleet and what the
//! channel must want (or why it wants nothing).

use super::*;
use crate::engine::fixtures::{UBUNTU, catalog, member};
use crate::model::cluster::ClusterState;

const WINDOWS: &str = "AKSWindows-2022-containerd";

fn profile(json: &str) -> AutoUpgradeProfile {
    let profile: AutoUpgradeProfile = serde_json::from_str(json).unwrap();
    profile.checked().unwrap();
    profile
}

/// Clusters at these versions (one pool at the control plane's version, the oldest image).
fn clusters(at: &[(&str, &str)]) -> Vec<ClusterState> {
    at.iter()
        .map(|(region, version)| member("m", None, region, version).cluster.unwrap())
        .collect()
}

fn resolve(json: &str, fleet: &[ClusterState]) -> Result<ChannelTarget, ChannelRefusal> {
    let fleet: Vec<&ClusterState> = fleet.iter().collect();
    resolve_channel(&profile(json), &catalog(), &fleet)
}

#[test]
fn kubernetes_channels_pick_their_version_one_minor_at_a_time() {
    // The catalog offers 1.28.5, 1.29.9, 1.30.5 and 1.31.2.
    let table = [
        (
            r#"{"channel": "Rapid"}"#,
            vec![("eastus", "1.30.5")],
            "1.31.2",
            1,
        ),
        (
            r#"{"channel": "Stable"}"#,
            vec![("eastus", "1.29.9")],
            "1.30.5",
            1,
        ),
        (
            r#"{"channel": "Stable"}"#,
            vec![("eastus", "1.30.5")],
            "1.30.5",
            0,
        ),
        (
            r#"{"channel": "TargetKubernetesVersion", "targetKubernetesVersion": "1.30"}"#,
            vec![("eastus", "1.29.9"), ("westeurope", "1.30.5")],
            "1.30.5",
            1,
        ),
        // Two minors behind: the next minor first, then the channel's on a later trigger.
        (
            r#"{"channel": "Rapid"}"#,
            vec![("eastus", "1.29.9"), ("eastus", "1.30.5")],
            "1.30.5",
            1,
        ),
        (
            r#"{"channel": "Stable"}"#,
            vec![("eastus", "1.28.5")],
            "1.29.9",
            1,
        ),
        // One cluster two minors behind, another already past the hop: the channel's version
        // (the one behind fails with the engine's reason; none is downgraded).
        (
            r#"{"channel": "Rapid"}"#,
            vec![("eastus", "1.29.9"), ("eastus", "1.31.2")],
            "1.31.2",
            1,
        ),
    ];
    for (json, fleet, version, wanted_by) in table {
        let target = resolve(json, &clusters(&fleet)).unwrap();
        assert_eq!(
            target.versions,
            vec![version.to_string()],
            "{json} over {fleet:?}"
        );
        assert_eq!(target.wanted_by, wanted_by, "{json} over {fleet:?}");
        assert_eq!(target.update.upgrade.kind, UpgradeType::Full);
        assert_eq!(
            target
                .update
                .upgrade
                .kubernetes_version
                .unwrap()
                .to_string(),
            version
        );
        assert_eq!(target.run_suffix, version.replace('.', "-"));
    }
}

#[test]
fn a_target_version_must_be_offered_and_supported_unless_under_lts() {
    let fleet = clusters(&[("eastus", "1.28.5")]);
    let refused = [
        (
            r#"{"channel": "TargetKubernetesVersion", "targetKubernetesVersion": "1.32"}"#,
            "KubernetesVersionNotOffered",
        ),
        // 1.31, 1.30 and 1.29 are in standard support; 1.28 is not.
        (
            r#"{"channel": "TargetKubernetesVersion", "targetKubernetesVersion": "1.28"}"#,
            "KubernetesVersionOutOfSupport",
        ),
    ];
    for (json, code) in refused {
        assert_eq!(resolve(json, &fleet).unwrap_err().code, code, "{json}");
    }
    let lts = r#"{"channel": "TargetKubernetesVersion", "targetKubernetesVersion": "1.28", "longTermSupport": true}"#;
    let target = resolve(lts, &fleet).unwrap();
    assert_eq!(target.versions, vec!["1.28.5"]);
    assert_eq!(target.wanted_by, 0, "already there");
}

#[test]
fn stable_needs_a_minor_before_the_newest() {
    let mut only_one = catalog();
    only_one.kubernetes_versions.retain(|v| v.minor == 31);
    let fleet = clusters(&[("eastus", "1.31.2")]);
    let fleet: Vec<&ClusterState> = fleet.iter().collect();
    let refusal = resolve_channel(&profile(r#"{"channel": "Stable"}"#), &only_one, &fleet);
    assert_eq!(refusal.unwrap_err().code, "NoStableVersion");
}

#[test]
fn node_image_channels_want_clusters_behind_the_newest_image() {
    // eastus offers 202410.01.0, westeurope only 202409.01.0 (every cluster runs 202409.01.0).
    let fleet = clusters(&[("eastus", "1.30.5"), ("westeurope", "1.30.5")]);
    let latest = resolve(r#"{"channel": "NodeImage"}"#, &fleet).unwrap();
    assert_eq!(latest.update.upgrade.kind, UpgradeType::NodeImageOnly);
    assert_eq!(
        latest.update.node_image_selection.kind,
        NodeImageSelectionType::Latest
    );
    assert_eq!(latest.versions, vec![format!("{UBUNTU}-202410.01.0")]);
    assert_eq!(latest.wanted_by, 1, "only eastus has a newer image");
    assert!(latest.run_suffix.starts_with("images-"));
    let consistent = resolve(
        r#"{"channel": "NodeImage", "nodeImageSelection": {"type": "Consistent"}}"#,
        &fleet,
    )
    .unwrap();
    assert_eq!(
        consistent.update.node_image_selection.kind,
        NodeImageSelectionType::Consistent
    );
    assert_eq!(consistent.versions, vec![format!("{UBUNTU}-202409.01.0")]);
    assert_eq!(
        consistent.wanted_by, 0,
        "nothing newer is offered everywhere"
    );
    assert_ne!(
        latest.run_suffix, consistent.run_suffix,
        "other images, another run"
    );
    let again = resolve(r#"{"channel": "NodeImage"}"#, &fleet).unwrap();
    assert_eq!(
        again.run_suffix, latest.run_suffix,
        "the same images, the same run"
    );
}

#[test]
fn security_patches_move_linux_images_only() {
    let mut fleet = clusters(&[("eastus", "1.30.5")]);
    let mut windows = fleet[0].node_pools[0].clone();
    windows.name = "win".into();
    windows.os_sku = ImageFamily::parse(WINDOWS).unwrap();
    windows.node_image_version = NodeImageVersion::parse(&format!("{WINDOWS}-20240901.1")).unwrap();
    fleet[0].node_pools.push(windows);
    let target = resolve(r#"{"channel": "SecurityPatch"}"#, &fleet).unwrap();
    let selection = &target.update.node_image_selection;
    assert_eq!(selection.kind, NodeImageSelectionType::Custom);
    let images: Vec<String> = selection
        .custom_node_image_versions
        .iter()
        .map(|c| c.version.to_string())
        .collect();
    assert_eq!(
        images,
        vec![format!("{UBUNTU}-202410.01.0")],
        "Windows keeps its image"
    );
    assert!(
        selection.checked().is_ok(),
        "a Custom selection the run accepts"
    );
    let windows_only: Vec<ClusterState> = fleet
        .iter()
        .cloned()
        .map(|mut c| {
            c.node_pools.retain(|p| p.name == "win");
            c
        })
        .collect();
    let refusal = resolve(r#"{"channel": "SecurityPatch"}"#, &windows_only).unwrap_err();
    assert_eq!(refusal.code, "NoLinuxNodeImages");
}
