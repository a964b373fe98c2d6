//! Domain types shared by the server and the browser. Plain data with serde; no IO.

pub mod access;
pub mod audit;
pub mod auto_upgrade;
pub mod catalog;
pub mod cluster;
pub mod error;
pub mod forecast;
pub mod gate;
pub mod limits;
pub mod member;
pub mod names;
pub mod overrides;
pub mod overview;
pub mod placement;
pub mod precondition;
pub mod resources;
pub mod rollout;
pub mod run;
#[cfg(feature = "ssr")]
mod schema;
pub mod selector;
pub mod status;
pub mod strategy;
pub mod target;
pub mod time;
pub mod update;
pub mod version;
pub mod window;
