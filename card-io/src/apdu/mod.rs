//! ISO/IEC 7816-4 command and response APDUs.
//!
//! Command data and response data may hold PINs or personal data: both are zeroized on drop and
//! their `Debug` output shows lengths only, never bytes.

use std::fmt;

use zeroize::Zeroizing;

/// Largest Nc (command data length) an extended APDU can carry.
const MAX_NC: usize = 0xFFFF;
/// Largest Ne (expected response length) an extended APDU can ask for.
const MAX_NE: usize = 0x1_0000;
/// Largest Ne a short APDU can ask for (Le = `00`).
const MAX_SHORT_NE: usize = 0x100;
/// Largest offset of a short READ BINARY with P1 bit 8 clear (15 bits).
const MAX_SHORT_OFFSET: u16 = 0x7FFF;

/// Why an APDU could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    /// Command data longer than 65 535 bytes.
    #[error("command data of {0} bytes does not fit an APDU")]
    DataTooLong(usize),
    /// Ne outside 1..=65 536 (or outside the range the command allows).
    #[error("expected length {0} is out of range")]
    LeOutOfRange(usize),
    /// READ BINARY offset above `7FFF`.
    #[error("offset {0:#06x} does not fit a short READ BINARY")]
    OffsetOutOfRange(u16),
    /// Command bytes that follow none of the ISO 7816-4 cases.
    #[error("malformed command APDU of {0} bytes")]
    MalformedCommand(usize),
    /// A response without its two status bytes.
    #[error("response of {0} bytes has no status word")]
    ResponseTooShort(usize),
}

/// A two-byte status word (SW1 SW2).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(u16);

impl StatusWord {
    /// `9000`: normal end.
    pub const OK: Self = Self(0x9000);
    /// `6700`: wrong length (Lc/Le).
    pub const WRONG_LENGTH: Self = Self(0x6700);
    /// `6986`: command not allowed, no current EF.
    pub const NO_CURRENT_EF: Self = Self(0x6986);
    /// `6A82`: file or application not found.
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    /// `6A86`: incorrect P1-P2.
    pub const INCORRECT_P1_P2: Self = Self(0x6A86);
    /// `6B00`: offset outside the EF.
    pub const WRONG_OFFSET: Self = Self(0x6B00);
    /// `6D00`: instruction not supported.
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    /// `6E00`: class not supported.
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    /// `6282`: end of file reached before Ne bytes.
    pub const END_OF_FILE: Self = Self(0x6282);
    /// `6982`: security status not satisfied.
    pub const SECURITY_NOT_SATISFIED: Self = Self(0x6982);
    /// `6984`: referenced key (IEF) locked.
    pub const KEY_LOCKED: Self = Self(0x6984);
    /// `6A88`: referenced data (key, IEF) not found.
    pub const REFERENCED_DATA_NOT_FOUND: Self = Self(0x6A88);
    /// `6F00`: no precise diagnosis.
    pub const UNKNOWN_ERROR: Self = Self(0x6F00);

    /// The status word `sw1 sw2`.
    pub const fn new(sw1: u8, sw2: u8) -> Self {
        Self(u16::from_be_bytes([sw1, sw2]))
    }

    /// SW1.
    pub const fn sw1(self) -> u8 {
        self.0.to_be_bytes()[0]
    }

    /// SW2.
    pub const fn sw2(self) -> u8 {
        self.0.to_be_bytes()[1]
    }

    /// The status word as one number, e.g. `0x9000`.
    pub const fn value(self) -> u16 {
        self.0
    }

    /// `9000`.
    pub const fn is_ok(self) -> bool {
        self.0 == Self::OK.0
    }

    /// `63Cx`: verification failed (or queried), x tries left.
    pub const fn retries_left(self) -> Option<u8> {
        if self.sw1() == 0x63 && self.sw2() & 0xF0 == 0xC0 {
            Some(self.sw2() & 0x0F)
        } else {
            None
        }
    }

    /// `61xx`: xx more bytes are waiting for GET RESPONSE (`00` = 256).
    pub const fn more_data(self) -> Option<usize> {
        if self.sw1() == 0x61 {
            Some(short_ne(self.sw2()))
        } else {
            None
        }
    }

    /// `6Cxx`: wrong Le, resend with Le = xx (`00` = 256).
    pub const fn wrong_le(self) -> Option<usize> {
        if self.sw1() == 0x6C {
            Some(short_ne(self.sw2()))
        } else {
            None
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({self})")
    }
}

/// A short length byte as a count: `00` means 256.
const fn short_ne(byte: u8) -> usize {
    if byte == 0 {
        MAX_SHORT_NE
    } else {
        byte as usize
    }
}

/// A command APDU.
///
/// Encoded short when Nc ≤ 255 and Ne ≤ 256, extended otherwise.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: Zeroizing<Vec<u8>>,
    ne: Option<usize>,
}

impl Command {
    /// A case-1 command (header only).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Zeroizing::new(Vec::new()),
            ne: None,
        }
    }

    /// Adds command data (at most 65 535 bytes).
    pub fn with_data(mut self, data: Vec<u8>) -> Result<Self, ApduError> {
        let data = Zeroizing::new(data);
        if data.len() > MAX_NC {
            return Err(ApduError::DataTooLong(data.len()));
        }
        self.data = data;
        Ok(self)
    }

    /// Sets Ne, the number of response bytes expected (1..=65 536).
    pub fn with_ne(mut self, ne: usize) -> Result<Self, ApduError> {
        if !(1..=MAX_NE).contains(&ne) {
            return Err(ApduError::LeOutOfRange(ne));
        }
        self.ne = Some(ne);
        Ok(self)
    }

    /// SELECT DF by name without FCI: `00 A4 04 0C Lc AID`.
    pub fn select_df(aid: &[u8]) -> Result<Self, ApduError> {
        Self::new(0x00, ins::SELECT, 0x04, 0x0C).with_data(aid.to_vec())
    }

    /// SELECT EF under the current DF without FCI: `00 A4 02 0C 02 FID`.
    pub fn select_ef(fid: u16) -> Self {
        Self {
            data: Zeroizing::new(fid.to_be_bytes().to_vec()),
            ..Self::new(0x00, ins::SELECT, 0x02, 0x0C)
        }
    }

    /// READ BINARY of the current EF, short form: `00 B0 off_hi off_lo Le`, offset ≤ `7FFF`,
    /// Ne 1..=256.
    pub fn read_binary(offset: u16, ne: usize) -> Result<Self, ApduError> {
        if offset > MAX_SHORT_OFFSET {
            return Err(ApduError::OffsetOutOfRange(offset));
        }
        if !(1..=MAX_SHORT_NE).contains(&ne) {
            return Err(ApduError::LeOutOfRange(ne));
        }
        let [p1, p2] = offset.to_be_bytes();
        Self::new(0x00, ins::READ_BINARY, p1, p2).with_ne(ne)
    }

    /// READ BINARY of the current EF that may use an extended Le: `00 B0 off_hi off_lo Le`,
    /// offset ≤ `7FFF`, Ne 1..=65 536 (short encoding when Ne ≤ 256).
    pub fn read_binary_extended(offset: u16, ne: usize) -> Result<Self, ApduError> {
        if offset > MAX_SHORT_OFFSET {
            return Err(ApduError::OffsetOutOfRange(offset));
        }
        let [p1, p2] = offset.to_be_bytes();
        Self::new(0x00, ins::READ_BINARY, p1, p2).with_ne(ne)
    }

    /// VERIFY with no data: asks for the retry counter of the key named by `p2` (`80` = the
    /// current EF) without spending a try.
    pub fn verify_status(p2: u8) -> Self {
        Self::new(0x00, ins::VERIFY, 0x00, p2)
    }

    /// VERIFY `secret` against the key named by `p2`: `00 20 00 P2 Lc secret`.
    pub fn verify(p2: u8, secret: &[u8]) -> Result<Self, ApduError> {
        Self::new(0x00, ins::VERIFY, 0x00, p2).with_data(secret.to_vec())
    }

    /// GET RESPONSE: `00 C0 00 00 Le`, Ne 1..=256.
    pub fn get_response(ne: usize) -> Result<Self, ApduError> {
        if ne > MAX_SHORT_NE {
            return Err(ApduError::LeOutOfRange(ne));
        }
        Self::new(0x00, ins::GET_RESPONSE, 0x00, 0x00).with_ne(ne)
    }

    /// CLA.
    pub fn cla(&self) -> u8 {
        self.cla
    }

    /// INS.
    pub fn ins(&self) -> u8 {
        self.ins
    }

    /// P1.
    pub fn p1(&self) -> u8 {
        self.p1
    }

    /// P2.
    pub fn p2(&self) -> u8 {
        self.p2
    }

    /// Command data (may be a PIN: never log it).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Ne, the number of response bytes expected, if any.
    pub fn ne(&self) -> Option<usize> {
        self.ne
    }

    /// Whether the command needs the extended length encoding.
    pub fn is_extended(&self) -> bool {
        self.data.len() > 0xFF || self.ne.is_some_and(|ne| ne > MAX_SHORT_NE)
    }

    /// The encoded APDU (zeroized on drop).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(4 + 3 + self.data.len() + 3));
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let extended = self.is_extended();
        // Lengths below are range-checked by the constructors; the casts keep the low bytes,
        // which is exactly the encoding (256 → 00, 65 536 → 00 00).
        if !self.data.is_empty() {
            if extended {
                out.push(0);
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
            } else {
                out.push(self.data.len() as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(ne) = self.ne {
            if extended {
                if self.data.is_empty() {
                    out.push(0);
                }
                out.extend_from_slice(&((ne & 0xFFFF) as u16).to_be_bytes());
            } else {
                out.push((ne & 0xFF) as u8);
            }
        }
        out
    }

    /// Parses command bytes (cases 1, 2, 3, 4; short and extended).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ApduError> {
        let malformed = || ApduError::MalformedCommand(bytes.len());
        let (header, body) = bytes.split_first_chunk::<4>().ok_or_else(malformed)?;
        let [cla, ins, p1, p2] = *header;
        let command = Self::new(cla, ins, p1, p2);
        let (data, ne) = match body {
            [] => (&[][..], None),
            [le] => (&[][..], Some(short_ne(*le))),
            [0, hi, lo] => (&[][..], Some(extended_ne(*hi, *lo))),
            [0, lc_hi, lc_lo, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*lc_hi, *lc_lo]));
                match rest.len() {
                    _ if lc == 0 => return Err(malformed()),
                    n if n == lc => (rest, None),
                    n if n == lc + 2 => (&rest[..lc], Some(extended_ne(rest[lc], rest[lc + 1]))),
                    _ => return Err(malformed()),
                }
            }
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len() {
                    _ if lc == 0 => return Err(malformed()),
                    n if n == lc => (rest, None),
                    n if n == lc + 1 => (&rest[..lc], Some(short_ne(rest[lc]))),
                    _ => return Err(malformed()),
                }
            }
        };
        let command = if data.is_empty() {
            command
        } else {
            command.with_data(data.to_vec())?
        };
        match ne {
            Some(ne) => command.with_ne(ne),
            None => Ok(command),
        }
    }
}

/// An extended Le as a count: `00 00` means 65 536.
fn extended_ne(hi: u8, lo: u8) -> usize {
    match u16::from_be_bytes([hi, lo]) {
        0 => MAX_NE,
        n => usize::from(n),
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Command({:02X} {:02X} {:02X} {:02X}, {} data bytes, Ne {:?})",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len(),
            self.ne
        )
    }
}

/// A response APDU: data and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    data: Zeroizing<Vec<u8>>,
    sw: StatusWord,
}

impl Response {
    /// A response with `data` and `sw`.
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Self {
        Self {
            data: Zeroizing::new(data),
            sw,
        }
    }

    /// A response with no data.
    pub fn status(sw: StatusWord) -> Self {
        Self::new(Vec::new(), sw)
    }

    /// Splits raw response bytes into data and status word.
    pub fn from_bytes(raw: Vec<u8>) -> Result<Self, ApduError> {
        let mut data = Zeroizing::new(raw);
        let len = data.len();
        let [sw1, sw2] = *data
            .last_chunk::<2>()
            .ok_or(ApduError::ResponseTooShort(len))?;
        data.truncate(len - 2);
        Ok(Self {
            data,
            sw: StatusWord::new(sw1, sw2),
        })
    }

    /// Data followed by SW1 SW2.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&[self.sw.sw1(), self.sw.sw2()]);
        out
    }

    /// The response data (may be personal data: never log it).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Takes the response data out (still zeroized on drop).
    pub fn into_data(self) -> Zeroizing<Vec<u8>> {
        self.data
    }

    /// The status word.
    pub fn sw(&self) -> StatusWord {
        self.sw
    }

    /// Appends `more` (from GET RESPONSE) and takes its status word.
    pub(crate) fn append(&mut self, more: Response) {
        self.data.extend_from_slice(&more.data);
        self.sw = more.sw;
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Response({} data bytes, {})", self.data.len(), self.sw)
    }
}

/// Instruction bytes used by this crate.
pub mod ins {
    /// SELECT.
    pub const SELECT: u8 = 0xA4;
    /// READ BINARY (offset in P1-P2).
    pub const READ_BINARY: u8 = 0xB0;
    /// GET RESPONSE.
    pub const GET_RESPONSE: u8 = 0xC0;
    /// VERIFY (PIN, 照合番号).
    pub const VERIFY: u8 = 0x20;
    /// COMPUTE DIGITAL SIGNATURE (CLA `80`, JICSAP).
    pub const SIGN: u8 = 0x2A;
    /// GET CHALLENGE.
    pub const GET_CHALLENGE: u8 = 0x84;
    /// GET DATA.
    pub const GET_DATA: u8 = 0xCA;
}

#[cfg(test)]
mod tests;
