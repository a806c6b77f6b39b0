//! What the runtime must do after an event, and the view it must show.

use std::time::Duration;

use super::types::{
    AuditRecord, Challenge, ConsentItem, Ending, Guidance, Lang, Operator, PinB, PinEntry,
    Qualification, VerificationResult,
};
use crate::errors::KioskError;

/// Timers the session starts and cancels; a fired timer comes back as
/// [`super::Event::TimerFired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerId {
    /// No touch for too long on a screen waiting for the patient.
    Idle,
    /// One second of the face-capture countdown.
    FaceTick,
    /// The result stays on screen this long before "カードをお取りください".
    ResultHold,
    /// Time to re-place the card on the card-front camera before the next read.
    CardFrontReread,
    /// 本人確認ができました stays on screen this long before the consent.
    VerifiedHold,
    /// Assisted mode: the prompt is said again after this long without a key or touch.
    RepeatPrompt,
    /// While the audit log is unwritable: time to try it again.
    AuditRetry,
}

/// One output of [`super::Session::handle`], carried out in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Show(View),
    /// Play a voice prompt in the current language.
    Speak(Prompt, Lang),
    /// Switch the UI's translation.
    SetLanguage(Lang),
    StartTimer(TimerId, Duration),
    CancelTimer(TimerId),

    /// Read the certificate and the retry counters (PIN, 照合番号B) without spending a try.
    ReadCardIdentity {
        reader: String,
    },
    /// Query the card's 照合番号B retry counter (no try spent), before each card-front read.
    QueryPinBCounter,
    /// Read 照合番号B off the card front with the card-front camera.
    ReadCardFront,
    /// Present 照合番号B to the 券面事項確認AP.
    SubmitPinB(PinB),
    /// Read the face photo from the unlocked 券面事項確認AP and keep it in memory.
    ReadFacePhoto,
    /// Turn the user camera on: preview, guidance and the liveness challenge, its time limits
    /// × `slower` (assisted mode's timeout factor, else 1).
    StartFaceCapture {
        challenge: Challenge,
        slower: u32,
    },
    StopFaceCapture,
    /// Compare the captured live face with the chip photo.
    CompareFaces,
    /// Zeroize the chip photo, every frame, crop and embedding.
    DiscardBiometrics,
    /// VERIFY the PIN, then have the card sign a fresh challenge and check it.
    VerifyPin(PinEntry),
    /// Check a staff PIN against the configured hash.
    CheckStaffPin(PinEntry),
    /// Read the certificate of the card on the staff-card reader and look it up among the
    /// configured staff cards.
    ReadStaffCard {
        reader: String,
    },
    /// Hand the verified result to the reception system.
    DeliverResult(VerificationResult),
    /// The patient's card session is over: disconnect from the card.
    ReleaseCard,
    /// Alert staff (a patient pressed 係員を呼ぶ).
    NotifyStaff,
    /// A patient session begins (a card was placed): open its audit record.
    AuditStart,
    /// The patient session ends; `certificate_serial` when the card was read.
    AuditEnd {
        outcome: Ending,
        certificate_serial: Option<String>,
    },
    Audit(AuditRecord),
    /// Try writing the audit log again (it failed): the record says E024 was shown.
    ProbeAudit,
}

/// What the voice says (the identifiers tests assert); never a digit the patient typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// The screen's prompt, with what to do on the touch screen and on the keypad.
    Screen(Screen),
    /// A short tone: a key was taken (each PIN digit, never the digit spoken).
    Tone,
    /// 4桁入力しました: the PIN pad is full, press enter.
    PinEntered,
    /// The face capture's prompt with its liveness challenge.
    Challenge(Challenge),
    /// Face-capture guidance (closer, too dark, no face …).
    Guidance(Guidance),
    /// One consent item asked on its own: 1 = yes, 2 = no.
    ConsentItem(ConsentItem),
    /// The keypad's keys, said when the patient asks for help (staff are called too).
    Help,
    /// Assisted mode was switched on (true) or off.
    Assisted(bool),
}

/// Calls `$then!` with every screen, in the order of a session: the one list of screens, from
/// which [`Screen`], [`Screen::ALL`] and the window's screen (`kiosk::view::screen`) are made.
macro_rules! with_screens {
    ($then:ident) => {
        $then! {
            Waiting, Reading, MethodChoice, FacePreparing, FaceCapture, Verified, PinEntry, ConsentChoice,
            ConsentItems, ConsentSummary, Delivering, RegistrationOffer, Result, RemoveCard,
            Error, StaffLogin, StaffMenu
        }
    };
}
pub(crate) use with_screens;

macro_rules! screen_enum {
    ($($screen:ident),*) => {
        /// Screens, in the order of a session.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Screen {
            $($screen),*
        }

        impl Screen {
            pub const ALL: [Screen; [$(stringify!($screen)),*].len()] = [$(Screen::$screen),*];
        }
    };
}
with_screens!(screen_enum);

/// A short line shown above a screen's content: a fact (what happened, what the card is) or an
/// instruction (what to do next). A view holds at most one instruction, and only one the
/// patient can follow ([`Notice::is_instruction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The previous card was removed before the end.
    CardRemoved,
    /// 撮影した画像は削除しました.
    ImagesDeleted,
    /// The certificate expires within 30 days.
    CertificateExpiresSoon { days: u32 },
    /// 顔認証できませんでした: no match, not live or no face in time, at the last attempt.
    FaceFailed,
    /// Face authentication cannot be done with this card (card front, 照合番号B, photo).
    FaceUnavailable,
    /// 暗証番号が違います (the tries left are on the pad).
    PinWrong,
    /// The PIN was locked by wrong entries in this session.
    PinLocked,
    /// このカードでは暗証番号は使えません: no PIN, or blocked when the card was placed (a
    /// 顔認証マイナンバーカード may answer either way; said neutrally).
    PinUnusable,
    /// 代理の方が操作しています.
    Proxy,
    /// The staff PIN was not accepted.
    StaffRefused,
    /// The card on the staff-card reader is not a configured staff card.
    StaffCardRefused,
    /// The card front could not be read: place the card again.
    ReplaceCardFront,
    /// More than one card front was in view: leave only the card in the reader.
    OneCardFrontOnly,
    /// The card's back was in view: place it with its photo side up.
    TurnCardFaceUp,
    /// Staff were called.
    StaffCalled,
    /// 係員が向かっています: staff acknowledged the call at the reception console.
    StaffComing,
    /// Instruction: 顔認証をお使いください.
    UseFace,
    /// Instruction: 暗証番号をお使いください.
    UsePin,
    /// Instruction: もう一度入力してください.
    EnterPinAgain,
    /// Instruction: 係員を呼ぶボタンを押してください.
    CallStaff,
    /// Instruction: カードをお取りになり、もう一度置いてください.
    TakeCardPlaceAgain,
    /// Instruction: カードをお取りになり、受付にお声がけください.
    TakeCardAskReception,
}

impl Notice {
    /// Whether the notice tells the patient what to do (at most one per view).
    pub fn is_instruction(self) -> bool {
        matches!(
            self,
            Notice::UseFace
                | Notice::UsePin
                | Notice::EnterPinAgain
                | Notice::CallStaff
                | Notice::TakeCardPlaceAgain
                | Notice::TakeCardAskReception
                | Notice::ReplaceCardFront
                | Notice::OneCardFrontOnly
                | Notice::TurnCardFaceUp
                | Notice::StaffCalled
        )
    }
}

/// Everything a screen shows: the UI is a function of this value.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub screen: Screen,
    pub language: Lang,
    pub notices: Vec<Notice>,
    /// The card's notices an earlier screen's prompt said: shown, not said again.
    pub heard: Vec<Notice>,
    /// The error shown on [`Screen::Error`] (patient wording comes from the catalogue).
    pub error: Option<KioskError>,
    /// PIN tries left; `None` when the card has no PIN (顔認証マイナンバーカード).
    pub pin_retries: Option<u8>,
    pub face_available: bool,
    pub pin_available: bool,
    pub proxy: bool,
    /// Digits typed so far on the current pad (never the digits themselves).
    pub digits_entered: u8,
    pub guidance: Option<Guidance>,
    pub challenge: Option<Challenge>,
    pub seconds_left: u32,
    pub attempt: u8,
    pub max_attempts: u8,
    pub consent: Vec<(ConsentItem, bool)>,
    pub comprehensive: bool,
    pub answer: Option<Qualification>,
    /// Staff mode: who is logged in.
    pub operator: Option<Operator>,
    /// Staff mode's 直前のエラー, in the staff wording: the card's last error while a card is
    /// in, else the kiosk's.
    pub last_error: Option<KioskError>,
    /// The card's last error (see `Card::error`): on a screen showing none (`error`), what a
    /// staff call reports as the one earlier in the visit.
    pub card_error: Option<KioskError>,
    /// 目視確認 is possible (a card was read).
    pub visual_available: bool,
    /// Assisted mode: larger type, one question per screen, the pad never shuffled.
    pub assisted: bool,
}

impl View {
    /// An empty view of `screen`.
    pub fn new(screen: Screen, language: Lang) -> Self {
        Self {
            screen,
            language,
            notices: Vec::new(),
            heard: Vec::new(),
            error: None,
            pin_retries: None,
            face_available: false,
            pin_available: false,
            proxy: false,
            digits_entered: 0,
            guidance: None,
            challenge: None,
            seconds_left: 0,
            attempt: 0,
            max_attempts: 0,
            consent: Vec::new(),
            comprehensive: false,
            answer: None,
            operator: None,
            last_error: None,
            card_error: None,
            visual_available: false,
            assisted: false,
        }
    }
}
