//! The session state machine: every card, reader and UI event goes through
//! [`Session::handle`], which returns the effects to carry out. Pure, so each
//! transition is unit-tested without hardware.

use crate::errors::KioskError;

/// Something that happened.
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
    /// The result of an [`Effect::ReadCard`].
    CardRead(Result<(), KioskError>),
}

/// What the patient sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Waiting,
    Reading,
    CardRead,
    Error(KioskError),
}

/// What the caller must do after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Show(Screen),
    /// Read and identify the card in `reader`, then report [`Event::CardRead`].
    ReadCard {
        reader: String,
    },
}

/// One kiosk's session state.
#[derive(Debug)]
pub struct Session {
    screen: Screen,
    /// The reader whose card the session is about.
    card_reader: Option<String>,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            screen: Screen::Waiting,
            card_reader: None,
        }
    }
}

impl Session {
    #[cfg(test)]
    fn screen(&self) -> Screen {
        self.screen
    }

    /// Advances the state by one event.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::CardInserted { reader } => {
                if matches!(self.screen, Screen::Reading | Screen::CardRead) {
                    // One patient at a time: a second card elsewhere waits.
                    return vec![];
                }
                self.card_reader = Some(reader.clone());
                self.show(Screen::Reading)
                    .into_iter()
                    .chain([Effect::ReadCard { reader }])
                    .collect()
            }
            Event::CardRead(outcome) => {
                if self.screen != Screen::Reading {
                    return vec![];
                }
                match outcome {
                    Ok(()) => self.show(Screen::CardRead),
                    Err(e) => self.show(Screen::Error(e)),
                }
            }
            Event::CardRemoved { reader } => {
                if self.card_reader.as_deref() != Some(reader.as_str()) {
                    return vec![];
                }
                self.card_reader = None;
                if self.screen == Screen::Reading {
                    self.show(Screen::Error(KioskError::CardRemoved))
                } else {
                    self.show(Screen::Waiting)
                }
            }
            Event::ReaderRemoved { reader } => {
                if self.card_reader.as_deref() == Some(reader.as_str()) {
                    self.card_reader = None;
                }
                self.show(Screen::Error(KioskError::ReaderMissing))
            }
            Event::ServiceLost => {
                self.card_reader = None;
                self.show(Screen::Error(KioskError::PcscdDown))
            }
            Event::ReaderAdded { .. } => match self.screen {
                Screen::Error(KioskError::ReaderMissing | KioskError::PcscdDown) => {
                    self.show(Screen::Waiting)
                }
                _ => vec![],
            },
        }
    }

    fn show(&mut self, screen: Screen) -> Vec<Effect> {
        self.screen = screen;
        vec![Effect::Show(screen)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inserted(r: &str) -> Event {
        Event::CardInserted { reader: r.into() }
    }
    fn removed(r: &str) -> Event {
        Event::CardRemoved { reader: r.into() }
    }

    #[test]
    fn card_is_read_then_removed() {
        let mut s = Session::default();
        assert_eq!(
            s.handle(inserted("A")),
            vec![
                Effect::Show(Screen::Reading),
                Effect::ReadCard { reader: "A".into() }
            ]
        );
        assert_eq!(
            s.handle(Event::CardRead(Ok(()))),
            vec![Effect::Show(Screen::CardRead)]
        );
        assert_eq!(s.handle(removed("A")), vec![Effect::Show(Screen::Waiting)]);
    }

    #[test]
    fn removal_while_reading_is_an_error_and_late_result_is_ignored() {
        let mut s = Session::default();
        s.handle(inserted("A"));
        assert_eq!(
            s.handle(removed("A")),
            vec![Effect::Show(Screen::Error(KioskError::CardRemoved))]
        );
        assert_eq!(s.handle(Event::CardRead(Ok(()))), vec![]);
        assert_eq!(s.screen(), Screen::Error(KioskError::CardRemoved));
        // The next card starts over.
        assert_eq!(s.handle(inserted("A"))[0], Effect::Show(Screen::Reading));
    }

    #[test]
    fn wrong_card_shows_its_error_until_removed() {
        let mut s = Session::default();
        s.handle(inserted("A"));
        let e = KioskError::NotMyNumberCard;
        assert_eq!(
            s.handle(Event::CardRead(Err(e))),
            vec![Effect::Show(Screen::Error(e))]
        );
        assert_eq!(s.handle(removed("A")), vec![Effect::Show(Screen::Waiting)]);
    }

    #[test]
    fn second_card_elsewhere_does_not_interrupt() {
        let mut s = Session::default();
        s.handle(inserted("A"));
        assert_eq!(s.handle(inserted("B")), vec![]);
        assert_eq!(s.handle(removed("B")), vec![]);
        assert_eq!(s.screen(), Screen::Reading);
    }

    #[test]
    fn pcscd_loss_and_recovery() {
        let mut s = Session::default();
        s.handle(inserted("A"));
        assert_eq!(
            s.handle(Event::ServiceLost),
            vec![Effect::Show(Screen::Error(KioskError::PcscdDown))]
        );
        assert_eq!(
            s.handle(Event::ReaderAdded { reader: "A".into() }),
            vec![Effect::Show(Screen::Waiting)]
        );
    }

    #[test]
    fn reader_unplugged_mid_session() {
        let mut s = Session::default();
        s.handle(inserted("A"));
        assert_eq!(
            s.handle(Event::ReaderRemoved { reader: "A".into() }),
            vec![Effect::Show(Screen::Error(KioskError::ReaderMissing))]
        );
        // Its card can no longer be removed from the session's point of view.
        assert_eq!(s.handle(removed("A")), vec![]);
    }
}
