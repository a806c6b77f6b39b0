#![allow(dead_code)] // the kiosk_e2e bench uses part of it
//! The running kiosk driven from a test thread: the real window on the headless testing
//! backend with an event loop, virtual cards in vpcd slot 0, results from the file-drop sink.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use card_sim::vpcd::VpcdCard;
use card_sim::{Profile, VirtualCard};
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use mynakiosk::config::Config;
use mynakiosk::kiosk::{self, Mode};
use mynakiosk_tests::pcscd;
use mynakiosk_tests::private_pcscd::{PrivatePcscd, VpcdReader};
use serde_json::Value;
use slint::platform::PointerEventButton;
use slint::{ComponentHandle, LogicalSize};

/// Covers vpcd's ~400 ms polling, pcscd and the card work of a step.
pub const TIMEOUT: Duration = Duration::from_secs(15);
pub const POLL: Duration = Duration::from_millis(20);

/// Drives the running kiosk from the test thread.
pub struct Driver {
    window: slint::Weak<ui::KioskWindow>,
    drop_dir: PathBuf,
    audit_dir: PathBuf,
}

impl Driver {
    /// Runs `f` on the UI thread and returns its answer.
    pub fn on_ui<R: Send + 'static>(
        &self,
        f: impl FnOnce(&ui::KioskWindow) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = mpsc::channel();
        let weak = self.window.clone();
        slint::invoke_from_event_loop(move || {
            if let Some(w) = weak.upgrade() {
                let _ = tx.send(f(&w));
            }
        })
        .expect("the kiosk's event loop runs");
        rx.recv_timeout(TIMEOUT).expect("the UI thread answered")
    }

    pub fn screen(&self) -> ui::Screen {
        self.on_ui(|w| w.get_screen())
    }

    pub fn wait_for(&self, screen: ui::Screen) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let now = self.screen();
            if now == screen {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {screen:?}, still {now:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits until `done` holds; fails naming `what` after [`TIMEOUT`].
    pub fn wait_until(&self, what: &str, done: impl Fn(&Driver) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(POLL);
        }
    }

    /// Clicks the element `id`; false if it is not shown.
    pub fn try_click(&self, id: &'static str) -> bool {
        self.on_ui(move |w| {
            ElementHandle::find_by_element_id(w, id)
                .next()
                .map(|e| e.mock_single_click(PointerEventButton::Left))
                .is_some()
        })
    }

    pub fn click(&self, id: &'static str) {
        assert!(
            self.try_click(id),
            "{id} is not shown on {:?}",
            self.screen()
        );
    }

    pub fn shown(&self, id: &'static str) -> bool {
        self.on_ui(move |w| ElementHandle::find_by_element_id(w, id).next().is_some())
    }

    /// The screen and whether `id` is on it, read in one go: a screen and an element read
    /// one after the other may straddle an update (方法選択 then the face screen's lack of
    /// a face button reads as a choice without face).
    pub fn screen_showing(&self, id: &'static str) -> (ui::Screen, bool) {
        self.on_ui(move |w| {
            let shown = ElementHandle::find_by_element_id(w, id).next().is_some();
            (w.get_screen(), shown)
        })
    }

    pub fn label(&self, id: &'static str) -> String {
        self.on_ui(move |w| {
            ElementHandle::find_by_element_id(w, id)
                .next()
                .and_then(|e| e.accessible_label())
                .map(|l| l.to_string())
        })
        .unwrap_or_else(|| panic!("{id} is not shown on {:?}", self.screen()))
    }

    /// Clicks the button labelled `label`.
    pub fn press(&self, label: &'static str) {
        let pressed = self.on_ui(move |w| {
            ElementHandle::find_by_accessible_label(w, label)
                .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
                .map(|e| e.mock_single_click(PointerEventButton::Left))
                .is_some()
        });
        assert!(pressed, "no button {label:?} on {:?}", self.screen());
    }

    /// Presses and releases the key that types `text` (a keypad key) on the window.
    pub fn key(&self, text: &'static str) {
        self.on_ui(move |w| {
            use slint::platform::WindowEvent;
            let window = w.window();
            window.dispatch_event(WindowEvent::KeyPressed { text: text.into() });
            window.dispatch_event(WindowEvent::KeyReleased { text: text.into() });
        });
    }

    /// Types `pin` on the pad and submits it.
    pub fn enter_pin(&self, pin: &str) {
        self.enter_pin_on(ui::Screen::PinEntry, pin);
    }

    /// Types `pin` on the pad of `screen` (the patient's or the staff login's) and submits it.
    pub fn enter_pin_on(&self, screen: ui::Screen, pin: &str) {
        self.wait_for(screen);
        for d in pin.chars() {
            let label = d.to_string();
            let pressed = self.on_ui(move |w| {
                ElementHandle::find_by_accessible_label(w, &label)
                    .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
                    .map(|e| e.mock_single_click(PointerEventButton::Left))
                    .is_some()
            });
            assert!(pressed, "no key {d}");
        }
        let deadline = Instant::now() + TIMEOUT;
        while self.on_ui(|w| w.get_digits_entered()) != pin.len() as i32 {
            assert!(Instant::now() < deadline, "the pad did not take {pin:?}");
            std::thread::sleep(POLL);
        }
        self.click("DigitPad::submit");
    }

    /// 包括同意, confirm, and wait for the reception's answer.
    pub fn consent_all(&self) {
        self.wait_for(ui::Screen::ConsentChoice);
        self.click("ConsentChoiceScreen::all");
        self.wait_for(ui::Screen::ConsentSummary);
        self.click("ConsentSummaryScreen::confirm");
        self.wait_for(ui::Screen::Result);
    }

    pub fn error_code(&self) -> String {
        self.on_ui(|w| w.get_error_code().to_string())
    }

    /// Results the file-drop sink received so far (staff calls aside).
    pub fn delivered(&self) -> Vec<Value> {
        let mut results = json_files(&self.drop_dir);
        results.retain(|r| r["event"] != "staff_call");
        results
    }

    /// Waits until the sink holds `n` results and returns the last one.
    pub fn wait_for_delivery(&self, n: usize) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let results = self.delivered();
            if results.len() >= n {
                assert_eq!(results.len(), n, "one result per verified session");
                return results.into_iter().last().unwrap();
            }
            assert!(Instant::now() < deadline, "no result delivered");
            std::thread::sleep(POLL);
        }
    }

    /// The outbox's queue folder (as `common::config` places it).
    pub fn outbox_pending(&self) -> PathBuf {
        self.drop_dir.with_file_name("outbox").join("pending")
    }

    pub fn audit_text(&self) -> String {
        std::fs::read_to_string(self.audit_dir.join("audit.jsonl")).unwrap_or_default()
    }
}

/// The JSON files of `dir`, oldest name first (names are not ordered; sort by content time).
fn json_files(dir: &Path) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut results: Vec<Value> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    results.sort_by_key(|r| r["created_at"].as_str().unwrap_or_default().to_owned());
    results
}

/// A virtual card of `profile` in vpcd slot 0.
pub fn insert(profile: &str) -> VpcdCard {
    let card = Profile::load(profile).expect("profile").card();
    VpcdCard::insert(card, pcscd::slot0_addr()).expect("vpcd slot 0")
}

/// Takes the card out, waits until the kiosk is back at 待機 and returns the card.
pub fn remove(d: &Driver, card: VpcdCard) -> VirtualCard {
    let card = card.remove().expect("remove card");
    d.wait_for(ui::Screen::Waiting);
    // Let pcscd settle before the next insertion (vpcd polls every ~400 ms).
    std::thread::sleep(Duration::from_millis(600));
    card
}

/// Tries left on the card's 照合番号B (券面事項確認AP).
pub fn pin_b_tries(card: &VirtualCard) -> Option<u8> {
    card.tries_left(
        &card_io::mynumber::aid::KENMEN_KAKUNIN,
        card_sim::layout::fid::kenmen::PIN_B,
    )
}

/// Notices on screen now.
pub fn notices(d: &Driver) -> Vec<ui::Notice> {
    d.on_ui(|w| {
        use slint::Model;
        w.get_notices().iter().collect()
    })
}

/// Set in the child process that runs one kiosk test alone (see [`reran_alone`]).
const ALONE: &str = "MYNAKIOSK_TEST_ALONE";

/// Slint's event-loop backend can be set up once per process, so a test that runs the kiosk
/// starts with `if common::reran_alone() { return; }`. In the harness this runs the current test
/// again, alone, in a child process of the same binary, fails if the child failed and returns
/// true; in that child it returns false, and the test goes on.
pub fn reran_alone() -> bool {
    if std::env::var_os(ALONE).is_some() {
        return false;
    }
    let test = std::thread::current()
        .name()
        .expect("the test harness names each test's thread")
        .to_owned();
    let child = Command::new(std::env::current_exe().expect("test executable path"))
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .expect("run the test in a child process");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && stdout.contains("1 passed"),
        "{test} failed in its child process:\n{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    true
}

/// Runs the kiosk in `mode` with `config` on the headless backend (set up once per process)
/// while `scenarios` drive it from another thread; a failed step fails the test.
pub fn run_kiosk(config: &Config, mode: Mode, dir: &Path, scenarios: fn(&Driver)) {
    i_slint_backend_testing::init_integration_test_with_mock_time();
    let window = ui::KioskWindow::new().unwrap();
    window.window().set_size(LogicalSize::new(1280.0, 800.0));
    let driver = Driver {
        window: window.as_weak(),
        drop_dir: dir.join("drop"),
        audit_dir: dir.join("audit"),
    };
    let script = std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scenarios(&driver)));
        // Always end the event loop, so a failed step fails the test instead of hanging it.
        let _ = slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        });
        outcome
    });
    kiosk::run_in(&window, config, mode).expect("kiosk runs");
    if let Err(panic) = script.join().expect("script thread") {
        std::panic::resume_unwind(panic);
    }
}

/// A folder in `dir` holding copies of the `shared/face-eval/portraits` images `names`.
pub fn portraits(dir: &Path, folder: &str, names: &[&str]) -> PathBuf {
    let out = dir.join(folder);
    std::fs::create_dir(&out).unwrap();
    for name in names {
        let from = mynakiosk_tests::face::face_eval(&format!("portraits/{name}"));
        std::fs::copy(from, out.join(name)).unwrap();
    }
    out
}

/// The configuration every end-to-end test shares (file sink, audit log in `dir`, no voice),
/// followed by `extra` TOML.
pub fn config(dir: &Path, extra: &str) -> Config {
    let sink = format!("sink = \"file\"\ndrop_dir = \"{}/drop\"", dir.display());
    config_with_sink(dir, &sink, extra)
}

/// [`config`] with the `[handoff]` sink lines `sink` instead of the file sink.
pub fn config_with_sink(dir: &Path, sink: &str, extra: &str) -> Config {
    std::fs::create_dir(dir.join("drop")).unwrap();
    let text = format!(
        r#"kiosk_id = "e2e-test"
[handoff]
{sink}
outbox_dir = "{dir}/outbox"
retry_initial_ms = 100
retry_max_ms = 200
[audit]
dir = "{dir}/audit"
[voice]
enabled = false
{extra}"#,
        dir = dir.display(),
    );
    Config::parse(&text).expect("test configuration")
}

/// Photos of the front of `profile`'s virtual card (TEST holder), as the demo renders them
/// (a few camera-distortion seeds), written to a folder for the card-front camera.
pub fn card_fronts(dir: &Path, profile: &str, seeds: u64) -> PathBuf {
    let holder = card_sim::Profile::load(profile)
        .unwrap()
        .holder
        .expect("a holder");
    let front =
        mynakiosk::kiosk::sim::card_front_identity(&holder).expect("a printable card front");
    let folder = dir.join("fronts");
    std::fs::create_dir(&folder).unwrap();
    for seed in 0..seeds {
        let shot = card_front::identity_photo(&front, seed).unwrap();
        let path = folder.join(format!("front-{seed}.png"));
        face_match::image_file::write_png(&path, &shot.image).unwrap();
    }
    folder
}

/// A tmpfs of `kib` KiB mounted in a fresh folder (a full disk on demand); unmounted on
/// drop. Mounting needs root (the suite's container runs as root).
pub struct SmallDisk {
    _dir: tempfile::TempDir,
    pub mount: PathBuf,
}

impl SmallDisk {
    pub fn mount(kib: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("disk");
        std::fs::create_dir(&mount).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&mount)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { _dir: dir, mount }
    }

    /// Fills the disk with `filler` until a write fails.
    pub fn fill(&self) -> PathBuf {
        fill_disk(&self.mount)
    }
}

/// Fills the disk at `mount` with a file `filler` until a write fails; returns the filler.
pub fn fill_disk(mount: &Path) -> PathBuf {
    let filler = mount.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = [0u8; 1024];
    while std::io::Write::write_all(&mut file, &block).is_ok() {}
    filler
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount).status();
    }
}

/// The private pcscd's reader for a kiosk in demo mode (which watches the vpcd slot named for
/// its `[demo] vpcd_port`): "Virtual PCD 00 01", slot 1 of this reader, is what the kiosk
/// watches with [`DEMO_VPCD_PORT`]; cards go in at [`DEMO_SLOT1`].
pub const DEMO_READER: VpcdReader = VpcdReader {
    name: "Virtual PCD",
    port: 0x8D41,
};
/// Slot 1 of [`DEMO_READER`] (its port is the next one).
pub const DEMO_SLOT1: VpcdReader = VpcdReader {
    name: "Virtual PCD",
    port: DEMO_READER.port + 1,
};
/// The `[demo] vpcd_port` whose reader name is slot 1's.
pub const DEMO_VPCD_PORT: u16 = 35964;

thread_local! {
    /// The private pcscd, owned by the thread that runs the kiosk's event loop.
    static PCSCD: std::cell::RefCell<Option<PrivatePcscd>> = const { std::cell::RefCell::new(None) };
}

/// Starts a private pcscd with [`DEMO_READER`] and points this process's PC/SC client at it
/// (before the kiosk starts, on the thread that will run its event loop).
pub fn start_private_pcscd() {
    let pcscd = PrivatePcscd::start(DEMO_READER);
    std::env::set_var("PCSCLITE_CSOCK_NAME", pcscd.socket());
    PCSCD.with(|p| *p.borrow_mut() = Some(pcscd));
}

/// Runs `f` on the private pcscd (on the event loop's thread, which owns it) and waits.
pub fn with_private_pcscd(f: impl FnOnce(&mut PrivatePcscd) + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    slint::invoke_from_event_loop(move || {
        PCSCD.with(|p| f(p.borrow_mut().as_mut().expect("a private pcscd")));
        let _ = tx.send(());
    })
    .expect("the kiosk's event loop runs");
    rx.recv_timeout(TIMEOUT)
        .expect("the private pcscd answered");
}

/// A TCP port free on the loopback now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A kiosk window at 1280×800 on Slint's testing backend, for tests that drive the session
/// themselves (no event loop, no kiosk runtime).
pub fn window_without_event_loop() -> ui::KioskWindow {
    thread_local! {
        static BACKEND: () = i_slint_backend_testing::init_no_event_loop();
    }
    BACKEND.with(|_| ());
    let window = ui::KioskWindow::new().unwrap();
    window.window().set_size(LogicalSize::new(1280.0, 800.0));
    window
}

/// Whether `text` shows `secret` as a token of its own: not run on from other ASCII letters or
/// digits, nor a decimal fraction, so a PIN such as 1234 is found where it stands alone and not
/// inside a timestamp, a serial or a measured value.
pub fn shows_secret(text: &str, secret: &str) -> bool {
    let joined = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.match_indices(secret).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        !joined(before) && before != Some('.') && !joined(text[at + secret.len()..].chars().next())
    })
}

#[test]
fn a_secret_is_found_alone_and_not_inside_a_longer_number() {
    assert!(shows_secret("<dd>1234</dd>", "1234"));
    assert!(shows_secret("PIN 1234", "1234"));
    assert!(shows_secret("1234", "1234"));
    assert!(shows_secret("x 1234567 1234.", "1234"));
    assert!(shows_secret("名前は試験　次郎です", "試験　次郎"));
    assert!(!shows_secret("data-since=\"1764937123456\"", "1234"));
    assert!(!shows_secret("csrf=ab1234cd", "1234"));
    assert!(!shows_secret("2026-12-04T15:45:12.1234Z", "1234"));
    assert!(!shows_secret("duration_seconds 0.1234\n", "1234"));
}
