//! Soak benchmark: `SOAK_SESSIONS` scripted sessions (default 1000) on one running kiosk,
//! mixed face, PIN, staff 目視 and a card removed mid-session, against a private pcscd (the
//! machine's is not touched) restarted twice, and an HTTP receiver (`mynakiosk qual-sim`, a
//! SIMULATOR) killed and restarted every 50 sessions. Checks and prints: results lost or
//! duplicated at the receiver (0 each), resident memory growth after warm-up (≤ 2 %), open
//! file descriptors (flat); every 100 sessions (`SOAK_PROFILE_EVERY`), memory and descriptors
//! with where the memory is (main heap, anonymous maps, files; each allocator heap's mapped and
//! free KiB), to show a trend and which part grows.
//!
//! Run: `cargo test -p mynakiosk-tests --bench soak` (the debug build; root: the private
//! pcscd's mount namespace). `SOAK_SESSIONS=8` is the CI smoke (scripts/test.sh): results are
//! checked, memory and descriptors only from 100 sessions on.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use card_sim::Profile;
use common::{Driver, POLL, TIMEOUT};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::binary::{self, Running};
use serde_json::Value;

/// Sessions between receiver restarts.
const SINK_RESTART_EVERY: usize = 50;
/// Sessions before the memory and descriptor baseline.
const WARM_UP: usize = 50;
const STAFF_PIN: &str = "2468";

/// The receiver and where it keeps what it received.
struct Receiver {
    running: Mutex<Option<Running>>,
    port: u16,
    data: PathBuf,
    received: PathBuf,
    /// Deliveries answered (new or repeated) by the receivers stopped so far.
    attempts: Mutex<u64>,
}

static RECEIVER: OnceLock<Receiver> = OnceLock::new();

impl Receiver {
    fn start(&self) {
        let mut cmd = binary::command();
        cmd.arg("qual-sim")
            .arg("--data")
            .arg(&self.data)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--received")
            .arg(&self.received);
        let mut sim = Running::spawn(cmd);
        sim.wait_for_line("listening on http://", TIMEOUT);
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(sim);
    }

    /// Kills the receiver (counting what it answered) and starts it again.
    fn restart(&self) {
        *self.attempts.lock().unwrap_or_else(PoisonError::into_inner) += self.answered();
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.start();
    }

    fn answered(&self) -> u64 {
        let url = format!("http://127.0.0.1:{}/results", self.port);
        ureq::get(url)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["attempts"].as_u64())
            .unwrap_or(0)
    }

    /// The results (staff calls aside) in the receiver's file, one line per key.
    fn results(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.received)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["event"] != "staff_call")
            .collect()
    }
}

fn main() {
    // As the kiosk's own `main` does, before any thread starts.
    mynakiosk::kiosk::memory::one_heap();
    common::start_private_pcscd();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = common::free_port();
    let data = d.join("sim.toml");
    std::fs::write(&data, "").unwrap();
    let receiver = Receiver {
        running: Mutex::new(None),
        port,
        data,
        received: d.join("received.jsonl"),
        attempts: Mutex::new(0),
    };
    receiver.start();
    assert!(RECEIVER.set(receiver).is_ok());
    let holder = common::portraits(d, "holder", &["obama2.jpg", "obama3.jpg"]);
    let fronts = common::card_fronts(d, "normal", 2);
    let anchor = d.join("test-ca.der");
    std::fs::write(&anchor, card_sim::pki::test_trust_anchor_der()).unwrap();
    let hash =
        mynakiosk::staff::hash_pin(STAFF_PIN, b"soak", std::num::NonZeroU32::new(1000).unwrap());
    let sink = format!("sink = \"http\"\nhttp_url = \"http://127.0.0.1:{port}/results\"");
    let extra = format!(
        "[card]\ntrust_anchors = [\"{}\"]\n[face]\nliveness = \"off\"\n\
         [camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [card_front_camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [demo]\nvpcd_port = {}\n\
         [[staff.members]]\nid = \"nurse-7\"\npin_hash = \"{hash}\"\n",
        anchor.display(),
        holder.display(),
        fronts.display(),
        common::DEMO_VPCD_PORT
    );
    let config = common::config_with_sink(d, &sink, &extra);
    // Demo mode: still images cannot turn a head, so liveness is off, which only demo allows.
    common::run_kiosk(&config, Mode::demo(), d, sessions);
}

/// A kind of scripted session.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Face,
    Pin,
    Staff,
    Removed,
}

const MIX: [Kind; 4] = [Kind::Face, Kind::Pin, Kind::Staff, Kind::Removed];

fn sessions(d: &Driver) {
    let n: usize = std::env::var("SOAK_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let profile_every: usize = std::env::var("SOAK_PROFILE_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let receiver = RECEIVER.get().unwrap();
    let pcscd_restarts = [n / 3, 2 * n / 3];
    let started = Instant::now();
    d.wait_for(ui::Screen::Waiting);
    let mut results = 0;
    let mut baseline = None;
    let (mut rss_peak_after, mut fd_max_after) = (0, 0);
    for i in 0..n {
        if i > 0 && i % SINK_RESTART_EVERY == 0 {
            receiver.restart();
        }
        if i > 0 && pcscd_restarts.contains(&i) {
            restart_pcscd();
        }
        let kind = MIX[i % MIX.len()];
        if session(d, kind) {
            results += 1;
        }
        if i + 1 == WARM_UP.min(n / 2) {
            baseline = Some((rss_kib(), open_fds()));
        }
        if baseline.is_some() {
            rss_peak_after = rss_peak_after.max(rss_kib());
            fd_max_after = fd_max_after.max(open_fds());
        }
        if (i + 1) % profile_every == 0 {
            println!(
                "soak: {} sessions, resident memory {} KiB, {} open file descriptors; {}",
                i + 1,
                rss_kib(),
                open_fds(),
                memory_breakdown()
            );
        }
    }
    // Taken, like the baseline, right after a session: the results read and parsed below are
    // this checker's memory, not the kiosk's (750 of them added about 7 MB).
    let (rss1, fd1) = (rss_kib(), open_fds());
    // Everything queued reaches the receiver.
    let deadline = Instant::now() + TIMEOUT * 4;
    while receiver.results().len() < results && Instant::now() < deadline {
        std::thread::sleep(POLL);
    }
    std::thread::sleep(Duration::from_secs(1));
    let got = receiver.results();
    let keys: HashSet<String> = got
        .iter()
        .map(|r| r["idempotency_key"].as_str().unwrap().to_owned())
        .collect();
    let attempts = *receiver
        .attempts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        + receiver.answered();
    let (rss0, fd0) = baseline.expect("a warm-up");
    let growth = (rss1 as f64 - rss0 as f64) / rss0 as f64 * 100.0;
    println!(
        "soak: {n} sessions in {:.0} s ({} receiver restarts, 2 pcscd restarts)",
        started.elapsed().as_secs_f64(),
        (n - 1) / SINK_RESTART_EVERY
    );
    println!(
        "results: {results} expected, {} received ({} distinct keys), {} lost, {} duplicated \
         at the receiver; {attempts} deliveries answered (repeats are idempotent)",
        got.len(),
        keys.len(),
        results.saturating_sub(keys.len()),
        got.len() - keys.len()
    );
    println!(
        "resident memory after warm-up ({} sessions): {rss0} KiB, at the end {rss1} KiB \
         ({growth:+.2} %), peak after warm-up {rss_peak_after} KiB",
        WARM_UP.min(n / 2)
    );
    println!(
        "open file descriptors: {fd0} after warm-up, {fd1} at the end, at most {fd_max_after}"
    );
    assert_eq!(keys.len(), results, "results lost");
    assert_eq!(got.len(), keys.len(), "results duplicated at the receiver");
    // Memory and descriptors are judged after a real warm-up only (not in the CI smoke).
    if n >= 2 * WARM_UP {
        assert!(growth <= 2.0, "resident memory grew {growth:.2} %");
        assert!(fd1 <= fd0, "file descriptors grew from {fd0} to {fd1}");
    } else {
        println!(
            "(memory and descriptors not judged: fewer than {} sessions)",
            2 * WARM_UP
        );
    }
}

/// One scripted session; true if it hands a result off.
fn session(d: &Driver, kind: Kind) -> bool {
    let card = insert();
    d.wait_for(ui::Screen::MethodChoice);
    let result = match kind {
        Kind::Face => {
            d.click("MethodChoiceScreen::face");
            d.consent_all();
            true
        }
        Kind::Pin => {
            d.click("MethodChoiceScreen::pin");
            d.enter_pin("1234");
            d.consent_all();
            true
        }
        Kind::Staff => {
            d.click("TopBar::call-staff");
            d.enter_pin_on(ui::Screen::StaffLogin, STAFF_PIN);
            d.wait_for(ui::Screen::StaffMenu);
            d.press("その他");
            d.consent_all();
            true
        }
        Kind::Removed => {
            d.click("MethodChoiceScreen::pin");
            d.wait_for(ui::Screen::PinEntry);
            false
        }
    };
    card.remove().unwrap();
    d.wait_for(ui::Screen::Waiting);
    std::thread::sleep(Duration::from_millis(600));
    result
}

/// The `normal` card in the private pcscd's slot the kiosk watches.
fn insert() -> card_sim::vpcd::VpcdCard {
    common::DEMO_SLOT1.insert(Profile::load("normal").unwrap().card())
}

/// Kills the private pcscd and starts it again.
fn restart_pcscd() {
    common::with_private_pcscd(|p| p.restart(common::DEMO_READER));
}

/// This process's resident memory (VmRSS), KiB.
fn rss_kib() -> u64 {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> u64 {
    std::fs::read_to_string(Path::new("/proc/self/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l[name.len()..].trim().trim_end_matches(" kB").parse().ok())
        })
        .unwrap_or(0)
}

/// Open file descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Where the resident memory is (KiB, from /proc/self/smaps: the main heap, anonymous maps, files)
/// and what glibc's allocator holds over all its arenas (malloc_info): mapped, free inside, and in
/// blocks mapped on their own.
fn memory_breakdown() -> String {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let (mut heap, mut anon, mut file, mut anon_maps) = (0u64, 0u64, 0u64, 0);
    let mut kind = "";
    for line in smaps.lines() {
        if let Some(rss) = line.strip_prefix("Rss:") {
            let kib: u64 = rss.trim().trim_end_matches(" kB").parse().unwrap_or(0);
            match kind {
                "heap" => heap += kib,
                "anon" => anon += kib,
                "file" => file += kib,
                _ => {}
            }
        } else if line
            .split_whitespace()
            .next()
            .is_some_and(|a| a.contains('-') && !a.ends_with(':'))
        {
            let path = line.split_whitespace().nth(5).unwrap_or("");
            kind = match path {
                "[heap]" => "heap",
                "" => {
                    anon_maps += 1;
                    "anon"
                }
                p if p.starts_with('/') => "file",
                _ => "other",
            };
        }
    }
    format!(
        "heap {heap}, anon {anon} in {anon_maps} maps, files {file}; malloc {}",
        malloc_totals()
    )
}

/// glibc's malloc_info totals over all arenas: arenas, mapped, free inside, mmapped blocks (KiB).
fn malloc_totals() -> String {
    let mut buf: *mut libc::c_char = std::ptr::null_mut();
    let mut len: libc::size_t = 0;
    // SAFETY: open_memstream gives a stream writing to a buffer it allocates; malloc_info writes
    // to it; the buffer is valid for `len` bytes after fclose and is freed here.
    let xml = unsafe {
        let stream = libc::open_memstream(&mut buf, &mut len);
        if stream.is_null() {
            return "unavailable".into();
        }
        libc::malloc_info(0, stream);
        libc::fclose(stream);
        let text =
            String::from_utf8_lossy(std::slice::from_raw_parts(buf.cast::<u8>(), len)).into_owned();
        libc::free(buf.cast());
        text
    };
    let arenas = xml.matches("<heap nr=").count();
    let totals = xml.rsplit("</heap>").next().unwrap_or("");
    let free = |text: &str| {
        size_kib(text, "<total type=\"fast\"") + size_kib(text, "<total type=\"rest\"")
    };
    // Each arena's mapped and free KiB, to show which one grows.
    let per_arena: Vec<String> = xml
        .split("<heap nr=")
        .skip(1)
        .map(|heap| heap.split("</heap>").next().unwrap_or(heap))
        .map(|heap| {
            format!(
                "{}/{}",
                size_kib(heap, "<system type=\"current\""),
                free(heap)
            )
        })
        .collect();
    format!(
        "{arenas} arenas [{}], {} mapped, {} free, {} in mmapped blocks",
        per_arena.join(" "),
        size_kib(totals, "<system type=\"current\""),
        free(totals),
        size_kib(totals, "<total type=\"mmap\"")
    )
}

/// The sum of `size="…"` over the lines of malloc_info's `xml` holding `kind`, KiB.
fn size_kib(xml: &str, kind: &str) -> u64 {
    xml.lines()
        .filter(|l| l.contains(kind))
        .filter_map(|l| {
            l.split("size=\"")
                .nth(1)?
                .split('"')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum::<u64>()
        / 1024
}
