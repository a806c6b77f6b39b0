//! The liveness evaluation on a small seeded run with the real YuNet model on the real ONNX
//! Runtime: photo attacks never pass the offered challenges, the evaluation does see the
//! photo that passes "move closer" (why it is not offered), and genuine turns pass.

use std::path::{Path, PathBuf};

use face_match::eval::liveness::{evaluate, AttackKind, LivenessEvalConfig};
use face_match::liveness::{LivenessChallenge, LivenessConfig};
use face_match::{
    DetectorConfig, FaceDetector, OrtRuntime, YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256,
};

fn configured(var: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{var} is not set: run the tests through cargo in the workspace"))
}

#[test]
fn photos_fail_the_offered_challenges_and_genuine_turns_pass() {
    let runtime = OrtRuntime::init(&configured("MYNAKIOSK_ORT_DYLIB"), 2)
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"));
    let model = configured("MYNAKIOSK_MODELS_DIR").join(YUNET_2023MAR_FILE);
    let mut detector = FaceDetector::new(
        &runtime,
        &model,
        YUNET_2023MAR_SHA256,
        DetectorConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"));
    let config = LivenessEvalConfig {
        data: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/face-eval"),
        seed: 7,
        per_kind: 2,
        genuine_variants: 2,
        judge: LivenessConfig::default(),
    };
    let report = evaluate(&mut detector, &config).unwrap();
    eprintln!("liveness eval: {report:#?}");
    assert_eq!(report.offered, ["turn head left", "turn head right"]);
    assert_eq!(report.photo_apcer.trials, 6 * 2 * 2);
    assert_eq!(report.photo_apcer.passed, 0);
    let closer = LivenessChallenge::HEAD_MOVES
        .iter()
        .position(|c| *c == LivenessChallenge::MoveCloser)
        .unwrap();
    let approach = report
        .attacks
        .iter()
        .find(|a| a.kind == AttackKind::Closer)
        .unwrap();
    assert_eq!(approach.per_challenge[closer].passed, 2, "{approach:?}");
    assert!(report.genuine.trials >= 12, "{:?}", report.genuine);
    assert!(report.bpcer() <= 20.0, "{:?}", report.genuine_refusals);
}
