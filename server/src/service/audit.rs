//! Reading the audit trail: everyone signed in reads what concerns fleets they have a role on;
//! entries of no fleet (users, tokens, webhooks, sign-ins) are for admins of every fleet.

use super::{Drydock, store_error};
use crate::store::audit::AuditScope;
use app::model::access::{Caller, Role, unauthenticated};
use app::model::audit::{AuditPage, AuditQuery};
use app::model::error::AppError;

fn scope_of(caller: &Caller) -> AuditScope {
    if caller.may(Role::Admin, None) {
        AuditScope::Everything
    } else if caller.may(Role::Viewer, None) {
        AuditScope::AllFleets
    } else {
        AuditScope::Fleets(
            caller
                .grants
                .iter()
                .filter_map(|g| g.fleet.as_ref().map(|f| f.to_string()))
                .collect(),
        )
    }
}

impl Drydock {
    pub async fn audit_log(
        &self,
        caller: &Caller,
        query: &AuditQuery,
    ) -> Result<AuditPage, AppError> {
        if caller.is_anonymous() {
            return Err(unauthenticated());
        }
        let value = self
            .audit
            .list_audit(query, &scope_of(caller))
            .await
            .map_err(store_error)?;
        let next_before = (value.len() == query.limit() as usize)
            .then(|| value.last().map(|e| e.id))
            .flatten();
        Ok(AuditPage { value, next_before })
    }
}
