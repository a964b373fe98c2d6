//! What keeps replicas working together: this replica's holds renewed, runs whose driver died
//! taken over, and commands passed between replicas through the store. A command sent to a
//! replica that does not drive its run is stored; the driver's replica finds it (it looks every
//! `SCAN_EVERY`), carries it out and stores the answer in the same transaction as the change it
//! made; the replica that was asked reads the answer back and answers its caller. Should no
//! replica drive the run any more, the one that was asked takes it and carries the command out
//! itself.

use super::holds::{HOLD, RENEW_EVERY, SCAN_EVERY};
use super::{Message, RunKey, Runtime};
use crate::audit_trail::{Stamp, Ticket};
use crate::service::store_error;
use crate::store::StoreError;
use app::engine::{Command, Reply};
use app::model::error::{AppError, ErrorKind};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How long a caller waits for another replica to answer a command before it is withdrawn.
const RELAY_PATIENCE: Duration = Duration::from_secs(30);

/// How often a relayed command's answer is looked for.
const ANSWER_POLL: Duration = Duration::from_millis(50);

/// The runtime's background loop: renews holds, takes over runs no live replica drives, wakes
/// drivers for commands left in the store. Ends with the runtime or when it shuts down.
pub(super) async fn keep_holds(runtime: Weak<Runtime>) {
    let mut last_renewal = Instant::now();
    loop {
        tokio::time::sleep(SCAN_EVERY).await;
        let Some(rt) = runtime.upgrade() else {
            return;
        };
        if rt.is_stopping() {
            return;
        }
        if last_renewal.elapsed() >= RENEW_EVERY {
            last_renewal = Instant::now();
            rt.renew().await;
            rt.poke_waiting();
            if let Err(error) = rt.take_over().await {
                tracing::warn!(%error, "looking for runs to take over failed");
            }
        }
        rt.wake_for_stored_commands().await;
    }
}

impl Runtime {
    /// Renews every hold of this replica; the drivers of runs another replica took are woken
    /// to notice it.
    async fn renew(&self) {
        if self.holds.is_empty() {
            return;
        }
        let sent = Instant::now();
        let renewed = match self.runs.renew_runs(self.holds.replica(), HOLD).await {
            Ok(renewed) => renewed,
            Err(error) => {
                tracing::warn!(%error, "renewing this server's runs failed; its drivers pause when their holds run out");
                return;
            }
        };
        let lost = self.holds.renewed(&renewed, sent);
        if !lost.is_empty() {
            tracing::warn!(runs = ?lost, "another server took runs this one drove");
            self.poke_all();
        }
    }

    /// Takes in what another replica (or this one) committed, as PostgreSQL told every
    /// replica: event streams and runs waiting for a cluster look again, drivers look for
    /// stored commands.
    pub fn heard(self: &Arc<Self>, notice: crate::store::sql::notify::Notice) {
        use crate::store::sql::notify::Notice;
        match notice {
            Notice::RunChanged(fleet, run) => {
                let _ = self.changes.send((fleet, run));
                self.poke_waiting();
            }
            Notice::CommandStored => {
                let rt = self.clone();
                tokio::spawn(async move { rt.wake_for_stored_commands().await });
            }
        }
    }

    /// Wakes the runs waiting for clusters other runs hold (those runs may be driven elsewhere,
    /// their releases unseen here).
    fn poke_waiting(&self) {
        let waiting = self.waiting.waiters();
        if waiting.is_empty() {
            return;
        }
        let drivers = self.lock();
        for key in waiting {
            if let Some(sender) = drivers.get(&key) {
                let _ = sender.send(Message::Poke);
            }
        }
    }

    /// Wakes the drivers of runs with commands waiting in the store.
    async fn wake_for_stored_commands(self: &Arc<Self>) {
        let runs = match self.runs.runs_with_commands(self.holds.replica()).await {
            Ok(runs) => runs,
            Err(error) => {
                tracing::warn!(%error, "looking for commands failed");
                return;
            }
        };
        for key in &runs {
            self.send(key, Message::Stored);
        }
    }

    /// Sends `command` to the run's driver on another replica through the store, and waits for
    /// its answer. When no replica drives the run meanwhile, this one takes it.
    pub(super) async fn relay(
        self: &Arc<Self>,
        key: &RunKey,
        uid: &str,
        command: &Command,
        audit: Option<Arc<Ticket>>,
    ) -> Result<Reply, AppError> {
        let text = serde_json::to_string(command).map_err(|_| AppError::internal())?;
        let entry = audit
            .as_ref()
            .and_then(|ticket| serde_json::to_string(&ticket.entry()).ok());
        let now = self.clock.now();
        let id = self
            .runs
            .send_command(uid, &text, entry.as_deref(), now)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => super::driver::run_gone(key),
                error => store_error(error),
            })?;
        tracing::info!(fleet = %key.0, run = %key.1, command = id, "another server drives this run; the command waits for it in the store");
        let deadline = Instant::now() + RELAY_PATIENCE;
        let mut next_check = Instant::now() + RENEW_EVERY;
        loop {
            tokio::time::sleep(ANSWER_POLL).await;
            match self.runs.command_answer(id).await {
                Ok(Some(answer)) => return self.answered(id, &answer, audit).await,
                Ok(None) => {}
                Err(StoreError::NotFound) => return Err(super::driver::run_gone(key)),
                Err(error) => return Err(store_error(error)),
            }
            if Instant::now() >= deadline {
                return self.give_up(id, key, audit).await;
            }
            if Instant::now() >= next_check {
                next_check = Instant::now() + RENEW_EVERY;
                self.drive_if_no_one_does(key, uid).await;
            }
        }
    }

    /// Starts a driver here when no replica holds the run (its driver died or let it go): it
    /// finds the stored command and carries it out.
    async fn drive_if_no_one_does(self: &Arc<Self>, key: &RunKey, uid: &str) {
        if self.is_stopping() {
            return;
        }
        if let Ok(None) = self.runs.driver_of(uid).await {
            self.send(key, Message::Stored);
        }
    }

    /// The answer another replica gave; its audit entry is the request's.
    async fn answered(
        &self,
        id: i64,
        answer: &crate::store::CommandAnswer,
        audit: Option<Arc<Ticket>>,
    ) -> Result<Reply, AppError> {
        if let (Some(ticket), Some(entry)) = (audit, answer.audit_id) {
            Stamp::of(ticket, entry).confirm();
        }
        if let Err(error) = self.runs.forget_command(id).await {
            tracing::debug!(%error, command = id, "forgetting an answered command failed");
        }
        serde_json::from_str::<Result<Reply, AppError>>(&answer.answer).unwrap_or_else(|error| {
            tracing::error!(%error, command = id, "a stored answer could not be read");
            Err(AppError::internal())
        })
    }

    /// No answer in time: the command is withdrawn (unless it was answered just now).
    async fn give_up(
        &self,
        id: i64,
        key: &RunKey,
        audit: Option<Arc<Ticket>>,
    ) -> Result<Reply, AppError> {
        match self.runs.withdraw_command(id).await {
            Ok(true) => Err(AppError::new(
                ErrorKind::Unavailable,
                "RunDriverUnavailable",
                format!(
                    "The server driving update run {} did not take the command within {} s; nothing was changed. Try again.",
                    key.1,
                    RELAY_PATIENCE.as_secs()
                ),
            )),
            Ok(false) => match self.runs.command_answer(id).await {
                Ok(Some(answer)) => self.answered(id, &answer, audit).await,
                Ok(None) | Err(StoreError::NotFound) => Err(super::driver::run_gone(key)),
                Err(error) => Err(store_error(error)),
            },
            Err(error) => Err(store_error(error)),
        }
    }
}
