//! `mynakiosk ocr IMAGE [--json]`: reads 照合番号B from one card-front photo and prints the 14
//! digits with per-digit confidence, or why the read was rejected (exit status 2).

use card_front::{read_card_front, OcrError, PinBRead, SubmitPolicy};
use opencv::core::{MatTrait, MatTraitConst, Scalar};
use std::path::Path;

/// Why `mynakiosk ocr` printed no 照合番号B.
#[derive(Debug, thiserror::Error)]
pub enum OcrReject {
    #[error(transparent)]
    Read(#[from] OcrError),
    #[error("digits {positions:?} are below the submit confidence {threshold}")]
    LowConfidence {
        positions: Vec<usize>,
        threshold: f32,
    },
}

/// Reads the photo at `path`; `Ok(false)` when the read was rejected (already reported).
pub fn run(path: &Path, json: bool) -> anyhow::Result<bool> {
    let mut image = opencv::imgcodecs::imread(path, opencv::imgcodecs::IMREAD_COLOR)?;
    let outcome = if image.empty() {
        Err(OcrError::Image(format!("{} is not a readable image", path.display())).into())
    } else {
        check(read_card_front(&image))
    };
    // The photo shows the face and the printed 照合番号B: scrub it before release.
    if !image.empty() {
        image.set_to(&Scalar::all(0.0), &opencv::core::no_array())?;
    }
    drop(image);
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

/// Applies the submit policy's confidence rule: a read that the kiosk would not submit is a reject.
fn check(read: Result<PinBRead, OcrError>) -> Result<PinBRead, OcrReject> {
    let read = read?;
    let threshold = SubmitPolicy::default().min_confidence;
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
