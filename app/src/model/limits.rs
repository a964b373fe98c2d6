//! A stage's or group's `maxConcurrency` and `maxAllowedFailures`, in Azure Fleet Manager's
//! string shapes (`"3"`, `"25%"`): parsed once at the edge, resolved against a member count
//! when a run is created. Concurrency percentages round down with a minimum of one (a limit
//! never stalls a group); failure percentages round up (a budget of "10%" over 5 members still
//! allows one failure), as Azure documents.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A count or a percentage of some members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Amount {
    Count(u32),
    Percent(u8),
}

impl Amount {
    /// Parses `N` or `P%` (P at most 100); `zero_ok` allows `0` and `0%`.
    fn parse(text: &str, zero_ok: bool) -> Option<Self> {
        let (digits, percent) = match text.strip_suffix('%') {
            Some(digits) => (digits, true),
            None => (text, false),
        };
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !canonical {
            return None;
        }
        let value: u32 = digits.parse().ok()?;
        if value == 0 && !zero_ok {
            return None;
        }
        match percent {
            true => u8::try_from(value)
                .ok()
                .filter(|p| *p <= 100)
                .map(Amount::Percent),
            false => Some(Amount::Count(value)),
        }
    }

    fn write(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Count(n) => write!(f, "{n}"),
            Amount::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// How many members of a stage or group may upgrade at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxConcurrency(Amount);

impl MaxConcurrency {
    pub fn parse(text: &str) -> Result<Self, String> {
        Amount::parse(text, false).map(Self).ok_or_else(|| {
            format!(
                "maxConcurrency '{text}' must be a whole number from 1 (\"3\") or a percentage \
                 from 1% to 100% (\"25%\")"
            )
        })
    }

    pub fn count(n: u32) -> Self {
        Self(Amount::Count(n.max(1)))
    }

    /// The limit over `members` members: a percentage rounds down, never below one.
    pub fn resolve(self, members: usize) -> usize {
        match self.0 {
            Amount::Count(n) => n as usize,
            Amount::Percent(p) => (members * usize::from(p) / 100).max(1),
        }
    }
}

/// How many members of a stage, group or run may fail before it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxAllowedFailures(Amount);

impl MaxAllowedFailures {
    pub fn parse(text: &str) -> Result<Self, String> {
        Amount::parse(text, true).map(Self).ok_or_else(|| {
            format!(
                "maxAllowedFailures '{text}' must be a whole number (\"0\", \"2\") or a \
                 percentage from 0% to 100% (\"10%\")"
            )
        })
    }

    pub fn count(n: u32) -> Self {
        Self(Amount::Count(n))
    }

    /// The budget over `members` members: a percentage rounds up.
    pub fn resolve(self, members: usize) -> usize {
        match self.0 {
            Amount::Count(n) => n as usize,
            Amount::Percent(p) => (members * usize::from(p)).div_ceil(100),
        }
    }
}

/// A rolling update's `maxUnavailable` or `maxSurge` (KubeFleet's int-or-string): how many
/// members, or what share of the picked ones, zero allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutAmount(Amount);

impl RolloutAmount {
    pub fn parse(text: &str) -> Result<Self, String> {
        Amount::parse(text, true).map(Self).ok_or_else(|| {
            format!(
                "'{text}' must be a whole number (\"1\") or a percentage from 0% to 100% (\"25%\")"
            )
        })
    }

    pub fn percent(p: u8) -> Self {
        Self(Amount::Percent(p.min(100)))
    }

    pub fn is_zero(self) -> bool {
        matches!(self.0, Amount::Count(0) | Amount::Percent(0))
    }

    /// How many of `members`: a percentage rounds down.
    pub fn resolve(self, members: usize) -> usize {
        match self.0 {
            Amount::Count(n) => n as usize,
            Amount::Percent(p) => members * usize::from(p) / 100,
        }
    }
}

macro_rules! string_shaped {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        /// Azure's shape is a string; a bare JSON number is taken too, as people type it.
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Given {
                    Text(String),
                    Number(i64),
                }
                let text = match Given::deserialize(d)? {
                    Given::Text(text) => text,
                    Given::Number(n) => n.to_string(),
                };
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_shaped!(MaxConcurrency);
string_shaped!(MaxAllowedFailures);
string_shaped!(RolloutAmount);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_takes_azures_pattern_only() {
        for good in ["1", "3", "250", "1%", "25%", "99%", "100%"] {
            assert!(MaxConcurrency::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "0", "0%", "101%", "-1", "03", "3.5", "", "%", "x", "25 %", "1000%",
        ] {
            let err = MaxConcurrency::parse(bad).unwrap_err();
            assert!(err.contains("maxConcurrency"), "{bad}: {err}");
        }
    }

    #[test]
    fn failures_take_azures_pattern_only() {
        for good in ["0", "1", "12", "0%", "10%", "100%"] {
            assert!(MaxAllowedFailures::parse(good).is_ok(), "{good}");
        }
        for bad in ["-1", "00", "01", "101%", "1.5", "", "ten", "5%%"] {
            let err = MaxAllowedFailures::parse(bad).unwrap_err();
            assert!(err.contains("maxAllowedFailures"), "{bad}: {err}");
        }
    }

    #[test]
    fn concurrency_percentages_round_down_but_never_below_one() {
        let p = |t| MaxConcurrency::parse(t).unwrap();
        assert_eq!(p("25%").resolve(10), 2);
        assert_eq!(p("50%").resolve(10_000), 5_000);
        assert_eq!(p("10%").resolve(5), 1);
        assert_eq!(p("100%").resolve(7), 7);
        assert_eq!(p("1%").resolve(0), 1);
        assert_eq!(p("4").resolve(2), 4);
    }

    #[test]
    fn failure_percentages_round_up() {
        let p = |t| MaxAllowedFailures::parse(t).unwrap();
        assert_eq!(p("10%").resolve(5), 1);
        assert_eq!(p("10%").resolve(10), 1);
        assert_eq!(p("10%").resolve(11), 2);
        assert_eq!(p("0%").resolve(100), 0);
        assert_eq!(p("100%").resolve(3), 3);
        assert_eq!(p("2").resolve(1), 2);
    }

    #[test]
    fn strings_and_numbers_read_the_same_and_write_as_strings() {
        let from_text: MaxConcurrency = serde_json::from_str(r#""25%""#).unwrap();
        assert_eq!(serde_json::to_string(&from_text).unwrap(), r#""25%""#);
        let from_number: MaxAllowedFailures = serde_json::from_str("2").unwrap();
        assert_eq!(serde_json::to_string(&from_number).unwrap(), r#""2""#);
        let err = serde_json::from_str::<MaxConcurrency>("0").unwrap_err();
        assert!(err.to_string().contains("maxConcurrency '0'"), "{err}");
    }
}
