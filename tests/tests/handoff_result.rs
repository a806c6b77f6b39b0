//! The verification result as the reception system receives it: the documented schema, and
//! never the My Number or an image — checked by scanning the serialised JSON.

use mynakiosk::handoff::outbox::{Outbox, OutboxError};
use mynakiosk::handoff::privacy::PrivacyViolation;
use mynakiosk::handoff::result::{
    now, Certificate, Consent, ConsentItems, Evidence, FaceEvidence, Liveness, PinEvidence,
    SessionId, SessionInfo, VerificationResult, VisualEvidence, VisualReason,
};
use mynakiosk::handoff::staff_call::{self, StaffCall};
use std::path::Path;

/// Pseudo-random bytes (xorshift), standing in for a certificate or a signature.
fn bytes(n: usize, mut seed: u32) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        })
        .collect()
}

fn result(evidence: Evidence) -> VerificationResult {
    let started = now();
    let session = SessionInfo {
        kiosk_id: "reception-2".into(),
        session_id: SessionId::new(),
        started_at: started,
    };
    let mut der = vec![0x30, 0x82, 0x05, 0x10];
    der.extend(bytes(1300, 7));
    let certificate = Certificate::new(
        &der,
        &[0x01, 0x23, 0x45, 0x67, 0x89],
        "OU=Japan Agency for Local Authority Information Systems,O=JPKI,C=JP".into(),
        started + chrono_days(900),
    );
    let items = ConsentItems {
        medication: Some(true),
        health_checkup: Some(true),
        medical_care: Some(false),
        surgery: None,
    };
    let consent = Consent::new(started, false, items);
    VerificationResult::new(&session, started, certificate, evidence, consent)
}

fn chrono_days(days: i64) -> chrono::Duration {
    chrono::Duration::days(days)
}

fn all_methods() -> Vec<VerificationResult> {
    vec![
        result(Evidence::Face(FaceEvidence {
            match_score: 0.58,
            match_threshold: 0.42,
            liveness: Liveness::Passed,
            attempts: 2,
        })),
        result(Evidence::Pin(PinEvidence::new(
            &bytes(32, 3),
            &bytes(256, 5),
            "rsa-pkcs1-sha256",
        ))),
        result(Evidence::Visual(VisualEvidence {
            operator_id: "staff-03".into(),
            reason: VisualReason::PinLocked,
        })),
    ]
}

/// Base64 openings of JPEG, JPEG 2000 (file and codestream) and PNG data.
const IMAGE_BASE64_PREFIXES: &[&str] = &["/9j/", "AAAADGpQ", "/0//U", "iVBOR"];

/// Scans the JSON text of a result independently of the kiosk's own check.
fn assert_private(json: &str) {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    scan("", &value, json);
}

fn scan(key: &str, value: &serde_json::Value, json: &str) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let lower = k.to_lowercase();
                for word in [
                    "number",
                    "photo",
                    "image",
                    "pixel",
                    "embedding",
                    "face_data",
                ] {
                    assert!(!lower.contains(word), "field {k} in {json}");
                }
                scan(k, v, json);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| scan(key, v, json)),
        serde_json::Value::String(s) if key.ends_with("_base64") => {
            for prefix in IMAGE_BASE64_PREFIXES {
                assert!(!s.starts_with(prefix), "{key} holds an image: {json}");
            }
        }
        serde_json::Value::String(s)
            if !["session_id", "idempotency_key", "serial"].contains(&key) =>
        {
            let longest = s.split(|c: char| !c.is_ascii_digit()).map(str::len).max();
            assert!(longest < Some(12), "{key} = {s:?} looks like a My Number");
        }
        _ => {}
    }
}

#[test]
fn results_of_every_method_follow_the_schema() {
    for r in all_methods() {
        let json = String::from_utf8(r.to_json()).unwrap();
        assert!(!json.contains('\n'), "one line per result");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(
            (&v["proxy"], &v["register"]),
            (&false.into(), &false.into())
        );
        assert_eq!(v["idempotency_key"], v["session_id"]);
        assert_eq!(v["method"], r.evidence.method());
        assert_eq!(v["certificate"]["serial"], "0123456789");
        for t in ["session_started_at", "verified_at", "created_at"] {
            let text = v[t].as_str().unwrap();
            chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
        let answered =
            chrono::DateTime::parse_from_rfc3339(v["consent"]["answered_at"].as_str().unwrap())
                .unwrap();
        let until =
            chrono::DateTime::parse_from_rfc3339(v["consent"]["valid_until"].as_str().unwrap())
                .unwrap();
        assert_eq!(until - answered, chrono::Duration::hours(24));
        assert_eq!(v["consent"]["items"]["surgery"], serde_json::Value::Null);
        let back: VerificationResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_private(&json);
    }
}

#[test]
fn outbox_refuses_a_my_number_or_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::create(dir.path()).unwrap();
    let mut r = all_methods().remove(2);
    if let Evidence::Visual(v) = &mut r.evidence {
        v.operator_id = "123456789012".into();
    }
    let err = outbox.enqueue(&r).unwrap_err();
    assert!(
        matches!(&err, OutboxError::Privacy(PrivacyViolation::DigitRun(k)) if k == "operator_id"),
        "{err}"
    );
    let mut r = all_methods().remove(1);
    if let Evidence::Pin(p) = &mut r.evidence {
        *p = PinEvidence::new(b"\xff\xd8\xff\xe0\x00\x10JFIF", b"sig", "rsa-pkcs1-sha256");
    }
    let err = outbox.enqueue(&r).unwrap_err();
    assert!(
        matches!(err, OutboxError::Privacy(PrivacyViolation::Image(_))),
        "{err}"
    );
    assert_eq!(
        outbox.counts().unwrap(),
        (0, 0),
        "nothing refused reaches the disk"
    );
}

#[test]
fn queued_files_hold_exactly_the_result_once_per_session() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::create(dir.path()).unwrap();
    let results = all_methods();
    for r in &results {
        outbox.enqueue(r).unwrap();
        outbox.enqueue(r).unwrap();
    }
    let queued = outbox.pending().unwrap();
    assert_eq!(queued.len(), 3);
    for (q, r) in queued.iter().zip(&results) {
        assert_eq!(q.key, r.idempotency_key);
        assert_eq!(q.body, r.to_json());
        assert_private(std::str::from_utf8(&q.body).unwrap());
    }
}

#[test]
fn a_registration_request_is_queued_after_the_sessions_result() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::create(dir.path()).unwrap();
    let first = all_methods().remove(1);
    let follow_up = first.clone().requesting_registration();
    outbox.enqueue(&first).unwrap();
    outbox.enqueue(&follow_up).unwrap();
    let queued = outbox.pending().unwrap();
    assert_eq!(queued.len(), 2, "not deduplicated as a repeat");
    assert_eq!(queued[1].key, format!("{}-register", first.session_id));
    let v: serde_json::Value = serde_json::from_slice(&queued[1].body).unwrap();
    assert_eq!(
        (&v["session_id"], &v["register"]),
        (&first.session_id.to_string().into(), &true.into())
    );
    assert_private(std::str::from_utf8(&queued[1].body).unwrap());
}

#[test]
fn documented_examples_are_valid_results() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples");
    let mut methods = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.ends_with("staff-call.json") {
            continue;
        }
        let json = std::fs::read_to_string(&path).unwrap();
        let r: VerificationResult =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_private(&json);
        assert_eq!(r.schema_version, mynakiosk::handoff::result::SCHEMA_VERSION);
        let key = if r.register {
            format!("{}-register", r.session_id)
        } else {
            r.session_id.to_string()
        };
        assert_eq!(r.idempotency_key, key, "{}", path.display());
        methods.push((r.evidence.method(), r.proxy, r.register));
    }
    methods.sort();
    assert_eq!(
        methods,
        [
            ("face", false, false),
            ("pin", false, true),
            ("pin", true, false),
            ("visual", false, false)
        ]
    );
}

#[test]
fn documented_staff_call_is_valid_and_private() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/staff-call.json");
    let json = std::fs::read_to_string(path).unwrap();
    let call: StaffCall = serde_json::from_str(&json).unwrap();
    assert_eq!(call.event, staff_call::EVENT);
    assert_eq!(call.schema_version, staff_call::SCHEMA_VERSION);
    assert!(call.idempotency_key.starts_with("staff-call-"));
    assert_private(&json);
}
