//! One run's driver: reload, finish committed effects, collect finished operations, decide,
//! commit, act, sleep. Repeat until the run has nothing left to do.

use super::world::ProviderWorld;
use super::{Message, Order, RunKey, Runtime};
use crate::service::{provider_error, store_error};
use crate::store::{StoreError, StoredRun};
use app::engine::{Input, Rejection, Reply, decide};
use app::model::error::AppError;
use app::model::member::ClusterResourceId;
use app::model::run::{MemberState, RunState, UpdateRun};
use app::model::time::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long a driver with nothing to do lingers for another command before it exits.
const IDLE: Duration = Duration::from_secs(30);

/// How long to wait before asking a provider that did not answer again (real time).
const RETRY: Duration = Duration::from_secs(2);

/// How many times a decision is made again when other runs took the clusters it wanted.
const BUSY_RETRIES: usize = 3;

/// The clusters of members whose upgrade ended between `before` and `after` (same layout).
fn landed(before: &UpdateRun, after: &UpdateRun) -> Vec<ClusterResourceId> {
    after
        .members()
        .zip(before.members())
        .filter(|(now, was)| was.state.in_flight() && now.state != was.state)
        .map(|(now, _)| now.cluster_resource_id.clone())
        .collect()
}

fn refused(rejection: Rejection) -> AppError {
    match rejection {
        Rejection::NotAllowed { why } => AppError::conflict("ActionNotAllowed", why),
        Rejection::NotSkippable { why } => AppError::conflict("NotSkippable", why),
        Rejection::UnknownTarget { what } => AppError::invalid("UnknownSkipTarget", what),
    }
}

pub(super) struct Driver {
    pub(super) rt: Arc<Runtime>,
    pub(super) key: RunKey,
    pub(super) stored: StoredRun,
    /// When the earliest in-flight operation ends.
    pub(super) operations_end: Option<Timestamp>,
    /// Set when a provider call failed: look again soon.
    pub(super) retry_soon: bool,
    /// The run was deleted under the driver (or replaced by another of the same name).
    pub(super) gone: bool,
    /// A cluster the run waits for may have been released unseen: decide again at once.
    pub(super) look_again: bool,
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
        look_again: false,
    };
    driver.finish_committed_effects().await;
    // A command for another run of this name, handed to a fresh driver once this one is gone.
    let mut handover = None;
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
            Message::Command(order) => {
                if let Some(order) = driver.obey(order).await {
                    handover = Some(Message::Command(order));
                    break;
                }
            }
            Message::Poke => {}
            Message::Retire => break,
        }
    }
    inbox.close();
    rt.retire(&key);
    // Commands that slipped in while closing go to a fresh driver.
    for message in handover
        .into_iter()
        .chain(std::iter::from_fn(|| inbox.try_recv().ok()))
    {
        if let Message::Command(_) = message {
            rt.send(&key, message);
        }
    }
}

/// Answers queued commands for a run that cannot be loaded.
fn answer_all(inbox: &mut UnboundedReceiver<Message>, key: &RunKey) {
    while let Ok(message) = inbox.try_recv() {
        if let Message::Command(order) = message {
            let _ = order.reply.send(Err(run_gone(key)));
        }
    }
}

fn run_gone(key: &RunKey) -> AppError {
    AppError::not_found(
        "UpdateRunNotFound",
        format!("Fleet {} has no update run named {}.", key.0, key.1),
    )
}

impl Driver {
    pub(super) fn in_flight(&self) -> impl Iterator<Item = (&app::model::run::MemberRun, u32)> {
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

    /// Applies an operator command meant for this driver's run and answers it. A command for
    /// another uid is returned when this driver's run is gone (a fresh driver loads the run now
    /// stored under the name), and refused when the run it was meant for no longer exists.
    async fn obey(&mut self, order: Order) -> Option<Order> {
        if order.uid != self.stored.run.uid {
            self.reload().await;
            if self.gone {
                return Some(order);
            }
            if order.uid != self.stored.run.uid {
                let _ = order.reply.send(Err(run_gone(&self.key)));
                return None;
            }
        }
        let _ = order
            .reply
            .send(self.apply(Input::Command(order.command)).await);
        None
    }

    /// Sleeps until the next wake-up or message; `None` when the driver should exit.
    async fn wait(&mut self, inbox: &mut UnboundedReceiver<Message>) -> Option<Message> {
        if std::mem::take(&mut self.look_again) {
            return Some(Message::Poke);
        }
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
            // `None`: every sender is gone (the driver was forgotten): exit.
            message = inbox.recv() => message,
            () = tokio::time::sleep(sleep) => Some(Message::Poke),
        }
    }

    /// Decides one input, commits the outcome and carries out its effects. When another run
    /// took a cluster this decision wanted meanwhile (the commit was refused), decides again
    /// with the leases as they are now.
    pub(super) async fn apply(&mut self, input: Input) -> Result<Reply, AppError> {
        for _ in 0..BUSY_RETRIES {
            if let Some(reply) = self.decide_and_commit(input.clone()).await? {
                return Ok(reply);
            }
        }
        self.retry_soon = true;
        Err(AppError::conflict(
            "ClusterBusy",
            "Other runs kept taking the clusters this run wanted to upgrade; it tries again shortly.",
        ))
    }

    /// One decision and its commit; `None` when the commit was refused because another run
    /// holds a cluster the decision wanted to upgrade.
    async fn decide_and_commit(&mut self, input: Input) -> Result<Option<Reply>, AppError> {
        let releases_seen = self.rt.waiting.releases();
        let world = ProviderWorld {
            catalog: self.rt.provider.catalog().await.map_err(provider_error)?,
            provider: &*self.rt.provider,
            holders: self.clusters_held_by_others().await?,
        };
        let now = self.rt.clock.now();
        let decision =
            decide(&self.stored.run, input, now, &world, &self.rt.engine).map_err(refused)?;
        self.wait_for_held_clusters(&decision.run, releases_seen);
        let unchanged = decision.events.is_empty()
            && decision.run == self.stored.run
            && decision.wake_at == self.stored.wake_at;
        if unchanged {
            return Ok(Some(decision.reply));
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
        let before = match saved {
            Ok(stored) => {
                self.rt
                    .decisions
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                std::mem::replace(&mut self.stored, stored)
            }
            Err(StoreError::ClusterBusy(cluster)) => {
                tracing::info!(fleet = %self.key.0, run = %self.key.1, %cluster, "another run took a cluster first; deciding again");
                return Ok(None);
            }
            Err(StoreError::Concurrent) => {
                // Only this driver writes a run; someone deleted or replaced it meanwhile.
                self.reload().await;
                if self.gone {
                    return Err(run_gone(&self.key));
                }
                return Err(store_error(StoreError::Concurrent));
            }
            Err(error) => return Err(store_error(error)),
        };
        let _ = self.rt.changes.send(self.key.clone());
        self.rt.released(&landed(&before.run, &self.stored.run));
        for effect in &decision.effects {
            self.carry_out(effect).await;
        }
        Ok(Some(decision.reply))
    }

    /// The clusters other runs are upgrading now, with who.
    async fn clusters_held_by_others(
        &self,
    ) -> Result<HashMap<ClusterResourceId, String>, AppError> {
        let leases = self.rt.runs.cluster_leases().await.map_err(store_error)?;
        Ok(leases
            .into_iter()
            .filter(|lease| lease.run_uid != self.stored.run.uid)
            .map(|lease| {
                let holder = lease.holder();
                (lease.cluster, holder)
            })
            .collect())
    }

    /// Registers the run as waiting for the clusters its pending members wait for; looks again
    /// at once if one was released since the leases were read.
    fn wait_for_held_clusters(&mut self, run: &UpdateRun, releases_seen: u64) {
        let held: Vec<ClusterResourceId> = run
            .members()
            .filter(|m| {
                matches!(
                    m.state,
                    MemberState::Pending {
                        held_by: Some(_),
                        ..
                    }
                )
            })
            .map(|m| m.cluster_resource_id.clone())
            .collect();
        if !held.is_empty() && self.rt.waiting.wait_for(&self.key, held, releases_seen) {
            self.look_again = true;
        }
    }

    async fn reload(&mut self) {
        match self.rt.runs.get_run(&self.key.0, &self.key.1).await {
            // Another run under the same name is not this driver's to act on.
            Ok(Some(stored)) if stored.run.uid != self.stored.run.uid => self.gone = true,
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
}
