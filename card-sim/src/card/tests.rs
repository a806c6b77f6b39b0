//! The command interpreter, APDU by APDU.

use super::*;
use crate::Ief;

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
