//! Gates in the run: reached when the run gets to them (a stage's or group's start for
//! before-gates, its end for after-gates), passed when approved or when their scheduled time
//! comes, skipped with their stage or group, or — with a timeout — skipped or failed once it
//! runs out. Approving is an operator command, checked here.

use super::decide::{Rejection, Reply, Work};
use super::images::ImageChoice;
use super::targets::{MemberAction, resolve_member};
use crate::model::gate::{Approval, GateRun, GateState, OnTimeout, Timing, timeout_at};
use crate::model::run::{MemberState, RunState, State, Subject, UpdateRun};
use serde::{Deserialize, Serialize};

/// Where a place's gates stand after a pass.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Passage {
    /// All passed (or there are none).
    Open,
    Waiting,
    /// A gate ran out of time and its `onTimeout` is `Fail`: why, for the run's error.
    Failed(String),
}

/// Reaches the gates not yet reached, completes scheduled ones whose time has come and applies
/// timeouts; asks to be woken for what will happen by itself.
pub(super) fn pass(gates: &mut [GateRun], work: &mut Work<'_>) -> Passage {
    let now = work.now;
    let mut waiting = false;
    for gate in gates.iter_mut() {
        let GateState::Pending {
            reached_at,
            completes_at,
            times_out_at,
        } = &mut gate.state
        else {
            continue;
        };
        if reached_at.is_none() {
            gate.version += 1;
            *reached_at = Some(now);
            *completes_at = gate
                .config
                .scheduled_start_configuration
                .as_ref()
                .map(|s| s.next_at(now));
            *times_out_at = gate.config.timeout_in_seconds.map(|t| timeout_at(now, t));
            let message = match completes_at {
                Some(at) => format!("{}: starts at {at}", gate.config.label()),
                None => format!("{}: waiting for approval", gate.config.label()),
            };
            work.event(
                Subject::Gate(gate.name.clone()),
                State::Pending,
                Some(message),
            );
        }
        if let Some(at) = *completes_at {
            if now >= at {
                gate.set(GateState::Completed {
                    at: now,
                    approval: None,
                });
                let message = format!("{}: the scheduled time came", gate.config.label());
                work.event(
                    Subject::Gate(gate.name.clone()),
                    State::Completed,
                    Some(message),
                );
                continue;
            }
            work.wake(at);
        }
        if let Some(at) = *times_out_at {
            if now >= at {
                let message = format!(
                    "gate {} ({}) was not approved within {} seconds",
                    gate.name,
                    gate.config.label(),
                    gate.config.timeout_in_seconds.unwrap_or_default()
                );
                match gate.config.on_timeout {
                    Some(OnTimeout::Skip) => {
                        skip_gate(gate, &message, work);
                        continue;
                    }
                    Some(OnTimeout::Fail) | None => {
                        work.event(
                            Subject::Gate(gate.name.clone()),
                            State::Failed,
                            Some(message.clone()),
                        );
                        return Passage::Failed(message);
                    }
                }
            }
            work.wake(at);
        }
        waiting = true;
    }
    match waiting {
        true => Passage::Waiting,
        false => Passage::Open,
    }
}

fn skip_gate(gate: &mut GateRun, reason: &str, work: &mut Work<'_>) {
    gate.set(GateState::Skipped {
        at: work.now,
        reason: reason.into(),
    });
    work.event(
        Subject::Gate(gate.name.clone()),
        State::Skipped,
        Some(reason.into()),
    );
}

/// Skips the gates still pending (their stage or group was skipped).
pub(super) fn skip_all(gates: &mut [GateRun], reason: &str, work: &mut Work<'_>) {
    for gate in gates.iter_mut().filter(|g| !g.is_done()) {
        skip_gate(gate, reason, work);
    }
}

/// Makes the pending gates of a failed place unreached again, so a retry reaches them afresh
/// (with a fresh timeout) instead of failing on the old one at once.
pub(super) fn unreach(gates: &mut [GateRun]) {
    for gate in gates {
        if let GateState::Pending {
            reached_at: Some(_),
            ..
        } = gate.state
        {
            gate.set(GateState::Pending {
                reached_at: None,
                completes_at: None,
                times_out_at: None,
            });
        }
    }
}

/// An operator's approval of a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApproveGate {
    pub gate: String,
    /// Who approves, as the caller is known.
    pub by: String,
    #[serde(default)]
    pub comment: Option<String>,
    /// Approve even though some members of the stage or group cannot start yet.
    #[serde(default)]
    pub confirm: bool,
    /// Approve only the gate as it was read: its etag is one of these (`If-Match`).
    #[serde(default)]
    pub if_match: Option<Vec<String>>,
}

/// Where a gate is in the run: stage, group, before or after, index.
#[derive(Debug, Clone, Copy)]
struct GatePlace {
    stage: usize,
    group: Option<usize>,
    timing: Timing,
    index: usize,
}

fn locate(run: &UpdateRun, name: &str) -> Option<GatePlace> {
    let find = |gates: &[GateRun]| gates.iter().position(|g| g.name == name);
    run.stages.iter().enumerate().find_map(|(s, stage)| {
        let own = [
            (Timing::Before, &stage.before_gates),
            (Timing::After, &stage.after_gates),
        ];
        let at_stage = own.into_iter().find_map(|(timing, gates)| {
            find(gates).map(|index| GatePlace {
                stage: s,
                group: None,
                timing,
                index,
            })
        });
        at_stage.or_else(|| {
            stage.groups.iter().enumerate().find_map(|(g, group)| {
                let lists = [
                    (Timing::Before, &group.before_gates),
                    (Timing::After, &group.after_gates),
                ];
                lists.into_iter().find_map(|(timing, gates)| {
                    find(gates).map(|index| GatePlace {
                        stage: s,
                        group: Some(g),
                        timing,
                        index,
                    })
                })
            })
        })
    })
}

fn gate_at(run: &mut UpdateRun, place: GatePlace) -> &mut GateRun {
    let stage = &mut run.stages[place.stage];
    let gates = match (place.group, place.timing) {
        (None, Timing::Before) => &mut stage.before_gates,
        (None, Timing::After) => &mut stage.after_gates,
        (Some(g), Timing::Before) => &mut stage.groups[g].before_gates,
        (Some(g), Timing::After) => &mut stage.groups[g].after_gates,
    };
    &mut gates[place.index]
}

/// Whether the gate may be approved now, by the rules [`approve`] applies; changes nothing.
pub(super) fn approvable(run: &UpdateRun, name: &str) -> Result<(), Rejection> {
    check(run, name).map(|_| ())
}

/// The gate's place if it may be approved now; `Ok(None)` if it already was.
fn check(run: &UpdateRun, name: &str) -> Result<Option<GatePlace>, Rejection> {
    let not_allowed = |why: String| Rejection::NotAllowed { why };
    let place = locate(run, name).ok_or_else(|| Rejection::UnknownTarget {
        what: format!("the run has no gate named {name}"),
    })?;
    if let RunState::Completed { .. } = run.state {
        return Err(not_allowed("the run has completed".into()));
    }
    let stage = &run.stages[place.stage];
    let gate = match (place.group, place.timing) {
        (None, Timing::Before) => &stage.before_gates[place.index],
        (None, Timing::After) => &stage.after_gates[place.index],
        (Some(g), Timing::Before) => &stage.groups[g].before_gates[place.index],
        (Some(g), Timing::After) => &stage.groups[g].after_gates[place.index],
    };
    match &gate.state {
        GateState::Completed { .. } => Ok(None),
        GateState::Skipped { reason, .. } => Err(not_allowed(format!(
            "gate {name} was skipped ({reason}); there is nothing to approve"
        ))),
        GateState::Pending {
            reached_at: None, ..
        } => Err(not_allowed(format!(
            "the run has not reached gate {name} yet; it can be approved once the run waits at it"
        ))),
        GateState::Pending { .. } => Ok(Some(place)),
    }
}

/// Approves a gate the run waits at. A before-gate whose stage or group has members that
/// cannot start yet (their version is not in their region) needs `confirm`.
pub(super) fn approve(
    run: &mut UpdateRun,
    approval: ApproveGate,
    work: &mut Work<'_>,
) -> Result<Reply, Rejection> {
    if let (Some(tags), Some(place)) = (&approval.if_match, locate(run, &approval.gate)) {
        let etag = gate_at(run, place).version.to_string();
        if !tags.contains(&etag) {
            return Err(Rejection::Stale {
                why: format!(
                    "gate {} has changed: its etag is {etag}, not {}. Read it again and retry.",
                    approval.gate,
                    tags.join(" or ")
                ),
            });
        }
    }
    let Some(place) = check(run, &approval.gate)? else {
        return Ok(Reply::AlreadyApproved);
    };
    if place.timing == Timing::Before && !approval.confirm {
        let blocked = members_that_cannot_start(run, place, work);
        if let Some((first, reason)) = blocked.first() {
            return Err(Rejection::NeedsConfirmation {
                why: format!(
                    "{} member(s) behind gate {} cannot start yet ({first}: {reason}); approve \
                     again with confirmation to go on anyway",
                    blocked.len(),
                    approval.gate
                ),
            });
        }
    }
    let now = work.now;
    let gate = gate_at(run, place);
    let label = gate.config.label();
    let mut said = format!("{label}: approved by {}", approval.by);
    if let Some(comment) = &approval.comment {
        said = format!("{said}: {comment}");
    }
    gate.set(GateState::Completed {
        at: now,
        approval: Some(Approval {
            by: approval.by,
            at: now,
            comment: approval.comment,
        }),
    });
    let name = gate.name.clone();
    work.event(Subject::Gate(name), State::Completed, Some(said));
    Ok(Reply::Approved)
}

/// Members behind a before-gate that would wait `Pending` for a version their region lacks.
fn members_that_cannot_start(
    run: &UpdateRun,
    place: GatePlace,
    work: &Work<'_>,
) -> Vec<(String, String)> {
    let Ok(upgrade) = run.spec.update.upgrade.checked() else {
        return Vec::new();
    };
    let images = ImageChoice::of_run(run);
    let stage = &run.stages[place.stage];
    let groups: Vec<_> = match place.group {
        Some(g) => vec![&stage.groups[g]],
        None => stage.groups.iter().collect(),
    };
    groups
        .into_iter()
        .flat_map(|g| &g.members)
        .filter(|m| {
            matches!(
                m.state,
                MemberState::NotStarted | MemberState::Pending { .. }
            )
        })
        .filter_map(|m| {
            let cluster = work.world.observe(&m.cluster_resource_id).ok()?;
            let catalog = work.world.catalog();
            match resolve_member(&cluster, upgrade, &images, catalog, work.cfg) {
                MemberAction::Pending { reason } => Some((m.name.to_string(), reason)),
                MemberAction::Upgrade { .. }
                | MemberAction::Skip { .. }
                | MemberAction::Fail { .. } => None,
            }
        })
        .collect()
}
