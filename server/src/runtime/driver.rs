//! One run's driver: follow the upgrades in flight, observe what the next decision needs,
//! decide, commit, sleep. Repeat until the run has nothing left to do. It never asks why it
//! woke.

use super::backoff::Backoff;
use super::holds::HOLD;
use super::world::ObservedWorld;
use super::{Answer, Message, Order, RunKey, Runtime};
use crate::service::{provider_error, store_error};
use crate::store::{Driving, RunChange, StoreError, StoredRun};
use app::engine::{
    Command, Decided, Input, Places, Rejection, Reply, clusters_to_start, decide_in_place,
};
use app::model::error::AppError;
use app::model::member::ClusterResourceId;
use app::model::names::MemberName;
use app::model::run::{MemberState, Place, RunState, StageState, UpdateRun, WaitingOn};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::Instrument as _;

/// How long a driver with nothing to do lingers for another command before it exits.
const IDLE: Duration = Duration::from_secs(30);

/// How long to wait before trying again after the store or a decision failed (real time).
const RETRY: Duration = Duration::from_secs(2);

/// How many times a decision is made again when other runs took the clusters it wanted.
const BUSY_RETRIES: usize = 3;

/// How many times a decision is made again after looking at clusters it had no observation of.
const OBSERVE_ROUNDS: usize = 3;

/// Members of a group observed ahead of a decision (the engine usually starts the first).
pub(super) const OBSERVE_PER_GROUP: usize = 4;

/// Members of a group with a place free observed before a decision beyond its free places,
/// in case one of those cannot start (a decision that looks further observes and decides
/// again).
const OBSERVE_AHEAD: usize = 1;

/// What a decision was about, as its trace span says.
fn input_kind(input: &Input) -> &'static str {
    match input {
        Input::Tick => "tick",
        Input::Command(Command::Start) => "start",
        Input::Command(Command::Stop) => "stop",
        Input::Command(Command::Skip(_)) => "skip",
        Input::Command(Command::Approve(_)) => "approve",
        Input::Report { .. } | Input::Reports(_) => "reports",
    }
}

fn seconds(millis: i64) -> f64 {
    millis.max(0) as f64 / 1000.0
}

/// Writes the run's own changes and members' failures to the log (inside the run's span, so
/// every line names the run); the rest is in the run's timeline.
fn log_events(events: &[app::model::run::RunEvent]) {
    use app::model::run::{State, Subject};
    for event in events {
        let message = event.message.as_deref().unwrap_or("");
        match (&event.subject, event.state) {
            (Subject::Run, state) => {
                tracing::info!(state = ?state, message, "the run is {state:?}")
            }
            (Subject::Member(member), State::Failed) => {
                tracing::warn!(%member, message, "a member's upgrade failed")
            }
            _ => {}
        }
    }
}

/// Members of the stages that have started and not finished: where members wait.
fn started_members<'r>(
    run: &'r UpdateRun,
    places: &'r Places,
) -> impl Iterator<Item = &'r app::model::run::MemberRun> {
    // Settled members (completed, skipped) wait for nothing: each group's open ones only.
    let open = move |(s, stage): (usize, &'r app::model::run::StageRun)| {
        stage
            .groups
            .iter()
            .enumerate()
            .flat_map(move |(g, group)| group.members[places.open_from((s, g), group)..].iter())
    };
    run.stages
        .iter()
        .enumerate()
        .filter(|(_, s)| !matches!(s.state, StageState::NotStarted) && !s.state.is_done())
        .flat_map(open)
}

/// One cluster of each provider the run's members belong to: enough to ask for the catalog of
/// the run's providers without naming every member on every decision.
pub(super) fn one_cluster_per_provider(
    run: &UpdateRun,
    providers: &crate::provider::registry::Providers,
) -> Vec<ClusterResourceId> {
    let mut seen = std::collections::BTreeMap::new();
    for member in run.members() {
        let id = &member.cluster_resource_id;
        if let Some(provider) = providers.provider_of(id) {
            seen.entry(provider).or_insert_with(|| id.clone());
        }
    }
    seen.into_values().collect()
}

fn refused(rejection: Rejection) -> AppError {
    match rejection {
        Rejection::NotAllowed { why } => AppError::conflict("ActionNotAllowed", why),
        Rejection::NotSkippable { why } => AppError::conflict("NotSkippable", why),
        Rejection::NeedsConfirmation { why } => AppError::conflict("ConfirmationRequired", why),
        Rejection::Stale { why } => AppError::new(
            app::model::error::ErrorKind::PreconditionFailed,
            "PreconditionFailed",
            why,
        ),
        Rejection::UnknownTarget { what } => AppError::invalid("UnknownSkipTarget", what),
    }
}

pub(super) struct Driver {
    pub(super) rt: Arc<Runtime>,
    pub(super) key: RunKey,
    pub(super) stored: StoredRun,
    /// When to look at the upgrades in flight again.
    pub(super) next_look: Option<Instant>,
    /// Members whose provider could not answer, and when to ask again.
    pub(super) trouble: HashMap<MemberName, Backoff>,
    /// What the provider said of each member's attempt in flight (attempt, what is known).
    pub(super) known: HashMap<MemberName, (u32, super::follow::Known)>,
    /// Members wait for clusters the provider could not observe: when to observe again.
    pub(super) observe_again: Option<Backoff>,
    /// Something failed (the store, a decision): try again soon.
    pub(super) retry_soon: bool,
    /// The run was deleted under the driver (or replaced by another of the same name).
    pub(super) gone: bool,
    /// A cluster the run waits for may have been released unseen: decide again at once.
    pub(super) look_again: bool,
    /// The audit entry of the command being obeyed, for the save that carries it out.
    pub(super) audit: Option<Arc<crate::audit_trail::Ticket>>,
    /// This replica's hold on the run, while it has one.
    pub(super) driving: Option<Driving>,
    /// Another replica drives the run now: this driver stops.
    pub(super) lost: bool,
    /// The stored command being obeyed (sent through another replica), and whether a save
    /// carried its answer.
    answering: Option<i64>,
    answered: bool,
    /// Where each member sits (the layout is fixed): built when the run is loaded.
    pub(super) places: Places,
    /// The places of the members upgrading now, kept with each decision.
    pub(super) flying: BTreeSet<Place>,
    /// A cluster of each provider the run's members belong to, for the catalog.
    catalog_clusters: Vec<ClusterResourceId>,
    /// When the driver last learned that upgrades ended, until a decision starts the next.
    pub(super) learned_at: Option<Instant>,
    /// A placement run's plan, as last read.
    pub(super) plan: Option<super::placing::ReadPlan>,
    /// Whether another run may hold a cluster this run is about to start: so when the run was
    /// loaded or read again (`index`), when the leases last read showed another run holding
    /// one of the clusters asked about, and when a commit was refused because another run took
    /// a cluster first. While it is not so, decisions skip reading the leases (a round trip to
    /// the database on every step of a run no other run crosses): the store refuses a second
    /// lease on a cluster at the commit either way, and a refused commit sets this, so the
    /// decision is made again with the leases read.
    others_may_hold: bool,
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
        next_look: None,
        trouble: HashMap::new(),
        known: HashMap::new(),
        observe_again: None,
        retry_soon: false,
        gone: false,
        look_again: false,
        audit: None,
        driving: None,
        lost: false,
        answering: None,
        answered: false,
        places: Places::default(),
        flying: BTreeSet::new(),
        catalog_clusters: Vec::new(),
        learned_at: None,
        plan: None,
        others_may_hold: true,
    };
    driver.index();
    // Room for every cluster the run will observe, made once, when the driver starts: a cache
    // that grew as the run went would copy itself whole at each doubling, mid-step.
    let clusters = driver.stored.run.members().map(|m| &m.cluster_resource_id);
    driver.rt.observations.make_room(clusters);
    // A command for another run of this name, handed to a fresh driver once this one is gone.
    let mut handover = None;
    let held = driver.hold().await;
    if held {
        driver.obey_stored().await;
        handover = driver.run(&mut inbox).await;
    }
    // Whether the run is (or may be) another replica's: then its commands go through the store.
    let lost = !held || driver.lost;
    driver.let_go().await;
    inbox.close();
    rt.retire(&key);
    // Commands that slipped in while closing go to a fresh driver, or to the replica that
    // drives the run now.
    for message in handover
        .into_iter()
        .chain(std::iter::from_fn(|| inbox.try_recv().ok()))
    {
        match message {
            Message::Command(order) if lost && order.uid == driver.stored.run.uid => {
                let _ = order.reply.send(Answer::Elsewhere);
            }
            Message::Command(order) => rt.send(&key, Message::Command(order)),
            Message::Poke | Message::Stored | Message::Retire => {}
        }
    }
}

/// Answers queued commands for a run that cannot be loaded.
fn answer_all(inbox: &mut UnboundedReceiver<Message>, key: &RunKey) {
    while let Ok(message) = inbox.try_recv() {
        if let Message::Command(order) = message {
            let _ = order.reply.send(Answer::Done(Err(run_gone(key))));
        }
    }
}

pub(super) fn run_gone(key: &RunKey) -> AppError {
    AppError::not_found(
        "UpdateRunNotFound",
        format!("Fleet {} has no update run named {}.", key.0, key.1),
    )
}

impl Driver {
    /// Drives the run until it has nothing left to do, is gone, or another replica took it; a
    /// command for another run of this name is returned, for a fresh driver.
    async fn run(&mut self, inbox: &mut UnboundedReceiver<Message>) -> Option<Message> {
        loop {
            // A decision on what the follow learned moved the run on already (every decision
            // does): a tick on top of it would decide the same again.
            let decided = self.follow().await;
            if !decided && let Err(error) = self.apply(Input::Tick).await {
                tracing::warn!(fleet = %self.key.0, run = %self.key.1, code = %error.code, "a tick failed");
                self.retry_soon = true;
            }
            if self.gone || self.lost {
                return None;
            }
            let message = self.wait(inbox).await?;
            match message {
                Message::Command(order) => {
                    if let Some(order) = self.obey(order).await {
                        return Some(Message::Command(order));
                    }
                }
                Message::Stored => self.obey_stored().await,
                Message::Poke => {}
                Message::Retire => return None,
            }
            if self.gone || self.lost {
                return None;
            }
        }
    }

    /// Makes sure this replica holds the run, taking it (again) if no other replica does.
    /// `false` when another replica drives it (`lost` is then set) or the store could not say.
    /// After taking it again, the run is read afresh: another replica may have driven it
    /// meanwhile.
    pub(super) async fn hold(&mut self) -> bool {
        let uid = self.stored.run.uid.clone();
        if let Some(driving) = self.rt.holds.live(&uid) {
            self.driving = Some(driving);
            return true;
        }
        if self.rt.is_stopping() {
            self.lost = true;
            return false;
        }
        let sent = Instant::now();
        match self
            .rt
            .runs
            .take_run(&uid, self.rt.holds.replica(), HOLD)
            .await
        {
            Ok(Some((fence, version))) => {
                let again = self.driving.is_some();
                self.driving = Some(self.rt.holds.granted(&uid, fence, sent));
                if again {
                    tracing::info!(fleet = %self.key.0, run = %self.key.1, fence, "took the run again");
                }
                if version != self.stored.etag {
                    self.known.clear();
                    self.reload().await;
                }
                true
            }
            Ok(None) => {
                tracing::info!(fleet = %self.key.0, run = %self.key.1, "another server drives this run");
                self.driving = None;
                self.lost = true;
                false
            }
            Err(error) => {
                tracing::warn!(fleet = %self.key.0, run = %self.key.1, %error, "taking the run failed");
                self.retry_soon = true;
                false
            }
        }
    }

    /// This replica's hold on the run, taken again if it ran out and no other replica took it.
    async fn driving_now(&mut self) -> Result<Driving, AppError> {
        match self.hold().await {
            true => self.driving.clone().ok_or_else(AppError::internal),
            false => Err(store_error(StoreError::NotDriving)),
        }
    }

    /// Gives the run back as the driver exits (unless another replica took it).
    async fn let_go(&mut self) {
        let uid = self.stored.run.uid.clone();
        self.rt.holds.forget(&uid);
        let Some(driving) = self.driving.take() else {
            return;
        };
        if self.lost {
            return;
        }
        if let Err(error) = self.rt.runs.release_run(&uid, &driving).await {
            tracing::warn!(fleet = %self.key.0, run = %self.key.1, %error, "giving the run back failed; it is free when the hold runs out");
        }
    }

    /// Carries out the commands other replicas stored for this run, oldest first, each
    /// answered in the store (with the change it made, when it made one).
    async fn obey_stored(&mut self) {
        let waiting = match self.rt.runs.waiting_commands(&self.stored.run.uid).await {
            Ok(waiting) => waiting,
            Err(error) => {
                tracing::warn!(fleet = %self.key.0, run = %self.key.1, %error, "reading stored commands failed");
                self.retry_soon = true;
                return;
            }
        };
        for stored in waiting {
            let result = match serde_json::from_str::<Command>(&stored.command) {
                Ok(command) => {
                    self.audit = stored
                        .audit
                        .as_deref()
                        .and_then(|entry| serde_json::from_str(entry).ok())
                        .map(crate::audit_trail::Ticket::new);
                    self.answering = Some(stored.id);
                    self.answered = false;
                    let result = self.apply(Input::Command(command)).await;
                    self.audit = None;
                    self.answering = None;
                    result
                }
                Err(error) => Err(AppError::invalid(
                    "InvalidCommand",
                    format!("The stored command could not be read: {error}"),
                )),
            };
            if self.gone || self.lost {
                // Not answered here: whoever drives the run next does.
                return;
            }
            if !std::mem::take(&mut self.answered) {
                self.answer_stored(stored.id, &result).await;
            }
        }
    }

    /// Stores the answer to a command that changed nothing.
    async fn answer_stored(&mut self, id: i64, result: &Result<Reply, AppError>) {
        let Some(driving) = self.driving.clone() else {
            return;
        };
        let text = serde_json::to_string(result).unwrap_or_default();
        if let Err(error) = self.rt.runs.answer_command(id, &driving, &text).await {
            tracing::warn!(fleet = %self.key.0, run = %self.key.1, %error, "answering a stored command failed");
            self.retry_soon = true;
        }
    }

    /// Makes what the driver keeps beside the run it holds: after loading it.
    fn index(&mut self) {
        let run = &self.stored.run;
        self.places = Places::of(run);
        self.flying = run
            .placed()
            .filter(|(_, m)| m.state.in_flight())
            .map(|(place, _)| place)
            .collect();
        self.catalog_clusters = one_cluster_per_provider(run, &self.rt.providers);
        // Read afresh (another replica may have driven it): its members may wait for others.
        self.others_may_hold = true;
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
        settled && self.flying.is_empty()
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
                let _ = order.reply.send(Answer::Done(Err(run_gone(&self.key))));
                return None;
            }
        }
        self.audit = order.audit;
        let reply = self.apply(Input::Command(order.command)).await;
        self.audit = None;
        // A driver that lost the run changed nothing: the replica driving it answers.
        let answer = if self.lost {
            Answer::Elsewhere
        } else {
            Answer::Done(reply)
        };
        let _ = order.reply.send(answer);
        None
    }

    /// When to wake by itself: the run's own wake-up, the next look at an upgrade in flight, the
    /// next observation of a cluster the provider could not see.
    fn wake_time(&mut self) -> Option<Instant> {
        if std::mem::take(&mut self.retry_soon) {
            return Some(Instant::now() + RETRY);
        }
        let wake_at = self
            .stored
            .wake_at
            .map(|at| Instant::now() + self.rt.clock.real_duration_until(at));
        let observe = self.observe_again.as_ref().map(|b| b.until);
        [wake_at, self.next_look, observe]
            .into_iter()
            .flatten()
            .min()
    }

    /// Sleeps until the next wake-up or message; `None` when the driver should exit.
    async fn wait(&mut self, inbox: &mut UnboundedReceiver<Message>) -> Option<Message> {
        if std::mem::take(&mut self.look_again) {
            return Some(Message::Poke);
        }
        let wake = self.wake_time();
        if self.is_idle() && wake.is_none() {
            return tokio::time::timeout(IDLE, inbox.recv())
                .await
                .ok()
                .flatten();
        }
        let Some(wake) = wake else {
            return inbox.recv().await;
        };
        if wake <= Instant::now() {
            // Due already (upgrades just started, to follow): no timer, whose resolution is a
            // millisecond. A message waiting goes first; the look comes on the next turn anyway.
            return Some(inbox.try_recv().unwrap_or(Message::Poke));
        }
        tokio::select! {
            // `None`: every sender is gone (the driver was forgotten): exit.
            message = inbox.recv() => message,
            () = tokio::time::sleep_until(wake.into()) => Some(Message::Poke),
        }
    }

    /// Decides one input, commits the outcome and follows any upgrade it started. When another
    /// run took a cluster this decision wanted meanwhile (the commit was refused), decides
    /// again with the leases as they are now.
    pub(super) async fn apply(&mut self, input: Input) -> Result<Reply, AppError> {
        for _ in 0..BUSY_RETRIES {
            let span = tracing::info_span!(
                "decision",
                input = input_kind(&input),
                members_changed = tracing::field::Empty,
                events = tracing::field::Empty,
                upgrades_started = tracing::field::Empty,
            );
            let decided = self.decide_and_commit(input.clone()).instrument(span);
            if let Some(reply) = decided.await? {
                return Ok(reply);
            }
        }
        self.retry_soon = true;
        Err(AppError::conflict(
            "ClusterBusy",
            "Other runs kept taking the clusters this run wanted to upgrade; it tries again shortly.",
        ))
    }

    /// Observes what the decision needs, decides on the run in place (again, if it looked at a
    /// cluster it had no observation of), and commits; a decision not committed is undone.
    /// `None` when the commit was refused because another run holds a cluster the decision
    /// wanted to upgrade.
    async fn decide_and_commit(&mut self, input: Input) -> Result<Option<Reply>, AppError> {
        // Held before deciding: taking the run again may read it afresh.
        let driving = self.driving_now().await?;
        let releases_seen = self.rt.waiting.releases();
        let catalog = Arc::new(
            (self.rt.providers)
                .catalog_for(&self.catalog_clusters)
                .await
                .map_err(provider_error)?,
        );
        let mut needed = clusters_to_start(&self.stored.run, &self.places, &input, OBSERVE_AHEAD);
        let mut round = 0;
        let decided = loop {
            round += 1;
            // Read with the observations, for the same clusters (a decision may start only
            // those it has seen), and at once: on a connection's thread while the provider is
            // asked.
            let reading_leases = self.others_may_hold;
            let (holders, observed) = tokio::join!(
                self.clusters_held_by_others(&needed, reading_leases),
                self.rt.observations.of(&self.rt.providers, &needed)
            );
            let holders = holders?;
            if reading_leases {
                self.others_may_hold = !holders.is_empty();
            }
            let holders = Arc::new(holders);
            let plan = self.placement_plan().await;
            let world = ObservedWorld::new(catalog.clone(), observed, holders).with_plan(plan);
            let now = self.rt.clock.now();
            let decided = decide_in_place(
                &mut self.stored.run,
                &self.places,
                input.clone(),
                now,
                &world,
                &self.rt.engine,
            )
            .map_err(refused)?;
            let misses = world.misses();
            if misses.is_empty() || round == OBSERVE_ROUNDS {
                break decided;
            }
            decided.undo(&mut self.stored.run);
            needed.extend(misses);
        };
        self.wait_for_held_clusters(releases_seen);
        self.note_unobserved();
        if decided.changed_nothing(&self.stored.run) && decided.wake_at == self.stored.wake_at {
            return Ok(Some(decided.reply));
        }
        let ended = decided.ended(&self.stored.run);
        if let Err(error) = self.commit(&decided, &ended, &driving).await {
            decided.undo(&mut self.stored.run);
            return self.not_committed(error).await;
        }
        let _ = self.rt.changes.send(self.key.clone());
        let span = tracing::Span::current();
        span.record("members_changed", decided.changed.len());
        span.record("events", decided.events.len());
        span.record("upgrades_started", decided.effects.len());
        log_events(&decided.events);
        let approving = matches!(input, Input::Command(Command::Approve(_)));
        self.measure(&decided, &ended, approving);
        let released: Vec<ClusterResourceId> = ended
            .iter()
            .filter_map(|&place| self.stored.run.member_at(place))
            .map(|m| m.cluster_resource_id.clone())
            .collect();
        self.rt.observations.forget(&released);
        self.rt.released(&released);
        // Kept now: the groups move past the members this decision settled.
        let settled = decided.changed.iter().map(|(place, _)| *place);
        self.places.settle(&self.stored.run, settled);
        for (place, _) in &decided.changed {
            match self
                .stored
                .run
                .member_at(*place)
                .is_some_and(|m| m.state.in_flight())
            {
                true => self.flying.insert(*place),
                false => self.flying.remove(place),
            };
        }
        if !decided.effects.is_empty() {
            // Upgrades just started: follow them at once (this is where they are started).
            self.look_at_instant(Instant::now());
        }
        Ok(Some(decided.reply))
    }

    /// What a committed decision tells `/metrics`: how long the upgrades it ended took, how
    /// long the gates it approved waited, and the hand-over from learning that upgrades ended
    /// to starting the next.
    fn measure(&mut self, decided: &Decided, ended: &[Place], approving: bool) {
        let metrics = crate::metrics::metrics();
        for &place in ended {
            let Some((_, was)) = decided.changed.iter().find(|(p, _)| *p == place) else {
                continue;
            };
            let MemberState::Upgrading { started_at, .. } = was.state else {
                continue;
            };
            let (outcome, at) = match self.stored.run.member_at(place).map(|m| &m.state) {
                Some(MemberState::Completed { completed_at, .. }) => {
                    (crate::metrics::UpgradeOutcome::succeeded, *completed_at)
                }
                Some(MemberState::Failed { failed_at, .. }) => {
                    (crate::metrics::UpgradeOutcome::failed, *failed_at)
                }
                _ => continue,
            };
            metrics
                .member_upgrade_seconds
                .get_or_create(&crate::metrics::OutcomeLabels { outcome })
                .observe(seconds(at.millis() - started_at.millis()));
        }
        if approving {
            for waited in decided.approval_waits(&self.stored.run) {
                metrics.gate_approval_seconds.observe(seconds(waited));
            }
        }
        if let Some(learned) = self.learned_at.take()
            && !decided.effects.is_empty()
        {
            metrics
                .handover_seconds
                .observe(learned.elapsed().as_secs_f64());
        }
    }

    /// Writes the decision (made on `self.stored.run`, ending the upgrades at `ended`) to the
    /// store.
    async fn commit(
        &mut self,
        decided: &Decided,
        ended: &[Place],
        driving: &Driving,
    ) -> Result<(), StoreError> {
        let answer = self.answering.map(|id| {
            (
                id,
                serde_json::to_string(&Ok::<_, AppError>(&decided.reply)),
            )
        });
        let answers = match &answer {
            Some((id, Ok(text))) => Some((*id, text.as_str())),
            Some((_, Err(_))) | None => None,
        };
        let places: Vec<Place> = decided.changed.iter().map(|(place, _)| *place).collect();
        let ended: Vec<&MemberName> = ended
            .iter()
            .filter_map(|&place| self.stored.run.member_at(place).map(|m| &m.name))
            .collect();
        let change = RunChange {
            run: &self.stored.run,
            outside_members: decided.changed_outside_members(&self.stored.run),
            members: &places,
            ended: &ended,
            events: &decided.events,
            effects: &decided.effects,
            wake_at: decided.wake_at,
            answers,
        };
        let save = self
            .rt
            .runs
            .save_run(&self.key.0, &self.stored, driving, change);
        let saved = match self.audit.clone() {
            Some(ticket) => crate::audit_trail::serving(ticket, save).await,
            None => save.await,
        }?;
        self.rt
            .decisions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::metrics::metrics().decisions.inc();
        self.answered |= answers.is_some();
        self.stored.etag = saved;
        self.stored.wake_at = decided.wake_at;
        Ok(())
    }

    /// After a commit was refused (the decision undone): `None` to decide again, or the error.
    async fn not_committed(&mut self, error: StoreError) -> Result<Option<Reply>, AppError> {
        match error {
            StoreError::NotDriving => {
                // The hold ran out unseen, or another replica took the run: take it again if
                // no one else holds it, and decide again on the run as it is now.
                self.rt.holds.forget(&self.stored.run.uid);
                if self.hold().await {
                    return Ok(None);
                }
                Err(store_error(StoreError::NotDriving))
            }
            StoreError::ClusterBusy(cluster) => {
                tracing::info!(fleet = %self.key.0, run = %self.key.1, %cluster, "another run holds a cluster this decision wanted; deciding again with the leases read");
                self.others_may_hold = true;
                Ok(None)
            }
            StoreError::Concurrent => {
                // Only this driver writes a run; someone deleted or replaced it meanwhile.
                self.reload().await;
                if self.gone {
                    return Err(run_gone(&self.key));
                }
                Err(store_error(StoreError::Concurrent))
            }
            error => Err(store_error(error)),
        }
    }

    /// Members wait for clusters the provider could not observe: observe them again later,
    /// backing off while that keeps failing.
    fn note_unobserved(&mut self) {
        let waiting = started_members(&self.stored.run, &self.places).find(|m| {
            matches!(
                m.state,
                MemberState::Pending {
                    waiting_on: Some(WaitingOn::Provider),
                    ..
                }
            )
        });
        self.observe_again = waiting.map(|m| {
            let cap = self
                .rt
                .providers
                .policy_for(&m.cluster_resource_id)
                .backoff_cap;
            Backoff::after(self.observe_again.as_ref(), None, cap, 1)
        });
    }

    /// Which of `clusters` other runs are upgrading now, with who; none, without asking the
    /// store, unless `reading` (see `others_may_hold`).
    async fn clusters_held_by_others(
        &self,
        clusters: &[ClusterResourceId],
        reading: bool,
    ) -> Result<HashMap<ClusterResourceId, String>, AppError> {
        if !reading {
            return Ok(HashMap::new());
        }
        let leases = (self.rt.runs)
            .leases_of(clusters, &self.stored.run.uid)
            .await
            .map_err(store_error)?;
        Ok(leases
            .into_iter()
            .map(|lease| {
                let holder = lease.holder();
                (lease.cluster, holder)
            })
            .collect())
    }

    /// Registers the run as waiting for the clusters its pending members wait for; looks again
    /// at once if one was released since the leases were read.
    fn wait_for_held_clusters(&mut self, releases_seen: u64) {
        let held: Vec<ClusterResourceId> = started_members(&self.stored.run, &self.places)
            .filter(|m| {
                matches!(
                    m.state,
                    MemberState::Pending {
                        waiting_on: Some(WaitingOn::OtherRun { .. }),
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
            Ok(Some(stored)) => {
                self.stored = stored;
                self.index();
            }
            Ok(None) => self.gone = true,
            Err(error) => {
                tracing::error!(fleet = %self.key.0, run = %self.key.1, %error, "reloading a run failed")
            }
        }
    }
}
