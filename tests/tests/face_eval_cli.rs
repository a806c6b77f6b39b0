//! `mynakiosk face-eval` as a clinic would run it on its own `identity/image` folder.

use mynakiosk_tests::binary;
use mynakiosk_tests::face::face_eval;

fn run(args: &[&str]) -> std::process::Output {
    binary::command()
        .arg("face-eval")
        .arg(face_eval("bbt"))
        .args(args)
        .output()
        .expect("run mynakiosk")
}

#[test]
fn json_report_on_the_bbt_set_in_normal_and_chip_mode() {
    for (flags, mode, genuine, impostor) in [
        (&["--json"][..], "normal", 80, 700),
        (&["--json", "--chip"][..], "chip", 160, 1400),
    ] {
        let out = run(flags);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
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
    let out = run(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("EER") && text.contains("FMR ≤ 1e-3"),
        "{text}"
    );
    let out = binary::command()
        .args(["face-eval", "/nonexistent/faces"])
        .output()
        .expect("run mynakiosk");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/faces"), "{err}");
}
