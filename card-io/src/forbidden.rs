//! What the privacy guard refuses, and why; carried as `TransportError::Forbidden`.

/// A command the guard refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    /// The command names 照合番号A or a file holding the My Number.
    #[error("refused: EF {fid:04X} holds the My Number or 照合番号A")]
    MyNumberFile {
        /// The file (or key) id the command named.
        fid: u16,
    },
    /// An instruction the kiosk never needs.
    #[error("refused: instruction {cla:02X} {ins:02X} is not allowed")]
    Instruction {
        /// CLA.
        cla: u8,
        /// INS.
        ins: u8,
    },
    /// A SELECT form other than by DF name (`04`) or EF id (`02`).
    #[error("refused: SELECT with P1 {p1:02X} is not allowed")]
    SelectForm {
        /// P1.
        p1: u8,
    },
    /// A VERIFY reference other than the current EF (`80`) or a short EF id (`81`–`9E`).
    #[error("refused: VERIFY with P2 {p2:02X} is not allowed")]
    VerifyReference {
        /// P2.
        p2: u8,
    },
}
