//! A Gantt chart of what ran when and what is expected next (the bars are
//! [`crate::view::timeline`]'s, computed with the run): one row per group and one per
//! after-stage wait, on fleet time. The axis runs to now and on to the run's ETA; a line marks
//! now, bars of upgrades in flight grow with it, and what the forecast expects is drawn hatched.

use super::PageClock;
use crate::model::time::Timestamp;
use crate::ui::time::local;
use crate::view::timeline::{Gantt, LABEL, WIDTH};
use leptos::prelude::*;

const ROW: f64 = 24.0;
const AXIS: f64 = 22.0;

#[component]
pub fn Timeline(gantt: Gantt, eta: Option<Timestamp>, clock: PageClock) -> impl IntoView {
    // Redrawn as fleet time moves: the axis reaches now, running bars grow, the line moves;
    // only when that moves something by a pixel or more.
    let drawn_at = Memo::new({
        let gantt = gantt.clone();
        move |_| gantt.drawn_at(clock.now())
    });
    move || {
        let now = drawn_at.get();
        chart(gantt.at(now), eta, now)
    }
}

fn chart(chart: Gantt, eta: Option<Timestamp>, now: Timestamp) -> AnyView {
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
                <rect class=format!("gantt-bar {}", bar.kind.class()) x=left y=y width=width height=ROW - 8.0 rx="2">
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    let now_x = x(now.millis());
    let eta = eta.filter(|eta| eta.millis() > now.millis());
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
