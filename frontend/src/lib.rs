//! The browser entry point: hydrate the server-rendered page and nothing else.

#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages loaded lazily (app::ui::pages) hydrate once their module has arrived, so hydration
    // is asynchronous; `hydrate_body` refuses lazy routes.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("a server-rendered page has a body");
        let owner = leptos::mount::hydrate_from_async(body, app::ui::App).await;
        owner.forget();
        app::ui::hydration::hydration_complete();
        // Lets browser tests (and curious people) tell a hydrated page from a server-rendered
        // one.
        let _ = js_sys::Reflect::set(
            &leptos::prelude::window(),
            &"__drydock_hydrated".into(),
            &true.into(),
        );
    });
}
