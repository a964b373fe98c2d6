//! The controls the browser enables must be exactly what `decide` accepts.

use super::decide_tests::{one_by_one, staged};
use super::harness::Harness;
use super::*;
use crate::model::run::UpdateRun;

/// Every member, group, stage and after-stage wait of the run, as skip targets.
fn every_target(run: &UpdateRun) -> Vec<(SkipKind, String)> {
    let mut targets = Vec::new();
    for stage in &run.stages {
        targets.push((SkipKind::Stage, stage.name.clone()));
        targets.push((SkipKind::AfterStageWait, stage.name.clone()));
        for group in &stage.groups {
            targets.push((SkipKind::Group, group.name.clone()));
            for member in &group.members {
                targets.push((SkipKind::Member, member.name.to_string()));
            }
        }
    }
    targets
}

/// Asserts the dry-run answers equal the real ones for every command and skip target.
fn assert_controls_agree(h: &Harness) {
    let answer = |command: Command| {
        decide(&h.run, Input::Command(command), h.now, &h.world, &h.cfg).map(|d| d.reply)
    };
    let shown = controls(&h.run, h.now);
    assert_eq!(shown.start, answer(Command::Start), "start");
    assert_eq!(shown.stop, answer(Command::Stop), "stop");
    for member in h.run.members() {
        assert_eq!(
            can_skip_member(&h.run, member),
            can_skip(&h.run, SkipKind::Member, member.name.as_str()),
            "skip member {} without a search",
            member.name
        );
    }
    for (kind, name) in every_target(&h.run) {
        let target = SkipTarget {
            kind,
            name: name.clone(),
        };
        assert_eq!(
            can_skip(&h.run, kind, &name).is_ok(),
            answer(Command::Skip(vec![target])).is_ok(),
            "skip {kind:?} {name}"
        );
    }
}

#[test]
fn controls_follow_a_staged_run_through_its_life() {
    let mut h = staged();
    assert_controls_agree(&h);
    let fresh = controls(&h.run, h.now);
    assert!(fresh.can_start() && !fresh.can_stop());

    h.start();
    assert_controls_agree(&h);
    let running = controls(&h.run, h.now);
    assert!(!running.can_start(), "already running is not a change");
    assert!(running.can_stop());
    assert!(
        can_skip(&h.run, SkipKind::Member, "a1").is_err(),
        "a1 is being upgraded"
    );
    assert!(can_skip(&h.run, SkipKind::Member, "a2").is_ok());

    h.complete("a1");
    h.complete("b1");
    assert_controls_agree(&h);
    assert!(
        can_skip(&h.run, SkipKind::Group, "g2").is_err(),
        "g2 finished"
    );

    h.command(Command::Stop).unwrap();
    assert_controls_agree(&h);
    let stopping = controls(&h.run, h.now);
    assert!(!stopping.can_start(), "a2 is still in flight");
    assert!(!stopping.can_stop(), "already stopping");

    h.complete("a2");
    assert_controls_agree(&h);
    assert_eq!(controls(&h.run, h.now).start, Ok(Reply::Resumed));
    h.start();
    h.run_to_end();
    assert_controls_agree(&h);
    let done = controls(&h.run, h.now);
    assert!(!done.can_start() && !done.can_stop());
}

#[test]
fn a_failed_run_offers_retry_and_the_failed_member_may_be_skipped() {
    let mut h = one_by_one(&["a", "b"]);
    h.start();
    h.fail("a", "the upgrade timed out");
    assert_controls_agree(&h);
    let failed = controls(&h.run, h.now);
    assert_eq!(failed.start, Ok(Reply::Retrying { failed_members: 1 }));
    assert!(!failed.can_stop());
    assert!(can_skip(&h.run, SkipKind::Member, "a").is_ok());
}
