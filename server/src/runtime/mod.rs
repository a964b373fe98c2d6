//! The runtime carries out what the engine decides (DESIGN.md §5). One driver task per active
//! run: it observes what a decision needs (`observations`), feeds the engine commands, provider
//! reports and the passing of time, and commits each decision with its events in one
//! transaction. It then follows every member the run shows as upgrading (`follow`): starting
//! its operation if the provider never saw it, asking about it until it ends. It sleeps until
//! the earliest wake-up or the next command, and never needs to know why it woke. After a
//! crash, `resume_all` restarts a driver for every running or stopping run, and following its
//! members is all it takes to finish what was committed.
//!
//! Several replicas may share one database (`holds`): each run is driven by the one replica
//! holding it; the others take it over when that one's hold runs out, and hand commands they
//! are sent for it to its driver through the store (`relay`).

mod answers;
mod backoff;
mod driver;
mod follow;
pub mod holds;
pub(crate) mod observations;
pub mod placing;
mod relay;
mod waiting;
pub(crate) mod world;

use crate::clock::Clock;
use crate::provider::registry::Providers;
use crate::service::store_error;
use crate::store::RunStore;
use app::engine::{Command, EngineConfig, Reply};
use app::model::error::AppError;
use app::model::names::{FleetName, RunName};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc, oneshot};

pub type RunKey = (FleetName, RunName);

/// What a driver answers a command: the engine's answer, or that another replica drives the
/// run (the command then goes to it through the store).
enum Answer {
    Done(Result<Reply, AppError>),
    Elsewhere,
}

/// An operator command for the run with uid `uid` (the one the caller read), and where to
/// answer. A driver acts only on its own run: a command for another uid is never applied to it.
struct Order {
    command: Command,
    uid: String,
    reply: oneshot::Sender<Answer>,
    /// The audit entry of the request that gave the command: the run's save carries it.
    audit: Option<Arc<crate::audit_trail::Ticket>>,
}

/// What a driver can be told.
enum Message {
    Command(Order),
    /// Look again now (a manual clock moved, a test wants progress).
    Poke,
    /// Commands sent through other replicas wait in the store.
    Stored,
    /// The run was deleted: stop at once.
    Retire,
}

pub struct Runtime {
    runs: Arc<dyn RunStore>,
    providers: Arc<Providers>,
    clock: Arc<dyn Clock>,
    engine: EngineConfig,
    drivers: Mutex<HashMap<RunKey, mpsc::UnboundedSender<Message>>>,
    /// Which run just committed something: the event streams read the store from there.
    changes: broadcast::Sender<RunKey>,
    /// Decisions committed since start, for benchmarks and metrics.
    decisions: std::sync::atomic::AtomicU64,
    /// Runs waiting for clusters other runs are upgrading.
    waiting: waiting::Waiting,
    /// What the providers observed lately, shared by every run's driver.
    observations: observations::Observations,
    /// Which runs this replica drives.
    holds: holds::Holds,
    /// Set once the server shuts down: no run is taken (over) any more.
    stopping: std::sync::atomic::AtomicBool,
    /// How placement runs read their placements.
    placements: Option<Arc<dyn placing::Placements>>,
}

impl Runtime {
    pub fn new(
        runs: Arc<dyn RunStore>,
        providers: Arc<Providers>,
        clock: Arc<dyn Clock>,
        engine: EngineConfig,
        replica: String,
        placements: Option<Arc<dyn placing::Placements>>,
    ) -> Arc<Self> {
        let (changes, _) = broadcast::channel(1024);
        Arc::new(Self {
            runs,
            providers,
            clock,
            engine,
            drivers: Mutex::new(HashMap::new()),
            changes,
            decisions: std::sync::atomic::AtomicU64::new(0),
            waiting: waiting::Waiting::default(),
            observations: observations::Observations::default(),
            holds: holds::Holds::new(replica),
            stopping: std::sync::atomic::AtomicBool::new(false),
            placements,
        })
    }

    /// Starts a driver for every running or stopping run no live replica drives (those this
    /// one drove before it restarted included), and keeps doing so: renewing this replica's
    /// holds, taking over the runs of replicas that died, passing on commands left in the store.
    pub async fn resume_all(self: &Arc<Self>) -> Result<usize, AppError> {
        let resumed = self.take_over().await.map_err(store_error)?;
        tokio::spawn(relay::keep_holds(Arc::downgrade(self)));
        Ok(resumed)
    }

    /// Starts a driver for every running or stopping run no live replica drives; how many.
    async fn take_over(self: &Arc<Self>) -> Result<usize, crate::store::StoreError> {
        let orphans = self.runs.runs_to_drive(self.holds.replica()).await?;
        let mut started = 0;
        for key in &orphans {
            if !self.lock().contains_key(key) {
                self.sender(key);
                started += 1;
            }
        }
        Ok(started)
    }

    /// This replica's id, as the store names the driver of the runs it drives.
    pub fn replica(&self) -> &str {
        self.holds.replica()
    }

    /// Stops driving (the server shuts down): every driver stops, and every run this replica
    /// held is given back at once, for another replica to take without waiting for the hold to
    /// run out.
    pub async fn shut_down(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for (_, sender) in self.lock().drain() {
            let _ = sender.send(Message::Retire);
        }
        match self.runs.release_runs(self.holds.replica()).await {
            Ok(0) => {}
            Ok(runs) => tracing::info!(runs, "gave back the runs this server drove"),
            Err(error) => {
                tracing::warn!(%error, "giving back runs failed; other servers take them when their holds run out")
            }
        }
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sends an operator command for the run `uid` to its driver and waits for the engine's
    /// answer.
    pub async fn command(
        self: &Arc<Self>,
        key: &RunKey,
        uid: &str,
        command: Command,
    ) -> Result<Reply, AppError> {
        let (reply, answer) = oneshot::channel();
        let audit = crate::audit_trail::current();
        let order = Order {
            command: command.clone(),
            uid: uid.to_owned(),
            reply,
            audit: audit.clone(),
        };
        self.send(key, Message::Command(order));
        match answer.await {
            Ok(Answer::Done(result)) => result,
            Ok(Answer::Elsewhere) => self.relay(key, uid, &command, audit).await,
            Err(_) => {
                tracing::error!(fleet = %key.0, run = %key.1, "a run driver stopped without answering");
                Err(AppError::internal())
            }
        }
    }

    /// Stops the run's driver at once (the run was deleted), so it can never answer for a run
    /// created later under the same name.
    pub fn forget(&self, key: &RunKey) {
        if let Some(sender) = self.lock().remove(key) {
            let _ = sender.send(Message::Retire);
        }
    }

    /// Stops the drivers of every run of a fleet (the fleet was deleted).
    pub fn forget_fleet(&self, fleet: &FleetName) {
        let mut drivers = self.lock();
        let keys: Vec<RunKey> = drivers.keys().filter(|k| k.0 == *fleet).cloned().collect();
        for key in keys {
            if let Some(sender) = drivers.remove(&key) {
                let _ = sender.send(Message::Retire);
            }
        }
    }

    /// Makes every driver look again now.
    pub fn poke_all(&self) {
        for sender in self.lock().values() {
            let _ = sender.send(Message::Poke);
        }
    }

    /// Wakes the runs waiting for `clusters`, whose upgrades just ended.
    fn released(&self, clusters: &[app::model::member::ClusterResourceId]) {
        let woken = self.waiting.released(clusters);
        let drivers = self.lock();
        for key in woken {
            if let Some(sender) = drivers.get(&key) {
                let _ = sender.send(Message::Poke);
            }
        }
    }

    /// What the run's clusters look like now, as a decision would see them (observations
    /// shared with the drivers; no leases): for forecasts and previews.
    pub async fn world_for(
        &self,
        run: &app::model::run::UpdateRun,
    ) -> Result<world::ObservedWorld, AppError> {
        let catalog = self
            .providers
            .catalog_for(&driver::one_cluster_per_provider(run, &self.providers))
            .await
            .map_err(crate::service::provider_error)?;
        let needed = app::engine::clusters_to_observe(run, driver::OBSERVE_PER_GROUP);
        let observed = self.observations.of(&self.providers, &needed).await;
        Ok(world::ObservedWorld::for_forecast(
            Arc::new(catalog),
            observed,
        ))
    }

    /// Observes `clusters` through the shared observations (reusing those still fresh for
    /// their provider): each answer, with what was last seen when the answer is a failure.
    pub async fn observe(
        &self,
        clusters: &[app::model::member::ClusterResourceId],
    ) -> Vec<(
        Result<app::model::cluster::ClusterState, crate::provider::ProviderError>,
        Option<app::model::cluster::ClusterState>,
    )> {
        let shared = self.observe_shared(clusters).await;
        shared
            .into_iter()
            .map(|(answer, last_seen)| {
                (
                    answer.map(Arc::unwrap_or_clone),
                    last_seen.map(Arc::unwrap_or_clone),
                )
            })
            .collect()
    }

    /// [`observe`](Self::observe) without a copy of each cluster's state: what a page of the
    /// whole fleet reads.
    pub async fn observe_shared(
        &self,
        clusters: &[app::model::member::ClusterResourceId],
    ) -> Vec<(
        observations::Observed,
        Option<Arc<app::model::cluster::ClusterState>>,
    )> {
        let mut observed = self.observations.of(&self.providers, clusters).await;
        clusters
            .iter()
            .map(|cluster| {
                let answer = observed.remove(cluster).unwrap_or_else(|| {
                    Err(crate::provider::ProviderError::transient("not observed"))
                });
                let last_seen = match &answer {
                    Ok(_) => None,
                    Err(_) => self.observations.last_good(cluster),
                };
                (answer, last_seen)
            })
            .collect()
    }

    pub fn providers(&self) -> &Arc<Providers> {
        &self.providers
    }

    /// Decisions committed since this runtime started.
    pub fn decisions(&self) -> u64 {
        self.decisions.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RunKey> {
        self.changes.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RunKey, mpsc::UnboundedSender<Message>>> {
        // The map holds only senders; a panic elsewhere cannot leave it half-changed.
        self.drivers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(self: &Arc<Self>, key: &RunKey, message: Message) {
        let sender = self.sender(key);
        if let Err(mpsc::error::SendError(message)) = sender.send(message) {
            // The driver was just exiting; start a fresh one.
            self.lock().remove(key);
            let _ = self.sender(key).send(message);
        }
    }

    /// The run's driver, started if it is not running (one that cannot take the run answers
    /// commands with `Elsewhere` and exits).
    fn sender(self: &Arc<Self>, key: &RunKey) -> mpsc::UnboundedSender<Message> {
        let mut drivers = self.lock();
        if let Some(sender) = drivers.get(key).filter(|s| !s.is_closed()) {
            return sender.clone();
        }
        let (sender, inbox) = mpsc::unbounded_channel();
        drivers.insert(key.clone(), sender.clone());
        // Every line a driver writes names its run (and, where it is about one, the member).
        // A root: the run's trace is its own, not the request's that happened to wake its
        // driver (which would stay open, unexported, as long as the driver lives).
        let span = tracing::info_span!(parent: None, "run", fleet = %key.0, run = %key.1);
        tokio::spawn(tracing::Instrument::instrument(
            driver::drive(self.clone(), key.clone(), inbox),
            span,
        ));
        sender
    }

    /// Forgets a driver that is exiting, unless a new one already took its place.
    fn retire(&self, key: &RunKey) {
        let mut drivers = self.lock();
        if drivers
            .get(key)
            .is_some_and(mpsc::UnboundedSender::is_closed)
        {
            drivers.remove(key);
        }
    }
}
