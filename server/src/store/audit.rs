//! Where the audit trail is kept (see `app::model::audit`).

use super::StoreResult;
use app::model::audit::{AuditEntry, AuditOutcome, AuditQuery};
use app::model::time::Timestamp;

/// An entry as the request starts (see `audit_trail`); a command another replica carries out
/// takes it along as JSON.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    /// Records a write that changed nothing (refused, invalid, failed), complete with its answer.
    async fn record_audit(
        &self,
        entry: &NewAudit,
        outcome: AuditOutcome,
        status: u16,
        code: Option<&str>,
    ) -> StoreResult<()>;

    /// Adds the answer to an entry that was written with its change (`audit_trail::Stamp`).
    async fn answer_audit(&self, id: i64, status: u16, code: Option<&str>) -> StoreResult<()>;

    /// Marks entries still pending (written ahead of their change by Drydock before 0.1's
    /// same-transaction audit, and cut short by a crash) interrupted; how many.
    async fn interrupt_pending(&self) -> StoreResult<u64>;

    async fn list_audit(
        &self,
        query: &AuditQuery,
        scope: &AuditScope,
    ) -> StoreResult<Vec<AuditEntry>>;
}
