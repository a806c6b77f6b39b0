//! OpenCV `Mat`s that held card-front pixels (grey photo, rectified card, field crops, ink
//! masks) are overwritten with zeros before OpenCV releases their memory. The same pattern as
//! face-match's `ScrubbedMat`; card-front depends on no other workspace crate, so it has its own.

use opencv::core::{no_array, Mat, MatTrait, MatTraitConst, Scalar};
use std::ops::{Deref, DerefMut};

/// A `Mat` whose pixels are zeroed when it is dropped.
#[derive(Default)]
pub struct ScrubbedMat(Mat);

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
        if !self.0.empty() {
            // `set_to` handles every depth, channel count and layout; it fails only on a
            // corrupt header, and a destructor has nothing better to do with that error.
            let _ = self.0.set_to(&Scalar::all(0.0), &no_array());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::CV_8UC1;

    #[test]
    fn drop_zeroes_the_pixels() {
        let mut pixels = vec![7u8; 4 * 5];
        // SAFETY: `pixels` outlives the header, which is dropped inside this statement.
        let header = unsafe {
            Mat::new_rows_cols_with_data_unsafe_def(4, 5, CV_8UC1, pixels.as_mut_ptr().cast())
        }
        .unwrap();
        drop(ScrubbedMat::from(header));
        assert!(pixels.iter().all(|&b| b == 0));
    }
}
