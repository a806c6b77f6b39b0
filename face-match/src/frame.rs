//! Owned 8-bit images (BGR camera frames, greyscale photos) in buffers that zeroize on drop,
//! and borrowed OpenCV `Mat` views of them that never copy the pixels.

use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;

use opencv::boxed_ref::{BoxedRef, BoxedRefMut};
use opencv::core::{Mat, MatTraitConst, MatTraitConstManual, Rect, CV_8UC1, CV_8UC3};
use opencv::imgproc;
use zeroize::Zeroizing;

use crate::scrubbed_mat::scrub;

/// Largest accepted width or height, far above any camera or chip photo; guards allocations.
pub const MAX_SIDE: u32 = 1 << 14;

/// Pixel layout of an [`Image`]: 8 bits per channel, channels interleaved.
pub trait PixelFormat: sealed::Sealed {
    /// Bytes per pixel.
    const CHANNELS: usize;
    /// The matching OpenCV `Mat` type.
    const MAT_TYPE: i32;
    /// Name used in error messages.
    const NAME: &'static str;
}

/// Blue, green, red: OpenCV's and YuNet's channel order.
#[derive(Debug)]
pub enum Bgr8 {}

/// One luminance channel.
#[derive(Debug)]
pub enum Grey8 {}

/// Red, green, blue: SFace's channel order.
#[derive(Debug)]
pub enum Rgb8 {}

impl PixelFormat for Bgr8 {
    const CHANNELS: usize = 3;
    const MAT_TYPE: i32 = CV_8UC3;
    const NAME: &'static str = "BGR8";
}

impl PixelFormat for Rgb8 {
    const CHANNELS: usize = 3;
    const MAT_TYPE: i32 = CV_8UC3;
    const NAME: &'static str = "RGB8";
}

impl PixelFormat for Grey8 {
    const CHANNELS: usize = 1;
    const MAT_TYPE: i32 = CV_8UC1;
    const NAME: &'static str = "GREY8";
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Bgr8 {}
    impl Sealed for super::Grey8 {}
    impl Sealed for super::Rgb8 {}
}

/// A camera frame.
pub type Frame = Image<Bgr8>;
/// A greyscale image, e.g. the photo decoded from the card's chip.
pub type GreyImage = Image<Grey8>;
/// An RGB image, e.g. an aligned face crop for SFace.
pub type RgbImage = Image<Rgb8>;

/// Why an image could not be built or converted.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Zero, negative or absurdly large dimensions.
    #[error("invalid image size {width}×{height} (each side must be 1..={MAX_SIDE})")]
    InvalidSize { width: i64, height: i64 },
    /// The pixel buffer does not match width, height and stride.
    #[error(
        "pixel buffer of {len} bytes does not fit {width}×{height} {format} with stride {stride}"
    )]
    BadLayout {
        width: u32,
        height: u32,
        stride: usize,
        len: usize,
        format: &'static str,
    },
    /// The `Mat` has another element type or is not two-dimensional.
    #[error("expected a 2-D {expected} image, got OpenCV type {actual} with {dims} dimensions")]
    UnsupportedMat {
        expected: &'static str,
        actual: i32,
        dims: i32,
    },
    /// OpenCV wrote its result outside the image's own buffer (it reallocated the output).
    #[error("OpenCV did not write into the provided image buffer")]
    Reallocated,
    /// An OpenCV call failed.
    #[error("OpenCV: {0}")]
    OpenCv(String),
    /// An image encoder or decoder failed.
    #[error("image codec: {0}")]
    Codec(String),
}

impl From<opencv::Error> for FrameError {
    fn from(e: opencv::Error) -> Self {
        Self::OpenCv(e.message)
    }
}

/// An owned, row-major 8-bit image whose buffer is zeroized when dropped.
///
/// Rows start every `stride` bytes; each row holds `width × channels` pixel bytes followed by
/// padding. `Debug` prints the geometry only, never pixels.
pub struct Image<P: PixelFormat> {
    width: u32,
    height: u32,
    stride: usize,
    data: Zeroizing<Vec<u8>>,
    format: PhantomData<P>,
}

impl<P: PixelFormat> Image<P> {
    /// This image mirrored left to right, as a new zeroizing image (test-time mirroring of
    /// single pictures: the detector's closer look and the embedding of their crops; EXIF
    /// orientations).
    pub fn mirrored(&self) -> Result<Self, FrameError> {
        let src = self.as_mat()?;
        let mut out = Self::zeroed(self.width(), self.height())?;
        out.write_region(out.full_region(), |dst| opencv::core::flip(&src, dst, 1))?;
        Ok(out)
    }

    /// This image turned by OpenCV's rotation `code` (`ROTATE_90_CLOCKWISE`, `ROTATE_180`,
    /// `ROTATE_90_COUNTERCLOCKWISE`), as a new zeroizing image.
    pub(crate) fn rotated(&self, code: i32) -> Result<Self, FrameError> {
        let (width, height) = if code == opencv::core::ROTATE_180 {
            (self.width, self.height)
        } else {
            (self.height, self.width)
        };
        let src = self.as_mat()?;
        let mut out = Self::zeroed(width, height)?;
        out.write_region(out.full_region(), |dst| {
            opencv::core::rotate(&src, dst, code)
        })?;
        Ok(out)
    }

    /// A black image with packed rows.
    pub fn zeroed(width: u32, height: u32) -> Result<Self, FrameError> {
        check_size(width.into(), height.into())?;
        let stride = width as usize * P::CHANNELS;
        let data = Zeroizing::new(vec![0; stride * height as usize]);
        Self::from_raw(width, height, stride, data)
    }

    /// Wraps an existing buffer (e.g. from a capture API) without copying it.
    pub fn from_raw(
        width: u32,
        height: u32,
        stride: usize,
        data: Zeroizing<Vec<u8>>,
    ) -> Result<Self, FrameError> {
        check_size(width.into(), height.into())?;
        let fits = stride >= width as usize * P::CHANNELS
            && stride
                .checked_mul(height as usize)
                .is_some_and(|needed| needed <= data.len());
        if !fits {
            return Err(FrameError::BadLayout {
                width,
                height,
                stride,
                len: data.len(),
                format: P::NAME,
            });
        }
        Ok(Self {
            width,
            height,
            stride,
            data,
            format: PhantomData,
        })
    }

    /// Copies a `Mat` of the matching type (`CV_8UC3` for [`Frame`], `CV_8UC1` for
    /// [`GreyImage`]) into a new packed image. The caller scrubs the source if OpenCV
    /// allocated it (see `ScrubbedMat`).
    pub fn from_mat(mat: &impl MatTraitConst) -> Result<Self, FrameError> {
        if mat.typ() != P::MAT_TYPE || mat.dims() != 2 {
            return Err(FrameError::UnsupportedMat {
                expected: P::NAME,
                actual: mat.typ(),
                dims: mat.dims(),
            });
        }
        check_size(mat.cols().into(), mat.rows().into())?;
        // Both sides were just checked to lie in 1..=MAX_SIDE.
        let mut image = Self::zeroed(mat.cols() as u32, mat.rows() as u32)?;
        let stride = image.stride;
        for (y, dst) in image.data.chunks_exact_mut(stride).enumerate() {
            // A single row is always continuous, whatever the parent's layout.
            let row = mat.row(y as i32)?;
            dst.copy_from_slice(row.data_bytes()?);
        }
        Ok(image)
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from the start of one row to the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// All pixel bytes, row after row, if the rows have no padding (as in every image this
    /// crate makes with [`Image::zeroed`]).
    pub fn packed_bytes(&self) -> Option<&[u8]> {
        let row = self.width as usize * P::CHANNELS;
        (self.stride == row).then(|| &self.data[..row * self.height as usize])
    }

    /// The pixel bytes of row `y` (without padding), or `None` past the last row.
    pub fn row(&self, y: u32) -> Option<&[u8]> {
        (y < self.height).then(|| {
            let start = y as usize * self.stride;
            &self.data[start..start + self.width as usize * P::CHANNELS]
        })
    }

    /// A `Mat` header over this image's pixels (no copy); it cannot outlive the image.
    pub fn as_mat(&self) -> Result<BoxedRef<'_, Mat>, FrameError> {
        // SAFETY: the header points into `self.data`, which `from_raw` checked to hold
        // `height` rows of `stride` bytes; the returned `BoxedRef` borrows `self`, so the
        // buffer outlives the header and is not mutated while it exists, and `BoxedRef`
        // only exposes OpenCV's const `Mat` API.
        let mat = unsafe {
            Mat::new_rows_cols_with_data_unsafe(
                self.height as i32,
                self.width as i32,
                P::MAT_TYPE,
                self.data.as_ptr().cast::<c_void>().cast_mut(),
                self.stride,
            )
        }?;
        Ok(BoxedRef::from(mat))
    }

    /// Lets an OpenCV function write into `region` of this image's own buffer, through a
    /// `Mat` header over it; fails if OpenCV put the result elsewhere (which would leave
    /// pixels in memory this image does not control).
    pub(crate) fn write_region(
        &mut self,
        region: Rect,
        op: impl FnOnce(&mut BoxedRefMut<'_, Mat>) -> opencv::Result<()>,
    ) -> Result<(), FrameError> {
        // SAFETY: as in `as_mat`; the header lives only inside this function while `self`
        // is mutably borrowed, so nothing else reads or writes the buffer meanwhile.
        let mut whole = unsafe {
            Mat::new_rows_cols_with_data_unsafe(
                self.height as i32,
                self.width as i32,
                P::MAT_TYPE,
                self.data.as_mut_ptr().cast::<c_void>(),
                self.stride,
            )
        }?;
        let mut target = Mat::roi_mut(&mut whole, region)?;
        let expected = target.data();
        op(&mut target)?;
        if target.data() != expected {
            scrub(&mut target);
            return Err(FrameError::Reallocated);
        }
        Ok(())
    }

    /// This image scaled to fit inside `width`×`height` (aspect kept, area interpolation),
    /// centred on black: e.g. a preview, or a photo placed in a camera-sized frame.
    pub fn fit_into(&self, width: u32, height: u32) -> Result<Self, FrameError> {
        self.placed_in(width, height, f64::INFINITY)
    }

    /// As [`Image::fit_into`], but enlarged at most `max_scale` times.
    pub fn placed_in(&self, width: u32, height: u32, max_scale: f64) -> Result<Self, FrameError> {
        let mut canvas = Self::zeroed(width, height)?;
        let scale = (f64::from(width) / f64::from(self.width))
            .min(f64::from(height) / f64::from(self.height))
            .min(max_scale);
        let fit = |len: u32, limit: u32| ((f64::from(len) * scale).round() as u32).clamp(1, limit);
        let (w, h) = (fit(self.width, width), fit(self.height, height));
        let region = Rect::new(
            ((width - w) / 2) as i32,
            ((height - h) / 2) as i32,
            w as i32,
            h as i32,
        );
        let src = self.as_mat()?;
        canvas.write_region(region, |dst| {
            imgproc::resize(
                &src,
                dst,
                opencv::core::Size::new(w as i32, h as i32),
                0.0,
                0.0,
                imgproc::INTER_AREA,
            )
        })?;
        Ok(canvas)
    }

    /// This picture in another pixel format through OpenCV's colour conversion `code`, as a
    /// new zeroizing image.
    pub(crate) fn converted<Q: PixelFormat>(&self, code: i32) -> Result<Image<Q>, FrameError> {
        let mut out = Image::<Q>::zeroed(self.width, self.height)?;
        let src = self.as_mat()?;
        out.write_region(out.full_region(), |dst| {
            imgproc::cvt_color(&src, dst, code, 0)
        })?;
        Ok(out)
    }

    /// The whole image as a region for [`Image::write_region`].
    pub(crate) fn full_region(&self) -> Rect {
        Rect::new(0, 0, self.width as i32, self.height as i32)
    }
}

impl Frame {
    /// The same picture with its channels in RGB order (the embedder's input, image files).
    pub fn to_rgb(&self) -> Result<RgbImage, FrameError> {
        self.converted(imgproc::COLOR_BGR2RGB)
    }
}

impl GreyImage {
    /// The same picture as a three-channel [`Frame`] (e.g. to run the detector on a photo).
    pub fn to_bgr(&self) -> Result<Frame, FrameError> {
        self.converted(imgproc::COLOR_GRAY2BGR)
    }
}

impl<P: PixelFormat> fmt::Debug for Image<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("format", &P::NAME)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("stride", &self.stride)
            .finish_non_exhaustive()
    }
}

fn check_size(width: i64, height: i64) -> Result<(), FrameError> {
    let ok = |side: i64| (1..=i64::from(MAX_SIDE)).contains(&side);
    if ok(width) && ok(height) {
        Ok(())
    } else {
        Err(FrameError::InvalidSize { width, height })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use opencv::core::{MatTrait, Scalar, Vec3b, CV_16UC1};
    use std::path::PathBuf;

    /// `shared/face-eval` next to the workspace.
    pub(crate) fn face_eval() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/face-eval")
    }

    /// An ORL image (92×112) in greyscale, as an OpenCV `Mat`.
    pub(crate) fn orl_grey_mat() -> Mat {
        let path = face_eval().join("orl/s1/1.pgm");
        let frame = crate::decode_image_file(&path).unwrap();
        let mut mat = Mat::default();
        imgproc::cvt_color_def(&frame.as_mat().unwrap(), &mut mat, imgproc::COLOR_BGR2GRAY)
            .unwrap();
        assert_eq!(
            (mat.cols(), mat.rows()),
            (92, 112),
            "{} missing?",
            path.display()
        );
        mat
    }

    #[test]
    fn from_raw_checks_the_layout() {
        let buf = |n: usize| Zeroizing::new(vec![0u8; n]);
        assert!(Frame::from_raw(4, 2, 12, buf(24)).is_ok());
        assert!(Frame::from_raw(4, 2, 16, buf(32)).is_ok(), "padded rows");
        assert!(matches!(
            Frame::from_raw(4, 2, 11, buf(24)),
            Err(FrameError::BadLayout { .. })
        ));
        assert!(matches!(
            Frame::from_raw(4, 2, 12, buf(23)),
            Err(FrameError::BadLayout { .. })
        ));
        assert!(matches!(
            GreyImage::from_raw(0, 2, 0, buf(0)),
            Err(FrameError::InvalidSize { .. })
        ));
        assert!(matches!(
            GreyImage::zeroed(MAX_SIDE + 1, 1),
            Err(FrameError::InvalidSize { .. })
        ));
    }

    #[test]
    fn mat_view_shares_the_buffer_including_padding() {
        // 2×2 BGR with 8-byte rows (2 bytes of padding).
        let data = Zeroizing::new(vec![1, 2, 3, 4, 5, 6, 99, 99, 7, 8, 9, 10, 11, 12, 99, 99]);
        let frame = Frame::from_raw(2, 2, 8, data).unwrap();
        let mat = frame.as_mat().unwrap();
        assert_eq!(mat.data(), frame.row(0).unwrap().as_ptr(), "no copy");
        assert_eq!(
            *mat.at_2d::<Vec3b>(1, 1).unwrap(),
            Vec3b::from([10, 11, 12])
        );
        let copy = Frame::from_mat(&mat).unwrap();
        assert_eq!(copy.stride(), 6, "copies are packed");
        assert_eq!(copy.row(1).unwrap(), &[7, 8, 9, 10, 11, 12]);
        assert_eq!(copy.row(2), None);
    }

    #[test]
    fn from_mat_copies_a_non_continuous_roi() {
        let grey = orl_grey_mat();
        let roi = Mat::roi(&grey, Rect::new(10, 20, 30, 40)).unwrap();
        assert!(!roi.is_continuous());
        let image = GreyImage::from_mat(&roi).unwrap();
        assert_eq!((image.width(), image.height()), (30, 40));
        assert_eq!(
            image.row(5).unwrap(),
            grey.row(25).unwrap().data_bytes().unwrap()[10..40].to_vec()
        );
    }

    #[test]
    fn from_mat_rejects_other_types() {
        let wide = Mat::new_rows_cols_with_default(2, 2, CV_16UC1, Scalar::all(1.0)).unwrap();
        assert!(matches!(
            GreyImage::from_mat(&wide),
            Err(FrameError::UnsupportedMat { .. })
        ));
        assert!(matches!(
            Frame::from_mat(&orl_grey_mat()),
            Err(FrameError::UnsupportedMat { .. })
        ));
        assert!(matches!(
            Frame::from_mat(&Mat::default()),
            Err(FrameError::UnsupportedMat { .. } | FrameError::InvalidSize { .. })
        ));
    }

    #[test]
    fn grey_to_bgr_repeats_the_channel() {
        let grey = GreyImage::from_mat(&orl_grey_mat()).unwrap();
        let bgr = grey.to_bgr().unwrap();
        assert_eq!((bgr.width(), bgr.height()), (92, 112));
        for y in [0, 50, 111] {
            let expanded: Vec<u8> = grey.row(y).unwrap().iter().flat_map(|&v| [v; 3]).collect();
            assert_eq!(bgr.row(y).unwrap(), expanded);
        }
    }

    #[test]
    fn write_region_writes_in_place() {
        let mut frame = Frame::zeroed(4, 3).unwrap();
        frame
            .write_region(Rect::new(1, 1, 2, 1), |dst| {
                dst.set_to(&Scalar::new(1.0, 2.0, 3.0, 0.0), &opencv::core::no_array())
                    .map(|_| ())
            })
            .unwrap();
        assert_eq!(frame.row(0).unwrap(), [0; 12]);
        assert_eq!(frame.row(1).unwrap(), [0, 0, 0, 1, 2, 3, 1, 2, 3, 0, 0, 0]);
        assert!(frame
            .write_region(Rect::new(3, 0, 2, 1), |_| Ok(()))
            .is_err());
    }

    #[test]
    fn write_region_refuses_a_result_outside_the_buffer() {
        let mut frame = Frame::zeroed(4, 3).unwrap();
        let err = frame
            .write_region(frame.full_region(), |dst| {
                // A different size forces OpenCV to reallocate the output.
                let big = Mat::new_rows_cols_with_default(8, 8, CV_8UC3, Scalar::all(9.0))?;
                big.copy_to(dst)
            })
            .unwrap_err();
        assert!(matches!(err, FrameError::Reallocated));
        assert_eq!(frame.row(2).unwrap(), [0; 12]);
    }

    #[test]
    fn fit_into_keeps_the_aspect_and_centres() {
        let grey = GreyImage::from_mat(&orl_grey_mat()).unwrap();
        // 92×112 into 200×224: scale 2 → 184×224, 8 px black either side.
        let fitted = grey.fit_into(200, 224).unwrap();
        assert_eq!((fitted.width(), fitted.height()), (200, 224));
        let row = fitted.row(100).unwrap();
        assert!(row[..8].iter().chain(&row[192..]).all(|&v| v == 0));
        assert!(row[8..192].iter().any(|&v| v > 0));
        let mean = |image: &GreyImage, cols: std::ops::Range<usize>| {
            let sum: u64 = (0..image.height())
                .flat_map(|y| image.row(y).unwrap()[cols.clone()].to_vec())
                .map(u64::from)
                .sum();
            sum as f64 / (cols.len() as f64 * f64::from(image.height()))
        };
        assert!((mean(&fitted, 8..192) - mean(&grey, 0..92)).abs() < 2.0);
    }

    #[test]
    fn debug_shows_geometry_not_pixels() {
        let data = Zeroizing::new(vec![0xAB; 6]);
        let text = format!("{:?}", Frame::from_raw(2, 1, 6, data).unwrap());
        assert!(text.contains("width: 2") && text.contains("BGR8"), "{text}");
        assert!(!text.contains("171"), "{text}");
    }

    #[test]
    fn a_mirror_reverses_each_row_and_twice_gives_the_image_back() {
        let mut pixels = Vec::new();
        for y in 0..3u8 {
            for x in 0..4u8 {
                pixels.extend([x, y, 10 * x + y]);
            }
        }
        let frame = Frame::from_raw(4, 3, 12, Zeroizing::new(pixels)).unwrap();
        let mirror = frame.mirrored().unwrap();
        for y in 0..3 {
            let (row, back) = (frame.row(y).unwrap(), mirror.row(y).unwrap());
            for x in 0..4 {
                assert_eq!(row[3 * x..3 * x + 3], back[3 * (3 - x)..3 * (3 - x) + 3]);
            }
        }
        let twice = mirror.mirrored().unwrap();
        for y in 0..3 {
            assert_eq!(twice.row(y), frame.row(y));
        }
    }
}
