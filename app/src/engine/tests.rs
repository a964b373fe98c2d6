//! Scenario tests of `plan`: small fleets built in a line, one rule per test.

use super::fixtures::*;
use super::*;
use crate::model::cluster::Region;
use crate::model::strategy::UpdateStrategy;
use crate::model::time::{MS_PER_HOUR, MS_PER_MINUTE, Timestamp};
use crate::model::update::{NodeImageSelectionType, UpgradeType};
use crate::model::version::NodeImageVersion;
use crate::model::window::DayOfWeek;

fn run(fleet: &FleetSnapshot, spec: &RunSpec) -> Plan {
    plan(fleet, spec, NOW, &EngineConfig::default()).unwrap()
}

fn action_of<'a>(plan: &'a Plan, name: &str) -> &'a MemberAction {
    &plan
        .members()
        .find(|m| m.name.as_str() == name)
        .unwrap()
        .action
}

fn names(group: &GroupPlan) -> Vec<&str> {
    group.members.iter().map(|m| m.name.as_str()).collect()
}

#[test]
fn without_a_strategy_every_member_goes_one_by_one_in_one_stage() {
    let f = fleet(vec![
        member("b", None, "eastus", "1.29.9"),
        member("a", Some("g1"), "westeurope", "1.29.9"),
    ]);
    let p = run(&f, &full("1.30.5"));
    assert_eq!(p.stages.len(), 1);
    assert_eq!(p.stages[0].name, IMPLICIT_NAME);
    let group = &p.stages[0].groups[0];
    assert_eq!(names(group), ["a", "b"]);
    assert_eq!(
        group.members[1].starts_after_ms, group.members[0].ends_after_ms,
        "one at a time"
    );
    assert!(p.not_in_any_stage.is_empty());
}

#[test]
fn groups_of_a_stage_run_in_parallel_and_stages_follow_each_other_after_the_wait() {
    let f = fleet(vec![
        member("a1", Some("g1"), "eastus", "1.29.9"),
        member("a2", Some("g1"), "eastus", "1.29.9"),
        member("b1", Some("g2"), "eastus", "1.29.9"),
        member("c1", Some("g3"), "eastus", "1.29.9"),
    ]);
    let p = run(
        &f,
        &RunSpec {
            strategy: Some(two_stages()),
            ..full("1.30.5")
        },
    );
    let canary = &p.stages[0];
    assert_eq!(canary.groups[0].members[0].starts_after_ms, Some(0));
    assert_eq!(
        canary.groups[1].members[0].starts_after_ms,
        Some(0),
        "groups start together"
    );
    assert_eq!(
        canary.ends_after_ms, canary.groups[0].ends_after_ms,
        "the longer group ends the stage"
    );
    let prod = &p.stages[1];
    assert_eq!(
        prod.starts_after_ms,
        canary.ends_after_ms + MS_PER_HOUR,
        "after the hour's wait"
    );
    assert_eq!(p.duration_ms, prod.ends_after_ms);
}

#[test]
fn members_in_no_listed_group_are_left_alone_and_named() {
    let f = fleet(vec![
        member("a", Some("g1"), "eastus", "1.29.9"),
        member("b", Some("g2"), "eastus", "1.29.9"),
        member("c", Some("g3"), "eastus", "1.29.9"),
        member("loner", None, "eastus", "1.29.9"),
        member("other", Some("elsewhere"), "eastus", "1.29.9"),
    ]);
    let p = run(
        &f,
        &RunSpec {
            strategy: Some(two_stages()),
            ..full("1.30.5")
        },
    );
    let left: Vec<&str> = p.not_in_any_stage.iter().map(|m| m.as_str()).collect();
    assert_eq!(left, ["loner", "other"]);
    assert!(p.warnings[0].contains("loner, other"));
    assert_eq!(p.members().count(), 3);
}

#[test]
fn a_strategy_naming_a_group_without_members_is_rejected() {
    let f = fleet(vec![member("a", Some("g1"), "eastus", "1.29.9")]);
    let err = plan(
        &f,
        &RunSpec {
            strategy: Some(two_stages()),
            ..full("1.30.5")
        },
        NOW,
        &EngineConfig::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PlanRejection::UnknownGroups("update groups g2, g3 have no members in this fleet".into())
    );
}

#[test]
fn an_invalid_strategy_or_upgrade_is_rejected() {
    let f = fleet(vec![member("a", Some("g1"), "eastus", "1.29.9")]);
    let empty = RunSpec {
        strategy: Some(UpdateStrategy::new(vec![])),
        ..full("1.30.5")
    };
    assert!(matches!(
        plan(&f, &empty, NOW, &EngineConfig::default()),
        Err(PlanRejection::InvalidStrategy(_))
    ));
    let with_version = spec(
        UpgradeType::NodeImageOnly,
        Some("1.30.5"),
        NodeImageSelectionType::Latest,
    );
    assert!(matches!(
        plan(&f, &with_version, NOW, &EngineConfig::default()),
        Err(PlanRejection::InvalidUpgrade(_))
    ));
    let unknown = full("1.99.0");
    let err = plan(&f, &unknown, NOW, &EngineConfig::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("1.99.0 is not offered in any region"),
        "{err}"
    );
}

#[test]
fn a_full_upgrade_targets_control_plane_pools_and_images() {
    let f = fleet(vec![member("a", None, "eastus", "1.29.9")]);
    let p = run(&f, &full("1.30.5"));
    let MemberAction::Upgrade { target, .. } = action_of(&p, "a") else {
        panic!("{:?}", action_of(&p, "a"))
    };
    assert_eq!(
        target.control_plane,
        Some(Step {
            from: v("1.29.9"),
            to: v("1.30.5")
        })
    );
    let pool = &target.node_pools[0];
    assert_eq!(
        pool.kubernetes_version,
        Some(Step {
            from: v("1.29.9"),
            to: v("1.30.5")
        })
    );
    assert_eq!(
        pool.node_image_version
            .as_ref()
            .unwrap()
            .to
            .release
            .as_str(),
        "202410.01.0",
        "newest in eastus"
    );
}

#[test]
fn a_skipped_minor_fails_before_anything_starts_and_the_plan_says_why() {
    let f = fleet(vec![member("a", None, "eastus", "1.29.9")]);
    let p = run(&f, &full("1.31.2"));
    let MemberAction::Fail { reason } = action_of(&p, "a") else {
        panic!()
    };
    assert!(reason.contains("would skip minor version 1.30"), "{reason}");
    assert!(p.warnings.iter().any(|w| w.starts_with("a will fail")));
}

#[test]
fn a_downgrade_fails() {
    let f = fleet(vec![member("a", None, "eastus", "1.31.2")]);
    let MemberAction::Fail { reason } = action_of(&run(&f, &full("1.30.5")), "a").clone() else {
        panic!()
    };
    assert!(reason.contains("cannot be downgraded"));
}

#[test]
fn members_already_at_target_are_skipped_with_the_reason() {
    let at_target = with_cluster(member("a", None, "westeurope", "1.30.5"), |_| {});
    let p = run(&fleet(vec![at_target]), &full("1.30.5"));
    assert_eq!(
        action_of(&p, "a"),
        &MemberAction::Skip {
            reason: "already at Kubernetes 1.30.5 with the selected node images".into()
        }
    );
}

#[test]
fn a_version_not_yet_in_the_region_leaves_the_member_pending_without_blocking_its_group() {
    let mut f = fleet(vec![
        member("a", None, "westeurope", "1.30.5"),
        member("b", None, "eastus", "1.30.5"),
    ]);
    f.catalog
        .kubernetes_version_rollout
        .insert(v("1.31.2"), [Region::parse("eastus").unwrap()].into());
    let p = run(&f, &full("1.31.2"));
    let MemberAction::Pending { reason } = action_of(&p, "a") else {
        panic!()
    };
    assert_eq!(
        reason,
        "Kubernetes 1.31.2 is not available in westeurope yet"
    );
    let group = &p.stages[0].groups[0];
    assert_eq!(
        names(group),
        ["b", "a"],
        "the upgrade goes first; the pending member does not block it"
    );
    assert_eq!(group.members[0].starts_after_ms, Some(0));
}

#[test]
fn control_plane_only_keeps_node_pools_within_the_skew_limit() {
    let behind = |name: &str, pool: &str| {
        with_cluster(member(name, None, "eastus", "1.30.5"), |c| {
            c.node_pools[0].kubernetes_version = v(pool)
        })
    };
    let f = fleet(vec![behind("ok", "1.29.9"), behind("far", "1.28.5")]);
    let p = run(
        &f,
        &spec(
            UpgradeType::ControlPlaneOnly,
            Some("1.31.2"),
            NodeImageSelectionType::Latest,
        ),
    );
    let MemberAction::Upgrade { target, .. } = action_of(&p, "ok") else {
        panic!()
    };
    assert!(target.node_pools.is_empty(), "control plane only");
    let MemberAction::Fail { reason } = action_of(&p, "far") else {
        panic!()
    };
    assert!(
        reason.contains("node pool system at 1.28.5 would be 3 minor versions behind"),
        "{reason}"
    );
    let lenient = EngineConfig {
        max_pool_skew_minors: 3,
        ..EngineConfig::default()
    };
    let p = plan(
        &f,
        &spec(
            UpgradeType::ControlPlaneOnly,
            Some("1.31.2"),
            NodeImageSelectionType::Latest,
        ),
        NOW,
        &lenient,
    )
    .unwrap();
    assert!(
        matches!(action_of(&p, "far"), MemberAction::Upgrade { .. }),
        "the limit is a setting"
    );
}

#[test]
fn node_image_only_touches_images_only() {
    let f = fleet(vec![
        member("a", None, "eastus", "1.29.9"),
        member("b", None, "westeurope", "1.29.9"),
    ]);
    let p = run(
        &f,
        &spec(
            UpgradeType::NodeImageOnly,
            None,
            NodeImageSelectionType::Latest,
        ),
    );
    let MemberAction::Upgrade { target, .. } = action_of(&p, "a") else {
        panic!()
    };
    assert!(target.control_plane.is_none());
    assert!(target.node_pools[0].kubernetes_version.is_none());
    assert_eq!(
        target.node_pools[0]
            .node_image_version
            .as_ref()
            .unwrap()
            .to
            .release
            .as_str(),
        "202410.01.0"
    );
    assert!(
        matches!(action_of(&p, "b"), MemberAction::Skip { .. }),
        "westeurope's newest is what b runs"
    );
}

#[test]
fn consistent_picks_the_newest_image_every_region_has_and_never_downgrades() {
    let ahead = with_cluster(member("ahead", None, "eastus", "1.29.9"), |c| {
        c.node_pools[0].node_image_version =
            NodeImageVersion::parse(&format!("{UBUNTU}-202410.01.0")).unwrap();
    });
    let f = fleet(vec![
        ahead,
        member("east", None, "eastus", "1.29.9"),
        member("west", None, "westeurope", "1.29.9"),
    ]);
    let p = run(
        &f,
        &spec(
            UpgradeType::Full,
            Some("1.30.5"),
            NodeImageSelectionType::Consistent,
        ),
    );
    let selected: Vec<String> = p
        .selected_node_image_versions
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(selected, [format!("{UBUNTU}-202409.01.0")]);
    let MemberAction::Upgrade { target, .. } = action_of(&p, "east") else {
        panic!()
    };
    assert!(
        target.node_pools[0].node_image_version.is_none(),
        "already at the common image"
    );
    let MemberAction::Upgrade { target, .. } = action_of(&p, "ahead") else {
        panic!()
    };
    assert!(
        target.node_pools[0].node_image_version.is_none(),
        "no downgrade to the common image"
    );
    let latest = run(&f, &full("1.30.5"));
    assert!(
        latest.selected_node_image_versions.is_empty(),
        "Latest fixes nothing in advance"
    );
}

#[test]
fn an_unobservable_member_is_pending_with_the_providers_words() {
    let mut gone = member("gone", None, "eastus", "1.29.9");
    gone.cluster = Err("cluster sim:gone does not exist".into());
    let p = run(&fleet(vec![gone]), &full("1.30.5"));
    let MemberAction::Pending { reason } = action_of(&p, "gone") else {
        panic!()
    };
    assert!(reason.contains("sim:gone does not exist"));
}

#[test]
fn open_windows_go_first_then_the_soonest_to_open_and_the_eta_waits_for_it() {
    // NOW is Monday 12:00. "late" opens Wednesday, "soon" Tuesday, "open" is open now.
    let late = with_cluster(member("a-late", None, "eastus", "1.29.9"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Wednesday, "02:00"))
    });
    let soon = with_cluster(member("b-soon", None, "eastus", "1.29.9"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Tuesday, "02:00"))
    });
    let open = with_cluster(member("c-open", None, "eastus", "1.29.9"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Monday, "11:00"))
    });
    let p = run(
        &fleet(vec![
            late,
            soon,
            open,
            member("d-any", None, "eastus", "1.29.9"),
        ]),
        &full("1.30.5"),
    );
    let group = &p.stages[0].groups[0];
    assert_eq!(names(group), ["c-open", "d-any", "b-soon", "a-late"]);
    let soon_plan = &group.members[2];
    let tuesday_2am = Timestamp::parse_rfc3339("2024-09-03T02:00:00Z").unwrap();
    assert_eq!(soon_plan.waits_for_window_until, Some(tuesday_2am));
    assert_eq!(
        soon_plan.starts_after_ms,
        Some(tuesday_2am.millis() - NOW.millis())
    );
    assert!(group.members[0].waits_for_window_until.is_none());
}

#[test]
fn the_eta_grows_with_node_count() {
    let small = member("small", None, "eastus", "1.29.9");
    let big = with_cluster(member("big", None, "eastus", "1.29.9"), |c| {
        c.node_pools[0].count = 100
    });
    let p = run(&fleet(vec![small, big]), &full("1.30.5"));
    let took = |name: &str| {
        let m = p.members().find(|m| m.name.as_str() == name).unwrap();
        m.ends_after_ms.unwrap() - m.starts_after_ms.unwrap()
    };
    let d = DurationModel::default();
    let pool = |nodes: u32| d.batches(nodes) * d.node_batch_ms + i64::from(nodes) * d.per_node_ms;
    assert_eq!(took("small"), d.control_plane_ms + pool(3));
    assert_eq!(took("big"), d.control_plane_ms + pool(100));
    assert!(took("big") > took("small"), "bigger pools take longer");
    assert!(p.duration_ms > 20 * MS_PER_MINUTE);
}

#[test]
fn the_plan_serializes_for_the_api_and_the_browser() {
    let p = run(
        &fleet(vec![member("a", None, "eastus", "1.29.9")]),
        &full("1.30.5"),
    );
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json["stages"][0]["groups"][0]["members"][0]["action"],
        "upgrade"
    );
    let back: Plan = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
}

#[test]
fn the_newest_workable_version_blocks_nobody() {
    use crate::model::update::UpgradeType;
    let behind = member("old", None, "eastus", "1.28.5");
    let current = member("cur", None, "eastus", "1.29.9");
    let f = fleet(vec![behind, current]);
    let clusters: Vec<_> = f
        .members
        .iter()
        .map(|m| m.cluster.as_ref().unwrap())
        .collect();
    let cfg = EngineConfig::default();
    // 1.31 and 1.30 would skip a minor for `old`; 1.29.9 takes both (old → 1.29, cur stays).
    assert_eq!(
        newest_workable_version(&clusters, UpgradeType::Full, &f.catalog, &cfg),
        Some(v("1.29.9"))
    );
    assert_eq!(
        newest_workable_version(&clusters[1..], UpgradeType::Full, &f.catalog, &cfg),
        Some(v("1.30.5")),
        "without the old member, the next minor"
    );
    assert_eq!(
        newest_workable_version(&clusters, UpgradeType::NodeImageOnly, &f.catalog, &cfg),
        None
    );
}

#[test]
fn each_upgrade_kind_waits_for_the_window_that_governs_it() {
    // NOW is Monday 12:00. Kubernetes upgrades may start on Tuesdays; node images on Mondays.
    let both = with_cluster(member("a", None, "eastus", "1.29.9"), |c| {
        c.maintenance_window = Some(window(DayOfWeek::Tuesday, "02:00"));
        c.node_os_maintenance_window = Some(window(DayOfWeek::Monday, "11:00"));
    });
    let f = fleet(vec![both]);
    let tuesday_2am = Timestamp::parse_rfc3339("2024-09-03T02:00:00Z").unwrap();
    let full_plan = run(&f, &full("1.30.5"));
    let m = full_plan.members().next().unwrap();
    assert_eq!(m.waits_for_window_until, Some(tuesday_2am));
    assert!(m.window.as_deref().unwrap().starts_with("Tue 02:00"));
    let images = run(
        &f,
        &spec(
            UpgradeType::NodeImageOnly,
            None,
            NodeImageSelectionType::Latest,
        ),
    );
    let m = images.members().next().unwrap();
    assert_eq!(m.waits_for_window_until, None, "the node OS window is open");
    assert_eq!(m.starts_after_ms, Some(0));
    assert!(m.window.as_deref().unwrap().starts_with("Mon 11:00"));
}

#[test]
fn a_stopped_cluster_is_skipped_with_the_reason() {
    let stopped = with_cluster(member("a", None, "eastus", "1.29.9"), |c| {
        c.power_state = crate::model::cluster::PowerState::Stopped
    });
    let p = run(&fleet(vec![stopped]), &full("1.30.5"));
    let m = p.members().next().unwrap();
    let MemberAction::Skip { reason } = &m.action else {
        panic!("{:?}", m.action)
    };
    assert!(reason.contains("stopped"));
    // A run may ask for stopped clusters to fail instead.
    let mut failing = full("1.30.5");
    failing.update.stopped_cluster_action = crate::model::update::StoppedClusterAction::Fail;
    let stopped = p.members().next().unwrap().name.clone();
    let p = run(
        &fleet(vec![with_cluster(
            member(stopped.as_str(), None, "eastus", "1.29.9"),
            |c| c.power_state = crate::model::cluster::PowerState::Stopped,
        )]),
        &failing,
    );
    let m = p.members().next().unwrap();
    assert!(matches!(&m.action, MemberAction::Fail { reason } if reason.contains("stopped")));
}

#[test]
fn what_a_provider_cannot_do_fails_the_member_in_the_plan_before_the_run() {
    // A provider that installs only the newest image, asked for an older one by Consistent.
    let mut f = fleet(vec![
        with_cluster(member("a", None, "eastus", "1.29.9"), |c| {
            c.limits.node_images_newest_only = true
        }),
        member("b", None, "westeurope", "1.29.9"),
    ]);
    let family = f.members[0].cluster.as_ref().unwrap().node_pools[0]
        .os_sku
        .clone();
    let eastus = Region::parse("eastus").unwrap();
    // Consistent picks 202410.01.0 (in both regions); eastus's newest is later.
    let newest = crate::model::version::ImageRelease::parse("202412.01.0").unwrap();
    let release = |text: &str| crate::model::version::ImageRelease::parse(text).unwrap();
    let mut add = |region: &Region, text: &str| {
        let images = f.catalog.node_images.get_mut(region).unwrap();
        images.get_mut(&family).unwrap().push(release(text));
    };
    add(&eastus, "202412.01.0");
    add(&Region::parse("westeurope").unwrap(), "202410.01.0");
    assert!(newest > release("202410.01.0"));
    let consistent = spec(
        UpgradeType::NodeImageOnly,
        None,
        NodeImageSelectionType::Consistent,
    );
    let p = run(&f, &consistent);
    let a = p.members().find(|m| m.name.as_str() == "a").unwrap();
    let MemberAction::Fail { reason } = &a.action else {
        panic!("{:?}", a.action)
    };
    assert!(
        reason.contains("can only be moved to the newest"),
        "{reason}"
    );
    assert!(p.warnings.iter().any(|w| w.starts_with("a will fail")));
    let latest = spec(
        UpgradeType::NodeImageOnly,
        None,
        NodeImageSelectionType::Latest,
    );
    assert!(matches!(
        run(&f, &latest).members().next().unwrap().action,
        MemberAction::Upgrade { .. }
    ));
    // A control plane that cannot be upgraded alone.
    let f = fleet(vec![with_cluster(
        member("a", None, "eastus", "1.29.9"),
        |c| c.limits.control_plane_only_upgrades_pools = true,
    )]);
    let cpo = spec(
        UpgradeType::ControlPlaneOnly,
        Some("1.30.5"),
        NodeImageSelectionType::Latest,
    );
    let p = run(&f, &cpo);
    let MemberAction::Fail { reason } = &p.members().next().unwrap().action else {
        panic!()
    };
    assert!(reason.contains("would upgrade every node pool"));
}
