//! Every simulator profile through the card-reading API: in-process (fast) and through the real
//! pcscd + vpcd, plus the card pulled out after each APDU of the PIN and face paths.

use std::time::{SystemTime, UNIX_EPOCH};

use card_io::apdu::StatusWord;
use card_io::certificate::{ChainVerdict, TrustAnchors};
use card_io::mynumber::{
    aid, CardError, CardKind, MyNumberCard, Pin, PinB, ReadMode, RecordVerdict, RetryCounter,
    RsaPublicKey, VerifyOutcome,
};
use card_io::transport::{CardTransport, TransportError};
use card_sim::vpcd::VpcdCard;
use card_sim::{pki, Fault, Profile, Quirks, SimTransport, VirtualCard};
use mynakiosk_tests::pcscd::{self, connect_when_present, SLOT0_READER};

/// IEF ids of the keys whose counters the tests watch.
const JPKI_PIN: u16 = 0x0018;
const SURFACE_PIN_B: u16 = 0x0012;

/// What the PIN and face paths learned from one card.
#[derive(Debug, PartialEq)]
struct Seen {
    kind: CardKind,
    chain: Option<ChainVerdict>,
    pin: Option<RetryCounter>,
    pin_verified: Option<VerifyOutcome>,
    proof_ok: bool,
    pin_b: Option<RetryCounter>,
    photo_bytes: Option<usize>,
    record: Option<RecordVerdict>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

fn anchors() -> TrustAnchors {
    let mut anchors = TrustAnchors::new();
    anchors.add_der(&pki::test_trust_anchor_der()).unwrap();
    anchors
}

fn cvc_ca() -> RsaPublicKey {
    let key = pki::test_cvc_ca_public_key();
    RsaPublicKey {
        modulus: key.modulus,
        exponent: key.exponent,
    }
}

/// The PIN path (select JPKI, read cert, retries, verify, sign).
fn pin_path<T: CardTransport>(
    card: &mut MyNumberCard<T>,
    profile: &Profile,
    seen: &mut Seen,
) -> Result<(), CardError> {
    let mut jpki = card.jpki()?;
    let certificate = jpki.user_auth_certificate()?;
    seen.chain = Some(anchors().check(&certificate, now()));
    let retries = jpki.pin_retries()?;
    seen.pin = Some(retries);
    if let (Some(pin), RetryCounter::Remaining(_)) = (&profile.pin, retries) {
        let outcome = jpki.verify_pin(&Pin::new(pin).unwrap())?;
        seen.pin_verified = Some(outcome);
        if outcome == VerifyOutcome::Verified {
            let proof = jpki.prove_possession(&certificate)?;
            seen.proof_ok = proof.signature.len() == 256;
        }
    }
    Ok(())
}

/// The face path (select 券面AP, retries, verify 照合番号B, read EF 0002).
fn face_path<T: CardTransport>(
    card: &mut MyNumberCard<T>,
    profile: &Profile,
    seen: &mut Seen,
) -> Result<(), CardError> {
    let mut surface = card.surface()?;
    let retries = surface.pin_b_retries()?;
    seen.pin_b = Some(retries);
    if surface.verify_pin_b(&PinB::new(&profile.pin_b).unwrap())? == VerifyOutcome::Verified {
        let record = surface.read_record()?;
        seen.photo_bytes = Some(record.photo.as_ref().map_or(0, |p| p.len()));
        seen.record = Some(record.verify(&surface.certificate()?, &cvc_ca()));
    }
    Ok(())
}

/// Both paths; errors are returned with what was seen before them.
fn read_card<T: CardTransport>(
    card: &mut MyNumberCard<T>,
    profile: &Profile,
) -> (Seen, Result<(), CardError>) {
    let mut seen = Seen {
        kind: CardKind::NotMyNumberCard,
        chain: None,
        pin: None,
        pin_verified: None,
        proof_ok: false,
        pin_b: None,
        photo_bytes: None,
        record: None,
    };
    let result = card.detect().and_then(|kind| {
        seen.kind = kind.clone();
        if kind != CardKind::MyNumberCard {
            return Ok(());
        }
        pin_path(card, profile, &mut seen)?;
        face_path(card, profile, &mut seen)
    });
    (seen, result)
}

/// Checks what each profile must show.
fn check(name: &str, seen: &Seen, result: &Result<(), CardError>) {
    let ctx = format!("{name}: {seen:?} {result:?}");
    match name {
        "juki" => assert_eq!(seen.kind, CardKind::JukiCard, "{ctx}"),
        "not-my-number" => assert_eq!(seen.kind, CardKind::NotMyNumberCard, "{ctx}"),
        "corrupt-tlv" => {
            assert!(matches!(result, Err(CardError::Record(_))), "{ctx}");
            assert_eq!(seen.chain, Some(ChainVerdict::Valid), "{ctx}");
        }
        "truncated-file" => {
            assert_eq!(result, &Err(CardError::Truncated { fid: 0x000A }), "{ctx}")
        }
        _ => {
            assert_eq!(result, &Ok(()), "{ctx}");
            assert_eq!(seen.kind, CardKind::MyNumberCard, "{ctx}");
            let chain = match name {
                "expired-cert" => ChainVerdict::Expired,
                "untrusted-issuer" => ChainVerdict::Untrusted,
                _ => ChainVerdict::Valid,
            };
            assert_eq!(seen.chain, Some(chain), "{ctx}");
            let (pin, verified) = match name {
                "pin-1-try-left" => (RetryCounter::Remaining(1), Some(VerifyOutcome::Verified)),
                "pin-locked" => (RetryCounter::Locked, None),
                "face-card" => (RetryCounter::NotSet, None),
                _ => (RetryCounter::Remaining(3), Some(VerifyOutcome::Verified)),
            };
            assert_eq!(seen.pin, Some(pin), "{ctx}");
            assert_eq!(seen.pin_verified, verified, "{ctx}");
            assert_eq!(seen.proof_ok, verified.is_some(), "{ctx}");
            assert!(
                matches!(seen.pin_b, Some(RetryCounter::Remaining(n)) if n > 2),
                "{ctx}"
            );
            let photo = seen.photo_bytes.unwrap_or_else(|| panic!("{ctx}"));
            assert_eq!(photo == 0, name == "no-photo", "{ctx}");
            assert_eq!(seen.record, Some(RecordVerdict::Valid), "{ctx}");
        }
    }
}

#[test]
fn every_profile_in_process() {
    for name in Profile::names() {
        let profile = Profile::load(name).unwrap();
        let mut card = MyNumberCard::new(SimTransport::new(profile.card()));
        let (seen, result) = read_card(&mut card, &profile);
        check(name, &seen, &result);
        let sim = card.into_inner();
        assert_eq!(sim.card().forbidden_access_count(), 0, "{name}");
    }
}

#[test]
fn the_guard_stops_raw_my_number_commands_before_the_card() {
    let profile = Profile::load("normal").unwrap();
    let mut card = MyNumberCard::new(SimTransport::new(profile.card()));
    card.surface().unwrap();
    let mut guard = card_io::guard::PrivacyGuard::new(card.into_inner());
    let raw = [
        &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x13][..],
        &[0x00, 0x20, 0x00, 0x93],
        &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x05],
        &[0x00, 0xB0, 0x85, 0x00, 0x00],
    ];
    guard
        .transmit(&card_io::apdu::Command::select_df(&aid::KENMEN_KAKUNIN).unwrap())
        .unwrap();
    for apdu in raw {
        let cmd = card_io::apdu::Command::from_bytes(apdu).unwrap();
        assert!(
            matches!(guard.transmit(&cmd), Err(TransportError::Forbidden(_))),
            "{apdu:02X?}"
        );
    }
    guard
        .transmit(&card_io::apdu::Command::select_df(&aid::KENMEN_NYURYOKU_HOJO).unwrap())
        .unwrap();
    for apdu in [
        &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x14][..],
        &[0x00, 0x20, 0x00, 0x94],
        &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01],
        &[0x00, 0xB0, 0x81, 0x00, 0x00],
    ] {
        let cmd = card_io::apdu::Command::from_bytes(apdu).unwrap();
        assert!(
            matches!(guard.transmit(&cmd), Err(TransportError::Forbidden(_))),
            "{apdu:02X?}"
        );
    }
    assert_eq!(guard.into_inner().card().forbidden_access_count(), 0);
}

/// The card leaves after each APDU of both paths: a clean error, at most one try spent.
#[test]
fn card_removed_after_each_apdu_in_process() {
    let profile = Profile::load("normal").unwrap();
    let full = {
        let mut card = MyNumberCard::new(SimTransport::new(profile.card()));
        let (_, result) = read_card(&mut card, &profile);
        result.unwrap();
        card.into_inner().card().apdus_answered()
    };
    for n in 1..full {
        let mut card = MyNumberCard::new(SimTransport::new(
            profile.card().with_fault(Fault::RemoveAfter(n)),
        ));
        let (_, result) = read_card(&mut card, &profile);
        assert_eq!(
            result,
            Err(CardError::Transport(TransportError::CardRemoved)),
            "after {n} APDUs"
        );
        let sim = card.into_inner();
        let sim = sim.card();
        assert_eq!(sim.forbidden_access_count(), 0);
        for (df, ief, max) in [
            (aid::JPKI, JPKI_PIN, 3),
            (aid::KENMEN_KAKUNIN, SURFACE_PIN_B, 10),
        ] {
            let left = sim.tries_left(&df, ief).unwrap();
            assert!(
                left + 1 >= max,
                "after {n} APDUs: {ief:04X} has {left} of {max}"
            );
        }
    }
}

/// Runs `profile` through pcscd and vpcd slot 0.
fn through_pcscd(
    profile: &Profile,
    card: VirtualCard,
) -> (Seen, Result<(), CardError>, VirtualCard) {
    let inserted = VpcdCard::insert(card, pcscd::slot0_addr()).expect("insert");
    let (mut seen, mut result) = (None, Err(CardError::Transport(TransportError::CardReset)));
    // pcscd may reset a freshly inserted card once; a reader restarts the read then, as the
    // kiosk does (the reset cleared any verified PIN).
    for _ in 0..2 {
        if result != Err(CardError::Transport(TransportError::CardReset)) {
            break;
        }
        let mut transport = connect_when_present(SLOT0_READER);
        let Ok(transaction) = transport.transaction() else {
            continue;
        };
        let mut card = MyNumberCard::new(transaction);
        let (s, r) = read_card(&mut card, profile);
        (seen, result) = (Some(s), r);
    }
    let seen = seen.expect("read at least once");
    let card = inserted.remove().expect("remove");
    pcscd::require_empty_slot0();
    (seen, result, card)
}

#[test]
fn every_profile_through_pcscd() {
    let _lock = pcscd::lock();
    for name in Profile::names() {
        let profile = Profile::load(name).unwrap();
        let (seen, result, card) = through_pcscd(&profile, profile.card());
        check(name, &seen, &result);
        assert_eq!(card.forbidden_access_count(), 0, "{name}");
    }
}

/// The card leaves vpcd after each APDU of both paths: pcscd reports a removed card, no try is
/// spent twice and nothing forbidden was touched.
#[test]
fn card_removed_after_each_apdu_through_pcscd() {
    let _lock = pcscd::lock();
    let profile = Profile::load("normal").unwrap();
    let full = {
        let mut card = MyNumberCard::new(SimTransport::new(profile.card()));
        read_card(&mut card, &profile).1.unwrap();
        card.into_inner().card().apdus_answered()
    };
    for n in 1..full {
        let card = profile.card().with_fault(Fault::RemoveAfter(n));
        let inserted = VpcdCard::insert(card, pcscd::slot0_addr()).expect("insert");
        let mut transport = connect_when_present(SLOT0_READER);
        let result = {
            let mut card = MyNumberCard::new(transport.transaction().expect("transaction"));
            read_card(&mut card, &profile).1
        };
        assert!(
            matches!(
                result,
                Err(CardError::Transport(
                    TransportError::CardRemoved | TransportError::CardReset
                ))
            ),
            "after {n} APDUs: {result:?}"
        );
        drop(transport);
        let sim = inserted.remove().expect("remove");
        pcscd::require_empty_slot0();
        assert_eq!(sim.forbidden_access_count(), 0);
        for (df, ief, max) in [
            (aid::JPKI, JPKI_PIN, 3),
            (aid::KENMEN_KAKUNIN, SURFACE_PIN_B, 10),
        ] {
            let left = sim.tries_left(&df, ief).unwrap();
            assert!(
                left + 1 >= max,
                "after {n} APDUs: {ief:04X} has {left} of {max}"
            );
        }
    }
}

/// `61xx` answers, `6Cxx` answers and a card without extended length all read the same; a
/// wrong status word is a typed error that spends nothing.
#[test]
fn protocol_quirks_and_wrong_status_words_in_process() {
    let profile = Profile::load("normal").unwrap();
    let short_only = Quirks {
        extended_length: false,
        ..Quirks::default()
    };
    for quirks in [
        Quirks {
            get_response: true,
            ..Quirks::default()
        },
        Quirks {
            wrong_le: true,
            ..short_only
        },
        short_only,
    ] {
        let mut card = MyNumberCard::new(SimTransport::new(profile.card().with_quirks(quirks)));
        let (seen, result) = read_card(&mut card, &profile);
        check("normal", &seen, &result);
        let expected = if quirks.extended_length {
            ReadMode::Extended
        } else {
            ReadMode::Short
        };
        assert_eq!(card.read_mode(), expected, "{quirks:?}");
    }
    let broken = profile.card().with_fault(Fault::WrongStatus {
        ins: 0x20,
        sw: StatusWord::new(0x6F, 0x00),
    });
    let mut card = MyNumberCard::new(SimTransport::new(broken));
    let (_, result) = read_card(&mut card, &profile);
    assert_eq!(
        result,
        Err(CardError::Status {
            step: "PIN retry counter",
            sw: StatusWord::new(0x6F, 0x00)
        })
    );
    assert_eq!(
        card.into_inner().card().tries_left(&aid::JPKI, JPKI_PIN),
        Some(3)
    );
}
