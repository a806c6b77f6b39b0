//! **Simulator** of the My Number card, for development and tests only — not a real card and
//! nothing a kiosk runs in production. All keys, certificates and people in it are TEST data.
//!
//! [`VirtualCard`] models the chip as applications (DFs) holding data EFs, IEFs (PINs with
//! retry counters) and keys, and answers APDU bytes. [`Profile`] describes a card as a data file
//! (`card-sim/profiles/*.toml`). [`SimTransport`] talks to a card in-process;
//! [`vpcd::VpcdCard`] inserts it into a vpcd reader so that it goes through the real pcscd.
//! [`Fault`]s (removal, slowness, wrong status words) work with both.

#[cfg(test)]
mod behaviour_tests;
mod card;
mod date;
mod fault;
mod fixtures;
mod ief;
mod images;
pub mod layout;
pub mod pki;
mod presets;
mod profile;
mod sw;
mod tlv;
mod transport;
pub mod vpcd;

use std::path::PathBuf;

pub use card::{Access, Application, ForbiddenAccessCounter, Quirks, VirtualCard};
pub use date::{Calendar, Date};
pub use fault::{BadFault, Fault};
pub use ief::Ief;
pub use profile::{CardType, Defects, Holder, Profile, Retries, Tries};
pub use transport::{RemovalSwitch, SimTransport};

/// Why a simulated card could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No embedded profile has this name.
    #[error("no simulator profile {0:?} (see `card-sim --list`)")]
    UnknownProfile(String),
    /// A profile or fixture file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A profile file is malformed or inconsistent.
    #[error("simulator profile {profile:?}: {reason}")]
    Invalid {
        /// Profile name.
        profile: String,
        /// What is wrong.
        reason: String,
    },
    /// A key or certificate fixture is unusable.
    #[error("simulator fixture {name:?}: {reason}")]
    Fixture {
        /// Fixture path.
        name: String,
        /// What is wrong.
        reason: String,
    },
}
