//! Each fleet's members as this server last read them, kept with the fleet's `members_stamp`
//! (migration 0017: every write to a member gives its fleet a fresh random stamp, by trigger,
//! in the write's own transaction). A read asks for the stamp first, one row, and decodes the
//! members again only when it moved. Reading the stamp *before* the members is what keeps this
//! right when a write lands between the two reads: the newer members are then kept under the
//! older stamp, and the next read, seeing the newer stamp, reads them again; never the reverse.
//! Another replica's writes move the same stamp, so its changes are seen on the next read.

use app::model::member::Member;
use app::model::names::FleetName;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One fleet's members, shared: a 100,000-member fleet is read by every overview.
pub type SharedMembers = Arc<Vec<Member>>;

#[derive(Default)]
pub(super) struct MembersCache {
    fleets: Mutex<HashMap<FleetName, (String, SharedMembers)>>,
}

impl MembersCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FleetName, (String, SharedMembers)>> {
        // A map of values replaced whole: a panic elsewhere cannot leave it half-changed.
        self.fleets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The members kept for `fleet`, if they were read under `stamp`.
    pub fn get(&self, fleet: &FleetName, stamp: &str) -> Option<SharedMembers> {
        let fleets = self.lock();
        let (kept, members) = fleets.get(fleet)?;
        (kept == stamp).then(|| Arc::clone(members))
    }

    /// Keeps `members`, read after `stamp` was.
    pub fn put(&self, fleet: &FleetName, stamp: String, members: SharedMembers) {
        self.lock().insert(fleet.clone(), (stamp, members));
    }

    /// Drops what was kept for a fleet that is gone.
    pub fn forget(&self, fleet: &FleetName) {
        self.lock().remove(fleet);
    }
}
