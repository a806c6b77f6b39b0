//! The matrix itself: flows, steps, faults, what each cell expects, and its Markdown table.

use super::*;

/// A patient flow of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
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
pub(super) enum Step {
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
pub(super) enum Fault {
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
    /// pcscd is killed (SIGKILL) at the step and started again a few seconds later.
    PcscdKilled(Step),
    /// The reader is unplugged at the step (pcscd restarted without it: its vpcd is gone) and
    /// plugged back a few seconds later.
    ReaderUnplugged(Step),
}

/// What the cell must show and leave behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
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
    /// This code shown while the reader is lost (and in the audit log), back at 待機 once it
    /// is back; nothing delivered.
    ReaderLost(&'static str),
}

/// One cell of the matrix.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cell {
    pub(super) flow: Flow,
    pub(super) fault: Fault,
    pub(super) expect: Expect,
    /// Run by the normal suite too (the full matrix runs every cell).
    pub(super) cheap: bool,
}

/// Command APDUs the virtual card answers in a whole session of the flow (the identity read
/// included); checked against a clean run of each flow before the faults.
pub(super) const fn apdus(flow: Flow) -> usize {
    match flow {
        Flow::Face => 17,
        Flow::Pin => 15,
        Flow::Staff => 10,
        Flow::Consent => 13,
        Flow::Registration => 13,
    }
}

/// The steps a flow passes, in order.
pub(super) fn steps(flow: Flow) -> &'static [Step] {
    use Step::*;
    match flow {
        Flow::Face => &[MethodChoice, FaceChosen],
        Flow::Pin => &[MethodChoice, PinEntry],
        Flow::Staff => &[MethodChoice, StaffLogin, StaffMenu],
        Flow::Consent => &[ConsentChoice, ConsentSummary],
        Flow::Registration => &[MethodChoice, RegistrationOffer],
    }
}

pub(super) const FLOWS: [Flow; 5] = [
    Flow::Face,
    Flow::Pin,
    Flow::Staff,
    Flow::Consent,
    Flow::Registration,
];

/// Every cell: the card pulled after each APDU and at each step, the receiver down, both
/// disks full at the first step, and for the face flow both cameras gone.
pub(super) fn cells() -> Vec<Cell> {
    let mut cells = Vec::new();
    for flow in FLOWS {
        let n = apdus(flow);
        for k in 1..=n {
            cells.push(Cell {
                flow,
                fault: Fault::CardPulledAfterApdu(k),
                expect: Expect::Interrupted,
                cheap: k == n / 2,
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
            });
        }
        cells.push(Cell {
            flow,
            fault: Fault::SinkDown,
            expect: Expect::DeliveredLate,
            cheap: flow == Flow::Pin,
        });
        let first = steps(flow)[0];
        cells.push(Cell {
            flow,
            fault: Fault::OutboxDiskFull(first),
            expect: Expect::Refused("E020"),
            cheap: flow == Flow::Pin,
        });
        for (fault, code) in [
            (Fault::PcscdKilled(first), "E005"),
            (Fault::ReaderUnplugged(first), "E004"),
        ] {
            cells.push(Cell {
                flow,
                fault,
                expect: Expect::ReaderLost(code),
                cheap: flow == Flow::Pin,
            });
        }
        cells.push(Cell {
            flow,
            fault: Fault::AuditDiskFull(first),
            expect: Expect::Refused("E024"),
            cheap: flow == Flow::Pin,
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
        });
    }
    cells
}

pub(super) fn flow_name(flow: Flow) -> &'static str {
    match flow {
        Flow::Face => "face",
        Flow::Pin => "PIN",
        Flow::Staff => "staff 目視",
        Flow::Consent => "consent",
        Flow::Registration => "registration",
    }
}

pub(super) fn step_name(step: Step) -> &'static str {
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

pub(super) fn fault_text(fault: Fault) -> String {
    match fault {
        Fault::CardPulledAfterApdu(k) => format!("card pulled after APDU {k}"),
        Fault::CardPulledAt(s) => format!("card pulled at {}", step_name(s)),
        Fault::SinkDown => "receiver down for the session".into(),
        Fault::OutboxDiskFull(s) => format!("outbox disk full from {}", step_name(s)),
        Fault::AuditDiskFull(s) => format!("audit disk full from {}", step_name(s)),
        Fault::CameraGone(s) => format!("face camera gone from {}", step_name(s)),
        Fault::FrontCameraGone(s) => format!("card-front camera gone from {}", step_name(s)),
        Fault::PcscdKilled(s) => format!("pcscd killed at {}, back after 3 s", step_name(s)),
        Fault::ReaderUnplugged(s) => {
            format!(
                "reader unplugged (vpcd gone) at {}, back after 3 s",
                step_name(s)
            )
        }
    }
}

pub(super) fn expect_text(expect: Expect) -> String {
    match expect {
        Expect::Interrupted => {
            "back to 待機 with the card-removed notice, or E001/E003 shown and in the audit log; \
             nothing delivered"
                .into()
        }
        Expect::ReaderLost(code) => format!(
            "{code} shown (or in the audit log) while the reader is lost; back to 待機 once it is \
             back; nothing delivered"
        ),
        Expect::RegistrationDropped => {
            "back to 待機; the session's result delivered once, no registration request".into()
        }
        Expect::DeliveredLate => {
            "result screen; queued, delivered exactly once when the receiver is back".into()
        }
        Expect::Refused("E024") => "error screen E024; once the disk has room, a \
             retry writes E024 to the audit log and the kiosk is back at 待機; nothing delivered \
             (a result is queued only after its `result_confirmed` record)"
            .into(),
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
pub(super) fn render() -> String {
    let all = cells();
    let mut out = String::from(
        "# Fault matrix\n\nGenerated from `tests/tests/fault_matrix/`; do not edit by hand: \
         `MYNAKIOSK_WRITE_DOCS=1 cargo test -p mynakiosk-tests --test e2e fault_matrix::doc` \
         rewrites it.\n\n\
         Each cell runs on the real kiosk runtime (real pcscd and vpcd with the virtual card, a \
         private pcscd the pcscd and reader faults kill and restart, the real window, card-front OCR and face pipeline on image-folder cameras, the file-drop \
         sink, the audit log and the outbox each on a small tmpfs). Beyond its outcome, every \
         cell checks: no try spent twice (the virtual card's counters: a wrong PIN costs exactly \
         one try, 照合番号B none), and with the fault undone, every completed session's result \
         delivered exactly once, the outbox empty and the audit chain intact.\n\n\
         Run: the cheap cells (✓) in the normal suite, `cargo test -p mynakiosk-tests --test e2e \
         fault_matrix::`; every cell with `MYNAKIOSK_FAULT_MATRIX=full` in front, the cells of one \
         fault with its words (e.g. `MYNAKIOSK_FAULT_MATRIX=\"audit disk\"`).\n\n\
         The disks are full when a filler file takes every free page: the audit log's open \
         file may still take a line into its last page, but the head that must name it cannot \
         be written, so the first record after the fill fails.\n\n",
    );
    out += &format!(
        "{} cells, {} cheap.\n\n\
         | Flow | Fault | Expected | Cheap |\n| --- | --- | --- | --- |\n",
        all.len(),
        all.iter().filter(|c| c.cheap).count()
    );
    for c in &all {
        out += &format!(
            "| {} | {} | {} | {} |\n",
            flow_name(c.flow),
            fault_text(c.fault),
            expect_text(c.expect),
            if c.cheap { "✓" } else { "" }
        );
    }
    out +=         "\n## The kiosk SIGKILLed mid-session and restarted\n\n\
         `kiosk_killed_mid_session_and_restarted`: the PIN flow in a kiosk process killed \
         (SIGKILL) at the point, then a kiosk started again on the same audit log, outbox and \
         sink runs a whole session. Every point checks: the restarted kiosk comes up, the card's PIN tries are untouched, the outbox \
         empties, the audit chain verifies, and no result is delivered twice.\n\n\
         | Killed at | Results delivered | Cheap |\n| --- | --- | --- |\n";
    for point in KILL_POINTS {
        let delivered = match point {
            KillPoint::Result => "the killed session's (queued) and the new one's, once each",
            KillPoint::Confirmed => {
                "the new session's, and the killed one's if it was queued before the kill; once each"
            }
            _ => "the new session's only",
        };
        out += &format!(
            "| {} | {delivered} | {} |\n",
            point.name(),
            if point.cheap() { "✓" } else { "" }
        );
    }
    out
}
