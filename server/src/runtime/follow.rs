//! Following a run's upgrades: one level-triggered path. Every member the run shows as upgrading
//! has its operation asked about; one the provider never saw (a crash right after the commit, a
//! provider that lost it) is started — safe, because an operation id starts at most one upgrade
//! — and each is followed until it ends. Answers are checked (`answers`) before the engine hears
//! of them; a provider that cannot answer now is asked again with backoff, and the member says
//! so; one that refuses for good fails the attempt with its words; an attempt running past its
//! provider's timeout fails as timed out.

use super::answers::{self, Asked, Verdict, mismatch};
use super::backoff::Backoff;
use super::driver::Driver;
use crate::provider::{Operation, OperationRef, OperationStatus, ProviderError, UpgradeRequest};
use app::engine::{Input, Outcome, Report};
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use app::model::names::MemberName;
use app::model::run::MemberState;
use app::model::target::UpgradeTarget;
use app::model::time::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
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
pub(super) enum Look {
    /// It ended (or is given up): tell the engine.
    Ended(Outcome),
    /// Still going: look again then.
    Again(Instant),
    /// The provider could not answer now.
    Trouble(ProviderError),
}

impl Driver {
    pub(super) fn attempts_in_flight(&self) -> Vec<InFlight> {
        self.flying
            .iter()
            .filter_map(|&place| self.stored.run.member_at(place))
            .filter_map(|m| match &m.state {
                MemberState::Upgrading {
                    attempt,
                    started_at,
                    target,
                    provider_trouble,
                    ..
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
    /// one decision; `true` when that decision was committed.
    pub(super) async fn follow(&mut self) -> bool {
        self.next_look = None;
        if self.flying.is_empty() {
            self.trouble.clear();
            self.known.clear();
            return false;
        }
        // Only the replica holding the run acts on its clusters (one paused past its hold does
        // nothing on waking but notice). Holding it may read the run afresh: the attempts come
        // after.
        if !self.hold().await {
            return false;
        }
        let flights = self.attempts_in_flight();
        let flying: HashSet<&MemberName> = flights.iter().map(|f| &f.member).collect();
        self.trouble.retain(|member, _| flying.contains(member));
        // What was heard of attempts that ended is of no more use: kept, it would grow with
        // every member the run upgrades (and stall a step each time the map doubles).
        self.known.retain(|member, _| flying.contains(member));
        let mut due = Vec::new();
        for flight in flights {
            match self.trouble.get(&flight.member) {
                Some(backoff) if backoff.until > Instant::now() => {
                    self.look_at_instant(backoff.until)
                }
                Some(_) | None => due.push(flight),
            }
        }
        let looks = self.look_at(&due).await;
        let mut reports = Vec::new();
        for (flight, look) in due.into_iter().zip(looks) {
            let outcome = match look {
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
            return false;
        }
        let ended = reports
            .iter()
            .any(|r| !matches!(r.outcome, Outcome::Trouble { .. }));
        if ended {
            self.learned_at = Some(Instant::now());
        }
        // Everything learned in this pass, in one decision.
        if let Err(error) = self.apply(Input::Reports(reports)).await {
            tracing::warn!(fleet = %self.key.0, run = %self.key.1, code = %error.code, "applying reports failed; retrying");
            self.retry_soon = true;
            return false;
        }
        true
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

    /// Asks the provider about the attempts (starting those it never saw), in batches. An
    /// attempt past its provider's timeout fails as timed out — unless the provider says it
    /// ended: what happened to the cluster wins over the clock.
    async fn look_at(&mut self, flights: &[InFlight]) -> Vec<Look> {
        let ids: Vec<String> = flights
            .iter()
            .map(|f| app::model::run::operation_id(&self.stored.run.uid, &f.member, f.attempt))
            .collect();
        let verdicts = if self.stored.run.spec.placement.is_some() {
            self.look_at_placed(flights).await
        } else {
            let answers = self.ask(flights, &ids).await;
            self.judge(flights, &ids, answers).await
        };
        flights
            .iter()
            .zip(&ids)
            .zip(verdicts)
            .map(|((flight, id), look)| self.against_deadline(flight, id, look))
            .collect()
    }

    /// Fails a look at an attempt past its provider's timeout that has not ended; otherwise
    /// looks again no later than the deadline, so a timeout is noticed on time.
    fn against_deadline(&self, flight: &InFlight, operation_id: &str, look: Look) -> Look {
        let policy = self.rt.providers.policy_for(&flight.cluster);
        let timeout_ms = i64::try_from(policy.attempt_timeout.as_millis()).unwrap_or(i64::MAX);
        let deadline = flight.started_at.plus_millis(timeout_ms);
        let overdue = self.rt.clock.now() >= deadline;
        match look {
            Look::Again(_) | Look::Trouble(_) if overdue => Look::Ended(Outcome::Failed {
                message: format!(
                    "timed out after {}: the provider's operation {operation_id} had not finished; a retry checks the cluster first",
                    app::model::time::span(timeout_ms)
                ),
            }),
            Look::Again(at) => {
                let deadline_at = Instant::now() + self.rt.clock.real_duration_until(deadline);
                Look::Again(
                    at.min(deadline_at)
                        .max(Instant::now() + Duration::from_millis(1)),
                )
            }
            look => look,
        }
    }

    /// What the provider says of each attempt's operation. The first look in a driver's life
    /// starts it (harmless if it was started before: an id starts one upgrade and then reports
    /// on it); later looks ask about it, and start it again only if the provider lost it. An
    /// operation known to have succeeded is not asked about again: only its cluster is, until
    /// the success shows — every call saved is one less to fail in a storm.
    async fn ask(
        &mut self,
        flights: &[InFlight],
        ids: &[String],
    ) -> Vec<Result<Operation, ProviderError>> {
        let mut answers: Vec<Option<Result<Operation, ProviderError>>> =
            flights.iter().map(|_| None).collect();
        let mut to_start = Vec::new();
        let mut to_ask = Vec::new();
        for (i, flight) in flights.iter().enumerate() {
            let known = self
                .known
                .get(&flight.member)
                .filter(|(attempt, _)| *attempt == flight.attempt)
                .map(|(_, known)| *known);
            match known {
                None => to_start.push(i),
                Some(Known::Started) => to_ask.push(i),
                Some(Known::Succeeded) => {
                    answers[i] = Some(Ok(Operation {
                        cluster: None,
                        target: None,
                        status: OperationStatus::Succeeded,
                    }))
                }
            }
        }
        let asked: Vec<OperationRef> = to_ask
            .iter()
            .map(|&i| OperationRef {
                cluster: flights[i].cluster.clone(),
                operation_id: ids[i].clone(),
            })
            .collect();
        let statuses = self.rt.providers.operations(&asked).await;
        for (&i, status) in to_ask.iter().zip(statuses) {
            match status {
                Ok(Some(operation)) => answers[i] = Some(Ok(operation)),
                Ok(None) => to_start.push(i),
                Err(error) => answers[i] = Some(Err(error)),
            }
        }
        let requests: Vec<UpgradeRequest> = to_start
            .iter()
            .map(|&i| UpgradeRequest {
                operation_id: ids[i].clone(),
                cluster: flights[i].cluster.clone(),
                target: flights[i].target.clone(),
            })
            .collect();
        let started = self.rt.providers.start_upgrades(&requests).await;
        for (&i, answer) in to_start.iter().zip(started) {
            answers[i] = Some(answer);
        }
        for (flight, answer) in flights.iter().zip(&answers) {
            if let Some(Ok(operation)) = answer {
                let now_known = match operation.status {
                    OperationStatus::Succeeded => Known::Succeeded,
                    OperationStatus::Running { .. } | OperationStatus::Failed { .. } => {
                        Known::Started
                    }
                };
                self.known
                    .insert(flight.member.clone(), (flight.attempt, now_known));
            }
        }
        answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(ProviderError::transient("no answer"))))
            .collect()
    }

    /// Checks each operation against its attempt; successes are checked on their clusters,
    /// observed afresh in one batch (and remembered for the next decision).
    async fn judge(
        &self,
        flights: &[InFlight],
        ids: &[String],
        answers: Vec<Result<Operation, ProviderError>>,
    ) -> Vec<Look> {
        let asked: Vec<Asked<'_>> = flights
            .iter()
            .zip(ids)
            .map(|(flight, id)| Asked {
                operation_id: id,
                cluster: &flight.cluster,
                target: &flight.target,
            })
            .collect();
        let to_check: Vec<ClusterResourceId> = asked
            .iter()
            .zip(&answers)
            .filter(|(asked, answer)| {
                matches!(answer, Ok(op) if op.status == OperationStatus::Succeeded
                    && mismatch(asked, op).is_none())
            })
            .map(|(asked, _)| asked.cluster.clone())
            .collect();
        let observed = self.rt.providers.observe_shared(&to_check).await;
        let mut seen: HashMap<ClusterResourceId, Result<Arc<ClusterState>, ProviderError>> =
            HashMap::new();
        for (cluster, observed) in to_check.into_iter().zip(observed) {
            self.rt.observations.record(&cluster, observed.clone());
            seen.insert(cluster, observed);
        }
        let mut looks = Vec::with_capacity(flights.len());
        for ((asked, answer), flight) in asked.iter().zip(answers).zip(flights) {
            let operation = match answer {
                Ok(operation) => operation,
                Err(error) if error.is_transient() => {
                    looks.push(Look::Trouble(error));
                    continue;
                }
                Err(error) => {
                    looks.push(Look::Ended(Outcome::Failed {
                        message: error.to_string(),
                    }));
                    continue;
                }
            };
            let observe = || async {
                seen.get(asked.cluster).cloned().unwrap_or_else(|| {
                    Err(ProviderError::transient("the provider observed nothing"))
                })
            };
            let look = match answers::judge(asked, &operation, observe).await {
                Verdict::Finished(outcome) => Look::Ended(outcome),
                Verdict::Running { look_again_at } => {
                    // A hint is trusted up to a bound: a provider's "in a year" is not a reason
                    // to stop looking.
                    let hinted = look_again_at
                        .map(|at| self.rt.clock.real_duration_until(at).min(LONGEST_HINT));
                    let poll = self.rt.providers.policy_for(&flight.cluster).poll_interval;
                    Look::Again(Instant::now() + hinted.unwrap_or(poll))
                }
                Verdict::Unsure => Look::Trouble(ProviderError::transient(
                    "the cluster could not be observed to check the upgrade's result",
                )),
            };
            looks.push(look);
        }
        looks
    }
}
