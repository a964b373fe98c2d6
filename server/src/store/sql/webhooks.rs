//! Webhooks, the dispatcher's cursor (a setting) and the deliveries' outbox.

use super::{SqlStore, corrupt};
use crate::store::{
    Attempt, Delivery, DeliveryState, Expect, NewDelivery, StoreError, StoreResult, StoredWebhook,
    WebhookStore,
};
use crate::webhooks::{FleetEvent, WebhookSpec};
use app::model::names::WebhookName;
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

const CURSOR: &str = "webhooks.cursor";

fn webhook_from_row(row: &AnyRow) -> StoreResult<StoredWebhook> {
    let name = WebhookName::parse(&row.try_get::<String, _>("name")?)
        .map_err(|e| corrupt("webhook", e))?;
    let spec: WebhookSpec = serde_json::from_str(&row.try_get::<String, _>("spec")?)
        .map_err(|e| corrupt("webhook", e))?;
    Ok(StoredWebhook {
        name,
        spec,
        etag: row.try_get("version")?,
        since_event: row.try_get("since_event")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn state_of(text: &str) -> StoreResult<DeliveryState> {
    match text {
        "Pending" => Ok(DeliveryState::Pending),
        "Delivered" => Ok(DeliveryState::Delivered),
        "Failed" => Ok(DeliveryState::Failed),
        other => Err(corrupt("delivery state", other)),
    }
}

fn state_text(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "Pending",
        DeliveryState::Delivered => "Delivered",
        DeliveryState::Failed => "Failed",
    }
}

fn delivery_from_row(row: &AnyRow) -> StoreResult<Delivery> {
    let webhook = WebhookName::parse(&row.try_get::<String, _>("webhook")?)
        .map_err(|e| corrupt("delivery", e))?;
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        payload: row.try_get("payload")?,
        state: state_of(&row.try_get::<String, _>("state")?)?,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        next_attempt_at: Timestamp(row.try_get("next_attempt_at")?),
        last_attempt_at: row
            .try_get::<Option<i64>, _>("last_attempt_at")?
            .map(Timestamp),
        last_status: row
            .try_get::<Option<i64>, _>("last_status")?
            .map(|s| s as u16),
        last_error: row.try_get("last_error")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// The columns `delivery_from_row` reads (a macro, because sqlx takes only literal SQL).
macro_rules! delivery_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, webhook, event_id, event_type, payload, state, attempts, next_attempt_at, \
             last_attempt_at, last_status, last_error, created_at FROM webhook_deliveries ",
            $rest
        )
    };
}

#[async_trait::async_trait]
impl WebhookStore for SqlStore {
    async fn put_webhook(
        &self,
        name: &WebhookName,
        spec: &WebhookSpec,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredWebhook, bool)> {
        let text = serde_json::to_string(spec).map_err(|e| corrupt("webhook", e))?;
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT * FROM webhooks WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(webhook_from_row)
            .transpose()?;
        if !expect.allows(existing.as_ref().map(|w| w.etag)) {
            return Err(StoreError::Concurrent);
        }
        let stored = match existing {
            None => {
                let since_event: i64 =
                    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM run_events")
                        .fetch_one(&mut *tx)
                        .await?;
                sqlx::query("INSERT INTO webhooks (name, spec, version, since_event, created_at) VALUES ($1, $2, 1, $3, $4)")
                    .bind(name.as_str())
                    .bind(&text)
                    .bind(since_event)
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await?;
                StoredWebhook {
                    name: name.clone(),
                    spec: spec.clone(),
                    etag: 1,
                    since_event,
                    created_at: now,
                }
            }
            Some(old) => {
                let done = sqlx::query(
                    "UPDATE webhooks SET spec = $1, version = version + 1 WHERE name = $2 AND version = $3",
                )
                .bind(&text)
                .bind(name.as_str())
                .bind(old.etag)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Concurrent);
                }
                StoredWebhook {
                    spec: spec.clone(),
                    etag: old.etag + 1,
                    ..old
                }
            }
        };
        super::commit_audited(tx).await?;
        let created = stored.etag == 1;
        Ok((stored, created))
    }

    async fn get_webhook(&self, name: &WebhookName) -> StoreResult<Option<StoredWebhook>> {
        let row = sqlx::query("SELECT * FROM webhooks WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<StoredWebhook>> {
        let rows = sqlx::query("SELECT * FROM webhooks ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    async fn delete_webhook(&self, name: &WebhookName, expect: Expect) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("DELETE FROM webhooks WHERE name = $1 AND ($2 IS NULL OR version = $2)")
                .bind(name.as_str())
                .bind(expect.version())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 1 {
            super::commit_audited(tx).await?;
            return Ok(true);
        }
        drop(tx);
        let exists = self.get_webhook(name).await?.is_some();
        match (expect, exists) {
            (Expect::Version(_), true) => Err(StoreError::Concurrent),
            _ => Ok(false),
        }
    }

    async fn webhook_cursor(&self) -> StoreResult<i64> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(CURSOR)
                .fetch_optional(&self.pool)
                .await?;
        if let Some(text) = stored {
            return text.parse().map_err(|e| corrupt("webhook cursor", e));
        }
        let newest: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM run_events")
            .fetch_one(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(CURSOR)
        .bind(newest.to_string())
        .execute(&self.pool)
        .await?;
        Ok(newest)
    }

    async fn events_after(&self, after: i64, limit: i64) -> StoreResult<Vec<FleetEvent>> {
        let rows = sqlx::query(
            "SELECT id, fleet, run, event FROM run_events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FleetEvent {
                    id: row.try_get("id")?,
                    fleet: row.try_get("fleet")?,
                    run: row.try_get("run")?,
                    event: super::records::from_text::<super::records::EventRecord>(
                        &row.try_get::<String, _>("event")?,
                    )
                    .map_err(|e| corrupt("event", e))?,
                })
            })
            .collect()
    }

    async fn queue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        cursor: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for d in deliveries {
            // A webhook deleted meanwhile takes its deliveries with it: skip, do not fail.
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook, event_id, event_type, payload, state, next_attempt_at, created_at) \
                 SELECT $1, $2, $3, $4, 'Pending', $5, $5 WHERE EXISTS (SELECT 1 FROM webhooks WHERE name = $1) \
                 ON CONFLICT (webhook, event_id) DO NOTHING",
            )
            .bind(d.webhook.as_str())
            .bind(d.event_id)
            .bind(&d.event_type)
            .bind(&d.payload)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(CURSOR)
            .bind(cursor.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn webhooks_due(&self, now: Timestamp) -> StoreResult<Vec<WebhookName>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT webhook FROM webhook_deliveries WHERE state = 'Pending' AND next_attempt_at <= $1",
        )
        .bind(now.millis())
        .fetch_all(&self.pool)
        .await?;
        names
            .iter()
            .map(|n| WebhookName::parse(n).map_err(|e| corrupt("delivery", e)))
            .collect()
    }

    async fn due_deliveries(
        &self,
        webhook: &WebhookName,
        now: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let rows = sqlx::query(delivery_select!(
            "WHERE webhook = $1 AND state = 'Pending' AND next_attempt_at <= $2 ORDER BY id LIMIT $3"
        ))
        .bind(webhook.as_str())
        .bind(now.millis())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn record_attempt(&self, delivery: i64, attempt: &Attempt) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $1, last_status = $2, \
             last_error = $3, state = $4, next_attempt_at = $5 WHERE id = $6",
        )
        .bind(attempt.at.millis())
        .bind(attempt.status.map(i64::from))
        .bind(&attempt.error)
        .bind(state_text(attempt.state))
        .bind(attempt.next_attempt_at.millis())
        .bind(delivery)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        webhook: &WebhookName,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let rows = sqlx::query(delivery_select!(
            "WHERE webhook = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(webhook.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn take_duty(
        &self,
        name: &str,
        replica: &str,
        hold: std::time::Duration,
    ) -> StoreResult<bool> {
        self.take_duty_sql(name, replica, hold).await
    }

    async fn prune_deliveries(&self, keep: i64) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM webhook_deliveries AS d WHERE d.state != 'Pending' AND d.id < \
             (SELECT id FROM webhook_deliveries WHERE webhook = d.webhook ORDER BY id DESC LIMIT 1 OFFSET $1)",
        )
        .bind(keep - 1)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
