//! Following a run's upgrades: one level-triggered path. Every member the run shows as upgrading
//! has its operation asked about; one the provider never saw (a crash right after the commit, a
//! provider that lost it) is started — safe, because an operation id starts at most one upgrade
//! — and each is followed until it ends. Answers are checked (`answers`) before the engine hears
//! of them; a provider that cannot answer now is asked again with backoff, and the member says
//! so; one that refuses for good fails the attempt with its words; an attempt running past its
//! provider's timeout fails as timed out.

use super::answers::{Asked, Verdict, judge};
use super::backoff::Backoff;
use super::driver::Driver;
use crate::provider::{Operation, OperationStatus, ProviderError, UpgradeRequest};
use app::engine::{Input, Outcome, Report};
use app::model::member::ClusterResourceId;
use app::model::names::MemberName;
use app::model::run::MemberState;
use app::model::target::UpgradeTarget;
use app::model::time::Timestamp;
use std::time::{Duration, Instant};

/// The longest a provider's "look again then" is followed before asking anyway (real time).
const LONGEST_HINT: Duration = Duration::from_secs(3600);

/// What this driver has heard of an attempt's operation from its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Known {
    /// The provider knows the operation (it started it, or reported on it).
    Started,
    /// The provider said it succeeded; the cluster has yet to be seen to show it.
    Succeeded,
}

/// One in-flight attempt, as the run recorded it.
pub(super) struct InFlight {
    pub member: MemberName,
    pub cluster: ClusterResourceId,
    pub attempt: u32,
    pub started_at: Timestamp,
    pub target: UpgradeTarget,
    /// The run shows the provider's silence on it.
    pub troubled: bool,
}

/// What one look at an attempt came to.
enum Look {
    /// It ended (or is given up): tell the engine.
    Ended(Outcome),
    /// Still going: look again then.
    Again(Instant),
    /// The provider could not answer now.
    Trouble(ProviderError),
}

impl Driver {
    pub(super) fn attempts_in_flight(&self) -> Vec<InFlight> {
        self.stored
            .run
            .members()
            .filter_map(|m| match &m.state {
                MemberState::Upgrading {
                    attempt,
                    started_at,
                    target,
                    provider_trouble,
                } => Some(InFlight {
                    member: m.name.clone(),
                    cluster: m.cluster_resource_id.clone(),
                    attempt: *attempt,
                    started_at: *started_at,
                    target: target.clone(),
                    troubled: provider_trouble.is_some(),
                }),
                MemberState::NotStarted
                | MemberState::Pending { .. }
                | MemberState::Completed { .. }
                | MemberState::Failed { .. }
                | MemberState::Skipped { .. } => None,
            })
            .collect()
    }

    /// Looks at every upgrade in flight that is due, and tells the engine what changed, all in
    /// one decision.
    pub(super) async fn follow(&mut self) {
        self.next_look = None;
        let flights = self.attempts_in_flight();
        self.trouble
            .retain(|member, _| flights.iter().any(|f| f.member == *member));
        // Only the replica holding the run acts on its clusters (one paused past its hold does
        // nothing on waking but notice).
        if flights.is_empty() || !self.hold().await {
            return;
        }
        let flights = self.attempts_in_flight();
        let mut reports = Vec::new();
        for flight in flights {
            if let Some(backoff) = self.trouble.get(&flight.member)
                && backoff.until > Instant::now()
            {
                self.look_at_instant(backoff.until);
                continue;
            }
            let outcome = match self.look_at(&flight).await {
                Look::Ended(outcome) => Some(outcome),
                Look::Again(at) => {
                    self.look_at_instant(at);
                    self.trouble.remove(&flight.member);
                    flight
                        .troubled
                        .then_some(Outcome::Trouble { message: None })
                }
                Look::Trouble(error) => Some(self.back_off(&flight, &error)),
            };
            if let Some(outcome) = outcome {
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
        // Everything learned in this pass, in one decision.
        if let Err(error) = self.apply(Input::Reports(reports)).await {
            tracing::warn!(fleet = %self.key.0, run = %self.key.1, code = %error.code, "applying reports failed; retrying");
            self.retry_soon = true;
        }
    }

    /// Records a provider that could not answer about `flight`; the member says so.
    fn back_off(&mut self, flight: &InFlight, error: &ProviderError) -> Outcome {
        let retry_after = match error {
            ProviderError::Transient { retry_after, .. } => *retry_after,
            ProviderError::ClusterNotFound(_)
            | ProviderError::ForeignId { .. }
            | ProviderError::Permanent { .. } => None,
        };
        let salt = flight
            .member
            .as_str()
            .bytes()
            .fold(u64::from(flight.attempt), |h, b| {
                h.wrapping_mul(31) ^ u64::from(b)
            });
        let cap = self.rt.providers.policy_for(&flight.cluster).backoff_cap;
        let backoff = Backoff::after(self.trouble.get(&flight.member), retry_after, cap, salt);
        tracing::info!(fleet = %self.key.0, run = %self.key.1, member = %flight.member, failures = backoff.failures(), %error, "the provider could not answer; asking again later");
        self.look_at_instant(backoff.until);
        self.trouble.insert(flight.member.clone(), backoff);
        Outcome::Trouble {
            message: Some(error.to_string()),
        }
    }

    pub(super) fn look_at_instant(&mut self, at: Instant) {
        self.next_look = Some(self.next_look.map_or(at, |n| n.min(at)));
    }

    /// Asks the provider about one attempt (starting it if it never saw it). An attempt past
    /// its provider's timeout fails as timed out — unless the provider says it ended: what
    /// happened to the cluster wins over the clock.
    async fn look_at(&mut self, flight: &InFlight) -> Look {
        let operation_id =
            app::model::run::operation_id(&self.stored.run.uid, &flight.member, flight.attempt);
        let policy = self.rt.providers.policy_for(&flight.cluster);
        let timeout_ms = i64::try_from(policy.attempt_timeout.as_millis()).unwrap_or(i64::MAX);
        let deadline = flight.started_at.plus_millis(timeout_ms);
        let look = self.ask(flight, &operation_id, policy.poll_interval).await;
        let overdue = self.rt.clock.now() >= deadline;
        match look {
            Look::Again(_) | Look::Trouble(_) if overdue => Look::Ended(Outcome::Failed {
                message: format!(
                    "timed out after {}: the provider's operation {operation_id} had not finished; a retry checks the cluster first",
                    app::model::time::span(timeout_ms)
                ),
            }),
            Look::Again(at) => {
                // Never past the attempt's deadline, so a timeout is noticed on time.
                let deadline_at = Instant::now() + self.rt.clock.real_duration_until(deadline);
                Look::Again(
                    at.min(deadline_at)
                        .max(Instant::now() + Duration::from_millis(1)),
                )
            }
            look => look,
        }
    }

    /// What the provider says of the attempt's operation. The first look in a driver's life
    /// starts it (one call, harmless if it was started before: an id starts one upgrade and
    /// then reports on it); later looks ask about it, and start it again only if the provider
    /// lost it. An operation known to have succeeded is not asked about again: only its
    /// cluster is, until the success shows — every call saved is one less to fail in a storm.
    async fn ask(&mut self, flight: &InFlight, operation_id: &str, poll: Duration) -> Look {
        let known = self
            .known
            .get(&flight.member)
            .filter(|(attempt, _)| *attempt == flight.attempt)
            .map(|(_, known)| *known);
        let answer = match known {
            None => self.start(flight, operation_id).await,
            Some(Known::Started) => match self
                .rt
                .providers
                .operation(&flight.cluster, operation_id)
                .await
            {
                Ok(Some(operation)) => Ok(operation),
                Ok(None) => self.start(flight, operation_id).await,
                Err(error) => Err(error),
            },
            Some(Known::Succeeded) => Ok(Operation {
                cluster: None,
                target: None,
                status: OperationStatus::Succeeded,
            }),
        };
        let operation = match answer {
            Ok(operation) => operation,
            Err(error) if error.is_transient() => return Look::Trouble(error),
            Err(error) => {
                return Look::Ended(Outcome::Failed {
                    message: error.to_string(),
                });
            }
        };
        let now_known = match operation.status {
            OperationStatus::Succeeded => Known::Succeeded,
            OperationStatus::Running { .. } | OperationStatus::Failed { .. } => Known::Started,
        };
        self.known
            .insert(flight.member.clone(), (flight.attempt, now_known));
        match self.judge(flight, operation_id, &operation).await {
            Verdict::Finished(outcome) => Look::Ended(outcome),
            Verdict::Running { look_again_at } => {
                // A hint is trusted up to a bound: a provider's "in a year" is not a reason to
                // stop looking.
                let hinted =
                    look_again_at.map(|at| self.rt.clock.real_duration_until(at).min(LONGEST_HINT));
                Look::Again(Instant::now() + hinted.unwrap_or(poll))
            }
            Verdict::Unsure => Look::Trouble(ProviderError::transient(
                "the cluster could not be observed to check the upgrade's result",
            )),
        }
    }

    /// Starts the attempt's operation (the provider never saw it).
    async fn start(
        &self,
        flight: &InFlight,
        operation_id: &str,
    ) -> Result<Operation, ProviderError> {
        let request = UpgradeRequest {
            operation_id: operation_id.to_owned(),
            cluster: flight.cluster.clone(),
            target: flight.target.clone(),
        };
        self.rt.providers.start_upgrade(&request).await
    }

    /// Checks an operation against the attempt; a success is checked on the cluster, observed
    /// afresh (and remembered for the next decision).
    async fn judge(&self, flight: &InFlight, operation_id: &str, operation: &Operation) -> Verdict {
        let asked = Asked {
            operation_id,
            cluster: &flight.cluster,
            target: &flight.target,
        };
        let providers = self.rt.providers.clone();
        let observations = &self.rt.observations;
        let observe = || async move {
            let observed = providers
                .observe(std::slice::from_ref(asked.cluster))
                .await
                .pop()
                .unwrap_or_else(|| Err(ProviderError::transient("the provider observed nothing")));
            observations.record(asked.cluster, observed.clone());
            observed
        };
        judge(&asked, operation, observe).await
    }
}
