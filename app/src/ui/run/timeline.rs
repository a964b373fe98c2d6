//! A Gantt chart of what ran when: one row per group (its members' upgrades side by side, since
//! a group upgrades one member at a time) and one per after-stage wait, on fleet time. A large
//! run draws each streak of upgrades that touch at the chart's resolution as one bar.

use super::PageClock;
use crate::model::run::{MemberState, UpdateRun, WaitState};
use crate::model::time::Timestamp;
use crate::ui::format::short_time;
use leptos::prelude::*;

const WIDTH: f64 = 1000.0;
const LABEL: f64 = 190.0;
const ROW: f64 = 24.0;
const AXIS: f64 = 22.0;

/// Past this many bars a chart draws upgrades that touch at its resolution as one bar.
const MAX_SEPARATE_BARS: usize = 500;

/// One bar of the chart, in fleet milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub row: usize,
    pub from: i64,
    pub to: i64,
    /// `done`, `running`, `failed`, `wait`.
    pub kind: &'static str,
    /// The member (or wait) the bar is; for a merged bar, the first of them.
    pub label: String,
    /// How many upgrades the bar stands for (1 unless merged), and the last one's name.
    pub count: usize,
    pub last: String,
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
        }
    }

    /// What hovering the bar says.
    pub fn title(&self) -> String {
        let span = format!("{} → {}", Timestamp(self.from), Timestamp(self.to));
        match self.count {
            1 => format!("{}: {span}", self.label),
            n => format!("{n} members, {} … {}: {span}", self.label, self.last),
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

/// The bars of `run` as of `now` (upgrades and waits still going end at `now`).
pub fn gantt(run: &UpdateRun, now: Timestamp) -> Gantt {
    let mut chart = Gantt::default();
    for stage in &run.stages {
        for group in &stage.groups {
            let row = chart.rows.len();
            chart.rows.push(format!("{} › {}", stage.name, group.name));
            for member in &group.members {
                let (from, to, kind) = match member.state {
                    MemberState::Completed {
                        started_at,
                        completed_at,
                        ..
                    } => (started_at, completed_at, "done"),
                    MemberState::Upgrading { started_at, .. } => (started_at, now, "running"),
                    MemberState::Failed { failed_at, .. } => (failed_at, failed_at, "failed"),
                    MemberState::NotStarted
                    | MemberState::Pending { .. }
                    | MemberState::Skipped { .. } => continue,
                };
                chart
                    .bars
                    .push(Bar::new(row, from, to, kind, member.name.to_string()));
            }
        }
        let (from, to) = match stage.wait {
            WaitState::Running { started_at, .. } => (started_at, now),
            WaitState::Completed {
                started_at,
                completed_at,
            } => (started_at, completed_at),
            WaitState::NotStarted | WaitState::Skipped { .. } => continue,
        };
        let label = format!("wait after {}", stage.name);
        chart
            .bars
            .push(Bar::new(chart.rows.len(), from, to, "wait", label));
        chart.rows.push(format!("{} › wait", stage.name));
    }
    if chart.bars.len() > MAX_SEPARATE_BARS
        && let Some((from, to)) = chart.span()
    {
        // One unit of the drawing: bars closer than that could not be told apart anyway.
        chart.bars = merge_touching(chart.bars, (to - from) / (WIDTH - LABEL) as i64);
    }
    chart
}

/// Merges each bar into the one before it when they are in the same row, of the same kind and
/// at most `gap` apart (a group upgrading member after member becomes one bar per streak), so a
/// 10,000-member run draws a few hundred bars, not 10,000. Expects bars in row order, each row's
/// bars in time order, as [`gantt`] makes them.
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
pub fn Timeline(run: UpdateRun, clock: PageClock) -> impl IntoView {
    let chart = gantt(&run, clock.now());
    let Some((start, end)) = chart.span() else {
        return view! { <p class="empty">"The timeline fills in as members are upgraded."</p> }
            .into_any();
    };
    let x = move |t: i64| LABEL + (t - start) as f64 / (end - start) as f64 * (WIDTH - LABEL - 8.0);
    let height = AXIS + ROW * chart.rows.len() as f64;
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
    let caption = format!("From {} to {}", Timestamp(start), Timestamp(end));
    view! {
        <figure class="chart gantt">
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=format!("Timeline of the run. {caption}")>
                <text class="chart-count" x=LABEL y="14">{short_time(Timestamp(start))}</text>
                <text class="chart-count" x=WIDTH - 8.0 y="14" text-anchor="end">{short_time(Timestamp(end))}</text>
                {labels}
                {bars}
            </svg>
            <figcaption class="muted small">"Green: upgraded · blue: upgrading · red: failed · grey: waiting after a stage. Hover a bar for its times."</figcaption>
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
        let chart = gantt(&empty_run(), Timestamp(5));
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
        group.members.push(member(
            "b",
            MemberState::Upgrading {
                attempt: 1,
                started_at: Timestamp(400),
                target: UpgradeTarget {
                    control_plane: None,
                    node_pools: vec![],
                },
            },
        ));
        group.members.push(member("c", MemberState::NotStarted));
        run.stages[0].wait = WaitState::Completed {
            started_at: Timestamp(900),
            completed_at: Timestamp(950),
        };
        let chart = gantt(&run, Timestamp(900));
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
        let chart = gantt(&run, Timestamp(0));
        let spans: Vec<_> = chart.bars.iter().map(|b| (b.from, b.to, b.count)).collect();
        assert_eq!(spans, [(0, 30_000, 300), (130_000, 160_000, 300)]);
        assert!(
            chart.bars[0]
                .title()
                .starts_with("300 members, m0 … m299: ")
        );
    }

    #[test]
    fn a_small_run_keeps_a_bar_per_member_however_close() {
        let mut run = empty_run();
        for i in 0..10 {
            let member = completed(&format!("m{i}"), i * 100, i * 100 + 100);
            run.stages[0].groups[0].members.push(member);
        }
        assert_eq!(gantt(&run, Timestamp(0)).bars.len(), 10);
    }
}
