//! Dates, sizes and counts as people read them, in the local time zone.

use chrono::{DateTime, Datelike as _, Local, TimeZone};

/// "14:05" today, "Tue 14:05" in the last six days, "12 Mar" earlier this year, "12 Mar 2023"
/// before that (and for dates in the future, which only a wrong clock produces).
pub fn short_date(seconds: i64) -> String {
    match Local.timestamp_opt(seconds, 0).single() {
        Some(when) => short_date_at(when, Local::now()),
        None => String::new(),
    }
}

/// `short_date` as seen at `now`.
pub fn short_date_at<Tz: TimeZone>(when: DateTime<Tz>, now: DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let (day, today) = (when.date_naive(), now.date_naive());
    let days = today.signed_duration_since(day).num_days();
    if day == today {
        when.format("%H:%M").to_string()
    } else if (1..=6).contains(&days) {
        when.format("%a %H:%M").to_string()
    } else if days > 0 && day.year() == today.year() {
        when.format("%-d %b").to_string()
    } else {
        when.format("%-d %b %Y").to_string()
    }
}

/// "Sun, 22 Nov 2026 10:00".
pub fn long_date(seconds: i64) -> String {
    Local
        .timestamp_opt(seconds, 0)
        .single()
        .map(|d| d.format("%a, %-d %b %Y %H:%M").to_string())
        .unwrap_or_default()
}

/// "12 kB", "3.4 MB".
pub fn short_size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes >= 1_000_000.0 {
        format!("{:.1} MB", bytes / 1_000_000.0)
    } else {
        format!("{:.0} kB", (bytes / 1_000.0).max(1.0))
    }
}

/// "1,234,567".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{TimeZone as _, Utc};

    #[test]
    fn numbers_read_well() {
        assert_eq!(super::thousands(1_234_567), "1,234,567");
        assert_eq!(super::thousands(12), "12");
        assert_eq!(super::short_size(2_500_000), "2.5 MB");
        assert_eq!(super::short_size(10), "1 kB");
    }

    #[test]
    fn dates_read_as_people_say_them() {
        // Wednesday 2 December 2026, 15:30.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 15, 30, 0).unwrap();
        let at = |y, mo, d, h, mi| Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
        let short = |when| super::short_date_at(when, now);
        assert_eq!(short(at(2026, 12, 2, 14, 5)), "14:05");
        assert_eq!(short(at(2026, 12, 2, 0, 1)), "00:01");
        assert_eq!(short(at(2026, 12, 1, 9, 0)), "Tue 09:00");
        assert_eq!(short(at(2026, 11, 26, 23, 59)), "Thu 23:59");
        assert_eq!(short(at(2026, 11, 25, 8, 0)), "25 Nov");
        assert_eq!(short(at(2026, 3, 12, 8, 0)), "12 Mar");
        assert_eq!(short(at(2023, 3, 12, 8, 0)), "12 Mar 2023");
        // A date in the future (a wrong clock somewhere) says its year.
        assert_eq!(short(at(2027, 1, 5, 8, 0)), "5 Jan 2027");
    }
}
