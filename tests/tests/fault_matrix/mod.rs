//! The fault matrix at kiosk level: each flow (face, PIN, staff 目視, consent, registration)
//! with a fault injected at each of its steps, on the real kiosk runtime (the real pcscd and
//! vpcd with the virtual card (a private pcscd, which the pcscd and reader faults kill and
//! restart; the machine's is not touched), the real window on the headless backend, the real card-front
//! OCR and face pipeline on image-folder cameras, the file-drop sink, the qualification
//! simulator, the audit log and the outbox each on a small tmpfs).
//!
//! Every cell expects a clear screen and code, no try spent twice (the virtual card's own
//! counters: a wrong PIN costs exactly one try, a correct one or 照合番号B none), and after the
//! cell, with the fault undone: every result of a completed session delivered exactly once,
//! the outbox empty, the audit chain intact (`audit::verify` with its key).
//!
//! The table is [`cells`]; `docs/fault-matrix.md` is generated from it
//! (`MYNAKIOSK_WRITE_DOCS=1 cargo test -p mynakiosk-tests --test e2e fault_matrix::doc`).
//! The normal suite runs the cells marked cheap; `MYNAKIOSK_FAULT_MATRIX=full` runs them all,
//! any other value the cells whose fault says it (e.g. `"audit disk"`).

use crate::common;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use card_sim::vpcd::VpcdCard;
use card_sim::{Profile, VirtualCard};
use common::{notices, Driver, SmallDisk, POLL, TIMEOUT};
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::binary;
use mynakiosk_tests::private_pcscd::{PrivatePcscd, VpcdReader};
use slint::platform::PointerEventButton;

mod restart;
mod table;
mod touches;

use restart::{KillPoint, KILL_POINTS};
use table::*;
use touches::*;

#[test]
fn doc_is_generated_from_the_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/fault-matrix.md");
    let text = render();
    if std::env::var_os("MYNAKIOSK_WRITE_DOCS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        text,
        "docs/fault-matrix.md is stale: MYNAKIOSK_WRITE_DOCS=1 cargo test -p mynakiosk-tests \
         --test e2e fault_matrix::doc"
    );
}

/// How long the reader stays lost in the pcscd and reader faults.
const READER_LOST: Duration = Duration::from_secs(3);
/// The private pcscd's reader list while the kiosk's reader is unplugged.
const OTHER_READER: VpcdReader = VpcdReader {
    name: "Other PCD",
    port: 0x8D51,
};

/// The staff member's PIN (configured as its PBKDF2 hash).
const STAFF_PIN: &str = "2468";
/// The card of every flow but registration, and the unregistered one.
const CARD: &str = "normal";
const UNREGISTERED_CARD: &str = "foreign-resident";

/// What the scenario thread needs from the test: folders and the cells to run.
struct Setup {
    dir: PathBuf,
    audit_disk: PathBuf,
    outbox_disk: PathBuf,
    holder: PathBuf,
    fronts: PathBuf,
    cells: Vec<Cell>,
}

static SETUP: OnceLock<Setup> = OnceLock::new();

#[test]
fn kiosk_cells() {
    if common::reran_alone() {
        return;
    }
    common::start_private_pcscd();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let audit_disk = SmallDisk::mount(4096);
    let outbox_disk = SmallDisk::mount(4096);
    let holder = common::portraits(dir, "holder", &["obama2.jpg", "obama3.jpg"]);
    let fronts = common::card_fronts(dir, CARD, 2);
    let serial = card_io::certificate::CertificateSummary::of(
        &Profile::load(UNREGISTERED_CARD)
            .unwrap()
            .certificate
            .unwrap(),
    )
    .unwrap()
    .serial
    .replace(':', "");
    let data = dir.join("sim.toml");
    std::fs::write(
        &data,
        format!("default = \"valid\"\n[cards]\n\"{serial}\" = \"unregistered\"\n"),
    )
    .unwrap();
    let (_sim, url) = binary::qual_sim(&data);
    let hash = mynakiosk::staff::hash_pin(
        STAFF_PIN,
        b"fault-matrix",
        std::num::NonZeroU32::new(1000).unwrap(),
    );
    let extra = format!(
        "[face]\nliveness = \"off\"\n[camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [card_front_camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [qualification]\nurl = \"{url}\"\n[demo]\nvpcd_port = {}\n\
         [[staff.members]]\nid = \"nurse-7\"\npin_hash = \"{hash}\"\n",
        holder.display(),
        fronts.display(),
        common::DEMO_VPCD_PORT
    );
    let mut config = common::config(dir, &extra);
    config.audit.dir = audit_disk.mount.join("audit");
    config.handoff.outbox_dir = outbox_disk.mount.join("outbox");
    let only = std::env::var("MYNAKIOSK_FAULT_MATRIX").ok();
    let cells = cells()
        .into_iter()
        .filter(|c| match only.as_deref() {
            None => c.cheap,
            Some("full") => true,
            Some(text) => fault_text(c.fault).contains(text),
        })
        .collect();
    let setup = Setup {
        dir: dir.to_owned(),
        audit_disk: audit_disk.mount.clone(),
        outbox_disk: outbox_disk.mount.clone(),
        holder,
        fronts,
        cells,
    };
    assert!(SETUP.set(setup).is_ok());
    common::run_kiosk(&config, Mode::demo(), dir, scenario);
}

fn scenario(d: &Driver) {
    let setup = SETUP.get().unwrap();
    d.wait_for(ui::Screen::Waiting);
    let clean: Vec<_> = FLOWS.map(|flow| run_flow(d, setup, flow, None)).into();
    for (flow, outcome) in FLOWS.iter().zip(&clean) {
        assert_eq!(
            outcome.expect_met,
            Some(true),
            "{flow:?} runs clean: {outcome:?}"
        );
    }
    assert_eq!(
        clean.iter().map(|o| o.apdus).collect::<Vec<_>>(),
        FLOWS.map(apdus),
        "APDUs of a clean session of each flow (update `apdus`)"
    );
    let started = Instant::now();
    for cell in &setup.cells {
        eprintln!("fault matrix cell: {cell:?}");
        let outcome = run_flow(d, setup, cell.flow, Some(cell));
        assert_eq!(outcome.expect_met, Some(true), "{cell:?}: {outcome:?}");
    }
    println!(
        "fault matrix: {} cells in {:.0} s",
        setup.cells.len(),
        started.elapsed().as_secs_f64()
    );
}

/// What a session under a fault did.
#[derive(Debug)]
struct Outcome {
    apdus: usize,
    screen: ui::Screen,
    /// Error codes the error screen showed during the session.
    codes: Vec<String>,
    /// Error codes the audit log recorded as shown during the session.
    audited: Vec<String>,
    notices: Vec<ui::Notice>,
    withdrawn: bool,
    delivered: usize,
    /// Whether the cell's expectation held (None before it is judged).
    expect_met: Option<bool>,
}

/// The card in the reader during one session.
struct Slot {
    card: RefCell<Option<VpcdCard>>,
    /// The card as it was when pulled, with its counters.
    pulled: RefCell<Option<VirtualCard>>,
}

impl Slot {
    /// Whether the card left (pulled by the test or by its fault).
    fn gone(&self) -> bool {
        self.card.borrow().as_ref().is_none_or(VpcdCard::is_closed)
    }

    fn pull(&self) {
        if let Some(card) = self.card.borrow_mut().take() {
            *self.pulled.borrow_mut() = Some(card.remove().expect("the card's thread"));
        }
    }
}

/// One session of `flow` with `cell`'s fault (none for a clean run), then its checks.
fn run_flow(d: &Driver, setup: &Setup, flow: Flow, cell: Option<&Cell>) -> Outcome {
    let fault = cell.map(|c| c.fault);
    let before = d.delivered().len();
    let audit_mark = audit_lines(setup).len();
    let profile = if flow == Flow::Registration {
        UNREGISTERED_CARD
    } else {
        CARD
    };
    let mut card = Profile::load(profile).unwrap().card();
    if let Some(Fault::CardPulledAfterApdu(k)) = fault {
        card = card.with_fault(card_sim::Fault::RemoveAfter(k));
    }
    let drop_dir = setup.dir.join("drop");
    let drop_down = setup.dir.join("drop.down");
    if fault == Some(Fault::SinkDown) {
        std::fs::rename(&drop_dir, &drop_down).unwrap();
    }
    let slot = Slot {
        card: RefCell::new(Some(common::DEMO_SLOT1.insert(card))),
        pulled: RefCell::new(None),
    };
    let t = Touches {
        d,
        slot: &slot,
        codes: RefCell::new(Vec::new()),
        withdrawn: RefCell::new(false),
    };
    let mut fillers = Vec::new();
    let mut moved = Vec::new();
    let strike = |step: Step, fillers: &mut Vec<PathBuf>, moved: &mut Vec<(PathBuf, PathBuf)>| {
        match fault {
            Some(Fault::CardPulledAt(s)) if s == step => slot.pull(),
            Some(Fault::OutboxDiskFull(s)) if s == step => {
                fillers.push(common::fill_disk(&setup.outbox_disk))
            }
            Some(Fault::AuditDiskFull(s)) if s == step => {
                fillers.push(common::fill_disk(&setup.audit_disk))
            }
            Some(Fault::CameraGone(s)) if s == step => moved.push(hide(&setup.holder)),
            Some(Fault::FrontCameraGone(s)) if s == step => moved.push(hide(&setup.fronts)),
            Some(Fault::PcscdKilled(s)) if s == step => {
                common::with_private_pcscd(PrivatePcscd::kill);
                t.watch(READER_LOST);
                common::with_private_pcscd(|p| p.restart(common::DEMO_READER));
            }
            Some(Fault::ReaderUnplugged(s)) if s == step => {
                common::with_private_pcscd(|p| p.restart(OTHER_READER));
                t.watch(READER_LOST);
                common::with_private_pcscd(|p| p.restart(common::DEMO_READER));
            }
            _ => {}
        }
        !slot.gone()
    };
    let mut at = |step: Step| strike(step, &mut fillers, &mut moved);
    let reached_end = match flow {
        Flow::Pin => {
            t.reach(ui::Screen::MethodChoice)
                && at(Step::MethodChoice)
                && t.click("MethodChoiceScreen::pin")
                && t.reach(ui::Screen::PinEntry)
                && at(Step::PinEntry)
                && t.pin("9999")
                && t.until("the wrong PIN counted", |d| {
                    d.on_ui(|w| w.get_pin_retries()) == 2
                })
                && t.pin("1234")
                && t.consent()
        }
        Flow::Consent => {
            t.reach(ui::Screen::MethodChoice)
                && t.click("MethodChoiceScreen::pin")
                && t.reach(ui::Screen::PinEntry)
                && t.pin("1234")
                && t.reach(ui::Screen::ConsentChoice)
                && at(Step::ConsentChoice)
                && t.click("ConsentChoiceScreen::all")
                && t.reach(ui::Screen::ConsentSummary)
                && at(Step::ConsentSummary)
                && t.click("ConsentSummaryScreen::confirm")
                && t.reach(ui::Screen::Result)
        }
        Flow::Face => {
            t.reach(ui::Screen::MethodChoice)
                && at(Step::MethodChoice)
                && t.click("MethodChoiceScreen::face")
                && at(Step::FaceChosen)
                && face_or_pin(&t)
        }
        Flow::Staff => {
            t.reach(ui::Screen::MethodChoice)
                && at(Step::MethodChoice)
                && t.click("TopBar::call-staff")
                && t.reach(ui::Screen::StaffLogin)
                && at(Step::StaffLogin)
                && t.pin(STAFF_PIN)
                && t.reach(ui::Screen::StaffMenu)
                && at(Step::StaffMenu)
                && t.press("その他")
                && t.consent()
        }
        Flow::Registration => {
            t.reach(ui::Screen::MethodChoice)
                && at(Step::MethodChoice)
                && t.click("MethodChoiceScreen::pin")
                && t.reach(ui::Screen::PinEntry)
                && t.pin("1234")
                && t.reach(ui::Screen::ConsentChoice)
                && t.click("ConsentChoiceScreen::all")
                && t.reach(ui::Screen::ConsentSummary)
                && t.click("ConsentSummaryScreen::confirm")
                && t.reach(ui::Screen::RegistrationOffer)
                && at(Step::RegistrationOffer)
                && t.click("RegistrationOfferScreen::yes")
                && t.reach(ui::Screen::Result)
        }
    };
    // The screen the patient is left with; then the fault is undone and the card taken out.
    let screen = t.settle();
    for filler in fillers {
        std::fs::remove_file(filler).unwrap();
    }
    for (from, to) in moved {
        std::fs::rename(to, from).unwrap();
    }
    if fault == Some(Fault::SinkDown) {
        std::fs::rename(&drop_down, &drop_dir).unwrap();
    }
    let mut outcome = Outcome {
        apdus: 0,
        screen,
        codes: t.codes.take(),
        audited: Vec::new(),
        notices: notices(d),
        withdrawn: t.withdrawn.take(),
        delivered: 0,
        expect_met: None,
    };
    slot.pull();
    let card = slot.pulled.take().expect("the session's card");
    // After an unwritable audit log, the kiosk takes cards again once a retry (every 10 s)
    // writes it, starting with the E024 it showed.
    d.wait_for(ui::Screen::Waiting);
    std::thread::sleep(Duration::from_millis(600));
    outcome.audited = audit_lines(setup)[audit_mark..]
        .iter()
        .filter(|l| l["event"] == "error_shown")
        .map(|l| l["code"].as_str().unwrap_or_default().to_owned())
        .collect();
    outcome.apdus = card.apdus_answered();
    let expected_results = match (cell.map(|c| c.expect), flow) {
        (None | Some(Expect::DeliveredLate | Expect::FaceWithdrawn), Flow::Registration) => 2,
        (None | Some(Expect::DeliveredLate | Expect::FaceWithdrawn), _) => 1,
        (Some(Expect::RegistrationDropped), _) => 1,
        (Some(Expect::Interrupted | Expect::Refused(_) | Expect::ReaderLost(_)), _) => 0,
    };
    outcome.delivered = wait_for_results(d, before, expected_results) - before;
    check_consistency(setup);
    check_tries(profile, flow, fault, &card, &outcome);
    outcome.expect_met = Some(judge(cell.map(|c| c.expect), reached_end, &outcome));
    outcome
}

/// Whether `outcome` is what the cell expects (a clean run: the flow completed).
fn judge(expect: Option<Expect>, reached_end: bool, o: &Outcome) -> bool {
    match expect {
        None | Some(Expect::DeliveredLate) => {
            reached_end && o.screen == ui::Screen::Result && o.delivered >= 1
        }
        Some(Expect::Interrupted) => {
            !reached_end
                && o.delivered == 0
                && o.screen == ui::Screen::Waiting
                && (o.notices.contains(&ui::Notice::CardRemoved)
                    || o.codes
                        .iter()
                        .chain(&o.audited)
                        .any(|c| c == "E001" || c == "E003"))
                // E010: the PIN flow's wrong PIN, typed on purpose.
                && o.audited.iter().all(|c| ["E001", "E003", "E010"].contains(&c.as_str()))
        }
        Some(Expect::ReaderLost(code)) => {
            !reached_end
                && o.delivered == 0
                && o.screen == ui::Screen::Waiting
                && o.codes.iter().chain(&o.audited).any(|c| c == code)
        }
        Some(Expect::RegistrationDropped) => {
            !reached_end && o.delivered == 1 && o.screen == ui::Screen::Waiting
        }
        Some(Expect::Refused(code)) => {
            o.delivered == 0
                && o.screen == ui::Screen::Error
                && o.codes.iter().any(|c| c == code)
                && o.audited.iter().any(|c| c == code)
        }
        Some(Expect::FaceWithdrawn) => {
            reached_end && o.withdrawn && o.screen == ui::Screen::Result && o.delivered >= 1
        }
    }
}

/// No try spent twice: the PIN flow typed one wrong PIN, which costs one try at most (the
/// right one restores them); nothing else may cost a try of either PIN.
fn check_tries(profile: &str, flow: Flow, fault: Option<Fault>, card: &VirtualCard, o: &Outcome) {
    let fresh = Profile::load(profile).unwrap().card();
    let pin_tries = |c: &VirtualCard| {
        c.tries_left(
            &card_io::mynumber::aid::JPKI,
            card_sim::layout::fid::jpki::AUTH_PIN,
        )
    };
    let (pin, full_pin) = (pin_tries(card), pin_tries(&fresh));
    let allowed = if flow == Flow::Pin { 1 } else { 0 };
    assert!(
        pin >= full_pin.map(|f| f - allowed),
        "{flow:?} {fault:?}: PIN tries {pin:?} of {full_pin:?}: {o:?}"
    );
    let pin_b = common::pin_b_tries(card);
    let full_pin_b = common::pin_b_tries(&fresh);
    assert_eq!(
        pin_b, full_pin_b,
        "{flow:?} {fault:?}: 照合番号B tries: {o:?}"
    );
}

/// Waits for the sink to hold `before + n` results (staff calls aside), then a little longer
/// for a duplicate; returns how many it holds.
fn wait_for_results(d: &Driver, before: usize, n: usize) -> usize {
    let deadline = Instant::now() + TIMEOUT;
    while d.delivered().len() < before + n && Instant::now() < deadline {
        std::thread::sleep(POLL);
    }
    std::thread::sleep(Duration::from_millis(300));
    let delivered = d.delivered();
    let now = delivered.len();
    let methods: Vec<_> = delivered
        .iter()
        .map(|r| format!("{} {}", r["method"], r["idempotency_key"]))
        .collect();
    assert_eq!(
        now,
        before + n,
        "results delivered exactly once: {methods:?}"
    );
    now
}

/// The outbox empty (everything acknowledged) and the audit chain intact.
fn check_consistency(setup: &Setup) {
    let pending = setup.outbox_disk.join("outbox/pending");
    let deadline = Instant::now() + TIMEOUT;
    while std::fs::read_dir(&pending).map_or(0, |d| d.count()) > 0 {
        assert!(Instant::now() < deadline, "the outbox did not empty");
        std::thread::sleep(POLL);
    }
    let audit = setup.audit_disk.join("audit");
    if let Err(e) = mynakiosk::audit::verify(std::slice::from_ref(&audit)) {
        panic!("the audit chain: {e}");
    }
}

/// The current audit file's records.
fn audit_lines(setup: &Setup) -> Vec<serde_json::Value> {
    std::fs::read_to_string(setup.audit_disk.join("audit/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Moves `folder` away (a camera unplugged); returns the pair to move back.
fn hide(folder: &Path) -> (PathBuf, PathBuf) {
    let away = folder.with_extension("gone");
    std::fs::rename(folder, &away).unwrap();
    (folder.to_owned(), away)
}
