//! A V4L2 camera through the kernel's interface directly (`v4l`: ioctls and memory-mapped
//! buffers), in YUYV or, where the camera offers only that, Motion JPEG.

use std::path::PathBuf;
use std::time::Duration;

use opencv::core::{Mat, CV_8UC2};
use opencv::imgproc;
use v4l::buffer::Type;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::capture::Parameters;
use v4l::video::Capture;
use v4l::{Device, FourCC};

use super::{CameraError, CameraSource};
use crate::frame::Frame;

/// Buffers the driver fills in turn.
const BUFFERS: u32 = 4;
/// Longest wait for the first frame: some cameras take seconds to start streaming (OpenCV's
/// V4L2 backend, used before, waited 10 s).
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for each later frame before the camera counts as stopped (unplugged, hung).
const FRAME_TIMEOUT: Duration = Duration::from_secs(2);

/// Which V4L2 camera to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraDevice {
    /// `/dev/video<N>`.
    Index(u32),
    /// A device node such as `/dev/video2` or a `/dev/v4l/by-id/…` link.
    Path(PathBuf),
}

impl CameraDevice {
    fn node(&self) -> PathBuf {
        match self {
            Self::Index(index) => PathBuf::from(format!("/dev/video{index}")),
            Self::Path(path) => path.clone(),
        }
    }
}

/// Requested capture format; the driver may pick the nearest one it supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSettings {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for CaptureSettings {
    fn default() -> Self {
        Self {
            width: 640,
            height: 480,
            fps: 30,
        }
    }
}

/// The pixel formats read, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PixelFormat {
    /// 4:2:2 luma and chroma, two bytes a pixel.
    Yuyv,
    /// Each frame a JPEG image (without Huffman tables, as UVC cameras send it).
    Mjpeg,
}

impl PixelFormat {
    fn fourcc(self) -> FourCC {
        FourCC::new(match self {
            Self::Yuyv => b"YUYV",
            Self::Mjpeg => b"MJPG",
        })
    }
}

/// A V4L2 camera streaming into memory-mapped buffers.
pub struct V4l2Source {
    stream: Stream<'static>,
    format: PixelFormat,
    width: u32,
    height: u32,
    stride: usize,
    origin: String,
    delivered: bool,
}

impl V4l2Source {
    /// Opens `device`, asks for `settings` in YUYV (else Motion JPEG) and starts streaming.
    pub fn open(device: &CameraDevice, settings: CaptureSettings) -> Result<Self, CameraError> {
        let node = device.node();
        let origin = node.display().to_string();
        if !node.exists() {
            return Err(CameraError::NotFound { origin });
        }
        let unavailable = |reason: String| CameraError::Unavailable {
            origin: origin.clone(),
            reason,
        };
        let dev = Device::with_path(&node).map_err(|e| unavailable(e.to_string()))?;
        let mut wanted = dev
            .format()
            .map_err(|e| unavailable(format!("not a V4L2 capture device ({e})")))?;
        wanted.width = settings.width;
        wanted.height = settings.height;
        let mut chosen = None;
        for format in [PixelFormat::Yuyv, PixelFormat::Mjpeg] {
            wanted.fourcc = format.fourcc();
            let got = dev
                .set_format(&wanted)
                .map_err(|e| unavailable(format!("cannot set the format ({e}); busy?")))?;
            if got.fourcc == wanted.fourcc {
                chosen = Some((format, got));
                break;
            }
        }
        let (format, got) = chosen
            .ok_or_else(|| unavailable("offers neither YUYV nor Motion JPEG frames".to_string()))?;
        // A camera without frame-rate control keeps its own rate.
        let _ = dev.set_params(&Parameters::with_fps(settings.fps.max(1)));
        let mut stream = Stream::with_buffers(&dev, Type::VideoCapture, BUFFERS)
            .map_err(|e| unavailable(format!("cannot map its buffers ({e})")))?;
        stream.set_timeout(FIRST_FRAME_TIMEOUT);
        Ok(Self {
            stream,
            format,
            width: got.width,
            height: got.height,
            // A driver that reports no line length packs its rows.
            stride: (got.stride as usize).max(got.width as usize * 2),
            origin,
            delivered: false,
        })
    }
}

impl CameraSource for V4l2Source {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let (bytes, meta) = match self.stream.next() {
            Ok(next) => next,
            Err(_) => {
                let origin = self.origin.clone();
                return Err(match self.delivered {
                    true => CameraError::Stopped { origin },
                    false => CameraError::NoFrames { origin },
                });
            }
        };
        let used = (meta.bytesused as usize).min(bytes.len());
        let frame = match self.format {
            PixelFormat::Yuyv => yuyv_to_bgr(&bytes[..used], self.width, self.height, self.stride),
            PixelFormat::Mjpeg => crate::image_file::decode_motion_jpeg(&bytes[..used]),
        }
        .map_err(|reason| CameraError::Decode {
            origin: self.origin.clone(),
            reason,
        })?;
        if !self.delivered {
            self.stream.set_timeout(FRAME_TIMEOUT);
            self.delivered = true;
        }
        Ok(frame)
    }
}

/// A YUYV (4:2:2) buffer of `width`×`height` pixels, rows `stride` bytes apart, as BGR.
fn yuyv_to_bgr(bytes: &[u8], width: u32, height: u32, stride: usize) -> Result<Frame, String> {
    let needed = stride.checked_mul(height as usize);
    if !width.is_multiple_of(2)
        || stride < width as usize * 2
        || needed.is_none_or(|n| n > bytes.len())
    {
        return Err(format!(
            "a YUYV frame of {}×{height} (stride {stride}) in {} bytes",
            width,
            bytes.len()
        ));
    }
    let mut frame = Frame::zeroed(width, height).map_err(|e| e.to_string())?;
    // SAFETY: the header only reads `height` rows of `stride` bytes, which were just checked
    // to lie inside `bytes`; it is dropped before this function returns, while `bytes` is
    // still borrowed, and OpenCV only reads from a conversion's source.
    let src = unsafe {
        Mat::new_rows_cols_with_data_unsafe(
            height as i32,
            width as i32,
            CV_8UC2,
            bytes.as_ptr().cast_mut().cast(),
            stride,
        )
    }
    .map_err(|e| e.message)?;
    frame
        .write_region(frame.full_region(), |dst| {
            imgproc::cvt_color(&src, dst, imgproc::COLOR_YUV2BGR_YUYV, 0)
        })
        .map_err(|e| e.to_string())?;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_becomes_bgr_with_bt601_levels() {
        // Two rows of 4 pixels, 2 bytes of padding each: black, white, then a saturated
        // red pair (Y 81, U 90, V 240) and a mid grey pair.
        let row = [16, 128, 16, 128, 235, 128, 235, 128, 0, 0];
        let red_grey = [81, 90, 81, 240, 126, 128, 126, 128, 0, 0];
        let mut bytes = row.to_vec();
        bytes.extend_from_slice(&red_grey);
        let frame = yuyv_to_bgr(&bytes, 4, 2, 10).unwrap();
        let top = frame.row(0).unwrap();
        assert!(top[..6].iter().all(|&v| v <= 2), "black: {top:?}");
        assert!(top[6..].iter().all(|&v| v >= 253), "white: {top:?}");
        let bottom = frame.row(1).unwrap();
        let (b, g, r) = (bottom[0], bottom[1], bottom[2]);
        assert!(r > 240 && g < 15 && b < 15, "red: {:?}", &bottom[..6]);
        assert!(
            bottom[6..].iter().all(|&v| v.abs_diff(128) <= 2),
            "grey: {bottom:?}"
        );
    }

    #[test]
    fn a_short_or_odd_yuyv_buffer_is_refused() {
        assert!(yuyv_to_bgr(&[0; 15], 4, 2, 8).is_err());
        assert!(yuyv_to_bgr(&[0; 16], 4, 2, 6).is_err());
        assert!(yuyv_to_bgr(&[0; 12], 3, 2, 6).is_err());
    }
}
