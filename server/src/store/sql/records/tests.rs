//! Every state of a run, its members and its timeline survives the trip through its record, and
//! what earlier formats wrote reads as it was written.

use super::*;
use app::model::gate::{Approval, GateConfiguration, GateRun, GateState, Timing};
use app::model::member::ClusterResourceId;
use app::model::run::{
    Hop, MemberRun, MemberState, ProviderTrouble, RunEvent, SkippedBy, State, Subject, WaitingOn,
};
use app::model::target::{PoolTarget, Step, UpgradeTarget};
use app::model::version::{KubernetesVersion, NodeImageVersion};

/// `seconds` after 2024-09-01 (stored times are whole seconds).
fn at(seconds: i64) -> Timestamp {
    Timestamp(1_725_148_800_000 + seconds * 1000)
}

fn target() -> UpgradeTarget {
    UpgradeTarget {
        control_plane: Some(Step {
            from: KubernetesVersion::parse("1.29.8").unwrap(),
            to: KubernetesVersion::parse("1.30.4").unwrap(),
        }),
        node_pools: vec![PoolTarget {
            name: "system".into(),
            kubernetes_version: None,
            node_image_version: Some(Step {
                from: NodeImageVersion::parse("AKSUbuntu-2204gen2containerd-202409.01.0").unwrap(),
                to: NodeImageVersion::parse("AKSUbuntu-2204gen2containerd-202410.02.0").unwrap(),
            }),
        }],
        resources: None,
    }
}

fn member_states() -> Vec<MemberState> {
    vec![
        MemberState::NotStarted,
        MemberState::Pending {
            reason: "waiting for the window".into(),
            since: at(1),
            until: Some(at(2)),
            waiting_on: Some(WaitingOn::OtherRun {
                holder: "update run b of fleet f".into(),
            }),
        },
        MemberState::Pending {
            reason: "unobserved".into(),
            since: at(1),
            until: None,
            waiting_on: Some(WaitingOn::Provider),
        },
        MemberState::Upgrading {
            attempt: 2,
            started_at: at(3),
            target: target(),
            provider_trouble: Some(ProviderTrouble {
                since: at(4),
                message: "throttled".into(),
            }),
            hop: None,
        },
        MemberState::Upgrading {
            attempt: 3,
            started_at: at(4),
            target: target(),
            provider_trouble: None,
            hop: Some(Hop {
                number: 2,
                of: 3,
                first_started_at: at(3),
            }),
        },
        MemberState::Completed {
            attempt: 1,
            started_at: at(3),
            completed_at: at(5),
        },
        MemberState::Failed {
            attempt: None,
            started_at: None,
            failed_at: at(6),
            message: "gone".into(),
        },
        MemberState::Skipped {
            reason: "by hand".into(),
            at: at(7),
            by: SkippedBy::Operator,
        },
    ]
}

#[test]
fn every_member_state_survives_its_record() {
    for state in member_states() {
        let member = MemberRun {
            name: MemberName::parse("m1").unwrap(),
            cluster_resource_id: ClusterResourceId::parse("sim:c1").unwrap(),
            attempts: 2,
            state,
        };
        let mut stored = None;
        let text = member_row(&member, |target| {
            let target = StoredTarget::of(target)?;
            stored = Some((target.digest.clone(), target.body));
            Ok(target.digest)
        })
        .unwrap();
        let targets = targets_from(stored).unwrap();
        assert_eq!(member_from_row(&text, &targets).unwrap(), member, "{text}");
    }
}

#[test]
fn an_upgrading_member_names_its_target_by_digest() {
    let upgrading = |name: &str, target: UpgradeTarget| MemberRun {
        name: MemberName::parse(name).unwrap(),
        cluster_resource_id: ClusterResourceId::parse(&format!("sim:{name}")).unwrap(),
        attempts: 1,
        state: MemberState::Upgrading {
            attempt: 1,
            started_at: at(0),
            target,
            provider_trouble: None,
            hop: None,
        },
    };
    let stored_a = StoredTarget::of(&target()).unwrap();
    assert_eq!(stored_a, StoredTarget::of(&target()).unwrap());
    let mut other = target();
    other.control_plane = None;
    assert_ne!(stored_a.digest, StoredTarget::of(&other).unwrap().digest);
    let a = member_row(&upgrading("a", target()), |_| Ok(stored_a.digest.clone())).unwrap();
    assert!(
        a.contains(&format!(r#""target":"{}""#, stored_a.digest)),
        "{a}"
    );
    assert!(!a.contains("controlPlane"), "the row holds no copy: {a}");
    assert!(a.len() < 200, "{a}");
    let lacking = member_from_row(&a, &Targets::new()).unwrap_err();
    assert!(lacking.contains(&stored_a.digest), "{lacking}");
    let targets = targets_from([(stored_a.digest.clone(), stored_a.body)]).unwrap();
    assert_eq!(
        member_from_row(&a, &targets).unwrap(),
        upgrading("a", target())
    );
}

#[test]
fn every_event_survives_its_record() {
    let subjects = [
        Subject::Run,
        Subject::Stage("s".into()),
        Subject::Group("g".into()),
        Subject::Member(MemberName::parse("m1").unwrap()),
        Subject::AfterStageWait("s".into()),
        Subject::Gate("r.s.before".into()),
    ];
    let states = [
        State::NotStarted,
        State::Running,
        State::Stopping,
        State::Stopped,
        State::Skipped,
        State::Failed,
        State::Pending,
        State::Completed,
    ];
    for subject in subjects {
        for (i, state) in states.iter().enumerate() {
            let event = RunEvent {
                at: at(i as i64),
                subject: subject.clone(),
                state: *state,
                message: (i % 2 == 0).then(|| "why".to_owned()),
                group: (i % 3 == 0).then(|| "wave".to_owned()),
                previous: (i % 3 == 0).then_some(states[(i + 1) % states.len()]),
            };
            let text = to_text::<EventRecord>(&event).unwrap();
            assert_eq!(from_text::<EventRecord>(&text).unwrap(), event, "{text}");
        }
    }
}

/// Format 2, byte for byte: an upgrading member's row names its target's digest, and the run's
/// targets hold the target under it (the store's snapshot has no member upgrading).
#[test]
fn format_two_is_written_as_it_was() {
    let member = MemberRun {
        name: MemberName::parse("m1").unwrap(),
        cluster_resource_id: ClusterResourceId::parse("sim:c1").unwrap(),
        attempts: 1,
        state: MemberState::Upgrading {
            attempt: 1,
            started_at: at(0),
            target: target(),
            provider_trouble: None,
            hop: None,
        },
    };
    let stored = StoredTarget::of(&target()).unwrap();
    assert_eq!(
        stored.body,
        r#"{"controlPlane":{"from":"1.29.8","to":"1.30.4"},"nodePools":[{"name":"system","nodeImageVersion":{"from":"AKSUbuntu-2204gen2containerd-202409.01.0","to":"AKSUbuntu-2204gen2containerd-202410.02.0"}}]}"#
    );
    assert_eq!(stored.digest, "sBLB8Hz7M85FpPby_XQb-w");
    assert_eq!(
        member_row(&member, |_| Ok(stored.digest.clone())).unwrap(),
        r#"{"name":"m1","clusterResourceId":"sim:c1","attempts":1,"state":{"state":"upgrading","attempt":1,"started_at":"2024-09-01T00:00:00Z","target":"sBLB8Hz7M85FpPby_XQb-w"}}"#
    );
}

#[test]
fn format_one_reads_as_it_was_written() {
    let member = r#"{"name":"m1","clusterResourceId":"sim:c1","attempts":1,"state":{"state":"completed","attempt":1,"started_at":"2024-09-01T00:00:00Z","completed_at":"2024-09-01T00:10:00Z"}}"#;
    let read = member_from_row(member, &Targets::new()).unwrap();
    assert_eq!(
        read.state,
        MemberState::Completed {
            attempt: 1,
            started_at: at(0),
            completed_at: at(600),
        }
    );
    let unused = |_: &UpgradeTarget| unreachable!("a completed member names no target");
    assert_eq!(member_row(&read, unused).unwrap(), member);
    let upgrading = r#"{"name":"m1","clusterResourceId":"sim:c1","attempts":1,"state":{"state":"upgrading","attempt":1,"started_at":"2024-09-01T00:00:00Z","target":{"controlPlane":{"from":"1.29.8","to":"1.30.4"},"nodePools":[{"name":"system","nodeImageVersion":{"from":"AKSUbuntu-2204gen2containerd-202409.01.0","to":"AKSUbuntu-2204gen2containerd-202410.02.0"}}]}}}"#;
    let read = member_from_row(upgrading, &Targets::new()).unwrap();
    assert!(
        matches!(&read.state, MemberState::Upgrading { target: t, .. } if *t == target()),
        "{read:?}"
    );
    let event = r#"{"at":"2024-09-01T00:00:00Z","subject":{"type":"member","name":"m1"},"state":"Running"}"#;
    let read = from_text::<EventRecord>(event).unwrap();
    assert_eq!(read.state, State::Running);
    assert_eq!(to_text::<EventRecord>(&read).unwrap(), event);
}

fn gate(state: GateState) -> GateRun {
    GateRun {
        name: "r.s.before".into(),
        timing: Timing::Before,
        config: GateConfiguration::approval(),
        state,
        version: 3,
    }
}

fn phases() -> Vec<(StageState, GroupState)> {
    vec![
        (StageState::NotStarted, GroupState::NotStarted),
        (
            StageState::Running { started_at: at(1) },
            GroupState::Running { started_at: at(1) },
        ),
        (
            StageState::Completed {
                started_at: at(1),
                completed_at: at(2),
            },
            GroupState::Completed {
                started_at: at(1),
                completed_at: at(2),
            },
        ),
        (
            StageState::Failed {
                started_at: at(1),
                failed_at: at(2),
            },
            GroupState::Failed {
                started_at: at(1),
                failed_at: at(2),
            },
        ),
        (
            StageState::Skipped {
                at: at(3),
                started_at: None,
            },
            GroupState::Skipped {
                at: at(3),
                started_at: Some(at(1)),
            },
        ),
    ]
}

fn waits() -> Vec<WaitState> {
    vec![
        WaitState::NotStarted,
        WaitState::Running {
            started_at: at(1),
            until: at(9),
        },
        WaitState::Completed {
            started_at: at(1),
            completed_at: at(9),
        },
        WaitState::Skipped {
            at: at(2),
            started_at: Some(at(1)),
        },
    ]
}

fn run_states() -> Vec<RunState> {
    vec![
        RunState::NotStarted,
        RunState::Running { started_at: at(1) },
        RunState::Stopping { started_at: at(1) },
        RunState::Stopped {
            started_at: at(1),
            stopped_at: at(2),
        },
        RunState::Failed {
            started_at: at(1),
            failed_at: at(2),
            error: "a member failed".into(),
        },
        RunState::Completed {
            started_at: at(1),
            completed_at: at(2),
        },
    ]
}

#[test]
fn every_run_stage_group_and_gate_state_survives_the_runs_record() {
    let gates = vec![
        gate(GateState::Pending {
            reached_at: Some(at(1)),
            completes_at: None,
            times_out_at: Some(at(5)),
        }),
        gate(GateState::Completed {
            at: at(2),
            approval: Some(Approval {
                by: "alice".into(),
                at: at(2),
                comment: Some("ok".into()),
            }),
        }),
        gate(GateState::Skipped {
            at: at(3),
            reason: "timed out".into(),
        }),
    ];
    let stages: Vec<StageRun> = phases()
        .into_iter()
        .zip(waits().into_iter().cycle())
        .map(|((stage, group), wait)| StageRun {
            name: "s".into(),
            after_stage_wait_in_seconds: 60,
            groups: vec![GroupRun {
                name: "g".into(),
                members: Vec::new(),
                state: group,
                limits: Limits {
                    max_concurrency: Some(2),
                    max_allowed_failures: None,
                },
                before_gates: gates.clone(),
                after_gates: Vec::new(),
            }],
            state: stage,
            wait,
            limits: Limits::default(),
            before_gates: Vec::new(),
            after_gates: gates.clone(),
        })
        .collect();
    let spec: RunSpec = serde_json::from_value(serde_json::json!({
        "strategy": null,
        "update": {"upgrade": {"type": "NodeImageOnly"}}
    }))
    .unwrap();
    for state in run_states() {
        let run = UpdateRun {
            name: "r".into(),
            uid: "u-1".into(),
            update_strategy_id: Some("s".into()),
            auto_upgrade_profile_id: Some("/fleets/f/autoUpgradeProfiles/p".into()),
            catch_up_of: Some("/fleets/f/updateRuns/before".into()),
            hop: Some(app::model::run::RunHop {
                number: 2,
                of: 3,
                minor: 30,
                first_run: "r".into(),
            }),
            spec: spec.clone(),
            state,
            stages: stages.clone(),
            not_in_any_stage: vec![MemberName::parse("m9").unwrap()],
            selected_images: None,
            max_allowed_failures: Some(3),
        };
        let text = to_text::<RunRecord>(&run).unwrap();
        assert_eq!(from_text::<RunRecord>(&text).unwrap(), run, "{text}");
    }
}
