//! Unix times as the meeting's local calendar dates and times of day.
//!
//! The hub records Unix milliseconds; the minutes print local time at the
//! session's fixed UTC offset. A fixed offset is all a Vietnamese council
//! needs (UTC+07:00 all year), so the civil-date arithmetic is done here in a
//! few lines rather than with a time-zone database.

/// A local date and time of day, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl LocalTime {
    /// `unix_ms` at `offset_minutes` east of UTC.
    pub fn at(unix_ms: u64, offset_minutes: i32) -> LocalTime {
        let secs = (unix_ms / 1000) as i64 + i64::from(offset_minutes) * 60;
        let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        LocalTime {
            year,
            month,
            day,
            hour: (of_day / 3600) as u32,
            minute: (of_day / 60 % 60) as u32,
            second: (of_day % 60) as u32,
        }
    }

    /// "09:15:02".
    pub fn time_of_day(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }

    /// "2026-12-18 09:15:02": ISO order, which spreadsheets read as a date and time.
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {}",
            self.year,
            self.month,
            self.day,
            self.time_of_day()
        )
    }
}

/// "UTC+07:00" for an offset of 420 minutes.
pub fn utc_offset(offset_minutes: i32) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// Days since 1970-01-01 to a (year, month, day) of the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_at_an_offset() {
        // 2026-12-18 01:00:00 UTC is 08:00 in Hà Nội.
        let t = LocalTime::at(1_797_555_600_000, 420);
        assert_eq!(t.iso(), "2026-12-18 08:00:00");
        // 17:00:00.999 UTC the day before is midnight in Hà Nội; milliseconds are cut.
        let t = LocalTime::at(1_797_555_600_000 - 8 * 3_600_000 + 999, 420);
        assert_eq!(t.iso(), "2026-12-18 00:00:00");
        assert_eq!(LocalTime::at(0, 0).iso(), "1970-01-01 00:00:00");
        assert_eq!(LocalTime::at(0, -60).iso(), "1969-12-31 23:00:00");
        // A leap day.
        assert_eq!(
            LocalTime::at(1_709_164_800_000, 0).iso(),
            "2024-02-29 00:00:00"
        );
    }

    #[test]
    fn offsets_are_written_with_their_sign() {
        assert_eq!(utc_offset(420), "UTC+07:00");
        assert_eq!(utc_offset(-330), "UTC-05:30");
        assert_eq!(utc_offset(0), "UTC+00:00");
    }
}
