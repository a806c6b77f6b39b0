//! Ready-made virtual cards (shortcuts for the embedded profiles).

use crate::layout::token_info;
use crate::{Application, Profile, VirtualCard};
use card_io::mynumber::aid;
use card_io::mynumber::jpki::TOKEN_INFO_EF;

impl VirtualCard {
    /// Contact ATR of the My Number card: `3B E0 00 FF 81 31 FE 45 14`.
    pub const CONTACT_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

    /// The `normal` profile: a My Number card with PIN, photo and a valid certificate.
    pub fn my_number() -> Self {
        Self::embedded("normal")
    }

    /// The `juki` profile: a 住基カード (JPKI AP with token `JPKIAPICCTOKEN`).
    pub fn juki() -> Self {
        Self::embedded("juki")
    }

    /// The `not-my-number` profile: a card without the JPKI AP (selecting it answers `6A82`).
    pub fn not_my_number() -> Self {
        Self::embedded("not-my-number")
    }

    /// A card whose only application is a JPKI AP holding just the token information with
    /// `label` (for phone tokens and unknown labels).
    pub fn jpki_token(label: &str) -> Self {
        Self::new(Self::CONTACT_ATR.to_vec()).with_application(
            Application::new(aid::JPKI.to_vec()).with_binary(TOKEN_INFO_EF, token_info(label)),
        )
    }

    fn embedded(name: &str) -> Self {
        // The embedded profiles are loaded by the tests of `profile`.
        Profile::load(name)
            .unwrap_or_else(|err| panic!("embedded simulator profile: {err}"))
            .card()
    }
}
