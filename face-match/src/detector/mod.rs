//! Face detection with YuNet 2023mar (OpenCV Zoo, MIT): boxes and five landmarks per face.

mod decode;
pub mod denoise;
mod letterbox;
mod nms;
pub mod refine;
pub mod retry;
mod track;

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::TensorRef;
use zeroize::Zeroizing;

use crate::error::FaceError;
use crate::frame::Frame;
use crate::runtime::OrtRuntime;
use decode::{Head, STRIDES};
use letterbox::{Letterbox, INPUT_SIDE};
pub use track::FaceTrack;

/// File name of the folded YuNet model, with a free input size, in the models folder (see
/// `models/README.md`).
pub const YUNET_2023MAR_FILE: &str = "face_detection_yunet_2023mar_any_size.onnx";

/// sha256 of [`YUNET_2023MAR_FILE`] as folded by `models/fetch.py`.
pub const YUNET_2023MAR_SHA256: &str =
    "e555713a908f1060b828275a77e566709600ac47a0033430a2ec9cc5e652379c";

/// A face found in a frame. Coordinates are frame pixels; it holds no pixels itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectedFace {
    /// Left, top, width, height. May reach past the frame edges.
    pub bbox: (f32, f32, f32, f32),
    /// (x, y) of, in this order: right eye, left eye, nose tip, right mouth corner, left mouth
    /// corner ("right" is the person's right, i.e. the image-left one comes first).
    pub landmarks: [(f32, f32); 5],
    /// Confidence in 0..=1.
    pub score: f32,
}

impl DetectedFace {
    /// This face, found in the [`crate::frame::Image::mirrored`] copy of a picture `width` px
    /// wide, as it lies in the picture itself: x mirrored back, and the eyes and mouth corners
    /// swapped back to right then left.
    pub fn unmirrored(self, width: u32) -> DetectedFace {
        let last = width as f32 - 1.0;
        let [right_eye, left_eye, nose, right_mouth, left_mouth] =
            self.landmarks.map(|(x, y)| (last - x, y));
        let (x, y, w, h) = self.bbox;
        DetectedFace {
            bbox: (width as f32 - (x + w), y, w, h),
            landmarks: [left_eye, right_eye, nose, left_mouth, right_mouth],
            ..self
        }
    }
}

/// Detection thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Minimum score of a reported face (0.5–0.6 is YuNet's usual range).
    pub score_threshold: f32,
    /// Overlapping boxes above this intersection-over-union are merged into the best one.
    pub nms_iou_threshold: f32,
    /// [`FaceDetector::detect_with_retries`] tries again when nothing is found: with the light
    /// equalised (dim, washed-out or flat frames), smoothed, then turned in the image plane.
    pub retries: bool,
    /// Single pictures are also looked at mirrored ([`crate::frame::Image::mirrored`]): the closer look's
    /// averaged squares ([`FaceDetector::refined_picture`]) and the embedding of the aligned
    /// crop ([`crate::FaceMatcher::acquire_largest_face`]).
    pub mirrors: bool,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            score_threshold: 0.6,
            nms_iou_threshold: 0.3,
            retries: true,
            mirrors: true,
        }
    }
}

/// YuNet 2023mar face detector on ONNX Runtime.
pub struct FaceDetector {
    session: Session,
    config: DetectorConfig,
}

impl FaceDetector {
    /// Loads the folded YuNet model at `model` after verifying its sha256 (normally
    /// [`YUNET_2023MAR_SHA256`]) and checking that its inputs and outputs are YuNet's.
    pub fn new(
        runtime: &OrtRuntime,
        model: &Path,
        sha256: &str,
        config: DetectorConfig,
    ) -> Result<Self, FaceError> {
        let session = runtime.load_session(model, sha256)?;
        check_interface(&session).map_err(|reason| FaceError::ModelInvalid {
            path: PathBuf::from(model),
            reason,
        })?;
        Ok(Self { session, config })
    }

    /// This detector with [`DetectorConfig::retries`] set to `retries`.
    pub fn with_retries(mut self, retries: bool) -> Self {
        self.config.retries = retries;
        self
    }

    /// This detector with [`DetectorConfig::mirrors`] set to `mirrors`.
    pub fn with_mirrors(mut self, mirrors: bool) -> Self {
        self.config.mirrors = mirrors;
        self
    }

    /// The thresholds in use.
    pub fn config(&self) -> DetectorConfig {
        self.config
    }

    /// [`FaceDetector::detect`] (on the frame smoothed first if it is heavily JPEG-compressed
    /// or noisy, [`denoise::needs_smoothing`], with retries on), and when it finds nothing
    /// (and [`DetectorConfig::retries`] is on): again on the frame with its light equalised if it is poorly lit, then on that
    /// frame at smaller scales ([`retry::SMALLER_SIDES`]), smoothed (noise), then turned in its
    /// plane by ±35° and ±70°. Faces are in
    /// `frame`'s coordinates; with them the smoothed or equalised copy they were found in, if
    /// any, to align them from. For single pictures (the chip photo, evaluation); up to nine
    /// detections when there is no face.
    pub fn detect_with_retries(
        &mut self,
        frame: &Frame,
    ) -> Result<(Vec<DetectedFace>, Option<Frame>), FaceError> {
        let smooth_first = match self.config.retries && denoise::needs_smoothing(frame) {
            true => Some(denoise::smoothed(frame)?),
            false => None,
        };
        let first = smooth_first.as_ref().unwrap_or(frame);
        let faces = self.detect(first)?;
        if !faces.is_empty() || !self.config.retries {
            return Ok((faces, smooth_first));
        }
        let lit = match retry::poorly_lit(first)? {
            true => Some(retry::equalised(first)?),
            false => None,
        };
        if let Some(equalised) = &lit {
            let faces = self.detect(equalised)?;
            if !faces.is_empty() {
                return Ok((faces, lit));
            }
        }
        let prepared = lit.or(smooth_first);
        let base = prepared.as_ref().unwrap_or(frame);
        for side in retry::SMALLER_SIDES {
            let letterbox = Letterbox::for_frame(base.width(), base.height(), side);
            let faces = self.detect_region(base, letterbox)?;
            if !faces.is_empty() {
                return Ok((faces, prepared));
            }
        }
        let smooth = retry::smoothed(base)?;
        let faces = self.detect(&smooth)?;
        if !faces.is_empty() {
            return Ok((faces, Some(smooth)));
        }
        drop(smooth);
        for degrees in retry::ROLLS {
            let (turned, inverse) = retry::rotated(base, degrees)?;
            let faces = self.detect(&turned)?;
            if !faces.is_empty() {
                let faces = faces
                    .into_iter()
                    .map(|face| retry::mapped_back(face, &inverse))
                    .collect();
                return Ok((faces, prepared));
            }
        }
        Ok((Vec::new(), None))
    }

    /// `face` (found in `frame`) measured again where YuNet sees it most upright
    /// ([`FaceDetector::most_upright`]), then with those landmarks averaged with the ones
    /// found in squares turned [`refine::OFFSETS`] from its eye line
    /// ([`refine::upright_square`]); `face` as it was when the closer look finds it in none
    /// of the squares.
    pub fn refined(
        &mut self,
        frame: &Frame,
        face: DetectedFace,
    ) -> Result<DetectedFace, FaceError> {
        self.refined_with(frame, face, &refine::ROLLS, false)
    }

    /// As [`FaceDetector::refined`], for a single picture (evaluation; a chip photo takes
    /// [`FaceDetector::refined_chip_photo`]): with
    /// [`DetectorConfig::mirrors`], the landmarks found in the averaged squares mirrored
    /// ([`crate::frame::Image::mirrored`]) are averaged in too (two more YuNet runs).
    pub fn refined_picture(
        &mut self,
        frame: &Frame,
        face: DetectedFace,
    ) -> Result<DetectedFace, FaceError> {
        self.refined_with(frame, face, &refine::ROLLS, self.config.mirrors)
    }

    /// As [`FaceDetector::refined_picture`], for a chip photo, which the card's photo rules
    /// keep upright: the most upright look is taken only in the square turned to the eye line
    /// ([`refine::UPRIGHT`]), not also in those turned ±30° (two YuNet runs fewer).
    pub fn refined_chip_photo(
        &mut self,
        frame: &Frame,
        face: DetectedFace,
    ) -> Result<DetectedFace, FaceError> {
        self.refined_with(frame, face, &refine::UPRIGHT, self.config.mirrors)
    }

    /// The most upright look at `face` among `rolls`, then the closer look, with or without
    /// `mirrors`.
    fn refined_with(
        &mut self,
        frame: &Frame,
        face: DetectedFace,
        rolls: &[f64],
        mirrors: bool,
    ) -> Result<DetectedFace, FaceError> {
        let upright = self.most_upright(frame, face, rolls)?;
        self.closer_look(frame, upright, mirrors)
    }

    /// `face` as found in the square, among those turned `rolls` from its eye line,
    /// where YuNet is surest of it (highest score), mapped back to `frame`: YuNet places the
    /// landmarks of a face tilted far in the image plane as if it were nearly upright, and is
    /// surest of a face that is.
    fn most_upright(
        &mut self,
        frame: &Frame,
        face: DetectedFace,
        rolls: &[f64],
    ) -> Result<DetectedFace, FaceError> {
        let turns: Vec<(f64, bool)> = rolls.iter().map(|&roll| (roll, false)).collect();
        let best = self
            .in_squares(frame, &face, &turns)?
            .into_iter()
            .flatten()
            .reduce(|best, near| if near.score > best.score { near } else { best });
        Ok(best.map_or(face, |best| DetectedFace {
            bbox: face.bbox,
            ..best
        }))
    }

    /// For each of `turns` (degrees from the eye line, mirrored or not), the face YuNet finds
    /// near the centre of the square around `face` so turned ([`refine::upright_square`]),
    /// mirrored back if its square was, mapped back to `frame`; the squares are detected in
    /// one batch.
    fn in_squares(
        &mut self,
        frame: &Frame,
        face: &DetectedFace,
        turns: &[(f64, bool)],
    ) -> Result<Vec<Option<DetectedFace>>, FaceError> {
        let mut squares = Vec::with_capacity(turns.len());
        for &(offset, mirrored) in turns {
            let (square, inverse) = refine::upright_square(frame, face, offset)?;
            let square = match mirrored {
                true => square.mirrored()?,
                false => square,
            };
            squares.push((square, inverse));
        }
        let pictures: Vec<&Frame> = squares.iter().map(|(square, _)| square).collect();
        let found = self.detect_each(&pictures)?;
        Ok(found
            .into_iter()
            .zip(turns.iter().zip(&squares))
            .map(|(faces, (&(_, mirrored), (square, inverse)))| {
                let side = square.width();
                refine::centred(faces, side)
                    .map(|near| match mirrored {
                        true => near.unmirrored(side),
                        false => near,
                    })
                    .map(|near| retry::mapped_back(near, inverse))
            })
            .collect())
    }

    /// `around` with its landmarks averaged with those found in the squares turned
    /// [`refine::OFFSETS`] from its eye line, and, with `mirrors`, in those squares mirrored.
    fn closer_look(
        &mut self,
        frame: &Frame,
        around: DetectedFace,
        mirrors: bool,
    ) -> Result<DetectedFace, FaceError> {
        let sides: &[bool] = if mirrors { &[false, true] } else { &[false] };
        let turns: Vec<(f64, bool)> = refine::OFFSETS
            .iter()
            .flat_map(|&offset| sides.iter().map(move |&mirrored| (offset, mirrored)))
            .collect();
        let mut sum = around.landmarks;
        let mut found = 1;
        for back in self
            .in_squares(frame, &around, &turns)?
            .into_iter()
            .flatten()
        {
            for (total, (x, y)) in sum.iter_mut().zip(back.landmarks) {
                (total.0, total.1) = (total.0 + x, total.1 + y);
            }
            found += 1;
        }
        let n = found as f32;
        Ok(DetectedFace {
            landmarks: sum.map(|(x, y)| (x / n, y / n)),
            ..around
        })
    }

    /// The faces in each of `pictures` (all of one size), each searched at its own size (not
    /// scaled; padded to YuNet's 32 px grid), in one run of a batch.
    pub fn detect_each(
        &mut self,
        pictures: &[&Frame],
    ) -> Result<Vec<Vec<DetectedFace>>, FaceError> {
        let parts: Vec<(&Frame, Letterbox)> = pictures
            .iter()
            .map(|&picture| {
                let (width, height) = (picture.width(), picture.height());
                (
                    picture,
                    Letterbox::for_frame(width, height, width.max(height)),
                )
            })
            .collect();
        self.detect_regions(&parts)
    }

    /// Finds the faces in `frame`, best score first, with the frame fitted into YuNet's usual
    /// 640 px (small pictures enlarged to it).
    pub fn detect(&mut self, frame: &Frame) -> Result<Vec<DetectedFace>, FaceError> {
        let letterbox = Letterbox::for_frame(frame.width(), frame.height(), INPUT_SIDE);
        self.detect_region(frame, letterbox)
    }

    /// Finds the faces in a live camera frame: only around the face `track` follows, at a
    /// small size, and in the whole frame at a reduced size when it follows none or lost it.
    /// A face outside the followed region is not seen while the followed one stays found.
    pub fn detect_tracked(
        &mut self,
        frame: &Frame,
        track: &mut FaceTrack,
    ) -> Result<Vec<DetectedFace>, FaceError> {
        if let Some(region) = track.region(frame.width(), frame.height()) {
            let faces =
                self.detect_region(frame, Letterbox::for_region(region, track::REGION_SIDE))?;
            if !faces.is_empty() {
                track.follow(&faces);
                return Ok(faces);
            }
        }
        let letterbox = Letterbox::for_frame(frame.width(), frame.height(), track::FRAME_SIDE);
        let faces = self.detect_region(frame, letterbox)?;
        track.follow(&faces);
        Ok(faces)
    }

    /// The faces in the part of `frame` that `letterbox` fits into the model input.
    fn detect_region(
        &mut self,
        frame: &Frame,
        letterbox: Letterbox,
    ) -> Result<Vec<DetectedFace>, FaceError> {
        Ok(self
            .detect_regions(&[(frame, letterbox)])?
            .pop()
            .unwrap_or_default())
    }

    /// The faces in each of `parts` (a picture and the letterbox of the part of it fitted into
    /// the model input, every one of the same input size), in one run of a batch: ONNX
    /// Runtime's fixed cost per run and per operator is paid once for the batch (two 288×288
    /// squares take 2.6 ms together against 1.6 ms each alone, face-match/README.md).
    fn detect_regions(
        &mut self,
        parts: &[(&Frame, Letterbox)],
    ) -> Result<Vec<Vec<DetectedFace>>, FaceError> {
        let Some(&(_, first)) = parts.first() else {
            return Ok(Vec::new());
        };
        let (rows, cols) = (first.input_height as usize, first.input_width as usize);
        if parts.iter().any(|(_, lb)| {
            (lb.input_width, lb.input_height) != (first.input_width, first.input_height)
        }) {
            return Err(FaceError::Inference(
                "the pictures of one batch differ in input size".into(),
            ));
        }
        let mut input = Zeroizing::new(vec![0.0f32; parts.len() * first.input_len()]);
        for ((frame, letterbox), slot) in
            parts.iter().zip(input.chunks_exact_mut(first.input_len()))
        {
            letterbox.fill_input(frame, slot)?;
        }
        let tensor = TensorRef::from_array_view(([parts.len(), 3, rows, cols], &input[..]))
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        // Each output holds the pictures' anchors one picture after the other.
        let output = |head: &str, stride: u32, part: usize| -> Result<&[f32], FaceError> {
            let name = format!("{head}_{stride}");
            let values = outputs
                .get(&name)
                .ok_or_else(|| FaceError::Inference(format!("model returned no {name}")))?
                .try_extract_tensor::<f32>()
                .map(|(_, values)| values)
                .map_err(|e| FaceError::Inference(format!("{name}: {e}")))?;
            let each = values.len() / parts.len();
            Ok(&values[part * each..(part + 1) * each])
        };
        let mut found = Vec::with_capacity(parts.len());
        for (part, &(_, letterbox)) in parts.iter().enumerate() {
            let mut faces = Vec::new();
            for stride in STRIDES {
                Head {
                    stride,
                    cls: output("cls", stride, part)?,
                    obj: output("obj", stride, part)?,
                    bbox: output("bbox", stride, part)?,
                    kps: output("kps", stride, part)?,
                }
                .decode_into(self.config.score_threshold, letterbox, &mut faces)?;
            }
            found.push(nms::suppress_overlaps(faces, self.config.nms_iou_threshold));
        }
        Ok(found)
    }
}

/// Checks that `session` takes one N×3×H×W input of free batch, height and width (-1) and has
/// YuNet's twelve outputs.
fn check_interface(session: &Session) -> Result<(), String> {
    match session.inputs() {
        [input] if input.dtype().tensor_shape().map(|s| &s[..]) == Some(&[-1, 3, -1, -1]) => {}
        inputs => {
            let shapes: Vec<String> = inputs
                .iter()
                .map(|i| format!("{} {:?}", i.name(), i.dtype().tensor_shape()))
                .collect();
            return Err(format!(
                "expected one input of shape [batch, 3, height, width], found {shapes:?}"
            ));
        }
    }
    let missing: Vec<String> = ["cls", "obj", "bbox", "kps"]
        .iter()
        .flat_map(|head| STRIDES.map(|stride| format!("{head}_{stride}")))
        .filter(|name| !session.outputs().iter().any(|o| o.name() == name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing outputs {missing:?}; is this YuNet 2023mar?"
        ))
    }
}

#[cfg(test)]
mod mirror_tests {
    use super::DetectedFace;

    #[test]
    fn a_face_found_in_a_mirror_maps_back_with_its_sides_swapped() {
        let face = DetectedFace {
            bbox: (10.0, 20.0, 40.0, 50.0),
            landmarks: [
                (20.0, 30.0),
                (40.0, 31.0),
                (30.0, 40.0),
                (22.0, 55.0),
                (38.0, 56.0),
            ],
            score: 0.9,
        };
        // As YuNet would report the same face in the mirrored 100 px picture.
        let seen = DetectedFace {
            bbox: (50.0, 20.0, 40.0, 50.0),
            landmarks: [
                (59.0, 31.0),
                (79.0, 30.0),
                (69.0, 40.0),
                (61.0, 56.0),
                (77.0, 55.0),
            ],
            score: 0.9,
        };
        assert_eq!(seen.unmirrored(100), face);
    }
}
