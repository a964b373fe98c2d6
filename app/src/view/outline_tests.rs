//! The outline says what the whole run's status says, folded: same states, times and counts,
//! the engine's answers, members only when the run is small or a page is asked for.

use super::*;
use crate::engine::fixtures::*;
use crate::engine::forecast;
use crate::engine::harness::Harness;
use crate::model::strategy::UpdateStrategy;
use crate::model::update::RunSpec;

fn forecast_of(h: &Harness) -> Forecast {
    forecast(&h.run, &h.world, h.now, &h.cfg)
}

pub(crate) fn outline_of(h: &Harness) -> RunOutline {
    outline(&h.run, forecast_of(h), h.now)
}

/// `n` members in `groups` groups of one stage, one by one per group.
pub(crate) fn large(n: usize, groups: usize) -> Harness {
    with_groups(n, groups, serde_json::json!({}))
}

/// [`large`], each group also given the fields of `extra` (a `maxConcurrency`, a budget).
pub(crate) fn with_groups(n: usize, groups: usize, extra: serde_json::Value) -> Harness {
    let members = (0..n)
        .map(|i| {
            let group = format!("g{}", i % groups);
            member(&format!("m{i:05}"), Some(&group), "eastus", "1.29.9")
        })
        .collect();
    let names: Vec<_> = (0..groups)
        .map(|g| {
            let mut group = extra.clone();
            group["name"] = serde_json::json!(format!("g{g}"));
            group
        })
        .collect();
    let strategy: UpdateStrategy =
        strategy(serde_json::json!({"stages": [{"name": "all", "groups": names}]}));
    Harness::new(
        &fleet(members),
        RunSpec {
            strategy: Some(strategy),
            ..full("1.30.5")
        },
        NOW,
    )
}

#[test]
fn a_small_run_lists_every_member_as_its_status_does() {
    let mut h = crate::engine::decide_tests::staged();
    h.start();
    let outline = outline_of(&h);
    let status = h.run.status();
    assert!(outline.members_listed);
    assert_eq!(outline.stages.len(), status.stages.len());
    for (stage, full) in outline.stages.iter().zip(&status.stages) {
        assert_eq!((&stage.name, &stage.status), (&full.name, &full.status));
        for (group, full) in stage.groups.iter().zip(&full.groups) {
            let listed = group
                .listed
                .as_ref()
                .expect("a small run lists its members");
            let rows: Vec<_> = listed.members.iter().map(|m| m.status.clone()).collect();
            assert_eq!(rows, full.members, "group {}", full.name);
            assert_eq!(
                GroupStatus {
                    members: full.members.clone(),
                    ..group.status.clone()
                },
                *full
            );
            assert_eq!(group.counts.total, full.members.len());
        }
    }
    assert_eq!(outline.summary, h.run.summary());
    assert_eq!(outline.in_flight, 2, "a1 and b1 upgrade, one per group");
    assert_eq!(outline.stages[0].groups[0].upgrading, ["a1"]);
}

#[test]
fn a_large_run_counts_its_members_and_pages_them_on_request() {
    let mut h = large(1_000, 4);
    h.start();
    let first = h.in_flight()[0].clone();
    h.fail(&first, "the cluster refused the upgrade");
    let outline = outline_of(&h);
    assert!(!outline.members_listed);
    let group = &outline.stages[0].groups[0];
    assert!(group.listed.is_none(), "a large run's groups come in pages");
    assert_eq!(group.counts.total, 250);
    assert_eq!(group.counts.failed, 1);
    assert_eq!(group.failed, std::slice::from_ref(&first));
    let all = h.run.status();
    let counted: usize = outline.stages[0]
        .groups
        .iter()
        .map(|g| g.counts.total)
        .sum();
    assert_eq!(counted, 1_000);
    let done: usize = outline.stages[0]
        .groups
        .iter()
        .map(|g| g.counts.done())
        .sum();
    assert_eq!(done, h.run.summary().done);

    let page = member_page(&h.run, "g0", 0).unwrap();
    assert_eq!(
        (page.offset, page.total, page.members.len()),
        (0, 250, MEMBER_PAGE)
    );
    let second = member_page(&h.run, "g0", 200).unwrap();
    let names: Vec<_> = second.members.iter().map(|m| m.status.clone()).collect();
    assert_eq!(names, all.stages[0].groups[0].members[200..250]);
    let past = member_page(&h.run, "g0", 5_000).unwrap();
    assert!(past.members.is_empty() && past.total == 250);
    assert!(member_page(&h.run, "nope", 0).is_none());
    for line in &page.members {
        let member = h
            .run
            .members()
            .find(|m| m.name == line.status.name)
            .unwrap();
        assert_eq!(line.skip, can_skip_member(&h.run, member));
    }
}

#[test]
fn every_answer_is_the_engines() {
    let mut h = crate::engine::decide_tests::staged();
    let before = outline_of(&h);
    assert_eq!(before.controls, controls(&h.run, h.now));
    h.start();
    h.command(crate::engine::Command::Stop).unwrap();
    let stopping = outline_of(&h);
    assert_eq!(stopping.controls, controls(&h.run, h.now));
    let finishing: Vec<_> = stopping
        .stages
        .iter()
        .flat_map(|s| &s.groups)
        .flat_map(|g| &g.listed.as_ref().unwrap().members)
        .filter(|m| m.finishing)
        .map(|m| m.status.name.to_string())
        .collect();
    assert_eq!(
        finishing,
        ["a1", "b1"],
        "upgrades in flight finish before the stop"
    );
    for stage in &stopping.stages {
        assert_eq!(stage.skip, can_skip(&h.run, SkipKind::Stage, &stage.name));
        assert_eq!(
            stage.wait.skip,
            can_skip(&h.run, SkipKind::AfterStageWait, &stage.name)
        );
        for group in &stage.groups {
            assert_eq!(
                group.skip,
                can_skip(&h.run, SkipKind::Group, &group.status.name)
            );
        }
    }
    assert_eq!(stopping.deletable, h.run.deletable());
}

#[test]
fn what_is_ahead_lists_the_first_upgrades_of_each_group_and_counts_the_rest() {
    let h = large(300, 2);
    let whole = forecast_of(&h);
    let outline = outline_of(&h);
    assert_eq!(outline.ahead.upgrades(), 300);
    assert_eq!(outline.ahead.upgrades(), whole.upgrades());
    assert_eq!(outline.ahead.eta, whole.eta);
    for (folded, group) in outline.ahead.stages[0]
        .groups
        .iter()
        .zip(&whole.stages[0].groups)
    {
        assert_eq!(folded.members, group.members[..AHEAD_ROWS]);
        assert_eq!(folded.more, 150 - AHEAD_ROWS);
    }
}

#[test]
fn a_large_run_outline_grows_with_its_groups_not_its_members() {
    let mut h = large(10_000, 20);
    h.start();
    let outline = serde_json::to_vec(&outline_of(&h)).unwrap();
    let run = serde_json::to_vec(&h.run).unwrap();
    assert!(
        outline.len() * 10 < run.len(),
        "the outline ({} bytes) is a small part of the run ({} bytes)",
        outline.len(),
        run.len()
    );
    let back: RunOutline = serde_json::from_slice(&outline).unwrap();
    assert_eq!(back, outline_of(&h), "what the page reads is what was sent");
}

#[test]
fn a_run_of_many_groups_lists_the_first_upgrades_ahead_and_counts_the_others() {
    let h = large(10_000, 20);
    let ahead = outline_of(&h).ahead;
    let groups = &ahead.stages[0].groups;
    assert_eq!(ahead.upgrades(), 10_000, "nothing is lost from the count");
    assert_eq!(ahead.members().count(), AHEAD_ROWS_IN_ALL);
    let listed: Vec<_> = groups.iter().map(|g| g.members.len()).collect();
    let full = AHEAD_ROWS_IN_ALL / AHEAD_ROWS;
    assert!(
        listed[..full].iter().all(|&n| n == AHEAD_ROWS),
        "{listed:?}"
    );
    assert!(listed[full..].iter().all(|&n| n == 0), "{listed:?}");
    assert!(groups.iter().all(|g| g.members.len() + g.more == 500));
}
