//! The heavier pages, and those most visits never open, are loaded when first shown: the
//! bundle's main module holds the shell, the router, the fleet pages and sign-in, and each of
//! these pages' own code (the builder and its engine, the run page, …) is a module of its own
//! (`scripts/dev` splits the bundle at these points with `drydock-wasm-split`). The server
//! renders each page whole, and names the modules the page needs in its `<head>`, so the
//! browser fetches them beside the main module, not after it.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

/// `pub struct $route`: the lazily loaded route that shows `<$page/>`. A page reads its data
/// itself (its resources), so the route has none of its own.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(UpdatesRoute, super::updates::UpdatesPage);
lazy_page!(PlacementsRoute, super::placements::PlacementsPage);
lazy_page!(NewRunRoute, super::builder::NewRunPage);
lazy_page!(StrategyRoute, super::builder::StrategyPage);
lazy_page!(RunRoute, super::run::RunPage);
lazy_page!(UsersRoute, super::users::UsersPage);
lazy_page!(AuditRoute, super::audit::AuditPage);
lazy_page!(AccountRoute, super::access::AccountPage);
