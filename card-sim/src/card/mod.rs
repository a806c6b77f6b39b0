//! The virtual card's data model (applications → files) and its command interpreter.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

mod application;

use crate::fault::Fault;
use crate::sw;
pub use application::{Access, Application};
use application::{File, Node};
use card_io::apdu::{ins, Command, Response, StatusWord};

/// Longest input `80 2A` signs: k − 11 bytes of an RSA-2048 key.
const MAX_SIGN_INPUT: usize = 245;

/// Optional card behaviours that exercise a reader's protocol handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// Answer every response with data as `61xx` and hand the data out by GET RESPONSE.
    pub get_response: bool,
    /// Answer a short READ BINARY whose Le exceeds what is left of the EF with `6Cxx`.
    pub wrong_le: bool,
    /// Accept extended-length APDUs (otherwise `6700`).
    pub extended_length: bool,
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            get_response: false,
            wrong_le: false,
            extended_length: true,
        }
    }
}

/// Counts touches of the My Number files; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct ForbiddenAccessCounter(Arc<AtomicUsize>);

impl ForbiddenAccessCounter {
    /// How often 照合番号A or a file holding the My Number was selected, verified or read.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    fn touch(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A **simulated** card: answers command APDU bytes like the chip would.
///
/// Commands: SELECT DF by full AID (`00 A4 04 0C`) and EF/IEF/key by FID (`00 A4 02 0C`);
/// READ BINARY of the current EF (15-bit offset) or by short EF ID (`00 B0 8x off`, the EF
/// becomes current), short or extended Le; VERIFY of the current IEF (`00 20 00 80`) or by SFI
/// (`00 20 00 9x`), with data or empty (query, see [`Ief`]); COMPUTE DIGITAL SIGNATURE
/// `80 2A 00 80|9x` (key EF current or by SFI: PKCS#1 v1.5 type-1 padding of the given bytes,
/// ≤ 245) and `80 2A 00 00` (the AP's own key, no credential); GET CHALLENGE `00 84 00 00 Le`
/// (1–256 bytes, extended Le → `6985`); GET RESPONSE when [`Quirks::get_response`] is on.
///
/// Security status (successful VERIFYs) belongs to the current DF: selecting another DF or a
/// reset clears it; re-selecting the same DF keeps it. Retry counters survive resets.
///
/// Errors: `6A82` unknown DF/EF, `6986` no current EF, `6981` wrong kind of file, `6982`
/// access condition not met, `6984` blocked IEF, `6A88` unknown/unset IEF or key, `6B00` offset
/// at or beyond the end, `6A86` unsupported P1-P2, `6700` malformed lengths, `6D00` unknown
/// instruction, `6881` logical channels 1–3, `6E00` any other class.
#[derive(Debug, Clone)]
pub struct VirtualCard {
    atr: Vec<u8>,
    applications: Vec<Application>,
    current_df: Option<usize>,
    current_ef: Option<u16>,
    verified: BTreeSet<u16>,
    quirks: Quirks,
    /// Response data waiting for GET RESPONSE.
    pending: Zeroizing<Vec<u8>>,
    faults: Vec<Fault>,
    answered: usize,
    forbidden: ForbiddenAccessCounter,
}

impl VirtualCard {
    /// A card answering reset with `atr`, with no applications.
    pub fn new(atr: Vec<u8>) -> Self {
        Self {
            atr,
            applications: Vec::new(),
            current_df: None,
            current_ef: None,
            verified: BTreeSet::new(),
            quirks: Quirks::default(),
            pending: Zeroizing::new(Vec::new()),
            faults: Vec::new(),
            answered: 0,
            forbidden: ForbiddenAccessCounter::default(),
        }
    }

    /// Adds an application.
    pub fn with_application(mut self, application: Application) -> Self {
        self.applications.push(application);
        self
    }

    /// Sets the optional protocol behaviours.
    pub fn with_quirks(mut self, quirks: Quirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// Adds a fault (several may be combined).
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// The answer to reset.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// How often 照合番号A (券面AP IEF 0013, 入力補助AP IEF 0014) or a file holding the My
    /// Number (入力補助AP EF 0001, 券面AP EF 0005) was selected, verified or read.
    pub fn forbidden_access_count(&self) -> usize {
        self.forbidden.count()
    }

    /// A handle on the forbidden-access count that stays live while the card is served.
    pub fn forbidden_access_counter(&self) -> ForbiddenAccessCounter {
        self.forbidden.clone()
    }

    /// Tries left on IEF `fid` of the application `aid` (`None`: no such IEF, or no value set).
    pub fn tries_left(&self, aid: &[u8], fid: u16) -> Option<u8> {
        let app = self.applications.iter().find(|app| app.aid == aid)?;
        match &app.files.get(&fid)?.node {
            Node::Ief(ief) => ief.tries_left(),
            _ => None,
        }
    }

    /// How many command APDUs the card answered.
    pub fn apdus_answered(&self) -> usize {
        self.answered
    }

    /// Whether a [`Fault::RemoveAfter`] took the card out of the reader.
    pub fn is_removed(&self) -> bool {
        self.faults
            .iter()
            .any(|fault| matches!(fault, Fault::RemoveAfter(n) if self.answered >= *n))
    }

    /// Power cycle or reset: nothing is selected and no credential is verified any more.
    pub fn reset(&mut self) {
        self.current_df = None;
        self.current_ef = None;
        self.verified.clear();
        self.pending.clear();
    }

    /// Executes one command APDU and returns the response bytes (data + SW1 SW2), applying
    /// the injected faults (a removed card answers `6F00`; fronts check [`Self::is_removed`]).
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        if self.is_removed() {
            return Response::status(StatusWord::UNKNOWN_ERROR).to_bytes();
        }
        self.answered += 1;
        for fault in &self.faults {
            if let Fault::Slow(delay) = fault {
                std::thread::sleep(*delay);
            }
        }
        let wrong = self.faults.iter().find_map(|fault| match fault {
            Fault::WrongStatus { ins, sw } if apdu.get(1) == Some(ins) => Some(*sw),
            _ => None,
        });
        match wrong {
            Some(sw) => Response::status(sw).to_bytes(),
            None => self.respond(apdu).to_bytes(),
        }
    }

    fn respond(&mut self, apdu: &[u8]) -> Response {
        let Ok(cmd) = Command::from_bytes(apdu) else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        if cmd.ins() != ins::GET_RESPONSE {
            self.pending.clear();
        }
        if cmd.is_extended() && !self.quirks.extended_length {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let response = match (cmd.cla(), cmd.ins()) {
            (0x01..=0x03 | 0x81..=0x83, _) => Response::status(sw::CHANNEL_NOT_SUPPORTED),
            (0x00, ins::SELECT) => Response::status(self.select(&cmd)),
            (0x00, ins::READ_BINARY) => self.read_binary(&cmd),
            (0x00, ins::VERIFY) => Response::status(self.verify(&cmd)),
            (0x00, ins::GET_CHALLENGE) => get_challenge(&cmd),
            (0x00, ins::GET_RESPONSE) => return self.get_response(&cmd),
            (0x80, ins::SIGN) => self.sign(&cmd),
            (0x00 | 0x80, _) => Response::status(StatusWord::INS_NOT_SUPPORTED),
            _ => Response::status(StatusWord::CLA_NOT_SUPPORTED),
        };
        if self.quirks.get_response && !response.data().is_empty() {
            let announce = announce_more(response.data().len());
            self.pending = response.into_data();
            return Response::status(announce);
        }
        response
    }

    fn current_application(&self) -> Option<&Application> {
        self.current_df.and_then(|i| self.applications.get(i))
    }

    /// The file `fid` of the current DF, counting the access when it is a forbidden one.
    fn file(&self, fid: u16) -> Option<&File> {
        let file = self.current_application()?.files.get(&fid)?;
        if file.forbidden {
            self.forbidden.touch();
        }
        Some(file)
    }

    /// The file `fid` of the current DF, without counting (a second look in one command).
    fn file_again(&self, fid: u16) -> Option<&File> {
        self.current_application()?.files.get(&fid)
    }

    fn allowed(&self, access: &Access) -> bool {
        match access {
            Access::Free => true,
            Access::AnyOf(iefs) => iefs.iter().any(|fid| self.verified.contains(fid)),
        }
    }

    fn select(&mut self, cmd: &Command) -> StatusWord {
        match (cmd.p1(), cmd.p2()) {
            (0x04, 0x0C) => self.select_df(cmd.data()),
            (0x02, 0x0C) => self.select_ef(cmd.data()),
            _ => StatusWord::INCORRECT_P1_P2,
        }
    }

    fn select_df(&mut self, aid: &[u8]) -> StatusWord {
        if aid.is_empty() {
            return StatusWord::WRONG_LENGTH;
        }
        match self.applications.iter().position(|app| app.aid == aid) {
            Some(index) => {
                if self.current_df != Some(index) {
                    self.verified.clear();
                }
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
        if self.file(fid).is_some() {
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
        let (offset, file) = if p1 & 0x80 == 0 {
            let offset = usize::from(u16::from_be_bytes([p1, p2]));
            (offset, self.current_ef.and_then(|fid| self.file(fid)))
        } else if p1 & 0x60 != 0 {
            return Response::status(StatusWord::INCORRECT_P1_P2);
        } else {
            // Short EF ID in the low 5 bits: select that EF, 8-bit offset in P2.
            let fid = u16::from(p1 & 0x1F);
            let sw = self.select_ef(&fid.to_be_bytes());
            if !sw.is_ok() {
                return Response::status(sw);
            }
            (usize::from(p2), self.file_again(fid))
        };
        let Some(file) = file else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Node::Binary(data) = &file.node else {
            return Response::status(sw::INCOMPATIBLE_FILE);
        };
        if !self.allowed(&file.access) {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        if offset >= data.len() {
            return Response::status(StatusWord::WRONG_OFFSET);
        }
        let available = data.len() - offset;
        if self.quirks.wrong_le && !cmd.is_extended() && ne > available {
            // `available` < 256 here, so it fits SW2.
            return Response::status(StatusWord::new(0x6C, available as u8));
        }
        let end = data.len().min(offset + ne);
        Response::new(data[offset..end].to_vec(), StatusWord::OK)
    }

    /// The IEF or key named by P2 of VERIFY / `80 2A`: `80` = current EF, `81`–`9E` = SFI.
    fn referenced(&self, p2: u8) -> Result<u16, StatusWord> {
        match p2 {
            0x80 => self.current_ef.ok_or(StatusWord::NO_CURRENT_EF),
            0x81..=0x9E => Ok(u16::from(p2 & 0x1F)),
            _ => Err(StatusWord::INCORRECT_P1_P2),
        }
    }

    fn verify(&mut self, cmd: &Command) -> StatusWord {
        if cmd.p1() != 0 {
            return StatusWord::INCORRECT_P1_P2;
        }
        let fid = match self.referenced(cmd.p2()) {
            Ok(fid) => fid,
            Err(sw) => return sw,
        };
        match self.file(fid).map(|file| &file.node) {
            Some(Node::Ief(_)) => {}
            Some(_) if cmd.p2() == 0x80 => return sw::INCOMPATIBLE_FILE,
            _ => return StatusWord::REFERENCED_DATA_NOT_FOUND,
        }
        let verified = self.verified.contains(&fid);
        let Some(Node::Ief(ief)) = self
            .current_df
            .and_then(|i| self.applications.get_mut(i))
            .and_then(|app| app.files.get_mut(&fid))
            .map(|file| &mut file.node)
        else {
            return StatusWord::REFERENCED_DATA_NOT_FOUND;
        };
        if cmd.data().is_empty() {
            return ief.query(verified);
        }
        let answer = ief.verify(cmd.data());
        if answer.is_ok() {
            self.verified.insert(fid);
        } else {
            self.verified.remove(&fid);
        }
        answer
    }

    fn sign(&self, cmd: &Command) -> Response {
        if cmd.p1() != 0 {
            return Response::status(StatusWord::INCORRECT_P1_P2);
        }
        let input = cmd.data();
        if input.is_empty() || input.len() > MAX_SIGN_INPUT {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let key = if cmd.p2() == 0x00 {
            match self
                .current_application()
                .and_then(|app| app.self_signing_key.as_ref())
            {
                Some(key) => key,
                None => return Response::status(StatusWord::REFERENCED_DATA_NOT_FOUND),
            }
        } else {
            let fid = match self.referenced(cmd.p2()) {
                Ok(fid) => fid,
                Err(sw) => return Response::status(sw),
            };
            match self.file(fid) {
                Some(File {
                    node: Node::Key(key),
                    access,
                    ..
                }) if self.allowed(access) => key,
                Some(File {
                    node: Node::Key(_), ..
                }) => return Response::status(StatusWord::SECURITY_NOT_SATISFIED),
                Some(_) if cmd.p2() == 0x80 => return Response::status(sw::INCOMPATIBLE_FILE),
                _ => return Response::status(StatusWord::REFERENCED_DATA_NOT_FOUND),
            }
        };
        match key.sign_raw(input) {
            Some(signature) => Response::new(signature, StatusWord::OK),
            None => Response::status(StatusWord::WRONG_LENGTH),
        }
    }

    fn get_response(&mut self, cmd: &Command) -> Response {
        if (cmd.p1(), cmd.p2()) != (0, 0) {
            return Response::status(StatusWord::INCORRECT_P1_P2);
        }
        let Some(ne) = cmd.ne() else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        if self.pending.is_empty() {
            return Response::status(sw::CONDITIONS_NOT_SATISFIED);
        }
        let n = ne.min(self.pending.len());
        let data: Vec<u8> = self.pending.drain(..n).collect();
        let sw = match self.pending.len() {
            0 => StatusWord::OK,
            left => announce_more(left),
        };
        Response::new(data, sw)
    }
}

/// `61xx` announcing `len` more bytes (`00` for 256 or more).
fn announce_more(len: usize) -> StatusWord {
    StatusWord::new(0x61, u8::try_from(len).unwrap_or(0))
}

fn get_challenge(cmd: &Command) -> Response {
    if (cmd.p1(), cmd.p2()) != (0, 0) {
        return Response::status(StatusWord::INCORRECT_P1_P2);
    }
    match cmd.ne() {
        Some(_) if !cmd.data().is_empty() => Response::status(StatusWord::WRONG_LENGTH),
        None => Response::status(StatusWord::WRONG_LENGTH),
        Some(_) if cmd.is_extended() => Response::status(sw::CONDITIONS_NOT_SATISFIED),
        Some(ne) => {
            let mut challenge = vec![0; ne];
            match SystemRandom::new().fill(&mut challenge) {
                Ok(()) => Response::new(challenge, StatusWord::OK),
                Err(_) => Response::status(StatusWord::UNKNOWN_ERROR),
            }
        }
    }
}

#[cfg(test)]
mod tests;
