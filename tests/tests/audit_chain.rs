//! The hash-chained audit log: written through the library, checked by `audit-verify`, and
//! every kind of tampering (edit, delete, reorder, truncate) found and located.

use mynakiosk::audit::{verify, AuditEvent, AuditLog, Outcome};
use mynakiosk::config::AuditConfig;
use mynakiosk::handoff::result::SessionId;
use mynakiosk_tests::binary;
use std::fs;
use std::path::{Path, PathBuf};

/// Writes `sessions` sessions of four events each into `dir`, rotating at `max_file_bytes`.
fn write_log(dir: &Path, sessions: usize, max_file_bytes: u64) -> AuditLog {
    let config = AuditConfig {
        dir: dir.to_owned(),
        max_file_bytes,
    };
    let log = AuditLog::open(&config, "kiosk-7").expect("open audit log");
    log.record(AuditEvent::config_loaded(None).unwrap())
        .unwrap();
    for i in 0..sessions {
        let session_id = SessionId::new();
        log.record(AuditEvent::SessionStarted { session_id })
            .unwrap();
        log.record(AuditEvent::MethodChosen {
            session_id,
            method: "face".into(),
        })
        .unwrap();
        if i % 3 == 2 {
            log.record(AuditEvent::StaffAction {
                session_id: Some(session_id),
                operator_id: "staff-03".into(),
                action: "visual_check".into(),
                reason_code: Some("pin_locked".into()),
            })
            .unwrap();
        } else {
            log.record(AuditEvent::ErrorShown {
                session_id: Some(session_id),
                code: "E001".into(),
            })
            .unwrap();
        }
        log.record(AuditEvent::SessionEnded {
            session_id,
            outcome: Outcome::Verified,
            certificate_serial: Some(format!("0a1b2c{i:02x}")),
        })
        .unwrap();
    }
    log
}

fn current(dir: &Path) -> PathBuf {
    dir.join("audit.jsonl")
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Runs `audit-verify` on `dir` and returns (success, stdout + stderr).
fn audit_verify(dir: &Path) -> (bool, String) {
    let out = binary::command()
        .arg("audit-verify")
        .arg(dir)
        .output()
        .expect("run mynakiosk");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn intact_log_verifies_across_rotation_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    drop(write_log(dir.path(), 30, 4096));
    // Reopening continues the same chain.
    drop(write_log(dir.path(), 5, 4096));
    let rotated = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("audit-")
        })
        .count();
    assert!(rotated >= 2, "expected rotated files, found {rotated}");
    let v = verify(&[dir.path().to_owned()]).unwrap();
    assert_eq!((v.events, v.first_seq, v.last_seq), (142, 1, 142));
    assert!(v.head_checked && !v.continues_earlier, "{v:?}");
    let (ok, text) = audit_verify(dir.path());
    assert!(ok, "{text}");
    assert!(text.contains("142 events"), "{text}");
}

#[test]
fn edited_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    drop(write_log(dir.path(), 3, 1 << 20));
    let path = current(dir.path());
    let mut l = lines(&path);
    l[7] = l[7].replace("E001", "E002");
    write_lines(&path, &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!((f.file.clone(), f.line), (path.clone(), 8), "{f}");
    assert!(f.problem.contains("edited"), "{f}");
    let (ok, text) = audit_verify(dir.path());
    assert!(!ok);
    assert!(
        text.contains(&format!("{}:8: edited", path.display())),
        "{text}"
    );
}

#[test]
fn removed_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    drop(write_log(dir.path(), 3, 1 << 20));
    let path = current(dir.path());
    let mut l = lines(&path);
    l.remove(6);
    write_lines(&path, &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 7, "{f}");
    assert!(f.problem.contains("expected seq 7"), "{f}");
}

#[test]
fn reordered_lines_are_named() {
    let dir = tempfile::tempdir().unwrap();
    drop(write_log(dir.path(), 3, 1 << 20));
    let path = current(dir.path());
    let mut l = lines(&path);
    l.swap(2, 3);
    write_lines(&path, &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 3, "{f}");
    assert!(f.problem.contains("reordered"), "{f}");
}

#[test]
fn truncation_and_last_line_edit_are_found_through_the_head() {
    let dir = tempfile::tempdir().unwrap();
    drop(write_log(dir.path(), 3, 1 << 20));
    let path = current(dir.path());
    let original = lines(&path);

    // Whole lines cut off the end: found, and the kiosk refuses to write after the gap.
    write_lines(&path, &original[..9]);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 9, "{f}");
    assert!(
        f.problem.contains("truncated") && f.problem.contains("seq 13"),
        "{f}"
    );
    let config = AuditConfig {
        dir: dir.path().to_owned(),
        max_file_bytes: 1 << 20,
    };
    let err = AuditLog::open(&config, "kiosk-7").err().expect("refused");
    assert!(err.to_string().contains("records seq 13"), "{err}");

    // Cut mid-line.
    let text = original.join("\n");
    fs::write(&path, &text[..text.len() - 10]).unwrap();
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 13, "{f}");
    assert!(f.problem.contains("incomplete"), "{f}");

    // The last line, which no later line vouches for.
    let mut l = original.clone();
    l[12] = l[12].replace("verified", "failed");
    write_lines(&path, &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 13, "{f}");
    assert!(f.problem.contains("edited"), "{f}");
}

#[test]
fn removing_a_whole_rotated_file_or_its_first_line_is_found() {
    let dir = tempfile::tempdir().unwrap();
    drop(write_log(dir.path(), 30, 4096));
    let mut rotated: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("audit-")
        })
        .collect();
    rotated.sort();

    let mut l = lines(&rotated[1]);
    l.remove(0);
    write_lines(&rotated[1], &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!((f.file.clone(), f.line), (rotated[1].clone(), 1), "{f}");

    fs::remove_file(&rotated[1]).unwrap();
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert!(f.problem.contains("removed"), "{f}");
}

#[test]
fn torn_last_line_is_cut_and_recorded_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    drop(write_log(dir.path(), 2, 1 << 20));
    let path = current(dir.path());
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"seq\":9,\"ti");
    fs::write(&path, bytes).unwrap();
    drop(write_log(dir.path(), 1, 1 << 20));
    let v = verify(&[dir.path().to_owned()]).unwrap();
    assert_eq!(v.events, 15);
    assert!(fs::read_to_string(&path)
        .unwrap()
        .contains("\"event\":\"torn_line_removed\",\"bytes\":12"));
}

#[test]
fn log_holds_no_personal_data_beyond_the_serial() {
    let dir = tempfile::tempdir().unwrap();
    drop(write_log(dir.path(), 6, 1 << 20));
    for line in lines(&current(dir.path())) {
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        let object = value.as_object().unwrap();
        for key in object.keys() {
            assert!(
                [
                    "seq",
                    "time",
                    "kiosk_id",
                    "event",
                    "prev",
                    "session_id",
                    "method",
                    "code",
                    "operator_id",
                    "action",
                    "reason_code",
                    "outcome",
                    "certificate_serial",
                    "path",
                    "sha256",
                ]
                .contains(&key.as_str()),
                "unexpected field {key} in {line}"
            );
        }
        // Hashes and UUIDs are hex, where 12 digits in a row happen by chance; every other
        // value must hold no run of 12 digits (a My Number).
        let mut free = object.clone();
        for hex in ["prev", "session_id", "sha256"] {
            free.remove(hex);
        }
        let text = serde_json::Value::Object(free).to_string();
        let longest = text
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap();
        assert!(longest < 12, "{line}");
    }
}
