//! `Custom` node image selection: exactly the named images, Pending where a region lacks one,
//! other families left alone, and refused when an image is offered nowhere.

use super::fixtures::*;
use super::harness::Harness;
use super::*;
use crate::model::cluster::NodePool;
use crate::model::run::{MemberState, RunState};
use crate::model::update::{CustomNodeImageVersion, NodeImageSelectionType, UpgradeType};
use crate::model::version::{ImageFamily, NodeImageVersion};

fn image(text: &str) -> NodeImageVersion {
    NodeImageVersion::parse(text).unwrap()
}

/// A node-image-only run naming these images.
fn custom(images: &[&str]) -> RunSpec {
    let mut spec = spec(
        UpgradeType::NodeImageOnly,
        None,
        NodeImageSelectionType::Custom,
    );
    spec.update.node_image_selection.custom_node_image_versions = images
        .iter()
        .map(|text| CustomNodeImageVersion {
            version: image(text),
        })
        .collect();
    spec
}

fn with_azure_linux_pool(m: PlanMember) -> PlanMember {
    with_cluster(m, |cluster| {
        cluster.node_pools.push(NodePool {
            name: "linux".into(),
            count: 2,
            kubernetes_version: cluster.kubernetes_version,
            node_image_version: image("AzureLinuxV2gen2-202401.01.0"),
            os_sku: ImageFamily::parse("AzureLinuxV2gen2").unwrap(),
        })
    })
}

#[test]
fn custom_images_are_installed_where_offered_and_pending_elsewhere() {
    let newest = format!("{UBUNTU}-202410.01.0");
    let f = fleet(vec![
        member("east", None, "eastus", "1.29.9"),
        member("west", None, "westeurope", "1.29.9"),
    ]);
    let mut h = Harness::new(&f, custom(&[&newest]), NOW);
    h.start();
    assert_eq!(h.in_flight(), ["east"]);
    let Effect::StartUpgrade { target, .. } = &h.effects[0];
    assert_eq!(
        target.node_pools[0].node_image_version.as_ref().unwrap().to,
        image(&newest)
    );
    h.run_to_end();
    let MemberState::Pending { reason, .. } = h.member_state("west") else {
        panic!("{:?}", h.member_state("west"))
    };
    assert_eq!(
        reason,
        &format!("node image {newest} is not offered in westeurope yet")
    );
    assert!(matches!(h.run.state, RunState::Completed { .. }));
    let reported = h
        .run
        .status()
        .node_image_selection
        .selected_node_image_versions;
    assert_eq!(
        reported,
        [image(&newest)],
        "the status says what the run installs"
    );
}

#[test]
fn families_a_custom_selection_does_not_name_keep_their_images() {
    let newest = format!("{UBUNTU}-202410.01.0");
    let f = fleet(vec![with_azure_linux_pool(member(
        "east", None, "eastus", "1.29.9",
    ))]);
    let preview = plan(&f, &custom(&[&newest]), NOW, &EngineConfig::default()).unwrap();
    assert!(
        preview
            .warnings
            .iter()
            .any(|w| w.contains("Node pools of AzureLinuxV2gen2 keep their images")),
        "{:?}",
        preview.warnings
    );
    let mut h = Harness::new(&f, custom(&[&newest]), NOW);
    h.start();
    let Effect::StartUpgrade { target, .. } = &h.effects[0];
    let moved: Vec<_> = target.node_pools.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(moved, ["system"], "the Azure Linux pool is not touched");
    h.run_to_end();
    assert!(matches!(
        h.member_state("east"),
        MemberState::Completed { .. }
    ));
}

#[test]
fn a_custom_selection_that_cannot_be_installed_is_refused() {
    let f = fleet(vec![member("east", None, "eastus", "1.29.9")]);
    let refused = |spec: &RunSpec| match plan(&f, spec, NOW, &EngineConfig::default()) {
        Err(PlanRejection::InvalidUpgrade(why)) => why,
        other => panic!("{other:?}"),
    };
    let nowhere = refused(&custom(&[&format!("{UBUNTU}-202501.01.0")]));
    assert_eq!(
        nowhere,
        format!(
            "node image {UBUNTU}-202501.01.0 is not offered in any region (newest {UBUNTU}: {UBUNTU}-202410.01.0)"
        )
    );
    assert!(refused(&custom(&[])).contains("needs customNodeImageVersions"));
    let twice = custom(&[
        &format!("{UBUNTU}-202409.01.0"),
        &format!("{UBUNTU}-202410.01.0"),
    ]);
    assert!(refused(&twice).contains("gives two"));
    let mut latest_with_images = custom(&[&format!("{UBUNTU}-202410.01.0")]);
    latest_with_images.update.node_image_selection.kind = NodeImageSelectionType::Latest;
    assert!(refused(&latest_with_images).contains("go with a Custom nodeImageSelection"));
}
