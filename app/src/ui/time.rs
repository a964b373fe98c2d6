//! One way to show a time everywhere: the reader's local time, with the UTC time on hover. The
//! server renders UTC (it does not know the reader's zone); once the page runs in the browser,
//! times switch to local. Countdowns and spans (`in 2h 5m`) need no zone and stay as they are.

use crate::model::time::Timestamp;
use leptos::prelude::*;

/// The reader's offset from UTC in minutes (east positive), once known in the browser.
#[derive(Clone, Copy)]
pub struct Zone(RwSignal<Option<i64>>);

/// Makes the reader's zone known to every page (call once, at the top of the app).
pub fn provide_zone() {
    let zone = Zone(RwSignal::new(None));
    provide_context(zone);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if !super::hydration::hydrated() {
            return;
        }
        // `getTimezoneOffset` is minutes *behind* UTC.
        let offset = -(leptos::web_sys::js_sys::Date::new_0().get_timezone_offset() as i64);
        zone.0.set(Some(offset));
    });
}

fn zone_offset() -> Option<i64> {
    use_context::<Zone>().and_then(|zone| zone.0.get())
}

/// `2026-12-01 07:12:33` at `offset` minutes from UTC, or `2026-12-01 06:12:33 UTC` without one;
/// `short` leaves out the year (`12-01 07:12:33`).
pub fn format_at(t: Timestamp, offset: Option<i64>, short: bool) -> String {
    let shifted = t.plus_millis(offset.unwrap_or(0) * 60_000).to_string();
    let (date, time) = (
        shifted.get(..10).unwrap_or_default(),
        shifted.get(11..19).unwrap_or_default(),
    );
    let date = if short {
        date.get(5..).unwrap_or(date)
    } else {
        date
    };
    match offset {
        Some(_) => format!("{date} {time}"),
        None => format!("{date} {time} UTC"),
    }
}

/// `t` as the reader reads it (reactive: switches to local time once the zone is known).
pub fn local(t: Timestamp, short: bool) -> String {
    format_at(t, zone_offset(), short)
}

/// A time in the page: local, the UTC time on hover, machine-readable in `datetime`.
#[component]
pub fn When(t: Timestamp, #[prop(optional)] short: bool) -> impl IntoView {
    let utc = t.to_string();
    view! { <time datetime=utc.clone() title=format!("{utc} (UTC)")>{move || local(t, short)}</time> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_locally_once_the_zone_is_known() {
        let t = Timestamp::parse_rfc3339("2026-12-01T06:12:33Z").unwrap();
        assert_eq!(format_at(t, None, false), "2026-12-01 06:12:33 UTC");
        assert_eq!(format_at(t, Some(60), false), "2026-12-01 07:12:33");
        assert_eq!(format_at(t, Some(-420), true), "11-30 23:12:33");
    }
}
