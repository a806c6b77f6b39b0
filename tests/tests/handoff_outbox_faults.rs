//! The outbox under faults of its own: a result the receiver always fails (HTTP 500) is
//! retried on its own backoff and then given up on (`dead/`) with an alert, without holding
//! up the others; foreign entries in `pending/` (a folder, junk, a FIFO) are ignored and
//! reported; two `outbox deliver` at once send each result once.

use mynakiosk::handoff::courier::DEAD_AFTER;
use mynakiosk_tests::binary;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A reception system on a loopback port: 201 for every result except `poisoned` (500),
/// answering after `latency`; counts the requests per idempotency key.
struct Receiver {
    port: u16,
    requests: Arc<Mutex<HashMap<String, usize>>>,
}

impl Receiver {
    fn start(poisoned: Option<String>, latency: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(HashMap::new()));
        let counts = requests.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (counts, poisoned) = (counts.clone(), poisoned.clone());
                thread::spawn(move || answer(stream, &counts, poisoned.as_deref(), latency));
            }
        });
        Self { port, requests }
    }

    fn count(&self, key: &str) -> usize {
        self.requests.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

/// Reads one HTTP request and answers it.
fn answer(
    stream: TcpStream,
    counts: &Mutex<HashMap<String, usize>>,
    poisoned: Option<&str>,
    latency: Duration,
) {
    let mut reader = BufReader::new(&stream);
    let (mut key, mut length) = (String::new(), 0usize);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "idempotency-key" => key = value.trim().to_owned(),
                "content-length" => length = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    *counts.lock().unwrap().entry(key.clone()).or_default() += 1;
    thread::sleep(latency);
    let status = if poisoned == Some(key.as_str()) {
        "500 Internal Server Error"
    } else {
        "201 Created"
    };
    let _ = (&stream).write_all(
        format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}")
            .as_bytes(),
    );
}

/// A kiosk configuration in `dir` delivering to `port`, retrying after 100 ms at most.
fn config(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("mynakiosk.toml");
    let text = format!(
        "kiosk_id = \"test-kiosk\"\n[handoff]\nsink = \"http\"\nhttp_url = \"http://127.0.0.1:{port}/results\"\n\
         outbox_dir = {:?}\ntimeout_ms = 5000\nretry_initial_ms = 100\nretry_max_ms = 100\n",
        dir.join("outbox")
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn run(config: &Path, args: &[&str]) -> Output {
    binary::command()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run mynakiosk")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn send_test(config: &Path, count: usize) -> Vec<String> {
    let out = run(
        config,
        &["outbox", "send-test", "--count", &count.to_string()],
    );
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_result_the_receiver_always_fails_does_not_block_the_rest_and_is_given_up_with_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Receiver::start(None, Duration::ZERO);
    let cfg = config(dir.path(), probe.port);
    let keys = send_test(&cfg, 4);
    // The oldest result is the poisoned one.
    let receiver = Receiver::start(Some(keys[0].clone()), Duration::ZERO);
    let cfg = config(dir.path(), receiver.port);

    let pass = json(&run(&cfg, &["outbox", "deliver"]));
    assert_eq!(
        (pass["delivered"].as_u64(), pass["failed"].as_u64()),
        (Some(3), Some(1)),
        "{pass}"
    );
    for key in &keys[1..] {
        assert_eq!(receiver.count(key), 1, "{key}");
    }

    // Retried on its own backoff until given up on.
    let deadline = Instant::now() + Duration::from_secs(20);
    let alert = loop {
        assert!(Instant::now() < deadline, "never given up on");
        thread::sleep(Duration::from_millis(150));
        let out = run(&cfg, &["outbox", "deliver"]);
        if json(&out)["dead"] == 1 {
            break String::from_utf8_lossy(&out.stderr).into_owned();
        }
    };
    assert!(
        alert.contains("ALERT") && alert.contains(&keys[0]) && alert.contains("HTTP 500"),
        "{alert}"
    );
    assert_eq!(receiver.count(&keys[0]), DEAD_AFTER as usize);
    let status = json(&run(&cfg, &["outbox", "status"]));
    assert_eq!(
        (status["queued"].as_u64(), status["dead"].as_u64()),
        (Some(0), Some(1)),
        "{status}"
    );
    // Nothing lost: the result is kept and can be sent again by hand.
    let requeued = json(&run(&cfg, &["outbox", "requeue-dead"]));
    assert_eq!(requeued["requeued"], 1);
    let status = json(&run(&cfg, &["outbox", "status"]));
    assert_eq!(
        (status["queued"].as_u64(), status["dead"].as_u64()),
        (Some(1), Some(0)),
        "{status}"
    );
}

#[test]
fn foreign_entries_in_pending_are_ignored_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(None, Duration::ZERO);
    let cfg = config(dir.path(), receiver.port);
    let keys = send_test(&cfg, 2);
    let pending = dir.path().join("outbox/pending");
    std::fs::create_dir(pending.join("00000000000000000001-folder.json")).unwrap();
    std::fs::write(pending.join("notes.txt"), "junk").unwrap();
    let fifo = pending.join("00000000000000000002-fifo.json");
    mynakiosk_tests::mkfifo(&fifo);

    let started = Instant::now();
    let out = run(&cfg, &["outbox", "deliver"]);
    assert_eq!(
        json(&out)["delivered"],
        2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a FIFO held up delivery"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a queued result") && stderr.contains("notes.txt"),
        "{stderr}"
    );
    for key in &keys {
        assert_eq!(receiver.count(key), 1);
    }
    let status = json(&run(&cfg, &["outbox", "status"]));
    assert_eq!(status["queued"], 0, "{status}");
    assert_eq!(status["foreign"].as_array().unwrap().len(), 3, "{status}");
}

#[test]
fn two_deliverers_at_once_send_each_result_once() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(None, Duration::from_millis(300));
    let cfg = config(dir.path(), receiver.port);
    let keys = send_test(&cfg, 3);
    let spawn = || {
        binary::command()
            .arg("--config")
            .arg(&cfg)
            .args(["outbox", "deliver"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let delivered =
        json(&a)["delivered"].as_u64().unwrap() + json(&b)["delivered"].as_u64().unwrap();
    assert_eq!(delivered, 3);
    for key in &keys {
        assert_eq!(receiver.count(key), 1, "{key} sent twice");
    }
}
