//! **Simulator** of the My Number card, for development and tests only — not a real card and
//! nothing a kiosk runs in production.
//!
//! [`VirtualCard`] models the chip as applications (DFs) holding EFs and answers APDU bytes.
//! [`SimTransport`] talks to it in-process; [`vpcd::VpcdCard`] inserts it into a vpcd reader so
//! that it goes through the real pcscd.

mod card;
mod profiles;
mod transport;
pub mod vpcd;

pub use card::{Application, VirtualCard};
pub use transport::{RemovalSwitch, SimTransport};
