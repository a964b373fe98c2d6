//! What the builder sends: Create (a run) and Save (a strategy). Each checks the form in the
//! browser first and lands the keyboard on the first field to fix; Create asks before making a
//! run some of whose members the plan says would be blocked; Save asks before replacing a
//! stored strategy (the server replaces only when asked).

use super::checks::Field;
use super::draft::Sequence;
use super::errors::{Attempt, FormErrors, TextField, focus_first};
use super::form::Draft;
use crate::api::{CreateUpdateRun, SaveStrategy};
use crate::engine::{MemberAction, Plan, RunSpec};
use crate::model::names::in_brief;
use crate::model::strategy::UpdateStrategy;
use crate::model::update::CreateRun;
use crate::ui::confirmed;
use leptos::prelude::*;

type Request = Memo<Result<(CreateRun, RunSpec), String>>;

/// The server's refusals of `action` show at their field; `done` runs on success.
fn on_result<T, A>(action: ServerAction<A>, errors: FormErrors, done: impl Fn(&T) + 'static)
where
    A: leptos::server_fn::ServerFn<Output = T, Error = crate::model::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
    T: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| match action.value().get() {
        Some(Err(error)) => errors.refused(&error),
        Some(Ok(value)) => done(&value),
        None => {}
    });
}

/// The names of the members the plan says would be blocked, if any.
fn blocked(plan: &Plan) -> Vec<String> {
    plan.members()
        .filter(|m| matches!(m.action, MemberAction::Fail { .. }))
        .map(|m| m.name.to_string())
        .collect()
}

/// The form's checks for `attempt`, run now; `true` when there is nothing to fix (otherwise
/// the keyboard goes to the first problem).
fn checked(errors: FormErrors, attempt: RwSignal<Option<Attempt>>, what: Attempt) -> bool {
    attempt.set(Some(what));
    let problems = errors.local.get_untracked();
    focus_first(&problems);
    problems.is_empty()
}

#[component]
pub fn CreateRunActions(
    fleet: StoredValue<String>,
    draft: Draft,
    request: Request,
    preview: Memo<Result<Plan, String>>,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
    attempt: RwSignal<Option<Attempt>>,
) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    let create = ServerAction::<CreateUpdateRun>::new();
    let navigate = leptos_router::hooks::use_navigate();
    let created = RwSignal::new(String::new());
    on_result(create, errors, move |()| {
        let url = format!(
            "/fleets/{}/updates/runs/{}",
            fleet.get_value(),
            created.get_untracked()
        );
        navigate(&url, Default::default());
    });
    let on_create = move |_| {
        if !checked(errors, attempt, Attempt::Create) {
            return;
        }
        let (request, _) = match request.get_untracked() {
            Ok(request) => request,
            Err(why) => return errors.server.set(Some((None, why))),
        };
        if let Ok(plan) = preview.get_untracked() {
            let blocked = blocked(&plan);
            let question = format!(
                "The plan says {} member(s) would be blocked: {}. The run fails when it reaches the first. Create it anyway?",
                blocked.len(),
                in_brief(&blocked)
            );
            if !blocked.is_empty() && !confirmed(&question) {
                return;
            }
        }
        let run = draft.run_name.get_untracked().trim().to_owned();
        created.set(run.clone());
        create.dispatch(CreateUpdateRun {
            fleet: fleet.get_value(),
            run,
            request,
        });
    };
    let in_stages = move || draft.sequence.get() == Sequence::Stages;
    let role = crate::ui::access::refusal(crate::model::access::Role::Operator, &fleet.get_value());
    view! {
        <section class="panel" aria-label="Create">
            <div class="form-row">
                <button type="button" on:click=on_create disabled=move || create.pending().get() || role.get().is_some()>"Create run"</button>
            </div>
            <crate::ui::access::WhyNot reason=role/>
            {move || errors.general().map(|why| view! { <p class="error" role="alert">{why}</p> })}
            <Show when=in_stages>
                <SaveAs fleet draft strategies attempt editing=None/>
            </Show>
        </section>
    }
}

/// The strategy page's actions: Save, first and foremost.
#[component]
pub fn SaveStrategyActions(
    fleet: StoredValue<String>,
    draft: Draft,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
    attempt: RwSignal<Option<Attempt>>,
    editing: Option<String>,
) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    view! {
        <section class="panel" aria-label="Save">
            <SaveButton fleet draft strategies attempt editing label="Save strategy"/>
            {move || errors.general().map(|why| view! { <p class="error" role="alert">{why}</p> })}
        </section>
    }
}

/// "Save as strategy" under the run builder's stages: a name and the button.
#[component]
fn SaveAs(
    fleet: StoredValue<String>,
    draft: Draft,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
    attempt: RwSignal<Option<Attempt>>,
    editing: Option<String>,
) -> impl IntoView {
    view! {
        <div class="form-row save-strategy">
            <TextField field=Field::StrategyName label="Strategy name" value=draft.strategy_name placeholder="canary-first"/>
            <SaveButton fleet draft strategies attempt editing label="Save as strategy"/>
        </div>
    }
}

#[component]
fn SaveButton(
    fleet: StoredValue<String>,
    draft: Draft,
    strategies: RwSignal<Vec<(String, UpdateStrategy)>>,
    attempt: RwSignal<Option<Attempt>>,
    editing: Option<String>,
    label: &'static str,
) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    let save = ServerAction::<SaveStrategy>::new();
    // The strategy being saved, kept to update the page's list once the server took it.
    let saving = RwSignal::new(None::<(String, UpdateStrategy)>);
    let saved = RwSignal::new(None::<String>);
    on_result(save, errors, move |()| {
        if let Some((name, strategy)) = saving.get_untracked() {
            strategies.update(|list| {
                list.retain(|(n, _)| *n != name);
                list.push((name.clone(), strategy));
                list.sort_by(|a, b| a.0.cmp(&b.0));
            });
            saved.set(Some(name));
        }
    });
    let on_save = move |_| {
        saved.set(None);
        if !checked(errors, attempt, Attempt::Save) {
            return;
        }
        let strategy = match draft.stages.read_untracked().strategy() {
            Ok(strategy) => strategy,
            Err(why) => return errors.server.set(Some((Some(Field::Stages), why))),
        };
        let name = draft.strategy_name.get_untracked().trim().to_owned();
        // Saving the strategy this page edits replaces it, as asked; any other stored one of
        // that name is replaced only if the person says so.
        let exists = strategies.read_untracked().iter().any(|(n, _)| *n == name);
        let question = format!(
            "Fleet {} already has an update strategy named {name}. Replace it? Runs created from it keep their copy.",
            fleet.get_value()
        );
        let own = editing.as_deref() == Some(name.as_str());
        if exists && !own && !confirmed(&question) {
            return;
        }
        saving.set(Some((name.clone(), strategy.clone())));
        save.dispatch(SaveStrategy {
            fleet: fleet.get_value(),
            name,
            strategy,
            replace: exists,
        });
    };
    let role = crate::ui::access::refusal(crate::model::access::Role::Admin, &fleet.get_value());
    view! {
        <button type="button" class="secondary" on:click=on_save disabled=move || save.pending().get() || role.get().is_some()
            title=move || role.get().unwrap_or_default()>{label}</button>
        {move || saved.get().map(|name| view! { <p class="ok" role="status">{format!("Saved strategy {name}.")}</p> })}
    }
}
