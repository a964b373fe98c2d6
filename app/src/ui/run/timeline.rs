//! A Gantt chart of what ran when and what is expected next: one row per group (its members'
//! upgrades side by side, since a group upgrades one member at a time) and one per after-stage
//! wait, on fleet time. The axis runs to now and on to the run's ETA; a line marks now, bars of
//! upgrades in flight grow with it, and what the forecast expects is drawn hatched. A large run
//! draws each streak of bars that touch at the chart's resolution as one bar.

use super::PageClock;
use crate::model::forecast::Forecast;
use crate::model::run::{MemberState, UpdateRun, WaitState};
use crate::model::time::Timestamp;
use crate::ui::time::local;
use leptos::prelude::*;
use std::collections::BTreeMap;

const WIDTH: f64 = 1000.0;
const LABEL: f64 = 190.0;
const ROW: f64 = 24.0;
const AXIS: f64 = 22.0;

/// Past this many bars a chart draws bars that touch at its resolution as one bar.
const MAX_SEPARATE_BARS: usize = 500;

/// One bar of the chart, in fleet milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub row: usize,
    pub from: i64,
    pub to: i64,
    /// `done`, `running`, `failed`, `wait` for what happened; `expected` (the rest of an upgrade
    /// in flight), `planned` and `planned-wait` for what the forecast expects.
    pub kind: &'static str,
    /// The member (or wait) the bar is; for a merged bar, the first of them.
    pub label: String,
    /// How many upgrades the bar stands for (1 unless merged), and the last one's name.
    pub count: usize,
    pub last: String,
    /// For an upgrade in flight: when it is expected to end.
    pub expected_end: Option<i64>,
}

impl Bar {
    fn new(row: usize, from: Timestamp, to: Timestamp, kind: &'static str, label: String) -> Self {
        Self {
            row,
            from: from.millis(),
            to: to.millis(),
            kind,
            last: label.clone(),
            label,
            count: 1,
            expected_end: None,
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
            "running" => match self.expected_end {
                Some(end) => format!(
                    "{who}: upgrading since {from}, expected to end around {}",
                    Timestamp(end)
                ),
                None => format!("{who}: upgrading since {from}"),
            },
            "expected" => format!("{who}: expected to end around {to}"),
            "planned" | "planned-wait" => format!("{who}: expected {from} → {to}"),
            "wait" if self.expected_end.is_some() => format!("{who}: since {from}"),
            _ => format!("{who}: {from} → {to}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gantt {
    pub rows: Vec<String>,
    pub bars: Vec<Bar>,
}

impl Gantt {
    fn span(&self) -> Option<(i64, i64)> {
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
                    } => (started_at, completed_at, "done"),
                    MemberState::Upgrading { started_at, .. } => (started_at, now, "running"),
                    MemberState::Failed {
                        started_at,
                        failed_at,
                        ..
                    } => (started_at.unwrap_or(failed_at), failed_at, "failed"),
                    MemberState::NotStarted
                    | MemberState::Pending { .. }
                    | MemberState::Skipped { .. } => continue,
                };
                let mut bar = Bar::new(row, from, to, kind, member.name.to_string());
                bar.expected_end = expected_ends.get(&member.name).map(|t| t.millis());
                chart.bars.push(bar);
            }
        }
        if stage.after_stage_wait_in_seconds > 0 {
            rows.insert((stage.name.clone(), None), chart.rows.len());
            chart.rows.push(format!("{} › wait", stage.name));
        }
        let row = chart.rows.len().saturating_sub(1);
        let (from, to) = match stage.wait {
            WaitState::Running { started_at, .. } => (started_at, now),
            WaitState::Completed {
                started_at,
                completed_at,
            } if completed_at > started_at => (started_at, completed_at),
            WaitState::NotStarted | WaitState::Skipped { .. } | WaitState::Completed { .. } => {
                continue;
            }
        };
        let label = format!("wait after {}", stage.name);
        chart.bars.push(Bar::new(row, from, to, "wait", label));
    }
    chart.bars.extend(expected_bars(forecast, &rows, now));
    if chart.bars.len() > MAX_SEPARATE_BARS
        && let Some((from, to)) = chart.span()
    {
        // One unit of the drawing: bars closer than that could not be told apart anyway.
        chart.bars.sort_by_key(|b| (b.row, b.kind, b.from));
        chart.bars = merge_touching(chart.bars, (to - from) / (WIDTH - LABEL) as i64);
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
                    (now, "expected")
                } else {
                    (member.starts, "planned")
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
        }
        if let Some(&row) = rows.get(&(stage.name.clone(), None))
            && stage.wait_ends > stage.ends.max(now)
        {
            let label = format!("wait after {}", stage.name);
            let from = stage.ends.max(now);
            bars.push(Bar::new(row, from, stage.wait_ends, "planned-wait", label));
        }
    }
    bars
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
                prev.count += bar.count;
                prev.last = bar.last;
            }
            _ => merged.push(bar),
        }
    }
    merged
}

#[component]
pub fn Timeline(run: UpdateRun, forecast: Forecast, clock: PageClock) -> impl IntoView {
    // Redrawn as fleet time moves: the axis reaches now, running bars grow, the line moves.
    move || chart(&run, &forecast, clock.now())
}

fn chart(run: &UpdateRun, forecast: &Forecast, now: Timestamp) -> AnyView {
    let chart = gantt(run, forecast, now);
    let Some((first, last)) = chart.span() else {
        return view! { <p class="empty">"The timeline fills in as members are upgraded."</p> }
            .into_any();
    };
    let start = first.min(now.millis());
    let end = last.max(now.millis()).max(start + 1);
    let x = move |t: i64| LABEL + (t - start) as f64 / (end - start) as f64 * (WIDTH - LABEL - 8.0);
    let rows_end = AXIS + ROW * chart.rows.len() as f64;
    // A line below the rows carries the "now" label, clear of the axis labels above.
    let height = rows_end + 16.0;
    let labels = chart
        .rows
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let y = AXIS + ROW * i as f64 + ROW * 0.65;
            view! { <text class="chart-label" x="0" y=y>{label.clone()}</text> }
        })
        .collect_view();
    let bars = chart
        .bars
        .into_iter()
        .map(|bar| {
            let title = bar.title();
            let left = x(bar.from);
            // Instants (a failure) still get a visible mark.
            let width = (x(bar.to) - left).max(3.0);
            let y = AXIS + ROW * bar.row as f64 + 4.0;
            view! {
                <rect class=format!("gantt-bar {}", bar.kind) x=left y=y width=width height=ROW - 8.0 rx="2">
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    let now_x = x(now.millis());
    let eta = forecast.eta.filter(|eta| eta.millis() > now.millis());
    let caption = match eta {
        Some(eta) => format!(
            "From {} to now ({now}), expected to end around {eta}",
            Timestamp(start)
        ),
        None => format!("From {} to {}", Timestamp(start), Timestamp(end)),
    };
    view! {
        <figure class="chart gantt">
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=format!("Timeline of the run. {caption}")>
                <defs>
                    <pattern id="hatch-planned" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <rect width="6" height="6" fill="#eef3f9"></rect>
                        <line x1="0" y1="0" x2="0" y2="6" stroke="#7f97b2" stroke-width="2"></line>
                    </pattern>
                    <pattern id="hatch-expected" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <rect width="6" height="6" fill="#e1ecf8"></rect>
                        <line x1="0" y1="0" x2="0" y2="6" stroke="#3b7dc4" stroke-width="2"></line>
                    </pattern>
                </defs>
                <text class="chart-count" x=LABEL y="14">{local(Timestamp(start), true)}</text>
                <text class="chart-count" x=WIDTH - 8.0 y="14" text-anchor="end">{local(Timestamp(end), true)}</text>
                {labels}
                {bars}
                <line class="now-line" x1=now_x x2=now_x y1=AXIS - 4.0 y2=rows_end data-testid="now-line"></line>
                <text class="chart-count now-label" x=now_x y=height - 3.0 text-anchor="middle">"now"</text>
            </svg>
            <figcaption class="muted small">"Green: upgraded · blue: upgrading · red: failed · grey: waiting after a stage · hatched: expected, if nothing fails. The line is now. Hover a bar for its times."</figcaption>
        </figure>
    }
    .into_any()
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
        };
        member(
            name,
            MemberState::Upgrading {
                attempt: 1,
                started_at: Timestamp(since),
                target,
                provider_trouble: None,
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
                (0, 100, 400, "done"),
                (0, 400, 900, "running"),
                (1, 900, 950, "wait")
            ]
        );
        assert_eq!(chart.rows[1], "all-members › wait");
        assert_eq!(chart.span(), Some((100, 950)));
        assert!(chart.bars[0].title().starts_with("a: "));
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
                }],
            }],
        };
        let chart = gantt(&run, &forecast, Timestamp(600));
        let spans: Vec<_> = chart.bars.iter().map(|b| (b.from, b.to, b.kind)).collect();
        assert_eq!(
            spans,
            [
                (400, 600, "running"),
                (600, 1000, "expected"),
                (1000, 2000, "planned")
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
        // As time passes the running bar grows and the expected rest shrinks.
        let later = gantt(&run, &forecast, Timestamp(900));
        assert_eq!((later.bars[0].to, later.bars[1].from), (900, 900));
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
