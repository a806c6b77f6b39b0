//! Configuration errors as an integrator meets them: each class names the line, the key and
//! what was expected; the shipped example parses and documents the real defaults.

use mynakiosk::config::Config;
use mynakiosk_tests::binary;
use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/mynakiosk.toml.example")
}

/// Runs `mynakiosk --config <text> check-config`: (success, stdout + stderr).
fn check_config(text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mynakiosk.toml");
    std::fs::write(&path, text).unwrap();
    let (ok, text) = check_config_at(&path);
    assert!(
        ok || text.contains(&path.display().to_string()),
        "the error names the file: {text}"
    );
    (ok, text)
}

/// `text` fails with a message containing every one of `parts`.
fn fails_with(text: &str, parts: &[&str]) {
    let (ok, message) = check_config(text);
    assert!(!ok, "accepted:\n{text}");
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

#[test]
fn example_config_parses_and_documents_the_defaults() {
    let text = std::fs::read_to_string(example()).unwrap();
    let parsed = Config::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let defaults = Config::default();
    // Face paths default to the development tree in a development build.
    assert_eq!(parsed.face.threads, defaults.face.threads);
    assert_eq!(parsed.face.match_threshold, defaults.face.match_threshold);
    assert_eq!(
        parsed.face.frames_per_attempt,
        defaults.face.frames_per_attempt
    );
    assert_eq!(parsed.face.quality, defaults.face.quality);
    assert_eq!(parsed.face.challenge, defaults.face.challenge);
    assert_eq!(parsed.kiosk_id, defaults.kiosk_id);
    assert_eq!(parsed.reader, defaults.reader);
    assert_eq!(parsed.handoff, defaults.handoff);
    assert_eq!(parsed.qualification, defaults.qualification);
    assert_eq!(parsed.audit, defaults.audit);
    assert_eq!(parsed.staff, defaults.staff);
    assert_eq!(parsed.demo, defaults.demo);
    let (ok, message) = check_config(&text);
    assert!(ok, "{message}");
}

#[test]
fn syntax_error_names_line_and_column() {
    fails_with(
        "kiosk_id = \"a\"\n[handoff\nsink = \"http\"\n",
        &["line 2, column 9", "invalid table header"],
    );
}

#[test]
fn unknown_key_names_line_key_and_the_keys_expected() {
    fails_with(
        "[handoff]\nsink = \"http\"\noutbox = \"/tmp/x\"\n",
        &["line 3", "unknown field `outbox`", "`outbox_dir`"],
    );
}

#[test]
fn wrong_type_names_line_and_expected_type() {
    fails_with(
        "[handoff]\ntimeout_ms = \"5s\"\n",
        &["line 2", "invalid type: string \"5s\", expected u64"],
    );
    fails_with(
        "[voice]\nenabled = 1\n",
        &["line 2", "invalid type: integer `1`, expected a boolean"],
    );
}

#[test]
fn unknown_sink_names_the_choices() {
    fails_with(
        "[handoff]\nsink = \"ftp\"\n",
        &[
            "line 2",
            "unknown variant `ftp`",
            "`http`, `unix`, `file`, `none`",
        ],
    );
}

#[test]
fn out_of_range_values_name_line_key_range_and_value() {
    fails_with(
        "[handoff]\n\ntimeout_ms = 50\n",
        &["line 3, key handoff.timeout_ms: expected 100 to 120000, found 50"],
    );
    fails_with(
        "[handoff]\nretry_initial_ms = 2000\nretry_max_ms = 1000\n",
        &["line 3, key handoff.retry_max_ms: expected 2000 (retry_initial_ms) to 3600000, found 1000"],
    );
    fails_with(
        "[face]\nmatch_threshold = 1.5\n",
        &["line 2, key face.match_threshold: expected 0 < x < 1, found 1.5"],
    );
    fails_with(
        "[face.quality]\nmin_brightness = 120.0\nmax_brightness = 100.0\n",
        &["line 3, key face.quality.max_brightness: expected more than min_brightness (120), found 100"],
    );
    fails_with(
        "[face.challenge]\noffered = [\"blink\"]\n",
        &["line 2, key face.challenge.offered: expected turn_left, turn_right or closer"],
    );
    fails_with(
        "[audit]\nmax_file_bytes = 10\n",
        &["line 2, key audit.max_file_bytes: expected at least 4096, found 10"],
    );
}

#[test]
fn non_loopback_or_non_http_urls_are_refused() {
    fails_with(
        "[handoff]\nhttp_url = \"http://192.168.10.5:8750/results\"\n",
        &[
            "line 2, key handoff.http_url",
            "loopback",
            "allow_non_loopback",
            "192.168.10.5",
        ],
    );
    let (ok, message) = check_config(
        "[handoff]\nhttp_url = \"http://192.168.10.5:8750/results\"\nallow_non_loopback = true\n",
    );
    assert!(ok, "{message}");
    fails_with(
        "[handoff]\nhttp_url = \"https://127.0.0.1/results\"\n",
        &["line 2, key handoff.http_url: expected an http:// URL"],
    );
    fails_with(
        "[qualification]\nurl = \"http://example.org\"\n",
        &["line 2, key qualification.url", "loopback"],
    );
}

#[test]
fn paths_must_be_absolute_for_the_chosen_sink() {
    fails_with(
        "[handoff]\nsink = \"file\"\ndrop_dir = \"drop\"\n",
        &["line 3, key handoff.drop_dir: expected an absolute path, found \"drop\""],
    );
    // A relative socket path only matters when the Unix sink is chosen.
    let (ok, message) = check_config("[handoff]\nunix_socket = \"x.sock\"\n");
    assert!(ok, "{message}");
    fails_with(
        "[handoff]\nsink = \"unix\"\nunix_socket = \"x.sock\"\n",
        &["line 3, key handoff.unix_socket: expected an absolute path"],
    );
}

#[test]
fn bad_kiosk_id_and_unset_required_values() {
    fails_with(
        "kiosk_id = \"east wing/1\"\n",
        &[
            "line 1, key kiosk_id: expected 1 to 64 characters",
            "\"east wing/1\"",
        ],
    );
    fails_with(
        "kiosk_id = \"clinic-131234567890\"\n",
        &["line 1, key kiosk_id: expected no run of 12 digits"],
    );
    // A value left at its default can be wrong for the other settings: no line to name.
    fails_with(
        "[handoff]\nretry_initial_ms = 100000\n",
        &["key handoff.retry_max_ms (not set, default): expected 100000 (retry_initial_ms) to 3600000, found 60000"],
    );
}

#[test]
fn missing_file_is_named() {
    let out = binary::command()
        .args(["--config", "/nonexistent/mynakiosk.toml", "check-config"])
        .output()
        .expect("run mynakiosk");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read config file /nonexistent/mynakiosk.toml"),
        "{err}"
    );
}

/// Runs `mynakiosk --config <path> check-config`: (success, stdout + stderr).
fn check_config_at(path: &Path) -> (bool, String) {
    let out = binary::command()
        .arg("--config")
        .arg(path)
        .arg("check-config")
        .output()
        .expect("run mynakiosk");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn an_idle_timeout_that_overflows_a_timer_or_locks_staff_out_is_refused() {
    fails_with(
        "[session]\nidle_seconds = 9223372036854775807\n",
        &["line 2, key session.idle_seconds: expected 15 to 3600, found 9223372036854775807"],
    );
    fails_with(
        "[session]\nidle_seconds = 0\n",
        &["line 2, key session.idle_seconds: expected 15 to 3600, found 0"],
    );
    fails_with(
        "[session]\nresult_seconds = 9223372036854775807\n",
        &["line 2, key session.result_seconds: expected 1 to 600"],
    );
}

#[test]
fn a_config_from_dev_zero_or_a_fifo_is_refused_at_once() {
    let (ok, message) = check_config_at(Path::new("/dev/zero"));
    assert!(!ok, "{message}");
    assert!(
        message.contains("config file /dev/zero: not a regular file"),
        "{message}"
    );
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("mynakiosk.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (ok, message) = check_config_at(&fifo);
    assert!(!ok && message.contains("not a regular file"), "{message}");
}

#[test]
fn a_50_mb_value_is_refused_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mynakiosk.toml");
    let value = "k".repeat(50 << 20);
    std::fs::write(&path, format!("kiosk_id = \"{value}\"\n")).unwrap();
    let (ok, message) = check_config_at(&path);
    assert!(!ok);
    assert!(
        message.contains("more than the 1048576 allowed") && message.len() < 1000,
        "{}",
        &message[..message.len().min(2000)]
    );
    // Under the cap, a long value is cut in the message.
    let value = "k".repeat(900_000);
    let (ok, message) = check_config(&format!("kiosk_id = \"{value}\"\n"));
    assert!(!ok);
    assert!(
        message.contains("line 1, key kiosk_id") && message.len() < 1000,
        "{}",
        &message[..message.len().min(2000)]
    );
}

#[test]
fn trust_anchor_files_are_loaded_by_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("jlis-ca.der");
    std::fs::write(&anchor, card_sim::pki::test_trust_anchor_der()).unwrap();
    let (ok, message) = check_config(&format!("[card]\ntrust_anchors = [{anchor:?}]\n"));
    assert!(ok, "{message}");

    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    let random = dir.path().join("random.der");
    let bytes: Vec<u8> = (0..2048u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&random, bytes).unwrap();
    let missing = dir.path().join("missing.pem");
    for (file, why) in [
        (&missing, "No such file"),
        (&junk, "is not a DER or PEM certificate"),
        (&random, "is not a DER or PEM certificate"),
    ] {
        fails_with(
            &format!("kiosk_id = \"k\"\n[card]\ntrust_anchors = [{file:?}]\n"),
            &[
                "line 3, key card.trust_anchors",
                &file.display().to_string(),
                why,
            ],
        );
    }
    fails_with(
        &format!("[card]\ntrust_anchors = [{anchor:?}]\ncrls = [\"/dev/zero\"]\n"),
        &["line 3, key card.crls", "/dev/zero: not a regular file"],
    );
}

#[test]
fn sink_credentials_are_redacted() {
    let (ok, message) =
        check_config("[handoff]\nhttp_url = \"http://clinic:hunter2@192.168.10.5/results\"\n");
    assert!(!ok);
    assert!(
        message.contains("http://***@192.168.10.5/results") && !message.contains("hunter2"),
        "{message}"
    );
}
