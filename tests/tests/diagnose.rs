//! `mynakiosk diagnose` on this machine: the real pcscd with vpcd's readers, the virtual card,
//! the real ONNX Runtime and models, a reception sink and an audit log.

use card_sim::vpcd::VpcdCard;
use card_sim::VirtualCard;
use mynakiosk::audit::{AuditEvent, AuditLog};
use mynakiosk::config::AuditConfig;
use mynakiosk_tests::binary;
use mynakiosk_tests::pcscd::{self, SLOT0_READER};
use std::path::Path;

/// Writes a config for `reader` with a drop-folder sink and a fresh audit log in `dir`.
fn config(dir: &Path, reader: &str) -> std::path::PathBuf {
    let drop = dir.join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let audit = AuditConfig {
        dir: dir.join("audit"),
        max_file_bytes: 1 << 20,
    };
    let log = AuditLog::open(&audit, "diag-1").unwrap();
    log.record(AuditEvent::KioskStarted {
        version: "test".into(),
    })
    .unwrap();
    let path = dir.join("mynakiosk.toml");
    let text = format!(
        "kiosk_id = \"diag-1\"\n[reader]\nname = {reader:?}\n[handoff]\nsink = \"file\"\n\
         drop_dir = {drop:?}\noutbox_dir = {:?}\n[audit]\ndir = {:?}\n",
        dir.join("outbox"),
        audit.dir
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs diagnose: (success, stdout).
fn diagnose(config: &Path) -> (bool, String) {
    let out = binary::command()
        .arg("--config")
        .arg(config)
        .arg("diagnose")
        .output()
        .expect("run mynakiosk");
    let text = String::from_utf8(out.stdout).unwrap();
    (out.status.success(), text)
}

/// The report line of `check`.
fn line<'a>(report: &'a str, check: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no {check} line in:\n{report}"))
}

#[test]
fn with_the_virtual_reader_and_card_every_check_passes_or_warns() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), SLOT0_READER);

    let (ok, report) = diagnose(&cfg);
    assert!(ok, "{report}");
    assert!(line(&report, "pcscd").starts_with("PASS"), "{report}");
    assert!(line(&report, "reader").starts_with("PASS"), "{report}");
    assert!(line(&report, "reader").contains(SLOT0_READER), "{report}");
    assert!(
        line(&report, "card").starts_with("WARN"),
        "no card yet: {report}"
    );
    assert!(
        line(&report, "models").contains(face_match::SFACE_2021DEC_FILE),
        "{report}"
    );
    for check in [
        "onnx runtime",
        "models",
        "ocr model",
        "reception",
        "outbox",
        "audit",
    ] {
        assert!(
            line(&report, check).starts_with("PASS"),
            "{check}: {report}"
        );
    }
    assert!(line(&report, "audit").contains("1 events"), "{report}");
    assert!(line(&report, "metrics").contains("off"), "{report}");
    assert!(line(&report, "console").contains("off"), "{report}");
    assert!(report.trim_end().ends_with("0 failed"), "{report}");
    // The default card-front camera is /dev/video1: without it face authentication is off.
    let front = line(&report, "front camera");
    if std::path::Path::new("/dev/video1").exists() {
        assert!(!front.starts_with("WARN"), "{report}");
    } else {
        assert!(
            front.starts_with("WARN") && front.contains("/dev/video1 missing"),
            "{report}"
        );
    }
    // Voice guidance needs an ALSA sound card: said once, as a warning, when there is none.
    let sound = line(&report, "sound");
    match mynakiosk::voice::sound_device() {
        Ok(cards) => assert!(
            sound.starts_with("PASS") && sound.contains(&cards),
            "{report}"
        ),
        Err(_) => assert!(
            sound.starts_with("WARN") && sound.contains("voice guidance silent"),
            "{report}"
        ),
    }

    let card = VpcdCard::insert(VirtualCard::my_number(), pcscd::slot0_addr()).unwrap();
    pcscd::connect_when_present(SLOT0_READER);
    let (ok, report) = diagnose(&cfg);
    card.remove().unwrap();
    assert!(ok, "{report}");
    let card_line = line(&report, "card");
    assert!(
        card_line.starts_with("PASS") && card_line.contains("My Number card"),
        "{report}"
    );
}

#[test]
fn without_a_matching_reader_or_with_a_broken_chain_diagnose_fails() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "No Such Reader 9000");
    let (ok, report) = diagnose(&cfg);
    assert!(!ok, "{report}");
    let reader = line(&report, "reader");
    assert!(
        reader.starts_with("FAIL") && reader.contains("No Such Reader 9000"),
        "{report}"
    );
    assert!(report.contains("1 failed"), "{report}");

    // Tampered audit log and a missing drop folder fail their checks too.
    let audit = dir.path().join("audit/audit.jsonl");
    let text = std::fs::read_to_string(&audit)
        .unwrap()
        .replace("test", "edit");
    std::fs::write(&audit, text).unwrap();
    std::fs::remove_dir(dir.path().join("drop")).unwrap();
    let (ok, report) = diagnose(&cfg);
    assert!(!ok);
    assert!(line(&report, "audit").starts_with("FAIL"), "{report}");
    assert!(
        line(&report, "audit").contains("audit.jsonl:1: edited"),
        "{report}"
    );
    assert!(line(&report, "reception").starts_with("FAIL"), "{report}");
    assert!(report.contains("3 failed"), "{report}");
}

#[test]
fn a_corrupt_or_missing_model_fails_the_models_check() {
    use face_match::{SFACE_2021DEC_FILE, YUNET_2023MAR_FILE};
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), SLOT0_READER);
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    let built_in = mynakiosk::config::Config::default().face.models_dir;
    std::fs::copy(
        built_in.join(YUNET_2023MAR_FILE),
        models.join(YUNET_2023MAR_FILE),
    )
    .unwrap();
    let mut sface = std::fs::read(built_in.join(SFACE_2021DEC_FILE)).unwrap();
    sface[1000] ^= 1;
    std::fs::write(models.join(SFACE_2021DEC_FILE), sface).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}[face]\nmodels_dir = {models:?}\n")).unwrap();

    let (ok, report) = diagnose(&cfg);
    assert!(!ok, "{report}");
    let line_ = line(&report, "models");
    assert!(
        line_.starts_with("FAIL")
            && line_.contains(&format!("{SFACE_2021DEC_FILE}: sha256 differs"))
            && !line_.contains(YUNET_2023MAR_FILE),
        "{report}"
    );

    std::fs::remove_file(models.join(SFACE_2021DEC_FILE)).unwrap();
    std::fs::remove_file(models.join(YUNET_2023MAR_FILE)).unwrap();
    let (ok, report) = diagnose(&cfg);
    assert!(!ok, "{report}");
    let line_ = line(&report, "models");
    for file in [YUNET_2023MAR_FILE, SFACE_2021DEC_FILE] {
        assert!(
            line_.starts_with("FAIL") && line_.contains(&format!("{file}: No such file")),
            "{report}"
        );
    }
}

#[test]
fn trust_anchors_are_shown_with_their_expiry_and_a_bad_one_fails() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), SLOT0_READER);
    let (_, report) = diagnose(&cfg);
    assert!(
        line(&report, "trust anchors").starts_with("WARN"),
        "none configured: {report}"
    );

    let anchor = dir.path().join("jlis-ca.der");
    std::fs::write(&anchor, card_sim::pki::test_trust_anchor_der()).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("{text}[card]\ntrust_anchors = [{anchor:?}]\n"),
    )
    .unwrap();
    let (_, report) = diagnose(&cfg);
    let trust = line(&report, "trust anchors");
    assert!(
        trust.starts_with("PASS") && trust.contains("1 anchor file(s)") && trust.contains(" days"),
        "{report}"
    );

    let junk = dir.path().join("junk.der");
    std::fs::write(&junk, [0x30, 0x82, 0xff, 0x00, 0x13, 0x37]).unwrap();
    std::fs::write(&cfg, format!("{text}[card]\ntrust_anchors = [{junk:?}]\n")).unwrap();
    let (ok, report) = diagnose(&cfg);
    assert!(!ok, "{report}");
    let trust = line(&report, "trust anchors");
    assert!(
        trust.starts_with("FAIL")
            && trust.contains("card.trust_anchors")
            && trust.contains("junk.der"),
        "{report}"
    );
}

#[test]
fn sink_credentials_are_not_shown() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), SLOT0_READER);
    // A listener, so the reception check passes and names the URL.
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = receiver.local_addr().unwrap().port();
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "sink = \"file\"",
        &format!("sink = \"http\"\nhttp_url = \"http://clinic:hunter2@127.0.0.1:{port}/results\""),
    );
    std::fs::write(&cfg, text).unwrap();
    let (_, report) = diagnose(&cfg);
    assert!(!report.contains("hunter2"), "{report}");
    let reception = line(&report, "reception");
    assert!(
        reception.starts_with("PASS")
            && reception.contains(&format!("http://***@127.0.0.1:{port}/results")),
        "{report}"
    );
}

#[test]
fn undeliverable_results_and_foreign_entries_in_the_outbox_are_reported() {
    let _slots = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), SLOT0_READER);
    let outbox = dir.path().join("outbox");
    mynakiosk::handoff::outbox::Outbox::create(&outbox).unwrap();
    std::fs::write(outbox.join("dead").join("1-key.json"), b"{}").unwrap();
    std::fs::create_dir(outbox.join("pending").join("stray-folder")).unwrap();
    let (_, report) = diagnose(&cfg);
    let line = line(&report, "outbox");
    assert!(
        line.starts_with("WARN")
            && line.contains("1 undeliverable in dead/")
            && line.contains("1 foreign"),
        "{report}"
    );
}

#[test]
fn the_metrics_endpoint_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), SLOT0_READER);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("[metrics]\nenabled = true\nlisten = \"127.0.0.1:19464\"\n");
    std::fs::write(&cfg, text).unwrap();
    let (_, report) = diagnose(&cfg);
    assert!(
        line(&report, "metrics").contains("http://127.0.0.1:19464/metrics"),
        "{report}"
    );
}

/// The console's TLS files and token are checked by `diagnose` and `check-config`: a missing
/// key fails both; usable files show the console's address.
#[test]
fn the_console_and_its_tls_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config(d, SLOT0_READER);
    let base = std::fs::read_to_string(&cfg).unwrap();
    let (cert, key) = (d.join("console.crt"), d.join("console.key"));
    let console = format!(
        "[console]\nenabled = true\nlisten = \"127.0.0.1:18443\"\ntls_cert = {cert:?}\ntls_key = {key:?}\n"
    );
    std::fs::write(&cfg, format!("{base}{console}")).unwrap();
    mynakiosk_tests::self_signed_certificate(&cert, &d.join("other.key"));

    let (ok, report) = diagnose(&cfg);
    assert!(!ok, "{report}");
    let console = line(&report, "console");
    assert!(
        console.starts_with("FAIL") && console.contains("console.tls_key"),
        "{report}"
    );
    let checked = binary::command()
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&checked.stderr);
    assert!(
        !checked.status.success() && err.contains("console.tls_key"),
        "{err}"
    );

    std::fs::rename(d.join("other.key"), &key).unwrap();
    let (_, report) = diagnose(&cfg);
    let console = line(&report, "console");
    assert!(
        console.starts_with("PASS") && console.contains("https://127.0.0.1:18443 (staff PINs)"),
        "{report}"
    );
}

#[test]
fn a_fifo_as_the_card_front_camera_fails_its_check_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), SLOT0_READER);
    let fifo = dir.path().join("video9");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let base = std::fs::read_to_string(&cfg).unwrap();
    let camera = format!("[card_front_camera]\nsource = \"v4l2\"\ndevice = {fifo:?}\n");
    std::fs::write(&cfg, format!("{base}{camera}")).unwrap();
    // Before, diagnose waited for a writer forever at this check.
    let (ok, report) = diagnose(&cfg);
    assert!(!ok, "{report}");
    let front = line(&report, "front camera");
    assert!(
        front.starts_with("FAIL") && front.contains("not a V4L2 device"),
        "{report}"
    );
}
