//! A setting's value checked against its range: what every configuration section validates
//! with, and how a value is echoed back (cut when long, never with URL credentials).

use std::fmt;
use std::path::Path;

/// Longest stretch of a configured value an error repeats.
const MAX_VALUE_CHARS: usize = 120;

/// A value of the right type that is still unacceptable: the dotted key that sets it, what was
/// expected and what was found (cut when long, without URL credentials).
#[derive(Debug)]
pub struct Invalid {
    pub key: &'static str,
    pub expected: String,
    pub found: String,
}

impl Invalid {
    /// `found` is shortened when long, and has any URL credentials redacted.
    pub fn new(key: &'static str, expected: impl Into<String>, found: impl fmt::Display) -> Self {
        Self {
            key,
            expected: expected.into(),
            found: shortened(&redact_credentials(&found.to_string()), MAX_VALUE_CHARS),
        }
    }

    /// Checks that `value` lies within `range`.
    pub fn check_range<T>(
        key: &'static str,
        value: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<(), Self>
    where
        T: PartialOrd + fmt::Display,
    {
        if range.contains(&value) {
            Ok(())
        } else {
            let expected = format!("{} to {}", range.start(), range.end());
            Err(Self::new(key, expected, value))
        }
    }
}

/// `text` cut to `max` characters, saying how long it was.
pub(crate) fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}… ({} bytes in all)", &text[..end], text.len()),
    }
}

/// `text` with the user and password of every `scheme://user:pass@host` replaced by `***`.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (head, tail) = rest.split_at(start + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// `path` is absolute.
pub fn absolute(key: &'static str, path: &Path) -> Result<(), Invalid> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(Invalid::new(key, "an absolute path", format!("{path:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_and_their_length_said() {
        let long = "x".repeat(5000);
        let cut = shortened(&long, MAX_VALUE_CHARS);
        assert!(
            cut.len() < 200 && cut.ends_with("(5000 bytes in all)"),
            "{cut}"
        );
        assert_eq!(shortened("short", 3), "sho… (5 bytes in all)");
        let e = Invalid::new("kiosk_id", "short", &long);
        assert!(e.found.len() < 200, "{}", e.found);
    }
    #[test]
    fn url_credentials_are_redacted_wherever_they_stand() {
        assert_eq!(
            redact_credentials("http://user:pass@127.0.0.1:8750/results"),
            "http://***@127.0.0.1:8750/results"
        );
        assert_eq!(
            redact_credentials("a \"http://u:p@h/x\" and http://h/y?q=a@b"),
            "a \"http://***@h/x\" and http://h/y?q=a@b"
        );
        assert_eq!(redact_credentials("no url here"), "no url here");
    }
}
