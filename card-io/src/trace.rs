//! The APDU trace: every command and response at `trace` level (target `card_io::apdu`), for
//! debugging a reader or a card.
//!
//! Command data is shown only for SELECT (application and file names); every other command
//! shows its length alone, so VERIFY data (PIN, 照合番号B) never reaches a log. Response data is
//! never shown: it may be personal data (birth date, the face photo).

use std::fmt;

use crate::apdu::{ins, Command, Response};

/// A command as the trace shows it: header, then the data (SELECT only) or its length.
pub struct TracedCommand<'a>(pub &'a Command);

impl fmt::Display for TracedCommand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cmd = self.0;
        write!(
            f,
            "{:02X} {:02X} {:02X} {:02X}",
            cmd.cla(),
            cmd.ins(),
            cmd.p1(),
            cmd.p2()
        )?;
        let data = cmd.data();
        if !data.is_empty() {
            if cmd.ins() == ins::SELECT {
                write!(f, " Lc={} [", data.len())?;
                for (i, byte) in data.iter().enumerate() {
                    write!(f, "{}{byte:02X}", if i == 0 { "" } else { " " })?;
                }
                write!(f, "]")?;
            } else {
                write!(f, " Lc={} [redacted]", data.len())?;
            }
        }
        if let Some(ne) = cmd.ne() {
            write!(f, " Ne={ne}")?;
        }
        Ok(())
    }
}

/// A response as the trace shows it: data length and status word.
pub struct TracedResponse<'a>(pub &'a Response);

impl fmt::Display for TracedResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes, SW {}", self.0.data().len(), self.0.sw())
    }
}

/// Logs one exchange at trace level.
pub(crate) fn exchange(cmd: &Command, response: &Response) {
    tracing::trace!(
        target: "card_io::apdu",
        command = %TracedCommand(cmd),
        response = %TracedResponse(response),
        "APDU"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aid;
    use crate::apdu::StatusWord;

    #[test]
    fn select_shows_the_name_and_verify_hides_the_secret() {
        let select = Command::select_df(&aid::JPKI).unwrap();
        assert_eq!(
            TracedCommand(&select).to_string(),
            "00 A4 04 0C Lc=10 [D3 92 F0 00 26 01 00 00 00 01]"
        );
        let pin_b = Command::verify(0x80, b"55021720352285").unwrap();
        assert_eq!(
            TracedCommand(&pin_b).to_string(),
            "00 20 00 80 Lc=14 [redacted]"
        );
        let read = Command::read_binary(0x0104, 256).unwrap();
        assert_eq!(TracedCommand(&read).to_string(), "00 B0 01 04 Ne=256");
        let response = Response::new(b"19800217".to_vec(), StatusWord::OK);
        assert_eq!(TracedResponse(&response).to_string(), "8 bytes, SW 9000");
    }
}
