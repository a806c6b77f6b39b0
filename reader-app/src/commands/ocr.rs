//! `mynakiosk ocr IMAGE... [--json]`: reads 照合番号B from photos of one card front, as
//! successive camera frames (up to [`MAX_FRAMES`], [`read_card_front_frames`]), and prints the 14
//! digits with per-digit confidence, or why the read was rejected (exit status 2).

use card_front::{
    read_card_front_frames, CardFrontReader, Date, OcrError, PinBRead, SubmitPolicy, MAX_FRAMES,
};
use opencv::core::{Mat, MatTraitConst};
use std::path::{Path, PathBuf};

/// Why `mynakiosk ocr` printed no 照合番号B.
#[derive(Debug, thiserror::Error)]
pub enum OcrReject {
    #[error(transparent)]
    Read(#[from] OcrError),
    #[error(
        "digits {positions:?} are below the submit confidence {threshold} (a read that only \
         one photo gave needs more than one that two photos gave alike)"
    )]
    LowConfidence {
        positions: Vec<usize>,
        threshold: f32,
    },
}

/// Reads the photos at `paths` as successive frames of one card; `Ok(false)` when the read was
/// rejected (already reported).
/// `runtime` is the ONNX Runtime the line recogniser runs in.
pub fn run(
    runtime: &face_match::OrtRuntime,
    models_dir: &Path,
    paths: &[PathBuf],
    json: bool,
) -> anyhow::Result<bool> {
    anyhow::ensure!(
        (1..=MAX_FRAMES).contains(&paths.len()),
        "give 1 to {MAX_FRAMES} photos of the same card front (got {})",
        paths.len()
    );
    let reader = CardFrontReader::new(runtime.environment(), models_dir)?;
    let policy = SubmitPolicy::default();
    // Each photo is loaded only when the reader takes it; the reader zeroes it once read (the
    // photo shows the face and the printed 照合番号B).
    let mut unreadable = None;
    let frames = paths.iter().map_while(|path| match load(path) {
        Ok(image) => Some(image),
        Err(e) => {
            unreadable = Some(e);
            None
        }
    });
    let read = read_card_front_frames(&reader, frames, Date::today(), &policy);
    let outcome = match unreadable {
        Some(e) => Err(e.into()),
        None => check(read, &policy),
    };
    match (outcome, json) {
        (Ok(read), false) => {
            println!("{}", read.pin_b().as_str());
            let confs: Vec<String> = read.confidence.iter().map(|c| format!("{c:.3}")).collect();
            println!("confidence {}", confs.join(" "));
            Ok(true)
        }
        (Ok(read), true) => {
            let line = serde_json::json!({
                "pin_b": read.pin_b().as_str(),
                "confidence": read.confidence,
                "calendar": format!("{:?}", read.calendar),
                "agreeing_frames": read.agreeing_frames,
                "second_look": read.second_look,
            });
            println!("{line}");
            Ok(true)
        }
        (Err(reject), false) => {
            println!("rejected: {reject}");
            Ok(false)
        }
        (Err(reject), true) => {
            println!("{}", serde_json::json!({ "rejected": reject.to_string() }));
            Ok(false)
        }
    }
}

/// The photo at `path` in colour (size-capped before decoding), copied into the `Mat` the
/// reader zeroes; the decoded frame zeroes itself when dropped here.
fn load(path: &Path) -> Result<Mat, OcrError> {
    let image_error = |e: &dyn std::fmt::Display| OcrError::Image(e.to_string());
    let frame = face_match::decode_image_file(path).map_err(|e| image_error(&e))?;
    let view = frame.as_mat().map_err(|e| image_error(&e))?;
    view.try_clone().map_err(|e| image_error(&e.message))
}

/// Applies the submit policy's confidence rule: a read that the kiosk would not submit is a reject.
fn check(read: Result<PinBRead, OcrError>, policy: &SubmitPolicy) -> Result<PinBRead, OcrReject> {
    let read = read?;
    let threshold = policy.needed(read.agreeing_frames, read.second_look);
    let positions: Vec<usize> = (0..14)
        .filter(|&i| read.confidence[i] < threshold)
        .collect();
    if positions.is_empty() {
        Ok(read)
    } else {
        Err(OcrReject::LowConfidence {
            positions,
            threshold,
        })
    }
}
