//! `mynakiosk face-eval` as a clinic would run it on its own `identity/image` folder, for
//! accuracy and for the eyes-covered check (`--eyes`).

use mynakiosk_tests::binary;
use mynakiosk_tests::face::face_eval;
use std::path::Path;
use std::process::Output;

fn run(dir: &Path, args: &[&str]) -> Output {
    binary::command()
        .arg("face-eval")
        .arg(dir)
        .args(args)
        .output()
        .expect("run mynakiosk")
}

/// The JSON report of a successful run.
fn json_report(out: Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn json_report_on_the_bbt_set_in_normal_and_chip_mode() {
    for (flags, mode, genuine, impostor) in [
        (&["--json"][..], "normal", 80, 700),
        (&["--json", "--chip"][..], "chip", 160, 1400),
    ] {
        let report = json_report(run(&face_eval("bbt"), flags));
        eprintln!("bbt {mode}: {report}");
        assert_eq!(report["mode"], mode);
        assert_eq!(report["identities"], 8);
        assert_eq!(report["images"], 40);
        let rates = &report["rates"];
        // 8 identities × 5 images: C(5,2)·8 genuine and 5·5·C(8,2) impostor pairs (×2 in chip
        // mode), fewer if a face was not found.
        let pairs = |key: &str| rates[key].as_u64().expect(key);
        assert!(pairs("genuine_pairs") <= genuine && pairs("genuine_pairs") >= genuine * 8 / 10);
        assert!(
            pairs("impostor_pairs") <= impostor && pairs("impostor_pairs") >= impostor * 8 / 10
        );
        let eer = rates["eer"].as_f64().expect("eer");
        assert!((0.0..0.2).contains(&eer), "EER {eer}");
        assert_eq!(rates["at_fmr"].as_array().expect("at_fmr").len(), 3);
    }
}

#[test]
fn text_report_and_bad_folder() {
    let out = run(&face_eval("bbt"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("EER") && text.contains("FMR ≤ 1e-3"),
        "{text}"
    );
    let out = run(Path::new("/nonexistent/faces"), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/faces"), "{err}");
}

/// A subset of `shared/face-eval` as identity folders (symlinks): every fourth ORL subject,
/// all of BBT and each portrait's person.
fn eyes_subset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = |from: std::path::PathBuf, to: std::path::PathBuf| {
        std::os::unix::fs::symlink(&from, &to)
            .unwrap_or_else(|e| panic!("{} → {}: {e}", from.display(), to.display()))
    };
    for subject in (4..=40).step_by(4) {
        let name = format!("s{subject}");
        link(
            face_eval(&format!("orl/{name}")),
            dir.path().join(format!("orl-{name}")),
        );
    }
    for entry in std::fs::read_dir(face_eval("bbt")).expect("bbt") {
        let path = entry.expect("bbt entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        link(path, dir.path().join(format!("bbt-{name}")));
    }
    for (person, files) in [
        ("obama", &["obama.jpg", "obama2.jpg", "obama3.jpg"][..]),
        ("biden", &["biden.jpg"]),
        ("hopper", &["grace_hopper_512x512.jpg"]),
    ] {
        std::fs::create_dir(dir.path().join(person)).expect("identity folder");
        for file in files {
            link(
                face_eval(&format!("portraits/{file}")),
                dir.path().join(person).join(file),
            );
        }
    }
    dir
}

/// `face-eval --eyes` reproduces the eyes-covered and eye-openness figures of
/// docs/face-quality.md on a subset; the bounds leave room around what the whole set gave.
#[test]
fn eyes_report_on_a_subset() {
    let subset = eyes_subset();
    let report = json_report(run(subset.path(), &["--eyes", "--json"]));
    eprintln!("eyes: {report}");
    let images = report["images"].as_u64().expect("images");
    assert_eq!(images, 100 + 40 + 5);
    let count = |value: &serde_json::Value| value.as_u64().expect("count") as f64;
    let detected = &report["detected"];
    let (clean, band, patch) = (
        count(&detected["clean"]),
        count(&detected["dark_band"]),
        count(&detected["skin_patch"]),
    );
    // Whole set: 445/445 faces clean, 385 under the band, 422 under the patch.
    assert!(clean >= 0.98 * images as f64, "{detected}");
    assert!(band >= 0.6 * clean && patch >= 0.8 * clean, "{detected}");
    let configured = &report["flagged"][0];
    assert_eq!(configured["max_flat_eyes"], 0.35);
    assert_eq!(configured["min_eye_edges"], 1.0);
    let flagged = &configured["faces"];
    // Whole set: 0.9 % false alarms, 99.5 % of dark bands and 91.7 % of skin patches flagged.
    assert!(count(&flagged["clean"]) <= 0.05 * clean, "{flagged}");
    assert!(count(&flagged["dark_band"]) >= 0.9 * band, "{flagged}");
    assert!(count(&flagged["skin_patch"]) >= 0.5 * patch, "{flagged}");
    assert_eq!(
        report["false_alarms"]
            .as_array()
            .expect("false_alarms")
            .len() as f64,
        count(&flagged["clean"])
    );
    // The flat-area cue alone misses more skin patches than both cues together.
    let flat_only = &report["flagged"][1];
    assert_eq!(flat_only["min_eye_edges"], 0.0);
    assert!(count(&flat_only["faces"]["skin_patch"]) < count(&flagged["skin_patch"]));
    // Whole set: eye openness 0.153–0.383, median 0.237, open eyes only.
    let openness = &report["openness"]["faces"]["clean"];
    let value = |key: &str| openness[key].as_f64().expect(key);
    assert!(value("count") >= 0.95 * clean, "{openness}");
    assert!(value("min") > 0.1 && value("max") < 0.5, "{openness}");
    assert!((0.18..0.3).contains(&value("median")), "{openness}");
}

#[test]
fn eyes_text_report_and_refused_flags() {
    let one = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(face_eval("bbt/amy"), one.path().join("amy")).expect("symlink");
    let out = run(one.path(), &["--eyes"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && text.contains("faces detected:")
            && text.contains("0.35 / 1.00 (configured)")
            && text.contains("FaceMesh eye openness"),
        "{text}"
    );
    let out = run(one.path(), &["--eyes", "--chip"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--chip"));
}
