//! The keyed, hash-chained audit log: written through the library, checked by `audit-verify`,
//! and every kind of tampering (edit, delete, reorder, truncate, cut start, rewrite with later
//! hashes recomputed, a replaced key or head) found and located.

use mynakiosk::audit::{verify, verify_with_key, AuditEvent, AuditLog, Outcome};
use mynakiosk::config::{AuditConfig, Config};
use mynakiosk::handoff::result::SessionId;
use mynakiosk_tests::binary;
use std::fs;
use std::path::{Path, PathBuf};

/// An audit folder `audit/` in a fresh state folder, where its key `audit.key` goes.
pub(crate) struct Folder(tempfile::TempDir, PathBuf);

impl Folder {
    pub(crate) fn path(&self) -> &Path {
        &self.1
    }

    pub(crate) fn key(&self) -> PathBuf {
        self.0.path().join("audit.key")
    }
}

pub(crate) fn folder() -> Folder {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("audit");
    Folder(root, dir)
}

/// Writes `sessions` sessions of four events each into `dir`, rotating at `max_file_bytes`.
pub(crate) fn write_log(dir: &Path, sessions: usize, max_file_bytes: u64) -> AuditLog {
    let config = AuditConfig {
        dir: dir.to_owned(),
        max_file_bytes,
    };
    let log = AuditLog::open(&config, "kiosk-7").expect("open audit log");
    log.record_start(&Config::default()).unwrap();
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

/// The rotated files `audit-<first>-<last>.jsonl` in `dir`, in order.
pub(crate) fn rotated_files(dir: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<PathBuf> = fs::read_dir(dir)
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
    rotated
}

pub(crate) fn current(dir: &Path) -> PathBuf {
    dir.join("audit.jsonl")
}

pub(crate) fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub(crate) fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Runs `audit-verify` on `dir` and returns (success, stdout + stderr).
fn audit_verify(dir: &Path) -> (bool, String) {
    audit_verify_args(&[dir.as_os_str()])
}

/// Runs `audit-verify --key KEY PATH...` and returns (success, stdout + stderr).
fn audit_verify_with_key(key: &Path, paths: &[&Path]) -> (bool, String) {
    let mut args = vec!["--key".as_ref(), key.as_os_str()];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    audit_verify_args(&args)
}

fn audit_verify_args(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = binary::command()
        .arg("audit-verify")
        .args(args)
        .output()
        .expect("run mynakiosk");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn intact_log_verifies_across_rotation_and_reopening() {
    let dir = folder();
    drop(write_log(dir.path(), 30, 4096));
    // Reopening continues the same chain.
    drop(write_log(dir.path(), 5, 4096));
    let rotated = rotated_files(dir.path()).len();
    assert!(rotated >= 2, "expected rotated files, found {rotated}");
    let v = verify(&[dir.path().to_owned()]).unwrap();
    assert_eq!((v.events, v.first_seq, v.last_seq), (144, 1, 144));
    assert!(v.head_checked, "{v:?}");
    let (ok, text) = audit_verify(dir.path());
    assert!(ok, "{text}");
    assert!(text.contains("144 events"), "{text}");
}

#[test]
fn edited_line_is_named() {
    let dir = folder();
    drop(write_log(dir.path(), 3, 1 << 20));
    let path = current(dir.path());
    let mut l = lines(&path);
    l[8] = l[8].replace("E001", "E002");
    write_lines(&path, &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!((f.file.clone(), f.line), (path.clone(), 9), "{f}");
    assert!(f.problem.contains("edited"), "{f}");
    let (ok, text) = audit_verify(dir.path());
    assert!(!ok);
    assert!(
        text.contains(&format!("{}:9: edited", path.display())),
        "{text}"
    );
}

#[test]
fn removed_line_is_named() {
    let dir = folder();
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
    let dir = folder();
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
    let dir = folder();
    drop(write_log(dir.path(), 3, 1 << 20));
    let path = current(dir.path());
    let original = lines(&path);

    // Whole lines cut off the end: found, and the kiosk refuses to write after the gap.
    write_lines(&path, &original[..9]);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 9, "{f}");
    assert!(
        f.problem.contains("truncated") && f.problem.contains("seq 14"),
        "{f}"
    );
    let config = AuditConfig {
        dir: dir.path().to_owned(),
        max_file_bytes: 1 << 20,
    };
    let err = AuditLog::open(&config, "kiosk-7").err().expect("refused");
    assert!(err.to_string().contains("records seq 14"), "{err}");

    // Cut mid-line.
    let text = original.join("\n");
    fs::write(&path, &text[..text.len() - 10]).unwrap();
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 14, "{f}");
    assert!(f.problem.contains("incomplete"), "{f}");

    // The last line, which no later line vouches for.
    let mut l = original.clone();
    l[13] = l[13].replace("verified", "failed");
    write_lines(&path, &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 14, "{f}");
    assert!(f.problem.contains("edited"), "{f}");
}

#[test]
fn removing_a_whole_rotated_file_or_its_first_line_is_found() {
    let dir = folder();
    drop(write_log(dir.path(), 30, 4096));
    let rotated = rotated_files(dir.path());

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
    let dir = folder();
    drop(write_log(dir.path(), 2, 1 << 20));
    let path = current(dir.path());
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"seq\":9,\"ti");
    fs::write(&path, bytes).unwrap();
    drop(write_log(dir.path(), 1, 1 << 20));
    let v = verify(&[dir.path().to_owned()]).unwrap();
    assert_eq!(v.events, 17);
    assert!(fs::read_to_string(&path)
        .unwrap()
        .contains("\"event\":\"torn_line_removed\",\"bytes\":12"));
}

#[test]
fn log_holds_no_personal_data_beyond_the_serial() {
    let dir = folder();
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
                    "version",
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

#[test]
fn start_records_kiosk_started_and_the_config_hash() {
    let dir = folder();
    drop(write_log(dir.path(), 0, 1 << 20));
    let l = lines(&current(dir.path()));
    let first: serde_json::Value = serde_json::from_str(&l[0]).unwrap();
    let second: serde_json::Value = serde_json::from_str(&l[1]).unwrap();
    assert_eq!(first["event"], "kiosk_started", "{}", l[0]);
    assert_eq!(first["version"], env!("CARGO_PKG_VERSION"), "{}", l[0]);
    assert_eq!(second["event"], "config_loaded", "{}", l[1]);
    let changed = Config {
        kiosk_id: "kiosk-8".into(),
        ..Config::default()
    };
    let AuditEvent::ConfigLoaded { sha256 } = AuditEvent::config_loaded(&changed) else {
        unreachable!()
    };
    assert_eq!(sha256.len(), 64);
    assert_ne!(
        second["sha256"],
        sha256.as_str(),
        "a changed config changes the hash"
    );
}

#[test]
fn a_cut_start_is_found() {
    let dir = folder();
    drop(write_log(dir.path(), 3, 1 << 20));
    let path = current(dir.path());
    let l = lines(&path);
    write_lines(&path, &l[3..]);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!((f.file.clone(), f.line), (path.clone(), 1), "{f}");
    assert!(f.problem.contains("starts at seq 4"), "{f}");
    let (ok, text) = audit_verify(dir.path());
    assert!(!ok && text.contains("starts at seq 4"), "{text}");
}

#[test]
fn a_removed_current_file_or_head_is_found() {
    let dir = folder();
    drop(write_log(dir.path(), 30, 4096));
    fs::remove_file(current(dir.path())).unwrap();
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.file, current(dir.path()), "{f}");
    assert!(f.problem.contains("missing"), "{f}");

    let dir = folder();
    drop(write_log(dir.path(), 3, 1 << 20));
    fs::remove_file(dir.path().join("audit.head")).unwrap();
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert!(f.to_string().contains("audit.head:0: missing"), "{f}");
    // Naming the current file alone still compares the head beside it.
    let f = verify(&[current(dir.path())]).unwrap_err();
    assert!(f.to_string().contains("audit.head:0: missing"), "{f}");
}

#[test]
fn an_empty_or_unrelated_folder_is_no_log() {
    let dir = folder();
    drop(write_log(dir.path(), 1, 1 << 20));
    // Only the head left.
    fs::write(current(dir.path()), "").unwrap();
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert!(f.problem.contains("no audit events"), "{f}");
    let (ok, text) = audit_verify(dir.path());
    assert!(!ok && text.contains("no audit events"), "{text}");
    fs::remove_file(current(dir.path())).unwrap();
    let (ok, text) = audit_verify(dir.path());
    assert!(!ok && text.contains("missing"), "{text}");

    // An unrelated folder (its parent holds a key) and an empty one.
    let unrelated = folder();
    fs::create_dir_all(unrelated.path()).unwrap();
    fs::write(unrelated.path().join("notes.txt"), "hello\n").unwrap();
    let f = verify_with_key(&[unrelated.path().to_owned()], &dir.key()).unwrap_err();
    assert!(f.problem.contains("missing"), "{f}");
    let (ok, text) = audit_verify_with_key(&dir.key(), &[unrelated.path()]);
    assert!(!ok && text.contains("missing"), "{text}");
    fs::remove_file(unrelated.path().join("notes.txt")).unwrap();
    let (ok, text) = audit_verify_with_key(&dir.key(), &[unrelated.path()]);
    assert!(!ok && text.contains("missing"), "{text}");
}

#[test]
fn a_rewritten_line_with_every_later_hash_recomputed_fails_without_the_key() {
    let dir = folder();
    drop(write_log(dir.path(), 3, 1 << 20));
    let path = current(dir.path());
    let mut l = lines(&path);
    l[4] = l[4].replace("E001", "E002");
    for i in 5..l.len() {
        let mut value: serde_json::Value = serde_json::from_str(&l[i]).unwrap();
        // Plain SHA-256: what an attacker without the key can compute.
        let digest = ring::digest::digest(&ring::digest::SHA256, l[i - 1].as_bytes());
        value["prev"] = digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into();
        l[i] = value.to_string();
    }
    write_lines(&path, &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 5, "{f}");
    assert!(f.problem.contains("edited"), "{f}");

    // A whole log written with another key, copied over the real one: the real key refuses
    // it, at the head that key did not write.
    let forged = folder();
    drop(write_log(forged.path(), 3, 1 << 20));
    for name in ["audit.jsonl", "audit.head"] {
        fs::copy(forged.path().join(name), dir.path().join(name)).unwrap();
    }
    let (ok, text) = audit_verify(dir.path());
    assert!(!ok, "{text}");
    assert!(
        text.contains("edited") || text.contains("not written with the key"),
        "{text}"
    );
    let (ok, text) = audit_verify_with_key(&forged.key(), &[dir.path()]);
    assert!(ok, "the forger's own key vouches for its log: {text}");
}

#[test]
fn the_key_lives_outside_the_log_readable_by_its_owner_only() {
    let dir = folder();
    drop(write_log(dir.path(), 1, 1 << 20));
    let key = dir.key();
    let mode =
        |p: &Path| std::os::unix::fs::PermissionsExt::mode(&fs::metadata(p).unwrap().permissions());
    assert_eq!(mode(&key) & 0o777, 0o600);
    let config = AuditConfig {
        dir: dir.path().to_owned(),
        max_file_bytes: 1 << 20,
    };

    let inside = dir.path().join("audit.key");
    let err = AuditLog::open_with_key(&config, "kiosk-7", &inside)
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("outside the audit folder"),
        "{err}"
    );

    fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let err = AuditLog::open(&config, "kiosk-7").err().expect("refused");
    assert!(err.to_string().contains("readable by others"), "{err}");
    let (ok, text) = audit_verify(dir.path());
    assert!(!ok && text.contains("readable by others"), "{text}");

    // A removed key is not silently replaced: the chain can no longer be continued.
    fs::remove_file(&key).unwrap();
    let err = AuditLog::open(&config, "kiosk-7").err().expect("refused");
    assert!(err.to_string().contains("cannot read"), "{err}");
    assert!(!key.exists());
    let (ok, text) = audit_verify(dir.path());
    assert!(!ok && text.contains("audit.key"), "{text}");
}

#[test]
fn a_head_set_back_or_a_rotated_file_renamed_is_found() {
    let dir = folder();
    drop(write_log(dir.path(), 3, 1 << 20));
    let head = dir.path().join("audit.head");
    let path = current(dir.path());
    let l = lines(&path);
    // Cut the last four lines and point the head at the new last line, using the hash the
    // first cut line recorded: the head's own tag gives it away.
    write_lines(&path, &l[..l.len() - 4]);
    let mut value: serde_json::Value = serde_json::from_slice(&fs::read(&head).unwrap()).unwrap();
    let cut: serde_json::Value = serde_json::from_str(&l[l.len() - 4]).unwrap();
    value["seq"] = (l.len() as u64 - 4).into();
    value["hash"] = cut["prev"].clone();
    fs::write(&head, value.to_string()).unwrap();
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert!(f.problem.contains("not written with the key"), "{f}");

    let dir = folder();
    drop(write_log(dir.path(), 30, 4096));
    let rotated = rotated_files(dir.path());
    let renamed = rotated[0].with_file_name("audit-000000000001-000000000002.jsonl");
    fs::rename(&rotated[0], &renamed).unwrap();
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.file, renamed, "{f}");
    assert!(f.problem.contains("renamed"), "{f}");
}

#[test]
fn a_fifo_or_an_endless_line_is_refused_without_reading_it_whole() {
    let dir = folder();
    drop(write_log(dir.path(), 1, 1 << 20));
    let path = current(dir.path());
    let mut l = lines(&path);
    l[2] = format!("{{\"seq\":3,\"pad\":\"{}\"}}", "x".repeat(100_000));
    write_lines(&path, &l);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.line, 3, "{f}");
    assert!(f.problem.contains("longer than any audit line"), "{f}");

    fs::remove_file(&path).unwrap();
    mynakiosk_tests::mkfifo(&path);
    let f = verify(&[dir.path().to_owned()]).unwrap_err();
    assert_eq!(f.file, path, "{f}");
    assert!(f.problem.contains("not a regular file"), "{f}");
}

/// The writer reads its log and head only as regular files of bounded size: a FIFO in their
/// place is refused at once (a thread would hang on it otherwise), named in the error.
#[test]
fn the_writer_refuses_a_fifo_as_its_log_or_head() {
    for name in ["audit.jsonl", "audit.head"] {
        let dir = folder();
        drop(write_log(dir.path(), 1, 1 << 20));
        let path = dir.path().join(name);
        fs::remove_file(&path).unwrap();
        mynakiosk_tests::mkfifo(&path);
        let config = AuditConfig {
            dir: dir.path().to_owned(),
            max_file_bytes: 1 << 20,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(
                AuditLog::open(&config, "kiosk-7")
                    .err()
                    .map(|e| e.to_string()),
            );
        });
        let e = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{name}: opening the log hangs on a FIFO"))
            .unwrap_or_else(|| panic!("{name}: a FIFO taken as the log"));
        assert!(
            e.contains("not a regular file") && e.contains(name),
            "{name}: {e}"
        );
    }
}
