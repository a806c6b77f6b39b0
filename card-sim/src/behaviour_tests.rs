//! Each profile's card, driven with raw APDUs in-process: layouts, signatures, access
//! conditions and the behaviour that sets the profile apart.

use ring::digest::{digest, SHA256};
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::layout::fid;
use crate::pki;
use crate::sw;
use crate::{Profile, Quirks, SimTransport, VirtualCard};
use card_io::apdu::{Command, Response, StatusWord};
use card_io::mynumber::jpki::SHA256_DIGEST_INFO_PREFIX;
use card_io::mynumber::{aid, CardVerifiableCertificate, RsaPublicKey};
use card_io::transport::CardTransport;

fn card(name: &str) -> VirtualCard {
    Profile::load(name).unwrap().card()
}

fn run(card: &mut VirtualCard, apdu: &[u8]) -> Response {
    Response::from_bytes(card.process(apdu)).unwrap()
}

fn select(card: &mut VirtualCard, aid: &[u8]) -> StatusWord {
    run(card, &Command::select_df(aid).unwrap().to_bytes()).sw()
}

fn verify(card: &mut VirtualCard, p2: u8, secret: &[u8]) -> StatusWord {
    let mut apdu = vec![0x00, 0x20, 0x00, p2];
    if !secret.is_empty() {
        apdu.push(secret.len() as u8);
        apdu.extend_from_slice(secret);
    }
    run(card, &apdu).sw()
}

/// The whole EF `fid` of the current DF, by SELECT and one extended READ BINARY.
fn read_ef(card: &mut VirtualCard, fid: u16) -> Response {
    let selected = run(card, &Command::select_ef(fid).to_bytes()).sw();
    assert!(selected.is_ok(), "SELECT {fid:04X}: {selected}");
    let read = Command::new(0x00, 0xB0, 0x00, 0x00)
        .with_ne(65_536)
        .unwrap();
    run(card, &read.to_bytes())
}

fn sign(card: &mut VirtualCard, p2: u8, input: &[u8]) -> Response {
    let cmd = Command::new(0x80, 0x2A, 0x00, p2)
        .with_data(input.to_vec())
        .unwrap()
        .with_ne(256)
        .unwrap();
    run(card, &cmd.to_bytes())
}

/// Splits a BER TLV at the start of `bytes` into (tag, header length, value length).
fn tlv_header(bytes: &[u8]) -> (Vec<u8>, usize, usize) {
    let tag_len = if bytes[0] & 0x1F == 0x1F { 2 } else { 1 };
    let (len, len_len) = match bytes[tag_len] {
        0x81 => (usize::from(bytes[tag_len + 1]), 2),
        0x82 => (
            usize::from(u16::from_be_bytes([bytes[tag_len + 1], bytes[tag_len + 2]])),
            3,
        ),
        n => (usize::from(n), 1),
    };
    (bytes[..tag_len].to_vec(), tag_len + len_len, len)
}

/// The fields of a record `FF xx { DF21 offsets, fields… }`, located through the offset
/// table, each checked to start with its tag; plus the record's TLV length.
fn fields_by_offset_table(record: &[u8], first_tag: u8, count: usize) -> (Vec<Vec<u8>>, usize) {
    let (_, header, len) = tlv_header(record);
    assert_eq!(record[header..header + 2], [0xDF, 0x21]);
    let table = &record[header + 3..header + 3 + 2 * count];
    let offsets: Vec<usize> = table
        .chunks(2)
        .map(|pair| usize::from(u16::from_be_bytes([pair[0], pair[1]])))
        .collect();
    let fields = offsets
        .iter()
        .enumerate()
        .map(|(i, &at)| {
            assert_eq!(record[at..at + 2], [0xDF, first_tag + i as u8], "field {i}");
            let (_, h, l) = tlv_header(&record[at..]);
            record[at..at + h + l].to_vec()
        })
        .collect();
    (fields, header + len)
}

fn value(field: &[u8]) -> &[u8] {
    let (_, header, len) = tlv_header(field);
    &field[header..header + len]
}

fn public_key_of(encoded: &[u8]) -> RsaPublicKey {
    assert_eq!(encoded.len(), 265);
    RsaPublicKey {
        exponent: encoded[2..5].to_vec(),
        modulus: encoded[9..].to_vec(),
    }
}

/// The subject key of EF 0004 (a `7F 21` certificate), after checking it with the CVC CA.
fn certified_key(cvc: &[u8]) -> RsaPublicKey {
    let cert = CardVerifiableCertificate::parse(cvc).unwrap();
    assert!(cert.is_signed_by(&pki::test_cvc_ca_public_key()));
    cert.public_key
}

/// The DER certificate at the start of `ef` (length from its header).
fn der_prefix(ef: &[u8]) -> &[u8] {
    let len = usize::from(u16::from_be_bytes([ef[2], ef[3]])) + 4;
    &ef[..len]
}

#[test]
fn jpki_ap_holds_token_certificates_with_filler_and_a_signing_key() {
    let profile = Profile::load("normal").unwrap();
    let mut c = profile.card();
    assert!(select(&mut c, &aid::JPKI).is_ok());
    assert_eq!(&read_ef(&mut c, 0x0006).data()[..15], b"JPKIAPICCTOKEN2");
    assert_eq!(
        read_ef(&mut c, fid::jpki::AVAILABILITY).data(),
        [0x8F, 0x8F, 0x00]
    );
    let ef = read_ef(&mut c, fid::jpki::AUTH_CERT);
    let cert = der_prefix(ef.data());
    assert_eq!(Some(cert), profile.certificate.as_deref());
    assert!(
        ef.data()[cert.len()..].iter().all(|&b| b == 0),
        "zero filler"
    );
    assert!(ef.data().len() > cert.len());
    let ca_ef = read_ef(&mut c, fid::jpki::AUTH_CA_CERT);
    assert_eq!(der_prefix(ca_ef.data()), pki::test_trust_anchor_der());

    let (_, parsed) = X509Certificate::from_der(cert).unwrap();
    let anchor = pki::test_trust_anchor_der();
    let (_, ca) = X509Certificate::from_der(&anchor).unwrap();
    assert!(parsed.verify_signature(Some(ca.public_key())).is_ok());
    assert_eq!(parsed.issuer(), ca.subject());
    assert!(parsed.issuer().to_string().contains("TEST"));
    assert_eq!(
        parsed.subject().to_string(),
        "C=JP, CN=TEST0000001NORMAL00SIM01"
    );
    assert!(parsed.validity().is_valid());
    let usage = parsed.key_usage().unwrap().unwrap();
    assert!(usage.critical && usage.value.digital_signature());
}

#[test]
fn pin_gates_the_user_auth_signature_which_verifies_against_the_certificate() {
    let profile = Profile::load("normal").unwrap();
    let mut c = profile.card();
    select(&mut c, &aid::JPKI);
    let challenge = b"fresh challenge from the kiosk";
    let mut digest_info = SHA256_DIGEST_INFO_PREFIX.to_vec();
    digest_info.extend_from_slice(digest(&SHA256, challenge).as_ref());
    assert_eq!(
        sign(&mut c, 0x97, &digest_info).sw(),
        StatusWord::SECURITY_NOT_SATISFIED
    );
    assert_eq!(verify(&mut c, 0x98, b""), sw::retries(3));
    assert_eq!(verify(&mut c, 0x98, b"1234"), StatusWord::OK);
    let by_sfi = sign(&mut c, 0x97, &digest_info);
    assert!(by_sfi.sw().is_ok());
    assert_eq!(by_sfi.data().len(), 256);
    let (_, cert) = X509Certificate::from_der(profile.certificate.as_deref().unwrap()).unwrap();
    let key = UnparsedPublicKey::new(
        &RSA_PKCS1_2048_8192_SHA256,
        cert.public_key().subject_public_key.data.as_ref(),
    );
    assert!(key.verify(challenge, by_sfi.data()).is_ok());
    assert!(key.verify(b"another challenge", by_sfi.data()).is_err());

    run(&mut c, &Command::select_ef(fid::jpki::AUTH_KEY).to_bytes());
    assert_eq!(
        sign(&mut c, 0x80, &digest_info).data(),
        by_sfi.data(),
        "same key"
    );
    assert_eq!(sign(&mut c, 0x80, &[0; 246]).sw(), StatusWord::WRONG_LENGTH);
    assert_eq!(
        sign(&mut c, 0x00, &digest_info).sw(),
        StatusWord::REFERENCED_DATA_NOT_FOUND
    );
    assert_eq!(
        run(&mut c, &[0x80, 0x2A, 0x01, 0x97, 0x01, 0x00]).sw(),
        StatusWord::INCORRECT_P1_P2
    );

    // Another DF clears the PIN status.
    select(&mut c, &aid::KENMEN_KAKUNIN);
    select(&mut c, &aid::JPKI);
    assert_eq!(
        sign(&mut c, 0x97, &digest_info).sw(),
        StatusWord::SECURITY_NOT_SATISFIED
    );
    assert_eq!(verify(&mut c, 0x98, b""), sw::retries(3));
}

#[test]
fn pin_b_opens_the_card_face_whose_layout_and_signature_check_out() {
    let profile = Profile::load("normal").unwrap();
    let mut c = profile.card();
    select(&mut c, &aid::KENMEN_KAKUNIN);
    run(
        &mut c,
        &Command::select_ef(fid::kenmen::CARD_FACE).to_bytes(),
    );
    assert_eq!(
        run(&mut c, &Command::read_binary(0, 16).unwrap().to_bytes()).sw(),
        StatusWord::SECURITY_NOT_SATISFIED
    );
    assert_eq!(verify(&mut c, 0x92, b""), sw::retries(10));
    assert_eq!(verify(&mut c, 0x92, b"55021720352286"), sw::retries(9));
    assert_eq!(
        verify(&mut c, 0x92, profile.pin_b.as_bytes()),
        StatusWord::OK
    );
    assert_eq!(
        c.tries_left(&aid::KENMEN_KAKUNIN, fid::kenmen::PIN_B),
        Some(10)
    );

    let ef = read_ef(&mut c, fid::kenmen::CARD_FACE);
    let ef = ef.data();
    assert_eq!(ef[..3], [0xFF, 0x20, 0x82]);
    let (fields, record_len) = fields_by_offset_table(ef, 0x22, 9);
    assert!(ef[record_len..].iter().all(|&b| b == 0xFF), "FF filler");
    assert!(ef.len() >= record_len + 2);
    assert_eq!(value(&fields[0]), b"19800217");
    assert_eq!(value(&fields[1]), b"1");
    assert_eq!(value(&fields[5]), profile.photo.as_deref().unwrap());
    assert_eq!(value(&fields[7]), b"20350217");
    for image in [3, 4, 8] {
        assert!(
            value(&fields[image]).starts_with(b"\x89PNG"),
            "field {image}"
        );
    }

    let cvc = read_ef(&mut c, fid::kenmen::CVC);
    let ap_key = certified_key(cvc.data());
    assert_eq!(&cvc.data()[10..17], b"7000023");
    let mut digest_info = vec![
        0x30, 0x71, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x60,
    ];
    for group in [&fields[0..3], &fields[3..5], &fields[5..6]] {
        digest_info.extend_from_slice(digest(&SHA256, &group.concat()).as_ref());
    }
    assert!(ap_key.verifies_digest_info(&digest_info[..19], &digest_info[19..], value(&fields[6])));
    digest_info[40] ^= 1;
    assert!(!ap_key.verifies_digest_info(
        &digest_info[..19],
        &digest_info[19..],
        value(&fields[6])
    ));

    // Card presence proof: 80 2A 00 00 with the DF24 key, no credential needed.
    let card_key = public_key_of(value(&fields[2]));
    let challenge = run(&mut c, &[0x00, 0x84, 0x00, 0x00, 0x10]);
    let mut info = SHA256_DIGEST_INFO_PREFIX.to_vec();
    info.extend_from_slice(digest(&SHA256, challenge.data()).as_ref());
    let proof = sign(&mut c, 0x00, &info);
    assert!(card_key.verifies_sha256(challenge.data(), proof.data()));
}

#[test]
fn birth_record_needs_the_birth_key_and_is_signed() {
    let mut c = card("normal");
    select(&mut c, &aid::KENMEN_KAKUNIN);
    run(
        &mut c,
        &Command::select_ef(fid::kenmen::BIRTH_RECORD).to_bytes(),
    );
    assert_eq!(
        run(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00]).sw(),
        StatusWord::SECURITY_NOT_SATISFIED
    );
    assert_eq!(verify(&mut c, 0x92, b"55021720352285"), StatusWord::OK);
    assert_eq!(
        run(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00]).sw(),
        StatusWord::SECURITY_NOT_SATISFIED,
        "照合番号B does not open EF 0001"
    );
    assert_eq!(verify(&mut c, 0x91, b"550217"), StatusWord::OK);
    let ef = read_ef(&mut c, fid::kenmen::BIRTH_RECORD);
    assert_eq!(ef.data()[..5], [0xFF, 0x10, 0x82, 0x02, 0x1E]);
    let record = &ef.data()[5..5 + 0x21E];
    let signed = &record[..11 + 270];
    assert_eq!(signed[..3], [0xDF, 0x11, 0x08]);
    let cvc = read_ef(&mut c, fid::kenmen::CVC);
    assert!(certified_key(cvc.data()).verifies_sha256(signed, &record[11 + 270 + 5..]));
    assert!(ef.data()[5 + 0x21E..].iter().all(|&b| b == 0xFF));
}

#[test]
fn support_ap_records_hash_and_sign_as_the_spec_says() {
    let mut c = card("normal");
    select(&mut c, &aid::KENMEN_NYURYOKU_HOJO);
    assert_eq!(
        verify(&mut c, 0x92, b""),
        sw::retries(0),
        "IEF 0012 issued blocked"
    );
    assert_eq!(verify(&mut c, 0x92, b"0000"), StatusWord::KEY_LOCKED);
    assert_eq!(verify(&mut c, 0x95, b"55021720352285"), StatusWord::OK);
    let attributes = read_ef(&mut c, fid::hojo::ATTRIBUTES);
    let (fields, record_len) = fields_by_offset_table(attributes.data(), 0x22, 4);
    assert_eq!(value(&fields[0]), "試験　太郎".as_bytes());
    assert!(attributes.data()[record_len..].iter().all(|&b| b == 0xFF));
    let integrity = read_ef(&mut c, fid::hojo::INTEGRITY);
    let integrity = integrity.data();
    assert_eq!(integrity.len(), 336);
    assert_eq!(integrity[..5], [0xFF, 0x30, 0x82, 0x01, 0x4B]);
    assert_eq!(
        &integrity[5 + 3 + 32 + 3..5 + 3 + 32 + 3 + 32],
        digest(&SHA256, &fields.concat()).as_ref()
    );
    let cvc = read_ef(&mut c, fid::hojo::CVC);
    let key = certified_key(cvc.data());
    assert!(key.verifies_sha256(&integrity[5..75], &integrity[80..]));
    assert_eq!(
        c.forbidden_access_count(),
        0,
        "nothing forbidden touched so far"
    );

    // The My Number EF: 照合番号B does not open it; the PIN does (and it is counted).
    run(&mut c, &Command::select_ef(fid::hojo::MY_NUMBER).to_bytes());
    assert_eq!(
        run(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x00]).sw(),
        StatusWord::SECURITY_NOT_SATISFIED
    );
    assert_eq!(verify(&mut c, 0x91, b"1234"), StatusWord::OK);
    let my_number = run(&mut c, &[0x00, 0xB0, 0x81, 0x00, 0x00]);
    assert_eq!(my_number.data().len(), 17);
    assert_eq!(my_number.data()[..3], [0xFF, 0x10, 0x0C]);
    assert_eq!(my_number.data()[15..], [0xFF, 0xFF]);
    assert_eq!(
        &integrity[8..40],
        digest(&SHA256, my_number.data()).as_ref()
    );
    assert_eq!(c.forbidden_access_count(), 3, "SELECT, READ, READ by SFI");
    let info = read_ef(&mut c, fid::hojo::BASIC_INFO);
    assert_eq!(info.data()[..2], [0xFF, 0x40]);
}

#[test]
fn pin_a_and_the_my_number_image_are_counted() {
    let mut c = card("normal");
    select(&mut c, &aid::KENMEN_KAKUNIN);
    assert_eq!(verify(&mut c, 0x93, b""), sw::retries(10));
    assert_eq!(verify(&mut c, 0x93, b"123456789018"), StatusWord::OK);
    let image = read_ef(&mut c, fid::kenmen::MY_NUMBER_IMAGE);
    assert_eq!(image.data()[..2], [0xFF, 0x40]);
    assert_eq!(c.forbidden_access_count(), 4);
    let mut c = card("normal");
    select(&mut c, &aid::KENMEN_KAKUNIN);
    verify(&mut c, 0x92, b"55021720352285");
    run(
        &mut c,
        &Command::select_ef(fid::kenmen::MY_NUMBER_IMAGE).to_bytes(),
    );
    assert_eq!(
        run(&mut c, &[0x00, 0xB0, 0x00, 0x00, 0x01]).sw(),
        StatusWord::SECURITY_NOT_SATISFIED,
        "照合番号B does not open EF 0005"
    );
}

#[test]
fn pin_1_try_left_then_locked() {
    let mut c = card("pin-1-try-left");
    select(&mut c, &aid::JPKI);
    assert_eq!(verify(&mut c, 0x98, b""), sw::retries(1));
    assert_eq!(verify(&mut c, 0x98, b"9999"), sw::retries(0));
    assert_eq!(verify(&mut c, 0x98, b"1234"), StatusWord::KEY_LOCKED);
    let mut c = card("pin-1-try-left");
    select(&mut c, &aid::JPKI);
    assert_eq!(verify(&mut c, 0x98, b"1234"), StatusWord::OK);
    assert_eq!(c.tries_left(&aid::JPKI, fid::jpki::AUTH_PIN), Some(3));
}

#[test]
fn pin_locked_card_refuses_even_the_right_pin() {
    let mut c = card("pin-locked");
    select(&mut c, &aid::JPKI);
    run(&mut c, &Command::select_ef(fid::jpki::AUTH_PIN).to_bytes());
    assert_eq!(verify(&mut c, 0x80, b""), sw::retries(0));
    assert_eq!(verify(&mut c, 0x80, b"1234"), StatusWord::KEY_LOCKED);
    assert_eq!(
        sign(&mut c, 0x97, &[1; 51]).sw(),
        StatusWord::SECURITY_NOT_SATISFIED
    );
}

#[test]
fn face_card_has_no_pin_and_no_signature_certificate() {
    let profile = Profile::load("face-card").unwrap();
    assert_eq!(profile.pin, None);
    let mut c = profile.card();
    select(&mut c, &aid::JPKI);
    assert_eq!(
        read_ef(&mut c, fid::jpki::AVAILABILITY).data(),
        [0x00, 0x8F, 0x00]
    );
    assert_eq!(
        verify(&mut c, 0x98, b""),
        StatusWord::REFERENCED_DATA_NOT_FOUND
    );
    assert_eq!(
        verify(&mut c, 0x98, b"1234"),
        StatusWord::REFERENCED_DATA_NOT_FOUND
    );
    assert_eq!(
        sign(&mut c, 0x97, &[1; 51]).sw(),
        StatusWord::SECURITY_NOT_SATISFIED
    );
    assert!(
        read_ef(&mut c, fid::jpki::AUTH_CERT).sw().is_ok(),
        "certificate still readable"
    );
    select(&mut c, &aid::KENMEN_KAKUNIN);
    assert_eq!(
        verify(&mut c, 0x92, profile.pin_b.as_bytes()),
        StatusWord::OK
    );
    assert!(!read_ef(&mut c, fid::kenmen::CARD_FACE).data().is_empty());
}

#[test]
fn certificate_profiles_differ_in_validity_and_issuer() {
    let anchor = pki::test_trust_anchor_der();
    let (_, ca) = X509Certificate::from_der(&anchor).unwrap();
    let expired = Profile::load("expired-cert").unwrap();
    let (_, cert) = X509Certificate::from_der(expired.certificate.as_deref().unwrap()).unwrap();
    assert!(!cert.validity().is_valid());
    assert!(cert.verify_signature(Some(ca.public_key())).is_ok());

    let rogue = Profile::load("untrusted-issuer").unwrap();
    let (_, cert) = X509Certificate::from_der(rogue.certificate.as_deref().unwrap()).unwrap();
    assert!(cert.validity().is_valid());
    assert!(cert.verify_signature(Some(ca.public_key())).is_err());
    let rogue_anchor = pki::test_untrusted_ca_der();
    let (_, rogue_ca) = X509Certificate::from_der(&rogue_anchor).unwrap();
    assert!(cert.verify_signature(Some(rogue_ca.public_key())).is_ok());
    let mut c = rogue.card();
    select(&mut c, &aid::JPKI);
    let ef = read_ef(&mut c, fid::jpki::AUTH_CA_CERT);
    assert_eq!(
        der_prefix(ef.data()),
        pki::test_untrusted_ca_der(),
        "the card carries its CA"
    );
}

fn card_face_after_pin_b(name: &str) -> Vec<u8> {
    let profile = Profile::load(name).unwrap();
    let mut c = profile.card();
    select(&mut c, &aid::KENMEN_KAKUNIN);
    assert_eq!(
        verify(&mut c, 0x92, profile.pin_b.as_bytes()),
        StatusWord::OK
    );
    read_ef(&mut c, fid::kenmen::CARD_FACE).data().to_vec()
}

#[test]
fn no_photo_card_has_an_empty_df27() {
    let ef = card_face_after_pin_b("no-photo");
    let (fields, _) = fields_by_offset_table(&ef, 0x22, 9);
    assert_eq!(fields[5], [0xDF, 0x27, 0x00]);
}

#[test]
fn corrupt_tlv_card_face_has_a_photo_length_past_the_record() {
    let ef = card_face_after_pin_b("corrupt-tlv");
    let (_, header, record_len) = tlv_header(&ef);
    let table = &ef[header + 3..];
    let at = usize::from(u16::from_be_bytes([table[10], table[11]]));
    assert_eq!(ef[at..at + 2], [0xDF, 0x27]);
    let (_, h, photo_len) = tlv_header(&ef[at..]);
    assert!(at + h + photo_len > header + record_len);
}

#[test]
fn truncated_files_end_before_their_tlv_does() {
    let ef = card_face_after_pin_b("truncated-file");
    let (_, header, len) = tlv_header(&ef);
    assert!(ef.len() < header + len);
    let mut c = card("truncated-file");
    select(&mut c, &aid::JPKI);
    let cert = read_ef(&mut c, fid::jpki::AUTH_CERT);
    let claimed = usize::from(u16::from_be_bytes([cert.data()[2], cert.data()[3]])) + 4;
    assert!(cert.data().len() < claimed);
    assert_eq!(
        run(
            &mut c,
            &Command::read_binary(u16::try_from(claimed - 1).unwrap(), 1)
                .unwrap()
                .to_bytes()
        )
        .sw(),
        StatusWord::WRONG_OFFSET
    );
}

#[test]
fn foreign_resident_pin_b_uses_the_gregorian_birth_date() {
    let profile = Profile::load("foreign-resident").unwrap();
    assert_eq!(profile.pin_b, "42112020325519");
    let mut c = profile.card();
    select(&mut c, &aid::KENMEN_KAKUNIN);
    assert_eq!(
        verify(&mut c, 0x92, b"17112020325519"),
        sw::retries(9),
        "和暦 昭和17 fails"
    );
    assert_eq!(verify(&mut c, 0x92, b"42112020325519"), StatusWord::OK);
}

#[test]
fn juki_and_other_cards_are_told_apart_by_their_aps() {
    let mut juki = card("juki");
    assert!(select(&mut juki, &aid::JPKI).is_ok());
    assert_eq!(
        &read_ef(&mut juki, 0x0006).data()[..16],
        b"JPKIAPICCTOKEN  "
    );
    assert_eq!(
        select(&mut juki, &aid::KENMEN_KAKUNIN),
        StatusWord::FILE_NOT_FOUND
    );
    let mut other = card("not-my-number");
    assert_ne!(other.atr(), VirtualCard::CONTACT_ATR);
    assert_eq!(select(&mut other, &aid::JPKI), StatusWord::FILE_NOT_FOUND);
}

#[test]
fn reader_transport_copes_with_61xx_and_6cxx_cards() {
    for quirks in [
        Quirks {
            get_response: true,
            ..Quirks::default()
        },
        Quirks {
            wrong_le: true,
            ..Quirks::default()
        },
    ] {
        let profile = Profile::load("normal").unwrap();
        let mut t = SimTransport::new(profile.card().with_quirks(quirks));
        assert!(t
            .transmit(&Command::select_df(&aid::JPKI).unwrap())
            .unwrap()
            .sw()
            .is_ok());
        assert!(t
            .transmit(&Command::select_ef(fid::jpki::AUTH_CERT))
            .unwrap()
            .sw()
            .is_ok());
        let mut cert = Vec::new();
        loop {
            let offset = u16::try_from(cert.len()).unwrap();
            let r = t
                .transmit(&Command::read_binary(offset, 250).unwrap())
                .unwrap();
            if r.sw() == StatusWord::WRONG_OFFSET {
                break;
            }
            assert!(r.sw().is_ok(), "{quirks:?}: {}", r.sw());
            cert.extend_from_slice(r.data());
        }
        assert_eq!(cert.len(), 2048, "{quirks:?}: the last, short chunk too");
        assert_eq!(
            der_prefix(&cert),
            profile.certificate.as_deref().unwrap(),
            "{quirks:?}"
        );
    }
}
