//! Who is using the page: the sign-in page, the user and sign-out in the top bar, the banner
//! when sign-in is off, and the reason a control is disabled for the user's role. The server
//! checks every call itself; this only saves people from buttons that would be refused.

use crate::api::whoami;
use crate::model::access::{Caller, Credential, Role};
use crate::model::error::AppError;
use crate::model::names::FleetName;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The page's user, fetched once per page load.
#[derive(Clone, Copy)]
pub struct Me(Resource<Result<Option<Caller>, AppError>>);

pub fn provide_me() {
    provide_context(Me(Resource::new(|| (), |_| whoami())));
}

/// Why the user may not act with `role` on `fleet`, or `None` when they may (or while it is
/// not known yet: the server decides then).
pub fn refusal(role: Role, fleet: &str) -> Signal<Option<String>> {
    let me = use_context::<Me>();
    let fleet = FleetName::parse(fleet).ok();
    Signal::derive(move || {
        let caller = me?.0.get()?.ok()??;
        (!caller.may(role, fleet.as_ref())).then(|| caller.why_not(role, fleet.as_ref()))
    })
}

/// The user's name and a sign-out button, or the warning that sign-in is off.
#[component]
pub fn UserMenu() -> impl IntoView {
    let me = use_context::<Me>();
    view! {
        <Suspense fallback=|| ()>
            {move || me.and_then(|me| me.0.get()).and_then(Result::ok).flatten().map(|caller| {
                if caller.credential == Credential::AuthDisabled {
                    view! {
                        <span class="auth-off" role="status">
                            "Sign-in is off (--auth none): everyone who reaches this server is an admin."
                        </span>
                    }.into_any()
                } else {
                    view! {
                        <a href="/audit" class="audit-link">"Audit"</a>
                        <span class="user" data-testid="signed-in-as">{caller.name.clone()}</span>
                        <form method="post" action="/auth/logout" class="sign-out">
                            <button type="submit" class="secondary">"Sign out"</button>
                        </form>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// What the sign-in page says for the error code it was sent back with.
fn sign_in_message(code: &str) -> &'static str {
    match code {
        "InvalidCredentials" => "The user name or password is wrong.",
        "TooManySignInAttempts" => "Too many failed sign-ins: wait a few minutes and try again.",
        "InvalidSignIn" => "Enter a user name and a password.",
        _ => "Signing in failed; try again.",
    }
}

/// A plain HTML form posting to `/auth/login`: it works before (and without) the WASM.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    let error = move || query.read().get("error").map(|code| sign_in_message(&code));
    let signed_out = move || query.read().get("signedOut").is_some();
    view! {
        <Title text="Sign in"/>
        <section class="panel sign-in">
            <h1>"Sign in to Drydock"</h1>
            {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || signed_out().then(|| view! { <p class="notice" role="status">"You have signed out."</p> })}
            <form method="post" action="/auth/login">
                <input type="hidden" name="next" value=next/>
                <label>"User name"<input name="username" autocomplete="username" required autofocus/></label>
                <label>"Password"<input name="password" type="password" autocomplete="current-password" required/></label>
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}
