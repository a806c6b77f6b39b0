//! The card readers the kiosk watches: the patient reader(s) and the staff-card reader, and
//! how a card monitor event becomes a session event.

use card_io::monitor::{CardEvent, ReaderFilter};
use card_io::transport::TransportError;

use crate::errors::{Failure, KioskError};
use crate::session::Event;

/// The cause behind a device event that leaves the kiosk unavailable, in the adapter's words,
/// for the staff screen, the console and the staff call.
pub(super) fn failure(event: &Event) -> Option<Failure> {
    Some(match event {
        Event::ServiceLost => Failure::new(KioskError::PcscdDown, TransportError::NoService),
        Event::ServiceRestored => Failure::new(
            KioskError::ReaderMissing,
            "the PC/SC service (pcscd) is running again, but the card reader has not reappeared",
        ),
        Event::ReaderRemoved { reader } => Failure::new(
            KioskError::ReaderMissing,
            format!("the card reader {reader:?} was unplugged"),
        ),
        _ => return None,
    })
}

/// The reader named on the status line (in the patient's language); empty for any reader.
pub(super) fn reader_name(filter: &ReaderFilter) -> &str {
    match filter {
        ReaderFilter::Any => "",
        ReaderFilter::Contains(name) | ReaderFilter::Exact(name) => name,
    }
}

/// The patient reader(s) and the staff-card reader, if staff cards are configured.
#[derive(Debug)]
pub(super) struct Readers {
    pub patient: ReaderFilter,
    pub staff: Option<ReaderFilter>,
}

impl Readers {
    /// The session event of a card monitor event: a card on the staff-card reader is a staff
    /// card (its other events do not concern the session); readers of neither kind are ignored.
    pub fn event(&self, event: CardEvent) -> Option<Event> {
        let reader = match &event {
            CardEvent::ReaderAdded(r) | CardEvent::ReaderRemoved(r) => r,
            CardEvent::CardInserted { reader } | CardEvent::CardRemoved { reader } => reader,
            CardEvent::ServiceLost => return Some(Event::ServiceLost),
            CardEvent::ServiceRestored => return Some(Event::ServiceRestored),
        };
        if self.staff.as_ref().is_some_and(|f| f.matches(reader)) {
            return match event {
                CardEvent::CardInserted { reader } => Some(Event::StaffCardInserted { reader }),
                _ => None,
            };
        }
        if !self.patient.matches(reader) {
            return None;
        }
        Some(match event {
            CardEvent::ReaderAdded(reader) => Event::ReaderAdded { reader },
            CardEvent::ReaderRemoved(reader) => Event::ReaderRemoved { reader },
            CardEvent::CardInserted { reader } => Event::CardInserted { reader },
            CardEvent::CardRemoved { reader } => Event::CardRemoved { reader },
            CardEvent::ServiceLost => Event::ServiceLost,
            CardEvent::ServiceRestored => Event::ServiceRestored,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pcscd_lost_and_a_reader_unplugged_come_with_their_cause() {
        use crate::errors::KioskError;
        use crate::session::Event;
        let lost = super::failure(&Event::ServiceLost).unwrap();
        assert_eq!(lost.error, KioskError::PcscdDown);
        assert_eq!(
            lost.cause.as_deref(),
            Some("the PC/SC service (pcscd) is not running")
        );
        let unplugged = super::failure(&Event::ReaderRemoved {
            reader: "ACS ACR39U".into(),
        })
        .unwrap();
        assert_eq!(unplugged.error, KioskError::ReaderMissing);
        assert!(unplugged
            .cause
            .unwrap()
            .contains("\"ACS ACR39U\" was unplugged"));
        assert_eq!(super::failure(&Event::StaffAcknowledged), None);
    }

    #[test]
    fn cards_on_the_staff_reader_are_staff_cards_and_nothing_else() {
        use crate::session::Event;
        use card_io::monitor::{CardEvent, ReaderFilter};
        let readers = super::Readers {
            patient: ReaderFilter::Any,
            staff: Some(ReaderFilter::Contains("staff".into())),
        };
        let staff = || "ACS Staff Reader".to_owned();
        assert_eq!(
            readers.event(CardEvent::CardInserted { reader: staff() }),
            Some(Event::StaffCardInserted { reader: staff() })
        );
        assert_eq!(
            readers.event(CardEvent::CardRemoved { reader: staff() }),
            None
        );
        assert_eq!(readers.event(CardEvent::ReaderRemoved(staff())), None);
        let patient = || "Sony RC-S300".to_owned();
        assert_eq!(
            readers.event(CardEvent::CardInserted { reader: patient() }),
            Some(Event::CardInserted { reader: patient() })
        );
        assert_eq!(
            readers.event(CardEvent::ServiceLost),
            Some(Event::ServiceLost)
        );
        let only = super::Readers {
            patient: ReaderFilter::Exact(patient()),
            staff: None,
        };
        assert_eq!(
            only.event(CardEvent::CardInserted { reader: staff() }),
            None
        );
    }
}
