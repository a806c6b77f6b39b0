//! The numbered error catalogue: one table for the patient's screen (five languages), the
//! staff and the logs.

use crate::session::Lang;

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
    /// The patient text in English, Simplified Chinese, Korean and Vietnamese.
    translations: [&'static str; 4],
}

impl ErrorText {
    /// The patient text in `lang`.
    pub fn patient_in(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Ja => self.patient,
            Lang::En => self.translations[0],
            Lang::ZhHans => self.translations[1],
            Lang::Ko => self.translations[2],
            Lang::Vi => self.translations[3],
        }
    }
}

impl KioskError {
    pub const ALL: [KioskError; 24] = [
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
    ];

    pub fn text(self) -> ErrorText {
        let (code, log, patient, staff, translations) = match self {
            Self::CardNotRecognised => (
                "E001",
                "card_not_recognised",
                "カードを読み取れませんでした。カードを置き直してください。",
                "カードが応答しないか、読み取り中にエラーが発生しました。",
                [
                    "The card could not be read. Please place it again.",
                    "无法读取卡片。请重新放置卡片。",
                    "카드를 읽을 수 없습니다. 카드를 다시 올려 주세요.",
                    "Không đọc được thẻ. Vui lòng đặt lại thẻ.",
                ],
            ),
            Self::NotMyNumberCard => (
                "E002",
                "not_my_number_card",
                "マイナンバーカードではありません。マイナンバーカードを置いてください。",
                "公的個人認証APがないカード、または住基カード・スマートフォン用電子証明書です。",
                [
                    "This is not a My Number Card. Please place your My Number Card.",
                    "这不是个人编号卡。请放置个人编号卡。",
                    "마이넘버 카드가 아닙니다. 마이넘버 카드를 올려 주세요.",
                    "Đây không phải thẻ My Number. Vui lòng đặt thẻ My Number.",
                ],
            ),
            Self::CardRemoved => (
                "E003",
                "card_removed",
                "カードが取り外されました。もう一度カードを置いてください。",
                "読み取り中にカードが取り外されました。",
                [
                    "The card was removed. Please place it again.",
                    "卡片已被取下。请重新放置卡片。",
                    "카드가 제거되었습니다. 카드를 다시 올려 주세요.",
                    "Thẻ đã bị lấy ra. Vui lòng đặt lại thẻ.",
                ],
            ),
            Self::ReaderMissing => (
                "E004",
                "reader_missing",
                "カードリーダーが見つかりません。係員をお呼びください。",
                "設定されたカードリーダーが接続されていません（USB接続・設定 reader.name を確認）。",
                [
                    "The card reader is not available. Please call staff.",
                    "找不到读卡器。请呼叫工作人员。",
                    "카드 리더를 찾을 수 없습니다. 직원을 불러 주세요.",
                    "Không tìm thấy đầu đọc thẻ. Vui lòng gọi nhân viên.",
                ],
            ),
            Self::PcscdDown => (
                "E005",
                "pcscd_down",
                "カードリーダーを準備しています。しばらくお待ちください。",
                "pcscd（PC/SCサービス）に接続できません。サービスの状態を確認してください。",
                [
                    "The card reader is getting ready. Please wait a moment.",
                    "读卡器正在准备中。请稍候。",
                    "카드 리더를 준비하고 있습니다. 잠시 기다려 주세요.",
                    "Đầu đọc thẻ đang được chuẩn bị. Vui lòng đợi một chút.",
                ],
            ),
            Self::CertificateExpired => (
                "E006",
                "certificate_expired",
                "電子証明書の有効期限が切れています。お住まいの市区町村の窓口で更新してください。",
                "利用者証明用電子証明書の有効期限切れ。市区町村窓口での更新が必要です。",
                [
                    "The electronic certificate on your card has expired. Please renew it at your city office.",
                    "卡内电子证书已过期。请到所在市区町村窗口更新。",
                    "카드의 전자증명서 유효기간이 지났습니다. 거주지 시구정촌 창구에서 갱신해 주세요.",
                    "Chứng thư điện tử trên thẻ đã hết hạn. Vui lòng gia hạn tại văn phòng thành phố.",
                ],
            ),
            Self::CertificateRevoked => (
                "E007",
                "certificate_revoked",
                "このカードの電子証明書は使えません。お住まいの市区町村の窓口にお問い合わせください。",
                "利用者証明用電子証明書が失効しています。",
                [
                    "The electronic certificate on this card cannot be used. Please ask your city office.",
                    "此卡的电子证书无法使用。请咨询所在市区町村窗口。",
                    "이 카드의 전자증명서는 사용할 수 없습니다. 시구정촌 창구에 문의해 주세요.",
                    "Không thể dùng chứng thư điện tử của thẻ này. Vui lòng hỏi văn phòng thành phố.",
                ],
            ),
            Self::CertificateUntrusted => (
                "E008",
                "certificate_untrusted",
                "このカードは確認できませんでした。係員をお呼びください。",
                "電子証明書が設定された J-LIS トラストアンカーに連鎖しません。",
                [
                    "This card could not be verified. Please call staff.",
                    "无法验证此卡。请呼叫工作人员。",
                    "이 카드를 확인할 수 없습니다. 직원을 불러 주세요.",
                    "Không xác minh được thẻ này. Vui lòng gọi nhân viên.",
                ],
            ),
            Self::PinLocked => (
                "E009",
                "pin_locked",
                "暗証番号がロックされています。顔認証か係員による確認をご利用ください。ロックの解除は市区町村の窓口です。",
                "利用者証明用暗証番号の試行回数が 0 です（ロック）。解除は市区町村窓口。",
                [
                    "Your PIN is locked. Please use face recognition or ask staff. The lock is removed at your city office.",
                    "密码已锁定。请使用面部识别或由工作人员确认。解锁请到市区町村窗口。",
                    "비밀번호가 잠겼습니다. 얼굴 인증 또는 직원 확인을 이용해 주세요. 잠금 해제는 시구정촌 창구입니다.",
                    "Mã PIN đã bị khóa. Vui lòng dùng nhận diện khuôn mặt hoặc nhờ nhân viên. Mở khóa tại văn phòng thành phố.",
                ],
            ),
            Self::PinWrong => (
                "E010",
                "pin_wrong",
                "暗証番号が違います。",
                "利用者証明用暗証番号の不一致（残り回数を表示）。",
                [
                    "The PIN is incorrect.",
                    "密码不正确。",
                    "비밀번호가 틀렸습니다.",
                    "Mã PIN không đúng.",
                ],
            ),
            Self::PinBUnreadable => (
                "E011",
                "pin_b_unreadable",
                "カードの表面を読み取れませんでした。暗証番号をご利用ください。",
                "券面の照合番号Bを確信度十分に読み取れず、提示しませんでした。",
                [
                    "The front of the card could not be read. Please use your PIN.",
                    "无法读取卡片正面。请使用密码。",
                    "카드 앞면을 읽을 수 없습니다. 비밀번호를 이용해 주세요.",
                    "Không đọc được mặt trước của thẻ. Vui lòng dùng mã PIN.",
                ],
            ),
            Self::PinBCounterLow => (
                "E012",
                "pin_b_counter_low",
                "このカードでは顔認証を利用できません。暗証番号をご利用ください。",
                "照合番号Bの残り試行回数が少ないため提示しませんでした。",
                [
                    "Face recognition cannot be used with this card. Please use your PIN.",
                    "此卡无法使用面部识别。请使用密码。",
                    "이 카드로는 얼굴 인증을 이용할 수 없습니다. 비밀번호를 이용해 주세요.",
                    "Không thể dùng nhận diện khuôn mặt với thẻ này. Vui lòng dùng mã PIN.",
                ],
            ),
            Self::PinBRejected => (
                "E013",
                "pin_b_rejected",
                "このカードでは顔認証を利用できません。暗証番号をご利用ください。",
                "カードが照合番号Bを拒否しました（OCR誤読の可能性）。",
                [
                    "Face recognition cannot be used with this card. Please use your PIN.",
                    "此卡无法使用面部识别。请使用密码。",
                    "이 카드로는 얼굴 인증을 이용할 수 없습니다. 비밀번호를 이용해 주세요.",
                    "Không thể dùng nhận diện khuôn mặt với thẻ này. Vui lòng dùng mã PIN.",
                ],
            ),
            Self::NoFaceInPhoto => (
                "E014",
                "no_face_in_photo",
                "顔認証を利用できません。暗証番号をご利用ください。",
                "カード内の顔写真から顔を検出できませんでした。",
                [
                    "Face recognition is not available. Please use your PIN.",
                    "无法使用面部识别。请使用密码。",
                    "얼굴 인증을 이용할 수 없습니다. 비밀번호를 이용해 주세요.",
                    "Không thể dùng nhận diện khuôn mặt. Vui lòng dùng mã PIN.",
                ],
            ),
            Self::FaceNotMatched => (
                "E015",
                "face_not_matched",
                "顔認証できませんでした。",
                "ライブ顔とカード写真の類似度がしきい値未満でした。",
                [
                    "Face recognition did not succeed.",
                    "面部识别未成功。",
                    "얼굴 인증에 실패했습니다.",
                    "Nhận diện khuôn mặt không thành công.",
                ],
            ),
            Self::LivenessFailed => (
                "E016",
                "liveness_failed",
                "顔認証できませんでした。",
                "生体検知（動作チャレンジ）に失敗しました。",
                [
                    "Face recognition did not succeed.",
                    "面部识别未成功。",
                    "얼굴 인증에 실패했습니다.",
                    "Nhận diện khuôn mặt không thành công.",
                ],
            ),
            Self::FaceTimedOut => (
                "E017",
                "face_timed_out",
                "時間内に顔を確認できませんでした。",
                "撮影の制限時間内に照合できる顔画像が得られませんでした。",
                [
                    "Your face could not be checked in time.",
                    "未能在时间内确认面部。",
                    "시간 내에 얼굴을 확인하지 못했습니다.",
                    "Không kiểm tra được khuôn mặt kịp thời gian.",
                ],
            ),
            Self::CameraMissing => (
                "E018",
                "camera_missing",
                "顔認証を利用できません。暗証番号をご利用ください。",
                "カメラ（利用者用または券面用）が見つからないか応答しません。",
                [
                    "Face recognition is not available. Please use your PIN.",
                    "无法使用面部识别。请使用密码。",
                    "얼굴 인증을 이용할 수 없습니다. 비밀번호를 이용해 주세요.",
                    "Không thể dùng nhận diện khuôn mặt. Vui lòng dùng mã PIN.",
                ],
            ),
            Self::ModelMissing => (
                "E019",
                "model_missing",
                "顔認証を利用できません。暗証番号をご利用ください。",
                "顔認識モデルファイルがないか、チェックサムが一致しません。",
                [
                    "Face recognition is not available. Please use your PIN.",
                    "无法使用面部识别。请使用密码。",
                    "얼굴 인증을 이용할 수 없습니다. 비밀번호를 이용해 주세요.",
                    "Không thể dùng nhận diện khuôn mặt. Vui lòng dùng mã PIN.",
                ],
            ),
            Self::ReceptionUnreachable => (
                "E020",
                "reception_unreachable",
                "本人確認は完了しました。受付窓口にお声がけください。",
                "受付システムに接続できません。結果は端末内に保存され、接続が回復すると自動で送信されます（handoff の設定と受付システムを確認）。",
                [
                    "Your identity was confirmed. Please speak to the reception desk.",
                    "身份确认已完成。请到前台说明。",
                    "본인 확인이 완료되었습니다. 접수처에 말씀해 주세요.",
                    "Đã xác nhận danh tính. Vui lòng báo quầy tiếp nhận.",
                ],
            ),
            Self::QualificationInvalid => (
                "E021",
                "qualification_invalid",
                "保険の資格が確認できませんでした。受付にお声がけください。",
                "資格確認の結果が「資格無効」でした。",
                [
                    "Your insurance could not be confirmed. Please speak to reception.",
                    "无法确认保险资格。请联系前台。",
                    "보험 자격을 확인할 수 없습니다. 접수처에 말씀해 주세요.",
                    "Không xác nhận được bảo hiểm. Vui lòng báo quầy tiếp nhận.",
                ],
            ),
            Self::QualificationNotFound => (
                "E022",
                "qualification_not_found",
                "保険の資格情報がありません。受付にお声がけください。",
                "資格確認の結果が「資格情報なし」でした。",
                [
                    "No insurance information was found. Please speak to reception.",
                    "没有保险资格信息。请联系前台。",
                    "보험 자격 정보가 없습니다. 접수처에 말씀해 주세요.",
                    "Không có thông tin bảo hiểm. Vui lòng báo quầy tiếp nhận.",
                ],
            ),
            Self::TimedOut => (
                "E023",
                "session_timed_out",
                "時間切れになりました。カードをお取りになり、もう一度はじめてください。",
                "操作がないまま制限時間を過ぎました。",
                [
                    "The time ran out. Please take your card and start again.",
                    "操作超时。请取回卡片后重新开始。",
                    "시간이 초과되었습니다. 카드를 가져가신 후 다시 시작해 주세요.",
                    "Đã hết thời gian. Vui lòng lấy thẻ và bắt đầu lại.",
                ],
            ),
            Self::AuditLogUnwritable => (
                "E024",
                "audit_log_unwritable",
                "ただいま受付できません。係員をお呼びください。",
                "監査ログに書き込めません（audit.dir の空き容量・権限を確認）。記録できないため受付を停止しています。",
                [
                    "Reception is not available right now. Please call staff.",
                    "目前无法受理。请呼叫工作人员。",
                    "지금은 접수할 수 없습니다. 직원을 불러 주세요.",
                    "Hiện không thể tiếp nhận. Vui lòng gọi nhân viên.",
                ],
            ),
        };
        ErrorText {
            code,
            log,
            patient,
            staff,
            translations,
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
            assert!(!t.staff.is_empty());
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
