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
        not_allowed_dates: Vec::new(),
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

fn with(schedule: Schedule) -> MaintenanceWindow {
    MaintenanceWindow {
        schedule,
        ..window(DayOfWeek::Sunday, "01:00", 4, "+00:00")
    }
}

fn next_start(w: &MaintenanceWindow, now: &str) -> Timestamp {
    w.current_or_next(at(now)).unwrap().start
}

#[test]
fn daily_every_n_days_counts_from_the_start_date() {
    let mut w = with(Schedule::Daily(DailySchedule { interval_days: 3 }));
    w.start_date = Some("2024-09-02".into());
    assert_eq!(
        next_start(&w, "2024-08-20T00:00:00Z"),
        at("2024-09-02T01:00:00Z"),
        "nothing before the start date"
    );
    assert_eq!(
        next_start(&w, "2024-09-02T06:00:00Z"),
        at("2024-09-05T01:00:00Z")
    );
    assert!(w.is_open(at("2024-09-08T03:00:00Z")));
    assert!(!w.is_open(at("2024-09-07T03:00:00Z")));
}

#[test]
fn absolute_monthly_uses_the_last_day_of_shorter_months() {
    let w = with(Schedule::AbsoluteMonthly(AbsoluteMonthlySchedule {
        interval_months: 1,
        day_of_month: 31,
    }));
    assert_eq!(
        next_start(&w, "2025-02-01T00:00:00Z"),
        at("2025-02-28T01:00:00Z")
    );
    assert_eq!(
        next_start(&w, "2024-02-01T00:00:00Z"),
        at("2024-02-29T01:00:00Z"),
        "a leap year's February"
    );
    assert_eq!(
        next_start(&w, "2025-03-01T00:00:00Z"),
        at("2025-03-31T01:00:00Z")
    );
}

#[test]
fn absolute_monthly_intervals_count_months_from_the_start_date() {
    let mut w = with(Schedule::AbsoluteMonthly(AbsoluteMonthlySchedule {
        interval_months: 3,
        day_of_month: 15,
    }));
    w.start_date = Some("2025-01-20".into());
    // January's 15th is before the start date; April is the next month on the schedule.
    assert_eq!(
        next_start(&w, "2025-01-01T00:00:00Z"),
        at("2025-04-15T01:00:00Z")
    );
    assert_eq!(
        next_start(&w, "2025-04-15T06:00:00Z"),
        at("2025-07-15T01:00:00Z")
    );
}

#[test]
fn relative_monthly_finds_the_nth_and_the_last_weekday() {
    let first_monday = with(Schedule::RelativeMonthly(RelativeMonthlySchedule {
        interval_months: 1,
        week_index: WeekIndex::First,
        day_of_week: DayOfWeek::Monday,
    }));
    // September 2024 began on a Sunday.
    assert_eq!(
        next_start(&first_monday, "2024-09-01T00:00:00Z"),
        at("2024-09-02T01:00:00Z")
    );
    let last_friday = with(Schedule::RelativeMonthly(RelativeMonthlySchedule {
        interval_months: 2,
        week_index: WeekIndex::Last,
        day_of_week: DayOfWeek::Friday,
    }));
    assert_eq!(
        next_start(&last_friday, "2024-01-01T00:00:00Z"),
        at("2024-01-26T01:00:00Z")
    );
    assert_eq!(
        next_start(&last_friday, "2024-01-27T00:00:00Z"),
        at("2024-03-29T01:00:00Z"),
        "every two months from January (the epoch's month)"
    );
}

#[test]
fn not_allowed_dates_keep_the_window_shut_in_local_time() {
    // Daily 22:00 at +02:00 for 6h = 20:00Z to 02:00Z; blocked 23–24 December local, i.e.
    // from 22 Dec 22:00Z to 24 Dec 22:00Z.
    let mut w = with(Schedule::Daily(DailySchedule { interval_days: 1 }));
    w.start_time = "22:00".into();
    w.duration_hours = 6;
    w.utc_offset = "+02:00".into();
    w.not_allowed_dates = vec![DateSpan {
        start: "2024-12-23".into(),
        end: "2024-12-24".into(),
    }];
    assert!(w.is_open(at("2024-12-22T21:00:00Z")));
    assert!(
        !w.is_open(at("2024-12-22T23:00:00Z")),
        "the part after local midnight of the 23rd is blocked"
    );
    let next = w.current_or_next(at("2024-12-22T23:00:00Z")).unwrap();
    assert_eq!(next.start, at("2024-12-24T22:00:00Z"));
    assert_eq!(next.end, at("2024-12-25T02:00:00Z"));
    assert!(w.describe().ends_with(", 1 blocked date range"));
}

#[test]
fn every_schedule_and_bad_dates_are_validated() {
    let bad = [
        (
            Schedule::Daily(DailySchedule { interval_days: 8 }),
            "intervalDays",
        ),
        (
            Schedule::AbsoluteMonthly(AbsoluteMonthlySchedule {
                interval_months: 7,
                day_of_month: 1,
            }),
            "intervalMonths",
        ),
        (
            Schedule::AbsoluteMonthly(AbsoluteMonthlySchedule {
                interval_months: 1,
                day_of_month: 32,
            }),
            "dayOfMonth",
        ),
    ];
    for (schedule, field) in bad {
        assert!(with(schedule).validate().unwrap_err().contains(field));
    }
    let mut w = with(Schedule::Daily(DailySchedule { interval_days: 1 }));
    w.not_allowed_dates = vec![DateSpan {
        start: "2024-12-24".into(),
        end: "2024-12-23".into(),
    }];
    assert!(w.validate().unwrap_err().contains("before it starts"));
}

#[test]
fn parses_every_aks_schedule_shape() {
    for schedule in [
        r#"{"daily": {"intervalDays": 2}}"#,
        r#"{"absoluteMonthly": {"intervalMonths": 1, "dayOfMonth": 15}}"#,
        r#"{"relativeMonthly": {"intervalMonths": 3, "weekIndex": "Last", "dayOfWeek": "Friday"}}"#,
    ] {
        let text = format!(
            r#"{{"schedule": {schedule}, "startTime": "01:00", "durationHours": 4,
                "notAllowedDates": [{{"start": "2024-12-23", "end": "2025-01-05"}}]}}"#
        );
        let w: MaintenanceWindow = serde_json::from_str(&text).unwrap();
        assert_eq!(w.validate(), Ok(()));
        let back = serde_json::to_value(&w).unwrap();
        assert_eq!(back["notAllowedDates"][0]["end"], "2025-01-05");
    }
    assert_eq!(
        with(Schedule::RelativeMonthly(RelativeMonthlySchedule {
            interval_months: 3,
            week_index: WeekIndex::Last,
            day_of_week: DayOfWeek::Friday,
        }))
        .describe(),
        "Last Fri 01:00 for 4h (+00:00) every 3 months"
    );
}
