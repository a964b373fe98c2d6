//! Member actions: join a member, assign selected members to an update group. What a person
//! typed lives in page-level signals, so a failed submit or a refetch loses nothing.

use super::super::error::action_error;
use crate::api::{AssignGroup, JoinMember};
use crate::model::access::Role;
use crate::ui::access::{WhyNot, refusal};
use leptos::prelude::*;
use std::collections::BTreeSet;

/// The join form's fields.
#[derive(Clone, Copy)]
pub struct JoinDraft {
    pub name: RwSignal<String>,
    pub cluster: RwSignal<String>,
    pub group: RwSignal<String>,
}

impl JoinDraft {
    pub fn new() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            cluster: RwSignal::new(String::new()),
            group: RwSignal::new(String::new()),
        }
    }

    pub fn clear(self) {
        self.name.set(String::new());
        self.cluster.set(String::new());
        self.group.set(String::new());
    }
}

/// A text input bound to a signal.
#[component]
fn Field(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] list: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name list=list placeholder=placeholder required=required autocomplete="off"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        </div>
    }
}

/// Lists of suggestions for the forms' inputs (existing groups, clusters not yet joined).
#[component]
pub fn Suggestions(groups: Vec<String>, joinable: Vec<String>) -> impl IntoView {
    view! {
        <datalist id="fleet-groups">
            {groups.into_iter().map(|g| view! { <option value=g/> }).collect_view()}
        </datalist>
        <datalist id="joinable-clusters">
            {joinable.into_iter().map(|c| view! { <option value=c/> }).collect_view()}
        </datalist>
    }
}

#[component]
pub fn JoinMemberForm(
    fleet: Signal<String>,
    draft: JoinDraft,
    action: ServerAction<JoinMember>,
) -> impl IntoView {
    let pending = action.pending();
    let role = refusal(Role::Admin, &fleet.get_untracked());
    view! {
        <section class="panel">
            <h2>"Join a member"</h2>
            <WhyNot reason=role/>
            <ActionForm action attr:class="form-row" attr:aria-label="Join a member">
                <crate::ui::access::CsrfField/>
                <input type="hidden" name="fleet" prop:value=move || fleet.get()/>
                <Field id="join-name" name="name" label="Member name" value=draft.name required=true placeholder="member-1"/>
                <Field id="join-cluster" name="cluster_resource_id" label="Cluster resource ID" value=draft.cluster
                    list="joinable-clusters" required=true placeholder="sim:aks-eastus-1"/>
                <Field id="join-group" name="group" label="Update group (optional)" value=draft.group
                    list="fleet-groups" placeholder="group-1a"/>
                <button type="submit" disabled=move || pending.get() || role.get().is_some()>"Join member"</button>
            </ActionForm>
            {move || action_error(action.value().get())}
        </section>
    }
}

#[component]
pub fn AssignGroupBar(
    fleet: Signal<String>,
    group: RwSignal<String>,
    action: ServerAction<AssignGroup>,
    selected: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let pending = action.pending();
    let role = refusal(Role::Admin, &fleet.get_untracked());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let members = selected.get_untracked().into_iter().collect();
        action.dispatch(AssignGroup {
            fleet: fleet.get_untracked(),
            members,
            group: group.get_untracked(),
        });
    };
    view! {
        <form class="form-row toolbar" on:submit=submit aria-label="Assign update group">
            <span class="selected-count" aria-live="polite">{move || format!("{} selected", selected.read().len())}</span>
            <Field id="assign-group" name="group" label="Update group" value=group list="fleet-groups"
                placeholder="group-1a — empty for none"/>
            <button type="submit" disabled=move || selected.read().is_empty() || pending.get() || role.get().is_some()
                title=move || role.get().unwrap_or_default()>"Assign update group"</button>
        </form>
    }
}
