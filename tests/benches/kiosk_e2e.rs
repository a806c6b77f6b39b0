//! The end-to-end figures (run with `cargo bench -p mynakiosk-tests --bench kiosk_e2e`,
//! `KIOSK_BENCH_RUNS=N` runs per path, default 10): a scripted patient with no think time on
//! the real path — the virtual card (`normal` profile) through the real pcscd + vpcd, the
//! real card-front OCR on an image-folder card-front camera showing photos of that card's
//! front (rendered before the clock starts, so the figures measure the kiosk, not the
//! simulator), the real face pipeline on an image-folder camera showing the card holder
//! (liveness off: still images), the real window on the headless backend, the file-drop
//! sink. Times run from the card placed to the result file in the drop folder.
//! Also: start-up to the ready (待機) screen, and the process's peak resident memory.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::{insert, remove, Driver};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::pcscd;

/// Card-front photos rendered for the card-front camera.
const CARD_FRONT_SEEDS: u64 = 4;

/// Start of the kiosk, for the start-up figure.
static STARTED: Mutex<Option<Instant>> = Mutex::new(None);

fn main() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let holder = common::portraits(dir.path(), "holder", &["obama2.jpg", "obama3.jpg"]);
    let fronts = common::card_fronts(dir.path(), "normal", CARD_FRONT_SEEDS);
    let extra = format!(
        "[face]\nliveness = \"off\"\n[camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [card_front_camera]\nsource = \"images\"\nfolder = \"{}\"\n\
         [demo]\nvpcd_port = {}\n",
        holder.display(),
        fronts.display(),
        pcscd::SLOT0_PORT
    );
    let config = common::config(dir.path(), &extra);
    *STARTED.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    common::run_kiosk(&config, Mode::demo(), dir.path(), patients);
    println!("peak resident memory (VmHWM): {}", peak_memory());
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
    }
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

/// `VmHWM` (peak resident memory) of this process, from /proc.
fn peak_memory() -> String {
    std::fs::read_to_string(Path::new("/proc/self/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
