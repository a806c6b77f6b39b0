//! A failure as a port reports it: the catalogue code, for the patient's screen and the
//! session, and the cause in the adapter's own words, for the staff screen and the log.
//! A cause never holds patient data: no digits entered or read, no pixels, no My Number.

use std::fmt;

use super::KioskError;

/// A catalogue error with the cause that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: KioskError,
    /// What the adapter saw, e.g. "card exchange failed: the PC/SC service is not running".
    pub cause: Option<String>,
}

impl Failure {
    /// `error`, caused by `cause` (the adapter's words, or the error of the layer below).
    pub fn new(error: KioskError, cause: impl fmt::Display) -> Self {
        Self {
            error,
            cause: Some(cause.to_string()),
        }
    }
}

/// A failure whose code says it all.
impl From<KioskError> for Failure {
    fn from(error: KioskError) -> Self {
        Self { error, cause: None }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.error.text();
        write!(f, "{} {}", text.code, text.staff)?;
        match &self.cause {
            Some(cause) => write!(f, " ({cause})"),
            None => Ok(()),
        }
    }
}
