//! A driver's dealings with the provider's operations: starting the upgrades a decision
//! committed, and collecting the ones that finished — each answer checked (`answers`) before
//! the engine hears of it.

use super::answers::{Asked, Verdict, judge, mismatch};
use super::driver::Driver;
use crate::provider::{OperationStatus, UpgradeRequest};
use app::engine::{Effect, Input, Report};
use app::model::member::ClusterResourceId;
use app::model::run::MemberState;
use app::model::target::UpgradeTarget;
use app::model::time::Timestamp;

/// One in-flight attempt, as the run recorded it.
struct InFlight {
    member: app::model::names::MemberName,
    cluster: ClusterResourceId,
    attempt: u32,
    target: UpgradeTarget,
}

impl Driver {
    /// Starts an upgrade (idempotent by its operation id) and marks it carried out.
    pub(super) async fn carry_out(&mut self, effect: &Effect) {
        let Effect::StartUpgrade {
            cluster,
            operation_id,
            target,
            ..
        } = effect;
        let request = UpgradeRequest {
            operation_id: operation_id.clone(),
            cluster: cluster.clone(),
            target: target.clone(),
        };
        match self.rt.provider.start_upgrade(&request).await {
            Ok(operation) => {
                let asked = Asked {
                    operation_id,
                    cluster,
                    target,
                };
                match mismatch(&asked, &operation) {
                    // Look at once: the next pass fails the attempt with the reason.
                    Some(why) => {
                        tracing::warn!(%operation_id, %why, "the provider answered for another operation");
                        self.note_end(self.rt.clock.now());
                    }
                    None => self.note(&operation.status),
                }
                if let Err(error) = self.rt.runs.effect_done(operation_id).await {
                    tracing::warn!(%operation_id, %error, "marking an effect done failed; it will be repeated harmlessly");
                }
            }
            Err(error) => {
                tracing::warn!(%operation_id, %error, "starting an upgrade failed; retrying");
                self.retry_soon = true;
            }
        }
    }

    /// Remembers when to look at an operation again: when it ends, or at once if it already has.
    fn note(&mut self, status: &OperationStatus) {
        let at = match status {
            OperationStatus::Running { ends_at, .. } => *ends_at,
            OperationStatus::Succeeded { ended_at } | OperationStatus::Failed { ended_at, .. } => {
                *ended_at
            }
        };
        self.note_end(at);
    }

    fn note_end(&mut self, at: Timestamp) {
        self.operations_end = Some(self.operations_end.map_or(at, |e| e.min(at)));
    }

    fn attempts_in_flight(&self) -> Vec<InFlight> {
        self.in_flight()
            .filter_map(|(m, attempt)| match &m.state {
                MemberState::Upgrading { target, .. } => Some(InFlight {
                    member: m.name.clone(),
                    cluster: m.cluster_resource_id.clone(),
                    attempt,
                    target: target.clone(),
                }),
                MemberState::NotStarted
                | MemberState::Pending { .. }
                | MemberState::Completed { .. }
                | MemberState::Failed { .. }
                | MemberState::Skipped { .. } => None,
            })
            .collect()
    }

    /// Feeds finished operations back to the engine, all of them in one decision.
    pub(super) async fn collect_operations(&mut self) {
        self.operations_end = None;
        let mut reports = Vec::new();
        for flight in self.attempts_in_flight() {
            let operation_id =
                app::model::run::operation_id(&self.stored.run.uid, &flight.member, flight.attempt);
            if let Some(outcome) = self.look_at(&flight, &operation_id).await {
                reports.push(Report {
                    member: flight.member,
                    attempt: flight.attempt,
                    outcome,
                });
            }
        }
        if reports.is_empty() {
            return;
        }
        // Everything that finished since the last pass, in one decision.
        if let Err(error) = self.apply(Input::Reports(reports)).await {
            tracing::warn!(fleet = %self.key.0, run = %self.key.1, code = %error.code, "applying reports failed; retrying");
            self.retry_soon = true;
        }
    }

    /// Asks the provider about one attempt; the outcome once it has finished.
    async fn look_at(
        &mut self,
        flight: &InFlight,
        operation_id: &str,
    ) -> Option<app::engine::Outcome> {
        let operation = match self.rt.provider.operation(operation_id).await {
            Ok(Some(operation)) => operation,
            Ok(None) => {
                // Committed but never started (a crash in between): start it now.
                let effect = Effect::StartUpgrade {
                    member: flight.member.clone(),
                    cluster: flight.cluster.clone(),
                    attempt: flight.attempt,
                    operation_id: operation_id.to_owned(),
                    target: flight.target.clone(),
                };
                self.carry_out(&effect).await;
                return None;
            }
            Err(error) => {
                tracing::warn!(%operation_id, %error, "asking for an operation failed; retrying");
                self.retry_soon = true;
                return None;
            }
        };
        let asked = Asked {
            operation_id,
            cluster: &flight.cluster,
            target: &flight.target,
        };
        let provider = self.rt.provider.clone();
        let observe = || async move {
            let mut observed = provider.observe(std::slice::from_ref(asked.cluster)).await;
            observed.pop().unwrap_or_else(|| {
                Err(crate::provider::ProviderError::Unavailable(
                    "the provider observed nothing".into(),
                ))
            })
        };
        match judge(&asked, &operation, observe).await {
            Verdict::Finished(outcome) => Some(outcome),
            Verdict::Running { ends_at } => {
                self.note_end(ends_at);
                None
            }
            Verdict::Unsure => {
                self.retry_soon = true;
                None
            }
        }
    }
}
