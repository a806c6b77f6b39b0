//! Session timings with the reception console and the metrics under load (issue #15, run with
//! `cargo bench --profile dev -p mynakiosk-tests --bench console_load`): the kiosk of the
//! `kiosk_e2e` bench (virtual card through the real pcscd + vpcd, real card-front OCR and face
//! pipeline on image-folder cameras, the headless window, the file-drop sink) with `[console]`
//! and `[metrics]` on. Scripted sessions run in blocks of one face and one PIN session, without
//! load (A) and with load (B) in the order ABBA, so drift of the shared machine hits both: the
//! load is 50 `curl` server-sent-event clients signed in with the reception token and a
//! `/metrics` scrape every second (separate processes). Each step is timed: card placed → the
//! method choice (card read), method chosen → consent (face or PIN), consent → result handed
//! off; and card placed → result. Prints the median and interquartile range of each for A and
//! B, the kiosk process's VmRSS at the end of each block, the CPU time its `console` and
//! `metrics` threads and the whole process used per block, and the load average.
//! `CONSOLE_BENCH_MINUTES` (default 10): minutes of sessions under load (as many without).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{insert, remove, Driver};
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::pcscd;

/// Server-sent-event clients while under load.
const CLIENTS: usize = 50;
/// Card-front photos rendered for the card-front camera.
const CARD_FRONT_SEEDS: u64 = 4;
/// The paths a block runs, with the method button of each.
const PATHS: [(&str, &str); 2] = [
    ("face", "MethodChoiceScreen::face"),
    ("PIN", "MethodChoiceScreen::pin"),
];
/// The timed steps of a session.
const STEPS: [&str; 4] = [
    "card read (placed → method choice)",
    "authentication (method → consent)",
    "consent → result handed off",
    "card placed → result handed off",
];

/// The console's and the metrics' ports and the reception token.
struct Endpoints {
    console: u16,
    metrics: u16,
    token: String,
}

static ENDPOINTS: OnceLock<Endpoints> = OnceLock::new();

fn main() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let holder = common::portraits(d, "holder", &["obama2.jpg", "obama3.jpg"]);
    let fronts = common::card_fronts(d, "normal", CARD_FRONT_SEEDS);
    let (cert, key) = (d.join("console.crt"), d.join("console.key"));
    mynakiosk_tests::self_signed_certificate(&cert, &key);
    let token = "t".repeat(48);
    std::fs::write(d.join("reception.token"), format!("{token}\n")).unwrap();
    let (console, metrics) = (common::free_port(), common::free_port());
    let extra = format!(
        "[face]\nliveness = \"off\"\n[camera]\nsource = \"images\"\nfolder = \"{holder}\"\n\
         [card_front_camera]\nsource = \"images\"\nfolder = \"{fronts}\"\n\
         [demo]\nvpcd_port = {vpcd}\n\
         [metrics]\nenabled = true\nlisten = \"127.0.0.1:{metrics}\"\n\
         [console]\nenabled = true\nlisten = \"127.0.0.1:{console}\"\n\
         tls_cert = \"{cert}\"\ntls_key = \"{key}\"\ntoken_file = \"{d}/reception.token\"\n",
        holder = holder.display(),
        fronts = fronts.display(),
        vpcd = pcscd::SLOT0_PORT,
        cert = cert.display(),
        key = key.display(),
        d = d.display(),
    );
    let config = common::config(d, &extra);
    let _ = ENDPOINTS.set(Endpoints {
        console,
        metrics,
        token,
    });
    common::run_kiosk(&config, Mode::demo(), d, blocks);
}

/// One session's step times, in `STEPS` order.
type Steps = [Duration; 4];

/// The threads whose CPU time is counted, and the whole process last.
const THREADS: [&str; 3] = ["console", "metrics", "process"];

/// Timings, VmRSS samples and CPU times (ms per block, in `THREADS` order) of the blocks
/// without (`[0]`) and with (`[1]`) load.
#[derive(Default)]
struct Tally {
    times: [[Vec<Steps>; 2]; 2],
    rss_kb: [Vec<u64>; 2],
    cpu_ms: [[Vec<u64>; 3]; 2],
}

fn blocks(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    let e = ENDPOINTS.get().unwrap();
    let cookie = sign_in(e);
    let minutes: f64 = std::env::var("CONSOLE_BENCH_MINUTES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10.0);
    let budget = Duration::from_secs_f64(minutes * 60.0);
    println!("load average before: {}", mynakiosk_tests::load_average());
    let mut tally = Tally::default();
    let mut loaded = Duration::ZERO;
    let mut delivered = 0;
    let mut block = 0;
    // Whole ABBA groups, so A and B run as many blocks.
    while loaded < budget || block % 4 != 0 {
        // ABBA: blocks 1 and 2 of every 4 run under load.
        let with_load = matches!(block % 4, 1 | 2);
        let load = with_load.then(|| Load::start(e, &cookie));
        let started = Instant::now();
        let cpu_before = cpu_ms();
        for (i, (_, method)) in PATHS.iter().enumerate() {
            delivered += 1;
            let steps = session(d, method, delivered);
            tally.times[usize::from(with_load)][i].push(steps);
        }
        tally.rss_kb[usize::from(with_load)].push(resident_kb());
        for (t, (after, before)) in cpu_ms().into_iter().zip(cpu_before).enumerate() {
            tally.cpu_ms[usize::from(with_load)][t].push(after.saturating_sub(before));
        }
        if with_load {
            loaded += started.elapsed();
        }
        drop(load);
        block += 1;
    }
    println!("load average after: {}", mynakiosk_tests::load_average());
    report(&mut tally);
}

/// One session on the `normal` card with `method`; returns its step times.
fn session(d: &Driver, method: &'static str, delivered: usize) -> Steps {
    let placed = Instant::now();
    let card = insert("normal");
    d.wait_for(ui::Screen::MethodChoice);
    let read = placed.elapsed();
    d.click(method);
    if method.ends_with("pin") {
        d.enter_pin("1234");
    }
    d.wait_for(ui::Screen::ConsentChoice);
    let authenticated = placed.elapsed();
    d.consent_all();
    d.wait_for_delivery(delivered);
    let done = placed.elapsed();
    remove(d, card);
    [read, authenticated - read, done - authenticated, done]
}

/// Signs in with the reception token; returns the session cookie (`name=value`).
fn sign_in(e: &Endpoints) -> String {
    let out = Command::new("curl")
        .args(["-sk", "-D", "-", "-o", "/dev/null", "--data-urlencode"])
        .arg(format!("token={}", e.token))
        .arg(format!("https://127.0.0.1:{}/sign-in", e.console))
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim().split(';').next().unwrap_or("").to_owned())
        })
        .expect("the console took the reception token")
}

/// The load: `CLIENTS` event streams and a scrape every second, ended on drop.
struct Load(Vec<Child>);

impl Load {
    fn start(e: &Endpoints, cookie: &str) -> Self {
        let mut children = Vec::with_capacity(CLIENTS + 1);
        for _ in 0..CLIENTS {
            let child = Command::new("curl")
                .args(["-skN", "-H"])
                .arg(format!("Cookie: {cookie}"))
                .arg(format!("https://127.0.0.1:{}/events", e.console))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("curl");
            children.push(child);
        }
        let scrape = format!(
            "while :; do curl -s http://127.0.0.1:{}/metrics >/dev/null; sleep 1; done",
            e.metrics
        );
        children.push(Command::new("sh").args(["-c", &scrape]).spawn().unwrap());
        let load = Load(children);
        let deadline = Instant::now() + Duration::from_secs(20);
        while streams(e.console) < CLIENTS {
            assert!(
                Instant::now() < deadline,
                "only {} event streams open",
                streams(e.console)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        load
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Established connections to the console's port.
fn streams(port: u16) -> usize {
    let out = Command::new("ss")
        .args(["-Htn", "state", "established"])
        .arg(format!("( sport = :{port} )"))
        .output()
        .expect("ss (iproute2)");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// CPU time (user + system, ms) used so far by the threads named in `THREADS`, and the process.
fn cpu_ms() -> [u64; 3] {
    // utime and stime, the 14th and 15th fields, after the `(comm)` field.
    let ticks = |stat: &str| -> u64 {
        let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0)
    };
    // Clock ticks are 100 a second on Linux.
    let ms = |ticks: u64| ticks * 10;
    let mut used = [0; 3];
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        if let Some(t) = THREADS.iter().position(|name| comm.trim() == *name) {
            used[t] += ms(ticks(&stat));
        }
    }
    used[2] = ms(ticks(&std::fs::read_to_string("/proc/self/stat").unwrap()));
    used
}

fn resident_kb() -> u64 {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn report(tally: &mut Tally) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for (i, (path, _)) in PATHS.iter().enumerate() {
        for (s, step) in STEPS.iter().enumerate() {
            let mut line = format!("{path} path, {step}:");
            for (load, name) in [(0, "A no load"), (1, "B load")] {
                let mut t: Vec<Duration> = tally.times[load][i].iter().map(|x| x[s]).collect();
                t.sort();
                let at = |q: f64| t[((t.len() - 1) as f64 * q).round() as usize];
                line += &format!(
                    " {name} median {:.0} ms (IQR {:.0}–{:.0}, n {});",
                    ms(at(0.5)),
                    ms(at(0.25)),
                    ms(at(0.75)),
                    t.len()
                );
            }
            println!("{line}");
        }
    }
    let median = |v: &mut Vec<u64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let (a, b) = (median(&mut tally.rss_kb[0]), median(&mut tally.rss_kb[1]));
    println!(
        "VmRSS at the end of each block, median: A {a} kB, B {b} kB, added by the load {} kB",
        b as i64 - a as i64
    );
    println!("peak VmRSS (VmHWM): {} kB", status_field("VmHWM:"));
    for (t, name) in THREADS.iter().enumerate() {
        let (a, b) = (
            median(&mut tally.cpu_ms[0][t]),
            median(&mut tally.cpu_ms[1][t]),
        );
        println!("CPU time per block (2 sessions), {name}, median: A {a} ms, B {b} ms");
    }
}
