//! Faults a test can inject into the virtual card; both fronts (in-process and vpcd) honour them.

use std::str::FromStr;
use std::time::Duration;

use card_io::apdu::StatusWord;

/// A misbehaviour of the card or of its contact with the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The card leaves the reader after answering this many command APDUs: the in-process
    /// transport then fails with `CardRemoved`, the vpcd front closes its connection.
    RemoveAfter(usize),
    /// Every command APDU is answered after this delay.
    Slow(Duration),
    /// Every command with this INS is answered with `sw` alone, without being executed.
    WrongStatus {
        /// Instruction byte to hit.
        ins: u8,
        /// Status word returned instead.
        sw: StatusWord,
    },
}

/// A `--fault` argument that is not `remove-after=N`, `slow=MS` or `wrong-status=INS:SW`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad fault {0:?}: use remove-after=N, slow=MILLISECONDS or wrong-status=INS:SW (hex, e.g. 20:6F00)")]
pub struct BadFault(String);

impl FromStr for Fault {
    type Err = BadFault;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadFault(text.to_owned());
        let (kind, value) = text.split_once('=').ok_or_else(bad)?;
        match kind {
            "remove-after" => value.parse().map(Self::RemoveAfter).map_err(|_| bad()),
            "slow" => value
                .parse()
                .map(|ms| Self::Slow(Duration::from_millis(ms)))
                .map_err(|_| bad()),
            "wrong-status" => {
                let (ins, sw) = value.split_once(':').ok_or_else(bad)?;
                let ins = u8::from_str_radix(ins, 16).map_err(|_| bad())?;
                let sw = u16::from_str_radix(sw, 16).map_err(|_| bad())?;
                if sw < 0x6000 {
                    return Err(bad());
                }
                let [sw1, sw2] = sw.to_be_bytes();
                Ok(Self::WrongStatus {
                    ins,
                    sw: StatusWord::new(sw1, sw2),
                })
            }
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_their_cli_form() {
        assert_eq!("remove-after=3".parse(), Ok(Fault::RemoveAfter(3)));
        assert_eq!(
            "slow=250".parse(),
            Ok(Fault::Slow(Duration::from_millis(250)))
        );
        assert_eq!(
            "wrong-status=B0:6F00".parse(),
            Ok(Fault::WrongStatus {
                ins: 0xB0,
                sw: StatusWord::new(0x6F, 0x00)
            })
        );
    }

    #[test]
    fn bad_faults_are_rejected_with_the_text() {
        for bad in [
            "remove-after",
            "remove-after=x",
            "slow=-1",
            "wrong-status=20",
            "wrong-status=20:12",
            "explode=1",
        ] {
            assert_eq!(bad.parse::<Fault>(), Err(BadFault(bad.into())), "{bad}");
        }
    }
}
