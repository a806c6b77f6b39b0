//! The qualification simulator (`mynakiosk qual-sim`, a SIMULATOR) as the kiosk's
//! qualification client and the outbox see it: answers by certificate serial, injected
//! latency and failures, duplicates acknowledged, malformed results refused.

use mynakiosk::handoff::courier::{deliver_queued, RetryPolicy};
use mynakiosk::handoff::http::HttpSink;
use mynakiosk::handoff::outbox::{Outbox, MAX_RESULT_BYTES};
use mynakiosk::handoff::qualification::{query, Qualification, QualificationError};
use mynakiosk::handoff::sink::{Sink, SinkError};
use mynakiosk_tests::binary::{self, Running};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the simulator with `data` (TOML) and returns it with its base URL.
fn simulator(dir: &Path, data: &str) -> (Running, String) {
    let path = dir.join("sim.toml");
    std::fs::write(&path, data).unwrap();
    binary::qual_sim(&path)
}

const CARDS: &str = r#"
default = "no_record"
[cards]
"0a1b2c3d" = "valid"
"0a1b2c3e" = "invalid"
"0a1b2c40" = "unregistered"
"#;

#[test]
fn answers_each_status_by_certificate_serial() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, url) = simulator(dir.path(), CARDS);
    for (serial, expected) in [
        ("0a1b2c3d", Qualification::Valid),
        ("0a1b2c3e", Qualification::Invalid),
        ("0a1b2c40", Qualification::Unregistered),
        ("ffff0000", Qualification::NoRecord),
    ] {
        assert_eq!(query(&url, serial, TIMEOUT), Ok(expected), "{serial}");
    }
    assert_eq!(Qualification::Unregistered.label(), "未登録");
    let codes: Vec<_> = [
        Qualification::Valid,
        Qualification::Invalid,
        Qualification::NoRecord,
        Qualification::Unregistered,
    ]
    .iter()
    .map(|q| q.error().map(|e| e.text().code))
    .collect();
    assert_eq!(codes, [None, Some("E021"), Some("E022"), None]);
}

#[test]
fn latency_and_injected_failures_reach_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let data = format!("latency_ms = 300\nfail_every = 2\n{CARDS}");
    let (_sim, url) = simulator(dir.path(), &data);
    let started = Instant::now();
    assert_eq!(query(&url, "0a1b2c3d", TIMEOUT), Ok(Qualification::Valid));
    assert!(started.elapsed() >= Duration::from_millis(300));
    let err = query(&url, "0a1b2c3d", TIMEOUT).unwrap_err();
    assert!(
        matches!(&err, QualificationError::Unreachable(m) if m.contains("HTTP 503")),
        "{err}"
    );
    // A client timeout shorter than the latency is an unreachable service, not a hang.
    let err = query(&url, "0a1b2c3d", Duration::from_millis(100)).unwrap_err();
    assert!(matches!(err, QualificationError::Unreachable(_)), "{err}");
}

#[test]
fn unreachable_service_is_a_typed_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = query(&format!("http://127.0.0.1:{port}"), "0a1b2c3d", TIMEOUT).unwrap_err();
    assert!(matches!(err, QualificationError::Unreachable(_)), "{err}");
}

#[test]
fn receiver_acknowledges_duplicates_and_refuses_malformed_results() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, url) = simulator(dir.path(), CARDS);
    let sink = HttpSink::new(&format!("{url}/results"), TIMEOUT);
    let outbox = Outbox::create(&dir.path().join("outbox")).unwrap();

    let out = binary::command()
        .arg("--config")
        .arg(write_config(dir.path(), &url))
        .args(["outbox", "send-test", "--count", "2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let queued = outbox.pending().unwrap();
    assert_eq!(queued.len(), 2);
    // Sent twice: the second is acknowledged as a duplicate, which also counts as delivered.
    assert_eq!(sink.send(&queued[0].key, &queued[0].body), Ok(()));
    assert_eq!(sink.send(&queued[0].key, &queued[0].body), Ok(()));

    // A result of an unknown schema version is refused and set aside, not retried.
    let mut other: serde_json::Value = serde_json::from_slice(&queued[1].body).unwrap();
    other["schema_version"] = 99.into();
    let body = serde_json::to_vec(&other).unwrap();
    assert!(matches!(
        sink.send(&queued[1].key, &body),
        Err(SinkError::Refused(m)) if m.contains("422")
    ));
    std::fs::write(
        dir.path().join("outbox/pending").join(
            std::fs::read_dir(dir.path().join("outbox/pending"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .find(|n| n.to_string_lossy().contains(&queued[1].key))
                .unwrap(),
        ),
        &body,
    )
    .unwrap();
    let policy = RetryPolicy::from_config(&Default::default());
    let pass = deliver_queued(&outbox, &sink, &policy).unwrap();
    assert_eq!((pass.delivered, pass.refused), (1, 1));
    assert_eq!(outbox.counts().unwrap(), (0, 1));
}

#[test]
fn a_result_larger_than_an_outbox_queues_is_refused_and_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let received = dir.path().join("received.jsonl");
    let mut sim = Running::spawn(receiving_simulator(dir.path(), &received));
    let url = sim
        .lines_until("listening on http://", TIMEOUT)
        .iter()
        .find_map(|l| {
            let address = l
                .split("listening on http://")
                .nth(1)?
                .split_whitespace()
                .next()?;
            Some(format!("http://{address}"))
        })
        .unwrap();
    let sink = HttpSink::new(&format!("{url}/results"), TIMEOUT);
    let too_large = vec![b' '; MAX_RESULT_BYTES as usize + 1];
    match sink.send("k-too-large", &too_large) {
        Err(SinkError::Refused(m)) => assert!(m.contains("413"), "{m}"),
        other => panic!("{other:?}"),
    }
    // The simulator goes on, and kept nothing of it.
    assert_eq!(query(&url, "0a1b2c3d", TIMEOUT), Ok(Qualification::Valid));
    assert_eq!(std::fs::read(&received).unwrap_or_default(), b"");
}

fn write_config(dir: &Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("mynakiosk.toml");
    let text = format!(
        "[handoff]\nhttp_url = \"{url}/results\"\noutbox_dir = {:?}\n",
        dir.join("outbox")
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `qual-sim` keeping its received results in `received`.
fn receiving_simulator(dir: &Path, received: &Path) -> std::process::Command {
    let data = dir.join("sim.toml");
    std::fs::write(&data, CARDS).unwrap();
    let mut cmd = binary::command();
    cmd.args(["qual-sim", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--received")
        .arg(received);
    cmd
}

#[test]
fn a_torn_last_received_line_is_cut_and_a_damaged_one_named() {
    let dir = tempfile::tempdir().unwrap();
    let received = dir.path().join("received.jsonl");
    let whole = "{\"idempotency_key\":\"k1\"}\n";
    std::fs::write(&received, format!("{whole}{{\"idempotency_key\":\"k")).unwrap();
    let mut sim = Running::spawn(receiving_simulator(dir.path(), &received));
    let seen = sim.lines_until("listening on http://", TIMEOUT).join("\n");
    assert!(
        seen.contains("torn last line removed") && seen.contains("received.jsonl"),
        "{seen}"
    );
    assert_eq!(std::fs::read_to_string(&received).unwrap(), whole);
    drop(sim);

    std::fs::write(&received, format!("{whole}not json\n{whole}")).unwrap();
    let out = receiving_simulator(dir.path(), &received).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:2:", received.display())), "{err}");
}
