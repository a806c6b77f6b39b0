//! The numbered error catalogue: one table for the patient's screen, the staff and the logs.

/// A failure the kiosk can show. Codes are stable: integrators and staff manuals refer to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KioskError {
    CardNotRecognised,
    NotMyNumberCard,
    CardRemoved,
    ReaderMissing,
    PcscdDown,
    ReceptionUnreachable,
    QualificationInvalid,
    QualificationNotFound,
    AuditLogUnwritable,
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
            Self::ReceptionUnreachable => (
                "E050",
                "本人確認は完了しました。受付窓口にお声がけください。",
                "受付システムに接続できません。結果は端末内に保存され、接続が回復すると自動で送信されます（handoff の設定と受付システムを確認）。",
            ),
            Self::QualificationInvalid => (
                "E051",
                "保険資格が確認できませんでした（資格無効）。受付窓口にお声がけください。",
                "資格確認の結果が「資格無効」でした。保険証・資格確認書などで確認してください。",
            ),
            Self::QualificationNotFound => (
                "E052",
                "保険資格の情報が見つかりませんでした。受付窓口にお声がけください。",
                "資格確認の結果が「資格情報なし」でした。加入している保険の情報が登録されていない可能性があります。",
            ),
            Self::AuditLogUnwritable => (
                "E053",
                "ただいま受付できません。係員をお呼びください。",
                "監査ログに書き込めません（audit.dir の空き容量・権限を確認）。記録できないため受付を停止しています。",
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

    const ALL: [KioskError; 9] = [
        KioskError::CardNotRecognised,
        KioskError::NotMyNumberCard,
        KioskError::CardRemoved,
        KioskError::ReaderMissing,
        KioskError::PcscdDown,
        KioskError::ReceptionUnreachable,
        KioskError::QualificationInvalid,
        KioskError::QualificationNotFound,
        KioskError::AuditLogUnwritable,
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
