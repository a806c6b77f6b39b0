//! The card-front reader: photo → card → fields → validated 照合番号B with per-digit confidence.

use crate::date::{Date, Era};
use crate::error::{FieldName, OcrError};
use crate::identity::Calendar;
use crate::layout::{CARD_H, CARD_W};
use crate::line_input::{line_image, CNN_PAD, LINE_H};
use crate::line_model::{LineModel, ReadChar};
use crate::lines::{find_lines_of_ink, row_of, FAINT_INK_CONTRAST, INK_CONTRAST};
use crate::locate::{card_outlines, colour_card_outlines, rectify_again, VisiblePart, RESAMPLINGS};
use crate::ppocr::{PpOcrRec, PPOCR_REC_SMALL, PPOCR_REC_TINY};
use crate::quad::alike;
use crate::scrub::ScrubbedMat;
use crate::textdet::TextDetector;
use opencv::core::{self, Mat, MatTraitConst, Point2f, Rect};
use opencv::imgproc;
use ort::environment::Environment;
use std::path::Path;
use zeroize::Zeroizing;

mod rectified;
use rectified::{
    beside, fields_seen_through, read_card_in_photo, room_for_a_card, tightest_holding, Rectified,
};

/// The widest a line of four digits (full-width, spaced) is for its height; longer lines
/// whose other characters the recogniser does not know (an address) are not the code.
const MAX_CODE_ASPECT: f32 = 7.0;
/// The narrowest a line of four digits (half-width, tightly set) is for its height.
const MIN_FIELD_ASPECT: f32 = 1.6;
/// How far a date line the line finder may have cut is grown to the left, in line heights:
/// room for an era name, a year and a space.
const WIDEN_LEFT: i32 = 5;
/// A valid read at least this sure in every digit ends the search over the card's candidate
/// outlines (the submit policy's threshold, [`crate::SubmitPolicy::min_confidence`]).
pub(crate) const SURE_ENOUGH: f32 = 0.95;
/// A valid read at least this sure in every digit needs no second look (the submit policy's
/// threshold for one frame alone, [`crate::SubmitPolicy::lone_frame_confidence`]).
pub(crate) const LONE_SURE: f32 = 0.99;
/// A field line less high than this in the photo (pixels) is too small to be sure of from one
/// frame: PP-OCRv6 read a code 6.3 px high wrong at 0.996 (development seed 779, card 1620),
/// while 3 of 376 sure reads of development seeds 777 and 778 had a field under 8 px.
const MIN_FIELD_PX: f32 = 7.0;
/// How sure a read with a field under [`MIN_FIELD_PX`] may be: less than [`LONE_SURE`], so
/// that no frame alone submits it, and [`SURE_ENOUGH`] or more, so that two frames agreeing
/// do. It gets no second look, which would read the same small type again.
const SMALL_TYPE_SURE: f32 = 0.98;
/// How sure a read through an outline that takes in more than the card may be when the
/// card's fields read otherwise through the tighter outline
/// ([`CardFrontReader::holds_through_a_tighter_outline`]): less than [`SURE_ENOUGH`], so that
/// the search goes on to the other outlines and no frames submit it.
const LOOSE_OUTLINE_SURE: f32 = 0.9;
/// A field's line closer than this to the rectified card's outline (pixels of
/// [`CARD_W`] × [`CARD_H`]) may be cut off: fields are printed 20 px or more inside the edge.
const EDGE_MARGIN: i32 = 6;
/// When one row of a card's reads is the back's 12-digit 個人番号 (a card front's longest
/// number is a 西暦 date's eight digits): as the own CNN reads it, all twelve digits (it reads
/// some kanji of an upside-down date as digits); as PP-OCR reads it, eleven at least 0.8 sure
/// (a misread line of small type may give many unsure digits). Chosen on development seeds
/// 777–779: no card front told as a back in 1,600 frames, either way up.
const BACK_BY_CNN: BackNumber = BackNumber {
    digits: 12,
    sure: 0.0,
};
/// The back's number as PP-OCR reads it (see [`BACK_BY_CNN`]).
const BACK_BY_PPOCR: BackNumber = BackNumber {
    digits: 11,
    sure: 0.8,
};
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
    /// How many camera frames gave this very read on their own (1 for one frame's read).
    pub agreeing_frames: u8,
    /// A frame that gave this read looked at its card a second time (the card rectified again
    /// from other samples of the photo, its three field lines read again) and read the same
    /// 14 digits, every one at least [`SURE_ENOUGH`] sure.
    pub second_look: bool,
}

impl PinBRead {
    pub(crate) fn new(
        digits: Zeroizing<[u8; 14]>,
        confidence: [f32; 14],
        calendar: Calendar,
        era: Option<Era>,
        agreeing_frames: u8,
    ) -> Self {
        Self {
            digits,
            confidence,
            calendar,
            era,
            agreeing_frames,
            second_look: false,
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

    /// Every digit at most `sure`.
    fn no_surer_than(&mut self, sure: f32) {
        for c in &mut self.confidence {
            *c = c.min(sure);
        }
    }
}

impl std::fmt::Debug for PinBRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinBRead")
            .field("digits", &"<redacted>")
            .field("min_confidence", &self.min_confidence())
            .field("calendar", &self.calendar)
            .field("era", &self.era)
            .field("agreeing_frames", &self.agreeing_frames)
            .field("second_look", &self.second_look)
            .finish()
    }
}

/// The card-front reader: finds the card, rectifies it, finds its text lines and reads them
/// with a line recogniser.
pub struct CardFrontReader {
    recogniser: Recogniser,
    lines: LineFinder,
    /// The own line CNN, which reads every found line first (a fraction of a millisecond
    /// each): only the lines it reads as possibly a field go to PP-OCR, and a field PP-OCR
    /// reads as it does is as sure as the surer of the two reads.
    screen: Option<LineModel>,
}

/// How the reader finds the text lines of a rectified card: passes tried in turn until one
/// gives a sure read.
pub struct LineFinder {
    passes: Vec<Pass>,
    detector: Option<TextDetector>,
}

/// One way of finding lines.
#[derive(Clone, Copy)]
enum Pass {
    /// By their ink, at least this much darker than around it ([`find_lines_of_ink`]).
    Ink(f64),
    /// By PP-OCR's text detector.
    Detector,
}

impl LineFinder {
    /// By their ink only.
    pub fn ink() -> Self {
        Self {
            passes: vec![Pass::Ink(INK_CONTRAST)],
            detector: None,
        }
    }

    /// By their ink, then by PP-OCR's detector (loaded from `models_dir` into `env`) when
    /// those lines give no sure read: the default (see card-front/README.md).
    pub fn ink_then_detector(env: &Environment, models_dir: &Path) -> Result<Self, OcrError> {
        Ok(Self {
            passes: vec![Pass::Ink(INK_CONTRAST), Pass::Detector],
            detector: Some(TextDetector::load(env, models_dir)?),
        })
    }

    /// Passes named by `name`, `+` between them: `ink` (ink of the usual contrast), `faint`
    /// (fainter ink), `det` (PP-OCR's detector, loaded from `models_dir` into `env`).
    pub fn named(name: &str, env: &Environment, models_dir: &Path) -> Result<Self, OcrError> {
        let mut finder = Self {
            passes: Vec::new(),
            detector: None,
        };
        for pass in name.split('+') {
            finder.passes.push(match pass {
                "ink" => Pass::Ink(INK_CONTRAST),
                "faint" => Pass::Ink(FAINT_INK_CONTRAST),
                "det" => {
                    finder.detector = Some(TextDetector::load(env, models_dir)?);
                    Pass::Detector
                }
                _ => return Err(OcrError::Model(format!("no line finder {pass:?}"))),
            });
        }
        Ok(finder)
    }

    /// The lines of one pass.
    fn find(&self, pass: Pass, card: &Mat) -> Result<Vec<Rect>, OcrError> {
        match (pass, &self.detector) {
            (Pass::Ink(contrast), _) => find_lines_of_ink(card, contrast),
            (Pass::Detector, Some(d)) => d.find_lines(card),
            (Pass::Detector, None) => Err(OcrError::Model("no text detector loaded".into())),
        }
    }
}

/// The model files the default reader loads ([`CardFrontReader::new`]): file name and sha256.
pub const OCR_MODELS: [(&str, &str); 3] = [
    (PPOCR_REC_TINY.file, PPOCR_REC_TINY.sha256),
    (PPOCR_REC_SMALL.file, PPOCR_REC_SMALL.sha256),
    (crate::PPOCR_DET_FILE, crate::PPOCR_DET_SHA256),
];

/// The line recognisers the reader can use.
enum Recogniser {
    /// PP-OCRv6's tiny recogniser, then its small one on the lines the tiny one is not sure
    /// of (the default: see card-front/README.md, "Choosing the recogniser").
    PpOcr { tiny: PpOcrRec, small: PpOcrRec },
    /// This crate's own small line CNN (`models/card-front-line.onnx`).
    LineCnn(LineModel),
}

impl CardFrontReader {
    /// Loads the default line recognisers and text detector ([`OCR_MODELS`] in `models_dir`,
    /// the kiosk's `[face] models_dir`; tools use [`crate::models_dir`]) into ONNX Runtime
    /// environment `env`.
    pub fn new(env: &Environment, models_dir: &Path) -> Result<Self, OcrError> {
        Ok(Self {
            recogniser: Recogniser::PpOcr {
                tiny: PpOcrRec::load(env, models_dir, PPOCR_REC_TINY)?,
                small: PpOcrRec::load(env, models_dir, PPOCR_REC_SMALL)?,
            },
            lines: LineFinder::ink_then_detector(env, models_dir)?,
            screen: Some(LineModel::load(env)?),
        })
    }

    /// The reader finding lines with `lines` instead (for comparison).
    pub fn with_lines(self, lines: LineFinder) -> Self {
        Self { lines, ..self }
    }

    /// The reader with this crate's own line CNN instead (for comparison).
    pub fn with_line_cnn(env: &Environment) -> Result<Self, OcrError> {
        Ok(Self {
            recogniser: Recogniser::LineCnn(LineModel::load(env)?),
            lines: LineFinder::ink(),
            screen: None,
        })
    }

    /// Reads every found line of `card` (boxes of [`find_lines`]): with PP-OCR, each by the
    /// tiny recogniser, and those it reads less than [`LONE_SURE`] sure in a digit or a date
    /// kanji ([`sure_of_its_fields`]) again by the small one, whose read is kept (each character
    /// as sure as the surer of the two where both read the same).
    fn read_lines(
        &self,
        card: &Mat,
        lines: &[Rect],
    ) -> Result<Vec<Zeroizing<Vec<ReadChar>>>, OcrError> {
        let (pad, height) = match &self.recogniser {
            Recogniser::PpOcr { .. } => (crate::ppocr::PAD, crate::ppocr::REC_H),
            Recogniser::LineCnn(_) => (CNN_PAD, LINE_H),
        };
        let images = lines
            .iter()
            .map(|&line| line_image(card, line, pad, height))
            .collect::<Result<Vec<_>, _>>()?;
        match &self.recogniser {
            Recogniser::PpOcr { tiny, small } => {
                let mut reads = tiny.read(&images)?;
                for (read, image) in reads.iter_mut().zip(&images) {
                    if sure_of_its_fields(read) {
                        continue;
                    }
                    let mut again = small.read_one(image)?;
                    if again.iter().map(|c| c.ch).eq(read.iter().map(|c| c.ch)) {
                        as_sure_as_both(&mut again, read);
                    }
                    *read = again;
                }
                Ok(reads)
            }
            Recogniser::LineCnn(m) => m.read(&images),
        }
    }

    /// Reads 照合番号B from a BGR or grey photo of a card front, validating the dates against
    /// `today`. The candidate outlines of the card are read in turn (those only its colour edges
    /// give once the others gave no sure read), upright and, when no line reads as a date,
    /// upside down, until one gives a valid read at least [`SURE_ENOUGH`] in every digit (a read
    /// through an outline wider than the card must hold through the card's own:
    /// [`Self::holds_through_a_tighter_outline`]); the most confident valid read wins, unless
    /// another card front is in the photo too ([`OcrError::SeveralCards`]).
    pub fn read(&self, image: &Mat, today: Date) -> Result<PinBRead, OcrError> {
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
        let mut outlines = card_outlines(image, &grey)?;
        let size = grey.size()?;
        // The first pass on every outline, upright and then (unless sure) upside down, until
        // one gives a sure read, then each later pass (the detector: costly) once, on the
        // outline of the best read so far.
        let Some((&first, later)) = self.lines.passes.split_first() else {
            return Err(OcrError::Model("no line finder".into()));
        };
        let mut best: Result<PinBRead, OcrError> = Err(OcrError::CardNotFound);
        let mut cards = Vec::with_capacity(outlines.len());
        // Where the best read was made: the outline and which way up.
        let (mut best_at, mut best_fields) = ((0, 0), [Rect::default(); 3]);
        // The colour edges' outlines only once the others gave no sure read.
        let mut in_colour = false;
        while let Some(outline) = match outlines.get(cards.len()) {
            None if !in_colour => {
                in_colour = true;
                let more = colour_card_outlines(image, &grey, &outlines)?;
                outlines.extend(more);
                outlines.get(cards.len())
            }
            found => found,
        } {
            let upright =
                Rectified::new(&grey, outline, size, |card| self.lines.find(first, card))?;
            let mut turned = None;
            for half_turns in 0..2 {
                let at = if half_turns == 0 {
                    &upright
                } else {
                    turned.insert(upright.turned(size)?)
                };
                let PassRead {
                    mut read,
                    any_date,
                    fields,
                } = self.read_found(at, today);
                if is_card_back(&read) {
                    return read;
                }
                if let Ok(r) = &mut read {
                    if !self
                        .holds_through_a_tighter_outline(&grey, at, &fields, &outlines, r, today)?
                    {
                        r.no_surer_than(LOOSE_OUTLINE_SURE);
                    }
                }
                if takes(&best, &read) {
                    (best, best_at, best_fields) = (read, (cards.len(), half_turns), fields);
                }
                if is_sure(&best) {
                    break;
                }
                // Only a card none of whose lines reads as a date may be upside down (digits
                // upside down still read as digits, 年 月 日 do not).
                if any_date {
                    break;
                }
            }
            cards.push([Some(upright), turned]);
            if is_sure(&best) {
                break;
            }
        }
        let best_card = cards
            .get(best_at.0)
            .and_then(|both| both[best_at.1].as_ref());
        if let (false, Some(card)) = (is_sure(&best), best_card) {
            for &pass in later {
                let PassRead { read, fields, .. } = self.read_pass(pass, card, today);
                if is_card_back(&read) {
                    return read;
                }
                if takes(&best, &read) {
                    (best, best_fields) = (read, fields);
                }
                if is_sure(&best) {
                    break;
                }
            }
        }
        match (best, best_card) {
            (Ok(mut read), Some(card)) => {
                if self.another_card(&grey, &outlines, (&card.quad, &best_fields), first)? {
                    return Err(OcrError::SeveralCards);
                }
                if smallest_in_photo(&card.quad, &best_fields) < MIN_FIELD_PX {
                    read.no_surer_than(SMALL_TYPE_SURE);
                } else if (SURE_ENOUGH..LONE_SURE).contains(&read.min_confidence()) {
                    read.second_look = self.looks_alike(&grey, card, &best_fields, &read, today)?;
                }
                Ok(read)
            }
            (best, _) => best,
        }
    }

    /// Whether a second look at the card read at `at`, its field lines at `fields` on the
    /// rectified card, reads what `read` does: the card rectified again from the photo `grey`
    /// ([`rectify_again`], each of [`RESAMPLINGS`] in turn until one agrees), its three field
    /// lines read again as the first time (the own CNN, PP-OCR, the fields by content, the
    /// dates validated against `today`), the same 14 digits, every one at least
    /// [`SURE_ENOUGH`] sure. No other line is read.
    fn looks_alike(
        &self,
        grey: &Mat,
        at: &Rectified,
        fields: &[Rect; 3],
        read: &PinBRead,
        today: Date,
    ) -> Result<bool, OcrError> {
        for how in RESAMPLINGS {
            let card = rectify_again(grey, &at.quad, how)?;
            let again = self.read_fields(&card, &Ok(fields.to_vec()), &at.visible, today);
            if again
                .read
                .is_ok_and(|r| r.digits() == read.digits() && r.min_confidence() >= SURE_ENOUGH)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the read `read` made at `at`, its field lines at `fields` on the rectified card,
    /// holds when those lines are read through the tightest other of `outlines` that holds
    /// them all ([`tightest_holding`]): the card rectified from that outline, the same lines
    /// (mapped onto it) read again as the first time, the same 14 digits, every one at least
    /// [`SURE_ENOUGH`] sure. A read with no such outline holds. An outline that takes in
    /// clutter around the card sees its type through a perspective that is not the card's.
    fn holds_through_a_tighter_outline(
        &self,
        grey: &Mat,
        at: &Rectified,
        fields: &[Rect; 3],
        outlines: &[[Point2f; 4]],
        read: &PinBRead,
        today: Date,
    ) -> Result<bool, OcrError> {
        let Some(tight) = tightest_holding(&at.quad, fields, outlines)? else {
            return Ok(true);
        };
        let (tight, lines) = fields_seen_through(&at.quad, fields, &tight)?;
        let card = Rectified::new(grey, &tight, grey.size()?, |_| Ok(lines.to_vec()))?;
        let again = self.read_found(&card, today);
        Ok(again
            .read
            .is_ok_and(|r| r.digits() == read.digits() && r.min_confidence() >= SURE_ENOUGH))
    }

    /// Whether a second card front is in the photo besides the card read at outline `read_at`,
    /// whose field lines lay at `fields` on the rectified card: with that card painted over
    /// ([`read_card_in_photo`]), another outline on which, either way up, `pass` finds a line
    /// that reads as one of the three fields. Outlines of the read card itself are left out;
    /// an outline taking in both cards is not. Which of two cards is in the reader cannot be
    /// told from the photo. An outline with too little room outside the read card to hold
    /// another is not read.
    fn another_card(
        &self,
        grey: &Mat,
        outlines: &[[Point2f; 4]],
        (read_at, fields): (&[Point2f; 4], &[Rect; 3]),
        pass: Pass,
    ) -> Result<bool, OcrError> {
        let cover = read_card_in_photo(read_at, fields)?;
        let mut others = Vec::new();
        for outline in outlines.iter().filter(|o| !alike(read_at, o)) {
            if room_for_a_card(outline, &cover)? {
                others.push(outline);
            }
        }
        if others.is_empty() {
            return Ok(false);
        }
        let mut rest = ScrubbedMat::from(grey.try_clone()?);
        imgproc::fill_convex_poly_def(&mut *rest, &cover, core::mean_def(grey)?)?;
        let size = grey.size()?;
        for outline in others {
            let upright = Rectified::new(&rest, outline, size, |card| self.lines.find(pass, card))?;
            if upright.lines.as_ref().is_ok_and(|l| l.is_empty()) {
                continue;
            }
            let shows_a_field = |at: &Rectified| -> Result<bool, OcrError> {
                let lines = at.lines.as_deref().unwrap_or_default();
                Ok(!self.fields_of(&at.card, lines, &at.visible)?.is_empty())
            };
            if shows_a_field(&upright)? {
                return Ok(true);
            }
            let turned = upright.turned(size)?;
            if shows_a_field(&turned)? {
                return Ok(true);
            }
            if beside(outline, read_at)?
                && (self.shows_a_date(&upright)? || self.shows_a_date(&turned)?)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether a line of the card rectified at `at` (one wide enough for a field and held
    /// whole by the photo) reads with a number followed by 年, 月 or 日: a piece of a date, which
    /// on a card-sized outline beside the read card shows a second card front whose type is too
    /// small or faint for any line to read as a whole field.
    fn shows_a_date(&self, at: &Rectified) -> Result<bool, OcrError> {
        let lines = may_hold_a_field(at.lines.as_deref().unwrap_or_default(), &at.visible);
        Ok(self
            .read_lines(&at.card, &lines)?
            .iter()
            .any(|text| number_before(text, "年月日")))
    }

    /// What the recogniser reads on each text line of a grey rectified card (digits, the kept
    /// kanji, ※ for any other character) and the least confidence on it: for diagnosing
    /// synthetic cards (`card-front why`), never for a patient's card.
    pub fn line_texts(&self, card: &Mat) -> Result<Vec<(Rect, Zeroizing<String>, f32)>, OcrError> {
        let first = self
            .lines
            .passes
            .first()
            .copied()
            .unwrap_or(Pass::Ink(INK_CONTRAST));
        let lines = self.lines.find(first, card)?;
        let mut out = Vec::new();
        for (&line, text) in lines.iter().zip(self.read_lines(card, &lines)?) {
            let least = text.iter().map(|c| c.confidence).fold(1.0, f32::min);
            out.push((
                line,
                Zeroizing::new(text.iter().map(|c| c.ch).collect()),
                least,
            ));
        }
        Ok(out)
    }

    /// Reads a grey card already rectified to [`crate::layout::CARD_W`] ×
    /// [`crate::layout::CARD_H`]: its text lines are found (by the reader's [`LineFinder`]) and
    /// read, and the three fields are told by their content.
    pub fn read_rectified(&self, card: &Mat, today: Date) -> Result<PinBRead, OcrError> {
        self.read_within(card, &VisiblePart::whole(), today)
    }

    /// Reads a rectified card of which only `visible` lay inside the photo: a line that does
    /// not hold whole there is never read.
    pub(crate) fn read_within(
        &self,
        card: &Mat,
        visible: &VisiblePart,
        today: Date,
    ) -> Result<PinBRead, OcrError> {
        let mut best = Err(OcrError::CardNotFound);
        for &pass in &self.lines.passes {
            let lines = self.lines.find(pass, card);
            let read = self.read_fields(card, &lines, visible, today).read;
            if is_card_back(&read) {
                return read;
            }
            best = better(best, read);
            if is_sure(&best) {
                break;
            }
        }
        best
    }

    /// Reads a rectified card on the lines found on it.
    fn read_found(&self, at: &Rectified, today: Date) -> PassRead {
        self.read_fields(&at.card, &at.lines, &at.visible, today)
    }

    /// Reads a rectified card on the lines a later pass of the [`LineFinder`] finds.
    fn read_pass(&self, pass: Pass, at: &Rectified, today: Date) -> PassRead {
        let lines = self.lines.find(pass, &at.card);
        self.read_fields(&at.card, &lines, &at.visible, today)
    }

    /// Reads a grey rectified card, of which `visible` lay inside the photo, on its text
    /// lines `lines` (or the error finding them gave): the three fields told by their content,
    /// exactly one line of each.
    fn read_fields(
        &self,
        card: &Mat,
        lines: &Result<Vec<Rect>, OcrError>,
        visible: &VisiblePart,
        today: Date,
    ) -> PassRead {
        let fields = lines
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|lines| self.fields_of(card, lines, visible));
        let any_date = fields.as_ref().is_ok_and(Fields::any_date);
        let (read, fields) = match fields.and_then(|f| f.read(today)) {
            Ok((read, at)) => (Ok(read), at),
            Err(e) => (Err(e), Default::default()),
        };
        PassRead {
            read,
            any_date,
            fields,
        }
    }

    /// The lines of `found` (those wide enough to hold a field and held whole by `visible`)
    /// that read as one of the three fields; a piece of a date line is read again with the
    /// other pieces on its row ([`row_of`]). A card's back ([`OcrError::CardBack`]) is told by
    /// the first recogniser that reads its lines (the own CNN, ahead of PP-OCR), and nothing
    /// of it is read further.
    fn fields_of(
        &self,
        card: &Mat,
        found: &[Rect],
        visible: &VisiblePart,
    ) -> Result<Fields, OcrError> {
        let mut fields = Fields::default();
        let mut lines = may_hold_a_field(found, visible);
        let mut second = Vec::new();
        if let Some(cnn) = &self.screen {
            let images = lines
                .iter()
                .map(|&line| line_image(card, line, CNN_PAD, LINE_H))
                .collect::<Result<Vec<_>, _>>()?;
            let reads = cnn.read(&images)?;
            if BACK_BY_CNN.shown(&lines, &reads) {
                return Err(OcrError::CardBack);
            }
            let mut kept = Vec::new();
            for (&line, read) in lines.iter().zip(reads) {
                if may_be_a_field(&read, line) {
                    kept.push(line);
                    second.push(read);
                }
            }
            lines = kept;
        }
        let reads = self.read_lines(card, &lines)?;
        if BACK_BY_PPOCR.shown(&lines, &reads) {
            return Err(OcrError::CardBack);
        }
        let mut cut_dates = Vec::new();
        // Lines that read with a date's kanji: a line of four digits inside one of them is a
        // part of that date line found apart (its year), not the security code.
        let dated: Vec<Rect> = lines
            .iter()
            .zip(&reads)
            .filter(|(_, text)| text.iter().any(|c| "年月日".contains(c.ch)))
            .map(|(&line, _)| line)
            .collect();
        for (k, (&line, mut text)) in lines.iter().zip(reads).enumerate() {
            if let Some(other) = second.get(k) {
                as_sure_as_both(&mut text, other);
            }
            if let Some(birth) = birth_numbers(&text) {
                fields.births.push((line, birth));
            } else if let Some(expiry) = expiry_numbers(&text) {
                fields.expiries.push((line, expiry));
            } else if text.len() == 4
                && text.iter().all(|c| c.ch.is_ascii_digit())
                && line.width as f32 <= MAX_CODE_ASPECT * line.height as f32
                && !dated.iter().any(|&date| mostly_inside(line, date))
            {
                fields.codes.push((line, text));
            } else if might_be_a_cut_date(&text) {
                cut_dates.push(line);
            }
        }
        let (no_birth, no_expiry) = (fields.births.is_empty(), fields.expiries.is_empty());
        if no_birth || no_expiry {
            let mut tried = Vec::new();
            for line in cut_dates {
                let wide = widened(row_of(line, found));
                if !visible.holds_whole(wide) || tried.contains(&wide) {
                    continue;
                }
                tried.push(wide);
                let text = self.read_lines(card, &[wide])?.pop().unwrap_or_default();
                match (birth_numbers(&text), expiry_numbers(&text)) {
                    (Some(birth), _) if no_birth => fields.births.push((wide, birth)),
                    (None, Some(expiry)) if no_expiry => fields.expiries.push((wide, expiry)),
                    _ => {}
                }
            }
        }
        // A four-digit piece that a date line read whole or as a row reaches into is that
        // date's year (or a part of it), not the code.
        let dates: Vec<Rect> = fields.date_lines().collect();
        fields
            .codes
            .retain(|(code, _)| dates.iter().all(|&date| (*code & date).area() == 0));
        Ok(fields)
    }
}

/// The lines of `lines` wide enough to hold a field (a narrower one, a lone character or a
/// mark, is never read) and held whole by `visible`.
fn may_hold_a_field(lines: &[Rect], visible: &VisiblePart) -> Vec<Rect> {
    lines
        .iter()
        .copied()
        .filter(|l| l.width as f32 >= MIN_FIELD_ASPECT * l.height as f32)
        .filter(|&l| visible.holds_whole(l))
        .collect()
}

/// The height in the photo (pixels) of the lowest of `lines` of the card rectified from
/// `quad`: their height on the rectified card scaled by the outline's mean width over the
/// card's.
fn smallest_in_photo(quad: &[Point2f; 4], lines: &[Rect]) -> f32 {
    let width = ((quad[1] - quad[0]).norm() + (quad[2] - quad[3]).norm()) / 2.0;
    let scale = width as f32 / CARD_W as f32;
    lines
        .iter()
        .map(|line| line.height as f32 * scale)
        .fold(f32::INFINITY, f32::min)
}

/// Whether at least half of box `inner` lies inside box `outer` (and they differ).
fn mostly_inside(inner: Rect, outer: Rect) -> bool {
    let common = inner & outer;
    inner != outer && 2 * common.area() >= inner.area()
}

/// Whether a line's read is at least [`LONE_SURE`] in every character a field is read from
/// (digits and date kanji; ※, any other character, does not matter).
fn sure_of_its_fields(read: &[ReadChar]) -> bool {
    read.iter()
        .all(|c| c.ch == crate::line_input::OTHER || c.confidence >= LONE_SURE)
}

/// Whether a line that is no field may be a piece of a date line whose other pieces the line
/// finder missed (faint era kanji) or found apart: it reads `…日生`, a number followed by 月
/// or 日, or a date with a year of at most two digits.
fn might_be_a_cut_date(text: &[ReadChar]) -> bool {
    let born = text.windows(2).any(|w| w[0].ch == '日' && w[1].ch == '生');
    born || number_before(text, "月日")
        || the_date(text, &[]).is_some_and(|(_, numbers, _)| numbers[0].len() <= 2)
}

/// Whether `text` reads a digit followed by one of `units`.
fn number_before(text: &[ReadChar], units: &str) -> bool {
    text.windows(2)
        .any(|w| w[0].ch.is_ascii_digit() && units.contains(w[1].ch))
}

/// `line` (a row of pieces: [`row_of`]) grown to the left by room for an era and a year, and
/// to the right by two characters, as far as [`EDGE_MARGIN`] inside the card.
fn widened(line: Rect) -> Rect {
    let h = line.height;
    let grown = Rect::new(
        line.x - WIDEN_LEFT * h,
        line.y,
        line.width + (WIDEN_LEFT + 2) * h,
        h,
    );
    grown & within_margin()
}

/// The part of the rectified card a field's line must lie in: [`EDGE_MARGIN`] inside it.
fn within_margin() -> Rect {
    Rect::new(
        EDGE_MARGIN,
        EDGE_MARGIN,
        CARD_W - 2 * EDGE_MARGIN,
        CARD_H - 2 * EDGE_MARGIN,
    )
}

/// The lines of a card that read as each field, with what they read.
#[derive(Default)]
struct Fields {
    births: Vec<(Rect, Birth)>,
    expiries: Vec<(Rect, Numbers)>,
    codes: Vec<(Rect, Zeroizing<Vec<ReadChar>>)>,
}

impl Fields {
    fn is_empty(&self) -> bool {
        self.codes.is_empty() && !self.any_date()
    }

    /// The lines that read as a birth or expiry date.
    fn date_lines(&self) -> impl Iterator<Item = Rect> + '_ {
        let births = self.births.iter().map(|(line, _)| *line);
        births.chain(self.expiries.iter().map(|(line, _)| *line))
    }

    /// Whether a line read as a birth or expiry date.
    fn any_date(&self) -> bool {
        !self.births.is_empty() || !self.expiries.is_empty()
    }

    /// 照合番号B from exactly one line of each field, the dates validated against `today`, and
    /// where the three lines are (birth, expiry, code).
    fn read(self, today: Date) -> Result<(PinBRead, [Rect; 3]), OcrError> {
        let (birth_at, birth) = the_one(self.births, |b| &b.2[..], FieldName::BirthDate)?;
        let (expiry_at, expiry) = the_one(self.expiries, |e| &e[..], FieldName::Expiry)?;
        let (code_at, code) = the_one(self.codes, std::slice::from_ref, FieldName::SecurityCode)?;
        let read = assemble(&birth, &expiry, &code, today)?;
        Ok((read, [birth_at, expiry_at, code_at]))
    }
}

/// One pass's read of a rectified card, whether any of its lines read as a date, and where the
/// lines of a valid read's three fields are.
struct PassRead {
    read: Result<PinBRead, OcrError>,
    any_date: bool,
    fields: [Rect; 3],
}

/// Whether the own CNN's read of a line may be a field's: a kanji of the date lines, or two
/// digits (the CNN misreads more characters than PP-OCR, so the test is loose: a field line
/// dropped here is a rejected read, never a wrong one).
fn may_be_a_field(read: &[ReadChar], line: Rect) -> bool {
    let digits = read.iter().filter(|c| c.ch.is_ascii_digit()).count();
    read.iter().any(|c| "年月日生有".contains(c.ch))
        || (digits >= 2 && line.width as f32 <= MAX_CODE_ASPECT * line.height as f32)
}

/// How a recogniser's reads show the back's 12-digit number: [`Self::digits`] digits or more
/// read at least [`Self::sure`] on one row.
struct BackNumber {
    digits: usize,
    sure: f32,
}

impl BackNumber {
    /// Whether the reads of a card's `lines` show the number: a row of lines that read as
    /// digits (at least three, two thirds or more of the line, none of 年 月 日) holding enough
    /// sure digits, on one line or on several (its groups of four set far apart).
    fn shown(&self, lines: &[Rect], reads: &[Zeroizing<Vec<ReadChar>>]) -> bool {
        let numbers: Vec<(Rect, usize)> = lines
            .iter()
            .zip(reads)
            .filter_map(|(&line, read)| {
                let digits = read.iter().filter(|c| c.ch.is_ascii_digit()).count();
                let sure = read
                    .iter()
                    .filter(|c| c.ch.is_ascii_digit() && c.confidence >= self.sure)
                    .count();
                let date = read.iter().any(|c| "年月日".contains(c.ch));
                (!date && digits >= 3 && 3 * digits >= 2 * read.len()).then_some((line, sure))
            })
            .collect();
        let same_row = |a: &Rect, b: &Rect| {
            let overlap = (a.y + a.height).min(b.y + b.height) - a.y.max(b.y);
            2 * overlap >= a.height.min(b.height)
        };
        numbers.iter().any(|(line, _)| {
            let row: usize = numbers
                .iter()
                .filter(|(other, _)| same_row(line, other))
                .map(|(_, sure)| sure)
                .sum();
            row >= self.digits
        })
    }
}

/// Whether a read stopped at a card's back.
fn is_card_back(read: &Result<PinBRead, OcrError>) -> bool {
    matches!(read, Err(OcrError::CardBack))
}

/// Where a second, independent recogniser read a line exactly as `read` does, each character
/// is as sure as the surer of the two reads, never surer.
fn as_sure_as_both(read: &mut [ReadChar], other: &[ReadChar]) {
    if read.len() == other.len() && read.iter().zip(other).all(|(a, b)| a.ch == b.ch) {
        for (a, b) in read.iter_mut().zip(other) {
            a.confidence = a.confidence.max(b.confidence);
        }
    }
}

/// Of two reads of one card, the valid one, or the more confident of two valid ones; of two
/// failures, the first's error unless it is that no card was found.
fn better(
    a: Result<PinBRead, OcrError>,
    b: Result<PinBRead, OcrError>,
) -> Result<PinBRead, OcrError> {
    if takes(&a, &b) {
        b
    } else {
        a
    }
}

/// Whether [`better`] of `a` and `b` is `b`.
fn takes(a: &Result<PinBRead, OcrError>, b: &Result<PinBRead, OcrError>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => b.min_confidence() > a.min_confidence(),
        (Ok(_), Err(_)) => false,
        (Err(OcrError::CardNotFound), _) | (Err(_), Ok(_)) => true,
        (Err(_), Err(_)) => false,
    }
}

/// A valid read at least [`SURE_ENOUGH`] in every digit.
fn is_sure(read: &Result<PinBRead, OcrError>) -> bool {
    read.as_ref()
        .is_ok_and(|r| r.min_confidence() >= SURE_ENOUGH)
}

/// The one line a field was read on. Lines whose boxes overlap and that read the same digits
/// are one print found twice (a framed band's line with and without its frame): the surer
/// read is kept. Any other second line makes the field unreadable, and so does a line that
/// reaches the card's outline: a card's fields are printed well inside its edges, so such a
/// line may have been cut off by the frame's edge or by whatever covers the rest of the card.
fn the_one<T>(
    found: Vec<(Rect, T)>,
    numbers: impl Fn(&T) -> &[Zeroizing<Vec<ReadChar>>],
    field: FieldName,
) -> Result<(Rect, T), OcrError> {
    let digits = |t: &T| -> Zeroizing<Vec<char>> {
        Zeroizing::new(
            numbers(t)
                .iter()
                .flat_map(|n| n.iter().map(|c| c.ch))
                .collect(),
        )
    };
    let sure = |t: &T| {
        numbers(t)
            .iter()
            .flat_map(|n| n.iter().map(|c| c.confidence))
            .fold(1.0, f32::min)
    };
    let inside = within_margin();
    if found.iter().any(|(line, _)| (*line & inside) != *line) {
        return Err(OcrError::FieldUnreadable(field));
    }
    let mut found = found.into_iter();
    let (first_box, mut best) = found.next().ok_or(OcrError::FieldUnreadable(field))?;
    let mut at = first_box;
    for (line, other) in found {
        if (line & first_box).area() == 0 || digits(&other) != digits(&best) {
            return Err(OcrError::FieldUnreadable(field));
        }
        at |= line;
        if sure(&other) > sure(&best) {
            best = other;
        }
    }
    Ok((at, best))
}

/// Validates the dates of the three lines and assembles 照合番号B.
fn assemble(
    (calendar, era, birth): &Birth,
    expiry: &Numbers,
    code: &[ReadChar],
    today: Date,
) -> Result<PinBRead, OcrError> {
    let calendar = *calendar;
    let [by, bm, bd] = [0, 1, 2].map(|i| value(&birth[i]));
    let [ey, em, ed] = [0, 1, 2].map(|i| value(&expiry[i]));
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
    let yy = &birth[0][birth[0].len().saturating_sub(2)..];
    for (pair, number) in [yy, &birth[1][..], &birth[2][..]].into_iter().enumerate() {
        let mut two = two_places(number);
        // A 和暦 card expires on the birthday (checked above): where the expiry line reads
        // the month or day with the same digits, that second read makes each digit as sure as
        // the surer of the two, never surer.
        if let Some(seen) = (pair > 0 && calendar == Calendar::Wareki)
            .then(|| two_places(&expiry[pair]))
            .filter(|seen| seen.iter().zip(&two).all(|(s, t)| s.0 == t.0))
        {
            for (t, s) in two.iter_mut().zip(seen) {
                t.1 = t.1.max(s.1);
            }
        }
        for (k, (digit, sure)) in two.into_iter().enumerate() {
            (digits[2 * pair + k], confidence[2 * pair + k]) = (digit, sure);
        }
    }
    for (k, c) in expiry[0].iter().chain(code).enumerate() {
        (digits[6 + k], confidence[6 + k]) = (c.ch as u8, c.confidence);
    }
    // The expiry year passed `check_expiry`: after 2016 and before 2100, so its first two
    // digits are 20 on every real card, however surely they were read.
    if (FIRST_ISSUE_YEAR..2100).contains(&expiry_date.year) {
        confidence[6] = 1.0;
        confidence[7] = 1.0;
    }
    let era = (calendar == Calendar::Wareki)
        .then(|| Era::of(&birth_date).map(|(e, _)| e))
        .flatten();
    Ok(PinBRead::new(digits, confidence, calendar, era, 1))
}

/// A number of one or two digits as two (digit, confidence): a lone digit has a leading zero
/// as sure as itself.
fn two_places(number: &[ReadChar]) -> [(u8, f32); 2] {
    let last = number[number.len() - 1];
    let units = (last.ch as u8, last.confidence);
    match number {
        [tens, _] => [(tens.ch as u8, tens.confidence), units],
        _ => [(b'0', last.confidence), units],
    }
}

/// The year, month and day of a date line, as read.
type Numbers = [Zeroizing<Vec<ReadChar>>; 3];

/// The calendar, era (if read) and numbers of a birth line.
type Birth = (Calendar, Option<Era>, Numbers);

/// The calendar, era and year / month / day of a birth line: `YYYY年M月D日生` (Gregorian) or
/// an era name, then `YY年M月D日生` (和暦), anywhere in the line but only once. An era year
/// must follow the era name's second character (和 成 正 治); its first one may be misread (the
/// era then stays open: it does not enter 照合番号B, and the dates decide it).
fn birth_numbers(line: &[ReadChar]) -> Option<Birth> {
    let (start, numbers, _) = the_date(line, &['生'])?;
    let second = start.checked_sub(1).map(|i| line[i].ch);
    let first = start.checked_sub(2).map(|i| line[i].ch);
    let eras: Vec<Era> = Era::ALL
        .into_iter()
        .filter(|e| e.printed().chars().nth(1) == second)
        .collect();
    match numbers[0].len() {
        1 | 2 if !eras.is_empty() => {
            let era = eras
                .into_iter()
                .find(|e| e.printed().chars().next() == first);
            Some((Calendar::Wareki, era, numbers))
        }
        4 if eras.is_empty() => Some((Calendar::Gregorian, None, numbers)),
        _ => None,
    }
}

/// The year / month / day of an expiry line, `YYYY年M月D日まで有効`, anywhere in the line but
/// only once: a four-digit year and 有 after the date (PP-OCR knows neither まで nor 効), or, for a
/// year 20xx, any character after the date but 生 (まで有効 misread whole).
fn expiry_numbers(line: &[ReadChar]) -> Option<Numbers> {
    let (_, numbers, end) = the_date(line, &[])?;
    let year = &numbers[0];
    if year.len() != 4 || line.get(end).is_some_and(|c| c.ch == '生') {
        return None;
    }
    // Only the year enters 照合番号B. A birth line of this century whose 生 is misread, taken
    // for an expiry line, leaves the card without a birth line or with two expiry lines: the
    // read is rejected.
    let this_century = year[0].ch == '2' && year[1].ch == '0';
    let tail = line[end..].iter().any(|c| c.ch == '有') || (this_century && end < line.len());
    tail.then_some(numbers)
}

/// The one date of a line followed by `tail`: where its year starts, its numbers and where
/// it ends (after 日). None if
/// there is none or more than one, or a digit comes right before it.
fn the_date(line: &[ReadChar], tail: &[char]) -> Option<(usize, Numbers, usize)> {
    let mut found = None;
    for start in 0..line.len() {
        if start > 0 && line[start - 1].ch.is_ascii_digit() {
            continue;
        }
        let Some((numbers, end)) = date_numbers(line, start) else {
            continue;
        };
        let follows = line
            .get(end..end + tail.len())
            .is_some_and(|t| t.iter().map(|c| c.ch).eq(tail.iter().copied()));
        if follows {
            if found.is_some() {
                return None;
            }
            found = Some((start, numbers, end));
        }
    }
    found
}

/// The numbers of `Y年M月D日` starting at `line[start]` and the index after 日: the year of one
/// to four digits, month and day of one or two. Each number's digits are no surer than the
/// unit kanji after it (a digit taken for a kanji would shorten the number).
fn date_numbers(line: &[ReadChar], start: usize) -> Option<(Numbers, usize)> {
    let mut at = start;
    let mut numbers: Numbers = Default::default();
    for (number, unit) in numbers.iter_mut().zip(['年', '月', '日']) {
        let rest = line.get(at..)?;
        let len = rest.iter().take_while(|c| c.ch.is_ascii_digit()).count();
        let kanji = rest.get(len).filter(|c| c.ch == unit)?;
        if !(1..=4).contains(&len) {
            return None;
        }
        *number = Zeroizing::new(
            rest[..len]
                .iter()
                .map(|c| ReadChar {
                    confidence: c.confidence.min(kanji.confidence),
                    ..*c
                })
                .collect(),
        );
        at += len + 1;
    }
    numbers[1..]
        .iter()
        .all(|n| n.len() <= 2)
        .then_some((numbers, at))
}

/// The Gregorian birth date. On a 和暦 card the date must exist in the era read or, as the
/// era's name does not enter 照合番号B, in another era (the latest one in the past wins).
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
            .chain(Era::ALL.into_iter().rev().filter(|e| Some(*e) != era))
            .filter_map(|e| e.to_gregorian(y, m, d))
            .collect(),
    };
    let past = dates.iter().find(|b| **b < today);
    past.or(dates.first())
        .copied()
        .ok_or(OcrError::InvalidDate(FieldName::BirthDate))
}

/// The number a run of digits spells.
fn value(number: &[ReadChar]) -> u32 {
    number
        .iter()
        .fold(0, |acc, c| acc * 10 + c.ch.to_digit(10).unwrap_or(0))
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
        PinBRead::new(digits, confidence, Calendar::Wareki, Some(Era::Showa), 1)
    }
}

#[cfg(test)]
mod tests;
