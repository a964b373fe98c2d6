//! Formatting helpers for the pages: plain functions, tested here.

use crate::model::time::Timestamp;
pub use crate::model::time::span;

/// `in 2h 5m` from `now` to `then`.
pub fn until(now: Timestamp, then: Timestamp) -> String {
    format!("in {}", span(then.millis() - now.millis()))
}

/// `text` as a URL query value: RFC 3986's unreserved characters kept, every other byte
/// escaped (the pages' links and the server's redirects to the sign-in page alike).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `12 members`, `1 member`.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// A run's progress with what was upgraded, skipped and failed told apart:
/// `4 upgraded · 3 skipped · 1 failed of 10` (parts that are zero are left out).
pub fn progress_words(summary: &crate::model::status::RunSummary) -> String {
    let parts: Vec<String> = [
        (summary.upgraded, "upgraded"),
        (summary.skipped, "skipped"),
        (summary.failed, "failed"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    match parts.as_slice() {
        [] => format!("none done of {}", summary.total),
        _ => format!("{} of {}", parts.join(" · "), summary.total),
    }
}

/// A span to the second, for countdowns: `1 h 5 min`, `3 min 20 s`, `45 s`.
pub fn precise_span(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    let (days, hours, minutes, secs) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) if secs > 0 => format!("{m} min {secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE};

    #[test]
    fn progress_tells_upgraded_skipped_and_failed_apart() {
        let summary = |upgraded, skipped, failed| crate::model::status::RunSummary {
            name: "r".into(),
            status: serde_json::from_value(serde_json::json!({
                "state": "Running", "startTime": null, "completedTime": null, "error": null
            }))
            .unwrap(),
            update: serde_json::from_str(r#"{"upgrade": {"type": "NodeImageOnly"}}"#).unwrap(),
            update_strategy_id: None,
            auto_upgrade_profile_id: None,
            catch_up_of: None,
            hop: None,
            placement: None,
            done: upgraded + skipped,
            total: 10,
            upgraded,
            skipped,
            failed,
        };
        assert_eq!(
            progress_words(&summary(4, 3, 1)),
            "4 upgraded · 3 skipped · 1 failed of 10"
        );
        assert_eq!(progress_words(&summary(2, 0, 0)), "2 upgraded of 10");
        assert_eq!(progress_words(&summary(0, 0, 0)), "none done of 10");
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(30_000), "under a minute");
        assert_eq!(span(45 * MS_PER_MINUTE), "45m");
        assert_eq!(span(2 * MS_PER_HOUR + 5 * MS_PER_MINUTE), "2h 5m");
        assert_eq!(
            span(3 * MS_PER_DAY + 4 * MS_PER_HOUR + 59 * MS_PER_MINUTE),
            "3d 4h"
        );
        assert_eq!(span(-5), "under a minute");
    }

    #[test]
    fn counts_pick_the_right_noun() {
        assert_eq!(count(1, "member", "members"), "1 member");
        assert_eq!(count(0, "member", "members"), "0 members");
    }

    #[test]
    fn until_is_relative() {
        assert_eq!(until(Timestamp(0), Timestamp(MS_PER_HOUR)), "in 1h 0m");
    }

    #[test]
    fn durations_read_in_the_largest_sensible_units() {
        assert_eq!(precise_span(45_000), "45 s");
        assert_eq!(precise_span(200_000), "3 min 20 s");
        assert_eq!(precise_span(MS_PER_HOUR + 5 * MS_PER_MINUTE), "1 h 5 min");
        assert_eq!(precise_span(2 * MS_PER_HOUR), "2 h");
        assert_eq!(precise_span(MS_PER_DAY + 3 * MS_PER_HOUR), "1 d 3 h");
        assert_eq!(precise_span(-5), "0 s");
    }
}
