//! Every simulator profile and fault through the real pcscd and vsmartcard's vpcd: raw APDUs
//! over `PcscTransport` get exactly the answers of the in-process card, with each profile's
//! distinctive status words; faults (removal after N APDUs, slowness, wrong status words) reach
//! the reader; `card-sim` reports forbidden accesses.
//!
//! Needs a running pcscd (scripts/test.sh starts one); fails, not skips, without it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use card_io::apdu::{Command, Response, StatusWord};
use card_io::mynumber::aid;
use card_io::pcsc_transport::PcscTransport;
use card_io::transport::{CardTransport, TransportError};
use card_sim::vpcd::VpcdCard;
use card_sim::{Fault, Profile, SimTransport, VirtualCard};
use mynakiosk_tests::binary;
use mynakiosk_tests::pcscd::{self, connect_when_present, SLOT0_READER};

/// A SHA-256 DigestInfo (of an arbitrary fixed hash) for the signing command.
fn digest_info() -> Vec<u8> {
    let mut info = vec![
        0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    info.extend(0..32u8);
    info
}

fn verify(p2: u8, secret: &str) -> Command {
    let cmd = Command::new(0x00, 0x20, 0x00, p2);
    if secret.is_empty() {
        cmd
    } else {
        cmd.with_data(secret.as_bytes().to_vec()).unwrap()
    }
}

fn read_whole_current_ef() -> Command {
    Command::new(0x00, 0xB0, 0x00, 0x00)
        .with_ne(65_536)
        .unwrap()
}

/// Steps of the script whose status words tell the profiles apart.
mod step {
    pub const SELECT_JPKI: usize = 0;
    pub const TOKEN: usize = 1;
    pub const CERTIFICATE: usize = 3;
    pub const PIN_QUERY: usize = 4;
    pub const WRONG_PIN: usize = 5;
    pub const RIGHT_PIN: usize = 6;
    pub const SIGN: usize = 7;
    pub const SELECT_KENMEN: usize = 8;
    pub const PIN_B: usize = 10;
    pub const CARD_FACE: usize = 12;
}

/// What a reader does with a card: detection, certificate, PIN, signature, 照合番号B and the
/// card face, the CVC (indices in [`step`]).
fn script(profile: &Profile) -> Vec<Command> {
    let pin = profile.pin.as_deref().unwrap_or("1234");
    vec![
        Command::select_df(&aid::JPKI).unwrap(),
        Command::new(0x00, 0xB0, 0x86, 0x00).with_ne(32).unwrap(),
        Command::select_ef(0x000A),
        read_whole_current_ef(),
        verify(0x98, ""),
        verify(0x98, "9999"),
        verify(0x98, pin),
        Command::new(0x80, 0x2A, 0x00, 0x97)
            .with_data(digest_info())
            .unwrap()
            .with_ne(256)
            .unwrap(),
        Command::select_df(&aid::KENMEN_KAKUNIN).unwrap(),
        verify(0x92, ""),
        verify(0x92, &profile.pin_b),
        Command::select_ef(0x0002),
        read_whole_current_ef(),
        Command::new(0x00, 0xB0, 0x84, 0x00)
            .with_ne(65_536)
            .unwrap(),
    ]
}

fn run_script(t: &mut dyn CardTransport, script: &[Command]) -> Vec<Response> {
    script
        .iter()
        .map(|cmd| t.transmit(cmd).expect("APDU exchange"))
        .collect()
}

/// Runs the profile's script over pcscd + vpcd and in-process, checks both agree, and returns
/// the PC/SC answers and the card as vpcd left it.
fn through_pcscd(name: &str) -> (Vec<Response>, VirtualCard) {
    let profile = Profile::load(name).expect("profile");
    let script = script(&profile);
    let expected = run_script(&mut SimTransport::new(profile.card()), &script);

    let _lock = pcscd::lock();
    let card = VpcdCard::insert(profile.card(), pcscd::slot0_addr()).expect("insert");
    let mut transport = connect_when_present(SLOT0_READER);
    let answers = run_script(&mut transport, &script);
    drop(transport);
    let card = card.remove().expect("remove");
    for (i, (got, want)) in answers.iter().zip(&expected).enumerate() {
        assert_eq!(got.sw(), want.sw(), "{name}: step {i}");
        assert_eq!(got.data(), want.data(), "{name}: step {i} data");
    }
    assert_eq!(card.forbidden_access_count(), 0, "{name}");
    (answers, card)
}

fn sw(answers: &[Response], step: usize) -> u16 {
    answers[step].sw().value()
}

fn assert_pin_steps(name: &str, answers: &[Response], expected: [u16; 4]) {
    let got = [
        step::PIN_QUERY,
        step::WRONG_PIN,
        step::RIGHT_PIN,
        step::SIGN,
    ]
    .map(|s| sw(answers, s));
    assert_eq!(got, expected, "{name}: query, wrong PIN, right PIN, sign");
}

/// The card face was read after 照合番号B.
fn assert_card_face_read(name: &str, answers: &[Response]) {
    assert_eq!(sw(answers, step::PIN_B), 0x9000, "{name}");
    let face = answers[step::CARD_FACE].data();
    assert_eq!(face[..2], [0xFF, 0x20], "{name}");
}

/// Checks what sets profile `name` apart in its script answers.
fn assert_distinctive(name: &str, answers: &[Response], card: &VirtualCard) {
    let normal_pin = [0x63C3, 0x63C2, 0x9000, 0x9000];
    match name {
        "normal" => {
            assert_eq!(&answers[step::TOKEN].data()[..15], b"JPKIAPICCTOKEN2");
            assert_pin_steps(name, answers, normal_pin);
            assert_eq!(answers[step::SIGN].data().len(), 256);
            assert_eq!(sw(answers, step::PIN_B - 1), 0x63CA, "照合番号B query");
            assert_card_face_read(name, answers);
            assert_eq!(answers.last().unwrap().data().len(), 568, "EF 0004 by SFI");
            assert_eq!(card.tries_left(&aid::JPKI, 0x0018), Some(3));
        }
        "pin-1-try-left" => {
            assert_pin_steps(name, answers, [0x63C1, 0x63C0, 0x6984, 0x6982]);
            assert_eq!(card.tries_left(&aid::JPKI, 0x0018), Some(0));
        }
        "pin-locked" => {
            assert_pin_steps(name, answers, [0x63C0, 0x6984, 0x6984, 0x6982]);
            assert_card_face_read(name, answers);
        }
        "face-card" => {
            assert_pin_steps(name, answers, [0x6A88, 0x6A88, 0x6A88, 0x6982]);
            assert_card_face_read(name, answers);
        }
        "expired-cert" | "untrusted-issuer" => {
            let expected = Profile::load(name).unwrap().certificate.unwrap();
            assert!(answers[step::CERTIFICATE].data().starts_with(&expected));
            assert_pin_steps(name, answers, normal_pin);
        }
        "no-photo" | "corrupt-tlv" | "truncated-file" | "foreign-resident" => {
            assert_card_face_read(name, answers)
        }
        "juki" => {
            assert_eq!(&answers[step::TOKEN].data()[..16], b"JPKIAPICCTOKEN  ");
            assert_eq!(sw(answers, step::SELECT_KENMEN), 0x6A82);
        }
        "not-my-number" => assert_eq!(sw(answers, step::SELECT_JPKI), 0x6A82),
        other => panic!("profile {other:?} has no expectations in this test yet"),
    }
}

#[test]
fn every_profile_answers_through_pcscd_like_the_in_process_card() {
    for name in Profile::names() {
        let (answers, card) = through_pcscd(name);
        assert_distinctive(name, &answers, &card);
    }
}

/// Sends `SELECT JPKI` until pcscd reports the card removed (vpcd polls about every 400 ms).
/// Closing the connection only then keeps vpcd from hiding the removal from pcscd.
fn wait_until_removed(transport: &mut PcscTransport) {
    let select = Command::select_df(&aid::JPKI).unwrap();
    let deadline = Instant::now() + pcscd::EVENT_TIMEOUT;
    loop {
        match transport.transmit(&select) {
            Err(TransportError::CardRemoved) => return,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("expected CardRemoved, got {other:?}"),
        }
    }
}

#[test]
fn removal_after_n_apdus_is_card_removed() {
    let _lock = pcscd::lock();
    let card = VirtualCard::my_number().with_fault(Fault::RemoveAfter(3));
    let card = VpcdCard::insert(card, pcscd::slot0_addr()).expect("insert");
    let mut transport = connect_when_present(SLOT0_READER);
    let select = Command::select_df(&aid::JPKI).unwrap();
    for _ in 0..3 {
        assert!(transport
            .transmit(&select)
            .expect("before removal")
            .sw()
            .is_ok());
    }
    // The APDU in flight when the card leaves fails at once; pcscd reports `CardRemoved` as
    // soon as it notices the removal (vpcd polls about every 400 ms).
    assert!(
        transport.transmit(&select).is_err(),
        "the 4th APDU has no card"
    );
    wait_until_removed(&mut transport);
    drop(transport);
    let card = card.remove().expect("remove");
    assert!(card.is_removed());
    assert_eq!(card.apdus_answered(), 3);
}

#[test]
fn slow_and_wrong_status_faults_reach_the_reader() {
    const DELAY: Duration = Duration::from_millis(300);
    let _lock = pcscd::lock();
    let card = VirtualCard::my_number()
        .with_fault(Fault::Slow(DELAY))
        .with_fault(Fault::WrongStatus {
            ins: 0xB0,
            sw: StatusWord::new(0x6F, 0x00),
        });
    let card = VpcdCard::insert(card, pcscd::slot0_addr()).expect("insert");
    let mut transport: PcscTransport = connect_when_present(SLOT0_READER);
    let started = Instant::now();
    let selected = transport.transmit(&Command::select_df(&aid::JPKI).unwrap());
    assert!(started.elapsed() >= DELAY, "{:?}", started.elapsed());
    assert!(selected.expect("slow but answered").sw().is_ok());
    let read = transport
        .transmit(&Command::read_binary(0, 4).unwrap())
        .unwrap();
    assert_eq!(read.sw(), StatusWord::new(0x6F, 0x00));
    drop(transport);
    card.remove().expect("remove");
}

fn card_sim() -> PathBuf {
    binary::workspace_binary("card-sim")
}

#[test]
fn card_sim_lists_profiles_and_reports_forbidden_accesses() {
    let list = Process::new(card_sim())
        .arg("--list")
        .output()
        .expect("card-sim --list");
    assert!(list.status.success());
    let listed = String::from_utf8(list.stdout).unwrap();
    for name in Profile::names() {
        assert!(
            listed.lines().any(|l| l.starts_with(name)),
            "{name} in {listed}"
        );
    }
    let unknown = Process::new(card_sim())
        .args(["--profile", "gold"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no simulator profile \"gold\""));

    let _lock = pcscd::lock();
    let mut sim = Process::new(card_sim())
        .args([
            "--profile",
            "pin-locked",
            "--port",
            &pcscd::SLOT0_PORT.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start card-sim");
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let inserted = lines.next().unwrap().unwrap();
    assert!(
        inserted.starts_with("inserted simulated card \"pin-locked\""),
        "{inserted}"
    );
    let mut transport = connect_when_present(SLOT0_READER);
    // Raw APDUs, no privacy guard: select 入力補助AP EF 0001 (the My Number) on purpose.
    let hojo = Command::select_df(&aid::KENMEN_NYURYOKU_HOJO).unwrap();
    assert!(transport.transmit(&hojo).unwrap().sw().is_ok());
    assert!(transport
        .transmit(&Command::select_ef(0x0001))
        .unwrap()
        .sw()
        .is_ok());
    drop(transport);
    drop(sim.stdin.take());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(sim.wait().unwrap().success());
    assert!(rest[0].starts_with("removed simulated card"), "{rest:?}");
    assert_eq!(
        rest[1],
        "report: profile=pin-locked apdus=2 forbidden_accesses=1"
    );
}

#[test]
fn card_sim_fault_removes_the_card_by_itself() {
    let _lock = pcscd::lock();
    let sim = Process::new(card_sim())
        .args([
            "--profile",
            "juki",
            "--ignore-stdin",
            "--fault",
            "remove-after=1",
        ])
        .args(["--port", &pcscd::SLOT0_PORT.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start card-sim");
    let mut transport = connect_when_present(SLOT0_READER);
    let select = Command::select_df(&aid::JPKI).unwrap();
    assert!(transport.transmit(&select).unwrap().sw().is_ok());
    let out = sim
        .wait_with_output()
        .expect("card-sim exits after the fault");
    wait_until_removed(&mut transport);
    drop(transport);
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains("removed simulated card \"juki\" (fault)"),
        "{out}"
    );
    assert!(
        out.contains("report: profile=juki apdus=1 forbidden_accesses=0"),
        "{out}"
    );
}
