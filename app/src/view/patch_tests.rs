//! An outline patched with a decision's events says what the outline read after it says, for
//! everything a patch keeps: counts, the summary, states and times, who is upgrading or failed,
//! the member rows. Checked step by step over whole runs, small (members listed) and large.

use super::*;
use crate::engine::harness::Harness;
use crate::view::outline::tests::{outline_of, with_groups};
use serde_json::{Value, json};

/// What a patch keeps of an outline (names sorted: a read lists the first in member order).
fn kept(outline: &RunOutline) -> Value {
    let sorted = |names: &[String]| {
        let mut names = names.to_vec();
        names.sort();
        names
    };
    let s = &outline.summary;
    let stages: Vec<Value> = outline
        .stages
        .iter()
        .map(|stage| {
            let groups: Vec<Value> = stage
                .groups
                .iter()
                .map(|g| {
                    let rows: Vec<Value> = g.listed.iter().flat_map(|page| &page.members).map(|line| {
                        let mut status = line.status.clone();
                        status.operation_id = None;
                        json!({"status": status, "finishing": line.finishing})
                    }).collect();
                    json!({"name": g.status.name, "status": g.status.status, "counts": g.counts,
                           "failureCount": g.status.failure_count, "upgrading": sorted(&g.upgrading),
                           "failed": sorted(&g.failed), "rows": rows})
                })
                .collect();
            json!({"status": stage.status, "failureCount": stage.failure_count, "groups": groups})
        })
        .collect();
    json!({"done": s.done, "upgraded": s.upgraded, "skipped": s.skipped, "failed": s.failed,
           "inFlight": outline.in_flight, "stages": stages})
}

/// Drives `h` to its end (every `fail_every`-th upgrade fails) and checks, after each decision,
/// the outline before it patched with its events against the outline after it. Returns how
/// many decisions were patched rather than read again.
fn follow(mut h: Harness, fail_every: usize) -> usize {
    let (mut patched_steps, mut upgrades) = (0, 0);
    h.start();
    for _ in 0..10_000 {
        let before = outline_of(&h);
        let seen = h.events.len();
        match h.in_flight().first().cloned() {
            Some(member) => {
                upgrades += 1;
                if fail_every > 0 && upgrades % fail_every == 0 {
                    h.fail(&member, "node pool drain timed out");
                } else {
                    h.complete(&member);
                }
            }
            None if h.wake_at.is_some() => h.wake(),
            None => return patched_steps,
        }
        let mut patched = before;
        let mut read_again = false;
        for event in &h.events[seen..] {
            read_again |= patched.patch(event) == Patched::ReadAgain;
        }
        if !read_again {
            assert_eq!(
                kept(&patched),
                kept(&outline_of(&h)),
                "after {:#?}",
                &h.events[seen..]
            );
            patched_steps += 1;
        }
    }
    panic!("the run did not settle");
}

#[test]
fn a_small_run_patched_from_its_events_reads_as_it_is() {
    let patched = follow(crate::engine::decide_tests::staged(), 0);
    assert!(patched >= 2, "most steps need no read: {patched}");
    let failing = with_groups(12, 3, json!({"maxAllowedFailures": "4"}));
    assert!(failing.run.members().count() <= super::super::outline::LIST_MEMBERS_UP_TO);
    assert!(follow(failing, 3) >= 6);
}

#[test]
fn a_large_run_patched_from_its_events_reads_as_it_is() {
    let h = with_groups(
        300,
        4,
        json!({"maxAllowedFailures": "20", "maxConcurrency": "3"}),
    );
    assert!(!outline_of(&h).members_listed);
    assert!(follow(h, 7) > 200);
}

#[test]
fn a_member_page_shows_its_members_events() {
    let mut h = with_groups(300, 2, json!({"maxAllowedFailures": "10"}));
    h.start();
    let mut page = crate::view::outline::member_page(&h.run, "g0", 0).unwrap();
    for _ in 0..40 {
        let seen = h.events.len();
        let member = h.in_flight().first().cloned().unwrap();
        match member.ends_with('4') {
            true => h.fail(&member, "quota exceeded"),
            false => h.complete(&member),
        };
        h.events[seen..].iter().for_each(|e| page.patch(e));
        let mut read = crate::view::outline::member_page(&h.run, "g0", 0).unwrap();
        for line in page.members.iter_mut().chain(&mut read.members) {
            line.status.operation_id = None;
            line.skip = Ok(());
        }
        assert_eq!(page, read);
    }
}

#[test]
fn an_event_without_its_group_asks_for_a_read() {
    let mut h = with_groups(100, 2, json!({}));
    h.start();
    let mut outline = outline_of(&h);
    let mut event = h.events.last().unwrap().clone();
    assert!(matches!(
        event.subject,
        crate::model::run::Subject::Member(_)
    ));
    assert_eq!(outline.clone().patch(&event), Patched::Done);
    event.group = None;
    assert_eq!(
        outline.patch(&event),
        Patched::ReadAgain,
        "an event stored before groups were named"
    );
}
