//! Gates: points in a run that wait — for a person (`Approval`) or for a day and time
//! (`ScheduledStart`, before-gates only) — before a stage or group starts or after it finishes.
//! Configured in Azure Fleet Manager's shape on stages and groups; each becomes a [`GateRun`]
//! in the run, addressable by name (`/fleets/{fleet}/gates/{name}`), `Pending` from the run's
//! creation, approvable once the run has reached it.

use super::time::{MS_PER_DAY, MS_PER_MINUTE, MS_PER_SECOND, Timestamp, parse_hh_mm, parse_offset};
use super::window::DayOfWeek;
use serde::{Deserialize, Serialize};

/// The longest a gate may be given to time out: 30 days.
pub const MAX_GATE_TIMEOUT_SECONDS: i64 = 30 * 24 * 3600;
/// The longest comment an approval keeps.
pub const MAX_COMMENT_LEN: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum GateType {
    Approval,
    ScheduledStart,
}

/// Whether a gate holds the start of its stage or group, or its completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Timing {
    Before,
    After,
}

/// What an unapproved gate does when its `timeoutInSeconds` runs out (beyond Azure, whose
/// approvals never expire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum OnTimeout {
    /// The stage or group, and so the run, fails.
    Fail,
    /// The gate is skipped and the run goes on.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduledStartConfiguration {
    pub start_day: DayOfWeek,
    /// `HH:MM`, 24-hour, in `utc_offset`.
    pub start_time: String,
    /// `±hh:mm`.
    pub utc_offset: String,
}

impl ScheduledStartConfiguration {
    fn minutes(&self) -> Result<(i64, i64), String> {
        let start = parse_hh_mm(&self.start_time).ok_or_else(|| {
            format!(
                "scheduledStartConfiguration startTime '{}' is not HH:MM",
                self.start_time
            )
        })?;
        let offset = parse_offset(&self.utc_offset).ok_or_else(|| {
            format!(
                "scheduledStartConfiguration utcOffset '{}' is not like +01:00",
                self.utc_offset
            )
        })?;
        Ok((start, offset))
    }

    /// The first occurrence of the day and time at or after `from` (so one already past this
    /// week is next week's).
    pub fn next_at(&self, from: Timestamp) -> Timestamp {
        let Ok((start, offset)) = self.minutes() else {
            return from;
        };
        let local = from.millis() + offset * MS_PER_MINUTE;
        let day = local.div_euclid(MS_PER_DAY);
        let days_ahead = (self.start_day.index() - DayOfWeek::of_day(day).index()).rem_euclid(7);
        let mut at = (day + days_ahead) * MS_PER_DAY + start * MS_PER_MINUTE;
        if at < local {
            at += 7 * MS_PER_DAY;
        }
        Timestamp(at - offset * MS_PER_MINUTE)
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {} ({})",
            self.start_day.short(),
            self.start_time,
            self.utc_offset
        )
    }
}

/// A gate as a strategy configures it (Azure's `GateConfiguration`, plus a timeout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GateConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: GateType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_start_configuration: Option<ScheduledStartConfiguration>,
    /// Beyond Azure: how long the gate may wait for its approval once reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_seconds: Option<i64>,
    /// What happens then (required with a timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_timeout: Option<OnTimeout>,
}

impl GateConfiguration {
    pub fn approval() -> Self {
        Self {
            display_name: None,
            kind: GateType::Approval,
            scheduled_start_configuration: None,
            timeout_in_seconds: None,
            on_timeout: None,
        }
    }

    /// Checks the gate on its own: `where_` says where it is, for the message.
    pub fn validate(&self, timing: Timing, where_: &str) -> Result<(), String> {
        let fail = |why: String| Err(format!("{where_}: {why}"));
        if let Some(name) = &self.display_name
            && (name.trim().is_empty() || name.chars().count() > 100)
        {
            return fail("a gate's displayName must be 1 to 100 characters".into());
        }
        match (self.kind, &self.scheduled_start_configuration) {
            (GateType::ScheduledStart, _) if timing == Timing::After => {
                return fail("a ScheduledStart gate can only be a before-gate".into());
            }
            (GateType::ScheduledStart, None) => {
                return fail("a ScheduledStart gate needs a scheduledStartConfiguration".into());
            }
            (GateType::ScheduledStart, Some(config)) => {
                if let Err(why) = config.minutes() {
                    return fail(why);
                }
            }
            (GateType::Approval, Some(_)) => {
                return fail("an Approval gate takes no scheduledStartConfiguration".into());
            }
            (GateType::Approval, None) => {}
        }
        match (self.timeout_in_seconds, self.on_timeout) {
            (None, None) => Ok(()),
            (Some(t), Some(_)) if (1..=MAX_GATE_TIMEOUT_SECONDS).contains(&t) => {
                if self.kind == GateType::ScheduledStart {
                    return fail(
                        "a ScheduledStart gate completes by itself; it takes no timeout".into(),
                    );
                }
                Ok(())
            }
            (Some(t), Some(_)) => fail(format!(
                "a gate's timeoutInSeconds must be between 1 and {MAX_GATE_TIMEOUT_SECONDS} (30 days), not {t}"
            )),
            (Some(_), None) => {
                fail("a gate with timeoutInSeconds needs onTimeout (Fail or Skip)".into())
            }
            (None, Some(_)) => fail("onTimeout needs timeoutInSeconds".into()),
        }
    }

    /// What the gate shows as its name: its display name, or its type.
    pub fn label(&self) -> String {
        self.display_name
            .clone()
            .unwrap_or_else(|| match self.kind {
                GateType::Approval => "Approval".into(),
                GateType::ScheduledStart => "Scheduled start".into(),
            })
    }
}

/// Who approved a gate, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum GateState {
    /// Waiting; `reached_at` once the run has got to it (only then may it be approved).
    Pending {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reached_at: Option<Timestamp>,
        /// A ScheduledStart gate's completion time, fixed when it is reached.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        completes_at: Option<Timestamp>,
        /// When an unapproved gate times out, fixed when it is reached.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        times_out_at: Option<Timestamp>,
    },
    Completed {
        at: Timestamp,
        /// For an approval; none for a scheduled start that came.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval: Option<Approval>,
    },
    Skipped {
        at: Timestamp,
        reason: String,
    },
}

/// A gate of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateRun {
    /// Unique in the fleet while the run exists: `{run}.{stage}[.{group}].{before|after}[.{n}]`.
    pub name: String,
    pub timing: Timing,
    pub config: GateConfiguration,
    pub state: GateState,
    /// Counts the gate's changes: its etag, so an approval can require the gate as it was read.
    #[serde(default)]
    pub version: i64,
}

impl GateRun {
    pub fn new(name: String, timing: Timing, config: GateConfiguration) -> Self {
        Self {
            name,
            timing,
            config,
            state: GateState::Pending {
                reached_at: None,
                completes_at: None,
                times_out_at: None,
            },
            version: 1,
        }
    }

    /// Sets a new state, counting the change.
    pub fn set(&mut self, state: GateState) {
        self.state = state;
        self.version += 1;
    }

    pub fn public(&self) -> super::run::State {
        use super::run::State;
        match self.state {
            GateState::Pending { .. } => State::Pending,
            GateState::Completed { .. } => State::Completed,
            GateState::Skipped { .. } => State::Skipped,
        }
    }

    pub fn is_done(&self) -> bool {
        !matches!(self.state, GateState::Pending { .. })
    }

    pub fn reached(&self) -> bool {
        matches!(
            self.state,
            GateState::Pending {
                reached_at: Some(_),
                ..
            }
        )
    }
}

/// The name of the `index`th gate (from 0) of a list at one position.
pub fn gate_name(
    run: &str,
    stage: &str,
    group: Option<&str>,
    timing: Timing,
    index: usize,
) -> String {
    let place = match group {
        Some(group) => format!("{run}.{stage}.{group}"),
        None => format!("{run}.{stage}"),
    };
    let when = match timing {
        Timing::Before => "before",
        Timing::After => "after",
    };
    match index {
        0 => format!("{place}.{when}"),
        n => format!("{place}.{when}.{}", n + 1),
    }
}

/// Checks a list of gates at one position.
pub fn validate_gates(
    gates: &[GateConfiguration],
    timing: Timing,
    where_: &str,
) -> Result<(), String> {
    const MAX_GATES: usize = 10;
    if gates.len() > MAX_GATES {
        return Err(format!("{where_}: at most {MAX_GATES} gates in one place"));
    }
    gates.iter().try_for_each(|g| g.validate(timing, where_))
}

/// `timeout` seconds after `from`.
pub fn timeout_at(from: Timestamp, seconds: i64) -> Timestamp {
    from.plus_millis(seconds * MS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheduled(day: DayOfWeek, time: &str, offset: &str) -> ScheduledStartConfiguration {
        ScheduledStartConfiguration {
            start_day: day,
            start_time: time.into(),
            utc_offset: offset.into(),
        }
    }

    /// 2024-09-02T12:00:00Z, a Monday.
    const MONDAY_NOON: Timestamp = Timestamp(1_725_278_400_000);

    #[test]
    fn a_scheduled_start_is_the_next_occurrence_and_a_past_one_is_next_weeks() {
        let saturday = scheduled(DayOfWeek::Saturday, "02:00", "+01:00");
        // Saturday 2024-09-07 02:00 +01:00 = 01:00Z.
        assert_eq!(
            saturday.next_at(MONDAY_NOON),
            Timestamp::parse_rfc3339("2024-09-07T01:00:00Z").unwrap()
        );
        let monday_morning = scheduled(DayOfWeek::Monday, "09:00", "+00:00");
        assert_eq!(
            monday_morning.next_at(MONDAY_NOON),
            Timestamp::parse_rfc3339("2024-09-09T09:00:00Z").unwrap(),
            "already past today: a week later"
        );
        let now = scheduled(DayOfWeek::Monday, "12:00", "Z");
        assert_eq!(
            now.next_at(MONDAY_NOON),
            MONDAY_NOON,
            "at the very minute: now"
        );
        let tokyo = scheduled(DayOfWeek::Tuesday, "01:00", "+09:00");
        assert_eq!(
            tokyo.next_at(MONDAY_NOON),
            Timestamp::parse_rfc3339("2024-09-02T16:00:00Z").unwrap(),
            "Tuesday 01:00 in Tokyo is Monday 16:00Z"
        );
    }

    #[test]
    fn each_broken_rule_is_named() {
        let check = |json: &str, timing| {
            serde_json::from_str::<GateConfiguration>(json)
                .map_err(|e| e.to_string())
                .and_then(|g| g.validate(timing, "stage s"))
        };
        assert_eq!(check(r#"{"type": "Approval"}"#, Timing::After), Ok(()));
        let errors = [
            (
                r#"{"type": "ScheduledStart", "scheduledStartConfiguration": {"startDay": "Monday", "startTime": "02:00", "utcOffset": "Z"}}"#,
                Timing::After,
                "only be a before-gate",
            ),
            (
                r#"{"type": "ScheduledStart"}"#,
                Timing::Before,
                "needs a scheduledStartConfiguration",
            ),
            (
                r#"{"type": "ScheduledStart", "scheduledStartConfiguration": {"startDay": "Monday", "startTime": "2:00", "utcOffset": "Z"}}"#,
                Timing::Before,
                "not HH:MM",
            ),
            (
                r#"{"type": "ScheduledStart", "scheduledStartConfiguration": {"startDay": "Monday", "startTime": "02:00", "utcOffset": "CET"}}"#,
                Timing::Before,
                "not like +01:00",
            ),
            (
                r#"{"type": "Approval", "scheduledStartConfiguration": {"startDay": "Monday", "startTime": "02:00", "utcOffset": "Z"}}"#,
                Timing::Before,
                "takes no scheduledStartConfiguration",
            ),
            (
                r#"{"type": "Approval", "displayName": ""}"#,
                Timing::Before,
                "1 to 100 characters",
            ),
            (
                r#"{"type": "Approval", "timeoutInSeconds": 60}"#,
                Timing::Before,
                "needs onTimeout",
            ),
            (
                r#"{"type": "Approval", "timeoutInSeconds": 0, "onTimeout": "Skip"}"#,
                Timing::Before,
                "between 1 and",
            ),
            (
                r#"{"type": "Approval", "onTimeout": "Fail"}"#,
                Timing::Before,
                "needs timeoutInSeconds",
            ),
            (r#"{"type": "Vote"}"#, Timing::Before, "unknown variant"),
            (
                r#"{"type": "Approval", "owner": "x"}"#,
                Timing::Before,
                "unknown field",
            ),
        ];
        for (json, timing, expected) in errors {
            let error = check(json, timing).unwrap_err();
            assert!(error.contains(expected), "{json}: {error}");
        }
    }

    #[test]
    fn names_say_where_the_gate_is() {
        assert_eq!(
            gate_name("r1", "prod", None, Timing::Before, 0),
            "r1.prod.before"
        );
        assert_eq!(
            gate_name("r1", "prod", Some("group-eu"), Timing::After, 1),
            "r1.prod.group-eu.after.2"
        );
    }
}

/// Where a gate is in its run, as the gate resource names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateRunProperties {
    pub name: String,
    pub stage: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub timing: Timing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateTarget {
    /// The run's id, `/fleets/{fleet}/updateRuns/{run}`.
    pub id: String,
    pub update_run_properties: UpdateRunProperties,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScheduledStartProperties {
    pub absolute_start_time: Timestamp,
}

/// A gate as `/fleets/{fleet}/gates/{name}` shows it: Azure's gate resource, plus when it was
/// reached, who approved it and its timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateProperties {
    pub display_name: String,
    pub gate_type: GateType,
    pub target: GateTarget,
    /// `Pending`, `Completed` or `Skipped`.
    pub state: super::run::State,
    /// When the run reached it; only then may it be approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_start_properties: Option<ScheduledStartProperties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_timeout: Option<OnTimeout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times_out_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateResource {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub etag: String,
    pub properties: GateProperties,
}

impl GateResource {
    /// The gate `gate` of run `run` in `fleet`, at `stage` (and `group`).
    pub fn new(fleet: &str, run: &str, stage: &str, group: Option<&str>, gate: &GateRun) -> Self {
        let (reached, completed, scheduled, approval, skip_reason, times_out_at) = match &gate.state
        {
            GateState::Pending {
                reached_at,
                completes_at,
                times_out_at,
            } => (*reached_at, None, *completes_at, None, None, *times_out_at),
            GateState::Completed { at, approval } => {
                (None, Some(*at), None, approval.clone(), None, None)
            }
            GateState::Skipped { at, reason } => {
                (None, Some(*at), None, None, Some(reason.clone()), None)
            }
        };
        Self {
            id: format!("/fleets/{fleet}/gates/{}", gate.name),
            name: gate.name.clone(),
            kind: "Drydock/fleets/gates".into(),
            etag: gate.version.to_string(),
            properties: GateProperties {
                display_name: gate.config.label(),
                gate_type: gate.config.kind,
                target: GateTarget {
                    id: format!("/fleets/{fleet}/updateRuns/{run}"),
                    update_run_properties: UpdateRunProperties {
                        name: run.into(),
                        stage: stage.into(),
                        group: group.map(Into::into),
                        timing: gate.timing,
                    },
                },
                state: gate.public(),
                reached_time: reached,
                completed_time: completed,
                scheduled_start_properties: scheduled.map(|at| ScheduledStartProperties {
                    absolute_start_time: at,
                }),
                approval,
                skip_reason,
                timeout_in_seconds: gate.config.timeout_in_seconds,
                on_timeout: gate.config.on_timeout,
                times_out_at,
            },
        }
    }

    /// The run the gate belongs to (its name up to the first dot: run names have none).
    pub fn run_of(gate: &str) -> Option<&str> {
        gate.split_once('.').map(|(run, _)| run)
    }
}
