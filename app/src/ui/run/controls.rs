//! Start / Stop for the run, and the Skip button used throughout the tree. Whether each is
//! enabled, and what Start means now (start, resume, retry), is the engine's answer.

use super::{PageClock, RunActions};
use crate::api::{SkipInRun, StartRun, StopRun};
use crate::engine::{Controls, Rejection, Reply, SkipKind, SkipTarget, controls};
use crate::model::run::UpdateRun;
use crate::ui::confirmed;
use crate::ui::error::action_error;
use leptos::prelude::*;

/// What the Start button says for the engine's answer.
fn start_label(answer: &Result<Reply, Rejection>) -> &'static str {
    match answer {
        Ok(Reply::Resumed) => "Resume",
        Ok(Reply::Retrying { .. }) => "Retry failed members",
        _ => "Start",
    }
}

/// Why a button is disabled, for its tooltip.
fn why_not(answer: &Result<Reply, Rejection>) -> String {
    match answer {
        Ok(Reply::AlreadyRunning) => "The run is already running.".into(),
        Ok(Reply::AlreadyStopped) => "The run is already stopping or stopped.".into(),
        Ok(_) => String::new(),
        Err(rejection) => rejection.message().to_owned(),
    }
}

#[component]
pub fn RunControls(run: UpdateRun, clock: PageClock, actions: RunActions) -> impl IntoView {
    let answers: Controls = controls(&run, clock.now());
    let (can_start, can_stop) = (answers.can_start(), answers.can_stop());
    let start_title = why_not(&answers.start);
    let stop_title = why_not(&answers.stop);
    let label = start_label(&answers.start);
    let name = run.name.clone();
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
    view! {
        <div class="run-controls form-row">
            <button type="button" on:click=start disabled=move || !can_start || busy() title=start_title>{label}</button>
            <button type="button" class="secondary danger" on:click=stop disabled=move || !can_stop || busy() title=stop_title>"Stop"</button>
        </div>
        {move || action_error(actions.start.value().get())}
        {move || action_error(actions.stop.value().get())}
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
pub fn skip_button(
    allowed: Result<(), Rejection>,
    kind: SkipKind,
    name: String,
    actions: RunActions,
) -> impl IntoView + use<> {
    let title = allowed
        .as_ref()
        .err()
        .map(|r| r.message().to_owned())
        .unwrap_or_default();
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
    view! {
        <button type="button" class="link skip" on:click=click disabled=allowed.is_err() title=title aria-label=aria>"Skip"</button>
        {move || mine().then(|| action_error(actions.skip.value().get()))}
    }
}
