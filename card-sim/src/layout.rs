//! Builds the simulated card of a [`Profile`]: the applications with their files in the layouts
//! of the spec (§2.3–2.5, §4), signed with the test PKI.

use ring::digest::{digest, SHA256};

use crate::card::{Access, Application, VirtualCard};
use crate::ief::Ief;
use crate::pki::{self, key_id, SigningKey, RSA_LEN};
use crate::profile::{CardType, Holder, Profile};
use crate::{images, tlv};
use card_io::mynumber::aid;
use card_io::mynumber::jpki::{label, TOKEN_INFO_EF, TOKEN_INFO_LEN, TOKEN_LABEL_LEN};

/// ATR of a card that is not a My Number card: T=1, no historical bytes.
const OTHER_ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// 運転免許証 application, so the non-My-Number card has something on it.
const DRIVING_LICENCE_AID: [u8; 6] = [0xA0, 0x00, 0x00, 0x02, 0x31, 0x01];

/// End of the blank-padded text fields of `CK_TOKEN_INFO` (label, manufacturerID, model,
/// serialNumber); the integer fields after them are left zero.
const TOKEN_TEXT_END: usize = 96;

/// Physical size of the JPKI certificate EFs (zero filler after the DER).
const CERT_EF_SIZE: usize = 2048;

/// The 券面 APs' data EFs are filled with `FF` up to a multiple of this.
const FILLER_BLOCK: usize = 64;

/// DigestInfo prefix of the card-face signature: SHA-256 OID with a 96-byte "hash" (three
/// SHA-256 values).
const CARD_FACE_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x71, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x60,
];

/// File IDs of the applications.
pub mod fid {
    /// JPKI AP.
    pub mod jpki {
        /// Certificate availability (3 bytes).
        pub const AVAILABILITY: u16 = 0x0008;
        pub use card_io::mynumber::jpki::{
            USER_AUTH_CA_EF as AUTH_CA_CERT, USER_AUTH_CERT_EF as AUTH_CERT,
            USER_AUTH_PIN_IEF as AUTH_PIN,
        };
        /// 利用者証明用秘密鍵.
        pub const AUTH_KEY: u16 = 0x0017;
    }
    /// 券面事項確認AP.
    pub mod kenmen {
        /// Age-verification record (生年月日 key).
        pub const BIRTH_RECORD: u16 = 0x0001;
        /// Card face (照合番号A or B).
        pub const CARD_FACE: u16 = 0x0002;
        /// AP basic information.
        pub const BASIC_INFO: u16 = 0x0003;
        /// Card-verifiable certificate.
        pub const CVC: u16 = 0x0004;
        /// My Number image (照合番号A only): FORBIDDEN.
        pub const MY_NUMBER_IMAGE: u16 = 0x0005;
        /// 16 × `FF`.
        pub const UNKNOWN: u16 = 0x0006;
        /// 生年月日 key.
        pub const BIRTH_KEY: u16 = 0x0011;
        /// 照合番号B.
        pub const PIN_B: u16 = 0x0012;
        /// 照合番号A: FORBIDDEN.
        pub const PIN_A: u16 = 0x0013;
    }
    /// 券面事項入力補助AP.
    pub mod hojo {
        /// My Number: FORBIDDEN.
        pub const MY_NUMBER: u16 = 0x0001;
        /// 基本4情報.
        pub const ATTRIBUTES: u16 = 0x0002;
        /// Integrity record.
        pub const INTEGRITY: u16 = 0x0003;
        /// Card-verifiable certificate.
        pub const CVC: u16 = 0x0004;
        /// AP basic information.
        pub const BASIC_INFO: u16 = 0x0005;
        /// 入力補助用 PIN.
        pub const PIN: u16 = 0x0011;
        /// Issued blocked.
        pub const BLOCKED: u16 = 0x0012;
        /// 照合番号A: FORBIDDEN.
        pub const PIN_A: u16 = 0x0014;
        /// 照合番号B.
        pub const PIN_B: u16 = 0x0015;
    }
}

/// The card of `profile`.
impl Profile {
    /// The card this profile describes, freshly issued (retry counters as in the profile).
    pub fn card(&self) -> VirtualCard {
        card(self)
    }
}

fn card(profile: &Profile) -> VirtualCard {
    let card = match (profile.card_type, &profile.holder) {
        (CardType::NotMyNumber, _) => {
            return VirtualCard::new(OTHER_ATR.to_vec())
                .with_application(Application::new(DRIVING_LICENCE_AID.to_vec()))
        }
        (CardType::Juki, _) => VirtualCard::new(VirtualCard::CONTACT_ATR.to_vec())
            .with_application(jpki(profile, label::JUKI_CARD)),
        // Only a profile edited in code lacks the holder: the 券面 APs need one.
        (CardType::MyNumber, None) => VirtualCard::new(VirtualCard::CONTACT_ATR.to_vec())
            .with_application(jpki(profile, label::MY_NUMBER_CARD)),
        (CardType::MyNumber, Some(holder)) => VirtualCard::new(VirtualCard::CONTACT_ATR.to_vec())
            .with_application(jpki(profile, label::MY_NUMBER_CARD))
            .with_application(kenmen(profile, holder))
            .with_application(hojo(profile, holder)),
    };
    card.with_quirks(profile.quirks)
}

/// A 160-byte token information with `label` (cut to 32 bytes) and blank text fields.
pub(crate) fn token_info(label: &str) -> Vec<u8> {
    let mut info = vec![0; TOKEN_INFO_LEN];
    info[..TOKEN_TEXT_END].fill(b' ');
    let label = &label.as_bytes()[..label.len().min(TOKEN_LABEL_LEN)];
    info[..label.len()].copy_from_slice(label);
    info
}

fn pin_ief(pin: Option<&str>, tries: crate::profile::Tries) -> Ief {
    match pin {
        Some(pin) => Ief::new(pin, tries.max, tries.left()),
        None => Ief::unset(),
    }
}

/// `data` followed by `byte` filler up to a multiple of [`FILLER_BLOCK`] (at least 2 bytes).
fn with_filler(mut data: Vec<u8>, byte: u8) -> Vec<u8> {
    let size = (data.len() + 2).div_ceil(FILLER_BLOCK) * FILLER_BLOCK;
    data.resize(size, byte);
    data
}

/// A certificate EF: the DER, then zero filler up to [`CERT_EF_SIZE`].
fn certificate_ef(mut der: Vec<u8>) -> Vec<u8> {
    der.resize(CERT_EF_SIZE.max(der.len() + 2), 0);
    der
}

/// The first half of `data` (a truncated file).
fn halved(mut data: Vec<u8>) -> Vec<u8> {
    data.truncate(data.len() / 2);
    data
}

fn jpki(profile: &Profile, token: &str) -> Application {
    use fid::jpki::*;
    let certificate = profile.certificate.clone().unwrap_or_default();
    let certificate = if profile.defects.truncated {
        halved(certificate)
    } else {
        certificate_ef(certificate)
    };
    let ca = certificate_ef(profile.ca_certificate.clone().unwrap_or_default());
    // First byte: 署名用 certificate (a face-auth card has none); second: 利用者証明用.
    let availability = match profile.pin {
        Some(_) => vec![0x8F, 0x8F, 0x00],
        None => vec![0x00, 0x8F, 0x00],
    };
    let mut app = Application::new(aid::JPKI.to_vec())
        .with_binary(TOKEN_INFO_EF, token_info(token))
        .with_binary(AVAILABILITY, availability)
        .with_binary(AUTH_CERT, certificate)
        .with_binary(AUTH_CA_CERT, ca)
        .with_ief(
            AUTH_PIN,
            pin_ief(profile.pin.as_deref(), profile.retries.pin),
        );
    if let Some(key) = &profile.auth_key {
        app = app.with_key(AUTH_KEY, key.clone(), Access::AnyOf(vec![AUTH_PIN]));
    }
    app
}

/// `tag { content, sig_tag <PKCS#1 v1.5 SHA-256 signature of content by key> }`.
fn signed_key_record(
    tag: [u8; 2],
    content: Vec<u8>,
    sig_tag: [u8; 2],
    key: &SigningKey,
) -> Vec<u8> {
    let signature = key.sign_sha256(&content);
    let mut value = content;
    value.extend(tlv::encode(&sig_tag, &signature));
    tlv::encode(&tag, &value)
}

fn kenmen(profile: &Profile, holder: &Holder) -> Application {
    use fid::kenmen::*;
    let ap_key = pki::kenmen_ap();
    let card_key = pki::card_encoding(&pki::card_key().public_key());
    let birth = holder.birth_date.yyyymmdd();

    let birth_record = signed_key_record(
        [0xFF, 0x10],
        [
            tlv::encode(&[0xDF, 0x11], birth.as_bytes()),
            tlv::encode(&[0xDF, 0x12], &card_key),
        ]
        .concat(),
        [0xDF, 0x13],
        &ap_key,
    );
    let my_number_image = signed_key_record(
        [0xFF, 0x40],
        [
            tlv::encode(&[0xDF, 0x41], &images::text_png(&holder.my_number)),
            tlv::encode(&[0xDF, 0x42], &card_key),
        ]
        .concat(),
        [0xDF, 0x43],
        &ap_key,
    );
    let mut key_block = key_id::KENMEN_AP.to_vec();
    key_block.extend(std::iter::repeat_n(0x5A, RSA_LEN));
    let basic_info = tlv::encode(
        &[0xFF, 0x30],
        &[
            tlv::encode(&[0xDF, 0x31], &[0x06, 0x03, 0x0E, 0x01]),
            tlv::encode(&[0xDF, 0x32], &key_id::KENMEN_AP),
            tlv::encode(&[0xDF, 0x33], &[0x01]),
            tlv::encode(&[0xDF, 0x34], holder.municipality.as_bytes()),
            tlv::encode(&[0xDF, 0x35], &key_block),
        ]
        .concat(),
    );
    let face = card_face(profile, holder, &card_key, &ap_key);
    let face = if profile.defects.truncated {
        halved(face)
    } else {
        with_filler(face, 0xFF)
    };
    let by_pin_b_or_a = Access::AnyOf(vec![PIN_B, PIN_A]);
    let tries = profile.retries;
    Application::new(aid::KENMEN_KAKUNIN.to_vec())
        .with_protected_binary(
            BIRTH_RECORD,
            with_filler(birth_record, 0xFF),
            Access::AnyOf(vec![BIRTH_KEY]),
        )
        .with_protected_binary(CARD_FACE, face, by_pin_b_or_a)
        .with_binary(BASIC_INFO, with_filler(basic_info, 0xFF))
        .with_binary(
            CVC,
            pki::card_verifiable_certificate(key_id::KENMEN_CA, key_id::KENMEN_AP, &ap_key),
        )
        .with_protected_binary(
            MY_NUMBER_IMAGE,
            with_filler(my_number_image, 0xFF),
            Access::AnyOf(vec![PIN_A]),
        )
        .with_binary(UNKNOWN, vec![0xFF; 16])
        .with_ief(
            BIRTH_KEY,
            Ief::new(&profile.birth_key, tries.birth.max, tries.birth.left()),
        )
        .with_ief(
            PIN_B,
            Ief::new(&profile.pin_b, tries.pin_b.max, tries.pin_b.left()),
        )
        .with_ief(
            PIN_A,
            Ief::new(&holder.my_number, tries.pin_a.max, tries.pin_a.left()),
        )
        .with_self_signing_key(pki::card_key())
        .forbidden(MY_NUMBER_IMAGE)
        .forbidden(PIN_A)
}

/// 券面AP EF 0002: `FF 20 { DF21 offsets×9, DF22 birth, DF23 sex, DF24 card key, DF25 name
/// image, DF26 address image, DF27 photo, DF28 signature, DF29 expiry, DF2A code image }`.
fn card_face(profile: &Profile, holder: &Holder, card_key: &[u8], ap_key: &SigningKey) -> Vec<u8> {
    let field = |tag: u8, value: &[u8]| tlv::encode(&[0xDF, tag], value);
    let identity = [
        field(0x22, holder.birth_date.yyyymmdd().as_bytes()),
        field(0x23, &[b'0' + holder.sex]),
        field(0x24, card_key),
    ];
    let images = [
        field(0x25, &images::text_png(&holder.name)),
        field(0x26, &images::text_png(&holder.address)),
    ];
    let photo = field(0x27, profile.photo.as_deref().unwrap_or_default());
    let mut digest_info = CARD_FACE_DIGEST_INFO_PREFIX.to_vec();
    for group in [identity.concat(), images.concat(), photo.clone()] {
        digest_info.extend_from_slice(digest(&SHA256, &group).as_ref());
    }
    let signature = ap_key.sign_raw(&digest_info).unwrap_or_default();
    let mut fields: Vec<Vec<u8>> = identity.into_iter().chain(images).collect();
    fields.push(photo);
    fields.push(field(0x28, &signature));
    fields.push(field(0x29, holder.card_expiry.yyyymmdd().as_bytes()));
    fields.push(field(0x2A, &images::text_png(&holder.security_code)));
    let mut record = tlv::with_offset_table(&[0xFF, 0x20], &fields);
    if profile.defects.corrupt_tlv {
        corrupt_photo_length(&mut record);
    }
    record
}

/// Makes the DF27 length claim the largest value its length form allows, beyond the record.
fn corrupt_photo_length(record: &mut [u8]) {
    // The offset table starts after the outer header and `DF 21 12`; DF27 is the 6th entry.
    let header = 2 + match record[2] {
        0x82 => 3,
        0x81 => 2,
        _ => 1,
    };
    let entry = header + 3 + 2 * 5;
    let at = usize::from(u16::from_be_bytes([record[entry], record[entry + 1]])) + 2;
    match record[at] {
        0x82 => record[at + 1..at + 3].copy_from_slice(&[0xFF, 0xFF]),
        0x81 => record[at + 1] = 0xFF,
        _ => record[at] = 0x7F,
    }
}

fn hojo(profile: &Profile, holder: &Holder) -> Application {
    use fid::hojo::*;
    let ap_key = pki::hojo_ap();
    let mut my_number = tlv::encode(&[0xFF, 0x10], holder.my_number.as_bytes());
    my_number.extend_from_slice(&[0xFF, 0xFF]);
    let fields = [
        tlv::encode(&[0xDF, 0x22], holder.name.as_bytes()),
        tlv::encode(&[0xDF, 0x23], holder.address.as_bytes()),
        tlv::encode(&[0xDF, 0x24], holder.birth_date.yyyymmdd().as_bytes()),
        tlv::encode(&[0xDF, 0x25], &[b'0' + holder.sex]),
    ];
    let attributes = tlv::with_offset_table(&[0xFF, 0x20], &fields);
    let integrity = signed_key_record(
        [0xFF, 0x30],
        [
            tlv::encode(&[0xDF, 0x31], digest(&SHA256, &my_number).as_ref()),
            tlv::encode(&[0xDF, 0x32], digest(&SHA256, &fields.concat()).as_ref()),
        ]
        .concat(),
        [0xDF, 0x33],
        &ap_key,
    );
    let mut unidentified = vec![0x33; 32];
    unidentified.resize(128, 0xFF);
    let basic_info = tlv::encode(
        &[0xFF, 0x40],
        &[
            tlv::encode(&[0xDF, 0x41], &[0x01, 0x03, 0x0E, 0x01]),
            tlv::encode(&[0xDF, 0x42], &key_id::HOJO_INFO),
            tlv::encode(&[0xDF, 0x43], &unidentified),
        ]
        .concat(),
    );
    let tries = profile.retries;
    let pin = profile.pin.as_deref();
    Application::new(aid::KENMEN_NYURYOKU_HOJO.to_vec())
        .with_protected_binary(MY_NUMBER, my_number, Access::AnyOf(vec![PIN, PIN_A]))
        .with_protected_binary(
            ATTRIBUTES,
            with_filler(attributes, 0xFF),
            Access::AnyOf(vec![PIN, PIN_B]),
        )
        .with_protected_binary(INTEGRITY, integrity, Access::AnyOf(vec![PIN, PIN_A, PIN_B]))
        .with_binary(
            CVC,
            pki::card_verifiable_certificate(key_id::HOJO_CA, key_id::HOJO_AP, &ap_key),
        )
        .with_binary(BASIC_INFO, with_filler(basic_info, 0xFF))
        .with_ief(PIN, pin_ief(pin, tries.support_pin))
        .with_ief(BLOCKED, Ief::new("0000", 0, 0))
        .with_ief(
            PIN_A,
            Ief::new(&holder.my_number, tries.pin_a.max, tries.pin_a.left()),
        )
        .with_ief(
            PIN_B,
            Ief::new(&profile.pin_b, tries.pin_b.max, tries.pin_b.left()),
        )
        .with_self_signing_key(pki::card_key())
        .forbidden(MY_NUMBER)
        .forbidden(PIN_A)
}
