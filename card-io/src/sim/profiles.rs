//! Ready-made virtual cards.

use super::{Application, VirtualCard};
use crate::mynumber::aid;
use crate::mynumber::jpki::{label, TOKEN_INFO_EF, TOKEN_INFO_LEN, TOKEN_LABEL_LEN};

/// ATR of a card that is not a My Number card: T=1, no historical bytes.
const OTHER_ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// 運転免許証 application, so the non-My-Number card has something on it.
const DRIVING_LICENCE_AID: [u8; 6] = [0xA0, 0x00, 0x00, 0x02, 0x31, 0x01];

/// End of the blank-padded text fields of `CK_TOKEN_INFO` (label, manufacturerID, model,
/// serialNumber); the integer fields after them are left zero.
const TOKEN_TEXT_END: usize = 96;

impl VirtualCard {
    /// Contact ATR of the My Number card: `3B E0 00 FF 81 31 FE 45 14`.
    pub const CONTACT_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

    /// A My Number card: JPKI AP with token `JPKIAPICCTOKEN2`, 券面事項確認AP and
    /// 券面事項入力補助AP (their files come later).
    pub fn my_number() -> Self {
        Self::jpki_token(label::MY_NUMBER_CARD)
            .with_application(Application::new(aid::KENMEN_KAKUNIN.to_vec()))
            .with_application(Application::new(aid::KENMEN_NYURYOKU_HOJO.to_vec()))
    }

    /// A 住基カード: JPKI AP with token `JPKIAPICCTOKEN`.
    pub fn juki() -> Self {
        Self::jpki_token(label::JUKI_CARD)
    }

    /// A card without the JPKI AP: selecting it answers `6A82`.
    pub fn not_my_number() -> Self {
        Self::new(OTHER_ATR.to_vec())
            .with_application(Application::new(DRIVING_LICENCE_AID.to_vec()))
    }

    /// A card whose only application is a JPKI AP with token label `label`.
    pub fn jpki_token(label: &str) -> Self {
        Self::new(Self::CONTACT_ATR.to_vec()).with_application(
            Application::new(aid::JPKI.to_vec()).with_binary(TOKEN_INFO_EF, token_info(label)),
        )
    }
}

/// A 160-byte token information with `label` (cut to 32 bytes) and blank text fields.
fn token_info(label: &str) -> Vec<u8> {
    let mut info = vec![0; TOKEN_INFO_LEN];
    info[..TOKEN_TEXT_END].fill(b' ');
    let label = &label.as_bytes()[..label.len().min(TOKEN_LABEL_LEN)];
    info[..label.len()].copy_from_slice(label);
    info
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::{Command, Response, StatusWord};

    fn run(card: &mut VirtualCard, cmd: &Command) -> Response {
        Response::from_bytes(card.process(&cmd.to_bytes())).unwrap()
    }

    #[test]
    fn my_number_card_holds_the_token_info_and_the_card_face_aps() {
        let mut card = VirtualCard::my_number();
        assert_eq!(card.atr(), VirtualCard::CONTACT_ATR);
        for aid in [aid::KENMEN_KAKUNIN, aid::KENMEN_NYURYOKU_HOJO, aid::JPKI] {
            assert!(run(&mut card, &Command::select_df(&aid).unwrap())
                .sw()
                .is_ok());
        }
        assert!(run(&mut card, &Command::select_ef(TOKEN_INFO_EF))
            .sw()
            .is_ok());
        let head = run(&mut card, &Command::read_binary(0, 256).unwrap());
        assert_eq!(head.data().len(), TOKEN_INFO_LEN);
        assert_eq!(
            &head.data()[..TOKEN_LABEL_LEN],
            b"JPKIAPICCTOKEN2                 "
        );
        assert_eq!(
            run(&mut card, &Command::read_binary(160, 1).unwrap()).sw(),
            StatusWord::WRONG_OFFSET
        );
    }

    #[test]
    fn non_my_number_card_has_no_jpki_ap() {
        let mut card = VirtualCard::not_my_number();
        let r = run(&mut card, &Command::select_df(&aid::JPKI).unwrap());
        assert_eq!(r.sw(), StatusWord::FILE_NOT_FOUND);
    }

    #[test]
    fn long_labels_are_cut_to_the_label_field() {
        let info = token_info(&"X".repeat(40));
        assert_eq!(info[..TOKEN_LABEL_LEN], [b'X'; TOKEN_LABEL_LEN]);
        assert_eq!(info[TOKEN_LABEL_LEN], b' ');
        assert_eq!(info[TOKEN_INFO_LEN - 1], 0);
    }
}
