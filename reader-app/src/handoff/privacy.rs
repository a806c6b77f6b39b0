//! The last check before a result is queued: no My Number, no image, no biometric field.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;

/// Field names that must never appear in a result.
const FORBIDDEN_KEYS: &[&str] = &[
    "my_number",
    "individual_number",
    "kojin_bango",
    "photo",
    "image",
    "pixels",
    "embedding",
    "pin",
    "pin_b",
];

/// Fields whose type makes them hex or a UUID, where digit runs are chance, not a My Number.
const HEX_KEYS: &[&str] = &["session_id", "idempotency_key", "serial"];

/// Leading bytes of the image formats a kiosk handles (JPEG, JPEG 2000 file and codestream, PNG).
const IMAGE_MAGIC: &[&[u8]] = &[
    b"\xff\xd8\xff",
    b"\x00\x00\x00\x0cjP  ",
    b"\xff\x4f\xff\x51",
    b"\x89PNG",
];

/// Length of a My Number (個人番号).
const MY_NUMBER_DIGITS: usize = 12;

/// A result that must not leave the kiosk.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrivacyViolation {
    #[error("field `{0}` is not allowed in a result")]
    ForbiddenField(String),
    #[error("field `{0}` holds a run of 12 or more digits (a My Number?)")]
    DigitRun(String),
    #[error("field `{0}` holds an image")]
    Image(String),
}

/// Checks a serialised result (or any JSON document).
pub fn check(json: &Value) -> Result<(), PrivacyViolation> {
    walk("", json)
}

fn walk(key: &str, value: &Value) -> Result<(), PrivacyViolation> {
    match value {
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            if FORBIDDEN_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                return Err(PrivacyViolation::ForbiddenField(k.clone()));
            }
            walk(k, v)
        }),
        Value::Array(items) => items.iter().try_for_each(|v| walk(key, v)),
        Value::String(s) if key.ends_with("_base64") => {
            let bytes = BASE64.decode(s).unwrap_or_default();
            if IMAGE_MAGIC.iter().any(|m| bytes.starts_with(m)) {
                return Err(PrivacyViolation::Image(key.into()));
            }
            Ok(())
        }
        Value::String(_) if HEX_KEYS.contains(&key) => Ok(()),
        Value::String(s) => digits(key, s),
        Value::Number(n) => digits(key, &n.to_string()),
        Value::Bool(_) | Value::Null => Ok(()),
    }
}

fn digits(key: &str, text: &str) -> Result<(), PrivacyViolation> {
    let longest = text
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if longest >= MY_NUMBER_DIGITS {
        return Err(PrivacyViolation::DigitRun(key.into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clean_document_passes() {
        let doc = json!({"serial": "0a1b2c", "verified_at": "2026-11-22T03:00:00.123Z",
                         "der_base64": BASE64.encode([0x30, 0x82, 0x01]), "score": 0.61});
        assert_eq!(check(&doc), Ok(()));
    }

    #[test]
    fn my_number_like_digits_are_refused_anywhere() {
        let doc = json!({"consent": {"note": "番号 123456789012"}});
        assert_eq!(check(&doc), Err(PrivacyViolation::DigitRun("note".into())));
        let doc = json!({"x": [1, 123456789012_u64]});
        assert_eq!(check(&doc), Err(PrivacyViolation::DigitRun("x".into())));
    }

    #[test]
    fn images_and_biometric_fields_are_refused() {
        let jpeg = BASE64.encode(b"\xff\xd8\xff\xe0rest");
        let doc = json!({"certificate": {"der_base64": jpeg}});
        assert_eq!(
            check(&doc),
            Err(PrivacyViolation::Image("der_base64".into()))
        );
        let doc = json!({"evidence": {"Embedding": [0.1, 0.2]}});
        assert_eq!(
            check(&doc),
            Err(PrivacyViolation::ForbiddenField("Embedding".into()))
        );
    }
}
