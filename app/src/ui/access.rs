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

/// The same user, once known in the browser: what controls read to disable themselves. (A
/// plain signal filled by an effect, so controls outside a `<Suspense/>` can read it; the
/// server renders them enabled and the browser disables them once the page is hydrated.)
#[derive(Clone, Copy)]
struct Known(RwSignal<Option<Caller>>);

pub fn provide_me() {
    let me = Resource::new(|| (), |_| whoami());
    let known = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(Ok(caller)) = me.get()
            && super::hydration::hydrated()
        {
            known.set(caller);
        }
    });
    provide_context(Me(me));
    provide_context(Known(known));
}

/// Why the user may not act with `role` on `fleet`, or `None` when they may (or while it is
/// not known yet: the server decides then).
pub fn refusal(role: Role, fleet: &str) -> Signal<Option<String>> {
    let known = use_context::<Known>();
    let fleet = FleetName::parse(fleet).ok();
    Signal::derive(move || {
        let caller = known?.0.get()?;
        (!caller.may(role, fleet.as_ref())).then(|| caller.why_not(role, fleet.as_ref()))
    })
}

/// Why the controls beside it are off for this user's role, when they are.
#[component]
pub fn WhyNot(reason: Signal<Option<String>>) -> impl IntoView {
    move || {
        reason
            .get()
            .map(|why| view! { <p class="why-disabled small" data-testid="why-role">{why}</p> })
    }
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
                        {caller.may(Role::Admin, None).then(|| view! { <a href="/users" class="audit-link">"Users"</a> })}
                        <a href="/account" class="user" data-testid="signed-in-as">{caller.name.clone()}</a>
                        <form method="post" action="/auth/logout" class="sign-out">
                            <CsrfField/>
                            <button type="submit" class="secondary">"Sign out"</button>
                        </form>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// A role and the fleet it applies on, as form fields named `role` and `fleet` (an empty fleet:
/// every fleet).
#[component]
pub fn RoleFields() -> impl IntoView {
    view! {
        <label>"Role "<select name="role">
            <option value="viewer">"viewer"</option>
            <option value="operator">"operator"</option>
            <option value="admin">"admin"</option>
        </select></label>
        <label>"Fleet "<input name="fleet" class="narrow" placeholder="every fleet"/></label>
    }
}

/// The session's CSRF token as a hidden field: every form that posts with the session cookie
/// carries it (the server checks it on form posts). The server renders it from the request,
/// the browser from the `drydock_csrf` cookie, so both write the same value.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name="csrf_token" value=csrf_token()/> }
}

#[cfg(feature = "ssr")]
fn csrf_token() -> String {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<crate::model::access::CsrfToken>()
                .map(|token| token.0.clone())
        })
        .unwrap_or_default()
}

#[cfg(not(feature = "ssr"))]
fn csrf_token() -> String {
    use leptos::wasm_bindgen::JsValue;
    use leptos::web_sys::js_sys::Reflect;
    let cookies = Reflect::get(&document(), &JsValue::from_str("cookie"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "drydock_csrf")
        .map(|(_, value)| value.to_owned())
        .unwrap_or_default()
}

/// What the sign-in and account pages say for the error code they were sent back with.
fn sign_in_message(code: &str) -> &'static str {
    match code {
        "InvalidPassword" => "The new password must be 12 to 1024 characters long.",
        "PasswordNeedsUser" => "Sign in with your password to change it.",
        "InvalidCredentials" => "The user name or password is wrong.",
        "TooManySignInAttempts" => "Too many failed sign-ins: wait a few minutes and try again.",
        "InvalidSignIn" => "Enter a user name and a password.",
        "CsrfTokenMissing" => "The form was stale: reload the page and try again.",
        "PasswordAtProvider" => {
            "You sign in through an identity provider: change your password there."
        }
        "SsoDenied" => "The identity provider did not sign you in.",
        "SsoSignInVoid" => {
            "That sign-in was not begun in this browser, was used already or took too long: sign in again."
        }
        "SsoTokenRefused" => {
            "The identity provider's answer could not be trusted, so you were not signed in; an admin finds why in Drydock's log."
        }
        "SsoNoRole" => {
            "You signed in, but none of your groups is given a role in Drydock: ask an admin."
        }
        "SsoNameTaken" => {
            "Your user name belongs to another Drydock user, so single sign-on will not take it over: ask an admin."
        }
        "IdentityProviderUnavailable" => {
            "The identity provider cannot be reached now; try again, or sign in with a password."
        }
        _ => "Signing in failed; try again.",
    }
}

/// A plain HTML form posting to `/auth/login`: it works before (and without) the WASM.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    let error = move || query.read().get("error").map(|code| sign_in_message(&code));
    let signed_out = move || {
        let query = query.read();
        if query.get("passwordChanged").is_some() {
            Some("Your password is changed: sign in with the new one.")
        } else {
            query.get("signedOut").map(|_| "You have signed out.")
        }
    };
    view! {
        <Title text="Sign in"/>
        <section class="panel sign-in">
            <h1>"Sign in to Drydock"</h1>
            {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || signed_out().map(|notice| view! { <p class="notice" role="status">{notice}</p> })}
            <form method="post" action="/auth/login">
                <CsrfField/>
                <input type="hidden" name="next" value=next/>
                <label>"User name"<input name="username" autocomplete="username" required autofocus/></label>
                <label>"Password"<input name="password" type="password" autocomplete="current-password" required/></label>
                <button type="submit">"Sign in"</button>
            </form>
            <SingleSignOnButton next=Signal::derive(next)/>
        </section>
    }
}

/// "Sign in with …", when the server has an identity provider: a plain link, so it works
/// before (and without) the WASM.
#[component]
fn SingleSignOnButton(next: Signal<String>) -> impl IntoView {
    let options = Resource::new(|| (), |_| crate::api::sign_in_options());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                options.get().and_then(Result::ok).flatten().map(|name| {
                    let href = format!("/auth/oidc/login?next={}", crate::ui::format::percent_encode(&next.get()));
                    view! {
                        <p class="muted small">"or"</p>
                        // rel=external: the router must not take this link, the server answers it.
                        <a class="button" href=href rel="external" data-testid="single-sign-on">
                            "Sign in with " {name}
                        </a>
                    }
                })
            }}
        </Suspense>
    }
}

/// The user's roles and a form to change their password (`POST /auth/password`, a plain form).
#[component]
pub fn AccountPage() -> impl IntoView {
    let me = use_context::<Me>();
    let query = use_query_map();
    let error = move || query.read().get("error").map(|code| sign_in_message(&code));
    let roles = move || {
        let caller = me
            .and_then(|me| me.0.get())
            .and_then(Result::ok)
            .flatten()?;
        let words: Vec<String> = caller
            .grants
            .iter()
            .map(|g| match &g.fleet {
                Some(fleet) => format!("{} on fleet {fleet}", g.role),
                None => format!("{} on every fleet", g.role),
            })
            .collect();
        Some(format!("{}: {}", caller.name, words.join(", ")))
    };
    // The identity provider of a user who signed in through one: their password is not ours.
    let provider = move || match me?.0.get()?.ok()??.credential {
        Credential::SingleSignOn { issuer } => Some(issuer),
        _ => None,
    };
    view! {
        <Title text="Your account"/>
        <h1>"Your account"</h1>
        <Suspense fallback=|| ()>
            <p data-testid="roles">{roles}</p>
        </Suspense>
        <Suspense fallback=|| ()>
            {move || match provider() {
                Some(issuer) => view! {
                    <section class="panel sign-in" data-testid="password-at-provider">
                        <h2>"Your password"</h2>
                        <p>"You sign in through " <code>{issuer}</code> ": your password is changed there."</p>
                    </section>
                }
                .into_any(),
                None => view! {
                    <section class="panel sign-in">
                        <h2>"Change your password"</h2>
                        {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                        <form method="post" action="/auth/password">
                            <CsrfField/>
                            <label>"Current password"<input name="current_password" type="password" autocomplete="current-password" required/></label>
                            <label>"New password (12 characters at least)"<input name="new_password" type="password" autocomplete="new-password" minlength="12" required/></label>
                            <button type="submit">"Change password"</button>
                        </form>
                        <p class="muted small">"Every session of yours ends, this one too: you sign in again with the new password."</p>
                    </section>
                }
                .into_any(),
            }}
        </Suspense>
        <Tokens/>
    }
}

/// The user's API tokens: made here (the secret shown once), listed, revoked.
#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<crate::api::CreateToken>::new();
    let revoke = ServerAction::<crate::api::RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| crate::api::list_tokens(),
    );
    let made = move || create.value().get().and_then(Result::ok);
    view! {
        <section class="panel">
            <h2>"API tokens"</h2>
            <p class="muted small">"For scripts and the CLI (DRYDOCK_TOKEN): a token can do at most what you can, where it applies."</p>
            <ActionForm action=create>
                <CsrfField/>
                <div class="form-row">
                    <RoleFields/>
                    <label>"Days "<input name="expires_in_days" class="narrow" inputmode="numeric" placeholder="90"/></label>
                    <label>"For "<input name="description" placeholder="what it is for"/></label>
                    <button type="submit">"Create token"</button>
                </div>
            </ActionForm>
            {move || crate::ui::error::action_error(create.value().get())}
            {move || made().map(|created| view! {
                <p class="notice" role="status" data-testid="new-token">
                    "Token " {created.token.id.clone()} ": " <code>{created.secret.clone()}</code>
                    " — copy it now: it is not shown again."
                </p>
            })}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(error) => view! { <crate::ui::error::ErrorMessage error/> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table data-testid="tokens">
                                <thead><tr><th>"Token"</th><th>"Owner"</th><th>"Role"</th><th>"For"</th><th>"State"</th><th>"Expires"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| {
                                        let id = t.id.clone();
                                        let scope = t.fleet.as_ref().map_or_else(|| "every fleet".to_owned(), |f| format!("fleet {f}"));
                                        let active = t.state == "Active";
                                        view! {
                                            <tr>
                                                <td><code>{t.id.clone()}</code></td>
                                                <td>{t.owner.clone()}</td>
                                                <td>{format!("{} on {scope}", t.role)}</td>
                                                <td>{t.description.clone()}</td>
                                                <td>{t.state.clone()}</td>
                                                <td>{t.expires.map(|at| view! { <crate::ui::time::When t=at/> })}</td>
                                                <td>{active.then(|| view! {
                                                    <button type="button" class="secondary danger" aria-label=format!("Revoke {id}")
                                                        on:click=move |_| { revoke.dispatch(crate::api::RevokeToken { id: id.clone() }); }>"Revoke"</button>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || crate::ui::error::action_error(revoke.value().get())}
        </section>
    }
}
