//! Status words the simulator answers beyond those named in card-io's `StatusWord`.

use card_io::apdu::StatusWord;

/// `6881`: logical channel not supported.
pub const CHANNEL_NOT_SUPPORTED: StatusWord = StatusWord::new(0x68, 0x81);
/// `6981`: command incompatible with the file structure.
pub const INCOMPATIBLE_FILE: StatusWord = StatusWord::new(0x69, 0x81);
/// `6985`: conditions of use not satisfied.
pub const CONDITIONS_NOT_SATISFIED: StatusWord = StatusWord::new(0x69, 0x85);

/// `63Cx`: verification failed or queried, `left` tries left.
pub const fn retries(left: u8) -> StatusWord {
    StatusWord::new(0x63, 0xC0 | (left & 0x0F))
}
