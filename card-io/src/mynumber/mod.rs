//! The My Number card (マイナンバーカード): its applications and what a reader does with them.

pub mod aid;
mod detect;
pub mod jpki;

pub use detect::{detect, CardKind};

use crate::apdu::{ApduError, StatusWord};
use crate::transport::TransportError;

/// Why a card operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The command could not be exchanged.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A command could not be built.
    #[error(transparent)]
    Apdu(#[from] ApduError),
    /// The card answered a step with an unexpected status word.
    #[error("{step} failed: status {sw}")]
    Status {
        /// What was being done, e.g. "SELECT JPKI AP".
        step: &'static str,
        /// The card's answer.
        sw: StatusWord,
    },
}
