//! Entry points of the fuzz targets (the workspace's `fuzz/` crate), also run over random and
//! mutated inputs by the normal test suite (`card-io/tests/parsers_total.rs`). Each must return
//! on any input, never panic.

use std::collections::VecDeque;

use crate::apdu::{Command, Response};
use crate::certificate::{CertificateSummary, TrustAnchors};
use crate::mynumber::{CardVerifiableCertificate, SurfaceRecord};
use crate::transport::{CardTransport, RawTransport, TransportError};

/// Parses `data` as a command and as a response, and feeds it to the transport's response
/// handling as a sequence of card answers.
pub fn apdu(data: &[u8]) {
    if let Ok(cmd) = Command::from_bytes(data) {
        let again = Command::from_bytes(&cmd.to_bytes());
        assert_eq!(
            again.as_ref(),
            Ok(&cmd),
            "a parsed command re-encodes to itself"
        );
    }
    if let Ok(response) = Response::from_bytes(data.to_vec()) {
        assert_eq!(response.to_bytes(), data);
    }
    // The same bytes cut into answers at every `FF`: exercises 61xx/6Cxx chains.
    let answers = data.split(|b| *b == 0xFF).map(<[u8]>::to_vec).collect();
    let mut card = Scripted(answers);
    let _ = card.transmit(&Command::select_ef(0x0002));
}

/// Parses `data` as a card-face record and as a card-verifiable certificate.
pub fn card_records(data: &[u8]) {
    let _ = SurfaceRecord::parse(data);
    let _ = CardVerifiableCertificate::parse(data);
}

/// Summarises and checks `data` as an end-entity certificate against a fixed anchor set
/// (a certificate made from the input itself, if it parses).
pub fn certificate_chain(data: &[u8]) {
    let _ = CertificateSummary::of(data);
    let mut anchors = TrustAnchors::new();
    let _ = anchors.check(data, 0);
    if anchors.add_der(data).is_ok() {
        let _ = anchors.check(data, i64::MAX);
        let _ = anchors.check(data, i64::MIN);
    }
}

/// Answers from a script; fails when it runs out.
struct Scripted(VecDeque<Vec<u8>>);

impl RawTransport for Scripted {
    fn transmit_raw(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.0
            .pop_front()
            .ok_or_else(|| TransportError::Other("script exhausted".into()))
    }
}
