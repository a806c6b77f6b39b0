//! The fault matrix at kiosk level: each flow (face, PIN, staff 目視, consent, registration)
//! with a fault injected at each of its steps, on the real kiosk runtime (the real pcscd and
//! vpcd with the virtual card, the real window on the headless backend, the real card-front
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
//! The normal suite runs the cells marked cheap; `MYNAKIOSK_FAULT_MATRIX=full` runs them all.

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
use mynakiosk_tests::{binary, pcscd};
use slint::platform::PointerEventButton;

/// A patient flow of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// 顔認証: card front read, 照合番号B, chip photo, live face, consent.
    Face,
    /// 暗証番号: a wrong PIN, then the right one, consent.
    Pin,
    /// 係員を呼ぶ, staff PIN, 目視 (その他), consent.
    Staff,
    /// The PIN path's consent screens (包括同意, confirmation).
    Consent,
    /// An unregistered card: PIN, consent, 初回利用登録 requested.
    Registration,
}

/// A point of a flow where a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    MethodChoice,
    PinEntry,
    FaceChosen,
    StaffLogin,
    StaffMenu,
    ConsentChoice,
    ConsentSummary,
    RegistrationOffer,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The card leaves the reader right after answering its nth command APDU of the session.
    CardPulledAfterApdu(usize),
    /// The patient takes the card out at the step.
    CardPulledAt(Step),
    /// The receiver's drop folder is gone for the whole session, back after it.
    SinkDown,
    /// The outbox's disk is full from the step on.
    OutboxDiskFull(Step),
    /// The audit log's disk is full from the step on.
    AuditDiskFull(Step),
    /// The face camera (an image folder) is gone from the step on.
    CameraGone(Step),
    /// The card-front camera (an image folder) is gone from the step on.
    FrontCameraGone(Step),
}

/// What the cell must show and leave behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Back at 待機 with the card-removed notice; nothing delivered.
    Interrupted,
    /// The result screen; the result delivered exactly once, after the receiver is back.
    DeliveredLate,
    /// The error screen with this code; nothing delivered.
    Refused(&'static str),
    /// Face withdrawn (the face-unavailable notice: E018 in the kiosk's log, not in the audit
    /// log); the patient goes on with the PIN and the result is delivered exactly once.
    FaceWithdrawn,
    /// Back at 待機; the session's result delivered once, no registration request.
    RegistrationDropped,
}

/// One cell of the matrix.
#[derive(Debug, Clone, Copy)]
struct Cell {
    flow: Flow,
    fault: Fault,
    expect: Expect,
    /// Run by the normal suite too (the full matrix runs every cell).
    cheap: bool,
    /// A known gap: the kiosk does not meet the expectation yet (why); the cell is listed,
    /// not run.
    gap: Option<&'static str>,
}

/// The kiosk's audit port logs a failed write and goes on (`kiosk/reception.rs`,
/// `AuditTrail`): with the audit disk full, sessions complete and results are delivered
/// without their audit records, and E024 is never shown.
const AUDIT_GAP: &str = "the session goes on and delivers without its audit records (AuditTrail logs the failure and continues); E024 is never shown";

/// Command APDUs the virtual card answers in a whole session of the flow (the identity read
/// included); checked against a clean run of each flow before the faults.
const fn apdus(flow: Flow) -> usize {
    match flow {
        Flow::Face => 17,
        Flow::Pin => 15,
        Flow::Staff => 10,
        Flow::Consent => 13,
        Flow::Registration => 13,
    }
}

/// The steps a flow passes, in order.
fn steps(flow: Flow) -> &'static [Step] {
    use Step::*;
    match flow {
        Flow::Face => &[MethodChoice, FaceChosen],
        Flow::Pin => &[MethodChoice, PinEntry],
        Flow::Staff => &[MethodChoice, StaffLogin, StaffMenu],
        Flow::Consent => &[ConsentChoice, ConsentSummary],
        Flow::Registration => &[MethodChoice, RegistrationOffer],
    }
}

const FLOWS: [Flow; 5] = [
    Flow::Face,
    Flow::Pin,
    Flow::Staff,
    Flow::Consent,
    Flow::Registration,
];

/// Every cell: the card pulled after each APDU and at each step, the receiver down, both
/// disks full at the first step, and for the face flow both cameras gone.
fn cells() -> Vec<Cell> {
    let mut cells = Vec::new();
    for flow in FLOWS {
        let n = apdus(flow);
        for k in 1..=n {
            cells.push(Cell {
                flow,
                fault: Fault::CardPulledAfterApdu(k),
                expect: Expect::Interrupted,
                cheap: k == n / 2,
                gap: None,
            });
        }
        for (i, &step) in steps(flow).iter().enumerate() {
            cells.push(Cell {
                flow,
                fault: Fault::CardPulledAt(step),
                expect: if step == Step::RegistrationOffer {
                    Expect::RegistrationDropped
                } else {
                    Expect::Interrupted
                },
                cheap: i == 0,
                gap: None,
            });
        }
        cells.push(Cell {
            flow,
            fault: Fault::SinkDown,
            expect: Expect::DeliveredLate,
            cheap: flow == Flow::Pin,
            gap: None,
        });
        let first = steps(flow)[0];
        cells.push(Cell {
            flow,
            fault: Fault::OutboxDiskFull(first),
            expect: Expect::Refused("E020"),
            cheap: flow == Flow::Pin,
            gap: None,
        });
        cells.push(Cell {
            flow,
            fault: Fault::AuditDiskFull(first),
            expect: Expect::Refused("E024"),
            cheap: false,
            gap: Some(AUDIT_GAP),
        });
    }
    for (fault, cheap) in [
        (Fault::CameraGone(Step::MethodChoice), true),
        (Fault::FrontCameraGone(Step::MethodChoice), false),
    ] {
        cells.push(Cell {
            flow: Flow::Face,
            fault,
            expect: Expect::FaceWithdrawn,
            cheap,
            gap: None,
        });
    }
    cells
}

fn flow_name(flow: Flow) -> &'static str {
    match flow {
        Flow::Face => "face",
        Flow::Pin => "PIN",
        Flow::Staff => "staff 目視",
        Flow::Consent => "consent",
        Flow::Registration => "registration",
    }
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::MethodChoice => "method choice",
        Step::PinEntry => "PIN pad",
        Step::FaceChosen => "face chosen (card front, 照合番号B, photo, capture)",
        Step::StaffLogin => "staff login",
        Step::StaffMenu => "staff menu",
        Step::ConsentChoice => "consent choice",
        Step::ConsentSummary => "consent confirmation",
        Step::RegistrationOffer => "registration offer",
    }
}

fn fault_text(fault: Fault) -> String {
    match fault {
        Fault::CardPulledAfterApdu(k) => format!("card pulled after APDU {k}"),
        Fault::CardPulledAt(s) => format!("card pulled at {}", step_name(s)),
        Fault::SinkDown => "receiver down for the session".into(),
        Fault::OutboxDiskFull(s) => format!("outbox disk full from {}", step_name(s)),
        Fault::AuditDiskFull(s) => format!("audit disk full from {}", step_name(s)),
        Fault::CameraGone(s) => format!("face camera gone from {}", step_name(s)),
        Fault::FrontCameraGone(s) => format!("card-front camera gone from {}", step_name(s)),
    }
}

fn expect_text(expect: Expect) -> String {
    match expect {
        Expect::Interrupted => {
            "back to 待機 with the card-removed notice, or E001/E003 shown and in the audit log; \
             nothing delivered"
                .into()
        }
        Expect::RegistrationDropped => {
            "back to 待機; the session's result delivered once, no registration request".into()
        }
        Expect::DeliveredLate => {
            "result screen; queued, delivered exactly once when the receiver is back".into()
        }
        Expect::Refused(code) => {
            format!("error screen {code} (and in the audit log); nothing delivered")
        }
        Expect::FaceWithdrawn => {
            "face withdrawn with the face-unavailable notice (E018); the PIN path delivers the \
             result once"
                .into()
        }
    }
}

/// `docs/fault-matrix.md` as the table says it.
fn render() -> String {
    let all = cells();
    let mut out = String::from(
        "# Fault matrix\n\nGenerated from `tests/tests/fault_matrix.rs`; do not edit by hand: \
         `MYNAKIOSK_WRITE_DOCS=1 cargo test -p mynakiosk-tests --test e2e fault_matrix::doc` \
         rewrites it.\n\n\
         Each cell runs on the real kiosk runtime (real pcscd and vpcd with the virtual card, the \
         real window, card-front OCR and face pipeline on image-folder cameras, the file-drop \
         sink, the audit log and the outbox each on a small tmpfs). Beyond its outcome, every \
         cell checks: no try spent twice (the virtual card's counters: a wrong PIN costs exactly \
         one try, 照合番号B none), and with the fault undone, every completed session's result \
         delivered exactly once, the outbox empty and the audit chain intact.\n\n\
         Run: the cheap cells (✓) in the normal suite, `cargo test -p mynakiosk-tests --test e2e \
         fault_matrix::`; every cell with `MYNAKIOSK_FAULT_MATRIX=full` in front.\n\n",
    );
    out += &format!(
        "{} cells, {} cheap, {} known gaps (listed, not run: the kiosk does not meet them yet).\n\n\
         | Flow | Fault | Expected | Cheap |\n| --- | --- | --- | --- |\n",
        all.len(),
        all.iter().filter(|c| c.cheap).count(),
        all.iter().filter(|c| c.gap.is_some()).count()
    );
    for c in &all {
        let expected = match c.gap {
            Some(gap) => format!("{} — **known gap**: {gap}", expect_text(c.expect)),
            None => expect_text(c.expect),
        };
        out += &format!(
            "| {} | {} | {expected} | {} |\n",
            flow_name(c.flow),
            fault_text(c.fault),
            if c.cheap { "✓" } else { "" }
        );
    }
    out
}

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
    let _slots = pcscd::lock();
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
        pcscd::SLOT0_PORT
    );
    let mut config = common::config(dir, &extra);
    config.audit.dir = audit_disk.mount.join("audit");
    config.handoff.outbox_dir = outbox_disk.mount.join("outbox");
    let full = std::env::var("MYNAKIOSK_FAULT_MATRIX").is_ok_and(|v| v == "full");
    let cells = cells()
        .into_iter()
        .filter(|c| c.gap.is_none() && (full || c.cheap))
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
    common::run_kiosk(&config, Mode::Demo, dir, scenario);
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
        card: RefCell::new(Some(
            VpcdCard::insert(card, pcscd::slot0_addr()).expect("vpcd slot 0"),
        )),
        pulled: RefCell::new(None),
    };
    let mut fillers = Vec::new();
    let mut moved = Vec::new();
    let strike = |step: Step, fillers: &mut Vec<PathBuf>, moved: &mut Vec<(PathBuf, PathBuf)>| {
        match fault {
            Some(Fault::CardPulledAt(s)) if s == step => slot.pull(),
            Some(Fault::OutboxDiskFull(s)) if s == step => fillers.push(fill(&setup.outbox_disk)),
            Some(Fault::AuditDiskFull(s)) if s == step => fillers.push(fill(&setup.audit_disk)),
            Some(Fault::CameraGone(s)) if s == step => moved.push(hide(&setup.holder)),
            Some(Fault::FrontCameraGone(s)) if s == step => moved.push(hide(&setup.fronts)),
            _ => {}
        }
        !slot.gone()
    };
    let t = Touches {
        d,
        slot: &slot,
        codes: RefCell::new(Vec::new()),
        withdrawn: RefCell::new(false),
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
        audited: audit_lines(setup)[audit_mark..]
            .iter()
            .filter(|l| l["event"] == "error_shown")
            .map(|l| l["code"].as_str().unwrap_or_default().to_owned())
            .collect(),
        notices: notices(d),
        withdrawn: t.withdrawn.take(),
        delivered: 0,
        expect_met: None,
    };
    slot.pull();
    let card = slot.pulled.take().expect("the session's card");
    d.wait_for(ui::Screen::Waiting);
    std::thread::sleep(Duration::from_millis(600));
    outcome.apdus = card.apdus_answered();
    let expected_results = match (cell.map(|c| c.expect), flow) {
        (None | Some(Expect::DeliveredLate | Expect::FaceWithdrawn), Flow::Registration) => 2,
        (None | Some(Expect::DeliveredLate | Expect::FaceWithdrawn), _) => 1,
        (Some(Expect::RegistrationDropped), _) => 1,
        (Some(Expect::Interrupted | Expect::Refused(_)), _) => 0,
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
                && o.audited.iter().all(|c| c == "E001" || c == "E003")
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

/// Fills the disk at `mount`; returns the filler to delete.
fn fill(mount: &Path) -> PathBuf {
    let filler = mount.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = [0u8; 4096];
    while std::io::Write::write_all(&mut file, &block).is_ok() {}
    filler
}

/// Moves `folder` away (a camera unplugged); returns the pair to move back.
fn hide(folder: &Path) -> (PathBuf, PathBuf) {
    let away = folder.with_extension("gone");
    std::fs::rename(folder, &away).unwrap();
    (folder.to_owned(), away)
}

/// Face path: either matched and consented, or withdrawn (then the PIN path).
fn face_or_pin(t: &Touches) -> bool {
    let deadline = Instant::now() + TIMEOUT * 2;
    loop {
        if t.slot.gone() {
            return false;
        }
        let screen = t.observe();
        if screen == ui::Screen::Error {
            return false;
        }
        if screen == ui::Screen::ConsentChoice {
            return t.consent();
        }
        if screen == ui::Screen::MethodChoice && !t.d.shown("MethodChoiceScreen::face") {
            *t.withdrawn.borrow_mut() = notices(t.d).contains(&ui::Notice::FaceUnavailable);
            return t.click("MethodChoiceScreen::pin") && t.pin("1234") && t.consent();
        }
        assert!(Instant::now() < deadline, "face path stuck on {screen:?}");
        std::thread::sleep(POLL);
    }
}

/// Touches that stop as soon as the card is gone (no touch after the card left), and
/// fail the test if the kiosk does not show what it should while the card is in.
struct Touches<'a> {
    d: &'a Driver,
    slot: &'a Slot,
    /// Error codes seen, in order.
    codes: RefCell<Vec<String>>,
    /// Whether face was withdrawn with the face-unavailable notice.
    withdrawn: RefCell<bool>,
}

impl Touches<'_> {
    /// Notes the error code if the error screen shows now; the screen.
    fn observe(&self) -> ui::Screen {
        let (screen, code) = self
            .d
            .on_ui(|w| (w.get_screen(), w.get_error_code().to_string()));
        let mut codes = self.codes.borrow_mut();
        if screen == ui::Screen::Error && codes.last() != Some(&code) {
            codes.push(code);
        }
        screen
    }

    /// Waits until the session's outcome stops changing: a result or error screen, or 待機
    /// once the card left; returns that screen.
    fn settle(&self) -> ui::Screen {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.observe();
            let gone = self.slot.gone();
            match screen {
                ui::Screen::Waiting if gone => return screen,
                ui::Screen::Result | ui::Screen::Error if !gone => return screen,
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "the kiosk did not settle: {screen:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits for `done`; false as soon as the card is gone or an error screen shows.
    fn until(&self, what: &str, done: impl Fn(&Driver) -> bool) -> bool {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if self.slot.gone() || self.observe() == ui::Screen::Error {
                return false;
            }
            if done(self.d) {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} on {:?}",
                self.d.screen()
            );
            std::thread::sleep(POLL);
        }
    }

    fn reach(&self, screen: ui::Screen) -> bool {
        self.until(&format!("{screen:?}"), |d| d.screen() == screen)
    }

    fn click(&self, id: &'static str) -> bool {
        self.until(id, |d| d.try_click(id))
    }

    fn press(&self, label: &'static str) -> bool {
        self.until(label, |d| {
            d.on_ui(move |w| {
                ElementHandle::find_by_accessible_label(w, label)
                    .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
                    .map(|e| e.mock_single_click(PointerEventButton::Left))
                    .is_some()
            })
        })
    }

    /// Types `pin` on the pad shown and submits it.
    fn pin(&self, pin: &'static str) -> bool {
        for i in 0..pin.len() {
            if !self.press(&pin[i..=i]) {
                return false;
            }
        }
        self.until("the digits typed", |d| {
            d.on_ui(|w| w.get_digits_entered()) == pin.len() as i32
        }) && self.click("DigitPad::submit")
    }

    /// 包括同意, confirmation, the result screen.
    fn consent(&self) -> bool {
        self.reach(ui::Screen::ConsentChoice)
            && self.click("ConsentChoiceScreen::all")
            && self.reach(ui::Screen::ConsentSummary)
            && self.click("ConsentSummaryScreen::confirm")
            && self.reach(ui::Screen::Result)
    }
}
