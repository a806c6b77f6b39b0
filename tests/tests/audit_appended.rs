//! The scrape's audit check (`audit::verify_appended`): it reads only what was appended since
//! its last pass, and still finds a cut start, an earlier line rewritten, a rotated file
//! replaced and a head set back, giving the same verdict as a whole pass.

use super::audit_chain::{current, folder, lines, rotated_files, write_lines, write_log};
use mynakiosk::audit::{verify_appended, verify_with_key, AuditEvent, Checkpoint, Verified};
use std::fs;
use std::path::Path;

/// A pass over `dir` from `since`, whose verdict must be the whole pass's.
fn appended(dir: &Path, key: &Path, since: Option<&Checkpoint>) -> Option<(Verified, Checkpoint)> {
    let whole = verify_with_key(&[dir.to_owned()], key);
    let part = verify_appended(dir, key, since);
    match (&whole, &part) {
        (Ok(w), Ok((p, _))) => assert_eq!(w, p),
        (Err(w), Err(p)) => assert_eq!(w, p),
        _ => panic!(
            "whole pass {whole:?}, from the checkpoint {:?}",
            part.as_ref().map(|p| &p.0)
        ),
    }
    part.ok()
}

#[test]
fn appended_lines_and_rotations_are_verified_from_the_checkpoint() {
    let dir = folder();
    let log = write_log(dir.path(), 3, 4096);
    let (v, mut checkpoint) = appended(dir.path(), &dir.key(), None).unwrap();
    assert_eq!(v.events, 14);
    // Appended lines, then enough for several rotations between two passes.
    for sessions in [1, 40] {
        for _ in 0..sessions * 4 {
            let version = "appended".into();
            log.record(AuditEvent::KioskStarted { version }).unwrap();
        }
        (_, checkpoint) = appended(dir.path(), &dir.key(), Some(&checkpoint)).unwrap();
    }
    assert!(rotated_files(dir.path()).len() >= 3);
    let (v, _) = appended(dir.path(), &dir.key(), Some(&checkpoint)).unwrap();
    assert_eq!(v.events, 14 + 4 + 160);
}

#[test]
fn only_the_appended_part_is_read() {
    let dir = folder();
    let log = write_log(dir.path(), 3, 1 << 20);
    let (_, checkpoint) = appended(dir.path(), &dir.key(), None).unwrap();
    // A line in the middle of the verified part made unreadable, its length kept: a whole
    // pass finds it, a pass from the checkpoint does not read it.
    let path = current(dir.path());
    let mut l = lines(&path);
    l[4] = "x".repeat(l[4].len());
    write_lines(&path, &l);
    log.record(AuditEvent::KioskStarted {
        version: "x".into(),
    })
    .unwrap();
    assert!(verify_with_key(&[dir.path().to_owned()], &dir.key()).is_err());
    let (v, _) = verify_appended(dir.path(), &dir.key(), Some(&checkpoint)).unwrap();
    assert_eq!(v.events, 15);
}

#[test]
fn a_cut_start_or_an_earlier_line_rewritten_is_found_after_a_checkpoint() {
    for tamper in [
        cut_start as fn(&Path),
        rewrite_earlier_line,
        rewrite_last_verified_line,
    ] {
        let dir = folder();
        let log = write_log(dir.path(), 3, 1 << 20);
        let (_, checkpoint) = appended(dir.path(), &dir.key(), None).unwrap();
        tamper(&current(dir.path()));
        log.record(AuditEvent::KioskStarted {
            version: "later".into(),
        })
        .unwrap();
        assert!(appended(dir.path(), &dir.key(), Some(&checkpoint)).is_none());
    }
}

/// Removes the first three lines.
fn cut_start(path: &Path) {
    write_lines(path, &lines(path)[3..]);
}

/// Rewrites the second line (the file's length changes).
fn rewrite_earlier_line(path: &Path) {
    let mut l = lines(path);
    l[1] = l[1].replace("\"seq\":2", "\"seq\":2,\"note\":\"edited\"");
    write_lines(path, &l);
}

/// Rewrites the last line verified, keeping its length.
fn rewrite_last_verified_line(path: &Path) {
    let mut l = lines(path);
    let last = l.len() - 1;
    l[last] = l[last].replace("E001", "E002").replace("0a1b2c", "0a1b2d");
    write_lines(path, &l);
}

#[test]
fn a_rotated_file_replaced_or_removed_or_the_head_set_back_is_found_after_a_checkpoint() {
    let replace = |dir: &Path| {
        let first = &rotated_files(dir)[0];
        let text = fs::read(first).unwrap();
        fs::remove_file(first).unwrap();
        fs::write(first, text).unwrap();
    };
    let remove = |dir: &Path| fs::remove_file(&rotated_files(dir)[1]).unwrap();
    for tamper in [replace as fn(&Path), remove] {
        let dir = folder();
        let log = write_log(dir.path(), 30, 4096);
        let (_, checkpoint) = appended(dir.path(), &dir.key(), None).unwrap();
        tamper(dir.path());
        log.record(AuditEvent::KioskStarted {
            version: "later".into(),
        })
        .unwrap();
        let whole = verify_with_key(&[dir.path().to_owned()], &dir.key());
        let part = verify_appended(dir.path(), &dir.key(), Some(&checkpoint)).map(|p| p.0);
        assert_eq!(whole, part);
    }
}

#[test]
fn a_head_set_back_after_a_checkpoint_gets_the_whole_passs_verdict() {
    let dir = folder();
    let log = write_log(dir.path(), 3, 1 << 20);
    let head = dir.path().join("audit.head");
    let (_, checkpoint) = appended(dir.path(), &dir.key(), None).unwrap();
    let old = fs::read(&head).unwrap();
    for _ in 0..2 {
        log.record(AuditEvent::KioskStarted {
            version: "later".into(),
        })
        .unwrap();
    }
    let (_, later) = appended(dir.path(), &dir.key(), Some(&checkpoint)).unwrap();
    // Set back to a keyed head of the verified part: read as a head left behind (reported).
    fs::write(&head, &old).unwrap();
    let (v, _) = appended(dir.path(), &dir.key(), Some(&later)).unwrap();
    assert_eq!(v.head_lag, 2);
    // A head naming no line of the chain.
    fs::write(&head, "{}").unwrap();
    assert!(appended(dir.path(), &dir.key(), Some(&later)).is_none());
}
