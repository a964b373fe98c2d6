//! The Profiles tab: auto-upgrade profiles (the channel a fleet follows, the strategy its runs
//! go through), what each last did, and a form to create or change one. What a person typed
//! lives in tab-level signals, so a failed save or a refetch loses nothing.

use super::super::error::{ErrorMessage, action_error};
use crate::api::{DeleteProfile, GenerateRun, SaveProfile, list_profiles, list_strategies};
use crate::model::access::Role;
use crate::model::auto_upgrade::{
    AutoUpgradeNodeImageSelection, AutoUpgradeNodeImageSelectionType, AutoUpgradeProfile,
    AutoUpgradeProfileStatus, MinorVersion, ProfileView, TriggerStatus, UpgradeChannel,
};
use crate::model::names::AutoUpgradeProfileName;
use crate::ui::access::{WhyNot, refusal};
use crate::ui::time::When;
use leptos::prelude::*;

const CHANNELS: [(&str, &str); 5] = [
    (
        "Stable",
        "Stable: the newest patch of the minor before the newest",
    ),
    ("Rapid", "Rapid: the newest patch of the newest minor"),
    ("NodeImage", "Node image: the newest node images only"),
    (
        "TargetKubernetesVersion",
        "Target Kubernetes version: the newest patch of a minor",
    ),
    ("SecurityPatch", "Security patch: Linux node images only"),
];

/// How a channel reads in a list.
pub fn channel_label(profile: &AutoUpgradeProfile) -> String {
    match (profile.channel, profile.target_kubernetes_version) {
        (UpgradeChannel::TargetKubernetesVersion, Some(minor)) if profile.long_term_support => {
            format!("Kubernetes {minor} (long-term support)")
        }
        (UpgradeChannel::TargetKubernetesVersion, Some(minor)) => format!("Kubernetes {minor}"),
        (UpgradeChannel::TargetKubernetesVersion, None) => "a target version".into(),
        (UpgradeChannel::NodeImage, _) => "node images".into(),
        (UpgradeChannel::SecurityPatch, _) => "security patches".into(),
        (channel, _) => format!("the {channel:?} channel"),
    }
}

/// `Follows the Stable channel with Latest node images, one member at a time; runs wait to be
/// started.`
pub fn describe(profile: &AutoUpgradeProfile) -> String {
    let images = match profile.node_image_selection.kind {
        AutoUpgradeNodeImageSelectionType::Latest => "Latest",
        AutoUpgradeNodeImageSelectionType::Consistent => "Consistent",
    };
    let through = match &profile.update_strategy_id {
        Some(id) => format!("through strategy {}", id.rsplit('/').next().unwrap_or(id)),
        None => "one member at a time".into(),
    };
    let start = match profile.auto_start {
        true => "runs start at once",
        false => "runs wait to be started",
    };
    format!(
        "Follows {} with {images} node images, {through}; {start}.",
        channel_label(profile)
    )
}

/// The last trigger in words: what it generated, why it waited, or why it failed.
pub fn last_trigger(status: &AutoUpgradeProfileStatus) -> Option<(bool, String)> {
    let failed = status.last_trigger_status == Some(TriggerStatus::Failed);
    let words = match (&status.last_trigger_error, &status.last_trigger_message) {
        (Some(error), _) => format!("{}: {}", error.code, error.message),
        (None, Some(message)) => message.clone(),
        (None, None) => return None,
    };
    Some((failed, words))
}

/// The form's fields.
#[derive(Clone, Copy)]
struct ProfileDraft {
    name: RwSignal<String>,
    channel: RwSignal<String>,
    target: RwSignal<String>,
    lts: RwSignal<bool>,
    images: RwSignal<String>,
    strategy: RwSignal<String>,
    auto_start: RwSignal<bool>,
    disabled: RwSignal<bool>,
}

impl ProfileDraft {
    fn new() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            channel: RwSignal::new("Stable".into()),
            target: RwSignal::new(String::new()),
            lts: RwSignal::new(false),
            images: RwSignal::new("Latest".into()),
            strategy: RwSignal::new(String::new()),
            auto_start: RwSignal::new(false),
            disabled: RwSignal::new(false),
        }
    }

    /// The form filled with a stored profile, to change it.
    fn fill(self, view: &ProfileView) {
        let p = &view.profile;
        self.name.set(view.name.clone());
        self.channel.set(format!("{:?}", p.channel));
        self.target.set(
            p.target_kubernetes_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
        );
        self.lts.set(p.long_term_support);
        self.images
            .set(format!("{:?}", p.node_image_selection.kind));
        let strategy = p.update_strategy_id.as_deref().unwrap_or_default();
        self.strategy
            .set(strategy.rsplit('/').next().unwrap_or_default().to_owned());
        self.auto_start.set(p.auto_start);
        self.disabled.set(p.disabled);
    }

    /// The profile the form describes, checked by the same rules as the server's.
    fn profile(self) -> Result<(String, AutoUpgradeProfile), String> {
        let name = self.name.get();
        AutoUpgradeProfileName::parse(&name)?;
        let quoted = |text: String| format!("\"{text}\"");
        let channel: UpgradeChannel =
            serde_json::from_str(&quoted(self.channel.get())).map_err(|e| e.to_string())?;
        let kind: AutoUpgradeNodeImageSelectionType =
            serde_json::from_str(&quoted(self.images.get())).map_err(|e| e.to_string())?;
        let target = self.target.get();
        let target_kubernetes_version = match target.trim() {
            "" => None,
            text => Some(MinorVersion::parse(text)?),
        };
        let strategy = self.strategy.get();
        let profile = AutoUpgradeProfile {
            update_strategy_id: (!strategy.is_empty()).then_some(strategy),
            channel,
            node_image_selection: AutoUpgradeNodeImageSelection { kind },
            disabled: self.disabled.get(),
            target_kubernetes_version,
            long_term_support: self.lts.get(),
            auto_start: self.auto_start.get(),
        };
        profile.checked()?;
        Ok((name, profile))
    }
}

#[component]
pub fn ProfilesTab(fleet: Memo<String>) -> impl IntoView {
    let save = ServerAction::<SaveProfile>::new();
    let delete = ServerAction::<DeleteProfile>::new();
    let generate = ServerAction::<GenerateRun>::new();
    let profiles = Resource::new(
        move || {
            (
                fleet.get(),
                save.version().get(),
                delete.version().get(),
                generate.version().get(),
            )
        },
        |(fleet, ..)| list_profiles(fleet),
    );
    let draft = ProfileDraft::new();
    view! {
        <section class="panel">
            <h2>"Auto-upgrade profiles"</h2>
            <p class="muted small">"A profile keeps the fleet on a channel: when the catalog offers what the channel wants, it generates an update run through its strategy (checked every minute; "<code>"drydock autoupgradeprofile"</code>" does the same from a terminal)."</p>
            {move || action_error(delete.value().get())}
            {move || generated(fleet.get(), generate.value().get())}
            <Transition fallback=|| view! { <p class="loading">"Loading profiles…"</p> }>
                {move || Suspend::new(async move {
                    match profiles.await {
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No auto-upgrade profiles yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="strategy-list profile-list">
                                {list.into_iter().map(|view| view! { <ProfileItem fleet view draft save delete generate/> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <ProfileForm fleet draft save/>
    }
}

/// After `generateUpdateRun`: a link to the run, or why there was none.
fn generated(
    fleet: String,
    result: Option<Result<String, crate::model::error::AppError>>,
) -> Option<AnyView> {
    Some(match result? {
        Ok(run) => view! {
            <p class="notice" role="status">"Update run "
                <a href=format!("/fleets/{fleet}/updates/runs/{run}")>{run.clone()}</a>
                " is the profile's run for what its channel offers now."</p>
        }
        .into_any(),
        Err(error) => view! { <ErrorMessage error/> }.into_any(),
    })
}

#[component]
fn ProfileItem(
    fleet: Memo<String>,
    view: ProfileView,
    draft: ProfileDraft,
    save: ServerAction<SaveProfile>,
    delete: ServerAction<DeleteProfile>,
    generate: ServerAction<GenerateRun>,
) -> impl IntoView {
    let name = view.name.clone();
    let admin = refusal(Role::Admin, &fleet.get_untracked());
    let operator = refusal(Role::Operator, &fleet.get_untracked());
    let busy = move || save.pending().get() || delete.pending().get() || generate.pending().get();
    let toggled = {
        let mut profile = view.profile.clone();
        profile.disabled = !profile.disabled;
        profile
    };
    let toggle_label = if view.profile.disabled {
        "Enable"
    } else {
        "Disable"
    };
    let on_toggle = {
        let name = name.clone();
        move |_| {
            save.dispatch(SaveProfile {
                fleet: fleet.get_untracked(),
                name: name.clone(),
                profile: toggled.clone(),
            });
        }
    };
    let on_generate = {
        let name = name.clone();
        move |_| {
            generate.dispatch(GenerateRun {
                fleet: fleet.get_untracked(),
                name: name.clone(),
            });
        }
    };
    let on_delete = {
        let name = name.clone();
        move |_| {
            let question =
                format!("Delete auto-upgrade profile {name}? The runs it generated stay.");
            if crate::ui::confirmed(&question) {
                delete.dispatch(DeleteProfile {
                    fleet: fleet.get_untracked(),
                    name: name.clone(),
                });
            }
        }
    };
    let on_edit = {
        let view = view.clone();
        move |_| draft.fill(&view)
    };
    let aria = |verb: &str| format!("{verb} profile {name}");
    let trigger = last_trigger(&view.status).map(|(failed, words)| {
        let at = view.status.last_triggered_at.map(|t| view! { " · " <When t/> });
        view! { <p class=if failed { "field-error" } else { "muted small" }>"Last trigger: " {words} {at}</p> }
    });
    view! {
        <li data-profile=name.clone()>
            <strong>{name.clone()}</strong>
            {view.profile.disabled.then(|| view! { " " <span class="warn-badge">"disabled"</span> })}
            <span class="item-actions">
                <button type="button" class="link" on:click=on_generate aria-label=aria("Generate a run from")
                    disabled=move || busy() || operator.get().is_some()>"Generate run now"</button>
                <button type="button" class="link" on:click=on_edit aria-label=aria("Edit")
                    disabled=move || admin.get().is_some()>"Edit"</button>
                <button type="button" class="link" on:click=on_toggle aria-label=aria(toggle_label)
                    disabled=move || busy() || admin.get().is_some()>{toggle_label}</button>
                <button type="button" class="link danger" on:click=on_delete aria-label=aria("Delete")
                    disabled=move || busy() || admin.get().is_some()>"Delete"</button>
            </span>
            <p>{describe(&view.profile)}</p>
            {trigger}
        </li>
    }
}

#[component]
fn ProfileForm(
    fleet: Memo<String>,
    draft: ProfileDraft,
    save: ServerAction<SaveProfile>,
) -> impl IntoView {
    let strategies = Resource::new(move || fleet.get(), list_strategies);
    let role = refusal(Role::Admin, &fleet.get_untracked());
    let pending = save.pending();
    let checked = Memo::new(move |_| draft.profile());
    // A save that went through leaves the form without a name, for the next profile.
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            draft.name.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok((name, profile)) = checked.get_untracked() {
            save.dispatch(SaveProfile {
                fleet: fleet.get_untracked(),
                name,
                profile,
            });
        }
    };
    let targeted = move || draft.channel.get() == "TargetKubernetesVersion";
    view! {
        <section class="panel">
            <h2>"Create or change a profile"</h2>
            <WhyNot reason=role/>
            <form class="form-row" on:submit=submit aria-label="Auto-upgrade profile">
                <div class="field">
                    <label for="profile-name">"Name"</label>
                    <input id="profile-name" required=true autocomplete="off" placeholder="stable" maxlength="30"
                        prop:value=move || draft.name.get() on:input=move |ev| draft.name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="profile-channel">"Channel"</label>
                    <select id="profile-channel" on:change=move |ev| draft.channel.set(event_target_value(&ev))
                        prop:value=move || draft.channel.get()>
                        {CHANNELS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                    </select>
                </div>
                <Show when=targeted>
                <div class="field">
                    <label for="profile-target">"Target Kubernetes version"</label>
                    <input id="profile-target" placeholder="1.30" autocomplete="off"
                        prop:value=move || draft.target.get() on:input=move |ev| draft.target.set(event_target_value(&ev))/>
                    <label class="check"><input type="checkbox" prop:checked=move || draft.lts.get()
                        on:change=move |ev| draft.lts.set(event_target_checked(&ev))/>" Long-term support"</label>
                </div>
                </Show>
                <div class="field">
                    <label for="profile-images">"Node images"</label>
                    <select id="profile-images" on:change=move |ev| draft.images.set(event_target_value(&ev))
                        prop:value=move || draft.images.get()>
                        <option value="Latest">"Latest: the newest in each member's region"</option>
                        <option value="Consistent">"Consistent: the newest offered in every region"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="profile-strategy">"Strategy"</label>
                    <Transition fallback=|| view! { <select id="profile-strategy" disabled=true><option>"Loading strategies…"</option></select> }>
                        {move || Suspend::new(async move {
                            let names: Vec<String> = strategies.await.unwrap_or_default().into_iter().map(|(name, _)| name).collect();
                            view! {
                                <select id="profile-strategy" on:change=move |ev| draft.strategy.set(event_target_value(&ev))
                                    prop:value=move || draft.strategy.get()>
                                    <option value="">"None: one member at a time"</option>
                                    {names.into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
                                </select>
                            }
                        })}
                    </Transition>
                </div>
                <div class="field">
                    <label class="check"><input type="checkbox" prop:checked=move || draft.auto_start.get()
                        on:change=move |ev| draft.auto_start.set(event_target_checked(&ev))/>" Start generated runs at once"</label>
                    <label class="check"><input type="checkbox" prop:checked=move || draft.disabled.get()
                        on:change=move |ev| draft.disabled.set(event_target_checked(&ev))/>" Disabled (generates only when asked)"</label>
                </div>
                <p class="field-error" role="alert">{move || checked.get().err()}</p>
                <button type="submit" disabled=move || pending.get() || role.get().is_some() || checked.get().is_err()>
                    {move || if pending.get() { "Saving…" } else { "Save profile" }}
                </button>
            </form>
            {move || action_error(save.value().get())}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: &str) -> AutoUpgradeProfile {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_profile_reads_as_what_it_follows_and_how() {
        assert_eq!(
            describe(&profile(r#"{"channel": "Stable"}"#)),
            "Follows the Stable channel with Latest node images, one member at a time; runs wait to be started."
        );
        assert_eq!(
            describe(&profile(
                r#"{"channel": "TargetKubernetesVersion", "targetKubernetesVersion": "1.30", "longTermSupport": true,
                    "updateStrategyId": "/fleets/f/updateStrategies/rings", "nodeImageSelection": {"type": "Consistent"}, "autoStart": true}"#
            )),
            "Follows Kubernetes 1.30 (long-term support) with Consistent node images, through strategy rings; runs start at once."
        );
    }

    #[test]
    fn the_last_trigger_says_what_it_did_or_why_it_failed() {
        let status: AutoUpgradeProfileStatus = serde_json::from_str(
            r#"{"lastTriggerStatus": "Failed", "lastTriggerError": {"code": "NoStableVersion", "message": "no other minor"}}"#,
        )
        .unwrap();
        assert_eq!(
            last_trigger(&status),
            Some((true, "NoStableVersion: no other minor".into()))
        );
        assert_eq!(last_trigger(&AutoUpgradeProfileStatus::default()), None);
    }
}
