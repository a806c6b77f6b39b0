//! A whole comparison (models loaded, chip photo decoded, frames matched) writes no file:
//! this test runs itself again as a child process under `strace -f` and fails on any call
//! that could create or write a file.

use std::path::Path;
use std::process::Command;

use face_match::eval::ChipSimulator;
use face_match::{Decision, QualityConfig, Zeroizing};
use mynakiosk_tests::face::{face_eval, kiosk_frame, load, matcher, unhurried};

const CHILD: &str = "MYNAKIOSK_FACE_NO_FILES_CHIP";
/// The test's name in the harness (`tests/main.rs`), for `--exact`.
const TEST_NAME: &str = "face_no_files::a_whole_comparison_writes_no_file";

/// In the child: load the models, compare the chip photo at `chip` with two frames.
fn compare_in_child(chip: &Path) {
    let jp2 = Zeroizing::new(std::fs::read(chip).unwrap());
    let mut matcher = matcher(QualityConfig::default(), unhurried());
    let frames = ["obama2.jpg", "biden.jpg"]
        .map(|name| kiosk_frame(&face_eval(&format!("portraits/{name}"))));
    let outcome = matcher
        .compare(jp2, frames.into_iter().map(Ok), |_, _| {})
        .unwrap();
    assert_eq!(outcome.decision, Decision::Match);
    // A dark frame without a face runs every detector retry (equalised, smoothed, turned).
    let dark = face_match::Frame::zeroed(640, 480).unwrap();
    assert!(matcher.embed_largest_face(&dark).unwrap().is_none());
    println!("child compared: {:?}", outcome.best_score);
}

/// The lines of an strace log that create, write, rename or link a file.
fn writing_calls(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| {
            let call = line
                .split_once(' ')
                .map_or(*line, |(_, rest)| rest.trim_start());
            ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
                .iter()
                .any(|flag| call.starts_with("open") && call.contains(flag))
                || ["creat(", "rename", "link(", "linkat(", "mkdir", "truncate("]
                    .iter()
                    .any(|name| call.starts_with(name))
        })
        .collect()
}

#[test]
fn a_whole_comparison_writes_no_file() {
    if let Some(chip) = std::env::var_os(CHILD) {
        compare_in_child(Path::new(&chip));
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let chip = work.path().join("chip.jp2");
    let jp2 = ChipSimulator::card_like()
        .unwrap()
        .encode(&load(&face_eval("portraits/obama.jpg")))
        .unwrap();
    std::fs::write(&chip, &jp2[..]).unwrap();
    let log = work.path().join("strace.log");
    let run = Command::new("strace")
        .args(["-f", "-qq", "-e"])
        .arg("trace=open,openat,openat2,creat,rename,renameat,renameat2,link,linkat,mkdir,mkdirat,truncate")
        .arg("-o")
        .arg(&log)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD, &chip)
        .output()
        .unwrap_or_else(|e| panic!("cannot run strace (Debian package strace): {e}"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && stdout.contains("child compared"),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("chip.jp2"),
        "strace saw no file access at all:\n{log}"
    );
    let writes = writing_calls(&log);
    assert!(
        writes.is_empty(),
        "the comparison wrote files:\n{}",
        writes.join("\n")
    );
}

#[test]
fn strace_filter_recognises_writes() {
    let log = "12 openat(AT_FDCWD, \"/tmp/x.jp2\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3\n\
               12 openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3\n\
               13 rename(\"/tmp/a\", \"/tmp/b\") = 0\n";
    assert_eq!(writing_calls(log).len(), 2);
}
