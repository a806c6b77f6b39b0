//! Everything that can happen to a session: devices, results of effects, timers, touches.

use super::effect::TimerId;
use super::types::{
    Capture, CardFrontReading, CardIdentity, ConsentItem, FaceMatch, Guidance, Lang, Operator,
    PinBOutcome, PinOutcome, Qualification, VisualReason,
};
use crate::errors::KioskError;

/// One input to [`super::Session::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    ReaderAdded {
        reader: String,
    },
    ReaderRemoved {
        reader: String,
    },
    CardInserted {
        reader: String,
    },
    CardRemoved {
        reader: String,
    },
    /// pcscd stopped answering.
    ServiceLost,
    /// pcscd answers again; the readers it has follow as `ReaderAdded`.
    ServiceRestored,

    /// Result of [`super::Effect::ReadCardIdentity`]; a card that is not a My Number card,
    /// or whose certificate is revoked or untrusted, is an error here.
    CardIdentityRead(Result<CardIdentity, KioskError>),
    /// Result of [`super::Effect::QueryPinBCounter`]: tries left, `None` when not reported.
    PinBCounterRead(Result<Option<u8>, KioskError>),
    /// Result of [`super::Effect::ReadCardFront`].
    CardFrontRead(Result<CardFrontReading, KioskError>),
    /// Result of [`super::Effect::SubmitPinB`].
    PinBSubmitted(Result<PinBOutcome, KioskError>),
    /// Result of [`super::Effect::ReadFacePhoto`] (the photo stays with the runtime).
    FacePhotoRead(Result<(), KioskError>),
    /// Quality guidance for the latest camera frame.
    FaceGuidance(Guidance),
    /// Result of [`super::Effect::StartFaceCapture`].
    FaceCaptured(Result<Capture, KioskError>),
    /// Result of [`super::Effect::CompareFaces`].
    FacesCompared(Result<FaceMatch, KioskError>),
    /// Result of [`super::Effect::VerifyPin`].
    PinVerified(Result<PinOutcome, KioskError>),
    /// Result of [`super::Effect::CheckStaffPin`]: the operator, or `None` if refused.
    StaffPinChecked(Option<Operator>),
    /// A card was placed on the staff-card reader.
    StaffCardInserted {
        reader: String,
    },
    /// Result of [`super::Effect::ReadStaffCard`]: a configured staff card was recognised.
    StaffCardPresented(Operator),
    /// Result of [`super::Effect::ReadStaffCard`]: not a configured staff card.
    StaffCardRefused,
    /// Result of [`super::Effect::DeliverResult`].
    Delivered(Result<Qualification, KioskError>),
    /// Staff acknowledged the staff call at the reception console: they are on their way.
    StaffAcknowledged,
    /// An audit record could not be written: no session may go on unrecorded.
    AuditUnwritable,
    /// Result of [`super::Effect::ProbeAudit`]: the audit log takes records again.
    AuditWritable,

    TimerFired(TimerId),
    Touch(Touch),
    /// A key of the patient's numeric keypad.
    Key(Key),
}

/// A key of the numeric keypad, as the keypad map (`[keypad]`) names it. Its `Debug` never
/// shows a digit (events are logged; a digit may be part of a PIN).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Digit(u8),
    Enter,
    /// Back / clear: the last digit.
    Back,
    Cancel,
    CallStaff,
    /// Say the current prompt again.
    Repeat,
    /// Say the keys, switch assisted mode on and call staff.
    Help,
    /// Switch assisted mode on or off.
    Assisted,
}

/// What the patient or staff tapped. Its `Debug` never shows a digit (events are logged; a
/// digit may be part of a PIN).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    Language(Lang),
    CallStaff,
    ChooseFace,
    ChoosePin,
    /// 代理で操作: a parent or carer operates for the card holder.
    Proxy(bool),
    Digit(u8),
    Backspace,
    Clear,
    /// OK on a pad (PIN or staff PIN).
    Submit,
    /// Back / cancel on the current screen.
    Cancel,
    ConsentAll,
    ConsentPerItem,
    ConsentToggle(ConsentItem),
    /// Yes (true) or no for one consent item, asked on its own.
    ConsentSet(ConsentItem, bool),
    ConsentReview,
    ConsentConfirm,
    /// Answer to the 初回利用登録 offer.
    Register(bool),
    StaffVisual(VisualReason),
    StaffChooseFace,
    StaffChoosePin,
    StaffExit,
    /// ゆっくり操作: switch assisted mode on or off.
    Assisted,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Key::Digit(_) => "Digit(_)",
            Key::Enter => "Enter",
            Key::Back => "Back",
            Key::Cancel => "Cancel",
            Key::CallStaff => "CallStaff",
            Key::Repeat => "Repeat",
            Key::Help => "Help",
            Key::Assisted => "Assisted",
        })
    }
}

impl std::fmt::Debug for Touch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Touch::Digit(_) => f.write_str("Digit(_)"),
            Touch::Language(lang) => f.debug_tuple("Language").field(lang).finish(),
            Touch::Proxy(on) => f.debug_tuple("Proxy").field(on).finish(),
            Touch::ConsentToggle(item) => f.debug_tuple("ConsentToggle").field(item).finish(),
            Touch::ConsentSet(item, yes) => {
                f.debug_tuple("ConsentSet").field(item).field(yes).finish()
            }
            Touch::Register(yes) => f.debug_tuple("Register").field(yes).finish(),
            Touch::StaffVisual(reason) => f.debug_tuple("StaffVisual").field(reason).finish(),
            Touch::CallStaff => f.write_str("CallStaff"),
            Touch::ChooseFace => f.write_str("ChooseFace"),
            Touch::ChoosePin => f.write_str("ChoosePin"),
            Touch::Backspace => f.write_str("Backspace"),
            Touch::Clear => f.write_str("Clear"),
            Touch::Submit => f.write_str("Submit"),
            Touch::Cancel => f.write_str("Cancel"),
            Touch::ConsentAll => f.write_str("ConsentAll"),
            Touch::ConsentPerItem => f.write_str("ConsentPerItem"),
            Touch::ConsentReview => f.write_str("ConsentReview"),
            Touch::ConsentConfirm => f.write_str("ConsentConfirm"),
            Touch::StaffChooseFace => f.write_str("StaffChooseFace"),
            Touch::StaffChoosePin => f.write_str("StaffChoosePin"),
            Touch::StaffExit => f.write_str("StaffExit"),
            Touch::Assisted => f.write_str("Assisted"),
        }
    }
}
