//! The kiosk's `/metrics` scraped by a real Prometheus (Debian's `prometheus`) on loopback,
//! with the shipped alert rules (`promtool check rules` too) and the Grafana dashboard's
//! queries. A scripted PIN session runs on the real kiosk runtime against a private pcscd with
//! a vpcd reader; the series appear through Prometheus's query API, and after the reader is
//! unplugged (pcscd restarted without it) the reader-gone alert fires.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use card_sim::Profile;
use common::Driver;
use mynakiosk::kiosk::Mode;
use mynakiosk_tests::private_pcscd::{PrivatePcscd, OTHER, PRIVATE};
use serde_json::Value;

/// Prometheus scrapes and evaluates every second; series and alerts show within this.
const WAIT: Duration = Duration::from_secs(40);

/// Tells the thread that owns the private pcscd to restart it without the reader.
static UNPLUG: Mutex<Option<mpsc::Sender<()>>> = Mutex::new(None);
static PROMETHEUS: Mutex<String> = Mutex::new(String::new());
/// The kiosk's own `/metrics` address.
static KIOSK: Mutex<String> = Mutex::new(String::new());

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

fn packaging(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../packaging")
        .join(file)
}

/// The Prometheus server, killed on drop.
struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_prometheus(dir: &Path, kiosk: u16) -> (Prometheus, String) {
    let port = free_port();
    let config = dir.join("prometheus.yml");
    let text = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {:?}\n\
         scrape_configs:\n  - job_name: mynakiosk\n    static_configs:\n      - targets: [\"127.0.0.1:{kiosk}\"]\n",
        packaging("prometheus/mynakiosk-alerts.yml")
    );
    std::fs::write(&config, text).unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("run prometheus (Debian package prometheus, scripts/setup.sh)");
    let prometheus = Prometheus(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + WAIT;
    while ureq::get(format!("{url}/-/ready")).call().is_err() {
        assert!(Instant::now() < deadline, "prometheus did not get ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    (prometheus, url)
}

/// Prometheus's answer to `path` with the parameters `params`: the `data` of a successful
/// answer.
fn api(path: &str, params: &[(&str, &str)]) -> Value {
    let url = format!("{}{path}", PROMETHEUS.lock().unwrap());
    let request = ureq::get(url).query_pairs(params.iter().copied());
    let text = request
        .call()
        .unwrap_or_else(|e| panic!("{path} {params:?}: {e}"))
        .body_mut()
        .read_to_string()
        .unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["status"], "success", "{text}");
    answer["data"].clone()
}

/// The instant `query`'s answer.
fn query(q: &str) -> Value {
    api("/api/v1/query", &[("query", q)])
}

/// Waits until `q` has a sample whose value is `value`.
fn wait_for_value(q: &str, value: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let data = query(q);
        let values: Vec<&str> = data["result"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["value"][1].as_str())
            .collect();
        if values.contains(&value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{q} never {value}; last {values:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn prometheus_scrapes_the_kiosk_and_the_reader_gone_alert_fires() {
    if common::reran_alone() {
        return;
    }
    let rules = Command::new("promtool")
        .args(["check", "rules"])
        .arg(packaging("prometheus/mynakiosk-alerts.yml"))
        .output()
        .expect("run promtool");
    assert!(rules.status.success(), "{rules:?}");
    let (socket, pcscd) = private_pcscd();
    // SAFETY: set before the kiosk starts any thread that reads the environment.
    unsafe { std::env::set_var("PCSCLITE_CSOCK_NAME", socket) };
    let dir = tempfile::tempdir().unwrap();
    let kiosk = free_port();
    let (_prometheus, url) = start_prometheus(dir.path(), kiosk);
    *PROMETHEUS.lock().unwrap() = url;
    *KIOSK.lock().unwrap() = format!("http://127.0.0.1:{kiosk}/metrics");
    let anchor = dir.path().join("test-ca.der");
    std::fs::write(&anchor, card_sim::pki::test_trust_anchor_der()).unwrap();
    let extra = format!(
        "[reader]\nname = \"{}\"\n[card]\ntrust_anchors = [\"{}\"]\n\
         [metrics]\nenabled = true\nlisten = \"127.0.0.1:{kiosk}\"\n",
        PRIVATE.slot0(),
        anchor.display()
    );
    let config = common::config(dir.path(), &extra);
    common::run_kiosk(&config, Mode::Production, dir.path(), scenario);
    UNPLUG.lock().unwrap().take();
    pcscd.join().unwrap();
}

/// The kiosk's whole `/metrics` text after a session holds nothing of the card holder: no
/// My Number, 照合番号B, name or birth date (the PIN, four digits, could be any count; no
/// label can hold it, as checked above).
fn assert_private_series() {
    let text = ureq::get(KIOSK.lock().unwrap().as_str())
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(text.contains("mynakiosk_sessions_total"), "{text}");
    let profile = Profile::load("normal").unwrap();
    let holder = profile.holder.as_ref().unwrap();
    let b = &holder.birth_date;
    for secret in [
        holder.my_number.clone(),
        profile.pin_b.clone(),
        holder.name.clone(),
        format!("{}{:02}{:02}", b.year, b.month, b.day),
        format!("{}-{:02}-{:02}", b.year, b.month, b.day),
        holder.security_code.clone(),
    ] {
        assert!(
            secret.is_empty() || !common::shows_secret(&text, &secret),
            "/metrics shows {secret:?}"
        );
    }
}

/// A private pcscd with the [`PRIVATE`] reader, owned by a thread of its own (its daemon dies
/// with that thread) that restarts it with [`OTHER`] only when told through [`UNPLUG`].
fn private_pcscd() -> (PathBuf, std::thread::JoinHandle<()>) {
    let (unplug, unplugged) = mpsc::channel();
    *UNPLUG.lock().unwrap() = Some(unplug);
    let (tx, socket) = mpsc::channel();
    let owner = std::thread::spawn(move || {
        let mut pcscd = PrivatePcscd::start(PRIVATE);
        tx.send(pcscd.socket()).unwrap();
        if unplugged.recv().is_ok() {
            pcscd.restart(OTHER);
        }
        // Keep the daemon until the test is over.
        while unplugged.recv().is_ok() {}
    });
    (socket.recv().expect("private pcscd"), owner)
}

fn scenario(d: &Driver) {
    d.wait_for(ui::Screen::Waiting);
    wait_for_value("mynakiosk_reader_up", "1");
    let card = PRIVATE.insert(Profile::load("normal").unwrap().card());
    d.wait_for(ui::Screen::MethodChoice);
    d.click("MethodChoiceScreen::pin");
    d.enter_pin("1234");
    d.consent_all();
    d.wait_for_delivery(1);
    card.remove().unwrap();
    d.wait_for(ui::Screen::Waiting);

    wait_for_value(
        "mynakiosk_sessions_total{method=\"pin\",outcome=\"completed\"}",
        "1",
    );
    wait_for_value("mynakiosk_pin_tries_total{result=\"verified\"}", "1");
    wait_for_value("mynakiosk_card_read_seconds_count", "1");
    wait_for_value("mynakiosk_decision_seconds_count{method=\"pin\"}", "1");
    wait_for_value("mynakiosk_pcscd_up", "1");
    wait_for_value("mynakiosk_audit_chain_ok", "1");
    wait_for_value("mynakiosk_outbox_queued", "0");
    let days = query("mynakiosk_trust_anchor_expiry_days");
    let days: f64 = days["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(days > 30.0, "the test CA is valid for years: {days}");
    let info = query("mynakiosk_build_info");
    assert_eq!(
        info["result"][0]["metric"]["version"],
        env!("CARGO_PKG_VERSION")
    );
    // No label but the fixed ones: nothing about a patient can be in a series.
    let labels = api(
        "/api/v1/labels",
        &[("match[]", "{__name__=~\"mynakiosk_.*\"}")],
    );
    for label in labels.as_array().unwrap() {
        let label = label.as_str().unwrap();
        assert!(
            ["__name__", "instance", "job", "method", "outcome", "result", "version", "le"]
                .contains(&label),
            "unexpected label {label}"
        );
    }
    assert_private_series();
    // Every query of the Grafana dashboard is valid PromQL on these series.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(packaging("grafana/mynakiosk-dashboard.json")).unwrap(),
    )
    .unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap().replace("$instance", ".*");
            query(&expr);
        }
    }

    // Unplug the reader: pcscd comes back without it.
    UNPLUG.lock().unwrap().as_ref().unwrap().send(()).unwrap();
    wait_for_value("mynakiosk_reader_up", "0");
    let deadline = Instant::now() + WAIT;
    loop {
        let alerts = api("/api/v1/alerts", &[]);
        let firing =
            alerts["alerts"].as_array().unwrap().iter().any(|a| {
                a["labels"]["alertname"] == "MynakioskReaderGone" && a["state"] == "firing"
            });
        if firing {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reader-gone never fired: {alerts}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
