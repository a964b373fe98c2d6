//! Fleet time as plain data. The engine and the browser both need to format, parse and do
//! calendar arithmetic on timestamps without a clock or a date library (small WASM, no hidden
//! `now()`), so this is a millisecond count with just the civil-calendar maths we need.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Milliseconds since 1970-01-01T00:00:00Z, in fleet time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

pub const MS_PER_SECOND: i64 = 1_000;
pub const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
pub const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
pub const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
pub const MS_PER_WEEK: i64 = 7 * MS_PER_DAY;

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Days since the epoch (floor), so times before 1970 land on the right day too.
    pub fn days_since_epoch(self) -> i64 {
        self.0.div_euclid(MS_PER_DAY)
    }

    /// Milliseconds since midnight UTC.
    pub fn millis_of_day(self) -> i64 {
        self.0.rem_euclid(MS_PER_DAY)
    }

    /// Parses RFC 3339 (`2024-09-01T12:00:00Z`, fractional seconds and `±hh:mm` offsets accepted).
    pub fn parse_rfc3339(text: &str) -> Result<Self, String> {
        parse_rfc3339(text).ok_or_else(|| format!("'{text}' is not an RFC 3339 timestamp"))
    }
}

/// A span as a person reads it: `3d 4h`, `2h 5m`, `45m`, `under a minute`.
pub fn span(ms: i64) -> String {
    let ms = ms.max(0);
    let (days, hours, minutes) = (
        ms / MS_PER_DAY,
        (ms % MS_PER_DAY) / MS_PER_HOUR,
        (ms % MS_PER_HOUR) / MS_PER_MINUTE,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => "under a minute".to_owned(),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

impl Timestamp {
    /// The `Display` text of a time in years 0 to 9999, written digit by digit: a wide run's
    /// step stores hundreds of timestamps, and `core::fmt` took 4% of its driver's time.
    /// `None` for other years.
    fn rfc3339_bytes(self) -> Option<[u8; 20]> {
        let (y, m, d) = civil_from_days(self.days_since_epoch());
        let year = u32::try_from(y).ok().filter(|y| *y <= 9999)?;
        let secs = (self.millis_of_day() / MS_PER_SECOND) as u32;
        let mut text = *b"0000-00-00T00:00:00Z";
        put_digits(&mut text[0..4], year);
        put_digits(&mut text[5..7], m);
        put_digits(&mut text[8..10], d);
        put_digits(&mut text[11..13], secs / 3600);
        put_digits(&mut text[14..16], (secs / 60) % 60);
        put_digits(&mut text[17..19], secs % 60);
        Some(text)
    }

    /// The same text for any year, through `core::fmt`.
    fn fmt_any_year(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.days_since_epoch());
        let secs = self.millis_of_day() / MS_PER_SECOND;
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    }
}

/// Text written byte by byte from ASCII digits and punctuation (always valid UTF-8).
pub(crate) fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// Writes `n`'s last `slot.len()` decimal digits into `slot`, zero-padded.
pub(crate) fn put_digits(slot: &mut [u8], mut n: u32) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with second precision, e.g. `2024-09-01T12:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rfc3339_bytes() {
            Some(text) => f.write_str(ascii(&text)),
            None => self.fmt_any_year(f),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.rfc3339_bytes() {
            Some(text) => s.serialize_str(ascii(&text)),
            None => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// Days since the epoch of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since the epoch (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let s = text.get(from..to)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let ms_digits: String = frac[..digits]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = ms_digits.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset_minutes = parse_offset(rest)?;
    let days = days_from_civil(year, month as u32, day as u32);
    let ms = days * MS_PER_DAY
        + hour * MS_PER_HOUR
        + minute * MS_PER_MINUTE
        + second * MS_PER_SECOND
        + millis
        - offset_minutes * MS_PER_MINUTE;
    Some(Timestamp(ms))
}

/// `HH:MM` (24-hour), as minutes after midnight.
pub fn parse_hh_mm(text: &str) -> Option<i64> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 23 && m <= 59).then_some(h * 60 + m)
}

/// `Z` or `±hh:mm`, as minutes east of UTC.
pub fn parse_offset(text: &str) -> Option<i64> {
    if text == "Z" || text == "z" {
        return Some(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = text.get(1..)?.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m <= 59).then_some(sign * (h * 60 + m))
}

/// The fleet's clock as the server reads it, for a browser to count on from: fleet time runs
/// `scale` times faster than real time (`--time-scale`; 0 means it moves only when told).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FleetTime {
    pub now: Timestamp,
    pub scale: f64,
}

impl FleetTime {
    /// Fleet time `real_elapsed_ms` of real time after this reading.
    pub fn after_real(self, real_elapsed_ms: f64) -> Timestamp {
        self.now
            .plus_millis((real_elapsed_ms.max(0.0) * self.scale) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let t = Timestamp::parse_rfc3339("2024-09-01T12:34:56Z").unwrap();
        assert_eq!(t.to_string(), "2024-09-01T12:34:56Z");
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
    }

    proptest::proptest! {
        /// The digit-by-digit text is `core::fmt`'s, in and out of years 0 to 9999, and JSON
        /// carries the same text.
        #[test]
        fn timestamps_read_the_same_however_written(ms in -70_000_000_000_000_i64..300_000_000_000_000) {
            struct AnyYear(Timestamp);
            impl fmt::Display for AnyYear {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    self.0.fmt_any_year(f)
                }
            }
            let t = Timestamp(ms);
            proptest::prop_assert_eq!(t.to_string(), AnyYear(t).to_string());
            proptest::prop_assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let a = Timestamp::parse_rfc3339("2024-03-01T01:30:00+02:00").unwrap();
        assert_eq!(a.to_string(), "2024-02-29T23:30:00Z");
        let b = Timestamp::parse_rfc3339("2024-03-01T00:00:00.25Z").unwrap();
        assert_eq!(b.millis() % 1000, 250);
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2024-13-01T00:00:00Z",
            "2024-01-01 00:00",
            "2024-01-01T25:00:00Z",
            "x",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_conversion_is_inverse() {
        for days in [-800_000, -1, 0, 1, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn fleet_time_counts_on_at_its_scale() {
        let reading = FleetTime {
            now: Timestamp(1_000),
            scale: 60.0,
        };
        assert_eq!(reading.after_real(1_000.0), Timestamp(61_000));
        assert_eq!(reading.after_real(-5.0), Timestamp(1_000));
    }
}
