//! A scripted keypad-only patient on the real PIN path (`cargo bench -p mynakiosk-tests --bench
//! keypad_patient`, `KEYPAD_BENCH_RUNS=N` runs, default 3): the virtual card (`normal`) through
//! the real pcscd + vpcd, the real window on the headless backend driven by key events only,
//! the voice enabled and played to ALSA's `null` device at real speed (a prompt holds the
//! player for its length). The patient hears each prompt to its end, in the order the kiosk
//! says them, then thinks 1 s before each key. Times: card placed to the result screen, and
//! the longest a key waited for its screen change (prompts are spoken after the screen is
//! shown; this checks none delays it).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{insert, remove, Driver};
use mynakiosk::kiosk::{view, Mode};
use mynakiosk::session::{Lang, Prompt, Screen};
use mynakiosk::voice::{self, VoiceConfig};
use mynakiosk_tests::pcscd;

/// The patient's think time before each key.
const THINK: Duration = Duration::from_secs(1);

fn main() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("test-ca.der");
    std::fs::write(&anchor, card_sim::pki::test_trust_anchor_der()).unwrap();
    let cache = dir.path().join("voice");
    let extra = format!(
        "[reader]\nname = \"{}\"\n[card]\ntrust_anchors = [\"{}\"]\n",
        pcscd::SLOT0_READER,
        anchor.display()
    );
    let mut config = common::config(dir.path(), &extra);
    config.voice = VoiceConfig {
        enabled: true,
        device: "null".into(),
        cache_dir: cache,
        ..VoiceConfig::default()
    };
    VOICE.set(config.voice.clone()).unwrap();
    common::run_kiosk(&config, Mode::Production, dir.path(), patients);
}

static VOICE: std::sync::OnceLock<VoiceConfig> = std::sync::OnceLock::new();

/// How long `prompt` plays in Japanese as the window words it now (the kiosk has rendered
/// it into its cache ahead).
fn length(d: &Driver, prompt: Prompt) -> Duration {
    let text = d
        .on_ui(move |w| view::prompt_text(w, prompt, Lang::Ja, true))
        .expect("words");
    let config = VOICE.get().unwrap();
    let wav = voice::cached(config, Lang::Ja, &text).expect("rendered prompt");
    voice::duration(&wav).expect("a WAV length")
}

/// The patient's ear: prompts are heard one after another, each to its end.
struct Listener {
    heard_until: Instant,
}

impl Listener {
    /// `prompt` starts when the screen is seen or when the last one ends, whichever is later.
    fn hear(&mut self, length: Duration) {
        self.heard_until = self.heard_until.max(Instant::now()) + length;
    }

    /// Waits until everything said has been heard, then thinks.
    fn then_think(&self) {
        if let Some(rest) = self.heard_until.checked_duration_since(Instant::now()) {
            std::thread::sleep(rest);
        }
        std::thread::sleep(THINK);
    }
}

/// Presses `key` and waits for `next` (polled every millisecond); returns the wait.
fn press(d: &Driver, key: &'static str, next: Option<ui::Screen>) -> Duration {
    let pressed = Instant::now();
    d.key(key);
    if let Some(next) = next {
        let deadline = pressed + common::TIMEOUT;
        while d.screen() != next {
            assert!(Instant::now() < deadline, "{key:?}: no {next:?}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    pressed.elapsed()
}

fn patients(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    let runs: usize = std::env::var("KEYPAD_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let reading = length(d, Prompt::Screen(Screen::Reading));
    let mut times = Vec::new();
    let mut slowest_screen = Duration::ZERO;
    for _ in 0..runs {
        let placed = Instant::now();
        let mut ear = Listener {
            heard_until: placed,
        };
        let card = insert("normal");
        ear.hear(reading);
        d.wait_for(ui::Screen::MethodChoice);
        ear.hear(length(d, Prompt::Screen(Screen::MethodChoice)));
        ear.then_think();
        let mut waits = vec![press(d, "2", Some(ui::Screen::PinEntry))];
        ear.hear(length(d, Prompt::Screen(Screen::PinEntry)));
        for digit in ["1", "2", "3", "4"] {
            ear.then_think();
            press(d, digit, None);
        }
        ear.hear(length(d, Prompt::PinEntered));
        ear.then_think();
        press(d, "\n", None);
        d.wait_for(ui::Screen::ConsentChoice);
        ear.hear(length(d, Prompt::Screen(Screen::ConsentChoice)));
        ear.then_think();
        waits.push(press(d, "1", Some(ui::Screen::ConsentSummary)));
        ear.hear(length(d, Prompt::Screen(Screen::ConsentSummary)));
        ear.then_think();
        waits.push(press(d, "\n", None));
        d.wait_for(ui::Screen::Result);
        times.push(placed.elapsed());
        slowest_screen = slowest_screen.max(waits.into_iter().max().unwrap());
        remove(d, card);
    }
    times.sort();
    let s = |d: Duration| d.as_secs_f64();
    println!(
        "keypad-only PIN path, card placed to result ({runs} runs, 1 s think per key, 8 keys, \
         each prompt heard to its end): median {:.1} s, min {:.1} s, max {:.1} s",
        s(times[times.len() / 2]),
        s(times[0]),
        s(times[times.len() - 1]),
    );
    println!(
        "longest key to screen change with prompts spoken: {:.0} ms (the driver's own round \
         trip to the UI thread: median {:.1} ms)",
        slowest_screen.as_secs_f64() * 1e3,
        round_trip(d).as_secs_f64() * 1e3
    );
}

/// The median time the driver takes to ask the UI thread for the screen (part of every
/// key-to-screen figure).
fn round_trip(d: &Driver) -> Duration {
    let mut times: Vec<Duration> = (0..101)
        .map(|_| {
            let asked = Instant::now();
            d.screen();
            asked.elapsed()
        })
        .collect();
    times.sort();
    times[50]
}
