//! Files and values of the JPKI AP (公的個人認証AP).

/// EF holding the token information: a 160-byte PKCS#11 `CK_TOKEN_INFO`. Readable without PIN.
pub const TOKEN_INFO_EF: u16 = 0x0006;

/// Size of the token information.
pub const TOKEN_INFO_LEN: usize = 160;

/// Size of the space-padded label at the start of the token information.
pub const TOKEN_LABEL_LEN: usize = 32;

/// Token labels (trimmed) and what they identify.
pub mod label {
    /// マイナンバーカード.
    pub const MY_NUMBER_CARD: &str = "JPKIAPICCTOKEN2";
    /// 住基カード (the predecessor card).
    pub const JUKI_CARD: &str = "JPKIAPICCTOKEN";
    /// Android スマホ用電子証明書.
    pub const ANDROID: &str = "JPKIAPGPSETOKEN";
    /// iPhone スマホ用電子証明書.
    pub const IPHONE: &str = "JPKIAPIOSTOKEN";
}

/// 利用者証明用電子証明書 (user-authentication certificate), readable without PIN.
pub const USER_AUTH_CERT_EF: u16 = 0x000A;
/// The CA certificate that issued it.
pub const USER_AUTH_CA_EF: u16 = 0x000B;
/// IEF of the 4-digit 利用者証明用 PIN.
pub const USER_AUTH_PIN_IEF: u16 = 0x0018;
/// Short EF id of the user-authentication private key (EF 0017), as the signature's P2.
const USER_AUTH_KEY_P2: u8 = 0x97;
/// DER prefix of a SHA-256 DigestInfo.
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
/// Bytes of the fresh challenge the card signs.
pub const CHALLENGE_LEN: usize = 32;

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

use super::pin::{self, Pin, RetryCounter, VerifyOutcome};
use super::{CardError, MyNumberCard};
use crate::apdu::{ins, Command};
use crate::transport::CardTransport;

/// The JPKI AP, selected. Selecting another DF (by taking the card session back) clears a
/// verified PIN.
pub struct JpkiAp<'a, T> {
    card: &'a mut MyNumberCard<T>,
}

/// A signature the card made over a fresh challenge, already checked against the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PossessionProof {
    /// The random challenge.
    pub challenge: [u8; CHALLENGE_LEN],
    /// RSA PKCS#1 v1.5 SHA-256 signature of the challenge by the user-auth key.
    pub signature: Vec<u8>,
}

impl<'a, T: CardTransport> JpkiAp<'a, T> {
    pub(crate) fn new(card: &'a mut MyNumberCard<T>) -> Self {
        Self { card }
    }

    /// The user-authentication certificate (DER).
    pub fn user_auth_certificate(&mut self) -> Result<Vec<u8>, CardError> {
        Ok(self.card.read_file(USER_AUTH_CERT_EF)?.to_vec())
    }

    /// The certificate of the CA that issued it (DER).
    pub fn ca_certificate(&mut self) -> Result<Vec<u8>, CardError> {
        Ok(self.card.read_file(USER_AUTH_CA_EF)?.to_vec())
    }

    /// Tries left on the PIN, spending none.
    pub fn pin_retries(&mut self) -> Result<RetryCounter, CardError> {
        pin::retries(
            self.card.transport(),
            USER_AUTH_PIN_IEF,
            "PIN retry counter",
        )
    }

    /// Presents the PIN once.
    pub fn verify_pin(&mut self, pin: &Pin) -> Result<VerifyOutcome, CardError> {
        pin::verify(
            self.card.transport(),
            USER_AUTH_PIN_IEF,
            pin.secret(),
            "VERIFY PIN",
        )
    }

    /// Has the card sign a fresh random challenge with the user-auth key (PIN verified first)
    /// and checks the signature against `certificate` (DER).
    pub fn prove_possession(&mut self, certificate: &[u8]) -> Result<PossessionProof, CardError> {
        let mut challenge = [0; CHALLENGE_LEN];
        SystemRandom::new()
            .fill(&mut challenge)
            .map_err(|_| CardError::Random)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, &challenge);
        let digest_info = [&SHA256_DIGEST_INFO_PREFIX[..], digest.as_ref()].concat();
        let cmd = Command::new(0x80, ins::SIGN, 0x00, USER_AUTH_KEY_P2)
            .with_data(digest_info)?
            .with_ne(256)?;
        let signature = super::expect_ok(self.card.transport(), &cmd, "SIGN")?
            .into_data()
            .to_vec();
        let key = crate::certificate::rsa_public_key(certificate).ok_or(CardError::BadSignature)?;
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
            .verify(&challenge, &signature)
            .map_err(|_| CardError::BadSignature)?;
        Ok(PossessionProof {
            challenge,
            signature,
        })
    }
}
