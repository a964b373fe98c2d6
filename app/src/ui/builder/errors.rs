//! Where the form says what is wrong: under the field concerned, in the form's words. What the
//! browser can check shows once the person tried to create or save (then follows their edits);
//! what the server refused shows at the field it concerns (or under the buttons), and goes as
//! soon as anything changes, so no stale message stays behind.

use super::checks::{Field, Problems};
use crate::model::error::AppError;
use leptos::prelude::*;

/// What was last tried, which decides the checks shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Create,
    Save,
}

#[derive(Clone, Copy)]
pub struct FormErrors {
    /// The browser's checks for the last attempt (empty before any).
    pub local: Memo<Problems>,
    /// The server's last refusal: at its field, or (`None`) for the form as a whole.
    pub server: RwSignal<Option<(Option<Field>, String)>>,
}

impl FormErrors {
    /// What to say at `field` now, if anything.
    pub fn at(&self, field: Field) -> Option<String> {
        if let Some((Some(at), message)) = self.server.get()
            && at == field
        {
            return Some(message);
        }
        self.local.read().get(&field).cloned()
    }

    /// `aria-invalid` for `field`: `"true"` while something is wrong there.
    pub fn invalid(&self, field: Field) -> impl Fn() -> &'static str + Copy + use<> {
        let errors = *self;
        move || {
            if errors.at(field).is_some() {
                "true"
            } else {
                "false"
            }
        }
    }

    /// A `<details>` section that opens while `field` has a problem, so the input concerned can
    /// be seen and focused.
    pub fn opening_on_problem(&self, field: Field) -> NodeRef<leptos::html::Details> {
        let errors = *self;
        let section = NodeRef::<leptos::html::Details>::new();
        Effect::new(move |_| {
            if errors.at(field).is_some()
                && let Some(details) = section.get()
            {
                details.set_open(true);
            }
        });
        section
    }

    /// The server's refusal that concerns no one field.
    pub fn general(&self) -> Option<String> {
        match self.server.get() {
            Some((None, message)) => Some(message),
            Some((Some(_), _)) | None => None,
        }
    }

    /// Records a refusal from the server, at the field its code concerns.
    pub fn refused(&self, error: &AppError) {
        let field = super::checks::field_of(&error.code);
        self.server.set(Some((field, error.message.clone())));
    }
}

/// The id of the element that shows `field`'s message (inputs point at it).
pub fn message_id(field: Field) -> String {
    format!("{}-error", element_id(field))
}

/// The id of the input for `field`, to focus it.
pub fn element_id(field: Field) -> String {
    match field {
        Field::RunName => "run-name".into(),
        Field::CopyFrom => "copy-from".into(),
        Field::Version => "k8s-version".into(),
        Field::Stages => "add-stage".into(),
        Field::StageName(key) => format!("stage-name-{key}"),
        Field::StageWait(key) => format!("stage-wait-{key}"),
        Field::StageGroups(key) => format!("stage-groups-{key}"),
        Field::StageLimits(key) => format!("stage-concurrency-{key}"),
        Field::StageSelector(key) => format!("stage-selector-{key}"),
        Field::StageGates(key) => format!("stage-gates-{key}"),
        Field::CustomImages => "custom-images".into(),
        Field::DeferHours => "defer-hours".into(),
        Field::RunFailures => "run-failures".into(),
        Field::StrategyName => "strategy-name".into(),
    }
}

/// The message under a field, when there is one.
pub fn field_message(errors: FormErrors, field: Field) -> impl IntoView {
    move || {
        errors.at(field).map(|message| {
            view! { <p class="field-error" id=message_id(field) role="alert">{message}</p> }
        })
    }
}

/// A text field of the form with its label and, under it, what is wrong with it.
#[component]
pub fn TextField(
    field: Field,
    label: &'static str,
    value: RwSignal<String>,
    placeholder: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let errors = expect_context::<FormErrors>();
    let id = element_id(field);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type="text" required=required autocomplete="off" placeholder=placeholder
                aria-invalid=errors.invalid(field) aria-describedby=message_id(field)
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            {field_message(errors, field)}
        </div>
    }
}

/// Moves the keyboard to the first field with a problem, so the person lands where to fix it.
pub fn focus_first(problems: &Problems) {
    let Some(field) = problems.keys().next().copied() else {
        return;
    };
    let id = element_id(field);
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let target = document().get_element_by_id(&id).and_then(|el| {
            // A group list is a fieldset: its first checkbox takes the focus.
            el.query_selector("input").ok().flatten().or(Some(el))
        });
        if let Some(el) = target.and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
