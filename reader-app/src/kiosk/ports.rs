//! What the runtime needs from the other parts of the kiosk: card-io ([`super::card_port`]),
//! the hand-off and audit log ([`super::reception`]), the face pipeline and the card-front
//! OCR; [`super::sim`] holds the demo's labelled simulators (cameras, virtual card choice).

use crate::handoff::staff_call::StaffCall;
use std::sync::atomic::AtomicBool;

use slint::{Rgb8Pixel, SharedPixelBuffer};
use zeroize::Zeroizing;

use crate::audit::AuditEvent;
use crate::errors::Failure;
use crate::handoff::result::SessionInfo;
use crate::session::{
    Capture, CardFrontReading, CardIdentity, Challenge, FaceMatch, Guidance, PinB, PinBOutcome,
    PinEntry, PinOutcome, Qualification, VerificationResult,
};

/// The My Number card in the session's reader (card-io).
pub trait CardPort: Send {
    /// Detects the card (JPKI token), reads and checks the user-authentication certificate
    /// and queries the PIN and 照合番号B counters without spending a try.
    fn read_identity(&mut self, reader: &str) -> Result<CardIdentity, Failure>;
    /// Queries the 照合番号B retry counter of the 券面事項確認AP without spending a try;
    /// `None` when the card does not report it.
    fn pin_b_retries(&mut self) -> Result<Option<u8>, Failure>;
    /// Presents 照合番号B to the 券面事項確認AP.
    fn submit_pin_b(&mut self, pin_b: &PinB) -> Result<PinBOutcome, Failure>;
    /// Reads the JPEG 2000 face photo (DF27) from the unlocked 券面事項確認AP.
    fn read_face_photo(&mut self) -> Result<Zeroizing<Vec<u8>>, Failure>;
    /// VERIFY, then a signature over a fresh challenge checked against the certificate.
    fn verify_pin(&mut self, pin: &PinEntry) -> Result<PinOutcome, Failure>;
    /// The session is over: disconnect.
    fn release(&mut self);
}

/// The card-front camera and its OCR of 照合番号B.
pub trait CardFrontPort: Send {
    fn read(&mut self) -> Result<CardFrontReading, Failure>;
}

/// Progress of a capture, reported as it happens.
pub enum CaptureProgress {
    Guidance(Guidance),
    /// A downscaled frame for the on-screen preview (dropped right after display).
    Preview(SharedPixelBuffer<Rgb8Pixel>),
}

/// The user camera and the face pipeline (detection, quality, liveness, embedding, match).
pub trait FacePort: Send {
    /// Decodes the chip photo and keeps its embedding; `photo` is zeroized on drop.
    fn set_reference(&mut self, photo: Zeroizing<Vec<u8>>) -> Result<(), Failure>;
    /// Captures a live face meeting `challenge`, its time limits × `slower` (assisted mode),
    /// reporting guidance and previews, until a result or until `stop` becomes true (then any
    /// outcome is ignored).
    fn capture(
        &mut self,
        challenge: Challenge,
        slower: u32,
        report: &mut dyn FnMut(CaptureProgress),
        stop: &AtomicBool,
    ) -> Result<Capture, Failure>;
    /// The match decision of the last capture: its best score against the reference.
    fn compare(&mut self) -> Result<FaceMatch, Failure>;
    /// Zeroizes the reference, every frame, crop and embedding.
    fn discard(&mut self);
}

/// The reception side: outbox, sink and the qualification answer.
pub trait HandOffPort: Send {
    /// Queues `result` of `session` for the reception system and asks for the qualification.
    fn deliver(
        &mut self,
        session: &SessionInfo,
        result: &VerificationResult,
    ) -> Result<Qualification, Failure>;
    /// Queues a 係員を呼ぶ press for the reception system.
    fn call_staff(&mut self, call: &StaffCall);
}

/// The append-only audit log.
pub trait AuditPort: Send {
    /// Appends `event`, on disk when this returns `Ok`.
    fn record(&mut self, event: AuditEvent) -> Result<(), Failure>;
}
