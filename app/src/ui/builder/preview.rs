//! The live plan preview: the engine's `plan`, run in the browser on the fleet snapshot for the
//! run being composed. What each stage and group will upgrade and in what order, what will be
//! skipped, left pending or fail and why, members no stage touches, and an ETA per stage.

use crate::engine::{
    GatePlan, GatesPlan, GroupPlan, HopPlan, MemberAction, MemberPlan, Plan, StagePlan,
    UpgradeTarget,
};
use crate::model::run::Limits;
use crate::model::target::Step;
use crate::ui::format::{count, span};
use leptos::prelude::*;
use std::collections::BTreeSet;
use std::fmt::Display;

/// A group shows at most this many members; the rest are counted.
const MEMBER_ROWS: usize = 50;

fn step<T: Display>(step: &Step<T>) -> String {
    format!("{} → {}", step.from, step.to)
}

/// `control plane 1.29.9 → 1.30.5; pool1: 1.29.9 → 1.30.5, image … → …`.
pub fn describe_target(target: &UpgradeTarget) -> String {
    let mut parts = Vec::new();
    if let Some(resources) = &target.resources {
        parts.push(format!(
            "placement {} at {}",
            resources.placement, resources.revision
        ));
    }
    if let Some(cp) = &target.control_plane {
        parts.push(format!("control plane {}", step(cp)));
    }
    for pool in &target.node_pools {
        let changes: Vec<String> = pool
            .kubernetes_version
            .iter()
            .map(step)
            .chain(
                pool.node_image_version
                    .iter()
                    .map(|s| format!("image {}", step(s))),
            )
            .collect();
        parts.push(format!("{}: {}", pool.name, changes.join(", ")));
    }
    parts.join("; ")
}

/// What a member goes through: its one upgrade, or each hop in order (`hop 1 of 3: …`).
pub fn describe_hops(first: &UpgradeTarget, then: &[UpgradeTarget]) -> String {
    if then.is_empty() {
        return describe_target(first);
    }
    let of = 1 + then.len();
    std::iter::once(first)
        .chain(then)
        .enumerate()
        .map(|(i, hop)| format!("hop {} of {of}: {}", i + 1, describe_target(hop)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The outcome in words, with the CSS class and the word a person scans for.
fn outcome(member: &MemberPlan) -> (&'static str, &'static str, String) {
    match &member.action {
        MemberAction::Upgrade { target, then } => {
            let mut text = describe_hops(target, then);
            if let Some(opens) = member.waits_for_window_until {
                text.push_str(&format!(
                    " (waits for its maintenance window, opening {})",
                    crate::ui::time::local(opens, true)
                ));
            }
            ("upgrade", "Upgrade", text)
        }
        MemberAction::Skip { reason } => ("skip", "Skipped", reason.clone()),
        MemberAction::Pending { reason } => ("pending", "Pending", reason.clone()),
        MemberAction::Fail { reason } => ("fail", "Blocked", reason.clone()),
    }
}

/// Counts of what the plan does, for the summary line.
fn tally(plan: &Plan) -> String {
    let (mut up, mut skip, mut pending, mut fail, mut hopping) = (0, 0, 0, 0, 0);
    for member in plan.members() {
        match &member.action {
            MemberAction::Upgrade { then, .. } => {
                up += 1;
                hopping += usize::from(!then.is_empty());
            }
            MemberAction::Skip { .. } => skip += 1,
            MemberAction::Pending { .. } => pending += 1,
            MemberAction::Fail { .. } => fail += 1,
        }
    }
    let through = match hopping {
        0 => String::new(),
        n => format!(" ({n} through several minor versions)"),
    };
    format!(
        "{}{through} to upgrade, {skip} skipped, {pending} pending, {fail} blocked; about {} if nothing fails",
        count(up, "member", "members"),
        span(plan.duration_ms)
    )
}

#[component]
pub fn PlanPreview(plan: Memo<Result<Plan, String>>) -> impl IntoView {
    view! {
        <section class="panel preview" aria-labelledby="preview-heading" aria-live="polite">
            <h2 id="preview-heading">"Plan preview"</h2>
            {move || match plan.get() {
                Err(why) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
                Ok(plan) => view! { <PlanView plan/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn PlanView(plan: Plan) -> impl IntoView {
    let images = plan.selected_node_image_versions.clone();
    view! {
        <p class="summary" data-testid="plan-summary">{tally(&plan)}</p>
        {passes_view(&plan.hops)}
        {(!images.is_empty()).then(|| view! {
            <p class="small">"Selected node images: "
                {images.iter().map(|v| view! { <code>{v.to_string()}</code>" " }).collect_view()}</p>
        })}
        {(!plan.warnings.is_empty()).then(|| view! {
            <ul class="warnings">{plan.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
        })}
        <EtaChart plan=plan.clone()/>
        {plan.stages.into_iter().map(stage_view).collect_view()}
        {(!plan.not_in_any_stage.is_empty()).then(|| view! {
            <h3>"In no stage (not updated)"</h3>
            <p class="small not-in-stage">{plan.not_in_any_stage.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")}</p>
        })}
    }
}

/// A chain's passes, one line each: where each takes its members, how many, and when.
fn passes_view(hops: &[HopPlan]) -> impl IntoView {
    (!hops.is_empty()).then(|| {
        view! {
            <p class="small">{format!(
                "One minor version at a time: {} runs of the whole strategy, each started when the one before it completes. The stages below are the first.",
                hops.len()
            )}</p>
            <ol class="plan-passes small" data-testid="plan-passes">
                {hops.iter().map(|hop| view! { <li>{pass_words(hop)}</li> }).collect_view()}
            </ol>
        }
    })
}

fn pass_words(hop: &HopPlan) -> String {
    let left = match hop.not_upgraded {
        0 => String::new(),
        n => format!(", {n} pending or blocked"),
    };
    format!(
        "to {}: {} to upgrade{left}, from {} to {}",
        hop.to,
        count(hop.upgrades, "member", "members"),
        span(hop.starts_after_ms),
        span(hop.ends_after_ms)
    )
}

fn stage_view(stage: StagePlan) -> impl IntoView {
    let starts = match stage.starts_after_ms {
        0 => "starts at once".to_owned(),
        ms => format!("starts after {}", span(ms)),
    };
    let timing = format!(
        "{starts}, upgrades for {}{}",
        span(stage.ends_after_ms - stage.starts_after_ms),
        match stage.after_stage_wait_in_seconds {
            0 => String::new(),
            s => format!(", then waits {}", span(s * 1000)),
        }
    );
    let stage_notes = [limits_note(&stage.limits, "across its groups")]
        .into_iter()
        .flatten()
        .chain(gate_notes(&stage.gates))
        .collect::<Vec<_>>();
    view! {
        <div class="plan-stage" data-stage=stage.name.clone()>
            <h3>"Stage " {stage.name.clone()} " " <span class="muted small">{timing}</span></h3>
            {notes_view(stage_notes)}
            {stage.groups.into_iter().map(|group| {
                let hidden = group.members.len().saturating_sub(MEMBER_ROWS);
                let notes = std::iter::once(batches_note(&group))
                    .chain(gate_notes(&group.gates))
                    .collect::<Vec<_>>();
                view! {
                    <div class="plan-group" data-group=group.name.clone()>
                        <h4>"Group " {group.name.clone()}</h4>
                        {notes_view(notes)}
                        <ol class="plan-members">
                            {group.members.iter().take(MEMBER_ROWS).map(member_row).collect_view()}
                        </ol>
                        {(hidden > 0).then(|| view! { <p class="muted small">{format!("and {hidden} more")}</p> })}
                    </div>
                }
            }).collect_view()}
        </div>
    }
}

fn notes_view(notes: Vec<String>) -> impl IntoView {
    (!notes.is_empty()).then(|| {
        view! {
            <ul class="plan-notes small">{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
        }
    })
}

/// A stage's ceiling and failure budget, in words; none when it sets neither.
fn limits_note(limits: &Limits, scope: &str) -> Option<String> {
    let parts: Vec<String> = [
        limits
            .max_concurrency
            .map(|c| format!("at most {c} at once {scope}")),
        limits.max_allowed_failures.map(|f| {
            format!(
                "fails past {}",
                count(f as usize, "failed member", "failed members")
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// How a group's upgrades go: how many, in how many batches, how many at once, its budget.
fn batches_note(group: &GroupPlan) -> String {
    let starts: BTreeSet<i64> = group
        .members
        .iter()
        .filter_map(|m| m.starts_after_ms)
        .collect();
    let upgrades = group
        .members
        .iter()
        .filter(|m| m.starts_after_ms.is_some())
        .count();
    let at_once = group.limits.max_concurrency.unwrap_or(1);
    let mut note = format!(
        "{} in {}, up to {at_once} at once",
        count(upgrades, "upgrade", "upgrades"),
        count(starts.len(), "batch", "batches")
    );
    if let Some(budget) = group.limits.max_allowed_failures {
        note.push_str(&format!(
            "; fails past {}",
            count(budget as usize, "failed member", "failed members")
        ));
    }
    note
}

/// Each gate and when the plan expects it to pass.
fn gate_notes(gates: &GatesPlan) -> Vec<String> {
    let note = |when: &str, gate: &GatePlan| {
        let label = gate.config.label();
        match &gate.config.scheduled_start_configuration {
            Some(scheduled) => format!(
                "{when}: {label} at {} (after {})",
                scheduled.describe(),
                span(gate.passes_after_ms)
            ),
            None => format!("{when}: {label}, waits for an approval (the ETA assumes one at once)"),
        }
    };
    gates
        .before
        .iter()
        .map(|g| note("Gate before", g))
        .chain(gates.after.iter().map(|g| note("Gate after", g)))
        .collect()
}

fn member_row(member: &MemberPlan) -> impl IntoView + use<> {
    let (class, word, text) = outcome(member);
    let region = member.location.as_ref().map(|r| format!(" ({r})"));
    view! {
        <li class=format!("plan-member {class}") data-member=member.name.to_string()>
            <strong>{member.name.to_string()}</strong>{region}": "
            <span class=format!("outcome {class}")>{word}</span>" "
            <span class="small">{text}</span>
        </li>
    }
}

/// Each stage as a bar from when it starts to when its last member ends, then its wait.
#[component]
fn EtaChart(plan: Plan) -> impl IntoView {
    const WIDTH: f64 = 600.0;
    const LABEL: f64 = 110.0;
    const ROW: f64 = 22.0;
    let total = plan.duration_ms.max(1) as f64;
    let x = move |ms: i64| LABEL + ms as f64 / total * (WIDTH - LABEL - 4.0);
    let height = ROW * plan.stages.len() as f64 + 18.0;
    let rows = plan
        .stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let y = ROW * i as f64;
            let wait_end = stage.ends_after_ms + stage.after_stage_wait_in_seconds * 1000;
            let title = format!(
                "{}: {} to {}",
                stage.name,
                span(stage.starts_after_ms),
                span(stage.ends_after_ms)
            );
            view! {
                <text class="chart-label" x="0" y=y + 15.0>{stage.name.clone()}</text>
                <rect class="gantt-bar running" x=x(stage.starts_after_ms) y=y + 4.0
                    width=(x(stage.ends_after_ms) - x(stage.starts_after_ms)).max(2.0) height=ROW - 8.0>
                    <title>{title}</title>
                </rect>
                <rect class="gantt-bar wait" x=x(stage.ends_after_ms) y=y + 8.0
                    width=(x(wait_end) - x(stage.ends_after_ms)).max(0.0) height=ROW - 16.0/>
            }
        })
        .collect_view();
    view! {
        <figure class="chart eta">
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img"
                aria-label=format!("Estimated timeline: {} in all", span(plan.duration_ms))>
                {rows}
                <text class="chart-count" x=LABEL y=height - 2.0>"start"</text>
                <text class="chart-count" x=WIDTH - 4.0 y=height - 2.0 text-anchor="end">{format!("+{}", span(plan.duration_ms))}</text>
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::target::PoolTarget;
    use crate::model::version::KubernetesVersion;

    #[test]
    fn a_target_reads_part_by_part() {
        let target = UpgradeTarget {
            control_plane: Some(Step {
                from: KubernetesVersion::new(1, 29, 9),
                to: KubernetesVersion::new(1, 30, 5),
            }),
            node_pools: vec![PoolTarget {
                name: "system".into(),
                kubernetes_version: Some(Step {
                    from: KubernetesVersion::new(1, 29, 9),
                    to: KubernetesVersion::new(1, 30, 5),
                }),
                node_image_version: None,
            }],
            resources: None,
        };
        assert_eq!(
            describe_target(&target),
            "control plane 1.29.9 → 1.30.5; system: 1.29.9 → 1.30.5"
        );
    }
}
