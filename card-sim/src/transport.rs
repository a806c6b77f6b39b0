//! The virtual card as an in-process [`RawTransport`], for fast tests without pcscd.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::VirtualCard;
use card_io::transport::{RawTransport, TransportError};

/// Talks to a [`VirtualCard`] directly.
#[derive(Debug)]
pub struct SimTransport {
    card: VirtualCard,
    removal: RemovalSwitch,
}

impl SimTransport {
    /// A transport to `card`, freshly powered.
    pub fn new(mut card: VirtualCard) -> Self {
        card.reset();
        Self {
            card,
            removal: RemovalSwitch::default(),
        }
    }

    /// The card as it is now (retry counters, forbidden-access count).
    pub fn card(&self) -> &VirtualCard {
        &self.card
    }

    /// A handle that pulls the card out, from any thread.
    pub fn removal_switch(&self) -> RemovalSwitch {
        self.removal.clone()
    }
}

impl RawTransport for SimTransport {
    fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.removal.is_removed() || self.card.is_removed() {
            return Err(TransportError::CardRemoved);
        }
        Ok(self.card.process(apdu))
    }
}

/// Pulls the card out of a [`SimTransport`]. Like a PC/SC connection, the transport then fails
/// with [`TransportError::CardRemoved`] for good.
#[derive(Debug, Clone, Default)]
pub struct RemovalSwitch(Arc<AtomicBool>);

impl RemovalSwitch {
    /// Removes the card.
    pub fn remove(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the card was removed.
    pub fn is_removed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use card_io::apdu::Command;
    use card_io::mynumber::aid;
    use card_io::transport::CardTransport;

    #[test]
    fn commands_reach_the_card_until_it_is_removed() {
        let mut t = SimTransport::new(VirtualCard::my_number());
        let select = Command::select_df(&aid::JPKI).unwrap();
        assert!(t.transmit(&select).unwrap().sw().is_ok());
        let switch = t.removal_switch();
        std::thread::spawn(move || switch.remove()).join().unwrap();
        assert_eq!(t.transmit(&select), Err(TransportError::CardRemoved));
    }

    #[test]
    fn remove_after_fault_removes_the_card_after_n_apdus() {
        let card = VirtualCard::my_number().with_fault(crate::Fault::RemoveAfter(2));
        let mut t = SimTransport::new(card);
        let select = Command::select_df(&aid::JPKI).unwrap();
        assert!(t.transmit(&select).unwrap().sw().is_ok());
        assert!(t.transmit(&select).unwrap().sw().is_ok());
        assert_eq!(t.transmit(&select), Err(TransportError::CardRemoved));
        assert_eq!(t.card().apdus_answered(), 2);
    }
}
