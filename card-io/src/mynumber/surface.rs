//! 券面事項確認AP: the card face, opened by 照合番号B, with the face photo.

use std::fmt;

use ring::digest::{digest, SHA256};
use zeroize::Zeroizing;

use super::cvc::{CardVerifiableCertificate, RsaPublicKey, RSA_LEN};
use super::pin::{self, PinB, RetryCounter, VerifyOutcome};
use super::tlv::{self, Field};
use super::{CardError, MyNumberCard, RecordError};
use crate::transport::CardTransport;

/// IEF of 照合番号B.
pub const PIN_B_IEF: u16 = 0x0012;
/// The card face record (opened by 照合番号B).
pub const CARD_FACE_EF: u16 = 0x0002;
/// The AP's card-verifiable certificate (free).
pub const CERTIFICATE_EF: u16 = 0x0004;

/// DigestInfo prefix of the card-face signature: SHA-256 OID with a 96-byte "digest" made of
/// three SHA-256 hashes.
const FACE_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x71, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x60,
];
/// JP2 container signature.
const JP2_MAGIC: [u8; 12] = [
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];
/// Start of a raw JPEG 2000 codestream (SOC + SIZ).
const J2K_MAGIC: [u8; 4] = [0xFF, 0x4F, 0xFF, 0x51];

/// The fields of the card face after the offset table, in file order.
const FIELD_TAGS: [u8; 9] = [0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A];

/// Sex as printed (ISO/IEC 5218 digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// `1`.
    Male,
    /// `2`.
    Female,
    /// `9`: 適用不能.
    NotApplicable,
    /// `0`: 不明.
    Unknown,
}

/// Whether the card-face record is signed by a key the configured CA certified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordVerdict {
    /// The certificate chains to the CA key and the record signature verifies.
    Valid,
    /// The AP certificate (EF 0004) is not signed by the configured CA key.
    UntrustedCertificate,
    /// The record signature does not verify with the certified key.
    BadSignature,
}

impl RecordVerdict {
    /// A stable identifier for JSON and logs.
    pub fn code(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::UntrustedCertificate => "untrusted-certificate",
            Self::BadSignature => "bad-signature",
        }
    }
}

/// The card face (EF 0002). Personal data: zeroized on drop, and `Debug` shows no values.
pub struct SurfaceRecord {
    /// 生年月日 `YYYYMMDD` (Gregorian).
    pub birth_date: Zeroizing<String>,
    /// 性別.
    pub sex: Sex,
    /// The card's 有効期限 `YYYYMMDD`.
    pub expiry: Zeroizing<String>,
    /// The card's own public key (for internal authentication).
    pub card_public_key: RsaPublicKey,
    /// 顔写真: JPEG 2000 bytes, `None` when the card holds no photo.
    pub photo: Option<Zeroizing<Vec<u8>>>,
    signature: Zeroizing<Vec<u8>>,
    signed_hashes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for SurfaceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SurfaceRecord(photo {} bytes)",
            self.photo.as_ref().map_or(0, |p| p.len())
        )
    }
}

impl SurfaceRecord {
    /// Parses the card face record at the start of `file` (filler after it is ignored).
    pub fn parse(file: &[u8]) -> Result<Self, RecordError> {
        let fields = tlv::fields(file, &[0xFF, 0x20])?;
        check_offsets(&fields)?;
        let field = |id: u8| tlv::find(&fields, &[0xDF, id]);
        let required = |id: u8| field(id).ok_or(RecordError::MissingField(id));
        let birth_date = date(required(0x22)?, 0x22)?;
        let sex = match required(0x23)?.value {
            b"1" => Sex::Male,
            b"2" => Sex::Female,
            b"9" => Sex::NotApplicable,
            b"0" => Sex::Unknown,
            _ => return Err(RecordError::BadField(0x23)),
        };
        let card_public_key = RsaPublicKey::from_card(required(0x24)?.value)
            .map_err(|_| RecordError::BadField(0x24))?;
        let photo = match field(0x27) {
            Some(f) if f.value.is_empty() => None,
            Some(f) if f.value.starts_with(&JP2_MAGIC) || f.value.starts_with(&J2K_MAGIC) => {
                Some(Zeroizing::new(f.value.to_vec()))
            }
            Some(_) => return Err(RecordError::BadField(0x27)),
            None => None,
        };
        let signature = Zeroizing::new(required(0x28)?.value.to_vec());
        if signature.len() != RSA_LEN {
            return Err(RecordError::BadField(0x28));
        }
        let expiry = date(required(0x29)?, 0x29)?;
        let group = |ids: &[u8]| {
            let group = || ids.iter().filter_map(|id| field(*id));
            // Sized up front: a growing Vec would leave copies behind in freed memory.
            let mut raw = Zeroizing::new(Vec::with_capacity(group().map(|f| f.raw.len()).sum()));
            group().for_each(|f| raw.extend_from_slice(f.raw));
            digest(&SHA256, &raw)
        };
        let mut signed_hashes = Zeroizing::new(Vec::with_capacity(96));
        for ids in [&[0x22, 0x23, 0x24][..], &[0x25, 0x26], &[0x27]] {
            signed_hashes.extend_from_slice(group(ids).as_ref());
        }
        Ok(Self {
            birth_date,
            sex,
            expiry,
            card_public_key,
            photo,
            signature,
            signed_hashes,
        })
    }

    /// Checks the record signature: `certificate` must be signed by `ca`, and the record by the
    /// key it certifies.
    pub fn verify(
        &self,
        certificate: &CardVerifiableCertificate,
        ca: &RsaPublicKey,
    ) -> RecordVerdict {
        if !certificate.is_signed_by(ca) {
            RecordVerdict::UntrustedCertificate
        } else if certificate.public_key.verifies_digest_info(
            &FACE_DIGEST_INFO_PREFIX,
            &self.signed_hashes,
            &self.signature,
        ) {
            RecordVerdict::Valid
        } else {
            RecordVerdict::BadSignature
        }
    }
}

/// The DF21 table must hold, in order, the offset of every following field.
fn check_offsets(fields: &[Field<'_>]) -> Result<(), RecordError> {
    let (table, rest) = fields
        .split_first()
        .ok_or(RecordError::MissingField(0x21))?;
    if table.tag != [0xDF, 0x21] {
        return Err(RecordError::MissingField(0x21));
    }
    if table.value.len() != 2 * rest.len()
        || rest.len() != FIELD_TAGS.len()
        || rest
            .iter()
            .zip(FIELD_TAGS)
            .any(|(f, id)| f.tag != [0xDF, id])
    {
        return Err(RecordError::BadOffsets);
    }
    let matches = table
        .value
        .chunks_exact(2)
        .zip(rest)
        .all(|(offset, f)| usize::from(u16::from_be_bytes([offset[0], offset[1]])) == f.offset);
    if matches {
        Ok(())
    } else {
        Err(RecordError::BadOffsets)
    }
}

/// An 8-digit `YYYYMMDD` date with a plausible month and day.
fn date(field: &Field<'_>, id: u8) -> Result<Zeroizing<String>, RecordError> {
    let text = Zeroizing::new(
        String::from_utf8(field.value.to_vec()).map_err(|_| RecordError::BadField(id))?,
    );
    let plausible = text.len() == 8
        && text.bytes().all(|b| b.is_ascii_digit())
        && matches!(text[4..6].parse::<u8>(), Ok(1..=12))
        && matches!(text[6..8].parse::<u8>(), Ok(1..=31));
    if plausible {
        Ok(text)
    } else {
        Err(RecordError::BadField(id))
    }
}

/// The 券面事項確認AP, selected.
pub struct SurfaceAp<'a, T> {
    card: &'a mut MyNumberCard<T>,
}

impl<'a, T: CardTransport> SurfaceAp<'a, T> {
    pub(crate) fn new(card: &'a mut MyNumberCard<T>) -> Self {
        Self { card }
    }

    /// Tries left on 照合番号B, spending none.
    pub fn pin_b_retries(&mut self) -> Result<RetryCounter, CardError> {
        pin::retries(self.card.transport(), PIN_B_IEF, "照合番号B retry counter")
    }

    /// Presents 照合番号B once.
    pub fn verify_pin_b(&mut self, pin_b: &PinB) -> Result<VerifyOutcome, CardError> {
        pin::verify(
            self.card.transport(),
            PIN_B_IEF,
            pin_b.secret(),
            "VERIFY 照合番号B",
        )
    }

    /// Reads and parses the card face (照合番号B verified first). The raw file is zeroized.
    pub fn read_record(&mut self) -> Result<SurfaceRecord, CardError> {
        let file = self.card.read_file(CARD_FACE_EF)?;
        Ok(SurfaceRecord::parse(&file)?)
    }

    /// Reads the AP's card-verifiable certificate (no credential needed).
    pub fn certificate(&mut self) -> Result<CardVerifiableCertificate, CardError> {
        let file = self.card.read_file(CERTIFICATE_EF)?;
        Ok(CardVerifiableCertificate::parse(&file)?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
        let mut out = tag.to_vec();
        match value.len() {
            n @ 0..=0x7F => out.push(n as u8),
            n @ 0x80..=0xFF => out.extend_from_slice(&[0x81, n as u8]),
            n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(value);
        out
    }

    /// RSA key in the card encoding with a fixed fake modulus.
    fn card_key() -> Vec<u8> {
        [tlv(&[0x90], &[1, 0, 1]), tlv(&[0x91], &[0xA5; 256])].concat()
    }

    /// A card-face file per §4.4, with `photo` in DF27 and `FF FF` filler.
    pub(crate) fn card_face(photo: &[u8]) -> Vec<u8> {
        let fields = [
            tlv(&[0xDF, 0x22], b"19800217"),
            tlv(&[0xDF, 0x23], b"2"),
            tlv(&[0xDF, 0x24], &card_key()),
            tlv(&[0xDF, 0x25], b"\x89PNG name"),
            tlv(&[0xDF, 0x26], b"\x89PNG address"),
            tlv(&[0xDF, 0x27], photo),
            tlv(&[0xDF, 0x28], &[0x5A; 256]),
            tlv(&[0xDF, 0x29], b"20350217"),
            tlv(&[0xDF, 0x2A], b"\x89PNG code"),
        ];
        let body_len: usize = 3 + 18 + fields.iter().map(Vec::len).sum::<usize>();
        let mut position = 2 + 3 + 3 + 18;
        let mut table = Vec::new();
        for f in &fields {
            table.extend_from_slice(&u16::try_from(position).unwrap().to_be_bytes());
            position += f.len();
        }
        let body = [tlv(&[0xDF, 0x21], &table), fields.concat()].concat();
        assert_eq!(body.len(), body_len);
        let mut file = tlv(&[0xFF, 0x20], &body);
        assert_eq!(file[2], 0x82, "test records use a 2-byte length");
        file.extend_from_slice(&[0xFF; 2]);
        file
    }

    pub(crate) fn jp2(len: usize) -> Vec<u8> {
        let mut photo = JP2_MAGIC.to_vec();
        photo.resize(len, 0x33);
        photo
    }

    #[test]
    fn a_well_formed_card_face_parses() {
        let record = SurfaceRecord::parse(&card_face(&jp2(3000))).unwrap();
        assert_eq!(*record.birth_date, "19800217");
        assert_eq!(record.sex, Sex::Female);
        assert_eq!(*record.expiry, "20350217");
        assert_eq!(record.card_public_key.exponent, [1, 0, 1]);
        assert_eq!(record.photo.as_ref().unwrap().len(), 3000);
        assert_eq!(format!("{record:?}"), "SurfaceRecord(photo 3000 bytes)");
    }

    #[test]
    fn an_empty_photo_field_means_no_photo() {
        assert!(SurfaceRecord::parse(&card_face(&[]))
            .unwrap()
            .photo
            .is_none());
    }

    #[test]
    fn a_photo_that_is_not_jpeg_2000_is_rejected() {
        assert_eq!(
            SurfaceRecord::parse(&card_face(b"\xFF\xD8\xFF\xE0 jpeg")).unwrap_err(),
            RecordError::BadField(0x27)
        );
    }

    #[test]
    fn a_wrong_offset_table_is_rejected() {
        let mut file = card_face(&jp2(500));
        // First offset (DF22) is at bytes 8..10 of the file.
        file[9] += 1;
        assert_eq!(
            SurfaceRecord::parse(&file).unwrap_err(),
            RecordError::BadOffsets
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let file = card_face(&jp2(500));
        let corrupt = |from: &[u8], to: &[u8]| {
            let at = file.windows(from.len()).position(|w| w == from).unwrap();
            let mut f = file.clone();
            f[at..at + to.len()].copy_from_slice(to);
            SurfaceRecord::parse(&f).unwrap_err()
        };
        assert_eq!(
            corrupt(b"19800217", b"1980021X"),
            RecordError::BadField(0x22)
        );
        assert_eq!(
            corrupt(b"20350217", b"20351317"),
            RecordError::BadField(0x29)
        );
        assert_eq!(
            corrupt(&[0xDF, 0x23, 0x01, b'2'], &[0xDF, 0x23, 0x01, b'7']),
            RecordError::BadField(0x23)
        );
    }

    #[test]
    fn truncation_anywhere_is_an_error_not_a_panic() {
        let file = card_face(&jp2(700));
        for len in 0..file.len() - 2 {
            assert!(SurfaceRecord::parse(&file[..len]).is_err(), "{len}");
        }
    }
}
