//! Run events as CloudEvents 1.0 (structured JSON mode), and their signatures.

use app::model::run::{RunEvent, State, Subject};
use serde_json::{Value, json};

/// An event of some run, as the store numbers them across all runs (commit order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetEvent {
    pub id: i64,
    pub fleet: String,
    pub run: String,
    pub event: RunEvent,
}

/// `io.drydock.{subject}.{state}`, e.g. `io.drydock.member.failed`, `io.drydock.gate.pending`.
pub fn event_type(subject: &Subject, state: State) -> String {
    let subject = match subject {
        Subject::Run => "run",
        Subject::Stage(_) => "stage",
        Subject::Group(_) => "group",
        Subject::Member(_) => "member",
        Subject::AfterStageWait(_) => "afterstagewait",
        Subject::Gate(_) => "gate",
    };
    let state = format!("{state:?}").to_lowercase();
    format!("{}{subject}.{state}", super::spec::TYPE_PREFIX)
}

/// The CloudEvent's `subject`: what in the run changed (`members/aks-1`); none for the run.
fn subject_path(subject: &Subject) -> Option<String> {
    match subject {
        Subject::Run => None,
        Subject::Stage(name) => Some(format!("stages/{name}")),
        Subject::Group(name) => Some(format!("groups/{name}")),
        Subject::Member(name) => Some(format!("members/{name}")),
        Subject::AfterStageWait(name) => Some(format!("afterStageWaits/{name}")),
        Subject::Gate(name) => Some(format!("gates/{name}")),
    }
}

/// The event as sent: fixed when it is queued, so every retry sends the same bytes.
pub fn cloud_event(e: &FleetEvent) -> Value {
    let mut event = json!({
        "specversion": "1.0",
        "id": e.id.to_string(),
        "source": format!("/fleets/{}/updateRuns/{}", e.fleet, e.run),
        "type": event_type(&e.event.subject, e.event.state),
        "time": e.event.at.to_string(),
        "datacontenttype": "application/json",
        "data": {
            "fleet": e.fleet,
            "updateRun": e.run,
            "subject": e.event.subject,
            "state": e.event.state,
            "message": e.event.message,
        },
    });
    if let Some(subject) = subject_path(&e.event.subject) {
        event["subject"] = json!(subject);
    }
    // A member's group and the state it left, when the event says them.
    if let Some(group) = &e.event.group {
        event["data"]["group"] = json!(group);
    }
    if let Some(previous) = e.event.previous {
        event["data"]["previous"] = json!(previous);
    }
    event
}

/// `sha256=<hex HMAC-SHA256 of the body>`, GitHub's form, so receivers' existing checks work.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::names::MemberName;
    use app::model::time::Timestamp;

    #[test]
    fn a_member_event_becomes_a_cloud_event() {
        let e = FleetEvent {
            id: 42,
            fleet: "prod".into(),
            run: "run-1".into(),
            event: RunEvent {
                at: Timestamp(1_725_148_800_000),
                subject: Subject::Member(MemberName::parse("aks-1").unwrap()),
                state: State::Failed,
                message: Some("node pool drain timed out".into()),
                group: Some("canary".into()),
                previous: Some(State::Running),
            },
        };
        let event = cloud_event(&e);
        assert_eq!(event["type"], "io.drydock.member.failed");
        assert_eq!(event["source"], "/fleets/prod/updateRuns/run-1");
        assert_eq!(event["subject"], "members/aks-1");
        assert_eq!(event["time"], "2024-09-01T00:00:00Z");
        assert_eq!(event["id"], "42");
        assert_eq!(event["data"]["message"], "node pool drain timed out");
        assert_eq!(event["data"]["group"], "canary");
        assert_eq!(event["data"]["previous"], "Running");
    }

    #[test]
    fn the_signature_is_the_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
