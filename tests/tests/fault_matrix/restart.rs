//! The kiosk SIGKILLed mid-session and restarted on the same audit log, outbox and sink.

use super::*;

/// Where the kiosk process is SIGKILLed in the PIN flow, then restarted on the same audit
/// log, outbox and sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KillPoint {
    MethodChoice,
    PinEntry,
    ConsentSummary,
    /// Right after 同意して送信 is touched (the result being queued).
    Confirmed,
    Result,
}

pub(super) const KILL_POINTS: [KillPoint; 5] = [
    KillPoint::MethodChoice,
    KillPoint::PinEntry,
    KillPoint::ConsentSummary,
    KillPoint::Confirmed,
    KillPoint::Result,
];

impl KillPoint {
    pub(super) fn name(self) -> &'static str {
        match self {
            KillPoint::MethodChoice => "method-choice",
            KillPoint::PinEntry => "pin-entry",
            KillPoint::ConsentSummary => "consent-summary",
            KillPoint::Confirmed => "confirmed",
            KillPoint::Result => "result",
        }
    }

    /// Whether the killed session's result was queued (and must be delivered once).
    pub(super) fn queued(self) -> bool {
        matches!(self, KillPoint::Result)
    }

    pub(super) fn cheap(self) -> bool {
        self == KillPoint::Confirmed
    }
}

/// Environment of the kiosk child processes: the kill point (or `restart`) and the folder.
pub(super) const KILL_AT: &str = "MYNAKIOSK_MATRIX_KILL_AT";
pub(super) const KILL_DIR: &str = "MYNAKIOSK_MATRIX_DIR";

/// The kiosk process SIGKILLed mid-session (PIN flow) and started again: the restarted kiosk
/// comes up, the killed session's result, if it was
/// queued, is delivered exactly once, nothing else is, the card's tries are untouched, the
/// outbox empties and the audit chain verifies; a new session then completes.
#[test]
fn kiosk_killed_mid_session_and_restarted() {
    let _slots = mynakiosk_tests::pcscd::lock();
    let full = std::env::var("MYNAKIOSK_FAULT_MATRIX").is_ok_and(|v| v == "full");
    for point in KILL_POINTS.into_iter().filter(|p| full || p.cheap()) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut first = spawn_kiosk_child(dir, point.name());
        first.wait_for("ready");
        let card = common::insert(CARD);
        first.wait_for("reached");
        if point == KillPoint::Confirmed {
            // Mid-queueing: the touch was sent a moment ago.
            std::thread::sleep(Duration::from_millis(5));
        }
        first.kill();
        let card = card.remove().unwrap();
        assert_eq!(
            card.tries_left(
                &card_io::mynumber::aid::JPKI,
                card_sim::layout::fid::jpki::AUTH_PIN
            ),
            Profile::load(CARD).unwrap().card().tries_left(
                &card_io::mynumber::aid::JPKI,
                card_sim::layout::fid::jpki::AUTH_PIN
            ),
            "{point:?}: PIN tries"
        );
        mynakiosk_tests::pcscd::require_empty_slot0();
        let mut second = spawn_kiosk_child(dir, "restart");
        second.wait_for("ready");
        let card = common::insert(CARD);
        second.wait_for("done");
        second.finish();
        drop(card);
        let results: Vec<serde_json::Value> = std::fs::read_dir(dir.join("drop"))
            .unwrap()
            .filter_map(|e| std::fs::read(e.unwrap().path()).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .filter(|r: &serde_json::Value| r["event"] != "staff_call")
            .collect();
        let keys: std::collections::HashSet<_> = results
            .iter()
            .map(|r| r["idempotency_key"].to_string())
            .collect();
        let expected = if point.queued() { 2 } else { 1 };
        assert!(
            keys.len() == results.len()
                && (keys.len() == expected || point == KillPoint::Confirmed && keys.len() <= 2),
            "{point:?}: {} results, {} keys, {expected} expected",
            results.len(),
            keys.len()
        );
        let pending = dir.join("outbox/pending");
        assert_eq!(
            std::fs::read_dir(&pending).unwrap().count(),
            0,
            "{point:?}: outbox"
        );
        mynakiosk::audit::verify(&[dir.join("audit")])
            .unwrap_or_else(|e| panic!("{point:?}: the audit chain: {e}"));
    }
}

/// A kiosk child process of [`kiosk_killed_mid_session_and_restarted`].
pub(super) struct KioskChild {
    pub(super) child: std::process::Child,
    pub(super) lines: std::sync::mpsc::Receiver<String>,
}

pub(super) fn spawn_kiosk_child(dir: &Path, at: &str) -> KioskChild {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "fault_matrix::restart::kiosk_child",
            "--nocapture",
            "--test-threads=1",
            "--ignored",
        ])
        .env(KILL_AT, at)
        .env(KILL_DIR, dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    KioskChild { child, lines }
}

impl KioskChild {
    /// Waits for the child to print `matrix: <what>`.
    pub(super) fn wait_for(&mut self, what: &str) {
        let want = format!("matrix: {what}");
        let deadline = Instant::now() + TIMEOUT * 2;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(&want) => return,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("the kiosk child never said {want:?}");
                }
            }
        }
    }

    /// SIGKILL.
    pub(super) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for a clean exit.
    pub(super) fn finish(mut self) {
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the restarted kiosk failed: {status:?}");
    }
}

/// Entry point of the kiosk child processes (`MYNAKIOSK_MATRIX_KILL_AT`): drives the PIN flow
/// to the kill point and waits to be killed, or (`restart`) runs one whole session and ends.
#[test]
#[ignore = "run by kiosk_killed_mid_session_and_restarted in its child processes"]
fn kiosk_child() {
    let dir = PathBuf::from(std::env::var_os(KILL_DIR).expect("MYNAKIOSK_MATRIX_DIR"));
    let extra = format!(
        "[demo]\nvpcd_port = {}\n",
        mynakiosk_tests::pcscd::SLOT0_PORT
    );
    let _ = std::fs::create_dir(dir.join("drop"));
    let text = format!(
        "kiosk_id = \"e2e-test\"\n[handoff]\nsink = \"file\"\ndrop_dir = \"{d}/drop\"\n\
         outbox_dir = \"{d}/outbox\"\nretry_initial_ms = 100\nretry_max_ms = 200\n\
         [audit]\ndir = \"{d}/audit\"\n[voice]\nenabled = false\n{extra}",
        d = dir.display()
    );
    let config = mynakiosk::config::Config::parse(&text).unwrap();
    common::run_kiosk(&config, Mode::demo(), &dir, child_scenario);
}

pub(super) fn child_scenario(d: &Driver) {
    let at = std::env::var(KILL_AT).unwrap();
    let say = |what: &str| {
        use std::io::Write;
        println!("matrix: {what}");
        let _ = std::io::stdout().flush();
    };
    d.wait_for(ui::Screen::Waiting);
    say("ready");
    d.wait_for(ui::Screen::MethodChoice);
    let stop = |point: KillPoint| {
        if at == point.name() {
            say("reached");
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    };
    stop(KillPoint::MethodChoice);
    d.click("MethodChoiceScreen::pin");
    d.wait_for(ui::Screen::PinEntry);
    stop(KillPoint::PinEntry);
    d.enter_pin("1234");
    d.wait_for(ui::Screen::ConsentChoice);
    d.click("ConsentChoiceScreen::all");
    d.wait_for(ui::Screen::ConsentSummary);
    stop(KillPoint::ConsentSummary);
    d.click("ConsentSummaryScreen::confirm");
    stop(KillPoint::Confirmed);
    d.wait_for(ui::Screen::Result);
    if at == KillPoint::Result.name() {
        // Killed once the result is queued (the outbox file is written before the screen).
        d.wait_until("the result queued or delivered", |d| {
            !d.delivered().is_empty()
                || std::fs::read_dir(d.outbox_pending()).is_ok_and(|mut e| e.next().is_some())
        });
    }
    stop(KillPoint::Result);
    say("done");
}
