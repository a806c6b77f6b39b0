//! Telling a My Number card from other cards, by the JPKI token label (not by ATR).

use super::jpki::{label, TOKEN_INFO_EF, TOKEN_LABEL_LEN};
use super::{aid, expect_ok, CardError};
use crate::apdu::{Command, StatusWord};
use crate::transport::CardTransport;

/// What kind of card is in the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardKind {
    /// マイナンバーカード (`JPKIAPICCTOKEN2`).
    MyNumberCard,
    /// 住基カード (`JPKIAPICCTOKEN`).
    JukiCard,
    /// スマホ用電子証明書 (`JPKIAPGPSETOKEN` / `JPKIAPIOSTOKEN`).
    PhoneToken,
    /// No JPKI AP: some other card.
    NotMyNumberCard,
    /// A JPKI AP with a token label this code does not know.
    UnknownToken(String),
}

/// Selects the JPKI AP and reads the token label from EF 0006.
///
/// Leaves the JPKI AP selected.
pub(crate) fn detect(t: &mut dyn CardTransport) -> Result<CardKind, CardError> {
    let selected = t.transmit(&Command::select_df(&aid::JPKI)?)?;
    match selected.sw() {
        StatusWord::FILE_NOT_FOUND => return Ok(CardKind::NotMyNumberCard),
        sw if !sw.is_ok() => {
            return Err(CardError::Status {
                step: "SELECT JPKI AP",
                sw,
            })
        }
        _ => {}
    }
    expect_ok(t, &Command::select_ef(TOKEN_INFO_EF), "SELECT JPKI EF 0006")?;
    let info = expect_ok(
        t,
        &Command::read_binary(0, TOKEN_LABEL_LEN)?,
        "READ JPKI EF 0006",
    )?;
    Ok(kind_of_label(&token_label(info.data())))
}

/// The label field, without its space or NUL padding.
fn token_label(info: &[u8]) -> String {
    let field = &info[..info.len().min(TOKEN_LABEL_LEN)];
    String::from_utf8_lossy(field)
        .trim_matches(|c| c == ' ' || c == '\0')
        .to_owned()
}

fn kind_of_label(label: &str) -> CardKind {
    match label {
        label::MY_NUMBER_CARD => CardKind::MyNumberCard,
        label::JUKI_CARD => CardKind::JukiCard,
        label::ANDROID | label::IPHONE => CardKind::PhoneToken,
        other => CardKind::UnknownToken(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Detection of simulated cards: `tests/detect.rs` (the simulator, `card-sim`, builds on
    // this crate).

    #[test]
    fn label_padding_with_nul_is_trimmed() {
        let mut info = b"JPKIAPICCTOKEN2".to_vec();
        info.resize(TOKEN_LABEL_LEN, 0);
        assert_eq!(token_label(&info), label::MY_NUMBER_CARD);
        assert_eq!(token_label(b"JPKIAPICCTOKEN  "), label::JUKI_CARD);
    }
}
