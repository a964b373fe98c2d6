//! The browser UI: one module per page. Pages read through server functions into `Resource`s
//! and write through `ServerAction`s; nothing here decides a rule the model or engine owns.

mod access;
mod audit;
mod badge;
mod builder;
mod error;
mod fleet;
mod fleets;
pub mod format;
mod gates;
pub mod hydration;
mod pages;
mod placements;
mod run;
mod time;
mod updates;
mod users;

use leptos::prelude::*;
use leptos_meta::{Link, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};
use pages::*;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// What a page may load and run: its own files, the WASM it instantiates, and only the inline
/// scripts Leptos writes, which carry this response's nonce. An injected `<script>` or `on…`
/// attribute does not run; no other site may frame the page or receive its forms.
#[cfg(feature = "ssr")]
fn set_page_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    time::provide_zone();
    access::provide_me();
    view! {
        <Stylesheet id="drydock" href="/pkg/drydock.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|page: String| {
            if page.is_empty() { "Drydock".to_owned() } else { format!("{page} · Drydock") }
        }/>
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"Drydock"</A>
                <span class="tagline">"Staged upgrades for Kubernetes fleets"</span>
                <span class="spacer"></span>
                // A server page, not one of the app's: the browser loads it whole.
                <a href="/api/docs" class="audit-link" rel="external">"API"</a>
                <access::UserMenu/>
            </header>
            <main>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=fleets::FleetsPage/>
                    <Route path=path!("/login") view=access::SignInPage/>
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()}/>
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()}/>
                    <Route path=path!("/users") view={Lazy::<UsersRoute>::new()}/>
                    <Route path=path!("/fleets/:fleet") view=fleet::FleetPage ssr=SsrMode::Async/>
                    <Route path=path!("/fleets/:fleet/updates") view={Lazy::<UpdatesRoute>::new()}/>
                    <Route path=path!("/fleets/:fleet/placements") view={Lazy::<PlacementsRoute>::new()}/>
                    // Pages that answer 404 for what is not there wait for their data before
                    // the response starts (a streamed response's status is already sent).
                    <Route path=path!("/fleets/:fleet/updates/new") view={Lazy::<NewRunRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/fleets/:fleet/updates/strategies/new") view={Lazy::<StrategyRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/fleets/:fleet/updates/strategies/:name/edit") view={Lazy::<StrategyRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/fleets/:fleet/updates/runs/:run") view={Lazy::<RunRoute>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}

/// Asks the person to confirm a consequential action (stop, skip, delete, remove).
pub fn confirmed(question: &str) -> bool {
    window().confirm_with_message(question).unwrap_or(false)
}

/// Answers the page being rendered on the server with 404 (what was asked for is not there).
pub fn not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

#[component]
fn NotFound() -> impl IntoView {
    not_found_status();
    view! {
        <Title text="Not found"/>
        <section class="panel">
            <h1>"Page not found"</h1>
            <p><A href="/">"Back to the fleets"</A></p>
        </section>
    }
}
