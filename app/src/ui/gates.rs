//! Gates in the browser: a gate's row in a run's tree (its state, what it waits for, who
//! approved it) with Approve exactly when the engine would accept it, and the fleet page's
//! "Waiting for approval" list across runs.

use super::badge::StateBadge;
use super::error::ErrorMessage;
use crate::api::{Approve, waiting_gates};
use crate::model::gate::{GateResource, GateRun, GateState};
use crate::model::time::Timestamp;
use crate::ui::time::When;
use crate::view::outline::GateLine;
use leptos::prelude::*;
use leptos_router::components::A;

/// What a gate's row says beside its state.
fn gate_words(gate: &GateRun) -> String {
    match &gate.state {
        GateState::Pending {
            reached_at: None, ..
        } => "not reached yet".into(),
        GateState::Pending {
            completes_at: Some(at),
            ..
        } => format!("starts at {at}"),
        GateState::Pending {
            times_out_at: Some(at),
            ..
        } => format!(
            "waiting for approval; {} at {at} if not approved",
            match gate.config.on_timeout {
                Some(crate::model::gate::OnTimeout::Skip) => "skipped",
                _ => "fails",
            }
        ),
        GateState::Pending { .. } => "waiting for approval".into(),
        GateState::Completed {
            approval: Some(approval),
            ..
        } => match &approval.comment {
            Some(comment) => format!("approved by {}: {comment}", approval.by),
            None => format!("approved by {}", approval.by),
        },
        GateState::Completed { .. } => "its time came".into(),
        GateState::Skipped { reason, .. } => format!("skipped: {reason}"),
    }
}

/// A gate in a run's tree, with an approval form when the engine would take an approval now.
pub fn gate_row(
    line: &GateLine,
    fleet: Signal<String>,
    done: RwSignal<u64>,
) -> impl IntoView + use<> {
    let (gate, approvable) = (&line.gate, line.approvable);
    let when = match gate.timing {
        crate::model::gate::Timing::Before => "before",
        crate::model::gate::Timing::After => "after",
    };
    let name = gate.name.clone();
    let form = approvable.then(|| view! { <ApproveForm fleet gate=name.clone() done/> });
    view! {
        <div class="tree-row gate" data-gate=name>
            <span class="tree-name">"Gate " <strong>{gate.config.label()}</strong> <span class="muted small">" (" {when} ")"</span></span>
            <StateBadge state=gate.public()/>
            <span class="muted small gate-words">{gate_words(gate)}</span>
            {form}
        </div>
    }
}

/// Approve, with an optional comment; when the server asks for confirmation (members behind
/// the gate cannot start yet) it says why and offers to approve anyway.
#[component]
pub fn ApproveForm(fleet: Signal<String>, gate: String, done: RwSignal<u64>) -> impl IntoView {
    let action = ServerAction::<Approve>::new();
    let comment = RwSignal::new(String::new());
    let gate = StoredValue::new(gate);
    let send = move |confirm: bool| {
        let comment = comment.get_untracked();
        action.dispatch(Approve {
            fleet: fleet.get_untracked(),
            gate: gate.get_value(),
            comment: (!comment.trim().is_empty()).then_some(comment),
            confirm,
        });
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            done.update(|n| *n += 1);
        }
    });
    let needs_confirmation = move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .filter(|e| e.code == "ConfirmationRequired")
    };
    let other_error = move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .filter(|e| e.code != "ConfirmationRequired")
    };
    let label = format!("Approve gate {}", gate.get_value());
    let role =
        crate::ui::access::refusal(crate::model::access::Role::Operator, &fleet.get_untracked());
    view! {
        <span class="approve">
            <input type="text" class="narrow" placeholder="comment (optional)" aria-label=format!("Comment for {}", gate.get_value())
                prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))/>
            <button type="button" class="approve-button" aria-label=label disabled=move || action.pending().get() || role.get().is_some()
                title=move || role.get().unwrap_or_default()
                on:click=move |_| send(false)>"Approve"</button>
        </span>
        {move || needs_confirmation().map(|error| view! {
            <p class="warning" role="alert">{error.message}" "
                <button type="button" class="secondary" on:click=move |_| send(true)>"Approve anyway"</button>
            </p>
        })}
        {move || other_error().map(|error| view! { <ErrorMessage error/> })}
    }
}

/// Approval gates the fleet's runs wait at, oldest first, each with Approve.
#[component]
pub fn WaitingForApproval(fleet: Signal<String>, tick: RwSignal<u64>) -> impl IntoView {
    let done = RwSignal::new(0_u64);
    // Read again every few seconds (gates are reached as runs move) and after an approval.
    let every_five = Memo::new(move |_| tick.get() / 5);
    let gates = Resource::new(
        move || (fleet.get(), every_five.get(), done.get()),
        |(fleet, ..)| waiting_gates(fleet),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match gates.await {
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section class="panel waiting-gates" aria-labelledby="waiting-heading">
                            <h2 id="waiting-heading">"Waiting for approval"</h2>
                            <ul class="gate-list">
                                {list.into_iter().map(|g| waiting_row(g, fleet, done)).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    // The fleet page itself says when the fleet is not there; once is enough.
                    Err(error) if error.kind == crate::model::error::ErrorKind::NotFound => ().into_any(),
                    Err(error) => view! { <ErrorMessage error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn waiting_row(gate: GateResource, fleet: Signal<String>, done: RwSignal<u64>) -> impl IntoView {
    let place = &gate.properties.target.update_run_properties;
    let at = match &place.group {
        Some(group) => format!("stage {}, group {}", place.stage, group),
        None => format!("stage {}", place.stage),
    };
    let run = place.name.clone();
    let href = format!("/fleets/{}/updates/runs/{run}", fleet.get_untracked());
    let reached = gate.properties.reached_time.unwrap_or(Timestamp(0));
    view! {
        <li class="gate-item" data-gate=gate.name.clone()>
            <strong>{gate.properties.display_name.clone()}</strong>
            " · run " <A href=href>{run}</A> " · " {at} " · waiting since " <When t=reached/>
            <ApproveForm fleet gate=gate.name.clone() done/>
        </li>
    }
}
