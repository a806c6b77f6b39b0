//! The data of each sub-flow's steps: what a face capture, the PIN pad, staff mode or a consent
//! screen holds, and how it shows. The transitions are in the sub-flow's own module.

use super::effect::{Notice, Screen, View};
use super::types::{Challenge, Credential, Guidance, LivenessCheck, PinEntry, Secret};

/// A step of face authentication.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Face {
    /// Card-front OCR, 照合番号B and the photo read; `ask` is what the patient is asked to do
    /// with the card before the next read, if anything.
    Preparing { ask: Option<CardAsk> },
    /// The camera is on for attempt `attempt` (from 1).
    Capture {
        attempt: u8,
        challenge: Option<Challenge>,
        seconds_left: u32,
        guidance: Option<Guidance>,
    },
    /// The captured face is compared with the chip photo.
    Comparing {
        attempt: u8,
        challenge: Option<Challenge>,
        liveness: LivenessCheck,
    },
}

/// What the patient is asked to do with the card before the card front is read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CardAsk {
    /// Place it again: its front could not be read surely.
    PlaceAgain,
    /// Leave only this card in view: a photo showed more than one card.
    OneCardOnly,
    /// Turn the card face up: a photo showed its back.
    FaceUp,
}

impl Face {
    pub fn is_busy(self) -> bool {
        matches!(self, Face::Preparing { .. } | Face::Comparing { .. })
    }

    pub fn screen(self) -> Screen {
        match self {
            Face::Preparing { .. } => Screen::FacePreparing,
            Face::Capture { .. } | Face::Comparing { .. } => Screen::FaceCapture,
        }
    }

    pub fn describe(self, view: &mut View) {
        match self {
            Face::Preparing { ask } => match ask {
                Some(CardAsk::PlaceAgain) => view.notices.push(Notice::ReplaceCardFront),
                Some(CardAsk::OneCardOnly) => view.notices.push(Notice::OneCardFrontOnly),
                Some(CardAsk::FaceUp) => view.notices.push(Notice::TurnCardFaceUp),
                None => {}
            },
            Face::Capture {
                attempt,
                challenge,
                seconds_left,
                guidance,
            } => {
                view.attempt = attempt;
                view.seconds_left = seconds_left;
                // One prompt at a time: a problem with the face first, else the challenge,
                // else "hold still".
                match (guidance, challenge) {
                    (Some(g), _) if g != Guidance::HoldStill => view.guidance = Some(g),
                    (_, Some(c)) => view.challenge = Some(c),
                    (g, None) => view.guidance = g,
                }
            }
            Face::Comparing { attempt, .. } => view.attempt = attempt,
        }
    }
}

/// A step of PIN authentication.
#[derive(Debug)]
pub(super) enum Pin {
    /// The pad, with the digits typed so far.
    Entry { pad: PinEntry },
    /// The card is checking the PIN.
    Verifying,
}

impl Pin {
    pub fn is_busy(&self) -> bool {
        matches!(self, Pin::Verifying)
    }

    pub fn describe(&self, view: &mut View) {
        if let Pin::Entry { pad } = self {
            view.digits_entered = pad.len() as u8;
        }
    }
}

/// A step of staff mode.
#[derive(Debug)]
pub(super) enum StaffStep {
    /// The staff login, with the staff PIN typed so far and the last refused credential.
    Login {
        pad: Secret,
        refused: Option<Credential>,
    },
    /// The staff PIN is being checked.
    Checking,
    /// Unlocked: the staff menu.
    Menu,
}

impl StaffStep {
    pub fn login() -> Self {
        StaffStep::Login {
            pad: Secret::default(),
            refused: None,
        }
    }

    pub fn waits_for_touch(&self) -> bool {
        !matches!(self, StaffStep::Checking)
    }

    pub fn screen(&self) -> Screen {
        match self {
            StaffStep::Login { .. } | StaffStep::Checking => Screen::StaffLogin,
            StaffStep::Menu => Screen::StaffMenu,
        }
    }

    pub fn describe(&self, view: &mut View) {
        let refused = match self {
            StaffStep::Login { pad, refused } => {
                view.digits_entered = pad.len() as u8;
                *refused
            }
            StaffStep::Checking => None,
            StaffStep::Menu => return,
        };
        view.notices.push(Notice::StaffCalled);
        match refused {
            Some(Credential::Pin) => view.notices.push(Notice::StaffRefused),
            Some(Credential::Card) => view.notices.push(Notice::StaffCardRefused),
            None => {}
        }
    }
}

/// A consent screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConsentStep {
    /// 包括同意 or choose per item.
    Choice,
    Items,
    Summary,
}

impl ConsentStep {
    pub fn screen(self) -> Screen {
        match self {
            ConsentStep::Choice => Screen::ConsentChoice,
            ConsentStep::Items => Screen::ConsentItems,
            ConsentStep::Summary => Screen::ConsentSummary,
        }
    }
}
