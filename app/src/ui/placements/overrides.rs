//! Resource overrides on the Placements page: each listed with the placement it changes and its
//! rules, and an editor that takes KubeFleet's `ResourceOverride` as JSON, checked by the
//! model's own rules as it is typed (the server checks again, and that the placement exists).

use super::super::error::action_error;
use crate::api::{DeleteOverride, OverrideItem, SaveOverride};
use crate::engine::{Candidate, NamedOverride, any_rule_picks};
use crate::model::access::Role;
use crate::model::names::OverrideName;
use crate::model::overrides::ResourceOverride;
use crate::ui::access::{WhyNot, refusal};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// What the editor's two fields make, or what is wrong, by field.
pub fn checked_override(name: &str, text: &str) -> Result<(String, ResourceOverride), String> {
    OverrideName::parse(name.trim()).map_err(|why| format!("Name: {why}"))?;
    let spec: ResourceOverride =
        serde_json::from_str(text).map_err(|why| format!("Override: {why}"))?;
    spec.checked().map_err(|why| format!("Override: {why}"))?;
    Ok((name.trim().to_owned(), spec))
}

/// For each member of `candidates`, the overrides of `placement` whose rules pick it (by name):
/// what the preview says a member's objects are changed by.
pub fn overrides_picking(
    placement: &str,
    overrides: &[OverrideItem],
    candidates: &[Candidate],
) -> BTreeMap<String, Vec<String>> {
    let mine: Vec<NamedOverride> = overrides
        .iter()
        .filter(|o| o.spec.placement.as_str() == placement)
        .map(|o| NamedOverride {
            name: o.name.clone(),
            etag: 0,
            spec: o.spec.clone(),
        })
        .collect();
    candidates
        .iter()
        .map(|candidate| {
            let names = mine
                .iter()
                .filter(|o| any_rule_picks(candidate, std::slice::from_ref(*o)))
                .map(|o| o.name.clone())
                .collect();
            (candidate.name.clone(), names)
        })
        .filter(|(_, names): &(String, Vec<String>)| !names.is_empty())
        .collect()
}

const EXAMPLE: &str = r#"{"placement": "web", "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"region": "eu"}}}]}, "jsonPatchOverrides": [{"op": "replace", "path": "/data/region", "value": "eu"}]}]}}"#;

#[component]
pub fn Overrides(
    fleet: Memo<String>,
    overrides: Vec<OverrideItem>,
    save: ServerAction<SaveOverride>,
    delete: ServerAction<DeleteOverride>,
) -> impl IntoView {
    let role = refusal(Role::Admin, &fleet.get_untracked());
    let name = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let checked = Memo::new(move |_| checked_override(&name.get(), &text.get()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok((name, spec)) = checked.get_untracked() {
            save.dispatch(SaveOverride {
                fleet: fleet.get_untracked(),
                name,
                spec,
            });
        }
    };
    let listed = overrides.into_iter().map(|item| {
        let json = serde_json::to_string_pretty(&item.spec).unwrap_or_default();
        let rules = item.spec.policy.override_rules.len();
        let edit = {
            let (item_name, json) = (item.name.clone(), json.clone());
            move |_| {
                name.set(item_name.clone());
                text.set(json.clone());
            }
        };
        let remove = {
            let item_name = item.name.clone();
            move |_| {
                let question = format!("Delete resource override {item_name}? Its members get their objects without it at the next rollout.");
                if crate::ui::confirmed(&question) {
                    delete.dispatch(DeleteOverride {
                        fleet: fleet.get_untracked(),
                        name: item_name.clone(),
                    });
                }
            }
        };
        view! {
            <li data-override=item.name.clone()>
                <strong>{item.name.clone()}</strong>
                {format!(" changes placement {} ({} rule{})", item.spec.placement, rules, if rules == 1 { "" } else { "s" })}
                " " <button type="button" class="link" on:click=edit aria-label=format!("Edit override {}", item.name)>"Edit"</button>
                " " <button type="button" class="link" on:click=remove aria-label=format!("Delete override {}", item.name)
                    disabled=move || role.get().is_some()>"Delete"</button>
                <details><summary class="small">"As JSON"</summary><pre class="small">{json}</pre></details>
            </li>
        }
    }).collect_view();
    view! {
        <section class="panel" aria-label="Resource overrides">
            <h2>"Resource overrides"</h2>
            <p class="muted small">"Per-member changes to a placement's objects, applied after scheduling: JSON patches, or Delete, for the members each rule's clusterSelector picks (KubeFleet's ResourceOverride)."</p>
            <ul class="overrides">{listed}</ul>
            <WhyNot reason=role/>
            <form class="form-row" on:submit=submit aria-label="Resource override">
                <div class="field">
                    <label for="override-name">"Override name"</label>
                    <input id="override-name" autocomplete="off" placeholder="eu" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field wide">
                    <label for="override-spec">"Override (JSON)"</label>
                    <textarea id="override-spec" rows="8" spellcheck="false" placeholder=EXAMPLE prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </div>
                <p class="field-error" role="alert">{move || checked.get().err().filter(|_| !text.get().is_empty())}</p>
                <button type="submit" disabled=move || save.pending().get() || role.get().is_some() || checked.get().is_err()>
                    {move || if save.pending().get() { "Saving…" } else { "Save override" }}
                </button>
            </form>
            {move || action_error(save.value().get())}
            {move || action_error(delete.value().get())}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_says_which_field_is_wrong() {
        let (name, spec) = checked_override(" eu ", EXAMPLE).unwrap();
        assert_eq!(name, "eu");
        assert_eq!(spec.placement.as_str(), "web");
        assert!(
            checked_override("Bad Name", EXAMPLE)
                .unwrap_err()
                .starts_with("Name: ")
        );
        assert!(
            checked_override("eu", "{")
                .unwrap_err()
                .starts_with("Override: ")
        );
        let identity = EXAMPLE.replace("/data/region", "/metadata/name");
        let refused = checked_override("eu", &identity).unwrap_err();
        assert!(refused.starts_with("Override: "), "{refused}");
    }
}
