//! A finished run's members left behind (pending, skipped by a person, failed, not reached),
//! each with why, and **Create catch-up run**: a run of exactly them to the same targets.

use crate::api::{CreateCatchUpRun, left_behind};
use crate::engine::LeftBehind;
use crate::model::access::Role;
use crate::ui::access::{WhyNot, refusal};
use crate::ui::badge::StateBadge;
use crate::ui::error::{ErrorMessage, action_error};
use leptos::prelude::*;

#[component]
pub fn LeftBehindPanel(fleet: Memo<String>, run: Memo<String>) -> impl IntoView {
    let create = ServerAction::<CreateCatchUpRun>::new();
    let left = Resource::new(move || (fleet.get(), run.get()), |(f, r)| left_behind(f, r));
    let role = refusal(Role::Operator, &fleet.get_untracked());
    let name = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateCatchUpRun {
            fleet: fleet.get_untracked(),
            run: run.get_untracked(),
            name: name.get_untracked(),
        });
    };
    let created = move || {
        let made = create.value().get()?.ok()?;
        let href = format!("/fleets/{}/updates/runs/{made}", fleet.get_untracked());
        Some(
            view! { <p role="status">"Created update run " <a href=href>{made}</a> " (not started)."</p> },
        )
    };
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match left.await {
                    Err(error) => view! { <ErrorMessage error/> }.into_any(),
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section class="panel" aria-label="Left behind">
                            <h2>{format!("Left behind: {}", members(list.len()))}</h2>
                            <ul class="left-behind">
                                {list.into_iter().map(item).collect_view()}
                            </ul>
                            <WhyNot reason=role/>
                            <form class="form-row" on:submit=submit aria-label="Create catch-up run">
                                <div class="field">
                                    <label for="catch-up-name">"Catch-up run's name"</label>
                                    <input id="catch-up-name" autocomplete="off" maxlength="50"
                                        placeholder=move || format!("{}-catch-up", run.get())
                                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                                </div>
                                <button type="submit" disabled=move || create.pending().get() || role.get().is_some()>
                                    "Create catch-up run"
                                </button>
                            </form>
                            <p class="muted small">"Exactly these members, to this run's targets (a Consistent run's images, named), through its stages that hold them."</p>
                            {move || action_error(create.value().get())}
                            {created}
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

fn members(n: usize) -> String {
    match n {
        1 => "1 member".into(),
        n => format!("{n} members"),
    }
}

fn item(left: LeftBehind) -> impl IntoView {
    view! {
        <li data-member=left.name.to_string()>
            <strong>{left.name.to_string()}</strong> " " <StateBadge state=left.state/>
            " " <span class="muted">{left.reason}</span>
        </li>
    }
}
