//! The staff card: a card on the staff-card reader whose user-authentication certificate
//! (checked against the trust anchors like a patient's) has a configured serial number.

use super::ports::CardPort;
use crate::session::Event;
use crate::staff::StaffConfig;

/// Reads the card on the staff-card reader and looks its certificate up among the
/// configured staff cards.
pub(super) fn read(staff: &StaffConfig, card: &mut dyn CardPort, reader: &str) -> Event {
    let identity = card.read_identity(reader);
    card.release();
    match identity {
        Ok(id) => match staff.card_operator(&id.certificate.serial) {
            Some(operator) => {
                tracing::info!(operator = %operator.0, "staff card recognised");
                Event::StaffCardPresented(operator)
            }
            None => {
                let serial = &id.certificate.serial;
                tracing::warn!(%serial, "not a configured staff card");
                Event::StaffCardRefused
            }
        },
        Err(e) => {
            tracing::warn!(failure = %e, "staff card unreadable");
            Event::StaffCardRefused
        }
    }
}
