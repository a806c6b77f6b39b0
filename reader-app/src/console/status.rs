//! What the console shows of the kiosk, fed by the runtime through a watch channel: the screen
//! and its error, the staff calls, and the devices the console looks at itself (camera,
//! outbox). Nothing about the patient: no name, no card data, no PIN, no image.

use tokio::sync::watch;

use crate::errors::{Failure, KioskError};
use crate::handoff::staff_call::StaffCall;
use crate::session::{Effect, Event, Screen};

/// The staff calls kept on the page (newest last).
const CALLS_KEPT: usize = 10;

/// The kiosk as the console shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub kiosk_id: String,
    /// The screen shown; `None` before the first one (待機).
    pub screen: Option<Screen>,
    /// The error on that screen.
    pub error: Option<KioskError>,
    /// The adapter's words on that error, when it reported them (`errors::Failure`).
    pub cause: Option<String>,
    pub calls: Vec<Call>,
    pub devices: Devices,
}

/// What the console reads itself, every few seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Devices {
    pub camera_missing: bool,
    /// Results and staff calls waiting in the outbox, and the oldest one's age.
    pub outbox_queued: u64,
    pub outbox_oldest_seconds: u64,
}

/// One press of 係員を呼ぶ.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Numbered from 1 in this run of the kiosk.
    pub number: u64,
    pub screen: String,
    pub error: Option<KioskError>,
    /// The adapter's words on that error (the staff call's `cause`).
    pub cause: Option<String>,
    /// When the screen showed no error, the one this card's session met earlier.
    pub earlier_error: Option<KioskError>,
    pub pin_retries_left: Option<u8>,
    pub face_attempts_left: Option<u8>,
    /// When the patient pressed the button (Unix milliseconds).
    pub called_at_ms: i64,
    pub acknowledged: bool,
}

/// What the kiosk is doing, from its screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Idle,
    InSession,
    StaffMode,
    Unavailable,
}

impl Status {
    pub fn activity(&self) -> Activity {
        match self.screen {
            _ if self.reader_missing() => Activity::Unavailable,
            None | Some(Screen::Waiting) => Activity::Idle,
            Some(Screen::StaffLogin | Screen::StaffMenu) => Activity::StaffMode,
            Some(_) => Activity::InSession,
        }
    }

    /// A staff call nobody acknowledged yet.
    pub fn waiting_for_staff(&self) -> bool {
        self.calls.iter().any(|c| !c.acknowledged)
    }

    /// The reader or pcscd is gone.
    pub fn reader_missing(&self) -> bool {
        matches!(
            self.error,
            Some(KioskError::ReaderMissing | KioskError::PcscdDown)
        )
    }

    pub fn camera_missing(&self) -> bool {
        self.devices.camera_missing || self.error == Some(KioskError::CameraMissing)
    }
}

/// The runtime's side: publishes what it shows and the staff calls.
pub struct Feed(watch::Sender<Status>);

impl Feed {
    /// A feed for `kiosk_id`.
    pub fn new(kiosk_id: &str) -> Self {
        Self(watch::Sender::new(Status {
            kiosk_id: kiosk_id.into(),
            ..Status::default()
        }))
    }

    /// The sender, for the console's own readings ([`Devices`]).
    pub(super) fn sender(&self) -> watch::Sender<Status> {
        self.0.clone()
    }

    /// Follows the screens shown.
    pub fn effect(&self, effect: &Effect) {
        if let Effect::Show(view) = effect {
            self.0.send_if_modified(|s| {
                let old = (s.screen, s.error);
                (s.screen, s.error) = (Some(view.screen), view.error);
                if s.error != old.1 {
                    s.cause = None;
                }
                old != (s.screen, s.error)
            });
        }
    }

    /// The adapter's cause of the error shown, once the screen shows that error.
    pub fn failure(&self, failure: &Failure) {
        self.0.send_if_modified(|s| {
            let fresh = s.error == Some(failure.error) && s.cause != failure.cause;
            if fresh {
                s.cause.clone_from(&failure.cause);
            }
            fresh
        });
    }

    /// Marks every open call acknowledged.
    pub fn event(&self, event: &Event) {
        if *event == Event::StaffAcknowledged {
            self.0
                .send_modify(|s| s.calls.iter_mut().for_each(|c| c.acknowledged = true));
        }
    }

    /// A patient pressed 係員を呼ぶ.
    pub fn called(&self, call: &StaffCall) {
        let error_of = |code: &Option<String>| {
            let code = code.as_deref()?;
            KioskError::ALL.into_iter().find(|e| e.text().code == code)
        };
        self.0.send_modify(|s| {
            let number = s.calls.last().map_or(1, |c| c.number + 1);
            s.calls.push(Call {
                number,
                screen: call.screen.clone(),
                error: error_of(&call.error_code),
                cause: call.cause.clone(),
                earlier_error: error_of(&call.earlier_error_code),
                pin_retries_left: call.pin_retries_left,
                face_attempts_left: call.face_attempts_left,
                called_at_ms: call.called_at.timestamp_millis(),
                acknowledged: false,
            });
            let excess = s.calls.len().saturating_sub(CALLS_KEPT);
            s.calls.drain(..excess);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Lang, View};

    #[test]
    fn the_feed_follows_screens_calls_and_acknowledgements() {
        let feed = Feed::new("k1");
        let rx = feed.sender().subscribe();
        assert_eq!(rx.borrow().activity(), Activity::Idle);
        let mut view = View::new(Screen::Error, Lang::Ja);
        view.error = Some(KioskError::ReaderMissing);
        feed.effect(&Effect::Show(view));
        assert!(rx.borrow().reader_missing());
        assert_eq!(rx.borrow().activity(), Activity::Unavailable);
        feed.effect(&Effect::Show(View::new(Screen::StaffLogin, Lang::En)));
        assert_eq!(rx.borrow().activity(), Activity::StaffMode);
        for _ in 0..12 {
            let mut call = StaffCall::new("k1", "PinEntry");
            call.error_code = Some(KioskError::CardRemoved.text().code.into());
            feed.called(&call);
        }
        let s = rx.borrow().clone();
        assert_eq!(s.calls.len(), CALLS_KEPT);
        assert_eq!(s.calls.last().unwrap().number, 12);
        assert_eq!(s.calls[0].error, Some(KioskError::CardRemoved));
        assert!(s.waiting_for_staff());
        feed.event(&Event::StaffAcknowledged);
        assert!(!rx.borrow().waiting_for_staff());
    }

    #[test]
    fn the_adapters_cause_shows_with_its_error_only_and_goes_with_it() {
        let feed = Feed::new("k1");
        let rx = feed.sender().subscribe();
        let pcscd = Failure::new(
            KioskError::PcscdDown,
            "the PC/SC service (pcscd) is not running",
        );
        feed.failure(&pcscd);
        assert_eq!(rx.borrow().cause, None, "not the error shown");
        let mut view = View::new(Screen::Error, Lang::Ja);
        view.error = Some(KioskError::PcscdDown);
        feed.effect(&Effect::Show(view.clone()));
        feed.failure(&pcscd);
        assert_eq!(rx.borrow().cause, pcscd.cause);
        feed.effect(&Effect::Show(view));
        assert_eq!(rx.borrow().cause, pcscd.cause, "same error, same cause");
        feed.effect(&Effect::Show(View::new(Screen::Waiting, Lang::Ja)));
        assert_eq!(rx.borrow().cause, None);
    }
}
