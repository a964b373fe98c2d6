//! The audit trail: one entry per write anyone asked for (sign-ins too), with who asked, with
//! which credential, from where, and what came of it. A change is committed together with its
//! entry (see the server's `audit_trail`); a request that changed nothing is recorded after.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: i64,
    /// Wall-clock time of the request.
    pub time: Timestamp,
    /// The user (or, for a sign-in, the user name tried).
    pub actor: String,
    /// `session`, `single sign-on`, `token tok-…`, `password`, `auth disabled` or `anonymous`.
    pub credential: String,
    /// The request: method and path, e.g. `POST /api/v1/fleets/demo/updateRuns/r/start`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    pub address: String,
    pub outcome: AuditOutcome,
    /// The HTTP status answered (absent until the answer is given, and when interrupted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The error code, when the write was refused or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum AuditOutcome {
    /// Being carried out (written ahead of the change by earlier versions of Drydock).
    Pending,
    Succeeded,
    /// Refused: bad input, not allowed, not found, a conflict (4xx).
    Refused,
    /// It broke inside (5xx).
    Failed,
    /// An earlier version's pending entry whose server stopped before it answered: the write
    /// may or may not have happened.
    Interrupted,
}

impl AuditOutcome {
    pub fn of_status(status: u16) -> Self {
        match status {
            ..400 => AuditOutcome::Succeeded,
            400..500 => AuditOutcome::Refused,
            _ => AuditOutcome::Failed,
        }
    }
}

/// Which entries a query asks for: newest first, older than `before` (an id) when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub fleet: Option<String>,
    #[serde(default)]
    pub run: Option<String>,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl AuditQuery {
    pub const DEFAULT_LIMIT: u32 = 100;
    pub const MAX_LIMIT: u32 = 1000;

    pub fn limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }
}

/// A page of entries and where the next (older) one starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub value: Vec<AuditEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}
