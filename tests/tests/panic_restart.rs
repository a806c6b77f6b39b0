//! A panic in a thread other than main ends the process with a non-zero status (the panic
//! hook), so a supervisor with systemd's `Restart=` policy brings it back: shown on the real
//! binary running `qual-sim` (a long-lived server) with a panic injected in a background
//! thread (`MYNAKIOSK_FAULT=panic-in-thread`, debug builds only).

use mynakiosk::fatal::PANIC_EXIT_STATUS;
use mynakiosk_tests::binary;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

/// `mynakiosk qual-sim` on `port`, with the injected panic when `fault`.
fn server(dir: &Path, port: u16, fault: bool) -> Command {
    let data = dir.join("sim.toml");
    std::fs::write(&data, "").unwrap();
    let mut cmd = binary::command();
    cmd.args(["qual-sim", "--data"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if fault {
        cmd.env("MYNAKIOSK_FAULT", "panic-in-thread");
    }
    cmd
}

/// Waits for `child` to end, failing the test after [`TIMEOUT`] (a frozen process).
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the process outlived its panicked thread: frozen");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_panic_in_another_thread_ends_the_process_and_a_supervisor_restarts_it() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/mynakiosk.service"),
    )
    .unwrap();
    assert!(
        unit.lines()
            .any(|l| l == "Restart=on-failure" || l == "Restart=always"),
        "the unit must restart a failed kiosk"
    );

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // A supervisor with Restart=on-failure semantics; the fault is in the first start only.
    let mut starts = 0;
    let mut child = loop {
        starts += 1;
        let mut child = server(dir.path(), port, starts == 1).spawn().unwrap();
        if starts > 1 {
            break child;
        }
        let status = wait(&mut child);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(
            status.code(),
            Some(PANIC_EXIT_STATUS),
            "{status:?}: {stderr}"
        );
        assert!(
            stderr.contains("injected") && stderr.contains("ending the process"),
            "{stderr}"
        );
    };
    let deadline = Instant::now() + TIMEOUT;
    while !healthy(port) {
        assert!(Instant::now() < deadline, "not back after the restart");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(starts, 2);
    child.kill().unwrap();
    child.wait().unwrap();
}
