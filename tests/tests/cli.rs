//! The `mynakiosk` command line as an integrator uses it.

use mynakiosk_tests::binary;
use std::path::PathBuf;

fn face_eval() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/face-eval")
}

#[test]
fn detect_faces_prints_one_face_per_portrait() {
    let dir = face_eval().join("portraits");
    let out = binary::command()
        .args(["detect-faces".as_ref(), dir.as_os_str()])
        .output()
        .expect("run mynakiosk");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 5, "one line per portrait: {lines:?}");
    for line in &lines {
        let faces = line["faces"].as_array().expect("faces");
        assert_eq!(faces.len(), 1, "{line}");
        let score = faces[0]["score"].as_f64().expect("score");
        assert!(score > 0.8, "{line}");
        assert!(line.get("pixels").is_none());
    }
}

#[test]
fn bad_config_names_line_and_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mynakiosk.toml");
    std::fs::write(&config, "kiosk_id = \"a\"\n[face]\nthread = 2\n").expect("write config");
    let out = binary::command()
        .arg("--config")
        .arg(&config)
        .arg("run")
        .output()
        .expect("run mynakiosk");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&config.display().to_string()), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("unknown field `thread`"), "{err}");
}

#[test]
fn missing_models_are_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mynakiosk.toml");
    std::fs::write(&config, format!("[face]\nmodels_dir = {:?}\n", dir.path())).expect("write");
    let out = binary::command()
        .arg("--config")
        .arg(&config)
        .args([
            "detect-faces".as_ref(),
            face_eval().join("portraits").as_os_str(),
        ])
        .output()
        .expect("run mynakiosk");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(face_match::YUNET_2023MAR_FILE), "{err}");
}

#[test]
fn devices_given_as_data_or_key_files_are_refused_at_once() {
    for args in [
        ["qual-sim", "--listen", "127.0.0.1:0", "--data", "/dev/zero"],
        ["card-info", "--reader", "none", "--cvc-ca-key", "/dev/zero"],
    ] {
        let out = binary::command()
            .args(args)
            .output()
            .expect("run mynakiosk");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("/dev/zero"), "{args:?}: {err}");
    }
}

#[test]
fn ocr_and_detect_faces_refuse_a_fifo_named_png_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("card.png");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let out = binary::command()
        .args(["ocr".as_ref(), fifo.as_os_str()])
        .output()
        .expect("run mynakiosk");
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("card.png: not a regular file"), "{said}");
    let out = binary::command()
        .args(["detect-faces".as_ref(), fifo.as_os_str()])
        .output()
        .expect("run mynakiosk");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("card.png: not a regular file"), "{said}");
}
