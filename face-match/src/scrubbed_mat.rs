//! An OpenCV-allocated `Mat` that is overwritten with zeros before its memory is released.

use opencv::core::{no_array, Mat, MatTrait, Scalar};

/// Owns a `Mat` whose pixel buffer OpenCV allocated (decoder or capture output) and zeroes
/// those pixels when dropped or when [`ScrubbedMat::scrub`] is called.
///
/// Pixels that must outlive the call are copied into an [`Image`](crate::frame::Image), whose
/// buffer zeroizes itself; this guard makes sure the OpenCV copy does not linger.
#[derive(Default)]
pub(crate) struct ScrubbedMat(Mat);

impl ScrubbedMat {
    /// The guarded `Mat`.
    pub(crate) fn mat(&self) -> &Mat {
        &self.0
    }

    /// The guarded `Mat` as an output argument, e.g. for `VideoCapture::read`.
    pub(crate) fn mat_mut(&mut self) -> &mut Mat {
        &mut self.0
    }

    /// Overwrites every pixel with zeros (keeps the allocation for reuse).
    pub(crate) fn scrub(&mut self) {
        scrub(&mut self.0);
    }
}

/// Overwrites every pixel of `mat` with zeros.
pub(crate) fn scrub(mat: &mut impl MatTrait) {
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

impl Drop for ScrubbedMat {
    fn drop(&mut self) {
        self.scrub();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::{MatTraitConst, MatTraitConstManual, CV_8UC3};

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
        let mut pixels = vec![7u8; 4 * 5 * 3];
        // SAFETY: `pixels` outlives the header, which is dropped inside this block.
        let header = unsafe {
            Mat::new_rows_cols_with_data_unsafe_def(4, 5, CV_8UC3, pixels.as_mut_ptr().cast())
        }
        .unwrap();
        drop(ScrubbedMat::from(header));
        assert!(pixels.iter().all(|&b| b == 0));
    }
}
