//! Where the audit trail is kept (see `app::model::audit`).

use super::StoreResult;
use app::model::audit::{AuditEntry, AuditOutcome, AuditQuery};
use app::model::time::Timestamp;

/// An entry as the request starts.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub at: Timestamp,
    pub actor: String,
    pub credential: String,
    pub action: String,
    pub fleet: Option<String>,
    pub run: Option<String>,
    pub address: String,
}

/// Which fleets' entries a query may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditScope {
    Everything,
    /// Entries of any fleet (not those of no fleet: users, tokens, webhooks, sign-ins).
    AllFleets,
    Fleets(Vec<String>),
}

#[async_trait::async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Records a write about to be carried out; its id completes it.
    async fn begin_audit(&self, entry: &NewAudit) -> StoreResult<i64>;

    /// Completes an entry with what came of the write (and, for a sign-in, who it was).
    async fn finish_audit(
        &self,
        id: i64,
        outcome: AuditOutcome,
        status: u16,
        code: Option<&str>,
        actor: Option<&str>,
    ) -> StoreResult<()>;

    /// Marks entries still pending (from before a crash) interrupted; how many.
    async fn interrupt_pending(&self) -> StoreResult<u64>;

    async fn list_audit(
        &self,
        query: &AuditQuery,
        scope: &AuditScope,
    ) -> StoreResult<Vec<AuditEntry>>;
}
