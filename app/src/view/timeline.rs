//! The bars of a run's Gantt chart: what ran when and what the forecast expects, one row per
//! group and one per after-stage wait, on fleet time. Computed where the run is (the server, for
//! a run page), so a page draws a few hundred bars whatever the run's size: past
//! [`MAX_SEPARATE_BARS`], each streak of bars that touch at the drawing's resolution is one bar.

use crate::model::forecast::{Forecast, GroupForecast, StageForecast};
use crate::model::run::{MemberState, UpdateRun, WaitState};
use crate::model::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The drawing's width, and the part of it its row labels take (the bars get the rest).
pub const WIDTH: f64 = 1000.0;
pub const LABEL: f64 = 190.0;
const DRAWN_WIDTH: f64 = WIDTH - LABEL;

/// What a bar stands for; its CSS class is [`BarKind::class`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BarKind {
    /// What happened: an upgrade that ended, one in flight, one that failed, a wait.
    Done,
    Running,
    Failed,
    Wait,
    /// What the forecast expects: the rest of an upgrade in flight, the upgrades and waits ahead.
    Expected,
    Planned,
    PlannedWait,
}

impl BarKind {
    pub fn class(self) -> &'static str {
        match self {
            BarKind::Done => "done",
            BarKind::Running => "running",
            BarKind::Failed => "failed",
            BarKind::Wait => "wait",
            BarKind::Expected => "expected",
            BarKind::Planned => "planned",
            BarKind::PlannedWait => "planned-wait",
        }
    }
}

/// Past this many bars a chart draws bars that touch at its resolution as one bar.
const MAX_SEPARATE_BARS: usize = 500;

/// One bar of the chart, in fleet milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bar {
    pub row: usize,
    pub from: i64,
    pub to: i64,
    /// `done`, `running`, `failed`, `wait` for what happened; `expected` (the rest of an upgrade
    /// in flight), `planned` and `planned-wait` for what the forecast expects.
    pub kind: BarKind,
    /// The member (or wait) the bar is; for a merged bar, the first of them.
    pub label: String,
    /// How many upgrades the bar stands for (1 unless merged), and the last one's name.
    pub count: usize,
    pub last: String,
    /// For an upgrade in flight: when it is expected to end.
    pub expected_end: Option<i64>,
    /// Still going: drawn up to the reader's now, which moves on between reads.
    pub live: bool,
}

impl Bar {
    fn new(row: usize, from: Timestamp, to: Timestamp, kind: BarKind, label: String) -> Self {
        Self {
            row,
            from: from.millis(),
            to: to.millis(),
            kind,
            last: label.clone(),
            label,
            count: 1,
            expected_end: None,
            live: false,
        }
    }

    /// What hovering the bar says: what happened, or what is expected, never an invented end.
    pub fn title(&self) -> String {
        let (from, to) = (Timestamp(self.from), Timestamp(self.to));
        let who = match self.count {
            1 => self.label.clone(),
            n => format!("{n} members, {} … {}", self.label, self.last),
        };
        match self.kind {
            BarKind::Running => match self.expected_end {
                Some(end) => format!(
                    "{who}: upgrading since {from}, expected to end around {}",
                    Timestamp(end)
                ),
                None => format!("{who}: upgrading since {from}"),
            },
            BarKind::Expected => format!("{who}: expected to end around {to}"),
            BarKind::Planned | BarKind::PlannedWait => format!("{who}: expected {from} → {to}"),
            BarKind::Wait if self.live => format!("{who}: since {from}"),
            BarKind::Done | BarKind::Failed | BarKind::Wait => format!("{who}: {from} → {to}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Gantt {
    pub rows: Vec<String>,
    pub bars: Vec<Bar>,
}

impl Gantt {
    /// The chart as of a later `now` than it was computed at, without the run: what is still
    /// going reaches `now`, and the expected rest of an upgrade in flight
    /// and of a stage's wait starts there.
    pub fn at(&self, now: Timestamp) -> Gantt {
        let now = now.millis();
        let bars = self
            .bars
            .iter()
            .map(|bar| {
                let mut bar = bar.clone();
                if bar.live {
                    bar.to = bar.to.max(now);
                }
                if matches!(bar.kind, BarKind::Expected | BarKind::PlannedWait) {
                    bar.from = bar.from.max(now).min(bar.to);
                }
                bar
            })
            .collect();
        Gantt {
            rows: self.rows.clone(),
            bars,
        }
    }

    /// `now` rounded down to the chart's resolution: a step of fleet time that moves nothing on
    /// it by more than a pixel. A page redraws the chart when this changes rather than on each
    /// tick of its clock: a run of 500 groups has over a thousand shapes to set again.
    pub fn drawn_at(&self, now: Timestamp) -> Timestamp {
        let now = now.millis();
        let (first, last) = self.span().unwrap_or((now, now + 1));
        let axis = last.max(now) - first.min(now);
        let step = (axis / (WIDTH - LABEL) as i64).max(1);
        Timestamp(now - now.rem_euclid(step))
    }

    pub fn span(&self) -> Option<(i64, i64)> {
        let from = self.bars.iter().map(|b| b.from).min()?;
        let to = self.bars.iter().map(|b| b.to).max()?;
        Some((from, to.max(from + 1)))
    }
}

/// Where each group's and wait's row is: `(stage, group)` and `(stage, None)` for the wait.
type Rows = BTreeMap<(String, Option<String>), usize>;

/// The bars of `run` as of `now` (upgrades and waits still going end at `now`), and what
/// `forecast` expects after.
pub fn gantt(run: &UpdateRun, forecast: &Forecast, now: Timestamp) -> Gantt {
    let mut chart = Gantt::default();
    let mut rows = Rows::new();
    let expected_ends: BTreeMap<_, _> = forecast
        .members()
        .filter(|m| m.in_flight)
        .map(|m| (m.name.clone(), m.ends))
        .collect();
    for stage in &run.stages {
        for group in &stage.groups {
            let row = chart.rows.len();
            rows.insert((stage.name.clone(), Some(group.name.clone())), row);
            chart.rows.push(format!("{} › {}", stage.name, group.name));
            for member in &group.members {
                let (from, to, kind) = match member.state {
                    MemberState::Completed {
                        started_at,
                        completed_at,
                        ..
                    } => (started_at, completed_at, BarKind::Done),
                    MemberState::Upgrading { started_at, .. } => {
                        (started_at, now, BarKind::Running)
                    }
                    MemberState::Failed {
                        started_at,
                        failed_at,
                        ..
                    } => (started_at.unwrap_or(failed_at), failed_at, BarKind::Failed),
                    MemberState::NotStarted
                    | MemberState::Pending { .. }
                    | MemberState::Skipped { .. } => continue,
                };
                let mut bar = Bar::new(row, from, to, kind, member.name.to_string());
                bar.live = kind == BarKind::Running;
                bar.expected_end = expected_ends.get(&member.name).map(|t| t.millis());
                chart.bars.push(bar);
            }
        }
        if stage.after_stage_wait_in_seconds > 0 {
            rows.insert((stage.name.clone(), None), chart.rows.len());
            chart.rows.push(format!("{} › wait", stage.name));
        }
        let row = chart.rows.len().saturating_sub(1);
        let (from, to, live) = match stage.wait {
            WaitState::Running { started_at, .. } => (started_at, now, true),
            WaitState::Completed {
                started_at,
                completed_at,
            } if completed_at > started_at => (started_at, completed_at, false),
            WaitState::NotStarted | WaitState::Skipped { .. } | WaitState::Completed { .. } => {
                continue;
            }
        };
        let label = format!("wait after {}", stage.name);
        let mut bar = Bar::new(row, from, to, BarKind::Wait, label);
        bar.live = live;
        chart.bars.push(bar);
    }
    chart.bars.extend(expected_bars(forecast, &rows, now));
    if chart.bars.len() > MAX_SEPARATE_BARS
        && let Some((from, to)) = chart.span()
    {
        // One unit of the drawing: bars closer than that could not be told apart anyway.
        chart.bars.sort_by_key(|b| (b.row, b.kind, b.from));
        chart.bars = merge_touching(chart.bars, (to - from) / DRAWN_WIDTH as i64);
    }
    chart
}

/// What the forecast expects from `now`: the rest of each upgrade in flight, the upgrades ahead,
/// and the waits still to come (the rest of a running one).
fn expected_bars(forecast: &Forecast, rows: &Rows, now: Timestamp) -> Vec<Bar> {
    let mut bars = Vec::new();
    for stage in &forecast.stages {
        for group in &stage.groups {
            let Some(&row) = rows.get(&(stage.name.clone(), Some(group.name.clone()))) else {
                continue;
            };
            for member in &group.members {
                let (from, kind) = if member.in_flight {
                    (now, BarKind::Expected)
                } else {
                    (member.starts, BarKind::Planned)
                };
                if member.ends > from {
                    bars.push(Bar::new(
                        row,
                        from,
                        member.ends,
                        kind,
                        member.name.to_string(),
                    ));
                }
            }
            bars.extend(counted_bar(stage, group, row, now));
        }
        if let Some(&row) = rows.get(&(stage.name.clone(), None))
            && stage.wait_ends > stage.ends.max(now)
        {
            let label = format!("wait after {}", stage.name);
            let from = stage.ends.max(now);
            bars.push(Bar::new(
                row,
                from,
                stage.wait_ends,
                BarKind::PlannedWait,
                label,
            ));
        }
    }
    bars
}

/// One bar for the members the forecast counted without planning them one by one (their
/// clusters not observed yet): after the group's planned upgrades, to the group's expected end.
fn counted_bar(
    stage: &StageForecast,
    group: &GroupForecast,
    row: usize,
    now: Timestamp,
) -> Option<Bar> {
    if group.more == 0 {
        return None;
    }
    let planned_end = group.members.iter().map(|m| m.ends).max();
    let from = planned_end.unwrap_or(stage.starts).max(now);
    let what = match group.more {
        1 => "1 more member".to_owned(),
        n => format!("{n} more members"),
    };
    (group.ends > from).then(|| Bar::new(row, from, group.ends, BarKind::Planned, what))
}

/// Merges each bar into the one before it when they are in the same row, of the same kind and
/// at most `gap` apart (a group upgrading member after member becomes one bar per streak), so a
/// 10,000-member run draws a few hundred bars, not 10,000. Expects bars in row order, each row's
/// bars of a kind in time order.
fn merge_touching(bars: Vec<Bar>, gap: i64) -> Vec<Bar> {
    let mut merged: Vec<Bar> = Vec::with_capacity(bars.len());
    for bar in bars {
        match merged.last_mut() {
            Some(prev)
                if prev.row == bar.row
                    && prev.kind == bar.kind
                    && bar.from >= prev.from
                    && bar.from - prev.to <= gap =>
            {
                prev.to = prev.to.max(bar.to);
                prev.live |= bar.live;
                prev.count += bar.count;
                prev.last = bar.last;
            }
            _ => merged.push(bar),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FleetSnapshot, create_run};
    use crate::model::member::ClusterResourceId;
    use crate::model::names::MemberName;
    use crate::model::run::MemberRun;
    use crate::model::target::UpgradeTarget;

    fn member(name: &str, state: MemberState) -> MemberRun {
        MemberRun {
            name: MemberName::parse(name).unwrap(),
            cluster_resource_id: ClusterResourceId::parse(&format!("sim:{name}")).unwrap(),
            attempts: 1,
            state,
        }
    }

    fn upgrading(name: &str, since: i64) -> MemberRun {
        let target = UpgradeTarget {
            control_plane: None,
            node_pools: vec![],
            resources: None,
        };
        member(
            name,
            MemberState::Upgrading {
                attempt: 1,
                started_at: Timestamp(since),
                target,
                provider_trouble: None,
                hop: None,
            },
        )
    }

    /// A one-by-one run over no members, to fill in by hand.
    fn empty_run() -> UpdateRun {
        let fleet = FleetSnapshot {
            members: vec![],
            catalog: Default::default(),
        };
        let spec = crate::model::update::RunSpec {
            strategy: None,
            update: serde_json::from_str(r#"{"upgrade": {"type": "NodeImageOnly"}}"#).unwrap(),
            placement: None,
        };
        create_run(
            "r",
            "uid-r",
            &fleet,
            spec,
            Timestamp(0),
            &Default::default(),
        )
        .unwrap()
        .0
    }

    #[test]
    fn a_fresh_run_has_rows_but_no_bars() {
        let chart = gantt(&empty_run(), &Forecast::default(), Timestamp(5));
        assert_eq!(chart.rows, ["all-members › all-members"]);
        assert!(chart.bars.is_empty() && chart.span().is_none());
    }

    #[test]
    fn finished_upgrades_keep_their_times_and_running_ones_reach_now() {
        let mut run = empty_run();
        let group = &mut run.stages[0].groups[0];
        group.members.push(member(
            "a",
            MemberState::Completed {
                attempt: 1,
                started_at: Timestamp(100),
                completed_at: Timestamp(400),
            },
        ));
        group.members.push(upgrading("b", 400));
        group.members.push(member("c", MemberState::NotStarted));
        run.stages[0].after_stage_wait_in_seconds = 1;
        run.stages[0].wait = WaitState::Completed {
            started_at: Timestamp(900),
            completed_at: Timestamp(950),
        };
        let chart = gantt(&run, &Forecast::default(), Timestamp(900));
        let spans: Vec<_> = chart
            .bars
            .iter()
            .map(|b| (b.row, b.from, b.to, b.kind))
            .collect();
        assert_eq!(
            spans,
            [
                (0, 100, 400, BarKind::Done),
                (0, 400, 900, BarKind::Running),
                (1, 900, 950, BarKind::Wait)
            ]
        );
        assert_eq!(chart.rows[1], "all-members › wait");
        assert_eq!(chart.span(), Some((100, 950)));
        assert!(chart.bars[0].title().starts_with("a: "));
    }

    #[test]
    fn the_chart_is_drawn_again_only_when_now_moves_it_by_a_pixel() {
        let mut run = empty_run();
        run.stages[0].groups[0]
            .members
            .push(completed("a", 0, 810_000));
        let chart = gantt(&run, &Forecast::default(), Timestamp(810_000));
        // 810 s over 810 pixels: a second a pixel.
        let drawn = |now| chart.drawn_at(Timestamp(now)).millis();
        assert_eq!(drawn(400_000), 400_000);
        assert_eq!(
            drawn(400_999),
            400_000,
            "less than a pixel later: the same drawing"
        );
        assert_eq!(drawn(401_000), 401_000);
        // Past the last bar the axis grows with now, and so does the step.
        assert_eq!(drawn(1_620_000), 1_620_000);
        assert_eq!(drawn(1_620_500), 1_620_000, "two seconds a pixel now");
        assert_eq!(Gantt::default().drawn_at(Timestamp(7)), Timestamp(7));
    }

    #[test]
    fn members_the_forecast_only_counts_get_one_planned_bar_to_their_groups_end() {
        let run = empty_run();
        let group = GroupForecast {
            name: "all-members".into(),
            ends: Timestamp(900),
            members: vec![],
            more: 3,
        };
        let forecast = Forecast {
            eta: Some(Timestamp(900)),
            stages: vec![StageForecast {
                name: "all-members".into(),
                starts: Timestamp(100),
                ends: Timestamp(900),
                wait_ends: Timestamp(900),
                groups: vec![group],
            }],
        };
        let chart = gantt(&run, &forecast, Timestamp(50));
        let bars: Vec<_> = chart
            .bars
            .iter()
            .map(|b| (b.row, b.from, b.to, b.kind, b.label.as_str()))
            .collect();
        assert_eq!(bars, [(0, 100, 900, BarKind::Planned, "3 more members")]);
        // Once now has passed the stage's start, the bar starts now.
        let later = gantt(&run, &forecast, Timestamp(400));
        assert_eq!(later.bars[0].from, 400);
    }

    fn completed(name: &str, from: i64, to: i64) -> MemberRun {
        member(
            name,
            MemberState::Completed {
                attempt: 1,
                started_at: Timestamp(from),
                completed_at: Timestamp(to),
            },
        )
    }

    #[test]
    fn a_large_run_draws_each_streak_of_upgrades_as_one_bar() {
        let mut run = empty_run();
        let members = &mut run.stages[0].groups[0].members;
        // Two streaks of 300 back-to-back upgrades, far apart.
        for i in 0..300 {
            members.push(completed(&format!("m{i}"), i * 100, i * 100 + 100));
        }
        for i in 300..600 {
            members.push(completed(
                &format!("m{i}"),
                100_000 + i * 100,
                100_000 + i * 100 + 100,
            ));
        }
        let chart = gantt(&run, &Forecast::default(), Timestamp(0));
        let spans: Vec<_> = chart.bars.iter().map(|b| (b.from, b.to, b.count)).collect();
        assert_eq!(spans, [(0, 30_000, 300), (130_000, 160_000, 300)]);
        assert!(
            chart.bars[0]
                .title()
                .starts_with("300 members, m0 … m299: ")
        );
    }

    #[test]
    fn what_the_forecast_expects_is_drawn_after_now_and_running_bars_say_when_they_should_end() {
        use crate::model::forecast::{GroupForecast, MemberForecast, StageForecast};
        let mut run = empty_run();
        run.stages[0].groups[0].members.push(upgrading("b", 400));
        run.stages[0].groups[0]
            .members
            .push(member("c", MemberState::NotStarted));
        let expect = |name: &str, starts, ends, in_flight| MemberForecast {
            name: MemberName::parse(name).unwrap(),
            starts: Timestamp(starts),
            ends: Timestamp(ends),
            in_flight,
            waits_for_window_until: None,
        };
        let forecast = Forecast {
            eta: Some(Timestamp(2000)),
            stages: vec![StageForecast {
                name: "all-members".into(),
                starts: Timestamp(600),
                ends: Timestamp(2000),
                wait_ends: Timestamp(2000),
                groups: vec![GroupForecast {
                    name: "all-members".into(),
                    ends: Timestamp(2000),
                    members: vec![expect("b", 400, 1000, true), expect("c", 1000, 2000, false)],
                    more: 0,
                }],
            }],
        };
        let chart = gantt(&run, &forecast, Timestamp(600));
        let spans: Vec<_> = chart.bars.iter().map(|b| (b.from, b.to, b.kind)).collect();
        assert_eq!(
            spans,
            [
                (400, 600, BarKind::Running),
                (600, 1000, BarKind::Expected),
                (1000, 2000, BarKind::Planned)
            ]
        );
        assert_eq!(
            chart.bars[0].title(),
            format!(
                "b: upgrading since {}, expected to end around {}",
                Timestamp(400),
                Timestamp(1000)
            )
        );
        // As time passes the running bar grows and the expected rest shrinks, whether the chart
        // is computed again or moved on by the page.
        let later = gantt(&run, &forecast, Timestamp(900));
        assert_eq!((later.bars[0].to, later.bars[1].from), (900, 900));
        assert_eq!(chart.at(Timestamp(900)), later);
        let past_the_forecast = chart.at(Timestamp(1500));
        assert_eq!(
            (past_the_forecast.bars[1].from, past_the_forecast.bars[1].to),
            (1000, 1000)
        );
        assert_eq!(
            past_the_forecast.bars[2], chart.bars[2],
            "planned bars stay"
        );
    }

    #[test]
    fn a_small_run_keeps_a_bar_per_member_however_close() {
        let mut run = empty_run();
        for i in 0..10 {
            let member = completed(&format!("m{i}"), i * 100, i * 100 + 100);
            run.stages[0].groups[0].members.push(member);
        }
        assert_eq!(
            gantt(&run, &Forecast::default(), Timestamp(0)).bars.len(),
            10
        );
    }
}
