//! What pages show, computed where the data is: pure and serializable, so the server can fold a
//! run of any size into what a page draws and send only that (a run page of a 100,000-member run
//! gets its stages, groups and counts, not its members).

pub mod diff;
pub mod matrix;
pub mod outline;
pub mod patch;
pub mod timeline;
