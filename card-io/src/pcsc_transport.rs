//! The card in a PC/SC reader, through pcscd.

use std::ffi::CString;

use pcsc::{Context, Protocols, Scope, ShareMode, MAX_BUFFER_SIZE_EXTENDED};
use zeroize::Zeroize;

use crate::transport::{RawTransport, TransportError};

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
}

impl RawTransport for PcscTransport {
    fn transmit_raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let result = self
            .card
            .transmit(apdu, &mut self.receive)
            .map(<[u8]>::to_vec);
        self.receive.zeroize();
        Ok(result?)
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
