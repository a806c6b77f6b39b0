//! The numbered error catalogue: one table for the patient's screen, the staff and the logs.

/// A failure the kiosk can show. Codes are stable: integrators and staff manuals refer to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KioskError {
    CardNotRecognised,
    NotMyNumberCard,
    CardRemoved,
    ReaderMissing,
    PcscdDown,
}

/// The texts behind one error code.
pub struct ErrorText {
    pub code: &'static str,
    /// Plain Japanese for the patient, saying what to do next.
    pub patient: &'static str,
    /// The cause, in staff wording.
    pub staff: &'static str,
}

impl KioskError {
    pub fn text(self) -> ErrorText {
        let (code, patient, staff) = match self {
            Self::CardNotRecognised => (
                "E001",
                "カードを読み取れませんでした。カードを置き直してください。",
                "カードが応答しないか、読み取り中にエラーが発生しました。",
            ),
            Self::NotMyNumberCard => (
                "E002",
                "マイナンバーカードではありません。マイナンバーカードを置いてください。",
                "公的個人認証APがないカード、または住基カード・スマートフォン用電子証明書です。",
            ),
            Self::CardRemoved => (
                "E003",
                "カードが取り外されました。もう一度カードを置いてください。",
                "読み取り中にカードが取り外されました。",
            ),
            Self::ReaderMissing => (
                "E004",
                "カードリーダーが見つかりません。係員をお呼びください。",
                "設定されたカードリーダーが接続されていません（USB接続・設定 reader.name を確認）。",
            ),
            Self::PcscdDown => (
                "E005",
                "カードリーダーを準備しています。しばらくお待ちください。",
                "pcscd（PC/SCサービス）に接続できません。サービスの状態を確認してください。",
            ),
        };
        ErrorText {
            code,
            patient,
            staff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [KioskError; 5] = [
        KioskError::CardNotRecognised,
        KioskError::NotMyNumberCard,
        KioskError::CardRemoved,
        KioskError::ReaderMissing,
        KioskError::PcscdDown,
    ];

    #[test]
    fn codes_are_unique_and_texts_present() {
        let mut codes: Vec<_> = ALL.iter().map(|e| e.text().code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        for e in ALL {
            let t = e.text();
            assert!(t.code.starts_with('E') && t.code.len() == 4);
            assert!(!t.patient.is_empty() && !t.staff.is_empty());
        }
    }
}
