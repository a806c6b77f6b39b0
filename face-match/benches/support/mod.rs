//! Inputs shared by the criterion benchmark and the `face_bench` example: the runtime, the
//! models and the evaluation portraits as 640×480 camera frames.

use std::path::{Path, PathBuf};

use face_match::{
    CameraSource, DetectorConfig, FaceDetector, FaceEmbedder, Frame, ImageFolderSource, OrtRuntime,
    SFACE_2021DEC_FILE, SFACE_2021DEC_SHA256, YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256,
};

/// Camera frame size of the benchmarks.
pub const FRAME: (u32, u32) = (640, 480);

/// A path from an environment variable that `.cargo/config.toml` sets.
pub fn configured(var: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{var} is not set: run through cargo in the workspace"))
}

/// ONNX Runtime with `threads` intra-op threads.
pub fn runtime(threads: usize) -> OrtRuntime {
    OrtRuntime::init(&configured("MYNAKIOSK_ORT_DYLIB"), threads)
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"))
}

/// YuNet and SFace from the generated models folder, checked against their checksums.
pub fn models(runtime: &OrtRuntime) -> (FaceDetector, FaceEmbedder) {
    (detector(runtime), embedder(runtime))
}

/// YuNet from the generated models folder, checked against its checksum.
pub fn detector(runtime: &OrtRuntime) -> FaceDetector {
    FaceDetector::new(
        runtime,
        &configured("MYNAKIOSK_MODELS_DIR").join(YUNET_2023MAR_FILE),
        YUNET_2023MAR_SHA256,
        DetectorConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// SFace from the generated models folder, checked against its checksum.
pub fn embedder(runtime: &OrtRuntime) -> FaceEmbedder {
    FaceEmbedder::new(
        runtime,
        &configured("MYNAKIOSK_MODELS_DIR").join(SFACE_2021DEC_FILE),
        SFACE_2021DEC_SHA256,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// `shared/face-eval/portraits`.
pub fn portraits_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/face-eval/portraits")
}

/// Every portrait, fitted into a 640×480 frame, with its file name.
pub fn portrait_frames() -> Vec<(String, Frame)> {
    let mut source = ImageFolderSource::open(&portraits_dir())
        .unwrap_or_else(|e| panic!("{e}: is shared/face-eval beside the workspace?"));
    let names: Vec<String> = source
        .files()
        .iter()
        .map(|f| {
            f.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names
        .into_iter()
        .map(|name| {
            let photo = source
                .next_frame()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let frame = photo
                .fit_into(FRAME.0, FRAME.1)
                .unwrap_or_else(|e| panic!("{e}"));
            (name, frame)
        })
        .collect()
}
