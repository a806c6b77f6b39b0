//! `mynakiosk detect-faces`: YuNet on every image of a file camera, as JSON lines
//! (boxes, landmarks and scores only — never pixels).

use crate::config::Config;
use face_match::{
    CameraSource, DetectorConfig, FaceDetector, ImageFolderSource, OrtRuntime, YUNET_2023MAR_FILE,
    YUNET_2023MAR_SHA256,
};
use std::path::Path;

pub fn run(config: &Config, source: &Path) -> anyhow::Result<()> {
    let runtime = OrtRuntime::init(&config.face.onnx_runtime, config.face.threads)?;
    let mut detector = FaceDetector::new(
        &runtime,
        &config.face.models_dir.join(YUNET_2023MAR_FILE),
        YUNET_2023MAR_SHA256,
        DetectorConfig::default(),
    )?;
    let mut camera = ImageFolderSource::open(source)?;
    let files = camera.files().to_vec();
    for file in files {
        let frame = camera.next_frame()?;
        let faces = detector.detect(&frame)?;
        let line = serde_json::json!({
            "image": file.display().to_string(),
            "width": frame.width(),
            "height": frame.height(),
            "faces": faces.iter().map(|f| serde_json::json!({
                "box": [f.bbox.0, f.bbox.1, f.bbox.2, f.bbox.3],
                "landmarks": f.landmarks.iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>(),
                "score": f.score,
            })).collect::<Vec<_>>(),
        });
        println!("{line}");
    }
    Ok(())
}
