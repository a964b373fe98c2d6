//! A state shown as a coloured badge that also says the state in words (never colour alone).

use crate::model::run::State;
use leptos::prelude::*;

/// A state in words, e.g. `Not started`.
pub fn state_label(state: State) -> &'static str {
    match state {
        State::NotStarted => "Not started",
        State::Running => "Running",
        State::Stopping => "Stopping",
        State::Stopped => "Stopped",
        State::Skipped => "Skipped",
        State::Failed => "Failed",
        State::Pending => "Pending",
        State::Completed => "Completed",
    }
}

fn state_class(state: State) -> String {
    format!("state state-{}", format!("{state:?}").to_lowercase())
}

#[component]
pub fn StateBadge(state: State) -> impl IntoView {
    view! { <span class=state_class(state) data-state=format!("{state:?}")>{state_label(state)}</span> }
}
