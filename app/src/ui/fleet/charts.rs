//! Version distributions drawn as SVG bar charts, rendered on the server (no chart library).

use crate::model::overview::VersionCount;
use leptos::prelude::*;

const WIDTH: usize = 560;
const ROW: usize = 38;
const BAR_LEFT: usize = 0;
const BAR_MAX: usize = 470;

/// Bar width in the chart's coordinates, at least a sliver so a count of one is visible.
pub fn bar_width(count: usize, max: usize) -> usize {
    (count * BAR_MAX).checked_div(max).map_or(0, |w| w.max(4))
}

#[component]
pub fn VersionChart(
    title: &'static str,
    unit: &'static str,
    counts: Vec<VersionCount>,
    /// What the bar colours mean.
    legend: &'static str,
) -> impl IntoView {
    let max = counts.iter().map(|c| c.count).max().unwrap_or(0);
    let height = (counts.len() * ROW).max(ROW);
    let label = format!(
        "{title}: {}",
        counts
            .iter()
            .map(|c| format!("{} {} {unit}", c.version, c.count))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = counts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let y = i * ROW;
            let class = if c.newest { "bar newest" } else { "bar older" };
            let width = bar_width(c.count, max);
            let tag = if c.newest { " (newest)" } else { "" };
            view! {
                <g class="chart-row">
                    <text x=BAR_LEFT y=y + 12 class="chart-label">{format!("{}{tag}", c.version)}</text>
                    <rect x=BAR_LEFT y=y + 17 width=width height=14 rx=2 class=class/>
                    <text x=BAR_LEFT + width + 6 y=y + 29 class="chart-count">{c.count}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart panel">
            <figcaption>{title} <span class="muted">" (" {unit} ")"</span></figcaption>
            <svg role="img" aria-label=label viewBox=format!("0 0 {WIDTH} {height}") preserveAspectRatio="xMinYMin meet">
                {rows}
            </svg>
            <p class="muted small legend">{legend}</p>
            {(max == 0).then(|| view! { <p class="empty">"No members to count yet."</p> })}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_stay_visible() {
        assert_eq!(bar_width(10, 10), BAR_MAX);
        assert_eq!(bar_width(5, 10), BAR_MAX / 2);
        assert_eq!(bar_width(1, 1000), 4);
        assert_eq!(bar_width(0, 0), 0);
    }
}
