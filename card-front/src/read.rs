//! The card-front reader: photo → card → fields → validated 照合番号B with per-digit confidence.

use crate::classify::{classify, Classified, Glyph};
use crate::date::{Date, Era};
use crate::error::{FieldName, OcrError};
use crate::identity::Calendar;
use crate::layout::{self, Field};
use crate::locate::{bright_quads, card_quads, rectify};
use crate::scrub::ScrubbedMat;
use crate::segment::{line_blobs, INK_CONTRASTS};
use opencv::core::{Mat, MatTraitConst};
use opencv::imgproc;
use zeroize::Zeroizing;

/// Where the era year's digits start on a 和暦 line, from the era name's left edge, in units of
/// the type size (the rasterised ascent − descent, 1.45 em for Noto CJK: two full-width
/// characters are 1.38 of it). Blobs before the start are the era's.
const YEAR_START: std::ops::Range<f32> = 1.2..1.6;
/// Advances in type sizes of Noto Sans CJK JP (regular / bold): a digit (0.383 / 0.407), a
/// space, a kanji, and a two-kanji era name.
const DIGIT_ADVANCE: f32 = 0.395;
const SPACE_ADVANCE: f32 = 0.156;
const KANJI_ADVANCE: f32 = 0.691;
const ERA_ADVANCE: f32 = 1.381;
/// How far (in type sizes) a kanji after a date number may lie from where the layout puts it:
/// well under the 0.24 a missed digit of a month or day shifts it by.
const LAYOUT_TOLERANCE: f32 = 0.17;
/// A 和暦 era must hold at least one character read this confidently as a non-digit.
const ERA_CONFIDENCE: f32 = 0.5;
/// First year My Number cards were issued.
const FIRST_ISSUE_YEAR: u16 = 2016;
/// Longest validity of a card (10 years) plus a year of slack.
const MAX_VALIDITY_YEARS: u16 = 11;

/// A validated 照合番号B read. The digits are zeroized on drop and never shown by `Debug`.
pub struct PinBRead {
    digits: Zeroizing<[u8; 14]>,
    /// Confidence of each digit in 0..=1, in 照合番号B order.
    pub confidence: [f32; 14],
    pub calendar: Calendar,
    /// The era of the birth date on a 和暦 card.
    pub era: Option<Era>,
}

impl PinBRead {
    pub(crate) fn new(
        digits: Zeroizing<[u8; 14]>,
        confidence: [f32; 14],
        calendar: Calendar,
        era: Option<Era>,
    ) -> Self {
        Self {
            digits,
            confidence,
            calendar,
            era,
        }
    }

    /// 照合番号B as 14 ASCII digits (the VERIFY data).
    pub fn digits(&self) -> &[u8; 14] {
        &self.digits
    }

    /// 照合番号B as a string.
    pub fn pin_b(&self) -> Zeroizing<String> {
        Zeroizing::new(self.digits.iter().map(|&d| char::from(d)).collect())
    }

    /// The least confident digit's confidence.
    pub fn min_confidence(&self) -> f32 {
        self.confidence.iter().copied().fold(1.0, f32::min)
    }
}

impl std::fmt::Debug for PinBRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinBRead")
            .field("digits", &"<redacted>")
            .field("min_confidence", &self.min_confidence())
            .field("calendar", &self.calendar)
            .field("era", &self.era)
            .finish()
    }
}

/// Reads 照合番号B from a BGR or grey photo of a card front, validating the dates against today.
pub fn read_card_front(image: &Mat) -> Result<PinBRead, OcrError> {
    read_card_front_on(image, Date::today())
}

/// [`read_card_front`] with an explicit "today" (for reproducible tests).
pub fn read_card_front_on(image: &Mat, today: Date) -> Result<PinBRead, OcrError> {
    if image.empty() {
        return Err(OcrError::Image("empty image".into()));
    }
    let mut grey = ScrubbedMat::default();
    match image.channels() {
        1 => grey = image.try_clone()?.into(),
        3 => imgproc::cvt_color_def(image, &mut *grey, imgproc::COLOR_BGR2GRAY)?,
        4 => imgproc::cvt_color_def(image, &mut *grey, imgproc::COLOR_BGRA2GRAY)?,
        n => return Err(OcrError::Image(format!("{n} colour channels"))),
    }
    let mut quads = card_quads(&grey)?;
    if image.channels() == 3 {
        quads.extend(bright_quads(image)?.into_iter().take(2));
    }
    // Every candidate outline is read; the most confident valid read wins.
    let mut best: Result<PinBRead, OcrError> = Err(OcrError::CardNotFound);
    for quad in &quads {
        let read = read_rectified(&*rectify(&grey, quad)?, today);
        best = match (best, read) {
            (Ok(b), Ok(r)) => Ok(if r.min_confidence() > b.min_confidence() {
                r
            } else {
                b
            }),
            (Ok(b), Err(_)) => Ok(b),
            (Err(OcrError::CardNotFound), r) | (Err(_), r @ Ok(_)) => r,
            (Err(e), Err(_)) => Err(e),
        };
    }
    best
}

/// Reads the three fields of a card already rectified to the canonical layout.
///
/// Each field is binarised at every ink contrast; of the readings that parse, the
/// combination whose dates validate with the highest least-digit confidence wins.
pub fn read_rectified(card: &Mat, today: Date) -> Result<PinBRead, OcrError> {
    let mut births = Vec::new();
    let mut expiries = Vec::new();
    let mut codes = Vec::new();
    let mut first_error = None;
    for &contrast in &INK_CONTRASTS {
        let birth = read_line(card, &layout::BIRTH, contrast)?;
        match birth_date_runs(&birth, layout::BIRTH.px) {
            Ok(parsed) => births.push(parsed),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        let expiry = read_line(card, &layout::EXPIRY, contrast)?;
        let start = expiry.first().map_or(0, |c| c.x);
        if let Some(runs) =
            date_runs(&expiry, start, 0.0, layout::EXPIRY.px).filter(|r| r[0].len() == 4)
        {
            expiries.push(runs);
        }
        let code = digit_runs(&read_line(card, &layout::SECURITY_CODE, contrast)?);
        if code.len() == 1 && code[0].len() == 4 {
            codes.push(code[0].clone());
        }
    }
    let missing = |field| {
        first_error
            .clone()
            .unwrap_or(OcrError::FieldUnreadable(field))
    };
    if births.is_empty() {
        return Err(missing(FieldName::BirthDate));
    }
    if expiries.is_empty() {
        return Err(OcrError::FieldUnreadable(FieldName::Expiry));
    }
    if codes.is_empty() {
        return Err(OcrError::FieldUnreadable(FieldName::SecurityCode));
    }
    let mut best: Option<Result<PinBRead, OcrError>> = None;
    for birth in &births {
        for expiry in &expiries {
            for code in &codes {
                let read = assemble(birth, expiry, code, today);
                best = Some(match (best, read) {
                    (Some(Ok(b)), Ok(r)) if r.min_confidence() <= b.min_confidence() => Ok(b),
                    (Some(Ok(b)), Err(_)) => Ok(b),
                    (Some(Err(e)), Err(_)) => Err(e),
                    (_, r) => r,
                });
            }
        }
    }
    best.unwrap_or(Err(OcrError::FieldUnreadable(FieldName::BirthDate)))
}

/// Validates the dates of one reading of the three fields and assembles 照合番号B.
fn assemble(
    (calendar, era, birth_runs): &(Calendar, Option<Era>, Vec<Run>),
    expiry_runs: &[Run],
    code: &Run,
    today: Date,
) -> Result<PinBRead, OcrError> {
    let calendar = *calendar;
    let [by, bm, bd] = [0, 1, 2].map(|i| value(&birth_runs[i]));
    let [ey, em, ed] = [0, 1, 2].map(|i| value(&expiry_runs[i]));
    let birth_date = birth_date(calendar, *era, [by, bm, bd], today)?;
    if birth_date >= today {
        return Err(OcrError::BirthInFuture);
    }
    let expiry_date =
        Date::new(ey as u16, em as u8, ed as u8).ok_or(OcrError::InvalidDate(FieldName::Expiry))?;
    check_expiry(birth_date, expiry_date, calendar, today)?;

    // YYMMDD: the era year (or the Gregorian year's last two digits), month and day, each
    // right-aligned in two places (a one-digit number prints without its leading zero).
    let mut digits = Zeroizing::new([b'0'; 14]);
    let mut confidence = [0.0f32; 14];
    let yy = &birth_runs[0][birth_runs[0].len().saturating_sub(2)..];
    for (pair, run) in [yy, &birth_runs[1][..], &birth_runs[2][..]]
        .into_iter()
        .enumerate()
    {
        let (left, right) = (2 * pair, 2 * pair + 1);
        digits[right] = digit(&run[run.len() - 1]);
        confidence[right] = run[run.len() - 1].confidence;
        (digits[left], confidence[left]) = match run {
            [tens, _] => (digit(tens), tens.confidence),
            _ => (b'0', confidence[right]),
        };
    }
    for (k, c) in expiry_runs[0].iter().chain(code).enumerate() {
        digits[6 + k] = digit(c);
        confidence[6 + k] = c.confidence;
    }
    let era = (calendar == Calendar::Wareki)
        .then(|| Era::of(&birth_date).map(|(e, _)| e))
        .flatten();
    Ok(PinBRead {
        digits,
        confidence,
        calendar,
        era,
    })
}

/// Classified blobs of one field's text line.
fn read_line(card: &Mat, field: &Field, contrast: f64) -> Result<Vec<Classified>, OcrError> {
    classify(&line_blobs(card, field.region, field.px, contrast)?)
}

/// Adjacent digits of a line.
type Run = Vec<Classified>;

/// Maximal runs of adjacent digits, left to right.
fn digit_runs(line: &[Classified]) -> Vec<Vec<Classified>> {
    let mut runs: Vec<Vec<Classified>> = Vec::new();
    let mut in_run = false;
    for c in line {
        match c.glyph {
            Glyph::Digit(_) if in_run => runs.last_mut().into_iter().for_each(|r| r.push(*c)),
            Glyph::Digit(_) => {
                runs.push(vec![*c]);
                in_run = true;
            }
            _ => in_run = false,
        }
    }
    runs
}

/// The calendar, era and the year/month/day digit runs of the birth line (type size `px`).
///
/// A Gregorian line starts with four digits. A 和暦 line starts with the two full-width era
/// characters, whose pieces may look like digits, so everything within their width is era.
fn birth_date_runs(
    line: &[Classified],
    px: f32,
) -> Result<(Calendar, Option<Era>, Vec<Run>), OcrError> {
    let unreadable = OcrError::FieldUnreadable(FieldName::BirthDate);
    let is_digit = |c: &&Classified| matches!(c.glyph, Glyph::Digit(_));
    let first = line.first().ok_or(unreadable.clone())?;
    if is_digit(&first) {
        let runs = date_runs(line, first.x, 0.0, px)
            .filter(|r| r[0].len() == 4 && line[..4].iter().all(|c| is_digit(&c)));
        return runs
            .map(|r| (Calendar::Gregorian, None, r))
            .ok_or(unreadable);
    }
    let era_end = first.x + (YEAR_START.start * px) as i32;
    let (era_part, rest): (Vec<Classified>, Vec<Classified>) =
        line.iter().partition(|c| c.x < era_end);
    // An era name holds a confidently read kanji (a Gregorian year whose first digit was
    // missed does not; its other digits would fall in the era's place).
    if !era_part
        .iter()
        .any(|c| !is_digit(&c) && c.confidence >= ERA_CONFIDENCE)
    {
        return Err(unreadable);
    }
    let mut votes = [0usize; 3];
    for c in &era_part {
        if let Glyph::Era(era) = c.glyph {
            votes[Era::ALL.iter().position(|e| *e == era).unwrap_or(0)] += 1;
        }
    }
    let era = (votes.iter().sum::<usize>() > 0)
        .then(|| Era::ALL[(0..3).max_by_key(|&i| votes[i]).unwrap_or(0)]);
    // The year must start right after the era: a missed digit would shift it.
    let year_at = |r: &Vec<Run>| YEAR_START.contains(&((r[0][0].x - first.x) as f32 / px));
    let runs = date_runs(&rest, first.x, ERA_ADVANCE, px)
        .filter(|r| r[0].len() <= 2 && year_at(r))
        .ok_or(unreadable)?;
    Ok((Calendar::Wareki, era, runs))
}

/// The year, month and day runs of a date line (`YYYY年 M月 D日…`): the first three digit
/// runs, month and day of one or two digits. Digits after the day (pieces of 生 or まで有効
/// taken for digits) are not part of the date.
///
/// The runs must fit the printed layout, so that a missed or extra digit is not read as a
/// shorter or longer number: the kanji after the year starts `lead` (the era's width) plus
/// the year's digits after `start`, and each kanji after the month and the day starts one
/// kanji plus that number's two places (a digit or a space, then a digit) after the previous.
fn date_runs(line: &[Classified], start: i32, lead: f32, px: f32) -> Option<Vec<Run>> {
    let mut runs = digit_runs(line);
    runs.truncate(3);
    if runs.len() != 3 || !runs[1..].iter().all(|r| (1..=2).contains(&r.len())) {
        return None;
    }
    let mut from = start;
    for (i, run) in runs.iter().enumerate() {
        let last = run.last()?.x;
        let kanji = line.iter().find(|c| c.x > last)?.x;
        let expected = match (i, run.len()) {
            (0, n) => lead + n as f32 * DIGIT_ADVANCE,
            (_, 1) => KANJI_ADVANCE + SPACE_ADVANCE + DIGIT_ADVANCE,
            _ => KANJI_ADVANCE + 2.0 * DIGIT_ADVANCE,
        };
        if ((kanji - from) as f32 / px - expected).abs() > LAYOUT_TOLERANCE {
            return None;
        }
        from = kanji;
    }
    Some(runs)
}

/// The Gregorian birth date. On a 和暦 card the date must exist in the era read or, as the
/// era's name does not enter 照合番号B, in another era (the first one in the past wins).
fn birth_date(
    calendar: Calendar,
    era: Option<Era>,
    [y, m, d]: [u32; 3],
    today: Date,
) -> Result<Date, OcrError> {
    let (y, m, d) = (y as u16, m as u8, d as u8);
    let dates: Vec<Date> = match calendar {
        Calendar::Gregorian => Date::new(y, m, d).into_iter().collect(),
        // The era read first, then the others: the era's name is read less surely than digits.
        Calendar::Wareki => era
            .into_iter()
            .chain(Era::ALL.into_iter().filter(|e| Some(*e) != era))
            .filter_map(|e| e.to_gregorian(y, m, d))
            .collect(),
    };
    let past = dates.iter().find(|b| **b < today);
    past.or(dates.first())
        .copied()
        .ok_or(OcrError::InvalidDate(FieldName::BirthDate))
}

/// The number a run of digits spells.
fn value(run: &[Classified]) -> u32 {
    run.iter()
        .fold(0, |acc, c| acc * 10 + u32::from(digit(c) - b'0'))
}

/// The ASCII digit of a blob classified as a digit (runs hold digits only).
fn digit(c: &Classified) -> u8 {
    match c.glyph {
        Glyph::Digit(d) => b'0' + d,
        _ => b'0',
    }
}

/// A card expires after its holder's 10th (5th for minors) birthday since issue; foreign
/// residents' cards may end with the residence period instead.
fn check_expiry(
    birth: Date,
    expiry: Date,
    calendar: Calendar,
    today: Date,
) -> Result<(), OcrError> {
    let in_range = expiry.year > FIRST_ISSUE_YEAR
        && expiry.year <= today.year + MAX_VALIDITY_YEARS
        && expiry > birth;
    let on_birthday = expiry.month == birth.month
        && (expiry.day == birth.day || (birth.month == 2 && birth.day == 29 && expiry.day == 28));
    if in_range && (calendar == Calendar::Gregorian || on_birthday) {
        Ok(())
    } else {
        Err(OcrError::ExpiryImplausible)
    }
}

#[cfg(test)]
impl PinBRead {
    /// A read of `55021720352285` whose least confident digit has `min_confidence`.
    pub(crate) fn sample(min_confidence: f32) -> Self {
        let mut confidence = [0.99; 14];
        confidence[13] = min_confidence;
        let digits = Zeroizing::new(*b"55021720352285");
        PinBRead {
            digits,
            confidence,
            calendar: Calendar::Wareki,
            era: Some(Era::Showa),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::{random_identity, render_card};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn today() -> Date {
        Date::new(2026, 11, 22).unwrap()
    }

    #[test]
    fn debug_output_hides_the_digits() {
        let read = PinBRead::sample(0.5);
        assert_eq!(read.pin_b().as_str(), "55021720352285");
        assert!(!format!("{read:?}").contains("5502"));
        assert_eq!(read.min_confidence(), 0.5);
    }

    #[test]
    fn blank_and_cardless_images_are_rejected() {
        assert!(matches!(
            read_card_front_on(&Mat::default(), today()),
            Err(OcrError::Image(_))
        ));
        let blank = Mat::new_rows_cols_with_default(
            480,
            640,
            opencv::core::CV_8UC3,
            opencv::core::Scalar::all(128.0),
        )
        .unwrap();
        assert_eq!(
            read_card_front_on(&blank, today()).unwrap_err(),
            OcrError::CardNotFound
        );
    }

    #[test]
    fn clean_synthetic_cards_read_back_their_identity() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..8 {
            let id = random_identity(&mut rng, today());
            let card = render_card(&id, &mut rng, None).unwrap();
            let mut grey = Mat::default();
            imgproc::cvt_color_def(&card, &mut grey, imgproc::COLOR_BGR2GRAY).unwrap();
            let read = read_rectified(&grey, today()).unwrap();
            assert_eq!(read.pin_b(), id.pin_b());
            assert_eq!(read.calendar, id.calendar);
            let (y, m, d) = id.birth_date;
            let era = Era::of(&Date::new(y, m, d).unwrap()).map(|(e, _)| e);
            assert_eq!(read.era, era.filter(|_| id.calendar == Calendar::Wareki));
            assert!(read.min_confidence() > 0.8);
        }
    }

    /// A classified blob at `x` type sizes (of 34 px) from the line's start.
    fn blob(glyph: Glyph, x: f32) -> Classified {
        Classified {
            glyph,
            confidence: 0.99,
            x: (x * 34.0) as i32,
        }
    }

    #[test]
    fn a_missed_year_digit_does_not_fit_the_layout() {
        // 昭和11年 2月17日: era, year digits, 年, month (space + digit), 月, day, 日.
        let d = |n, x| blob(Glyph::Digit(n), x);
        let other = |x| blob(Glyph::Other, x);
        let month = 1.381 + 2.0 * 0.395;
        let day = month + 0.691 + 0.156 + 0.395;
        let end = day + 0.691 + 2.0 * 0.395;
        let tail = [
            other(month),
            d(2, month + 0.691 + 0.156),
            other(day),
            d(1, day + 0.691),
            d(7, day + 0.691 + 0.395),
            other(end),
        ];
        let line: Vec<Classified> = [
            blob(Glyph::Era(Era::Showa), 0.0),
            other(0.69),
            d(1, 1.381),
            d(1, 1.381 + 0.395),
        ]
        .into_iter()
        .chain(tail)
        .collect();
        let (_, _, runs) = birth_date_runs(&line, 34.0).unwrap();
        assert_eq!(
            runs.iter().map(|r| value(r)).collect::<Vec<_>>(),
            [11, 2, 17]
        );
        let mut missed = line.clone();
        // The year still starts right after the era; only the layout shows a digit is missing.
        missed.remove(3);
        assert!(birth_date_runs(&missed, 34.0).is_err());
    }

    #[test]
    fn expiry_must_be_on_a_birthday_for_wareki_cards_and_within_validity() {
        let birth = Date::new(1980, 2, 17).unwrap();
        let ok = Date::new(2035, 2, 17).unwrap();
        assert!(check_expiry(birth, ok, Calendar::Wareki, today()).is_ok());
        let other_day = Date::new(2035, 2, 18).unwrap();
        assert_eq!(
            check_expiry(birth, other_day, Calendar::Wareki, today()),
            Err(OcrError::ExpiryImplausible)
        );
        assert!(check_expiry(birth, other_day, Calendar::Gregorian, today()).is_ok());
        let too_far = Date::new(2040, 2, 17).unwrap();
        assert_eq!(
            check_expiry(birth, too_far, Calendar::Wareki, today()),
            Err(OcrError::ExpiryImplausible)
        );
        let leap = Date::new(2000, 2, 29).unwrap();
        assert!(check_expiry(
            leap,
            Date::new(2030, 2, 28).unwrap(),
            Calendar::Wareki,
            today()
        )
        .is_ok());
    }
}
