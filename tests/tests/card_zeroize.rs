//! Proof that reading a card leaves no PIN, 照合番号B, chip photo or card-face record (EF 0002)
//! in freed memory, after a whole read and after the card is pulled out after any number of
//! APDUs.
//!
//! Method: [`mynakiosk_tests::freed_memory`]'s inspecting allocator counts freed blocks that
//! still hold the PIN, the 照合番号B, or a 32-byte stretch of the photo or of EF 0002 (which
//! also holds the name and address images; not the card's public key, which is public). The
//! card is the simulator in this process
//! (`SimTransport`); the simulated card, which holds the same data, is dropped only after
//! recording stops, but whatever it frees while answering counts too. Not covered: pcsc-lite's
//! own buffers (C); `PcscTransport` zeroizes the receive buffer it hands to pcsc-lite.

use card_io::apdu::Command;
use card_io::mynumber::{aid, CardError, MyNumberCard, Pin, PinB, SurfaceRecord, VerifyOutcome};
use card_io::transport::{CardTransport, TransportError};
use card_sim::{Fault, Profile, SimTransport};
use mynakiosk_tests::freed_memory::{needles_from, record, stop, InspectingAllocator};

#[global_allocator]
static ALLOCATOR: InspectingAllocator = InspectingAllocator;

/// 照合番号B's short-EF-id VERIFY (IEF 0012).
const VERIFY_PIN_B_P2: u8 = 0x92;

/// The kiosk's card steps, each result dropped at once: PIN (counter first) at the JPKI AP,
/// then 照合番号B and the card face at the 券面事項確認AP.
fn read_card(card: &mut MyNumberCard<SimTransport>, profile: &Profile) -> Result<(), CardError> {
    let mut jpki = card.jpki()?;
    jpki.pin_retries()?;
    let pin = Pin::new(profile.pin.as_deref().expect("a PIN")).expect("4 digits");
    assert_eq!(jpki.verify_pin(&pin)?, VerifyOutcome::Verified);
    drop(pin);
    let mut surface = card.surface()?;
    surface.pin_b_retries()?;
    let pin_b = PinB::new(&profile.pin_b).expect("14 digits");
    assert_eq!(surface.verify_pin_b(&pin_b)?, VerifyOutcome::Verified);
    drop(pin_b);
    let record = surface.read_record()?;
    assert!(record.photo.is_some());
    Ok(())
}

/// EF 0002 as stored on the card, read with raw APDUs (before recording).
fn card_face_file(profile: &Profile) -> Vec<u8> {
    let mut t = SimTransport::new(profile.card());
    let mut ok = |cmd: Command| {
        let response = t.transmit(&cmd).unwrap();
        assert!(response.sw().is_ok(), "{response:?}");
        response.data().to_vec()
    };
    ok(Command::select_df(&aid::KENMEN_KAKUNIN).unwrap());
    ok(Command::verify(VERIFY_PIN_B_P2, profile.pin_b.as_bytes()).unwrap());
    ok(Command::select_ef(0x0002));
    let mut file = Vec::new();
    loop {
        let offset = u16::try_from(file.len()).unwrap();
        let chunk = ok(Command::read_binary(offset, 256).unwrap());
        file.extend_from_slice(&chunk);
        if chunk.len() < 256 {
            return file;
        }
    }
}

fn needles(profile: &Profile) -> Vec<Vec<u8>> {
    let photo = profile.photo.as_deref().expect("a photo");
    let mut face = card_face_file(profile);
    assert!(
        face.windows(64).any(|w| w == &photo[..64]),
        "EF 0002 holds the photo"
    );
    // The card's public key (DF24) is no secret: blanked out of the needles.
    let modulus = SurfaceRecord::parse(&face).unwrap().card_public_key.modulus;
    let at = face
        .windows(modulus.len())
        .position(|w| w == modulus)
        .unwrap();
    face[at..at + modulus.len()].fill(0);
    let mut needles = vec![
        profile.pin.clone().unwrap().into_bytes(),
        profile.pin_b.clone().into_bytes(),
    ];
    needles.extend(needles_from(photo, 12));
    // The part before the photo: birth date, sex, card key, name and address images.
    let before_photo = face.windows(64).position(|w| w == &photo[..64]).unwrap();
    needles.extend(needles_from(&face[..before_photo], 12));
    needles.extend(needles_from(&face, 12));
    assert!(needles.len() >= 20, "only {} needles", needles.len());
    needles
}

fn profile(extended_length: bool) -> Profile {
    let mut profile = Profile::load("normal").unwrap();
    profile.quirks.extended_length = extended_length;
    profile
}

/// One test, so that nothing else allocates in this process while recording.
#[test]
fn no_pin_pin_b_photo_or_card_face_survives_a_read_or_a_removal() {
    let chunked = profile(false);
    let needles = needles(&chunked);

    // The detector works: a plain copy of 照合番号B dropped while recording is caught.
    let copy = chunked.pin_b.clone().into_bytes();
    record(needles.clone());
    drop(copy);
    assert!(
        stop() > 0,
        "the leak detector missed a plain copy of 照合番号B"
    );

    // Whole reads, with one extended READ BINARY and in 256-byte chunks.
    let mut apdus = 0;
    for profile in [profile(true), chunked.clone()] {
        let mut card = MyNumberCard::new(SimTransport::new(profile.card()));
        record(needles.clone());
        let read = read_card(&mut card, &profile);
        let leaks = stop();
        assert_eq!(read, Ok(()));
        assert_eq!(
            leaks, 0,
            "{leaks} freed blocks held card secrets after a read"
        );
        apdus = card.into_inner().card().apdus_answered();
    }

    // The card pulled out after each number of APDUs of the chunked read.
    assert!(apdus > 20, "only {apdus} APDUs");
    for after in 0..apdus {
        let card = chunked.card().with_fault(Fault::RemoveAfter(after));
        let mut card = MyNumberCard::new(SimTransport::new(card));
        record(needles.clone());
        let read = read_card(&mut card, &chunked);
        let leaks = stop();
        assert_eq!(
            read,
            Err(CardError::Transport(TransportError::CardRemoved)),
            "removed after {after} APDUs"
        );
        assert_eq!(
            leaks, 0,
            "{leaks} freed blocks held card secrets after a removal after {after} APDUs"
        );
    }
}
