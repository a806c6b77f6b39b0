//! Application identifiers (DF names) of the applications on the card.

/// 公的個人認証AP (JPKI AP): certificates, keys and the token information EF.
pub const JPKI: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];

/// 券面事項確認AP: the card face, including the face photo.
pub const KENMEN_KAKUNIN: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02];

/// 券面事項入力補助AP: text of the card face. Holds the 12-digit My Number (EF 0001), which the
/// kiosk must never read.
pub const KENMEN_NYURYOKU_HOJO: [u8; 10] =
    [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
