//! Reading a whole TLV file: a short header read, then the rest with one extended READ BINARY
//! when the reader and card allow it, or in 256-byte chunks.
//!
//! The first long read of a card session probes extended length; a `6700` (or another refusal,
//! or a reader error) switches the session to short chunks for good.

use zeroize::Zeroizing;

use super::{tlv, CardError, RecordError};
use crate::apdu::{Command, Response, StatusWord};
use crate::transport::{CardTransport, TransportError};

/// Bytes read first: enough for any tag and length of the card's files.
const HEADER_READ: usize = 8;
/// Largest short READ BINARY answer.
const SHORT_CHUNK: usize = 256;
/// Largest file the card's 15-bit offsets can address.
const MAX_FILE_LEN: usize = 0x8000;

/// How long files are read in this card session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// Not known yet: the next long read tries extended length.
    #[default]
    Probe,
    /// Extended READ BINARY works.
    Extended,
    /// Short chunks only.
    Short,
}

/// Selects EF `fid` of the current DF and reads the TLV record at its start (filler after it is
/// not read).
pub(crate) fn read_tlv_file(
    t: &mut dyn CardTransport,
    mode: &mut ReadMode,
    fid: u16,
) -> Result<Zeroizing<Vec<u8>>, CardError> {
    super::expect_ok(t, &Command::select_ef(fid), "SELECT EF")?;
    let head = read_short(t, 0, HEADER_READ)?;
    let total = tlv::header(&head)
        .map_err(|err| match err {
            RecordError::Truncated => CardError::Truncated { fid },
            err => CardError::Record(err),
        })?
        .total();
    if total > MAX_FILE_LEN {
        return Err(CardError::Record(RecordError::BadLength));
    }
    let mut file = Zeroizing::new(Vec::with_capacity(total));
    file.extend_from_slice(&head[..head.len().min(total)]);
    while file.len() < total {
        let chunk = read_more(t, mode, file.len(), total - file.len())?;
        if chunk.is_empty() {
            return Err(CardError::Truncated { fid });
        }
        let take = chunk.len().min(total - file.len());
        file.extend_from_slice(&chunk[..take]);
    }
    Ok(file)
}

/// Reads up to `want` bytes at `offset`, extended if the session allows.
fn read_more(
    t: &mut dyn CardTransport,
    mode: &mut ReadMode,
    offset: usize,
    want: usize,
) -> Result<Zeroizing<Vec<u8>>, CardError> {
    if want > SHORT_CHUNK && *mode != ReadMode::Short {
        let cmd = Command::read_binary_extended(offset_u16(offset)?, want)?;
        match (t.transmit(&cmd), *mode) {
            (Ok(r), _) if readable(&r) => {
                *mode = ReadMode::Extended;
                return Ok(r.into_data());
            }
            (Ok(r), ReadMode::Probe) if r.sw() != StatusWord::WRONG_OFFSET => {
                tracing::debug!(sw = %r.sw(), "extended READ BINARY refused; using short reads");
                *mode = ReadMode::Short;
            }
            (Err(TransportError::Protocol(_) | TransportError::Other(_)), ReadMode::Probe) => {
                tracing::debug!("extended READ BINARY failed; using short reads");
                *mode = ReadMode::Short;
            }
            (Ok(r), _) => return status_of_read(r),
            (Err(err), _) => return Err(err.into()),
        }
    }
    read_short(t, offset, want.min(SHORT_CHUNK))
}

/// One short READ BINARY.
fn read_short(
    t: &mut dyn CardTransport,
    offset: usize,
    want: usize,
) -> Result<Zeroizing<Vec<u8>>, CardError> {
    let response = t.transmit(&Command::read_binary(offset_u16(offset)?, want)?)?;
    if readable(&response) {
        Ok(response.into_data())
    } else {
        status_of_read(response)
    }
}

/// `9000`, or `6282` (end of file before Ne bytes) with the data there was.
fn readable(response: &Response) -> bool {
    response.sw().is_ok() || response.sw() == StatusWord::END_OF_FILE
}

/// The error for a READ BINARY that got no data: past the end of the file is a truncated file.
fn status_of_read(response: Response) -> Result<Zeroizing<Vec<u8>>, CardError> {
    match response.sw() {
        StatusWord::WRONG_OFFSET => Ok(Zeroizing::new(Vec::new())),
        sw => Err(CardError::Status {
            step: "READ BINARY",
            sw,
        }),
    }
}

fn offset_u16(offset: usize) -> Result<u16, CardError> {
    u16::try_from(offset).map_err(|_| CardError::Record(RecordError::BadLength))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::RawTransport;

    /// A card with one EF `0002` that may refuse extended Le.
    struct FileCard {
        file: Vec<u8>,
        extended_ok: bool,
        sent: Vec<Vec<u8>>,
    }

    impl FileCard {
        fn new(file: Vec<u8>, extended_ok: bool) -> Self {
            Self {
                file,
                extended_ok,
                sent: Vec::new(),
            }
        }
    }

    impl RawTransport for FileCard {
        fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.sent.push(apdu.to_vec());
            let cmd = Command::from_bytes(apdu).unwrap();
            if cmd.ins() == 0xA4 {
                return Ok(vec![0x90, 0x00]);
            }
            if cmd.is_extended() && !self.extended_ok {
                return Ok(vec![0x67, 0x00]);
            }
            let offset = usize::from(u16::from_be_bytes([cmd.p1(), cmd.p2()]));
            if offset >= self.file.len() {
                return Ok(vec![0x6B, 0x00]);
            }
            let end = self.file.len().min(offset + cmd.ne().unwrap());
            let mut answer = self.file[offset..end].to_vec();
            answer.extend_from_slice(&[0x90, 0x00]);
            Ok(answer)
        }
    }

    fn certificate(len: usize) -> Vec<u8> {
        let mut der = vec![0x30, 0x82];
        der.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        der.extend((0..len).map(|i| i as u8));
        der
    }

    #[test]
    fn extended_read_takes_one_apdu_after_the_header() {
        let der = certificate(1200);
        let mut card = FileCard::new([der.clone(), vec![0xFF; 50]].concat(), true);
        let mut mode = ReadMode::Probe;
        let file = read_tlv_file(&mut card, &mut mode, 2).unwrap();
        assert_eq!(*file, der);
        assert_eq!(mode, ReadMode::Extended);
        assert_eq!(card.sent.len(), 3);
    }

    #[test]
    fn wrong_length_falls_back_to_short_chunks_and_is_remembered() {
        let der = certificate(1200);
        let mut card = FileCard::new(der.clone(), false);
        let mut mode = ReadMode::Probe;
        assert_eq!(*read_tlv_file(&mut card, &mut mode, 2).unwrap(), der);
        assert_eq!(mode, ReadMode::Short);
        // select + header + refused extended + ceil(1196 / 256) = 5 chunks
        assert_eq!(card.sent.len(), 8);
        card.sent.clear();
        assert_eq!(*read_tlv_file(&mut card, &mut mode, 2).unwrap(), der);
        assert_eq!(card.sent.len(), 7, "no second probe");
    }

    #[test]
    fn a_file_shorter_than_its_header_says_is_truncated() {
        let mut der = certificate(1200);
        der.truncate(700);
        for extended in [true, false] {
            let mut card = FileCard::new(der.clone(), extended);
            assert_eq!(
                read_tlv_file(&mut card, &mut ReadMode::Probe, 0x000A),
                Err(CardError::Truncated { fid: 0x000A })
            );
        }
        let mut card = FileCard::new(vec![0x30, 0x82, 0x04], true);
        assert_eq!(
            read_tlv_file(&mut card, &mut ReadMode::Probe, 0x000A),
            Err(CardError::Truncated { fid: 0x000A })
        );
    }

    #[test]
    fn absurd_lengths_are_record_errors() {
        let mut card = FileCard::new(vec![0x30, 0x83, 0xFF, 0xFF, 0xFF, 0, 0, 0], true);
        assert_eq!(
            read_tlv_file(&mut card, &mut ReadMode::Probe, 0x000A),
            Err(CardError::Record(RecordError::BadLength))
        );
    }
}
