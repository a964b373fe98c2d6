//! The audit entry of the write being served, carried with it so the store writes the entry in
//! the same transaction as the change it describes: a change is never committed without its
//! entry, and an entry that says `Succeeded` describes a change that was committed. The web
//! layer (`web/audit.rs`) opens a [`Ticket`] for every write request and serves the request
//! within it; every store method that carries out a requested change takes a [`Stamp`] in its
//! transaction and confirms it after committing. A run command crosses to the run's driver with
//! its ticket (`runtime::Order`), so the run's save carries it. A request that changes nothing
//! (refused, invalid, failed) gets its entry after it is answered.

use crate::store::audit::NewAudit;
use std::sync::{Arc, Mutex};

tokio::task_local! {
    static TICKET: Arc<Ticket>;
}

/// One write request's entry: what it is, and its id once written with a change.
#[derive(Debug)]
pub struct Ticket {
    entry: Mutex<NewAudit>,
    written: Mutex<Option<i64>>,
}

impl Ticket {
    pub fn new(entry: NewAudit) -> Arc<Self> {
        Arc::new(Self {
            entry: Mutex::new(entry),
            written: Mutex::new(None),
        })
    }

    /// The entry's id when a change was committed with it.
    pub fn written(&self) -> Option<i64> {
        *self.written.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn entry(&self) -> NewAudit {
        self.entry.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Runs `work` with `ticket` as the entry of the write it carries out.
pub async fn serving<F: std::future::Future>(ticket: Arc<Ticket>, work: F) -> F::Output {
    TICKET.scope(ticket, work).await
}

/// The ticket of the write being served here, if any.
pub fn current() -> Option<Arc<Ticket>> {
    TICKET.try_with(Arc::clone).ok()
}

/// Names the actor of a sign-in (the user name tried), before its session is written.
pub fn name_actor(name: &str) {
    if let Some(ticket) = current() {
        ticket.entry.lock().unwrap_or_else(|e| e.into_inner()).actor = name.to_owned();
    }
}

/// The ticket whose entry a transaction should carry: the write being served here, unless an
/// earlier transaction of it carried the entry already.
pub fn unwritten() -> Option<Arc<Ticket>> {
    current().filter(|t| t.written().is_none())
}

/// The entry written in a transaction, to be confirmed once that transaction commits.
#[must_use = "confirm the stamp after the transaction commits"]
pub struct Stamp(Option<(Arc<Ticket>, i64)>);

impl Stamp {
    pub(crate) fn none() -> Self {
        Self(None)
    }

    pub(crate) fn of(ticket: Arc<Ticket>, id: i64) -> Self {
        Self(Some((ticket, id)))
    }

    /// The id of the entry written, if one was.
    pub fn id(&self) -> Option<i64> {
        self.0.as_ref().map(|(_, id)| *id)
    }

    /// The transaction committed: the ticket's entry is written.
    pub fn confirm(self) {
        if let Some((ticket, id)) = self.0 {
            *ticket.written.lock().unwrap_or_else(|e| e.into_inner()) = Some(id);
        }
    }
}
