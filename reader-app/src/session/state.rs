//! Where the session is, each state holding exactly the data valid in it: once the card is
//! read the [`Patient`] is there by type, a capture carries its attempt and countdown, a
//! verified patient carries the method.

use card_front::{PinBAttempts, RetryCounter};

use super::effect::{Effect, Notice, Screen, View};
use super::settings::Settings;
use super::steps::{ConsentStep, Face, Pin, StaffStep};
use super::types::{CardIdentity, Consent, Ending, Method, PinState, Qualification};
use crate::errors::KioskError;

/// Where the session is.
#[derive(Debug)]
pub(super) enum State {
    /// 待機: no card.
    Idle,
    /// No reader or no pcscd.
    Unavailable(KioskError),
    /// A card was placed; its certificate and retry counters are being read.
    Reading(Card),
    /// The card could not be read or was refused: shown until it is removed.
    CardRefused {
        card: Card,
        error: KioskError,
        /// The certificate serial, when the refused certificate was read (e.g. expired).
        serial: Option<String>,
    },
    /// The card was read: the patient is known.
    Patient(Patient, Step),
    /// Staff were called or presented their card; `paused` is where the session goes back to.
    Staff(StaffStep, Paused),
}

/// A read patient's step.
#[derive(Debug)]
pub(super) enum Step {
    MethodChoice,
    Face(Face),
    Pin(Pin),
    /// 本人確認ができました, shown and spoken for a moment before the consent.
    Confirmed(Verified),
    Consent(Verified, ConsentStep),
    Delivering(Verified),
    /// 未登録: the result was queued; the patient may ask for 初回利用登録.
    RegistrationOffer(Verified),
    Result(Qualification),
    RemoveCard,
    /// An error, shown until the card is removed; staff may still help (`verified` is kept for
    /// a new hand-off).
    Failed {
        error: KioskError,
        verified: Option<Verified>,
    },
}

impl Step {
    /// The consent answers on the screens after verification.
    pub fn describe(&self, view: &mut View) {
        if let Step::Consent(v, _) | Step::Delivering(v) | Step::RegistrationOffer(v) = self {
            view.consent = v.consent.items.clone();
            view.comprehensive = v.consent.comprehensive;
        }
    }

    /// The verified method and choices this step holds, if the patient was verified.
    pub fn into_verified(self) -> Option<Verified> {
        match self {
            Step::Confirmed(v)
            | Step::Consent(v, _)
            | Step::Delivering(v)
            | Step::RegistrationOffer(v) => Some(v),
            Step::Failed { verified, .. } => verified,
            _ => None,
        }
    }
}

/// What staff mode goes back to when staff leave.
#[derive(Debug)]
pub(super) enum Paused {
    NoCard,
    Unavailable(KioskError),
    /// Not paused in practice: staff mode waits for the card read to end.
    Reading(Card),
    /// A refused card: back to its error.
    Refused {
        card: Card,
        error: KioskError,
        serial: Option<String>,
    },
    /// A read patient: back to the consent if verified, else to the method choice.
    Patient(Patient, Option<Verified>),
    /// The result was shown: back to "カードをお取りください".
    Done(Patient),
}

/// The card in the reader, from placing it until it is removed.
#[derive(Debug)]
pub(super) struct Card {
    pub reader: String,
    /// Lines shown above the screens while this card is in (images deleted, expiry …).
    pub notices: Vec<Notice>,
    /// The last error this card's session met, whether it went on (a face attempt not
    /// matched, a wrong PIN) or ended there: what staff are told about this patient.
    pub error: Option<KioskError>,
}

impl Card {
    pub fn new(reader: String) -> Self {
        Self {
            reader,
            notices: Vec::new(),
            error: None,
        }
    }

    pub fn notice(&mut self, notice: Notice) {
        if !self.notices.contains(&notice) {
            self.notices.push(notice);
        }
    }
}

/// The patient whose card was read.
#[derive(Debug)]
pub(super) struct Patient {
    pub card: Card,
    pub identity: CardIdentity,
    /// A parent or carer operates for the card holder (PIN only).
    pub proxy: bool,
    /// Face authentication failed or cannot be done with this card.
    pub face_blocked: bool,
    /// 照合番号B reads and refusals under the submit policy, for this card.
    pub pin_b: PinBAttempts,
    /// A way of verifying was exhausted by rejections (impostor, PIN locked).
    pub rejected: bool,
    /// A result was handed to the reception system.
    pub delivered: bool,
}

impl Patient {
    pub fn new(card: Card, identity: CardIdentity, settings: &Settings) -> Self {
        Self {
            card,
            identity,
            proxy: false,
            face_blocked: false,
            pin_b: PinBAttempts::new(settings.submit_policy()),
            rejected: false,
            delivered: false,
        }
    }

    /// The card's 照合番号B retry counter as last reported (queried before each read, or
    /// reported by a refusal).
    pub fn pin_b_counter(&self) -> RetryCounter {
        match self.identity.pin_b_retries {
            Some(n) => RetryCounter::Remaining(n),
            None => RetryCounter::NotReported,
        }
    }

    pub fn face_available(&self, settings: &Settings) -> bool {
        settings.face_enabled && !self.face_blocked && !self.proxy
    }

    pub fn pin_available(&self) -> bool {
        matches!(self.identity.pin, PinState::Remaining(n) if n > 0)
    }

    /// How the session ends if the patient leaves now, `failed` if it ends on an error.
    pub fn ending(&self, failed: bool) -> Ending {
        if self.delivered {
            Ending::Completed
        } else if failed || self.rejected {
            Ending::Failed
        } else {
            Ending::Aborted
        }
    }

    /// The audit record's end of this patient's session.
    pub fn audit_end(&self, failed: bool) -> Effect {
        Effect::AuditEnd {
            outcome: self.ending(failed),
            certificate_serial: Some(self.identity.certificate.serial.clone()),
        }
    }
}

/// A verified patient's method and choices, handed off once consent is given.
#[derive(Debug)]
pub(super) struct Verified {
    pub method: Method,
    pub consent: Consent,
    /// The patient asked to register the card for health-insurance use.
    pub register: bool,
}

impl Verified {
    pub fn new(method: Method, settings: &Settings) -> Self {
        Self {
            method,
            consent: Consent::defaults(&settings.consent_items),
            register: false,
        }
    }
}

impl State {
    /// States waiting for the card, a camera or the reception system: 係員を呼ぶ alerts staff
    /// there without interrupting.
    pub fn is_busy(&self) -> bool {
        match self {
            State::Reading(_) => true,
            State::Patient(_, step) => match step {
                Step::Face(face) => face.is_busy(),
                Step::Pin(pin) => pin.is_busy(),
                Step::Delivering(_) => true,
                _ => false,
            },
            _ => false,
        }
    }

    /// Screens that wait for a touch and give up after [`Settings::idle_seconds`].
    pub fn waits_for_touch(&self) -> bool {
        match self {
            State::Patient(_, step) => matches!(
                step,
                Step::MethodChoice
                    | Step::Pin(Pin::Entry { .. })
                    | Step::Consent(..)
                    | Step::RegistrationOffer(_)
            ),
            State::Staff(step, _) => step.waits_for_touch(),
            _ => false,
        }
    }

    pub fn screen(&self) -> Screen {
        match self {
            State::Idle => Screen::Waiting,
            State::Unavailable(_) | State::CardRefused { .. } => Screen::Error,
            State::Reading(_) => Screen::Reading,
            State::Patient(_, step) => match step {
                Step::MethodChoice => Screen::MethodChoice,
                Step::Face(face) => face.screen(),
                Step::Pin(_) => Screen::PinEntry,
                Step::Confirmed(_) => Screen::Verified,
                Step::Consent(_, consent) => consent.screen(),
                Step::Delivering(_) => Screen::Delivering,
                Step::RegistrationOffer(_) => Screen::RegistrationOffer,
                Step::Result(_) => Screen::Result,
                Step::RemoveCard => Screen::RemoveCard,
                Step::Failed { .. } => Screen::Error,
            },
            State::Staff(step, _) => step.screen(),
        }
    }

    /// The card in the reader, if any.
    pub fn card(&self) -> Option<&Card> {
        match self {
            State::Idle
            | State::Unavailable(_)
            | State::Staff(_, Paused::NoCard | Paused::Unavailable(_)) => None,
            State::Reading(card)
            | State::CardRefused { card, .. }
            | State::Staff(_, Paused::Reading(card) | Paused::Refused { card, .. }) => Some(card),
            State::Patient(p, _) | State::Staff(_, Paused::Patient(p, _) | Paused::Done(p)) => {
                Some(&p.card)
            }
        }
    }

    /// The read patient, if any.
    pub fn patient(&self) -> Option<&Patient> {
        match self {
            State::Patient(p, _) | State::Staff(_, Paused::Patient(p, _) | Paused::Done(p)) => {
                Some(p)
            }
            _ => None,
        }
    }
}

impl Paused {
    /// Where the session waits while staff are on screen, leaving `state` (its face capture
    /// already stopped).
    pub fn of(state: State) -> Paused {
        match state {
            State::Idle => Paused::NoCard,
            State::Unavailable(e) => Paused::Unavailable(e),
            State::Reading(card) => Paused::Reading(card),
            State::CardRefused {
                card,
                error,
                serial,
            } => Paused::Refused {
                card,
                error,
                serial,
            },
            State::Patient(p, Step::Result(_) | Step::RemoveCard) => Paused::Done(p),
            State::Patient(p, step) => Paused::Patient(p, step.into_verified()),
            State::Staff(_, paused) => paused,
        }
    }

    /// The state staff leave the session in.
    pub fn resume(self) -> State {
        match self {
            Paused::NoCard => State::Idle,
            Paused::Unavailable(e) => State::Unavailable(e),
            Paused::Reading(card) => State::Reading(card),
            Paused::Refused {
                card,
                error,
                serial,
            } => State::CardRefused {
                card,
                error,
                serial,
            },
            Paused::Patient(p, Some(v)) => State::Patient(p, Step::Consent(v, ConsentStep::Choice)),
            Paused::Patient(p, None) => State::Patient(p, Step::MethodChoice),
            Paused::Done(p) => State::Patient(p, Step::RemoveCard),
        }
    }
}
