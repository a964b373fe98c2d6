//! A webhook as operators configure it: where to send, how to sign, which events.

use app::model::names::FleetName;
use serde::{Deserialize, Serialize};

/// The subjects and states an event type is made of: `io.drydock.{subject}.{state}`.
pub const SUBJECTS: [&str; 6] = ["run", "stage", "group", "member", "afterstagewait", "gate"];
pub const STATES: [&str; 8] = [
    "notstarted",
    "running",
    "stopping",
    "stopped",
    "skipped",
    "failed",
    "pending",
    "completed",
];
pub const TYPE_PREFIX: &str = "io.drydock.";

/// What a `PUT /webhooks/{name}` sets. The secret is never read back; a PUT without one keeps
/// the stored secret (so a GET can be sent back as is), `""` removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSpec {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Event types to send (`io.drydock.member.failed`), or all of a subject
    /// (`io.drydock.gate.*`); empty: every event.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Only these fleets' events; empty: every fleet.
    #[serde(default)]
    pub fleets: Vec<FleetName>,
    #[serde(default)]
    pub disabled: bool,
}

/// A secret shorter than this is refused: it would be guessable.
const MIN_SECRET_LEN: usize = 16;

impl WebhookSpec {
    /// Checks what serde cannot: the URL, the secret's length, the event type patterns.
    pub fn check(&self) -> Result<(), String> {
        check_url(&self.url)?;
        if let Some(secret) = self.secret.as_deref()
            && !secret.is_empty()
            && secret.len() < MIN_SECRET_LEN
        {
            return Err(format!(
                "secret must be at least {MIN_SECRET_LEN} characters long"
            ));
        }
        self.event_types.iter().try_for_each(|t| check_pattern(t))
    }

    /// Whether an event of `kind` in `fleet` goes to this webhook.
    pub fn wants(&self, fleet: &str, kind: &str) -> bool {
        let fleet_ok = self.fleets.is_empty() || self.fleets.iter().any(|f| f.as_str() == fleet);
        let type_ok =
            self.event_types.is_empty() || self.event_types.iter().any(|p| matches(p, kind));
        !self.disabled && fleet_ok && type_ok
    }
}

fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("url '{url}' must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) || url.len() > 2048 {
        return Err(format!("url '{url}' is not an http(s) URL with a host"));
    }
    Ok(())
}

/// `io.drydock.{subject}.{state}`, `io.drydock.{subject}.*` or `*`.
fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    let known = pattern
        .strip_prefix(TYPE_PREFIX)
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(subject, state)| {
            SUBJECTS.contains(&subject) && (state == "*" || STATES.contains(&state))
        });
    if known {
        Ok(())
    } else {
        Err(format!(
            "event type '{pattern}' is not one of {TYPE_PREFIX}{{{}}}.{{{}|*}}",
            SUBJECTS.join(","),
            STATES.join(",")
        ))
    }
}

fn matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(types: &[&str], fleets: &[&str]) -> WebhookSpec {
        WebhookSpec {
            url: "https://chat.example.com/hooks/1".into(),
            secret: None,
            event_types: types.iter().map(|t| (*t).to_owned()).collect(),
            fleets: fleets
                .iter()
                .map(|f| FleetName::parse(f).unwrap())
                .collect(),
            disabled: false,
        }
    }

    #[test]
    fn patterns_select_event_types_and_fleets() {
        let gates = spec(&["io.drydock.gate.*", "io.drydock.run.failed"], &["prod"]);
        assert!(gates.wants("prod", "io.drydock.gate.pending"));
        assert!(gates.wants("prod", "io.drydock.run.failed"));
        assert!(!gates.wants("prod", "io.drydock.run.completed"));
        assert!(!gates.wants("staging", "io.drydock.gate.pending"));
        assert!(spec(&[], &[]).wants("any", "io.drydock.member.running"));
        let mut off = spec(&[], &[]);
        off.disabled = true;
        assert!(!off.wants("any", "io.drydock.member.running"));
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let mut bad = spec(&["io.drydock.gate.approved"], &[]);
        assert!(bad.check().unwrap_err().contains("is not one of"));
        bad.event_types.clear();
        bad.url = "ftp://x".into();
        assert!(bad.check().unwrap_err().contains("http:// or https://"));
        bad.url = "https:///path".into();
        assert!(bad.check().unwrap_err().contains("with a host"));
        bad.url = "http://localhost:9000/hook".into();
        bad.secret = Some("short".into());
        assert!(bad.check().unwrap_err().contains("at least 16"));
        bad.secret = Some(String::new());
        assert_eq!(bad.check(), Ok(()), "an empty secret removes it");
    }
}
