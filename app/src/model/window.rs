//! Planned maintenance windows, shaped like AKS's `aksManagedAutoUpgradeSchedule`. The engine
//! starts a member only inside its window and wakes at the next opening; the overview shows
//! whether a window is open. Pure calendar arithmetic on fleet time.

use super::time::{
    MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, Timestamp, days_from_civil, parse_offset,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    fn index(self) -> i64 {
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeeklySchedule {
    pub day_of_week: DayOfWeek,
    #[serde(default = "one")]
    pub interval_weeks: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Schedule {
    Weekly(WeeklySchedule),
}

/// A recurring window in which a member may be upgraded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaintenanceWindow {
    pub schedule: Schedule,
    /// Local start time `HH:MM`.
    pub start_time: String,
    pub duration_hours: u32,
    /// `+hh:mm` / `-hh:mm`; the local time zone of `startTime`.
    #[serde(default = "utc")]
    pub utc_offset: String,
    /// `YYYY-MM-DD`: the first week an `intervalWeeks > 1` schedule counts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
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
    /// Checks the fields AKS checks: a 4–24 hour duration, 1–4 week interval, a real time,
    /// offset and date.
    pub fn validate(&self) -> Result<(), String> {
        let Schedule::Weekly(weekly) = &self.schedule;
        if !(1..=4).contains(&weekly.interval_weeks) {
            return Err("maintenance window intervalWeeks must be between 1 and 4".into());
        }
        if !(4..=24).contains(&self.duration_hours) {
            return Err("maintenance window durationHours must be between 4 and 24".into());
        }
        self.start_minutes()?;
        self.offset_minutes()?;
        self.anchor_day()?;
        Ok(())
    }

    fn start_minutes(&self) -> Result<i64, String> {
        let err = || {
            format!(
                "maintenance window startTime '{}' is not HH:MM",
                self.start_time
            )
        };
        let (h, m) = self.start_time.split_once(':').ok_or_else(err)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(err());
        }
        let (h, m): (i64, i64) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
        if h > 23 || m > 59 {
            return Err(err());
        }
        Ok(h * 60 + m)
    }

    fn offset_minutes(&self) -> Result<i64, String> {
        parse_offset(&self.utc_offset).ok_or_else(|| {
            format!(
                "maintenance window utcOffset '{}' is not like +05:30",
                self.utc_offset
            )
        })
    }

    /// The first local day (since the epoch) on the schedule's weekday on or after `startDate`.
    fn anchor_day(&self) -> Result<i64, String> {
        let Schedule::Weekly(weekly) = &self.schedule;
        let start = match &self.start_date {
            None => 0,
            Some(date) => parse_date(date).ok_or_else(|| {
                format!("maintenance window startDate '{date}' is not YYYY-MM-DD")
            })?,
        };
        let shift = (weekly.day_of_week.index() - DayOfWeek::of_day(start).index()).rem_euclid(7);
        Ok(start + shift)
    }

    /// The occurrence open at `now`, or else the next one to open. `None` only for a window that
    /// fails [`validate`](Self::validate).
    pub fn current_or_next(&self, now: Timestamp) -> Option<WindowSpan> {
        let Schedule::Weekly(weekly) = &self.schedule;
        let offset = self.offset_minutes().ok()? * MS_PER_MINUTE;
        let start_of_day = self.start_minutes().ok()? * MS_PER_MINUTE;
        let anchor = self.anchor_day().ok()?;
        let period = 7 * i64::from(weekly.interval_weeks);
        let duration = i64::from(self.duration_hours) * MS_PER_HOUR;
        let local_day = (now.millis() + offset).div_euclid(MS_PER_DAY);
        // The latest occurrence day at or before today, then walk forward to the first that
        // has not yet ended (a window may have opened yesterday and still be open).
        let mut day = anchor + (local_day - anchor).div_euclid(period) * period - period;
        loop {
            let start = day * MS_PER_DAY + start_of_day - offset;
            let span = WindowSpan {
                start: Timestamp(start),
                end: Timestamp(start + duration),
            };
            if span.end > now {
                return Some(span);
            }
            day += period;
        }
    }

    pub fn is_open(&self, now: Timestamp) -> bool {
        self.current_or_next(now)
            .is_some_and(|span| span.contains(now))
    }

    /// A short human description, e.g. `Sun 01:00 for 4h (+00:00)`.
    pub fn describe(&self) -> String {
        let Schedule::Weekly(weekly) = &self.schedule;
        let every = match weekly.interval_weeks {
            1 => String::new(),
            n => format!(" every {n} weeks"),
        };
        format!(
            "{} {} for {}h ({}){every}",
            weekly.day_of_week.short(),
            self.start_time,
            self.duration_hours,
            self.utc_offset
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn window(day: DayOfWeek, start: &str, hours: u32, offset: &str) -> MaintenanceWindow {
        MaintenanceWindow {
            schedule: Schedule::Weekly(WeeklySchedule {
                day_of_week: day,
                interval_weeks: 1,
            }),
            start_time: start.into(),
            duration_hours: hours,
            utc_offset: offset.into(),
            start_date: None,
        }
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn knows_the_weekday() {
        // 2024-09-01 was a Sunday.
        assert_eq!(
            DayOfWeek::of_day(at("2024-09-01T00:00:00Z").days_since_epoch()),
            DayOfWeek::Sunday
        );
    }

    #[test]
    fn open_inside_the_window_and_closed_outside() {
        let w = window(DayOfWeek::Sunday, "01:00", 4, "+00:00");
        assert!(w.is_open(at("2024-09-01T01:00:00Z")));
        assert!(w.is_open(at("2024-09-01T04:59:59Z")));
        assert!(!w.is_open(at("2024-09-01T05:00:00Z")));
        assert!(!w.is_open(at("2024-09-01T00:59:59Z")));
    }

    #[test]
    fn next_opening_is_the_following_week_once_closed() {
        let w = window(DayOfWeek::Sunday, "01:00", 4, "+00:00");
        let next = w.current_or_next(at("2024-09-01T06:00:00Z")).unwrap();
        assert_eq!(next.start, at("2024-09-08T01:00:00Z"));
    }

    #[test]
    fn offsets_shift_the_window_and_spans_cross_midnight() {
        // Saturday 22:00 at +02:00 for 6 hours = Saturday 20:00Z to Sunday 02:00Z.
        let w = window(DayOfWeek::Saturday, "22:00", 6, "+02:00");
        assert!(w.is_open(at("2024-09-01T01:30:00Z")));
        assert!(!w.is_open(at("2024-09-01T02:00:00Z")));
        assert_eq!(
            w.current_or_next(at("2024-08-31T10:00:00Z")).unwrap().start,
            at("2024-08-31T20:00:00Z")
        );
    }

    #[test]
    fn interval_weeks_skip_off_weeks_from_the_start_date() {
        let mut w = window(DayOfWeek::Sunday, "01:00", 4, "+00:00");
        w.schedule = Schedule::Weekly(WeeklySchedule {
            day_of_week: DayOfWeek::Sunday,
            interval_weeks: 2,
        });
        w.start_date = Some("2024-09-01".into());
        assert!(w.is_open(at("2024-09-15T02:00:00Z")));
        assert!(!w.is_open(at("2024-09-08T02:00:00Z")));
        let next = w.current_or_next(at("2024-09-01T06:00:00Z")).unwrap();
        assert_eq!(next.start, at("2024-09-15T01:00:00Z"));
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut w = window(DayOfWeek::Sunday, "25:00", 4, "+00:00");
        assert!(w.validate().unwrap_err().contains("startTime"));
        w.start_time = "01:00".into();
        w.duration_hours = 2;
        assert!(w.validate().unwrap_err().contains("durationHours"));
        w.duration_hours = 4;
        w.utc_offset = "UTC".into();
        assert!(w.validate().unwrap_err().contains("utcOffset"));
    }

    #[test]
    fn parses_the_aks_shape() {
        let w: MaintenanceWindow = serde_json::from_str(
            r#"{"schedule": {"weekly": {"dayOfWeek": "Sunday", "intervalWeeks": 1}},
                "startTime": "01:00", "durationHours": 4, "utcOffset": "+00:00"}"#,
        )
        .unwrap();
        assert_eq!(w, window(DayOfWeek::Sunday, "01:00", 4, "+00:00"));
    }
}
