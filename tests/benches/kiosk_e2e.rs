//! The end-to-end figures (run with `cargo bench -p mynakiosk-tests --bench kiosk_e2e`,
//! `KIOSK_BENCH_RUNS=N` runs per path, default 10): a scripted patient with no think time on
//! the real path — the virtual card (`normal` profile) through the real pcscd + vpcd, the
//! real card-front OCR on an image-folder card-front camera showing photos of that card's
//! front (rendered before the clock starts, by a child process, so that the figures measure
//! the kiosk, not the simulator: its fonts once held 92 MB here), the real face pipeline on an image-folder camera showing the card holder
//! (liveness off: still images), the real window on the headless backend, the file-drop
//! sink. Times run from the card placed to the result file in the drop folder.
//! Also: the load average before and after, start-up to the ready (待機) screen, and the
//! process's resident memory: after the harness's own set-up, at the ready screen and after
//! each path, with the peak during each of these steps and over the run, and the largest
//! mappings at the end (`/proc/self/smaps`). With `MYNAKIOSK_LOG=mynakiosk::kiosk=debug` the
//! kiosk also logs its resident memory after each start-up step.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::{insert, remove, Driver};
use mynakiosk::kiosk::{memory, Mode};
use mynakiosk_tests::pcscd;

/// Card-front photos rendered for the card-front camera.
const CARD_FRONT_SEEDS: u64 = 4;

/// Start of the kiosk, for the start-up figure.
static STARTED: Mutex<Option<Instant>> = Mutex::new(None);

/// The argument that makes this program render the card fronts into a folder and exit.
const RENDER_FRONTS: &str = "--render-card-fronts-into";

fn main() {
    // As the kiosk's own `main` does, before any thread starts.
    memory::one_heap();
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, dir] = &args[..] {
        if flag == RENDER_FRONTS {
            common::card_fronts(Path::new(dir), "normal", CARD_FRONT_SEEDS);
            return;
        }
    }
    if std::env::var_os("MYNAKIOSK_LOG").is_some() {
        mynakiosk::logging::init();
    }
    memory_after("the harness's start");
    println!("load average before: {}", mynakiosk_tests::load_average());
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let holder = common::portraits(dir.path(), "holder", &["obama2.jpg", "obama3.jpg"]);
    let fronts = rendered_card_fronts(dir.path());
    let extra = format!(
        "[face]\nliveness = \"off\"\n[camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [card_front_camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [demo]\nvpcd_port = {}\n",
        holder.display(),
        fronts.display(),
        pcscd::SLOT0_PORT
    );
    let config = common::config(dir.path(), &extra);
    memory_after("the harness's set-up");
    *STARTED.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    common::run_kiosk(&config, Mode::demo(), dir.path(), patients);
    println!("peak resident memory (VmHWM): {} kB", peak_kib());
    println!("load average after: {}", mynakiosk_tests::load_average());
}

/// The card fronts rendered by a child process of this program, so that the renderer's fonts
/// and images are not counted in the kiosk's memory.
fn rendered_card_fronts(dir: &Path) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .arg(RENDER_FRONTS)
        .arg(dir)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "rendering the card fronts failed: {status}"
    );
    dir.join("fronts")
}

fn patients(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    let started = STARTED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .unwrap();
    println!(
        "start-up to the ready screen (window, models, pcscd, outbox, audit): {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    memory_after("the ready screen");
    let runs: usize = std::env::var("KIOSK_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let mut delivered = 0;
    for (path, method) in [
        ("face", "MethodChoiceScreen::face"),
        ("PIN", "MethodChoiceScreen::pin"),
    ] {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let placed = Instant::now();
            let card = insert("normal");
            d.wait_for(ui::Screen::MethodChoice);
            d.click(method);
            if path == "PIN" {
                d.enter_pin("1234");
            }
            d.consent_all();
            delivered += 1;
            d.wait_for_delivery(delivered);
            times.push(placed.elapsed());
            remove(d, card);
        }
        report(path, &mut times);
        memory_after(&format!("the {path} path"));
    }
    largest_mappings(12);
}

/// Median, minimum, maximum and interquartile range of `times`.
fn report(path: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{path} path, card placed to result handed off ({} runs): median {:.0} ms, \
         IQR {:.0}–{:.0} ms, min {:.0} ms, max {:.0} ms",
        times.len(),
        ms(at(0.5)),
        ms(at(0.25)),
        ms(at(0.75)),
        ms(times[0]),
        ms(times[times.len() - 1]),
    );
}

/// The highest peak of the steps measured so far (each step's peak is reset after it).
static PEAK_KIB: AtomicU64 = AtomicU64::new(0);

/// Prints the resident memory now, all, anonymous and mapped files, after `step`, and its peak
/// during `step`; then starts the next step's peak from the memory now (`/proc/self/clear_refs`).
fn memory_after(step: &str) {
    let peak = memory::status_kib("VmHWM");
    PEAK_KIB.fetch_max(peak, Ordering::Relaxed);
    println!(
        "memory after {step}: VmRSS {} kB (anonymous {} kB, files {} kB), peak during it {peak} kB",
        memory::status_kib("VmRSS"),
        memory::status_kib("RssAnon"),
        memory::status_kib("RssFile"),
    );
    // 5: reset the peak resident memory to the present (Linux ≥ 4.0).
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        println!("the peak cannot be reset ({e}): the next peaks include this one");
    }
}

/// The process's peak resident memory over the whole run: the highest of the steps' peaks.
fn peak_kib() -> u64 {
    PEAK_KIB.fetch_max(memory::status_kib("VmHWM"), Ordering::Relaxed);
    PEAK_KIB.load(Ordering::Relaxed)
}

/// Prints the `count` largest resident shares of the process by mapping (`/proc/self/smaps`):
/// each mapped file, the heap, and the anonymous mappings (ONNX Runtime's and OpenCV's large
/// buffers, thread stacks, glibc's per-thread heaps) summed.
fn largest_mappings(count: usize) {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut resident = std::collections::BTreeMap::<String, u64>::new();
    let mut name = String::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            name = match fields.nth(4) {
                Some(path) => Path::new(path)
                    .file_name()
                    .map_or(path.to_string(), |f| f.to_string_lossy().into_owned()),
                None => "anonymous".into(),
            };
        } else if first == "Rss:" {
            let kib: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            *resident.entry(name.clone()).or_default() += kib;
        }
    }
    let mut largest: Vec<_> = resident.into_iter().collect();
    largest.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    for (name, kib) in largest.into_iter().take(count) {
        println!("resident at the end: {kib:>7} kB {name}");
    }
}
