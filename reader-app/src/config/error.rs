//! Configuration errors that name the file, the line and the key, and never echo a long value.

use std::fmt;
use std::path::PathBuf;

/// Longest stretch of a configured value an error repeats.
const MAX_VALUE_CHARS: usize = 120;

/// Longest line of a parser message repeated (it quotes the line of the file, and lists the
/// keys a section takes).
const MAX_MESSAGE_LINE_CHARS: usize = 500;

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {refusal}")]
    Refused {
        path: PathBuf,
        refusal: super::file::Refusal,
    },
    #[error("config file {path}: {error}")]
    Invalid { path: PathBuf, error: ParseError },
}

/// Why configuration text was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not TOML, an unknown key or a value of the wrong type (the parser's message, which
    /// names line and column).
    #[error("{0}")]
    Syntax(String),
    /// A value of the right type that is still unacceptable.
    #[error("{0}")]
    Value(Located),
}

/// An unacceptable value, with the line that sets it (`None`: the key is not set, so its
/// default is what does not fit the other settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: Option<usize>,
    pub key: &'static str,
    pub expected: String,
    pub found: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            line,
            key,
            expected,
            found,
        } = self;
        match line {
            Some(line) => write!(
                f,
                "line {line}, key {key}: expected {expected}, found {found}"
            ),
            None => write!(
                f,
                "key {key} (not set, default): expected {expected}, found {found}"
            ),
        }
    }
}

impl ParseError {
    /// The parser's message, each line cut to a readable length.
    pub(super) fn syntax(message: &str) -> Self {
        let lines: Vec<String> = message
            .lines()
            .map(|line| shortened(line, MAX_MESSAGE_LINE_CHARS))
            .collect();
        Self::Syntax(lines.join("\n"))
    }
}

/// A value of the right type that is still unacceptable, before its line is known.
#[derive(Debug)]
pub struct Invalid {
    key: &'static str,
    expected: String,
    found: String,
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

    /// The error, with the line of the key in `text`.
    pub(super) fn locate(self, text: &str) -> ParseError {
        ParseError::Value(Located {
            line: line_of(text, self.key),
            key: self.key,
            expected: self.expected,
            found: self.found,
        })
    }
}

/// `text` cut to `max` characters, saying how long it was.
fn shortened(text: &str, max: usize) -> String {
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

/// The 1-based line where the dotted `key` is set in `text`.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let (k, item) = table.get_key_value(part)?;
        if parts.peek().is_none() {
            let span = k.span().or_else(|| item.span())?;
            return Some(text[..span.start].matches('\n').count() + 1);
        }
        table = item.as_table_like()?;
    }
    None
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
        let e = Invalid::new("kiosk_id", "short", &long).locate("");
        assert!(e.to_string().len() < 300, "{e}");
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
