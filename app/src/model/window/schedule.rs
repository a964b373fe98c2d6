//! The four recurrences AKS's maintenance configurations use (`daily`, `weekly`,
//! `absoluteMonthly`, `relativeMonthly`), as days on which an occurrence opens. Pure calendar
//! arithmetic on local days counted from the epoch.

use super::DayOfWeek;
use crate::model::time::{civil_from_days, days_from_civil};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DailySchedule {
    pub interval_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeeklySchedule {
    pub day_of_week: DayOfWeek,
    #[serde(default = "one")]
    pub interval_weeks: u32,
}

/// "Every N months on the D-th". A month shorter than `dayOfMonth` opens on its last day, so
/// a "31st" schedule still opens once a month (AKS's documentation is silent; missing a whole
/// month of maintenance would surprise more than moving a day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AbsoluteMonthlySchedule {
    pub interval_months: u32,
    pub day_of_month: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum WeekIndex {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

/// "Every N months on the first Monday" (or the last Friday…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelativeMonthlySchedule {
    pub interval_months: u32,
    pub week_index: WeekIndex,
    pub day_of_week: DayOfWeek,
}

fn one() -> u32 {
    1
}

/// Exactly one recurrence, as AKS's `schedule` object holds exactly one of its four keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Schedule {
    Daily(DailySchedule),
    Weekly(WeeklySchedule),
    AbsoluteMonthly(AbsoluteMonthlySchedule),
    RelativeMonthly(RelativeMonthlySchedule),
}

impl Schedule {
    /// The ranges AKS's API enforces.
    pub fn validate(&self) -> Result<(), String> {
        let check = |value: u32, range: std::ops::RangeInclusive<u32>, field: &str| {
            if range.contains(&value) {
                Ok(())
            } else {
                Err(format!(
                    "maintenance window {field} must be between {} and {}",
                    range.start(),
                    range.end()
                ))
            }
        };
        match self {
            Schedule::Daily(d) => check(d.interval_days, 1..=7, "intervalDays"),
            Schedule::Weekly(w) => check(w.interval_weeks, 1..=4, "intervalWeeks"),
            Schedule::AbsoluteMonthly(m) => {
                check(m.interval_months, 1..=6, "intervalMonths")?;
                check(m.day_of_month, 1..=31, "dayOfMonth")
            }
            Schedule::RelativeMonthly(m) => check(m.interval_months, 1..=6, "intervalMonths"),
        }
    }

    /// The first day on or after `day` on which an occurrence opens, counting intervals from
    /// `first_allowed` (the window's `startDate`, or the epoch) and never before it.
    pub fn next_day(&self, day: i64, first_allowed: i64) -> i64 {
        let day = day.max(first_allowed);
        match self {
            Schedule::Daily(d) => every(first_allowed, i64::from(d.interval_days), day),
            Schedule::Weekly(w) => {
                let shift = (w.day_of_week.index() - DayOfWeek::of_day(first_allowed).index())
                    .rem_euclid(7);
                every(first_allowed + shift, 7 * i64::from(w.interval_weeks), day)
            }
            Schedule::AbsoluteMonthly(m) => monthly(first_allowed, m.interval_months, day, |mo| {
                let last = days_in_month(mo);
                first_of_month(mo) + i64::from(m.day_of_month.min(last)) - 1
            }),
            Schedule::RelativeMonthly(m) => monthly(first_allowed, m.interval_months, day, |mo| {
                nth_weekday(mo, m.week_index, m.day_of_week)
            }),
        }
    }

    /// Which day, e.g. `Sun`, `day 15`, `Last Fri`, `daily`.
    pub fn day(&self) -> String {
        match self {
            Schedule::Daily(d) if d.interval_days == 1 => "daily".to_owned(),
            Schedule::Daily(d) => format!("every {} days", d.interval_days),
            Schedule::Weekly(w) => w.day_of_week.short().to_owned(),
            Schedule::AbsoluteMonthly(m) => format!("day {}", m.day_of_month),
            Schedule::RelativeMonthly(m) => format!("{:?} {}", m.week_index, m.day_of_week.short()),
        }
    }

    /// How often, after the time: ``, ` every 2 weeks`, ` monthly`, ` every 3 months`.
    pub fn recurrence(&self) -> String {
        match self {
            Schedule::Daily(_) => String::new(),
            Schedule::Weekly(w) if w.interval_weeks == 1 => String::new(),
            Schedule::Weekly(w) => format!(" every {} weeks", w.interval_weeks),
            Schedule::AbsoluteMonthly(AbsoluteMonthlySchedule {
                interval_months, ..
            })
            | Schedule::RelativeMonthly(RelativeMonthlySchedule {
                interval_months, ..
            }) => match interval_months {
                1 => " monthly".to_owned(),
                n => format!(" every {n} months"),
            },
        }
    }
}

/// The first of `anchor + k·period` (k ≥ 0) on or after `day`.
fn every(anchor: i64, period: i64, day: i64) -> i64 {
    if day <= anchor {
        return anchor;
    }
    let k = (day - anchor + period - 1) / period;
    anchor + k * period
}

/// Months are counted as `year·12 + month − 1`.
fn month_of(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    y * 12 + i64::from(m) - 1
}

fn first_of_month(month: i64) -> i64 {
    days_from_civil(month.div_euclid(12), (month.rem_euclid(12) + 1) as u32, 1)
}

fn days_in_month(month: i64) -> u32 {
    (first_of_month(month + 1) - first_of_month(month)) as u32
}

/// The occurrence day in the first month of `anchor's month + k·interval` whose occurrence is
/// on or after `day` (and on or after `first_allowed`, which may fall mid-month).
fn monthly(first_allowed: i64, interval: u32, day: i64, occurrence: impl Fn(i64) -> i64) -> i64 {
    let interval = i64::from(interval);
    let anchor = month_of(first_allowed);
    let mut month = every(anchor, interval, month_of(day));
    loop {
        let candidate = occurrence(month);
        if candidate >= day {
            return candidate;
        }
        month += interval;
    }
}

/// The `index`-th `weekday` of `month` (Last: the last one in it).
fn nth_weekday(month: i64, index: WeekIndex, weekday: DayOfWeek) -> i64 {
    let first = first_of_month(month);
    let first_match = first + (weekday.index() - DayOfWeek::of_day(first).index()).rem_euclid(7);
    match index {
        WeekIndex::First => first_match,
        WeekIndex::Second => first_match + 7,
        WeekIndex::Third => first_match + 14,
        WeekIndex::Fourth => first_match + 21,
        WeekIndex::Last => {
            let last = first + i64::from(days_in_month(month)) - 1;
            last - (DayOfWeek::of_day(last).index() - weekday.index()).rem_euclid(7)
        }
    }
}
