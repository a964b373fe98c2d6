//! The list of fleets, the first page a person sees.

use super::error::ErrorMessage;
use super::format::count;
use crate::api::list_fleets;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn FleetsPage() -> impl IntoView {
    let fleets = Resource::new(|| (), |()| list_fleets());
    view! {
        <Title text="Fleets"/>
        <section class="panel">
            <h1>"Fleets"</h1>
            <Transition fallback=|| view! { <p class="loading">"Loading fleets…"</p> }>
                {move || Suspend::new(async move {
                    match fleets.await {
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">
                                "No fleets yet. Create one with "
                                <code>"PUT /api/v1/fleets/{name}"</code>
                                ", or start the server with --demo."
                            </p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="fleet-list">
                                {list.into_iter().map(|fleet| {
                                    let href = format!("/fleets/{}", fleet.name);
                                    let members = count(fleet.member_count as usize, "member", "members");
                                    view! {
                                        <li>
                                            <A href=href>{fleet.name.to_string()}</A>
                                            <span class="muted">{members}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
