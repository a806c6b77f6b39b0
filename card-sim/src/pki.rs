//! The simulator's **TEST-ONLY** public-key infrastructure: RSA-2048 keys, the test JPKI
//! user-authentication CA, and the card-verifiable-certificate (CVC) chain of the 券面 APs.
//!
//! Keys and certificates are committed under `card-sim/profiles/{keys,certs}` (made once by
//! `card-sim/profiles/make-fixtures.sh` with openssl) and embedded in the binary. None of them is
//! a J-LIS key; every issuer name says TEST. Key IDs use a private hierarchy whose leading digit
//! is 7 (J-LIS uses 5 for production and 6 for its test cards).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use ring::digest::{digest, SHA256};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};

use crate::fixtures;
use crate::SimError;
use card_io::mynumber::jpki::SHA256_DIGEST_INFO_PREFIX;
use card_io::mynumber::RsaPublicKey;

/// Size of an RSA-2048 signature or modulus.
pub(crate) const RSA_LEN: usize = 256;

/// Embedded key files of the chain shared by every profile.
mod key_file {
    pub const CVC_CA: &str = "keys/cvc-ca.pem";
    pub const KENMEN_AP: &str = "keys/kenmen-ap.pem";
    pub const HOJO_AP: &str = "keys/hojo-ap.pem";
    pub const CARD: &str = "keys/card-key.pem";
}

/// 16-byte key IDs (7 ASCII digits, `08 05`, 3 ASCII digits, 4 zero bytes) of the test chain.
pub mod key_id {
    /// Builds a key ID from its 7-digit number.
    pub const fn new(number: &[u8; 7]) -> [u8; 16] {
        let mut id = [0; 16];
        let mut i = 0;
        while i < 7 {
            id[i] = number[i];
            i += 1;
        }
        id[7] = 0x08;
        id[8] = 0x05;
        id[9] = b'0';
        id[10] = b'0';
        id[11] = b'1';
        id
    }
    /// The CVC CA as issuer of the 券面事項確認AP certificate.
    pub const KENMEN_CA: [u8; 16] = new(b"7000023");
    /// The 券面事項確認AP record-signing key (subject of its EF 0004).
    pub const KENMEN_AP: [u8; 16] = new(b"7000024");
    /// The CVC CA as issuer of the 入力補助AP certificate.
    pub const HOJO_CA: [u8; 16] = new(b"7000033");
    /// The 入力補助AP key named in its EF 0005 (not the EF 0004 subject, as on real cards).
    pub const HOJO_INFO: [u8; 16] = new(b"7000034");
    /// The 入力補助AP record-signing key (subject of its EF 0004).
    pub const HOJO_AP: [u8; 16] = new(b"7000035");
}

/// An RSA private key of the simulator (test key; `Debug` shows no key material).
#[derive(Clone)]
pub struct SigningKey(Arc<RsaPrivateKey>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(RSA-2048, test)")
    }
}

impl SigningKey {
    /// Parses a PKCS#8 PEM key (parsed keys are cached: parsing is slow in debug builds).
    pub(crate) fn from_pem(name: &str, pem: &[u8]) -> Result<Self, SimError> {
        static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, SigningKey>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(key) = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(pem)
        {
            return Ok(key.clone());
        }
        let invalid = |reason: String| SimError::Fixture {
            name: name.to_owned(),
            reason,
        };
        let text = std::str::from_utf8(pem).map_err(|err| invalid(err.to_string()))?;
        let key = RsaPrivateKey::from_pkcs8_pem(text).map_err(|err| invalid(err.to_string()))?;
        if key.size() != RSA_LEN {
            return Err(invalid(format!("{} bits, not 2048", key.size() * 8)));
        }
        let key = Self(Arc::new(key));
        cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(pem.to_vec(), key.clone());
        Ok(key)
    }

    /// An embedded key of the shared chain.
    fn embedded(name: &str) -> Self {
        // The embedded keys are checked by the tests of this module.
        Self::from_pem(name, fixtures::embedded(name).unwrap_or_default())
            .unwrap_or_else(|err| panic!("embedded simulator key: {err}"))
    }

    /// PKCS#1 v1.5 type-1 signature of `digest_info` as given (the card's `80 2A 00 xx`).
    /// `None` when the input is longer than 245 bytes.
    pub fn sign_raw(&self, digest_info: &[u8]) -> Option<Vec<u8>> {
        self.0
            .sign(Pkcs1v15Sign::new_unprefixed(), digest_info)
            .ok()
    }

    /// sha256WithRSAEncryption (PKCS#1 v1.5) over `message`.
    pub fn sign_sha256(&self, message: &[u8]) -> Vec<u8> {
        let info = sha256_digest_info(message);
        // A 51-byte DigestInfo always fits a 2048-bit key.
        self.sign_raw(&info).unwrap_or_default()
    }

    /// The public half.
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey {
            modulus: self.0.n().to_bytes_be(),
            exponent: self.0.e().to_bytes_be(),
        }
    }
}

/// DigestInfo of SHA-256(`message`).
fn sha256_digest_info(message: &[u8]) -> Vec<u8> {
    let mut info = SHA256_DIGEST_INFO_PREFIX.to_vec();
    info.extend_from_slice(digest(&SHA256, message).as_ref());
    info
}

/// The card's 265-byte encoding of a public key: `90 03 <e> 91 82 01 00 <n>`.
pub(crate) fn card_encoding(key: &RsaPublicKey) -> Vec<u8> {
    let mut out = vec![0x90, 0x03];
    let mut e = vec![0; 3usize.saturating_sub(key.exponent.len())];
    e.extend_from_slice(&key.exponent);
    out.extend_from_slice(&e[e.len() - 3..]);
    out.extend_from_slice(&[0x91, 0x82, 0x01, 0x00]);
    out.extend_from_slice(&key.modulus);
    out
}

/// DER of the TEST JPKI user-authentication CA certificate (self-signed): the trust anchor
/// that validates the user-authentication certificates of the simulator's profiles (except
/// `untrusted-issuer`).
pub fn test_trust_anchor_der() -> Vec<u8> {
    fixtures::embedded("certs/user-ca.der")
        .unwrap_or_default()
        .to_vec()
}

/// DER of the rogue TEST CA that issued the `untrusted-issuer` profile's certificate (same DN
/// shape, different key: it must not be trusted).
pub fn test_untrusted_ca_der() -> Vec<u8> {
    fixtures::embedded("certs/untrusted-ca.der")
        .unwrap_or_default()
        .to_vec()
}

/// TEST certificates for the checks of longer chains and of CA-ness (on no profile's card),
/// made by `make-fixtures.sh`. Leaves are valid 2025-06-01 → 2030-02-17, CAs 2023-07-16 →
/// 2033-07-15.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainFixture {
    /// CA issued by the test CA ([`test_trust_anchor_der`]), pathLenConstraint 0.
    IntermediateCa,
    /// CA issued by [`ChainFixture::IntermediateCa`] (which allows none below it).
    SubIntermediateCa,
    /// Issued by the test CA with basicConstraints cA=false (keyUsage keyCertSign all the same).
    NotACaIntermediate,
    /// Self-signed, basicConstraints cA=false, keyUsage digitalSignature only.
    NotACa,
    /// Self-signed, cA=true, but keyUsage cRLSign without keyCertSign.
    CaWithoutKeyCertSign,
    /// User-authentication certificate issued by [`ChainFixture::IntermediateCa`].
    LeafViaIntermediate,
    /// User-authentication certificate issued by [`ChainFixture::SubIntermediateCa`].
    LeafViaTwoIntermediates,
}

impl ChainFixture {
    /// The DER certificate.
    pub fn der(self) -> Vec<u8> {
        let path = match self {
            Self::IntermediateCa => "certs/intermediate-ca.der",
            Self::SubIntermediateCa => "certs/sub-intermediate-ca.der",
            Self::NotACaIntermediate => "certs/not-a-ca-intermediate.der",
            Self::NotACa => "certs/not-a-ca.der",
            Self::CaWithoutKeyCertSign => "certs/ca-without-keycertsign.der",
            Self::LeafViaIntermediate => "certs/auth-via-intermediate.der",
            Self::LeafViaTwoIntermediates => "certs/auth-via-two-intermediates.der",
        };
        fixtures::embedded(path).unwrap_or_default().to_vec()
    }
}

/// Public key of the TEST CVC CA: it signs EF 0004 (`7F 21`) of both 券面 APs, whose subject
/// keys sign the records (券面AP EF 0001/0002/0005, 入力補助AP EF 0003).
pub fn test_cvc_ca_public_key() -> RsaPublicKey {
    cvc_ca().public_key()
}

/// The CVC CA key.
pub(crate) fn cvc_ca() -> SigningKey {
    SigningKey::embedded(key_file::CVC_CA)
}

/// The 券面事項確認AP record-signing key.
pub(crate) fn kenmen_ap() -> SigningKey {
    SigningKey::embedded(key_file::KENMEN_AP)
}

/// The 入力補助AP record-signing key.
pub(crate) fn hojo_ap() -> SigningKey {
    SigningKey::embedded(key_file::HOJO_AP)
}

/// The card key published in the records and used for `80 2A 00 00` self-signatures.
pub(crate) fn card_key() -> SigningKey {
    SigningKey::embedded(key_file::CARD)
}

/// A card-verifiable certificate `7F 21 82 02 33 | 5F 4E 82 01 29 <body> | 5F 37 82 01 00
/// <sig>`: body = issuer key ID ‖ subject key ID ‖ subject key (265 bytes), signed by the CVC CA
/// with PKCS#1 v1.5 SHA-256. Cached: the chain is the same on every simulated card.
pub(crate) fn card_verifiable_certificate(
    issuer: [u8; 16],
    subject: [u8; 16],
    key: &SigningKey,
) -> Vec<u8> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, Vec<u8>>>> = OnceLock::new();
    let mut body = issuer.to_vec();
    body.extend_from_slice(&subject);
    body.extend_from_slice(&card_encoding(&key.public_key()));
    let cache = CACHE.get_or_init(Default::default);
    if let Some(cert) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&body)
    {
        return cert.clone();
    }
    let signature = cvc_ca().sign_sha256(&body);
    let cert = crate::tlv::encode(
        &[0x7F, 0x21],
        &[
            crate::tlv::encode(&[0x5F, 0x4E], &body),
            crate::tlv::encode(&[0x5F, 0x37], &signature),
        ]
        .concat(),
    );
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(body, cert.clone());
    cert
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_chain_keys_parse_and_differ() {
        let keys = [cvc_ca(), kenmen_ap(), hojo_ap(), card_key()];
        let moduli: std::collections::BTreeSet<_> =
            keys.iter().map(|k| k.public_key().modulus).collect();
        assert_eq!(moduli.len(), 4);
        assert_eq!(keys[0].public_key().exponent, [1, 0, 1]);
    }

    #[test]
    fn sha256_signatures_verify_with_ring() {
        let key = card_key();
        let signature = key.sign_sha256(b"challenge");
        assert_eq!(signature.len(), RSA_LEN);
        assert!(key.public_key().verifies_sha256(b"challenge", &signature));
        assert!(!key.public_key().verifies_sha256(b"other", &signature));
    }

    #[test]
    fn raw_signing_refuses_oversized_input() {
        assert!(card_key().sign_raw(&[0; 245]).is_some());
        assert!(card_key().sign_raw(&[0; 246]).is_none());
    }

    #[test]
    fn card_verifiable_certificate_has_the_spec_layout_and_verifies() {
        let cert = card_verifiable_certificate(key_id::KENMEN_CA, key_id::KENMEN_AP, &kenmen_ap());
        assert_eq!(cert.len(), 568);
        assert_eq!(
            cert[..10],
            [0x7F, 0x21, 0x82, 0x02, 0x33, 0x5F, 0x4E, 0x82, 0x01, 0x29]
        );
        let body = &cert[10..10 + 297];
        assert_eq!(body[..16], key_id::KENMEN_CA);
        assert_eq!(&body[..7], b"7000023", "private hierarchy, not 5/6");
        assert_eq!(body[16..32], key_id::KENMEN_AP);
        assert_eq!(body[32..], card_encoding(&kenmen_ap().public_key()));
        assert_eq!(cert[307..312], [0x5F, 0x37, 0x82, 0x01, 0x00]);
        assert!(test_cvc_ca_public_key().verifies_sha256(body, &cert[312..]));
    }

    #[test]
    fn public_key_card_encoding_is_265_bytes() {
        let encoded = card_encoding(&card_key().public_key());
        assert_eq!(encoded.len(), 265);
        assert_eq!(
            encoded[..9],
            [0x90, 0x03, 0x01, 0x00, 0x01, 0x91, 0x82, 0x01, 0x00]
        );
    }

    #[test]
    fn trust_anchors_are_distinct_der_certificates() {
        let ca = test_trust_anchor_der();
        let rogue = test_untrusted_ca_der();
        assert_eq!(ca[..2], [0x30, 0x82]);
        assert_eq!(
            usize::from(u16::from_be_bytes([ca[2], ca[3]])) + 4,
            ca.len()
        );
        assert_ne!(ca, rogue);
    }
}
