//! The facts printed on a card front that make up 照合番号B, shared by the generator, the reader
//! and (through the app) the virtual card.

use crate::date::{Date, Era};
use zeroize::Zeroizing;

/// How the birth date is printed: 和暦 for Japanese nationals, Gregorian on foreign residents' cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calendar {
    Wareki,
    Gregorian,
}

/// 性別 as printed on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The printed word (男 / 女).
    pub fn printed(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// One card holder's card-front facts. Synthetic identities only: nothing here is read from a
/// real card's chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFrontIdentity {
    /// Gregorian birth date (year, month, day).
    pub birth_date: (u16, u8, u8),
    pub calendar: Calendar,
    /// Card expiry, Gregorian (year, month, day).
    pub expiry: (u16, u8, u8),
    /// セキュリティコード printed under the photo.
    pub security_code: [u8; 4],
    pub name: String,
    pub address: String,
    pub sex: Sex,
}

impl CardFrontIdentity {
    /// 照合番号B: birth YYMMDD (和暦 year or the Gregorian year's last two digits), the expiry
    /// year YYYY, then the security code — 14 ASCII digits.
    pub fn pin_b(&self) -> Zeroizing<String> {
        let (y, m, d) = self.birth_date;
        let birth = Date::new(y, m, d);
        let yy = match (self.calendar, birth.and_then(|b| Era::of(&b))) {
            (Calendar::Wareki, Some((_, era_year))) => era_year % 100,
            _ => y % 100,
        };
        let code: String = self
            .security_code
            .iter()
            .map(|c| char::from(b'0' + c % 10))
            .collect();
        Zeroizing::new(format!("{yy:02}{m:02}{d:02}{:04}{code}", self.expiry.0))
    }

    /// The birth line as printed, e.g. `昭和55年 2月17日生` or `1985年 3月 9日生`.
    pub fn printed_birth(&self) -> String {
        let (y, m, d) = self.birth_date;
        let year = match self.calendar {
            Calendar::Wareki => Date::new(y, m, d)
                .and_then(|b| Era::of(&b))
                .map(|(era, ey)| format!("{}{ey}", era.printed()))
                .unwrap_or_else(|| y.to_string()),
            Calendar::Gregorian => y.to_string(),
        };
        format!("{year}年{}月{}日生", pad2(m), pad2(d))
    }

    /// The expiry line as printed, e.g. `2035年 2月17日まで有効`.
    pub fn printed_expiry(&self) -> String {
        let (y, m, d) = self.expiry;
        format!("{y}年{}月{}日まで有効", pad2(m), pad2(d))
    }

    /// The security code as printed.
    pub fn printed_security_code(&self) -> String {
        self.security_code
            .iter()
            .map(|c| char::from(b'0' + c % 10))
            .collect()
    }
}

/// A one-digit number gets a leading space, as on the card (`2035年 2月17日`).
fn pad2(n: u8) -> String {
    format!("{n:>2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn showa() -> CardFrontIdentity {
        CardFrontIdentity {
            birth_date: (1980, 2, 17),
            calendar: Calendar::Wareki,
            expiry: (2035, 2, 17),
            security_code: [2, 2, 8, 5],
            name: "山田 太郎".into(),
            address: "東京都".into(),
            sex: Sex::Male,
        }
    }

    #[test]
    fn pin_b_uses_the_era_year_for_japanese_nationals() {
        assert_eq!(showa().pin_b().as_str(), "55021720352285");
        assert_eq!(showa().printed_birth(), "昭和55年 2月17日生");
        assert_eq!(showa().printed_expiry(), "2035年 2月17日まで有効");
    }

    #[test]
    fn pin_b_uses_the_gregorian_year_on_foreign_residents_cards() {
        let id = CardFrontIdentity {
            birth_date: (1985, 3, 9),
            calendar: Calendar::Gregorian,
            ..showa()
        };
        assert_eq!(id.pin_b().as_str(), "85030920352285");
        assert_eq!(id.printed_birth(), "1985年 3月 9日生");
    }

    #[test]
    fn era_boundaries_follow_the_imperial_calendar() {
        let heisei = CardFrontIdentity {
            birth_date: (1989, 1, 8),
            ..showa()
        };
        assert_eq!(heisei.printed_birth(), "平成1年 1月 8日生");
        let showa64 = CardFrontIdentity {
            birth_date: (1989, 1, 7),
            ..showa()
        };
        assert_eq!(showa64.pin_b()[..6], *"640107");
        let reiwa = CardFrontIdentity {
            birth_date: (2019, 5, 1),
            ..showa()
        };
        assert_eq!(reiwa.printed_birth(), "令和1年 5月 1日生");
    }
}
