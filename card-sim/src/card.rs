//! The virtual card's data model (applications → files) and its command interpreter.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::fault::Fault;
use crate::ief::Ief;
use crate::pki::SigningKey;
use card_io::apdu::{ins, Command, Response, StatusWord};

/// Status words the simulator answers beyond those named in [`StatusWord`].
pub(crate) mod sw {
    use card_io::apdu::StatusWord;

    /// `6881`: logical channel not supported.
    pub const CHANNEL_NOT_SUPPORTED: StatusWord = StatusWord::new(0x68, 0x81);
    /// `6981`: command incompatible with the file structure.
    pub const INCOMPATIBLE_FILE: StatusWord = StatusWord::new(0x69, 0x81);
    /// `6985`: conditions of use not satisfied.
    pub const CONDITIONS_NOT_SATISFIED: StatusWord = StatusWord::new(0x69, 0x85);

    /// `63Cx`: verification failed or queried, `left` tries left.
    pub const fn retries(left: u8) -> StatusWord {
        StatusWord::new(0x63, 0xC0 | (left & 0x0F))
    }
}

/// Longest input `80 2A` signs: k − 11 bytes of an RSA-2048 key.
const MAX_SIGN_INPUT: usize = 245;

/// Who may use a file: READ BINARY for data EFs, `80 2A` for keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Always.
    Free,
    /// After a successful VERIFY of any of these IEFs in the current DF session.
    AnyOf(Vec<u16>),
}

#[derive(Clone)]
enum Node {
    Binary(Vec<u8>),
    Ief(Ief),
    Key(SigningKey),
}

#[derive(Clone)]
struct File {
    node: Node,
    access: Access,
    /// Holds or guards the 12-digit My Number: every touch is counted.
    forbidden: bool,
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Node::Binary(data) => write!(f, "EF({} bytes, {:?})", data.len(), self.access),
            Node::Ief(ief) => write!(f, "{ief:?}"),
            Node::Key(_) => write!(f, "Key({:?})", self.access),
        }
    }
}

/// An application (DF) on the virtual card: data EFs, IEFs and keys by file ID.
#[derive(Debug, Clone)]
pub struct Application {
    aid: Vec<u8>,
    files: BTreeMap<u16, File>,
    /// Key of `80 2A 00 00` (the AP's own signature, no credential needed).
    self_signing_key: Option<SigningKey>,
}

impl Application {
    /// An application named `aid` with no files.
    pub fn new(aid: Vec<u8>) -> Self {
        Self {
            aid,
            files: BTreeMap::new(),
            self_signing_key: None,
        }
    }

    fn with_file(mut self, fid: u16, node: Node, access: Access) -> Self {
        let file = File {
            node,
            access,
            forbidden: false,
        };
        self.files.insert(fid, file);
        self
    }

    /// Adds (or replaces) the transparent EF `fid` holding `data`, readable by anyone.
    pub fn with_binary(self, fid: u16, data: Vec<u8>) -> Self {
        self.with_file(fid, Node::Binary(data), Access::Free)
    }

    /// Adds the transparent EF `fid`, readable under `access`.
    pub fn with_protected_binary(self, fid: u16, data: Vec<u8>, access: Access) -> Self {
        self.with_file(fid, Node::Binary(data), access)
    }

    /// Adds the IEF `fid`.
    pub fn with_ief(self, fid: u16, ief: Ief) -> Self {
        self.with_file(fid, Node::Ief(ief), Access::Free)
    }

    /// Adds the private key EF `fid`, usable by `80 2A` under `access`.
    pub fn with_key(self, fid: u16, key: SigningKey, access: Access) -> Self {
        self.with_file(fid, Node::Key(key), access)
    }

    /// Sets the key that `80 2A 00 00` signs with, without credential.
    pub fn with_self_signing_key(mut self, key: SigningKey) -> Self {
        self.self_signing_key = Some(key);
        self
    }

    /// Marks `fid` as holding or guarding the My Number: selecting, verifying or reading it is
    /// counted by [`VirtualCard::forbidden_access_count`].
    pub fn forbidden(mut self, fid: u16) -> Self {
        if let Some(file) = self.files.get_mut(&fid) {
            file.forbidden = true;
        }
        self
    }
}

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
mod tests {
    use super::*;

    const AID: [u8; 3] = [0xA0, 0x00, 0x01];
    const OTHER_AID: [u8; 3] = [0xA0, 0x00, 0x02];

    fn card() -> VirtualCard {
        let file: Vec<u8> = (0..=255u8).chain(0..44).collect();
        VirtualCard::new(vec![0x3B, 0x00])
            .with_application(
                Application::new(AID.to_vec())
                    .with_binary(0x000A, file)
                    .with_protected_binary(0x0002, vec![9; 8], Access::AnyOf(vec![0x0012]))
                    .with_ief(0x0012, Ief::new("1234", 3, 3))
                    .with_ief(0x0013, Ief::new("123456789012", 10, 10))
                    .with_protected_binary(0x0005, vec![5; 4], Access::AnyOf(vec![0x0013]))
                    .forbidden(0x0013)
                    .forbidden(0x0005),
            )
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

    fn verify(card: &mut VirtualCard, p2: u8, pin: &[u8]) -> StatusWord {
        let mut apdu = vec![0x00, 0x20, 0x00, p2];
        if !pin.is_empty() {
            apdu.push(pin.len() as u8);
            apdu.extend_from_slice(pin);
        }
        run(card, &apdu).sw()
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
        let mut short_only = card().with_quirks(Quirks {
            extended_length: false,
            ..Quirks::default()
        });
        select(&mut short_only, &AID);
        select_ef(&mut short_only, 0x000A);
        assert_eq!(
            run(&mut short_only, &cmd.to_bytes()).sw(),
            StatusWord::WRONG_LENGTH
        );
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
    fn reset_clears_the_selection_and_the_security_status() {
        let mut c = card();
        select(&mut c, &AID);
        assert!(verify(&mut c, 0x92, b"1234").is_ok());
        select_ef(&mut c, 0x000A);
        c.reset();
        assert_eq!(read(&mut c, 0, 1).sw(), StatusWord::NO_CURRENT_EF);
        assert_eq!(select_ef(&mut c, 0x000A), StatusWord::FILE_NOT_FOUND);
        select(&mut c, &AID);
        select_ef(&mut c, 0x0002);
        assert_eq!(read(&mut c, 0, 1).sw(), StatusWord::SECURITY_NOT_SATISFIED);
    }

    #[test]
    fn protected_ef_needs_its_credential_in_the_same_df_session() {
        let mut c = card();
        select(&mut c, &AID);
        select_ef(&mut c, 0x0002);
        assert_eq!(read(&mut c, 0, 8).sw(), StatusWord::SECURITY_NOT_SATISFIED);
        assert_eq!(
            run(&mut c, &[0x00, 0xB0, 0x82, 0x00, 0x01]).sw(),
            StatusWord::SECURITY_NOT_SATISFIED,
            "SFI form too"
        );
        select_ef(&mut c, 0x0012);
        assert_eq!(verify(&mut c, 0x80, b"1234"), StatusWord::OK);
        select_ef(&mut c, 0x0002);
        assert_eq!(read(&mut c, 0, 8).data(), [9; 8]);
        select(&mut c, &AID);
        assert_eq!(read(&mut c, 0, 8).sw(), StatusWord::NO_CURRENT_EF);
        assert_eq!(
            run(&mut c, &[0x00, 0xB0, 0x82, 0x00, 0x08]).data(),
            [9; 8],
            "re-selecting the same DF keeps the status"
        );
        select(&mut c, &OTHER_AID);
        select(&mut c, &AID);
        assert_eq!(
            run(&mut c, &[0x00, 0xB0, 0x82, 0x00, 0x08]).sw(),
            StatusWord::SECURITY_NOT_SATISFIED,
            "another DF in between clears it"
        );
    }

    #[test]
    fn verify_by_current_ief_and_by_sfi_share_the_counter() {
        let mut c = card();
        select(&mut c, &AID);
        assert_eq!(verify(&mut c, 0x80, b"1234"), StatusWord::NO_CURRENT_EF);
        select_ef(&mut c, 0x000A);
        assert_eq!(verify(&mut c, 0x80, b"1234"), sw::INCOMPATIBLE_FILE);
        assert_eq!(
            verify(&mut c, 0x9A, b"1234"),
            StatusWord::REFERENCED_DATA_NOT_FOUND
        );
        assert_eq!(verify(&mut c, 0x92, b""), sw::retries(3));
        assert_eq!(verify(&mut c, 0x92, b"9999"), sw::retries(2));
        select_ef(&mut c, 0x0012);
        assert_eq!(verify(&mut c, 0x80, b""), sw::retries(2));
        assert_eq!(verify(&mut c, 0x80, b"9999"), sw::retries(1));
        assert_eq!(verify(&mut c, 0x92, b"9999"), sw::retries(0));
        assert_eq!(verify(&mut c, 0x92, b"1234"), StatusWord::KEY_LOCKED);
        assert_eq!(verify(&mut c, 0x80, b""), sw::retries(0));
        assert_eq!(c.tries_left(&AID, 0x0012), Some(0));
        assert_eq!(verify(&mut c, 0x40, b""), StatusWord::INCORRECT_P1_P2);
        assert_eq!(
            run(&mut c, &[0x00, 0x20, 0x01, 0x80]).sw(),
            StatusWord::INCORRECT_P1_P2
        );
    }

    #[test]
    fn empty_verify_after_success_answers_9000() {
        let mut c = card();
        select(&mut c, &AID);
        assert!(verify(&mut c, 0x92, b"1234").is_ok());
        assert_eq!(verify(&mut c, 0x92, b""), StatusWord::OK);
        assert_eq!(verify(&mut c, 0x92, b"0000"), sw::retries(2));
        assert_eq!(
            verify(&mut c, 0x92, b""),
            sw::retries(2),
            "failure drops it"
        );
    }

    #[test]
    fn touching_forbidden_files_is_counted() {
        let mut c = card();
        select(&mut c, &AID);
        select_ef(&mut c, 0x000A);
        assert_eq!(c.forbidden_access_count(), 0);
        let counter = c.forbidden_access_counter();
        select_ef(&mut c, 0x0013);
        verify(&mut c, 0x93, b"");
        run(&mut c, &[0x00, 0xB0, 0x85, 0x00, 0x01]);
        assert_eq!(c.forbidden_access_count(), 3);
        assert_eq!(counter.count(), 3);
    }

    #[test]
    fn get_response_quirk_hands_out_data_in_pieces() {
        let mut c = card().with_quirks(Quirks {
            get_response: true,
            ..Quirks::default()
        });
        select(&mut c, &AID);
        select_ef(&mut c, 0x000A);
        assert_eq!(read(&mut c, 0, 4).sw(), StatusWord::new(0x61, 4));
        let part = run(&mut c, &[0x00, 0xC0, 0x00, 0x00, 0x03]);
        assert_eq!(
            (part.data(), part.sw()),
            (&[0, 1, 2][..], StatusWord::new(0x61, 1))
        );
        let rest = run(&mut c, &[0x00, 0xC0, 0x00, 0x00, 0x01]);
        assert_eq!((rest.data(), rest.sw()), (&[3][..], StatusWord::OK));
        assert_eq!(
            run(&mut c, &[0x00, 0xC0, 0x00, 0x00, 0x01]).sw(),
            sw::CONDITIONS_NOT_SATISFIED
        );
        assert_eq!(
            read(&mut c, 0, 256).sw(),
            StatusWord::new(0x61, 0),
            "256 bytes"
        );
    }

    #[test]
    fn wrong_le_quirk_answers_6cxx_at_the_end_of_a_file() {
        let mut c = card().with_quirks(Quirks {
            wrong_le: true,
            ..Quirks::default()
        });
        select(&mut c, &AID);
        select_ef(&mut c, 0x000A);
        assert_eq!(read(&mut c, 0, 256).data().len(), 256);
        assert_eq!(read(&mut c, 256, 256).sw(), StatusWord::new(0x6C, 44));
        assert_eq!(read(&mut c, 256, 44).data().len(), 44);
    }

    #[test]
    fn get_challenge_gives_fresh_random_bytes() {
        let mut c = card();
        let a = run(&mut c, &[0x00, 0x84, 0x00, 0x00, 0x10]);
        let b = run(&mut c, &[0x00, 0x84, 0x00, 0x00, 0x10]);
        assert_eq!(a.data().len(), 16);
        assert_ne!(a.data(), b.data());
        assert_eq!(
            run(&mut c, &[0x00, 0x84, 0x00, 0x00, 0x00]).data().len(),
            256
        );
        assert_eq!(
            run(&mut c, &[0x00, 0x84, 0x00, 0x00, 0x00, 0x01, 0x01]).sw(),
            sw::CONDITIONS_NOT_SATISFIED
        );
        assert_eq!(
            run(&mut c, &[0x00, 0x84, 0x00, 0x00]).sw(),
            StatusWord::WRONG_LENGTH
        );
    }

    #[test]
    fn faults_take_effect() {
        let mut c = card()
            .with_fault(Fault::RemoveAfter(2))
            .with_fault(Fault::WrongStatus {
                ins: 0xB0,
                sw: StatusWord::new(0x6F, 0x00),
            });
        assert!(!c.is_removed());
        assert!(select(&mut c, &AID).is_ok());
        select_ef(&mut c, 0x000A);
        assert!(c.is_removed());
        assert_eq!(c.apdus_answered(), 2);
        assert_eq!(read(&mut c, 0, 1).sw(), StatusWord::UNKNOWN_ERROR);
        assert_eq!(c.apdus_answered(), 2, "a removed card answers nothing");

        let mut wrong = card().with_fault(Fault::WrongStatus {
            ins: 0xB0,
            sw: StatusWord::new(0x65, 0x81),
        });
        select(&mut wrong, &AID);
        select_ef(&mut wrong, 0x000A);
        assert_eq!(read(&mut wrong, 0, 1).sw(), StatusWord::new(0x65, 0x81));

        let mut slow = card().with_fault(Fault::Slow(std::time::Duration::from_millis(30)));
        let started = std::time::Instant::now();
        select(&mut slow, &AID);
        assert!(started.elapsed() >= std::time::Duration::from_millis(30));
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
            StatusWord::WRONG_LENGTH
        );
        assert_eq!(
            sw(&mut c, &[0x01, 0xA4, 0x04, 0x0C, 0x01, 0xA0]),
            sw::CHANNEL_NOT_SUPPORTED
        );
        assert_eq!(
            sw(&mut c, &[0xA0, 0xA4, 0x04, 0x0C]),
            StatusWord::CLA_NOT_SUPPORTED
        );
    }
}
