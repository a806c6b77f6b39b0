//! The card in a PC/SC reader, through pcscd.

use std::ffi::CString;

use std::thread;
use std::time::{Duration, Instant};

use pcsc::{Context, Disposition, Protocols, Scope, ShareMode, Status, MAX_BUFFER_SIZE_EXTENDED};
use zeroize::Zeroize;

use crate::transport::{RawTransport, TransportError};

/// How long a failed transmit waits for pcscd to report the card removed (vpcd polls every
/// ~400 ms; a physical reader reports at once).
const REMOVAL_GRACE: Duration = Duration::from_millis(1500);
const REMOVAL_POLL: Duration = Duration::from_millis(50);
/// Reconnections in a row when another application keeps resetting the card.
const RESET_RECONNECTS: u32 = 3;

/// A shared-mode connection to the card in one reader.
///
/// Dropping it disconnects with a card reset, which clears any security state (verified PINs).
pub struct PcscTransport {
    card: pcsc::Card,
    reader: String,
    receive: Box<[u8]>,
}

impl PcscTransport {
    /// Connects to the card in `reader` (shared mode, T=1 or T=0).
    pub fn connect(reader: &str) -> Result<Self, TransportError> {
        let context = Context::establish(Scope::User)?;
        let name = reader_cstring(reader)?;
        let card = context.connect(&name, ShareMode::Shared, Protocols::T1 | Protocols::T0)?;
        Ok(Self {
            card,
            reader: reader.to_owned(),
            receive: vec![0; MAX_BUFFER_SIZE_EXTENDED].into_boxed_slice(),
        })
    }

    /// The reader this transport is connected to.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// Starts an exclusive PC/SC transaction: no other application can send APDUs (or reset the
    /// card) until the returned transport is dropped. Wrap every multi-APDU sequence that relies
    /// on card state (selected DF, verified PIN) in one.
    ///
    /// If another application reset the card since the last transaction, this reconnects to the
    /// card still in the reader (a reset clears its selection and verified PINs, which the
    /// sequence sets up again; no APDU was lost, so no try is spent twice). A removed card stays
    /// [`TransportError::CardRemoved`].
    pub fn transaction(&mut self) -> Result<PcscTransaction<'_>, TransportError> {
        // Probe with a transaction that ends at once: returning the first one from inside a
        // `match` and reconnecting in another arm is beyond the borrow checker.
        let mut reconnects = 0;
        while let Err(err) = self.card.transaction().map(drop) {
            if err != pcsc::Error::ResetCard || reconnects == RESET_RECONNECTS {
                return Err(err.into());
            }
            reconnects += 1;
            self.card
                .reconnect(
                    ShareMode::Shared,
                    Protocols::T1 | Protocols::T0,
                    Disposition::LeaveCard,
                )
                .map_err(TransportError::from)?;
            tracing::warn!(reader = %self.reader, "card reset by another application; reconnected");
        }
        Ok(PcscTransaction {
            transaction: self.card.transaction()?,
            receive: &mut self.receive,
        })
    }
}

impl RawTransport for PcscTransport {
    fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit(&self.card, &mut self.receive, apdu)
    }
}

/// The card during an exclusive transaction; the transaction ends (leaving the card as it is)
/// on drop.
pub struct PcscTransaction<'a> {
    transaction: pcsc::Transaction<'a>,
    receive: &'a mut [u8],
}

impl RawTransport for PcscTransaction<'_> {
    fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit(&self.transaction, self.receive, apdu)
    }
}

/// One APDU through `card`; the receive buffer is zeroized afterwards.
fn transmit(card: &pcsc::Card, receive: &mut [u8], apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
    let result = card.transmit(apdu, receive).map(<[u8]>::to_vec);
    receive.zeroize();
    match result {
        Ok(answer) if answer.len() >= 2 => Ok(answer),
        // A transmit that the reader driver could not complete (the card was pulled out
        // mid-command) comes back from pcsc-lite as "not transacted" or as an answer without a
        // status word; pcscd may learn of the removal a moment later.
        Ok(_) | Err(pcsc::Error::NotTransacted) => Err(removed_or_broken(card)),
        Err(err) => Err(err.into()),
    }
}

/// After a failed transmit: `CardRemoved` if the card leaves within [`REMOVAL_GRACE`].
fn removed_or_broken(card: &pcsc::Card) -> TransportError {
    let deadline = Instant::now() + REMOVAL_GRACE;
    loop {
        match card.status2_owned() {
            Ok(status) if status.status().contains(Status::PRESENT) => {}
            Ok(_) => return TransportError::CardRemoved,
            Err(err) => return err.into(),
        }
        if Instant::now() >= deadline {
            return TransportError::Protocol("the reader could not complete the command".into());
        }
        thread::sleep(REMOVAL_POLL);
    }
}

/// Names of the readers pcscd knows now.
pub fn list_readers() -> Result<Vec<String>, TransportError> {
    let context = Context::establish(Scope::User)?;
    Ok(context
        .list_readers_owned()?
        .iter()
        .map(|name| name.to_string_lossy().into_owned())
        .collect())
}

fn reader_cstring(reader: &str) -> Result<CString, TransportError> {
    CString::new(reader)
        .map_err(|_| TransportError::Other(format!("reader name {reader:?} contains NUL")))
}

impl From<pcsc::Error> for TransportError {
    fn from(err: pcsc::Error) -> Self {
        use pcsc::Error as E;
        match err {
            E::RemovedCard | E::NoSmartcard => Self::CardRemoved,
            E::ResetCard => Self::CardReset,
            E::ReaderUnavailable
            | E::UnknownReader
            | E::NoReadersAvailable
            | E::ReaderUnsupported => Self::ReaderUnavailable,
            E::NoService | E::ServiceStopped | E::Shutdown => Self::NoService,
            E::Timeout => Self::Timeout,
            E::UnresponsiveCard
            | E::UnpoweredCard
            | E::UnsupportedCard
            | E::ProtoMismatch
            | E::InvalidAtr
            | E::CommError
            | E::CommDataLost => Self::Protocol(err.to_string()),
            other => Self::Other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcsc_errors_map_to_typed_transport_errors() {
        assert_eq!(
            TransportError::from(pcsc::Error::RemovedCard),
            TransportError::CardRemoved
        );
        assert_eq!(
            TransportError::from(pcsc::Error::ResetCard),
            TransportError::CardReset
        );
        assert_eq!(
            TransportError::from(pcsc::Error::NoService),
            TransportError::NoService
        );
        assert_eq!(
            TransportError::from(pcsc::Error::NoReadersAvailable),
            TransportError::ReaderUnavailable
        );
        assert_eq!(
            TransportError::from(pcsc::Error::Timeout),
            TransportError::Timeout
        );
        assert!(matches!(
            TransportError::from(pcsc::Error::UnresponsiveCard),
            TransportError::Protocol(_)
        ));
        assert!(matches!(
            TransportError::from(pcsc::Error::SharingViolation),
            TransportError::Other(_)
        ));
    }

    #[test]
    fn reader_name_with_nul_is_rejected() {
        assert!(matches!(
            reader_cstring("a\0b"),
            Err(TransportError::Other(_))
        ));
    }
}
