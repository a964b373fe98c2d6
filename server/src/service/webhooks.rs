//! Webhooks: registered, replaced (the secret kept unless a new one is given), deleted, and
//! their deliveries read back.

use super::{Drydock, expectation, store_error};
use crate::store::{Delivery, Expect, StoredWebhook};
use crate::webhooks::WebhookSpec;
use app::model::access::{Caller, Role};
use app::model::error::AppError;
use app::model::names::WebhookName;
use app::model::precondition::Precondition;

fn webhook_not_found(name: &WebhookName) -> AppError {
    AppError::not_found(
        "WebhookNotFound",
        format!("There is no webhook named {name}."),
    )
}

impl Drydock {
    /// Creates or replaces a webhook. A spec without `secret` keeps the stored one (a GET sent
    /// back must not drop it); `""` removes it.
    pub async fn put_webhook(
        &self,
        caller: &Caller,
        name: &WebhookName,
        mut spec: WebhookSpec,
        precondition: &Precondition,
    ) -> Result<(StoredWebhook, bool), AppError> {
        caller.require(Role::Admin, None)?;
        spec.check()
            .map_err(|why| AppError::invalid("InvalidWebhook", why))?;
        let current = self.webhooks.get_webhook(name).await.map_err(store_error)?;
        let expect = match precondition {
            Precondition::Unconditional => Expect::Any,
            _ => expectation(
                precondition,
                &format!("Webhook {name}"),
                current.as_ref().map(|w| w.etag),
            )?,
        };
        match (spec.secret.as_deref(), &current) {
            (None, Some(stored)) => spec.secret.clone_from(&stored.spec.secret),
            (Some(""), _) => spec.secret = None,
            _ => {}
        }
        self.webhooks
            .put_webhook(name, &spec, self.clock.now(), expect)
            .await
            .map_err(store_error)
    }

    pub async fn get_webhook(
        &self,
        caller: &Caller,
        name: &WebhookName,
    ) -> Result<StoredWebhook, AppError> {
        caller.require(Role::Viewer, None)?;
        let stored = self.webhooks.get_webhook(name).await.map_err(store_error)?;
        stored.ok_or_else(|| webhook_not_found(name))
    }

    pub async fn list_webhooks(&self, caller: &Caller) -> Result<Vec<StoredWebhook>, AppError> {
        caller.require(Role::Viewer, None)?;
        self.webhooks.list_webhooks().await.map_err(store_error)
    }

    pub async fn delete_webhook(
        &self,
        caller: &Caller,
        name: &WebhookName,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Admin, None)?;
        let expect = match precondition {
            Precondition::Unconditional => Expect::Any,
            _ => {
                let current = self.webhooks.get_webhook(name).await.map_err(store_error)?;
                expectation(
                    precondition,
                    &format!("Webhook {name}"),
                    current.map(|w| w.etag),
                )?
            }
        };
        self.webhooks
            .delete_webhook(name, expect)
            .await
            .map_err(store_error)
    }

    /// The webhook's newest `limit` deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        caller: &Caller,
        name: &WebhookName,
        limit: i64,
    ) -> Result<Vec<Delivery>, AppError> {
        caller.require(Role::Viewer, None)?;
        self.get_webhook(caller, name).await?;
        self.webhooks
            .list_deliveries(name, limit)
            .await
            .map_err(store_error)
    }
}
