//! One run's driver: reload, finish committed effects, collect finished operations, decide,
//! commit, act, sleep. Repeat until the run has nothing left to do.

use super::world::ProviderWorld;
use super::{Message, RunKey, Runtime};
use crate::provider::{OperationStatus, UpgradeRequest};
use crate::service::{provider_error, store_error};
use crate::store::{StoreError, StoredRun};
use app::engine::{Effect, Input, Outcome, Rejection, Reply, Report, decide};
use app::model::error::AppError;
use app::model::run::{MemberState, RunState};
use app::model::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long a driver with nothing to do lingers for another command before it exits.
const IDLE: Duration = Duration::from_secs(30);

/// How long to wait before asking a provider that did not answer again (real time).
const RETRY: Duration = Duration::from_secs(2);

fn refused(rejection: Rejection) -> AppError {
    match rejection {
        Rejection::NotAllowed { why } => AppError::conflict("ActionNotAllowed", why),
        Rejection::NotSkippable { why } => AppError::conflict("NotSkippable", why),
        Rejection::UnknownTarget { what } => AppError::invalid("UnknownSkipTarget", what),
    }
}

struct Driver {
    rt: Arc<Runtime>,
    key: RunKey,
    stored: StoredRun,
    /// When the earliest in-flight operation ends.
    operations_end: Option<Timestamp>,
    /// Set when a provider call failed: look again soon.
    retry_soon: bool,
    /// The run was deleted under the driver.
    gone: bool,
}

pub(super) async fn drive(rt: Arc<Runtime>, key: RunKey, mut inbox: UnboundedReceiver<Message>) {
    let loaded = rt.runs.get_run(&key.0, &key.1).await;
    let Ok(Some(stored)) = loaded else {
        if let Err(error) = loaded {
            tracing::error!(fleet = %key.0, run = %key.1, %error, "loading a run failed");
        }
        answer_all(&mut inbox, &key);
        inbox.close();
        rt.retire(&key);
        return;
    };
    let mut driver = Driver {
        rt: rt.clone(),
        key: key.clone(),
        stored,
        operations_end: None,
        retry_soon: false,
        gone: false,
    };
    driver.finish_committed_effects().await;
    loop {
        driver.collect_operations().await;
        if let Err(error) = driver.apply(Input::Tick).await {
            tracing::warn!(fleet = %key.0, run = %key.1, code = %error.code, "a tick failed");
            driver.retry_soon = true;
        }
        if driver.gone {
            break;
        }
        let Some(message) = driver.wait(&mut inbox).await else {
            break;
        };
        match message {
            Message::Command(command, reply) => {
                let _ = reply.send(driver.apply(Input::Command(command)).await);
            }
            Message::Poke => {}
        }
    }
    inbox.close();
    rt.retire(&key);
    // Commands that slipped in while closing go to a fresh driver.
    while let Ok(message) = inbox.try_recv() {
        rt.send(&key, message);
    }
}

/// Answers queued commands for a run that cannot be loaded.
fn answer_all(inbox: &mut UnboundedReceiver<Message>, key: &RunKey) {
    while let Ok(message) = inbox.try_recv() {
        if let Message::Command(_, reply) = message {
            let error = AppError::not_found(
                "UpdateRunNotFound",
                format!("Fleet {} has no update run named {}.", key.0, key.1),
            );
            let _ = reply.send(Err(error));
        }
    }
}

impl Driver {
    fn in_flight(&self) -> impl Iterator<Item = (&app::model::run::MemberRun, u32)> {
        self.stored.run.members().filter_map(|m| match m.state {
            MemberState::Upgrading { attempt, .. } => Some((m, attempt)),
            MemberState::NotStarted
            | MemberState::Pending { .. }
            | MemberState::Completed { .. }
            | MemberState::Failed { .. }
            | MemberState::Skipped { .. } => None,
        })
    }

    /// Nothing will happen without a command: not running, nothing in flight.
    fn is_idle(&self) -> bool {
        let settled = match self.stored.run.state {
            RunState::NotStarted
            | RunState::Stopped { .. }
            | RunState::Failed { .. }
            | RunState::Completed { .. } => true,
            RunState::Running { .. } | RunState::Stopping { .. } => false,
        };
        settled && self.in_flight().next().is_none()
    }

    /// Sleeps until the next wake-up or message; `None` when the driver should exit.
    async fn wait(&mut self, inbox: &mut UnboundedReceiver<Message>) -> Option<Message> {
        if self.is_idle() {
            return tokio::time::timeout(IDLE, inbox.recv())
                .await
                .ok()
                .flatten();
        }
        let wake = [self.stored.wake_at, self.operations_end]
            .into_iter()
            .flatten()
            .min();
        let sleep = match (wake, std::mem::take(&mut self.retry_soon)) {
            (_, true) => RETRY,
            (Some(at), false) => self.rt.clock.real_duration_until(at),
            (None, false) => return inbox.recv().await,
        };
        tokio::select! {
            message = inbox.recv() => Some(message.unwrap_or(Message::Poke)),
            () = tokio::time::sleep(sleep) => Some(Message::Poke),
        }
    }

    /// Decides one input, commits the outcome and carries out its effects.
    async fn apply(&mut self, input: Input) -> Result<Reply, AppError> {
        let catalog = self.rt.provider.catalog().await.map_err(provider_error)?;
        let world = ProviderWorld {
            catalog,
            provider: &*self.rt.provider,
        };
        let now = self.rt.clock.now();
        let decision =
            decide(&self.stored.run, input, now, &world, &self.rt.engine).map_err(refused)?;
        let unchanged = decision.events.is_empty()
            && decision.run == self.stored.run
            && decision.wake_at == self.stored.wake_at;
        if unchanged {
            return Ok(decision.reply);
        }
        let saved = self
            .rt
            .runs
            .save_run(
                &self.key.0,
                &self.stored,
                &decision.run,
                &decision.events,
                &decision.effects,
                decision.wake_at,
            )
            .await;
        match saved {
            Ok(stored) => {
                self.stored = stored;
                self.rt
                    .decisions
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Err(StoreError::Concurrent) => {
                // Only this driver writes a run; someone deleted or replaced it meanwhile.
                self.reload().await;
                return Err(store_error(StoreError::Concurrent));
            }
            Err(error) => return Err(store_error(error)),
        }
        let _ = self.rt.changes.send(self.key.clone());
        for effect in &decision.effects {
            self.carry_out(effect).await;
        }
        Ok(decision.reply)
    }

    async fn reload(&mut self) {
        match self.rt.runs.get_run(&self.key.0, &self.key.1).await {
            Ok(Some(stored)) => self.stored = stored,
            Ok(None) => self.gone = true,
            Err(error) => {
                tracing::error!(fleet = %self.key.0, run = %self.key.1, %error, "reloading a run failed")
            }
        }
    }

    /// Effects a previous life of this driver committed but did not carry out.
    async fn finish_committed_effects(&mut self) {
        match self.rt.runs.pending_effects(&self.key.0, &self.key.1).await {
            Ok(effects) => {
                for effect in &effects {
                    self.carry_out(effect).await;
                }
            }
            Err(error) => {
                tracing::error!(fleet = %self.key.0, run = %self.key.1, %error, "reading the outbox failed");
                self.retry_soon = true;
            }
        }
    }

    /// Starts an upgrade (idempotent by its operation id) and marks it carried out.
    async fn carry_out(&mut self, effect: &Effect) {
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
            Ok(status) => {
                self.note(&status);
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
            OperationStatus::Running { ends_at } => *ends_at,
            OperationStatus::Succeeded { ended_at } | OperationStatus::Failed { ended_at, .. } => {
                *ended_at
            }
        };
        self.operations_end = Some(self.operations_end.map_or(at, |e| e.min(at)));
    }

    /// Feeds finished operations back to the engine, all of them in one decision.
    async fn collect_operations(&mut self) {
        self.operations_end = None;
        let in_flight: Vec<_> = self
            .in_flight()
            .map(|(m, attempt)| {
                (
                    m.name.clone(),
                    m.cluster_resource_id.clone(),
                    attempt,
                    m.state.clone(),
                )
            })
            .collect();
        let mut reports = Vec::new();
        for (member, cluster, attempt, state) in in_flight {
            let operation_id =
                app::model::run::operation_id(&self.stored.run.name, &member, attempt);
            let outcome = match self.rt.provider.operation_status(&operation_id).await {
                Ok(Some(OperationStatus::Succeeded { .. })) => Outcome::Succeeded,
                Ok(Some(OperationStatus::Failed { message, .. })) => Outcome::Failed { message },
                Ok(Some(running)) => {
                    self.note(&running);
                    continue;
                }
                Ok(None) => {
                    // Committed but never started (a crash in between): start it now.
                    if let MemberState::Upgrading { target, .. } = state {
                        let effect = Effect::StartUpgrade {
                            member: member.clone(),
                            cluster,
                            attempt,
                            operation_id,
                            target,
                        };
                        self.carry_out(&effect).await;
                    }
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%operation_id, %error, "asking for an operation failed; retrying");
                    self.retry_soon = true;
                    continue;
                }
            };
            reports.push(Report {
                member,
                attempt,
                outcome,
            });
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
}
