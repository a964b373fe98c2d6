//! The audit trail in the browser: the Audit page (everything the user may read, newest first,
//! filtered by who and which fleet, a page at a time) and, on a run's page, who did what to it.

use crate::api::audit_log;
use crate::model::audit::{AuditEntry, AuditOutcome};
use crate::ui::error::ErrorMessage;
use crate::ui::time::When;
use leptos::prelude::*;
use leptos_meta::Title;

/// What an entry's request did, in words where it is one the run page knows.
pub fn describe(action: &str) -> String {
    let (method, path) = action.split_once(' ').unwrap_or(("", action));
    let path = path.split('?').next().unwrap_or(path);
    let last = path.rsplit('/').next().unwrap_or(path);
    let words = match (method, last) {
        (_, "start" | "start_run") => "started the run",
        (_, "stop" | "stop_run") => "stopped the run",
        (_, "skip") => "skipped part of the run",
        (_, "create_run") | ("PUT", _) if path.contains("updateRuns") || last == "create_run" => {
            "created the run"
        }
        (_, "delete_run") | ("DELETE", _)
            if path.contains("updateRuns") || last == "delete_run" =>
        {
            "deleted the run"
        }
        (_, "approve_gate") => "approved a gate",
        ("PATCH", _) if path.contains("/gates/") => return format!("approved gate {last}"),
        _ => return action.to_owned(),
    };
    words.to_owned()
}

fn outcome_words(entry: &AuditEntry) -> String {
    match (entry.outcome, &entry.code) {
        (AuditOutcome::Succeeded, _) => "done".into(),
        (AuditOutcome::Refused, Some(code)) => format!("refused ({code})"),
        (AuditOutcome::Failed, Some(code)) => format!("failed ({code})"),
        (AuditOutcome::Refused, None) => "refused".into(),
        (AuditOutcome::Failed, None) => "failed".into(),
        (AuditOutcome::Pending, _) => "in progress".into(),
        (AuditOutcome::Interrupted, _) => "interrupted by a restart".into(),
    }
}

/// On a run's page: who created, started, stopped, skipped and approved, newest first.
#[component]
pub fn RunAudit(fleet: Memo<String>, run: Memo<String>, changes: Signal<u64>) -> impl IntoView {
    let entries = Resource::new(
        move || (fleet.get(), run.get(), changes.get()),
        |(fleet, run, _)| audit_log(None, Some(fleet), Some(run), None),
    );
    view! {
        <section class="panel run-audit">
            <h2>"Who did what"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        Ok(page) if page.value.is_empty() => view! { <p class="muted">"Nothing recorded yet."</p> }.into_any(),
                        Ok(page) => view! {
                            <ul class="audit-list" data-testid="run-audit">
                                {page.value.into_iter().map(|e| view! {
                                    <li data-outcome=format!("{:?}", e.outcome)>
                                        <When t=e.time/>" · "<strong>{e.actor.clone()}</strong>" "
                                        {describe(&e.action)}" · "{outcome_words(&e)}
                                        <span class="muted small">" ("{e.credential.clone()}")"</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Every recorded write the user may read, newest first; filter by user and fleet.
#[component]
pub fn AuditPage() -> impl IntoView {
    let actor = RwSignal::new(String::new());
    let fleet = RwSignal::new(String::new());
    let before = RwSignal::new(None::<i64>);
    let page = Resource::new(
        move || (actor.get(), fleet.get(), before.get()),
        |(actor, fleet, before)| audit_log(Some(actor), Some(fleet), None, before),
    );
    let filter = move |signal: RwSignal<String>| {
        move |ev| {
            signal.set(event_target_value(&ev));
            before.set(None);
        }
    };
    view! {
        <Title text="Audit"/>
        <h1>"Audit trail"</h1>
        <p class="muted">"Every change anyone asked for, and every sign-in: who, how, from where, and what came of it."</p>
        <div class="form-row">
            <label>"User "<input class="narrow" prop:value=move || actor.get() on:change=filter(actor)/></label>
            <label>"Fleet "<input class="narrow" prop:value=move || fleet.get() on:change=filter(fleet)/></label>
            <button type="button" class="secondary" disabled=move || before.get().is_none()
                on:click=move |_| before.set(None)>"Newest"</button>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(error) => view! { <ErrorMessage error/> }.into_any(),
                    Ok(page) => {
                        let next = page.next_before;
                        view! {
                            <table class="audit" data-testid="audit">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"How"</th><th>"What"</th><th>"Fleet"</th><th>"From"</th><th>"Result"</th></tr></thead>
                                <tbody>
                                    {page.value.into_iter().map(|e| view! {
                                        <tr>
                                            <td><When t=e.time/></td>
                                            <td>{e.actor.clone()}</td>
                                            <td>{e.credential.clone()}</td>
                                            <td><code>{e.action.clone()}</code></td>
                                            <td>{e.fleet.clone().unwrap_or_default()}</td>
                                            <td>{e.address.clone()}</td>
                                            <td>{outcome_words(&e)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {next.map(|id| view! {
                                <button type="button" class="secondary" on:click=move |_| before.set(Some(id))>"Older"</button>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn run_commands_read_as_words() {
        assert_eq!(
            describe("POST /api/v1/fleets/demo/updateRuns/r/start"),
            "started the run"
        );
        assert_eq!(describe("POST /fn/stop_run"), "stopped the run");
        assert_eq!(
            describe("PUT /api/v1/fleets/demo/updateRuns/r"),
            "created the run"
        );
        assert_eq!(describe("POST /fn/create_run"), "created the run");
        assert_eq!(
            describe("DELETE /api/v1/fleets/demo/updateRuns/r?x=1"),
            "deleted the run"
        );
        assert_eq!(
            describe("PATCH /api/v1/fleets/demo/gates/r.s.before"),
            "approved gate r.s.before"
        );
        assert_eq!(
            describe("PUT /api/v1/fleets/demo"),
            "PUT /api/v1/fleets/demo"
        );
    }
}
