//! Values the session reasons about: what the card, the cameras, the staff and the
//! reception system report, and what the session hands over. No pixels, no My Number.

use std::fmt;
use zeroize::Zeroizing;

use crate::errors::KioskError;

pub use crate::lang::Lang;

/// Digits typed or read that only the card may judge (a PIN, 照合番号B). Zeroized on drop;
/// `Debug` shows only how many digits there are.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Zeroizing<String>);

/// The patient's 4-digit PIN (利用者証明用電子証明書 暗証番号).
pub type PinEntry = Secret;
/// 照合番号B as read off the card front (14 digits).
pub type PinB = Secret;

impl Secret {
    pub fn new(digits: &str) -> Self {
        Self(Zeroizing::new(digits.to_owned()))
    }

    /// Appends one digit (0–9).
    pub fn push(&mut self, digit: u8) {
        if let Some(c) = char::from_digit(u32::from(digit), 10) {
            self.0.push(c);
        }
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn clear(&mut self) {
        // `String::clear` keeps the bytes in the buffer; zeroize them first.
        zeroize::Zeroize::zeroize(&mut *self.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The digits, for the one call that sends them to the card.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} digits)", self.0.len())
    }
}

/// The user-authentication certificate as the card layer checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Serial number (hex), the key of the insurance record.
    pub serial: String,
    /// Last day of validity, ISO 8601 (e.g. "2031-03-31").
    pub not_after: String,
    /// Whole days from today until `not_after`; negative once expired.
    pub days_left: i64,
    pub der: Vec<u8>,
}

/// The PIN of the user-authentication key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinState {
    /// 顔認証マイナンバーカード: no PIN is set, face or 目視 only.
    NotSet,
    /// Tries left before the key locks (0 = locked).
    Remaining(u8),
}

/// What reading the card without any PIN gives: certificate and retry counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardIdentity {
    pub certificate: Certificate,
    pub pin: PinState,
    /// Tries left for 照合番号B of the 券面事項確認AP; `None` when the card does not report it.
    pub pin_b_retries: Option<u8>,
}

/// What the card-front OCR gave for one read (the best of the frames it looked at).
#[derive(Debug, Clone, PartialEq)]
pub enum CardFrontReading {
    /// A validated 照合番号B, the confidence of its least confident digit, how many frames
    /// gave it on their own, and whether one of them read it again alike on a second look.
    Read {
        pin_b: PinB,
        min_confidence: f32,
        agreeing_frames: u8,
        second_look: bool,
    },
    /// No card in the photos, or a field that could not be read or validated.
    Unreadable,
    /// A photo showed more than one card front: which one is in the reader is unknown.
    SeveralCards,
    /// A photo showed a card's back (its 12-digit number): the card lies face down.
    CardBack,
}

/// The card's answer to 照合番号B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinBOutcome {
    Accepted,
    Rejected { remaining: u8 },
}

/// Quality guidance the face pipeline derives from each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guidance {
    NoFace,
    SeveralFaces,
    MoveCloser,
    MoveBack,
    CenterFace,
    RemoveMask,
    LookStraight,
    /// The eyes look covered (sunglasses, a hand, hair).
    UncoverEyes,
    TooDark,
    HoldStill,
}

/// Active liveness challenge asked of the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    TurnLeft,
    TurnRight,
    Closer,
    Blink,
}

/// Whether the active liveness challenge was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivenessCheck {
    /// The challenge was met.
    Passed,
    /// Not judged: liveness is off in the configuration (demo mode only).
    NotRun,
}

/// How one capture attempt ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Capture {
    /// A usable live face was captured (and the challenge met, if judged).
    Captured { liveness: LivenessCheck },
    /// The challenge was not met (a photo, a screen, a mask …).
    LivenessFailed,
}

/// Live face against the chip photo: scores only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceMatch {
    pub score: f32,
    pub matched: bool,
}

/// The card's answer to the PIN (VERIFY, then the signature over a fresh challenge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinOutcome {
    /// Verified; the signature was checked against the certificate.
    Verified(PinProof),
    Wrong {
        remaining: u8,
    },
    Locked,
}

/// Proof of possession after a correct PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinProof {
    pub challenge: Vec<u8>,
    pub signature: Vec<u8>,
}

/// Why staff confirmed the patient by sight (目視確認).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisualReason {
    /// 本人意識なし
    Unconscious,
    /// 顔認証不可
    FaceUnavailable,
    /// 暗証番号ロック
    PinLocked,
    /// その他
    Other,
}

impl VisualReason {
    pub const ALL: [VisualReason; 4] = [
        VisualReason::Unconscious,
        VisualReason::FaceUnavailable,
        VisualReason::PinLocked,
        VisualReason::Other,
    ];

    /// Code used in the hand-off and the audit log.
    pub fn code(self) -> &'static str {
        match self {
            VisualReason::Unconscious => "unconscious",
            VisualReason::FaceUnavailable => "face_unavailable",
            VisualReason::PinLocked => "pin_locked",
            VisualReason::Other => "other",
        }
    }
}

/// A staff member, as identified by their credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator(pub String);

/// How the patient was verified, with the method's evidence.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Face {
        score: f32,
        liveness: LivenessCheck,
        /// Capture attempts used, the matching one included.
        attempts: u8,
    },
    Pin(PinProof),
    Visual {
        operator: Operator,
        reason: VisualReason,
    },
}

impl Method {
    pub fn kind(&self) -> MethodKind {
        match self {
            Method::Face { .. } => MethodKind::Face,
            Method::Pin(_) => MethodKind::Pin,
            Method::Visual { .. } => MethodKind::Visual,
        }
    }
}

/// The three ways to verify a patient, without their evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    Face,
    Pin,
    Visual,
}

impl MethodKind {
    /// The method's name in the audit log and the hand-off (the one place it is spelled).
    pub fn code(self) -> &'static str {
        match self {
            MethodKind::Face => "face",
            MethodKind::Pin => "pin",
            MethodKind::Visual => "visual",
        }
    }
}

/// Information the patient may let the facility see (オンライン資格確認 consent items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentItem {
    /// 薬剤情報
    Drug,
    /// 特定健診情報
    Checkup,
    /// 診療情報
    Clinical,
    /// 手術情報
    Surgery,
}

impl ConsentItem {
    pub const ALL: [ConsentItem; 4] = [
        ConsentItem::Drug,
        ConsentItem::Checkup,
        ConsentItem::Clinical,
        ConsentItem::Surgery,
    ];

    /// The facility default: 薬剤・特定健診 利用する, 診療・手術 利用しない.
    pub fn default_choice(self) -> bool {
        matches!(self, ConsentItem::Drug | ConsentItem::Checkup)
    }

    pub fn code(self) -> &'static str {
        match self {
            ConsentItem::Drug => "drug",
            ConsentItem::Checkup => "checkup",
            ConsentItem::Clinical => "clinical",
            ConsentItem::Surgery => "surgery",
        }
    }
}

/// What the patient agreed to, valid for [`Consent::VALID_HOURS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// 包括同意: one tap for every item shown.
    pub comprehensive: bool,
    pub items: Vec<(ConsentItem, bool)>,
}

impl Consent {
    pub const VALID_HOURS: u32 = 24;

    /// The facility defaults for `items` ([`ConsentItem::default_choice`]), not comprehensive.
    pub fn defaults(items: &[ConsentItem]) -> Self {
        Self {
            comprehensive: false,
            items: items
                .iter()
                .map(|&item| (item, item.default_choice()))
                .collect(),
        }
    }
}

/// The reception system's answer about the patient's insurance qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualification {
    /// 資格有効
    Valid,
    /// 資格無効
    Invalid,
    /// 資格情報なし
    NotFound,
    /// The card is not registered for health-insurance use (初回利用登録 needed).
    NotRegistered,
}

/// Everything the hand-off needs from the session (the hand-off adds kiosk id and times).
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationResult {
    pub certificate: Certificate,
    pub method: Method,
    pub consent: Consent,
    /// A parent or carer operated the kiosk for the card holder (代理で操作).
    pub proxy: bool,
    /// The patient asked to register the card for health-insurance use.
    pub register: bool,
}

/// How staff unlocked (or tried to unlock) staff mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A staff PIN typed on the pad.
    Pin,
    /// A configured staff card on the staff-card reader.
    Card,
}

impl Credential {
    /// Code used in the audit log.
    pub fn code(self) -> &'static str {
        match self {
            Credential::Pin => "staff_pin",
            Credential::Card => "staff_card",
        }
    }
}

/// How a patient session ended, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The result was handed to the reception system.
    Completed,
    /// The card was refused or an error ended the session, or every way the patient tried was
    /// exhausted by rejections (face not matched or not live at the last attempt, PIN locked).
    Failed,
    /// The patient left before a result: card removed, reader lost, cancelled.
    Aborted,
}

/// What the audit log records of a session, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditRecord {
    /// A patient was verified by this method.
    MethodChosen(MethodKind),
    /// A capture did not match the chip photo, or was not live (an impostor, a photo).
    FaceRejected {
        attempt: u8,
        error: KioskError,
    },
    /// The card refused the PIN.
    PinRejected {
        remaining: u8,
    },
    /// An error from the catalogue ended the session or took the kiosk out of service.
    Error(KioskError),
    StaffCalled,
    StaffUnlocked {
        operator: Operator,
        credential: Credential,
    },
    StaffUnlockRefused {
        credential: Credential,
    },
    VisualCheck {
        operator: Operator,
        reason: VisualReason,
    },
    StaffChoseMethod {
        operator: Operator,
        method: MethodKind,
    },
    StaffLeft {
        operator: Operator,
    },
}
