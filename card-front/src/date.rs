//! Calendar dates and the Japanese eras printed on card fronts.

/// A real Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// The date, if it exists in the Gregorian calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        (year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
            .then_some(Date { year, month, day })
    }

    /// Today (UTC) from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Days in `month` of `year` (0 for a month outside 1..=12).
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The eras a living card holder can be born in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
}

impl Era {
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// First day of the era.
    fn start(self) -> Date {
        match self {
            // The day the era was proclaimed (no holder was born in the lunar-calendar months
            // it was later dated back to).
            Era::Meiji => Date {
                year: 1868,
                month: 10,
                day: 23,
            },
            Era::Taisho => Date {
                year: 1912,
                month: 7,
                day: 30,
            },
            Era::Showa => Date {
                year: 1926,
                month: 12,
                day: 25,
            },
            Era::Heisei => Date {
                year: 1989,
                month: 1,
                day: 8,
            },
            Era::Reiwa => Date {
                year: 2019,
                month: 5,
                day: 1,
            },
        }
    }

    /// The era's name as printed (明治 / 大正 / 昭和 / 平成 / 令和).
    pub fn printed(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The era and era year of a Gregorian date (None before 明治).
    pub fn of(date: &Date) -> Option<(Era, u16)> {
        let era = Era::ALL.into_iter().rev().find(|e| *date >= e.start())?;
        Some((era, date.year - era.start().year + 1))
    }

    /// The Gregorian date of an era date, if the day exists and lies within the era.
    pub fn to_gregorian(self, era_year: u16, month: u8, day: u8) -> Option<Date> {
        if era_year == 0 {
            return None;
        }
        let date = Date::new(self.start().year + era_year - 1, month, day)?;
        (Era::of(&date)? == (self, era_year)).then_some(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_exist() {
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(1900, 2, 29).is_none());
        assert!(Date::new(2000, 2, 29).is_some());
        assert!(Date::new(2023, 4, 31).is_none());
        assert!(Date::new(2023, 13, 1).is_none());
        assert!(Date::new(2023, 0, 1).is_none());
        assert!(Date::new(2023, 1, 0).is_none());
    }

    #[test]
    fn era_ranges_are_enforced() {
        assert_eq!(Era::Showa.to_gregorian(64, 1, 7), Date::new(1989, 1, 7));
        assert_eq!(Era::Showa.to_gregorian(64, 1, 8), None);
        assert_eq!(Era::Showa.to_gregorian(65, 1, 1), None);
        assert_eq!(Era::Showa.to_gregorian(1, 12, 24), None);
        assert_eq!(
            Era::Taisho.to_gregorian(15, 12, 24),
            Date::new(1926, 12, 24)
        );
        assert_eq!(Era::Taisho.to_gregorian(1, 7, 29), None);
        assert_eq!(Era::Meiji.to_gregorian(45, 7, 29), Date::new(1912, 7, 29));
        assert_eq!(Era::Heisei.to_gregorian(31, 4, 30), Date::new(2019, 4, 30));
        assert_eq!(Era::Heisei.to_gregorian(31, 5, 1), None);
        assert_eq!(Era::Heisei.to_gregorian(32, 1, 1), None);
        assert_eq!(Era::Reiwa.to_gregorian(1, 4, 30), None);
        assert_eq!(Era::Reiwa.to_gregorian(7, 11, 22), Date::new(2025, 11, 22));
        assert_eq!(Era::Reiwa.to_gregorian(0, 5, 1), None);
    }

    #[test]
    fn civil_dates_from_the_epoch() {
        assert_eq!(
            Date::from_days_since_epoch(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            Date::from_days_since_epoch(19_782),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        assert!(Date::today().year >= 2025);
    }
}
