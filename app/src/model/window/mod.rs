//! Planned maintenance windows, shaped like AKS's maintenance configurations
//! (`aksManagedAutoUpgradeSchedule` for Kubernetes upgrades, `aksManagedNodeOSUpgradeSchedule`
//! for node images). The engine starts a member only inside the window governing its upgrade and
//! wakes at the next opening; the overview shows whether a window is open. Pure calendar
//! arithmetic on fleet time.

mod schedule;
#[cfg(test)]
mod tests;

pub use schedule::{
    AbsoluteMonthlySchedule, DailySchedule, RelativeMonthlySchedule, Schedule, WeekIndex,
    WeeklySchedule,
};

use super::time::{
    MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, Timestamp, days_from_civil, parse_hh_mm, parse_offset,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DayOfWeek {
    /// Every day, Monday first.
    pub const ALL: [DayOfWeek; 7] = [
        DayOfWeek::Monday,
        DayOfWeek::Tuesday,
        DayOfWeek::Wednesday,
        DayOfWeek::Thursday,
        DayOfWeek::Friday,
        DayOfWeek::Saturday,
        DayOfWeek::Sunday,
    ];

    /// Monday = 0 … Sunday = 6.
    pub(crate) fn index(self) -> i64 {
        self as i64
    }

    /// The weekday of a day count since the epoch (1970-01-01 was a Thursday).
    pub fn of_day(days_since_epoch: i64) -> Self {
        Self::ALL[(days_since_epoch + 3).rem_euclid(7) as usize]
    }

    pub fn short(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.index() as usize]
    }
}

/// A recurring window in which a member may be upgraded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaintenanceWindow {
    pub schedule: Schedule,
    /// Local start time `HH:MM`.
    pub start_time: String,
    pub duration_hours: u32,
    /// `+hh:mm` / `-hh:mm`; the local time zone of `startTime`.
    #[serde(default = "utc")]
    pub utc_offset: String,
    /// `YYYY-MM-DD`: the first day the window may open; intervals count from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Local date ranges (both ends included, in `utcOffset`) in which the window stays shut.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_allowed_dates: Vec<DateSpan>,
}

/// `{"start": "2024-12-23", "end": "2025-01-03"}`: blocked from the start of `start` to the end
/// of `end`, local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DateSpan {
    pub start: String,
    pub end: String,
}

fn utc() -> String {
    "+00:00".to_owned()
}

/// One occurrence of a window, in fleet time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpan {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl WindowSpan {
    pub fn contains(self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

impl MaintenanceWindow {
    /// Checks the fields AKS checks: a 4–24 hour duration, the schedule's ranges, a real time,
    /// offset and dates.
    pub fn validate(&self) -> Result<(), String> {
        self.schedule.validate()?;
        if !(4..=24).contains(&self.duration_hours) {
            return Err("maintenance window durationHours must be between 4 and 24".into());
        }
        self.start_minutes()?;
        self.offset_minutes()?;
        self.first_allowed_day()?;
        self.blocked_days()?;
        Ok(())
    }

    fn start_minutes(&self) -> Result<i64, String> {
        parse_hh_mm(&self.start_time).ok_or_else(|| {
            format!(
                "maintenance window startTime '{}' is not HH:MM",
                self.start_time
            )
        })
    }

    fn offset_minutes(&self) -> Result<i64, String> {
        parse_offset(&self.utc_offset).ok_or_else(|| {
            format!(
                "maintenance window utcOffset '{}' is not like +05:30",
                self.utc_offset
            )
        })
    }

    /// The first local day (since the epoch) the window may open on.
    fn first_allowed_day(&self) -> Result<i64, String> {
        match &self.start_date {
            None => Ok(0),
            Some(date) => parse_date(date)
                .ok_or_else(|| format!("maintenance window startDate '{date}' is not YYYY-MM-DD")),
        }
    }

    /// `notAllowedDates` as inclusive local day ranges.
    fn blocked_days(&self) -> Result<Vec<(i64, i64)>, String> {
        self.not_allowed_dates
            .iter()
            .map(|span| {
                let day = |text: &str| {
                    parse_date(text).ok_or_else(|| {
                        format!("maintenance window notAllowedDates '{text}' is not YYYY-MM-DD")
                    })
                };
                let (start, end) = (day(&span.start)?, day(&span.end)?);
                if end < start {
                    return Err(format!(
                        "maintenance window notAllowedDates ends ({}) before it starts ({})",
                        span.end, span.start
                    ));
                }
                Ok((start, end))
            })
            .collect()
    }

    /// The occurrence open at `now`, or else the next one to open, with any part inside
    /// `notAllowedDates` cut away. `None` for a window that fails
    /// [`validate`](Self::validate), or whose every occurrence for the next ten years is blocked.
    pub fn current_or_next(&self, now: Timestamp) -> Option<WindowSpan> {
        let offset = self.offset_minutes().ok()? * MS_PER_MINUTE;
        let start_of_day = self.start_minutes().ok()? * MS_PER_MINUTE;
        let first_allowed = self.first_allowed_day().ok()?;
        let blocked: Vec<WindowSpan> = (self.blocked_days().ok()?.into_iter())
            .map(|(from, to)| WindowSpan {
                start: Timestamp(from * MS_PER_DAY - offset),
                end: Timestamp((to + 1) * MS_PER_DAY - offset),
            })
            .collect();
        let duration = i64::from(self.duration_hours) * MS_PER_HOUR;
        let local_day = (now.millis() + offset).div_euclid(MS_PER_DAY);
        // A window lasts at most a day, so yesterday's occurrence may still be open.
        let mut day = self.schedule.next_day(local_day - 1, first_allowed);
        while day <= local_day + 3660 {
            let start = day * MS_PER_DAY + start_of_day - offset;
            let occurrence = WindowSpan {
                start: Timestamp(start),
                end: Timestamp(start + duration),
            };
            let open_part = occurrence
                .minus(&blocked)
                .into_iter()
                .find(|part| part.end > now);
            if open_part.is_some() {
                return open_part;
            }
            day = self.schedule.next_day(day + 1, first_allowed);
        }
        None
    }

    pub fn is_open(&self, now: Timestamp) -> bool {
        self.current_or_next(now)
            .is_some_and(|span| span.contains(now))
    }

    /// A short human description, e.g. `Sun 01:00 for 4h (+00:00)`.
    pub fn describe(&self) -> String {
        let blocked = match self.not_allowed_dates.len() {
            0 => String::new(),
            n => format!(", {n} blocked date range{}", if n == 1 { "" } else { "s" }),
        };
        format!(
            "{} {} for {}h ({}){}{blocked}",
            self.schedule.day(),
            self.start_time,
            self.duration_hours,
            self.utc_offset,
            self.schedule.recurrence()
        )
    }
}

impl WindowSpan {
    /// The parts of this span outside every span of `blocked`, earliest first.
    fn minus(self, blocked: &[WindowSpan]) -> Vec<WindowSpan> {
        let mut parts = vec![self];
        for cut in blocked {
            parts = parts
                .into_iter()
                .flat_map(|part| {
                    let before = WindowSpan {
                        start: part.start,
                        end: part.end.min(cut.start),
                    };
                    let after = WindowSpan {
                        start: part.start.max(cut.end),
                        end: part.end,
                    };
                    [before, after]
                })
                .filter(|part| part.start < part.end)
                .collect();
        }
        parts.sort_by_key(|part| part.start);
        parts
    }
}

fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
}
