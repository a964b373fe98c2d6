//! The dispatcher: fans new events out into the deliveries' outbox (moving its cursor in the
//! same transaction), then sends what is due, one webhook's deliveries in order, webhooks side
//! by side, each attempt bounded by a timeout, failures retried with exponential backoff. A
//! failed attempt ends its webhook's turn, so a dead receiver costs one timeout per pass.

use super::cloudevent::{FleetEvent, cloud_event, event_type, signature};
use crate::store::{
    Attempt, Delivery, DeliveryState, NewDelivery, StoreResult, StoredWebhook, WebhookStore,
};
use app::model::names::WebhookName;
use app::model::time::Timestamp;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How deliveries are attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchSettings {
    /// How long a receiver has to answer one delivery.
    pub timeout: Duration,
    /// Attempts before a delivery is given up (`Failed`).
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles after each one, up to `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// Finished deliveries kept per webhook as its history.
    pub history: i64,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_attempts: 12,
            first_retry: Duration::from_secs(2),
            max_retry: Duration::from_secs(3600),
            history: 1000,
        }
    }
}

impl DispatchSettings {
    /// The wait before attempt `failed + 1`, after `failed` failures.
    pub fn backoff(&self, failed: u32) -> Duration {
        let factor = 2u32.saturating_pow(failed.saturating_sub(1).min(30));
        self.first_retry.saturating_mul(factor).min(self.max_retry)
    }
}

/// Events read from the store per pass.
const EVENTS_PER_PASS: i64 = 1000;
/// Deliveries one webhook sends per pass, in order, before others get a turn at the store.
const DELIVERIES_PER_PASS: i64 = 50;
/// How often the dispatcher looks even when no run said it changed (retries coming due).
const POLL: Duration = Duration::from_millis(250);

/// Wall-clock now: retries follow real time, whatever fleet time does.
fn wall_now() -> Timestamp {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(since_epoch.as_millis() as i64)
}

pub struct Dispatcher {
    store: Arc<dyn WebhookStore>,
    http: reqwest::Client,
    settings: DispatchSettings,
    /// Webhooks whose deliveries are being sent now: one sender each keeps them in order.
    sending: Mutex<HashSet<WebhookName>>,
    /// This server's name among replicas: one replica dispatches at a time (the duty `webhooks`).
    replica: String,
    /// Until when this replica surely holds the duty.
    duty_until: Mutex<Option<std::time::Instant>>,
}

/// How long the webhook duty lasts unless renewed; it is renewed when half of it is left.
const DUTY_HOLD: Duration = Duration::from_secs(3);

impl Dispatcher {
    pub fn new(
        store: Arc<dyn WebhookStore>,
        settings: DispatchSettings,
        replica: String,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("drydock-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store,
            http,
            settings,
            sending: Mutex::new(HashSet::new()),
            replica,
            duty_until: Mutex::new(None),
        })
    }

    /// Whether this replica dispatches now: it holds the duty, renewed when half of it is left.
    /// (Sends under way when a paused replica lost it may repeat a delivery: receivers get
    /// each event at least once, and dedupe by its id.)
    async fn on_duty(&self) -> StoreResult<bool> {
        let now = std::time::Instant::now();
        let until = *self.duty_until.lock().expect("not poisoned");
        if until.is_some_and(|until| until > now + DUTY_HOLD / 2) {
            return Ok(true);
        }
        let held = self
            .store
            .take_duty("webhooks", &self.replica, DUTY_HOLD)
            .await?;
        *self.duty_until.lock().expect("not poisoned") = held.then_some(now + DUTY_HOLD);
        Ok(held)
    }

    /// Runs until the process ends; `changes` wakes it when a run moved.
    pub fn spawn(
        self: Arc<Self>,
        mut changes: tokio::sync::broadcast::Receiver<impl Clone + Send + 'static>,
    ) {
        tokio::spawn(async move {
            loop {
                if let Err(error) = self.pass().await {
                    tracing::warn!(%error, "webhook dispatch failed; trying again");
                }
                tokio::select! {
                    _ = changes.recv() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
        });
    }

    async fn pass(self: &Arc<Self>) -> StoreResult<()> {
        if !self.on_duty().await? {
            return Ok(());
        }
        while self.fan_out().await? == EVENTS_PER_PASS as usize {}
        for webhook in self.store.webhooks_due(wall_now()).await? {
            if self
                .sending
                .lock()
                .expect("not poisoned")
                .insert(webhook.clone())
            {
                let me = self.clone();
                tokio::spawn(async move {
                    if let Err(error) = me.send_due(&webhook).await {
                        tracing::warn!(%error, %webhook, "webhook delivery could not be recorded");
                    }
                    me.sending.lock().expect("not poisoned").remove(&webhook);
                });
            }
        }
        Ok(())
    }

    /// Queues the deliveries of the events after the cursor; how many events it read.
    async fn fan_out(&self) -> StoreResult<usize> {
        let cursor = self.store.webhook_cursor().await?;
        let events = self.store.events_after(cursor, EVENTS_PER_PASS).await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(0);
        };
        let webhooks = self.store.list_webhooks().await?;
        let deliveries: Vec<NewDelivery> = events
            .iter()
            .flat_map(|event| deliveries_of(event, &webhooks))
            .collect();
        self.store
            .queue_deliveries(&deliveries, last, wall_now())
            .await?;
        Ok(events.len())
    }

    async fn send_due(&self, name: &WebhookName) -> StoreResult<()> {
        let Some(webhook) = self.store.get_webhook(name).await? else {
            return Ok(());
        };
        if webhook.spec.disabled {
            return Ok(());
        }
        let due = self
            .store
            .due_deliveries(name, wall_now(), DELIVERIES_PER_PASS)
            .await?;
        let mut finished = false;
        for delivery in due {
            let attempt = self.attempt(&webhook, &delivery).await;
            self.store.record_attempt(delivery.id, &attempt).await?;
            finished |= attempt.state != DeliveryState::Pending;
            if attempt.state != DeliveryState::Delivered {
                // The receiver is failing: do not spend a timeout on each of its backlog now;
                // the next pass starts again from its oldest delivery that is due.
                break;
            }
        }
        // History only grows when a delivery finishes: prune then, not on every idle pass
        // (a write that would contend with the engine's on SQLite's single writer).
        if finished {
            self.store.prune_deliveries(self.settings.history).await?;
        }
        Ok(())
    }

    async fn attempt(&self, webhook: &StoredWebhook, delivery: &Delivery) -> Attempt {
        let mut request = self
            .http
            .post(&webhook.spec.url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/cloudevents+json; charset=utf-8",
            )
            .header("x-drydock-delivery", delivery.id.to_string())
            .header("x-drydock-event", &delivery.event_type)
            .body(delivery.payload.clone());
        if let Some(secret) = webhook.spec.secret.as_deref().filter(|s| !s.is_empty()) {
            request = request.header(
                "x-drydock-signature-256",
                signature(secret, delivery.payload.as_bytes()),
            );
        }
        let (status, error) = match request.send().await {
            Ok(response) if response.status().is_success() => (Some(response.status()), None),
            Ok(response) => (
                Some(response.status()),
                Some(format!("the receiver answered {}", response.status())),
            ),
            Err(error) if error.is_timeout() => (
                None,
                Some(format!(
                    "the receiver did not answer within {} s",
                    self.settings.timeout.as_secs_f64()
                )),
            ),
            Err(error) => (None, Some(format!("could not reach the receiver: {error}"))),
        };
        self.outcome(delivery, status.map(|s| s.as_u16()), error)
    }

    fn outcome(&self, delivery: &Delivery, status: Option<u16>, error: Option<String>) -> Attempt {
        let at = wall_now();
        let failed = delivery.attempts + 1;
        let (state, next_attempt_at) = match &error {
            None => (DeliveryState::Delivered, at),
            Some(_) if failed >= self.settings.max_attempts => (DeliveryState::Failed, at),
            Some(_) => {
                let wait = self.settings.backoff(failed).as_millis() as i64;
                (DeliveryState::Pending, Timestamp(at.millis() + wait))
            }
        };
        Attempt {
            at,
            status,
            error,
            state,
            next_attempt_at,
        }
    }
}

/// The deliveries one event makes: one per webhook that wants it and existed before it.
fn deliveries_of(event: &FleetEvent, webhooks: &[StoredWebhook]) -> Vec<NewDelivery> {
    let kind = event_type(&event.event.subject, event.event.state);
    let wanting: Vec<&StoredWebhook> = webhooks
        .iter()
        .filter(|w| event.id > w.since_event && w.spec.wants(&event.fleet, &kind))
        .collect();
    if wanting.is_empty() {
        return Vec::new();
    }
    let payload = cloud_event(event).to_string();
    wanting
        .into_iter()
        .map(|w| NewDelivery {
            webhook: w.name.clone(),
            event_id: event.id,
            event_type: kind.clone(),
            payload: payload.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let settings = DispatchSettings {
            first_retry: Duration::from_secs(2),
            max_retry: Duration::from_secs(60),
            ..Default::default()
        };
        let waits: Vec<u64> = (1..=7).map(|n| settings.backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(settings.backoff(200).as_secs(), 60, "no overflow");
    }
}
