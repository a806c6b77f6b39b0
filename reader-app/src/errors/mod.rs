//! The numbered error catalogue: one table for the patient's screen (Japanese here, the other
//! languages in the `.po` catalogues by code), the staff, the logs and `docs/error-codes.md`.

mod codes_doc;
mod failure;
mod translations;

pub use codes_doc::markdown;
pub use failure::Failure;

use crate::lang::Lang;

/// A failure the kiosk can show. Codes are stable: integrators and staff manuals refer to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KioskError {
    CardNotRecognised,
    NotMyNumberCard,
    CardRemoved,
    ReaderMissing,
    PcscdDown,
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    PinLocked,
    PinWrong,
    PinBUnreadable,
    PinBCounterLow,
    PinBRejected,
    NoFaceInPhoto,
    FaceNotMatched,
    LivenessFailed,
    FaceTimedOut,
    CameraMissing,
    ModelMissing,
    ReceptionUnreachable,
    QualificationInvalid,
    QualificationNotFound,
    TimedOut,
    AuditLogUnwritable,
    CardFaceDown,
}

/// The texts behind one error code.
pub struct ErrorText {
    pub code: &'static str,
    /// Stable machine name for logs and the hand-off, e.g. `not_my_number_card`.
    pub log: &'static str,
    /// Plain Japanese for the patient, saying what to do next.
    pub patient: &'static str,
    /// The cause, in staff wording.
    pub staff: &'static str,
    /// What staff do about it (`docs/error-codes.md`).
    pub action: &'static str,
}

impl ErrorText {
    /// The patient text in `lang`: the Japanese text, or its translation in the `.po`
    /// catalogue of `lang`, keyed by this code.
    pub fn patient_in(&self, lang: Lang) -> &'static str {
        translations::patient_text(lang, self.code, self.patient).unwrap_or(self.patient)
    }
}

impl KioskError {
    pub const ALL: [KioskError; 25] = [
        Self::CardNotRecognised,
        Self::NotMyNumberCard,
        Self::CardRemoved,
        Self::ReaderMissing,
        Self::PcscdDown,
        Self::CertificateExpired,
        Self::CertificateRevoked,
        Self::CertificateUntrusted,
        Self::PinLocked,
        Self::PinWrong,
        Self::PinBUnreadable,
        Self::PinBCounterLow,
        Self::PinBRejected,
        Self::NoFaceInPhoto,
        Self::FaceNotMatched,
        Self::LivenessFailed,
        Self::FaceTimedOut,
        Self::CameraMissing,
        Self::ModelMissing,
        Self::ReceptionUnreachable,
        Self::QualificationInvalid,
        Self::QualificationNotFound,
        Self::TimedOut,
        Self::AuditLogUnwritable,
        Self::CardFaceDown,
    ];

    pub fn text(self) -> ErrorText {
        let (code, log, patient, staff, action) = match self {
            Self::CardNotRecognised => (
                "E001",
                "card_not_recognised",
                "カードを読み取れませんでした。カードを置き直してください。",
                "カードが応答しないか、読み取り中にエラーが発生しました。",
                "カードを置き直してもらう。続く場合はカードの汚れ・破損を確認し、係員による目視確認で受付する。",
            ),
            Self::NotMyNumberCard => (
                "E002",
                "not_my_number_card",
                "マイナンバーカードではありません。マイナンバーカードを置いてください。",
                "公的個人認証APがないカード、または住基カード・スマートフォン用電子証明書です。",
                "マイナンバーカードを置いてもらう。住基カードやスマートフォンでは受付できない。",
            ),
            Self::CardRemoved => (
                "E003",
                "card_removed",
                "カードが取り外されました。もう一度カードを置いてください。",
                "読み取り中にカードが取り外されました。",
                "カードを置き直してもらう。",
            ),
            Self::ReaderMissing => (
                "E004",
                "reader_missing",
                "カードリーダーが見つかりません。係員をお呼びください。",
                "設定されたカードリーダーが接続されていません（USB接続・設定 reader.name を確認）。",
                "リーダーの USB 接続と設定 reader.name を確認する（`mynakiosk diagnose` の reader 行）。",
            ),
            Self::PcscdDown => (
                "E005",
                "pcscd_down",
                "カードリーダーを準備しています。しばらくお待ちください。",
                "pcscd（PC/SCサービス）に接続できません。サービスの状態を確認してください。",
                "`systemctl status pcscd.socket` で pcscd の状態を確認し、止まっていれば起動する。",
            ),
            Self::CertificateExpired => (
                "E006",
                "certificate_expired",
                "電子証明書の有効期限が切れています。お住まいの市区町村の窓口で更新してください。",
                "利用者証明用電子証明書の有効期限切れ。市区町村窓口での更新が必要です。",
                "市区町村窓口での更新を案内し、本日は係員による目視確認で受付する。",
            ),
            Self::CertificateRevoked => (
                "E007",
                "certificate_revoked",
                "このカードの電子証明書は使えません。お住まいの市区町村の窓口にお問い合わせください。",
                "利用者証明用電子証明書が失効しています。",
                "市区町村窓口への問い合わせを案内し、本日は係員による目視確認で受付する。",
            ),
            Self::CertificateUntrusted => (
                "E008",
                "certificate_untrusted",
                "このカードは確認できませんでした。係員をお呼びください。",
                "電子証明書が設定された J-LIS トラストアンカーに連鎖しません。",
                "設定 card.trust_anchors を `mynakiosk check-config` と `mynakiosk diagnose` で確認する。設定が正しければ係員による目視確認で受付する。",
            ),
            Self::PinLocked => (
                "E009",
                "pin_locked",
                "暗証番号がロックされています。顔認証か係員による確認をご利用ください。ロックの解除は市区町村の窓口です。",
                "利用者証明用暗証番号の試行回数が 0 です（ロック）。解除は市区町村窓口。",
                "顔認証か係員による目視確認で受付する。ロック解除は市区町村窓口を案内する。",
            ),
            Self::PinWrong => (
                "E010",
                "pin_wrong",
                "暗証番号が違います。",
                "利用者証明用暗証番号の不一致（残り回数を表示）。",
                "もう一度入力してもらう。残り回数が少なければ顔認証か係員による目視確認をすすめる。",
            ),
            Self::PinBUnreadable => (
                "E011",
                "pin_b_unreadable",
                "カードの表面を読み取れませんでした。暗証番号をご利用ください。",
                "券面の照合番号Bを確信度十分に読み取れず、提示しませんでした。",
                "暗証番号で受付する。続く場合は券面カメラの汚れ・照明・カードの置き方を確認する。",
            ),
            Self::PinBCounterLow => (
                "E012",
                "pin_b_counter_low",
                "このカードでは顔認証を利用できません。暗証番号をご利用ください。",
                "照合番号Bの残り試行回数が少ないため提示しませんでした。",
                "暗証番号か係員による目視確認で受付する。",
            ),
            Self::PinBRejected => (
                "E013",
                "pin_b_rejected",
                "このカードでは顔認証を利用できません。暗証番号をご利用ください。",
                "カードが照合番号Bを拒否しました（OCR誤読の可能性）。",
                "暗証番号か係員による目視確認で受付する。続く場合は券面カメラの焦点・照明を確認する。",
            ),
            Self::NoFaceInPhoto => (
                "E014",
                "no_face_in_photo",
                "顔認証を利用できません。暗証番号をご利用ください。",
                "カード内の顔写真から顔を検出できませんでした。",
                "暗証番号か係員による目視確認で受付する。",
            ),
            Self::FaceNotMatched => (
                "E015",
                "face_not_matched",
                "顔認証できませんでした。",
                "ライブ顔とカード写真の類似度がしきい値未満でした。",
                "もう一度撮影するか、暗証番号・係員による目視確認で受付する。続く場合は照明とカメラの位置を確認する。",
            ),
            Self::LivenessFailed => (
                "E016",
                "liveness_failed",
                "顔認証できませんでした。",
                "生体検知（動作チャレンジ）に失敗しました。",
                "画面の動作の指示に従ってもう一度撮影するか、暗証番号・係員による目視確認で受付する。",
            ),
            Self::FaceTimedOut => (
                "E017",
                "face_timed_out",
                "時間内に顔を確認できませんでした。",
                "撮影の制限時間内に照合できる顔画像が得られませんでした。",
                "顔を枠に合わせてもう一度撮影するか、暗証番号で受付する。",
            ),
            Self::CameraMissing => (
                "E018",
                "camera_missing",
                "顔認証を利用できません。暗証番号をご利用ください。",
                "カメラ（利用者用または券面用）が見つからないか応答しません。",
                "カメラの接続を確認する（`mynakiosk diagnose` の cameras・front camera 行）。直るまで暗証番号・係員による目視確認で受付する。",
            ),
            Self::ModelMissing => (
                "E019",
                "model_missing",
                "顔認証を利用できません。暗証番号をご利用ください。",
                "顔認識モデルファイルがないか、チェックサムが一致しません。",
                "`mynakiosk diagnose` の models 行を確認し、パッケージを入れ直す。直るまで暗証番号・係員による目視確認で受付する。",
            ),
            Self::ReceptionUnreachable => (
                "E020",
                "reception_unreachable",
                "本人確認は完了しました。受付窓口にお声がけください。",
                "受付システムに接続できません。結果は端末内に保存され、接続が回復すると自動で送信されます（handoff の設定と受付システムを確認）。",
                "受付窓口で受付する。受付システムを起動し、`mynakiosk outbox status` で送信待ちの結果を確認する（自動で再送される）。",
            ),
            Self::QualificationInvalid => (
                "E021",
                "qualification_invalid",
                "保険の資格が確認できませんでした。受付にお声がけください。",
                "資格確認の結果が「資格無効」でした。",
                "窓口で資格を確認する。",
            ),
            Self::QualificationNotFound => (
                "E022",
                "qualification_not_found",
                "保険の資格情報がありません。受付にお声がけください。",
                "資格確認の結果が「資格情報なし」でした。",
                "窓口で資格を確認する。",
            ),
            Self::TimedOut => (
                "E023",
                "session_timed_out",
                "時間切れになりました。カードをお取りになり、もう一度はじめてください。",
                "操作がないまま制限時間を過ぎました。",
                "カードを取ってもらい、最初からやり直してもらう。",
            ),
            Self::AuditLogUnwritable => (
                "E024",
                "audit_log_unwritable",
                "ただいま受付できません。係員をお呼びください。",
                "監査ログに書き込めません（audit.dir の空き容量・権限を確認）。記録できないため受付を停止しています。",
                "audit.dir の空き容量と権限を確認する（`mynakiosk diagnose` の audit 行）。直るまで受付は止まる。",
            ),
            Self::CardFaceDown => (
                "E025",
                "card_face_down",
                "カードの裏面しか写りませんでした。暗証番号をご利用ください。",
                "券面カメラに最後まで写ったのはカードの裏面でした（個人番号の面は読み取らず、照合番号Bは提示していません）。",
                "顔写真のある面を上にしてカードを置くよう案内する。暗証番号か係員による目視確認でも受付できる。",
            ),
        };
        ErrorText {
            code,
            log,
            patient,
            staff,
            action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_texts_present() {
        let mut codes: Vec<_> = KioskError::ALL.iter().map(|e| e.text().code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), KioskError::ALL.len());
        let mut logs: Vec<_> = KioskError::ALL.iter().map(|e| e.text().log).collect();
        logs.sort();
        logs.dedup();
        assert_eq!(logs.len(), KioskError::ALL.len());
        for e in KioskError::ALL {
            let t = e.text();
            assert!(t.code.starts_with('E') && t.code.len() == 4);
            assert!(!t.staff.is_empty() && !t.action.is_empty());
            for lang in Lang::ALL {
                assert!(!t.patient_in(lang).is_empty(), "{e:?} {lang:?}");
            }
            assert_ne!(t.patient_in(Lang::En), t.patient, "{e:?}");
        }
    }

    #[test]
    fn each_language_has_its_own_text() {
        let t = KioskError::NotMyNumberCard.text();
        assert!(t.patient_in(Lang::En).starts_with("This is not"));
        assert!(t.patient_in(Lang::ZhHans).contains("个人编号卡"));
        assert!(t.patient_in(Lang::Ko).contains("마이넘버"));
        assert!(t.patient_in(Lang::Vi).contains("thẻ My Number"));
    }
}
