//! Start / Stop for the run, and the Skip button used throughout the tree. Whether each is
//! enabled, and what Start means now (start, resume, retry), is the engine's answer, computed
//! with the run by the server ([`crate::view::outline`]).

use super::RunActions;
use crate::api::{DeleteRun, SkipInRun, StartRun, StopRun};
use crate::engine::{Rejection, Reply, SkipKind, SkipTarget};
use crate::model::access::Role;
use crate::model::error::sentence;
use crate::ui::confirmed;
use crate::ui::error::action_error;
use crate::view::outline::RunOutline;
use leptos::prelude::*;

/// What the Start button says for the engine's answer.
fn start_label(answer: &Result<Reply, Rejection>) -> &'static str {
    match answer {
        Ok(Reply::Resumed) => "Resume",
        Ok(Reply::Retrying { .. }) => "Retry failed members",
        _ => "Start",
    }
}

/// Why a button is disabled, in a sentence (empty when it is not).
fn why_not(answer: &Result<Reply, Rejection>) -> String {
    let why = match answer {
        Ok(Reply::AlreadyRunning) => "the run is already running".to_owned(),
        Ok(Reply::AlreadyStopped) => "the run is already stopping or stopped".to_owned(),
        Ok(_) => return String::new(),
        Err(rejection) => rejection.message().to_owned(),
    };
    sentence(&why)
}

#[component]
pub fn RunControls(run: RunOutline, actions: RunActions) -> impl IntoView {
    let answers = &run.controls;
    let (can_start, can_stop) = (answers.can_start(), answers.can_stop());
    let start_title = why_not(&answers.start);
    let stop_title = why_not(&answers.stop);
    let label = start_label(&answers.start);
    let deletable = run.deletable.clone().map_err(|why| sentence(&why));
    // Nothing can be skipped: the run's state says why, once, here.
    let why_no_skips = run
        .skippable
        .clone()
        .err()
        .map(|why| sentence(why.message()));
    // Reasons in words beside the controls, not only in tooltips (keyboard and touch users see
    // them too).
    let reasons: Vec<(&str, &str, String)> = [
        (
            "why-start",
            label,
            (!can_start).then(|| start_title.clone()),
        ),
        ("why-stop", "Stop", (!can_stop).then(|| stop_title.clone())),
        ("why-skip", "Skip", why_no_skips),
        ("why-delete", "Delete", deletable.clone().err()),
    ]
    .into_iter()
    .filter_map(|(id, what, why)| Some((id, what, why.filter(|w| !w.is_empty())?)))
    .collect();
    // Operators (and admins) change runs; a viewer sees why the buttons are off.
    let role = crate::ui::access::refusal(Role::Operator, &actions.fleet.get_untracked());
    let may = move || role.get().is_none();
    let name = run.summary.name.clone();
    let start = move |_| {
        actions.start.dispatch(StartRun {
            fleet: actions.fleet.get_untracked(),
            run: actions.run.get_untracked(),
        });
    };
    let stop = move |_| {
        let question = format!(
            "Stop run {name}? Upgrades in flight finish; nothing new starts until you start it again."
        );
        if confirmed(&question) {
            actions.stop.dispatch(StopRun {
                fleet: actions.fleet.get_untracked(),
                run: actions.run.get_untracked(),
            });
        }
    };
    let busy = move || actions.start.pending().get() || actions.stop.pending().get();
    let delete = {
        let name = run.summary.name.clone();
        move |_| {
            let question = format!(
                "Delete run {name}? Its record and timeline go; the clusters keep what it did."
            );
            if confirmed(&question) {
                actions.delete.dispatch(DeleteRun {
                    fleet: actions.fleet.get_untracked(),
                    run: actions.run.get_untracked(),
                });
            }
        }
    };
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.delete.value().get() {
            let url = format!("/fleets/{}/updates", actions.fleet.get_untracked());
            navigate(&url, Default::default());
        }
    });
    let can_delete = deletable.is_ok();
    view! {
        <div class="run-controls form-row">
            <button type="button" on:click=start disabled=move || !can_start || busy() || !may() title=start_title aria-describedby="why-start why-role">{label}</button>
            <button type="button" class="secondary danger" on:click=stop disabled=move || !can_stop || busy() || !may() title=stop_title aria-describedby="why-stop why-role">"Stop"</button>
            <button type="button" class="secondary danger delete-run" on:click=delete
                disabled=move || !can_delete || actions.delete.pending().get() || !may() aria-describedby="why-delete why-role">"Delete run"</button>
        </div>
        {move || role.get().map(|why| view! { <p id="why-role" class="why-disabled small" data-testid="why-role">{why}</p> })}
        {(!reasons.is_empty()).then(|| view! {
            <ul class="why-disabled small" data-testid="why-disabled">
                {reasons.into_iter().map(|(id, what, why)| view! { <li id=id><strong>{what}</strong>": " {why}</li> }).collect_view()}
            </ul>
        })}
        {move || action_error(actions.start.value().get())}
        {move || action_error(actions.stop.value().get())}
        {move || action_error(actions.delete.value().get())}
    }
}

/// `member`, `group`, `stage`, `wait after stage` for a question.
fn kind_words(kind: SkipKind) -> &'static str {
    match kind {
        SkipKind::Member => "member",
        SkipKind::Group => "group",
        SkipKind::Stage => "stage",
        SkipKind::AfterStageWait => "the wait after stage",
    }
}

/// A Skip button for one member, group, stage or wait; `allowed` is the engine's answer
/// ([`crate::engine::can_skip`] or, for a member in hand, [`crate::engine::can_skip_member`]).
/// Where the item itself cannot be skipped (it is being upgraded), the reason shows in words
/// instead; where the run allows no skips at all, the run's controls say why, once.
pub fn skip_button(
    allowed: Result<(), Rejection>,
    kind: SkipKind,
    name: String,
    actions: RunActions,
) -> AnyView {
    match allowed {
        Ok(()) => skip_control(kind, name, actions).into_any(),
        Err(Rejection::NotAllowed { .. }) => ().into_any(),
        // A member being upgraded: its row is narrow, so the short form, the whole on hover.
        Err(rejection) if kind == SkipKind::Member => {
            let why = sentence(rejection.message());
            view! { <span class="why-not small muted" title=why>"can't skip while upgrading"</span> }
                .into_any()
        }
        Err(rejection) => {
            view! { <span class="why-not small muted">{sentence(rejection.message())}</span> }
                .into_any()
        }
    }
}

fn skip_control(kind: SkipKind, name: String, actions: RunActions) -> impl IntoView + use<> {
    let target = SkipTarget {
        kind,
        name: name.clone(),
    };
    let mine = {
        let target = target.clone();
        move || actions.last_skip.read().as_ref() == Some(&target)
    };
    let label = format!("Skip {} {name}", kind_words(kind));
    let aria = label.clone();
    let click = move |ev: leptos::ev::MouseEvent| {
        // A group's Skip sits in its <summary>: the click must not also fold the group.
        ev.prevent_default();
        let question = format!("{label}? Skipped work is not done by this run.");
        if confirmed(&question) {
            actions.last_skip.set(Some(target.clone()));
            actions.skip.dispatch(SkipInRun {
                fleet: actions.fleet.get_untracked(),
                run: actions.run.get_untracked(),
                targets: vec![target.clone()],
            });
        }
    };
    let role = crate::ui::access::refusal(Role::Operator, &actions.fleet.get_untracked());
    view! {
        <button type="button" class="link skip" on:click=click aria-label=aria
            disabled=move || role.get().is_some() title=move || role.get().unwrap_or_default()>"Skip"</button>
        {move || mine().then(|| action_error(actions.skip.value().get()))}
    }
}
