//! Files and values of the JPKI AP (公的個人認証AP).

/// EF holding the token information: a 160-byte PKCS#11 `CK_TOKEN_INFO`. Readable without PIN.
pub const TOKEN_INFO_EF: u16 = 0x0006;

/// Size of the token information.
pub const TOKEN_INFO_LEN: usize = 160;

/// Size of the space-padded label at the start of the token information.
pub const TOKEN_LABEL_LEN: usize = 32;

/// Token labels (trimmed) and what they identify.
pub mod label {
    /// マイナンバーカード.
    pub const MY_NUMBER_CARD: &str = "JPKIAPICCTOKEN2";
    /// 住基カード (the predecessor card).
    pub const JUKI_CARD: &str = "JPKIAPICCTOKEN";
    /// Android スマホ用電子証明書.
    pub const ANDROID: &str = "JPKIAPGPSETOKEN";
    /// iPhone スマホ用電子証明書.
    pub const IPHONE: &str = "JPKIAPIOSTOKEN";
}
