//! Whether the page has finished hydrating. Hydration is asynchronous, since a lazily loaded
//! page (see `pages`) hydrates once its module has arrived, and effects created before it (the
//! signed-in user, the time zone) may run meanwhile. What they change must wait until the page
//! is hydrated: a control the browser disabled early would not be the markup the server sent,
//! and hydration would stop there.

use leptos::prelude::*;

thread_local! {
    static HYDRATED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// `true` once the whole page is hydrated; an effect that reads it runs again then.
pub fn hydrated() -> bool {
    HYDRATED.with(|hydrated| hydrated.get())
}

/// Called by the browser's entry point when hydration is done.
pub fn hydration_complete() {
    HYDRATED.with(|hydrated| hydrated.set(true));
}
