//! The card-verifiable certificate (`7F 21`) of the 券面 APs and RSA keys in the card's encoding.

use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use rsa::traits::SignatureScheme;

use super::tlv::{self, Field};
use super::RecordError;

/// Bytes of an RSA-2048 modulus and signature.
pub(crate) const RSA_LEN: usize = 256;
/// Bytes of a key id (証明者鍵ID / 被証明者鍵ID).
const KEY_ID_LEN: usize = 16;

/// An RSA public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    /// Modulus n, big-endian.
    pub modulus: Vec<u8>,
    /// Public exponent e, big-endian.
    pub exponent: Vec<u8>,
}

impl RsaPublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1) file, e.g.
    /// the CA key of the card-verifiable certificate chain.
    pub fn from_pem(text: &str) -> Option<Self> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_public_key_pem(text)
            .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(text))
            .ok()?;
        Some(Self {
            modulus: key.n().to_bytes_be(),
            exponent: key.e().to_bytes_be(),
        })
    }

    /// Parses the card encoding `90 03 <e> 91 82 01 00 <n>`.
    pub(crate) fn from_card(bytes: &[u8]) -> Result<Self, RecordError> {
        let fields = tlv::sequence(bytes, 0)?;
        let exponent = tlv::find(&fields, &[0x90]).ok_or(RecordError::MissingField(0x90))?;
        let modulus = tlv::find(&fields, &[0x91]).ok_or(RecordError::MissingField(0x91))?;
        if modulus.value.len() != RSA_LEN || exponent.value.is_empty() {
            return Err(RecordError::BadField(0x91));
        }
        Ok(Self {
            modulus: modulus.value.to_vec(),
            exponent: exponent.value.to_vec(),
        })
    }

    /// Whether `signature` is an RSA PKCS#1 v1.5 SHA-256 signature of `message`.
    pub fn verifies_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        RsaPublicKeyComponents {
            n: &self.modulus,
            e: &self.exponent,
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
        .is_ok()
    }

    /// Whether `signature` is an RSA PKCS#1 v1.5 signature of the DigestInfo `prefix ‖ hashed`
    /// (for DigestInfos ring does not know, such as the card face's 96-byte one).
    pub fn verifies_digest_info(&self, prefix: &[u8], hashed: &[u8], signature: &[u8]) -> bool {
        let Ok(key) = rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&self.modulus),
            rsa::BigUint::from_bytes_be(&self.exponent),
        ) else {
            return false;
        };
        let scheme = rsa::Pkcs1v15Sign {
            hash_len: Some(hashed.len()),
            prefix: prefix.into(),
        };
        scheme.verify(&key, hashed, signature).is_ok()
    }
}

/// The AP's card-verifiable certificate (EF 0004): the key that signs the card-face record,
/// certified by a CA whose key is not on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardVerifiableCertificate {
    /// 証明者鍵ID: the CA key that signed this certificate.
    pub issuer_key_id: [u8; KEY_ID_LEN],
    /// 被証明者鍵ID: the certified key.
    pub subject_key_id: [u8; KEY_ID_LEN],
    /// The certified key.
    pub public_key: RsaPublicKey,
    body: Vec<u8>,
    signature: Vec<u8>,
}

impl CardVerifiableCertificate {
    /// Parses `7F 21 { 5F 4E <body>, 5F 37 <signature> }`; filler after it is ignored.
    pub fn parse(file: &[u8]) -> Result<Self, RecordError> {
        let fields = tlv::fields(file, &[0x7F, 0x21])?;
        let value = |tag: &[u8], id: u8| -> Result<&Field<'_>, RecordError> {
            tlv::find(&fields, tag).ok_or(RecordError::MissingField(id))
        };
        let body = value(&[0x5F, 0x4E], 0x4E)?.value;
        let signature = value(&[0x5F, 0x37], 0x37)?.value;
        if signature.len() != RSA_LEN || body.len() < 2 * KEY_ID_LEN {
            return Err(RecordError::BadField(0x37));
        }
        let (ids, key) = body.split_at(2 * KEY_ID_LEN);
        let (issuer, subject) = ids.split_at(KEY_ID_LEN);
        Ok(Self {
            issuer_key_id: issuer.try_into().map_err(|_| RecordError::BadField(0x4E))?,
            subject_key_id: subject
                .try_into()
                .map_err(|_| RecordError::BadField(0x4E))?,
            public_key: RsaPublicKey::from_card(key).map_err(|_| RecordError::BadField(0x4E))?,
            body: body.to_vec(),
            signature: signature.to_vec(),
        })
    }

    /// Whether the CA key `ca` signed this certificate (PKCS#1 v1.5 SHA-256 over the body).
    pub fn is_signed_by(&self, ca: &RsaPublicKey) -> bool {
        ca.verifies_sha256(&self.body, &self.signature)
    }
}
