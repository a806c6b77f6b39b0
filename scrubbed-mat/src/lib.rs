//! An OpenCV `Mat` that is overwritten with zeros before OpenCV releases its memory, for the
//! pixels of faces and card fronts (camera frames, decoded images, crops, masks).
//!
//! ```
//! use opencv::core::{Mat, Scalar, CV_8UC1};
//! use scrubbed_mat::ScrubbedMat;
//!
//! let mut grey = ScrubbedMat::from(Mat::new_rows_cols_with_default(2, 2, CV_8UC1, Scalar::all(9.0))?);
//! grey.scrub(); // zeroed now; and again when dropped
//! # Ok::<(), opencv::Error>(())
//! ```

use std::ops::{Deref, DerefMut};

use opencv::core::{no_array, Mat, MatTrait, Scalar};

/// Owns a `Mat` (typically one whose pixel buffer OpenCV allocated: decoder or capture output,
/// an intermediate image) and zeroes its pixels when dropped or when [`ScrubbedMat::scrub`] is
/// called.
#[derive(Default)]
pub struct ScrubbedMat(Mat);

impl ScrubbedMat {
    /// The guarded `Mat`.
    pub fn mat(&self) -> &Mat {
        &self.0
    }

    /// The guarded `Mat` as an output argument, e.g. for `VideoCapture::read`.
    pub fn mat_mut(&mut self) -> &mut Mat {
        &mut self.0
    }

    /// Overwrites every pixel with zeros (keeps the allocation for reuse).
    pub fn scrub(&mut self) {
        scrub(&mut self.0);
    }
}

/// Overwrites every pixel of `mat` with zeros.
pub fn scrub(mat: &mut impl MatTrait) {
    if !mat.empty() {
        // `set_to` handles every depth, channel count and non-continuous layout. It can only
        // fail on a corrupt header, and there is nothing better to do with the error here.
        let _ = mat.set_to(&Scalar::all(0.0), &no_array());
    }
}

impl From<Mat> for ScrubbedMat {
    fn from(mat: Mat) -> Self {
        Self(mat)
    }
}

impl Deref for ScrubbedMat {
    type Target = Mat;

    fn deref(&self) -> &Mat {
        &self.0
    }
}

impl DerefMut for ScrubbedMat {
    fn deref_mut(&mut self) -> &mut Mat {
        &mut self.0
    }
}

impl Drop for ScrubbedMat {
    fn drop(&mut self) {
        self.scrub();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::{MatTraitConst, MatTraitConstManual, CV_8UC1, CV_8UC3};

    #[test]
    fn scrub_zeroes_every_pixel_and_keeps_the_allocation() {
        let mat = Mat::new_rows_cols_with_default(4, 5, CV_8UC3, Scalar::all(200.0)).unwrap();
        let mut guarded = ScrubbedMat::from(mat);
        guarded.scrub();
        assert!(guarded.mat().data_bytes().unwrap().iter().all(|&b| b == 0));
        assert_eq!(guarded.mat_mut().rows(), 4);
    }

    #[test]
    fn drop_zeroes_the_pixels() {
        for typ in [CV_8UC1, CV_8UC3] {
            let mut pixels = vec![7u8; 4 * 5 * 3];
            // SAFETY: `pixels` (large enough for 3 channels) outlives the header, which is
            // dropped inside this block.
            let header = unsafe {
                Mat::new_rows_cols_with_data_unsafe_def(4, 5, typ, pixels.as_mut_ptr().cast())
            }
            .unwrap();
            let used = header.total() * header.elem_size().unwrap();
            drop(ScrubbedMat::from(header));
            assert!(pixels[..used].iter().all(|&b| b == 0), "type {typ}");
        }
    }
}
