//! The virtual card's data model (applications → EFs) and its command interpreter.

use std::collections::BTreeMap;

use crate::apdu::{ins, Command, Response, StatusWord};

/// An application (DF) on the virtual card, with its transparent EFs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    aid: Vec<u8>,
    binaries: BTreeMap<u16, Vec<u8>>,
}

impl Application {
    /// An application named `aid` with no files.
    pub fn new(aid: Vec<u8>) -> Self {
        Self {
            aid,
            binaries: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) the transparent EF `fid` holding `data`.
    pub fn with_binary(mut self, fid: u16, data: Vec<u8>) -> Self {
        self.binaries.insert(fid, data);
        self
    }
}

/// A simulated card: answers command APDU bytes like the chip would.
///
/// Implemented: SELECT DF by full AID (`00 A4 04 0C`), SELECT EF under the current DF
/// (`00 A4 02 0C`), READ BINARY of the current EF (15-bit offset) or by short EF ID
/// (`00 B0 8x off`), short or extended Le. Errors: `6A82` unknown DF/EF, `6986` no current EF,
/// `6B00` offset at or beyond the end, `6A86` unsupported P1-P2, `6700` malformed lengths,
/// `6D00` unknown instruction, `6E00` class other than `00`/`80`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualCard {
    atr: Vec<u8>,
    applications: Vec<Application>,
    current_df: Option<usize>,
    current_ef: Option<u16>,
}

impl VirtualCard {
    /// A card answering reset with `atr`, with no applications.
    pub fn new(atr: Vec<u8>) -> Self {
        Self {
            atr,
            applications: Vec::new(),
            current_df: None,
            current_ef: None,
        }
    }

    /// Adds an application.
    pub fn with_application(mut self, application: Application) -> Self {
        self.applications.push(application);
        self
    }

    /// The answer to reset.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// Power cycle or reset: nothing is selected any more.
    pub fn reset(&mut self) {
        self.current_df = None;
        self.current_ef = None;
    }

    /// Executes one command APDU and returns the response bytes (data + SW1 SW2).
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.respond(apdu).to_bytes()
    }

    fn respond(&mut self, apdu: &[u8]) -> Response {
        let Ok(cmd) = Command::from_bytes(apdu) else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        match (cmd.cla(), cmd.ins()) {
            (0x00, ins::SELECT) => self.select(&cmd),
            (0x00, ins::READ_BINARY) => self.read_binary(&cmd),
            (0x00 | 0x80, _) => Response::status(StatusWord::INS_NOT_SUPPORTED),
            _ => Response::status(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn current_application(&self) -> Option<&Application> {
        self.current_df.and_then(|i| self.applications.get(i))
    }

    fn select(&mut self, cmd: &Command) -> Response {
        let sw = match (cmd.p1(), cmd.p2()) {
            (0x04, 0x0C) => self.select_df(cmd.data()),
            (0x02, 0x0C) => self.select_ef(cmd.data()),
            _ => StatusWord::INCORRECT_P1_P2,
        };
        Response::status(sw)
    }

    fn select_df(&mut self, aid: &[u8]) -> StatusWord {
        if aid.is_empty() {
            return StatusWord::WRONG_LENGTH;
        }
        match self.applications.iter().position(|app| app.aid == aid) {
            Some(index) => {
                self.current_df = Some(index);
                self.current_ef = None;
                StatusWord::OK
            }
            None => StatusWord::FILE_NOT_FOUND,
        }
    }

    fn select_ef(&mut self, fid: &[u8]) -> StatusWord {
        let Ok(fid) = <[u8; 2]>::try_from(fid) else {
            return StatusWord::WRONG_LENGTH;
        };
        let fid = u16::from_be_bytes(fid);
        if self
            .current_application()
            .is_some_and(|app| app.binaries.contains_key(&fid))
        {
            self.current_ef = Some(fid);
            StatusWord::OK
        } else {
            StatusWord::FILE_NOT_FOUND
        }
    }

    fn read_binary(&mut self, cmd: &Command) -> Response {
        let Some(ne) = cmd.ne().filter(|_| cmd.data().is_empty()) else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        let (p1, p2) = (cmd.p1(), cmd.p2());
        let offset = if p1 & 0x80 == 0 {
            usize::from(u16::from_be_bytes([p1, p2]))
        } else if p1 & 0x60 != 0 {
            return Response::status(StatusWord::INCORRECT_P1_P2);
        } else {
            // Short EF ID in the low 5 bits: select that EF, 8-bit offset in P2.
            let sw = self.select_ef(&u16::from(p1 & 0x1F).to_be_bytes());
            if !sw.is_ok() {
                return Response::status(sw);
            }
            usize::from(p2)
        };
        let Some(data) = self
            .current_ef
            .and_then(|fid| self.current_application()?.binaries.get(&fid))
        else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        if offset >= data.len() {
            return Response::status(StatusWord::WRONG_OFFSET);
        }
        let end = data.len().min(offset + ne);
        Response::new(data[offset..end].to_vec(), StatusWord::OK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AID: [u8; 3] = [0xA0, 0x00, 0x01];
    const OTHER_AID: [u8; 3] = [0xA0, 0x00, 0x02];

    fn card() -> VirtualCard {
        let file: Vec<u8> = (0..=255u8).chain(0..44).collect();
        VirtualCard::new(vec![0x3B, 0x00])
            .with_application(Application::new(AID.to_vec()).with_binary(0x000A, file))
            .with_application(Application::new(OTHER_AID.to_vec()).with_binary(0x0001, vec![7; 4]))
    }

    fn run(card: &mut VirtualCard, apdu: &[u8]) -> Response {
        Response::from_bytes(card.process(apdu)).unwrap()
    }

    fn select(card: &mut VirtualCard, aid: &[u8]) -> StatusWord {
        let cmd = Command::select_df(aid).unwrap();
        run(card, &cmd.to_bytes()).sw()
    }

    fn select_ef(card: &mut VirtualCard, fid: u16) -> StatusWord {
        run(card, &Command::select_ef(fid).to_bytes()).sw()
    }

    fn read(card: &mut VirtualCard, offset: u16, ne: usize) -> Response {
        run(card, &Command::read_binary(offset, ne).unwrap().to_bytes())
    }

    #[test]
    fn select_then_read_returns_the_file() {
        let mut c = card();
        assert_eq!(select(&mut c, &AID), StatusWord::OK);
        assert_eq!(select_ef(&mut c, 0x000A), StatusWord::OK);
        let r = read(&mut c, 0, 4);
        assert_eq!(r.data(), [0, 1, 2, 3]);
        assert!(r.sw().is_ok());
        assert_eq!(
            read(&mut c, 0x0100, 256).data().len(),
            44,
            "fewer bytes at the end"
        );
        assert_eq!(read(&mut c, 0x0101, 1).data(), [1]);
    }

    #[test]
    fn read_at_or_beyond_the_end_is_wrong_offset() {
        let mut c = card();
        select(&mut c, &AID);
        select_ef(&mut c, 0x000A);
        assert_eq!(read(&mut c, 300, 1).sw(), StatusWord::WRONG_OFFSET);
        assert_eq!(read(&mut c, 0x7FFF, 1).sw(), StatusWord::WRONG_OFFSET);
    }

    #[test]
    fn extended_le_reads_the_whole_file() {
        let mut c = card();
        select(&mut c, &AID);
        select_ef(&mut c, 0x000A);
        let cmd = Command::new(0x00, 0xB0, 0x00, 0x00)
            .with_ne(65_536)
            .unwrap();
        assert_eq!(run(&mut c, &cmd.to_bytes()).data().len(), 300);
    }

    #[test]
    fn read_by_short_ef_id_selects_the_file() {
        let mut c = card();
        select(&mut c, &AID);
        let r = run(&mut c, &[0x00, 0xB0, 0x8A, 0x02, 0x02]);
        assert_eq!(r.data(), [2, 3]);
        assert_eq!(read(&mut c, 4, 1).data(), [4], "EF 000A became current");
        assert_eq!(
            run(&mut c, &[0x00, 0xB0, 0x81, 0x00, 0x01]).sw(),
            StatusWord::FILE_NOT_FOUND
        );
        assert_eq!(
            run(&mut c, &[0x00, 0xB0, 0xC1, 0x00, 0x01]).sw(),
            StatusWord::INCORRECT_P1_P2
        );
    }

    #[test]
    fn files_are_scoped_to_their_application() {
        let mut c = card();
        assert_eq!(
            select_ef(&mut c, 0x000A),
            StatusWord::FILE_NOT_FOUND,
            "no DF yet"
        );
        select(&mut c, &OTHER_AID);
        assert_eq!(select_ef(&mut c, 0x000A), StatusWord::FILE_NOT_FOUND);
        assert_eq!(select_ef(&mut c, 0x0001), StatusWord::OK);
        select(&mut c, &AID);
        assert_eq!(
            read(&mut c, 0, 1).sw(),
            StatusWord::NO_CURRENT_EF,
            "DF change clears EF"
        );
    }

    #[test]
    fn unknown_aid_is_not_found_and_keeps_the_selection() {
        let mut c = card();
        select(&mut c, &AID);
        select_ef(&mut c, 0x000A);
        assert_eq!(select(&mut c, &[0xD3, 0x92]), StatusWord::FILE_NOT_FOUND);
        assert_eq!(read(&mut c, 0, 1).data(), [0]);
    }

    #[test]
    fn reset_clears_the_selection() {
        let mut c = card();
        select(&mut c, &AID);
        select_ef(&mut c, 0x000A);
        c.reset();
        assert_eq!(read(&mut c, 0, 1).sw(), StatusWord::NO_CURRENT_EF);
        assert_eq!(select_ef(&mut c, 0x000A), StatusWord::FILE_NOT_FOUND);
    }

    #[test]
    fn malformed_commands_get_iso_errors() {
        let mut c = card();
        let sw = |c: &mut VirtualCard, apdu: &[u8]| run(c, apdu).sw();
        assert_eq!(sw(&mut c, &[0x00, 0xA4]), StatusWord::WRONG_LENGTH);
        assert_eq!(
            sw(&mut c, &[0x00, 0xA4, 0x02, 0x0C, 0x03, 0x00, 0x0A]),
            StatusWord::WRONG_LENGTH
        );
        assert_eq!(
            sw(&mut c, &[0x00, 0xA4, 0x02, 0x0C, 0x01, 0x0A]),
            StatusWord::WRONG_LENGTH
        );
        assert_eq!(
            sw(&mut c, &[0x00, 0xA4, 0x04, 0x0C]),
            StatusWord::WRONG_LENGTH
        );
        assert_eq!(
            sw(&mut c, &[0x00, 0xA4, 0x00, 0x00]),
            StatusWord::INCORRECT_P1_P2
        );
        assert_eq!(
            sw(&mut c, &[0x00, 0xB0, 0x00, 0x00]),
            StatusWord::WRONG_LENGTH
        );
        assert_eq!(
            sw(&mut c, &[0x00, 0x12, 0x00, 0x00]),
            StatusWord::INS_NOT_SUPPORTED
        );
        assert_eq!(
            sw(&mut c, &[0x80, 0x2A, 0x00, 0x80]),
            StatusWord::INS_NOT_SUPPORTED
        );
        assert_eq!(
            sw(&mut c, &[0xA0, 0xA4, 0x04, 0x0C]),
            StatusWord::CLA_NOT_SUPPORTED
        );
    }
}
