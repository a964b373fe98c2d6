//! Webhooks: every run, stage, group, member and gate transition, sent as a CloudEvent to the
//! URLs operators register, signed, from an outbox with retries and backoff. The dispatcher
//! works beside the runtime, never inside a decision: a slow or dead receiver never slows a run.

mod cloudevent;
mod dispatch;
mod spec;

pub use cloudevent::{FleetEvent, cloud_event, event_type, signature};
pub use dispatch::{DispatchSettings, Dispatcher};
pub use spec::WebhookSpec;
