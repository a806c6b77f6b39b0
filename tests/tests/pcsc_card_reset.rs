//! A card reset by another PC/SC client (through the real pcscd and vpcd) while the kiosk is
//! connected: the kiosk's next transaction reconnects to the card still in the reader instead
//! of calling it removed, and the retry counter shows no try spent.

use card_io::mynumber::{MyNumberCard, RetryCounter};
use card_io::transport::TransportError;
use card_sim::vpcd::VpcdCard;
use card_sim::VirtualCard;
use mynakiosk_tests::pcscd::{self, connect_when_present, SLOT0_READER};
use pcsc::{Context, Disposition, Protocols, Scope, ShareMode};
use std::ffi::CString;

/// Another application connects to the card and disconnects with a reset.
fn reset_by_another_client() {
    let context = Context::establish(Scope::User).unwrap();
    let reader = CString::new(SLOT0_READER).unwrap();
    let other = context
        .connect(&reader, ShareMode::Shared, Protocols::T1 | Protocols::T0)
        .unwrap();
    other
        .disconnect(Disposition::ResetCard)
        .map_err(|(_, e)| e)
        .unwrap();
}

fn pin_retries(
    transport: &mut card_io::pcsc_transport::PcscTransport,
) -> Result<RetryCounter, String> {
    let transaction = transport.transaction().map_err(|e| e.to_string())?;
    let mut card = MyNumberCard::new(transaction);
    let mut jpki = card.jpki().map_err(|e| e.to_string())?;
    jpki.pin_retries().map_err(|e| e.to_string())
}

#[test]
fn the_next_transaction_reconnects_after_another_clients_reset() {
    let _lock = pcscd::lock();
    let card = VpcdCard::insert(VirtualCard::my_number(), pcscd::slot0_addr()).expect("insert");
    let mut transport = connect_when_present(SLOT0_READER);
    let before = pin_retries(&mut transport).expect("retry counter");

    for _ in 0..3 {
        reset_by_another_client();
        assert_eq!(
            pin_retries(&mut transport),
            Ok(before),
            "after a reset by another client"
        );
    }

    // A card that is gone is still reported removed, not reconnected to.
    card.remove().expect("remove");
    pcscd::require_empty_slot0();
    assert!(matches!(
        transport.transaction().err(),
        Some(TransportError::CardRemoved)
    ));
}
