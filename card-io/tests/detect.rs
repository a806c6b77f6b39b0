//! Telling a My Number card from other cards (`mynumber::detect`), on simulated cards.

use card_io::apdu::StatusWord;
use card_io::mynumber::jpki::label;
use card_io::mynumber::{aid, detect, CardError, CardKind, MyNumberCard};
use card_io::transport::TransportError;
use card_sim::{Application, SimTransport, VirtualCard};

fn detect_card(card: VirtualCard) -> Result<CardKind, CardError> {
    MyNumberCard::new(SimTransport::new(card)).detect()
}

#[test]
fn each_profile_is_recognised() {
    assert_eq!(
        detect_card(VirtualCard::my_number()),
        Ok(CardKind::MyNumberCard)
    );
    assert_eq!(detect_card(VirtualCard::juki()), Ok(CardKind::JukiCard));
    assert_eq!(
        detect_card(VirtualCard::not_my_number()),
        Ok(CardKind::NotMyNumberCard)
    );
}

#[test]
fn phone_and_unknown_tokens_are_recognised() {
    for phone in [label::ANDROID, label::IPHONE] {
        assert_eq!(
            detect_card(VirtualCard::jpki_token(phone)),
            Ok(CardKind::PhoneToken)
        );
    }
    assert_eq!(
        detect_card(VirtualCard::jpki_token("SOMETOKEN")),
        Ok(CardKind::UnknownToken("SOMETOKEN".into()))
    );
}

#[test]
fn removed_card_is_a_transport_error() {
    let mut t = SimTransport::new(VirtualCard::my_number());
    t.removal_switch().remove();
    assert_eq!(
        detect(&mut t),
        Err(CardError::Transport(TransportError::CardRemoved))
    );
}

#[test]
fn unexpected_status_is_reported_with_its_step() {
    let card = VirtualCard::new(VirtualCard::CONTACT_ATR.to_vec())
        .with_application(Application::new(aid::JPKI.to_vec()));
    assert_eq!(
        detect_card(card),
        Err(CardError::Status {
            step: "SELECT JPKI EF 0006",
            sw: StatusWord::FILE_NOT_FOUND
        })
    );
}
