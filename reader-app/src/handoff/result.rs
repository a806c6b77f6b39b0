//! The verification result handed to the reception system: versioned JSON, documented in
//! `docs/handoff.md`. It holds the certificate and scores, never the My Number or an image.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the JSON schema; receivers reject versions they do not know. 2: `proxy`,
/// `register` (and its own idempotency key), face `liveness` and real `attempts`.
pub const SCHEMA_VERSION: u32 = 2;

/// How long the patient's consent lets staff view the data.
pub const CONSENT_VALIDITY_HOURS: i64 = 24;

/// One patient session; its id is also the result's idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(Uuid);

impl SessionId {
    /// A fresh random (v4) session id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The current time, to the millisecond, as results and audit lines record it.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A verified patient, as delivered to the reception system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationResult {
    pub schema_version: u32,
    /// `session_id`, or `<session_id>-register` for the registration request that may
    /// follow: the receiver keeps the first result per key and acknowledges repeats without
    /// processing them again.
    pub idempotency_key: String,
    pub session_id: SessionId,
    pub kiosk_id: String,
    /// A sample sent by `mynakiosk outbox send-test`, not a patient.
    pub test: bool,
    pub session_started_at: DateTime<Utc>,
    pub verified_at: DateTime<Utc>,
    /// When the result was built and queued.
    pub created_at: DateTime<Utc>,
    pub certificate: Certificate,
    #[serde(flatten)]
    pub evidence: Evidence,
    pub consent: Consent,
    /// 代理で操作: a parent or carer operated the kiosk for the card holder.
    pub proxy: bool,
    /// 初回利用登録: the card is not registered for health-insurance use, the kiosk offered the
    /// registration and the patient asked for it. Such a result follows the session's first
    /// one, with its own idempotency key.
    pub register: bool,
}

/// The card's user-authentication certificate (利用者証明用電子証明書).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// The whole certificate, DER, base64 (standard alphabet, padded).
    pub der_base64: String,
    /// Serial number, lower-case hex: what links the card to the insurance record.
    pub serial: String,
    /// Issuer distinguished name, RFC 4514 text.
    pub issuer: String,
    pub not_after: DateTime<Utc>,
}

impl Certificate {
    /// `der` is the certificate as read from the card; the other fields are parsed from it.
    pub fn new(der: &[u8], serial: &[u8], issuer: String, not_after: DateTime<Utc>) -> Self {
        Self {
            der_base64: BASE64.encode(der),
            serial: serial.iter().map(|b| format!("{b:02x}")).collect(),
            issuer,
            not_after,
        }
    }
}

/// How the patient was verified, with the method's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "evidence", rename_all = "lowercase")]
pub enum Evidence {
    /// Live face matched against the chip photo (scores only, never pixels).
    Face(FaceEvidence),
    /// PIN verified by the card, which then signed a fresh challenge.
    Pin(PinEvidence),
    /// Staff compared the patient with the card face (目視確認).
    Visual(VisualEvidence),
}

impl Evidence {
    /// `face`, `pin` or `visual`, as in the JSON.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Face(_) => "face",
            Self::Pin(_) => "pin",
            Self::Visual(_) => "visual",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceEvidence {
    /// Cosine similarity of the live face and the chip photo (SFace).
    pub match_score: f32,
    /// The threshold in force (`face.match_threshold`).
    pub match_threshold: f32,
    /// Whether the active liveness challenge ran.
    pub liveness: Liveness,
    /// Capture attempts used, including the successful one.
    pub attempts: u32,
}

/// The active liveness check of a face result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liveness {
    /// The patient met the challenge (turn, come closer …).
    Passed,
    /// Not run: switched off by the configuration (allowed in demo mode only).
    NotRun,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinEvidence {
    /// The fresh challenge the card signed, base64.
    pub challenge_base64: String,
    /// The card's signature with the user-authentication key, base64.
    pub signature_base64: String,
    /// Signature scheme, e.g. `rsa-pkcs1-sha256`.
    pub signature_algorithm: String,
}

impl PinEvidence {
    pub fn new(challenge: &[u8], signature: &[u8], signature_algorithm: &str) -> Self {
        Self {
            challenge_base64: BASE64.encode(challenge),
            signature_base64: BASE64.encode(signature),
            signature_algorithm: signature_algorithm.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisualEvidence {
    /// The staff member who confirmed (their staff id, not a name).
    pub operator_id: String,
    pub reason: VisualReason,
}

/// Why staff verified by sight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisualReason {
    /// 顔認証不可
    FaceNotPossible,
    /// 暗証番号ロック
    PinLocked,
    /// 本人意識なし等で操作できない
    PatientCannotOperate,
    /// その他
    Other,
}

/// The patient's answers on the consent screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    pub answered_at: DateTime<Utc>,
    /// Staff may view the consented data until then (24 h).
    pub valid_until: DateTime<Utc>,
    /// 包括同意: one tap for every item shown.
    pub comprehensive: bool,
    /// Per item: `true` consented, `false` declined, `null` not shown by this facility.
    pub items: ConsentItems,
}

/// The consent items (which ones are shown is a facility setting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentItems {
    /// 薬剤情報
    pub medication: Option<bool>,
    /// 特定健診情報
    pub health_checkup: Option<bool>,
    /// 診療情報
    pub medical_care: Option<bool>,
    /// 手術情報
    pub surgery: Option<bool>,
}

impl Consent {
    /// Answers given at `answered_at`; valid for [`CONSENT_VALIDITY_HOURS`].
    pub fn new(answered_at: DateTime<Utc>, comprehensive: bool, items: ConsentItems) -> Self {
        Self {
            answered_at,
            valid_until: answered_at + Duration::hours(CONSENT_VALIDITY_HOURS),
            comprehensive,
            items,
        }
    }
}

/// What identifies the session a result belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub kiosk_id: String,
    pub session_id: SessionId,
    pub started_at: DateTime<Utc>,
}

impl VerificationResult {
    /// A result for a patient verified at `verified_at`.
    pub fn new(
        session: &SessionInfo,
        verified_at: DateTime<Utc>,
        certificate: Certificate,
        evidence: Evidence,
        consent: Consent,
    ) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            idempotency_key: session.session_id.to_string(),
            session_id: session.session_id,
            kiosk_id: session.kiosk_id.clone(),
            test: false,
            session_started_at: session.started_at,
            verified_at,
            created_at: now(),
            certificate,
            evidence,
            consent,
            proxy: false,
            register: false,
        }
    }

    /// The follow-up result asking for 初回利用登録: `register` set, under its own key.
    pub fn requesting_registration(mut self) -> Self {
        self.register = true;
        self.idempotency_key = format!("{}-register", self.session_id);
        self
    }

    /// The compact, single-line JSON that is queued and sent.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs into memory cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl super::Outgoing for VerificationResult {
    fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }

    fn to_json(&self) -> Vec<u8> {
        VerificationResult::to_json(self)
    }
}
