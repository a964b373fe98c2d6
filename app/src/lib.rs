//! Drydock's shared crate: the domain model and engine (pure, also compiled to WASM), the server
//! functions, and the Leptos UI. The `ssr` feature builds it for the server, `hydrate` for the
//! browser.

#![recursion_limit = "256"]

pub mod api;
pub mod engine;
pub mod model;
pub mod ui;
pub mod view;
