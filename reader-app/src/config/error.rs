//! Configuration errors that name the file, the line and the key, and never echo a long value.

use std::fmt;
use std::path::PathBuf;

use crate::setting::{shortened, Invalid};

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
        refusal: crate::capped_file::Refusal,
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

/// `invalid`, with the line of its key in `text`.
pub(super) fn locate(invalid: Invalid, text: &str) -> ParseError {
    ParseError::Value(Located {
        line: line_of(text, invalid.key),
        key: invalid.key,
        expected: invalid.expected,
        found: invalid.found,
    })
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
