//! Calendar dates of the simulated card holder, and the 和暦 (Japanese era) form printed on
//! cards of Japanese nationals.

use std::fmt;

/// A Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year, e.g. 1980.
    pub year: u16,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–31.
    pub day: u8,
}

/// How a date is printed on the card front (and so how 照合番号B's birth date is formed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Calendar {
    /// 和暦: year of the era (昭和55 → `55`). Cards of Japanese nationals.
    Wareki,
    /// 西暦: last two digits of the Gregorian year. Cards of foreign residents.
    Gregorian,
}

/// First day of each era since 明治 (newest first), as (year, month, day).
const ERA_STARTS: [(u16, u8, u8); 5] = [
    (2019, 5, 1),   // 令和
    (1989, 1, 8),   // 平成
    (1926, 12, 25), // 昭和
    (1912, 7, 30),  // 大正
    (1868, 1, 25),  // 明治
];

impl Date {
    /// Parses `YYYY-MM-DD`; `None` for anything else or an impossible date.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let date = Self {
            year: text[..4].parse().ok()?,
            month: text[5..7].parse().ok()?,
            day: text[8..].parse().ok()?,
        };
        (date.year >= 1868
            && (1..=12).contains(&date.month)
            && (1..=date.days_in_month()).contains(&date.day))
        .then_some(date)
    }

    fn days_in_month(self) -> u8 {
        match self.month {
            2 if self.year.is_multiple_of(4)
                && (!self.year.is_multiple_of(100) || self.year.is_multiple_of(400)) =>
            {
                29
            }
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// `YYYYMMDD` (the card's date fields).
    pub fn yyyymmdd(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `YYMMDD` in `calendar` (和暦 year of the era, or the last two Gregorian digits).
    pub fn yymmdd(self, calendar: Calendar) -> String {
        let year = match calendar {
            Calendar::Gregorian => self.year % 100,
            Calendar::Wareki => {
                let key = (self.year, self.month, self.day);
                let (start, _, _) = ERA_STARTS
                    .iter()
                    .copied()
                    .find(|start| key >= *start)
                    .unwrap_or(ERA_STARTS[ERA_STARTS.len() - 1]);
                self.year - start + 1
            }
        };
        format!("{:02}{:02}{:02}", year % 100, self.month, self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn parses_valid_dates_only() {
        assert_eq!(d("1980-02-17").yyyymmdd(), "19800217");
        for bad in [
            "1980-2-17",
            "1980-02-30",
            "2023-02-29",
            "1980/02/17",
            "1700-01-01",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert!(Date::parse("2024-02-29").is_some());
    }

    #[test]
    fn wareki_years_follow_the_era_boundaries() {
        assert_eq!(
            d("1980-02-17").yymmdd(Calendar::Wareki),
            "550217",
            "昭和55 (spec example)"
        );
        assert_eq!(
            d("1989-01-07").yymmdd(Calendar::Wareki),
            "640107",
            "last day of 昭和"
        );
        assert_eq!(
            d("1989-01-08").yymmdd(Calendar::Wareki),
            "010108",
            "平成元年"
        );
        assert_eq!(d("2019-04-30").yymmdd(Calendar::Wareki), "310430");
        assert_eq!(
            d("2019-05-01").yymmdd(Calendar::Wareki),
            "010501",
            "令和元年"
        );
        assert_eq!(d("1926-12-24").yymmdd(Calendar::Wareki), "151224", "大正15");
    }

    #[test]
    fn gregorian_uses_the_last_two_digits() {
        assert_eq!(d("1975-11-03").yymmdd(Calendar::Gregorian), "751103");
        assert_eq!(d("2001-01-09").yymmdd(Calendar::Gregorian), "010109");
    }
}
