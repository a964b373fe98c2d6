//! The browser entry point: hydrate the server-rendered page and nothing else.

#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::ui::App);
    // Lets browser tests (and curious people) tell a hydrated page from a server-rendered one.
    let _ = js_sys::Reflect::set(
        &leptos::prelude::window(),
        &"__drydock_hydrated".into(),
        &true.into(),
    );
}
