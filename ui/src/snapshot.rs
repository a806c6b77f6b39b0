//! Renders [`KioskWindow`] into an image without a display, for screenshots and pixel checks.
//!
//! Each call renders on a thread of its own with a software-rendered platform, so it works
//! whatever Slint backend the calling thread uses (Slint's platform is per thread).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::rc::Rc;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, PlatformError, SetPlatformError, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, Rgb8Pixel};

use crate::KioskWindow;

/// Why a snapshot could not be made or saved.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot install the snapshot platform: {0}")]
    SetPlatform(#[from] SetPlatformError),
    #[error("cannot create the window: {0}")]
    Platform(#[from] PlatformError),
    #[error("the window did not draw")]
    NotDrawn,
    #[error("cannot write the PNG: {0}")]
    Png(#[from] png::EncodingError),
    #[error("cannot create the PNG file: {0}")]
    Io(#[from] std::io::Error),
}

/// A rendered frame: `pixels` holds `width * height` pixels, row by row from the top.
pub struct Snapshot {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<Rgb8Pixel>,
}

impl Snapshot {
    /// Saves the frame as an 8-bit RGB PNG.
    pub fn write_png(&self, path: &Path) -> Result<(), SnapshotError> {
        let mut encoder =
            png::Encoder::new(BufWriter::new(File::create(path)?), self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        let bytes: Vec<u8> = self.pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        writer.write_image_data(&bytes)?;
        writer.finish()?;
        Ok(())
    }
}

/// Renders a `width`×`height` frame of a new [`KioskWindow`] after `setup` has set its
/// properties (screen, messages, …). The window already has its size when `setup` runs.
pub fn render(
    width: u32,
    height: u32,
    setup: impl FnOnce(&KioskWindow) + Send,
) -> Result<Snapshot, SnapshotError> {
    std::thread::scope(|scope| {
        scope
            .spawn(move || render_here(width, height, setup))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// [`render`], then [`Snapshot::write_png`] to `path`.
pub fn render_png(
    path: &Path,
    width: u32,
    height: u32,
    setup: impl FnOnce(&KioskWindow) + Send,
) -> Result<(), SnapshotError> {
    render(width, height, setup)?.write_png(path)
}

/// One window, drawn by the software renderer into memory.
struct SnapshotPlatform {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for SnapshotPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }
}

/// Renders on the current thread, which must not have a Slint platform yet.
fn render_here(
    width: u32,
    height: u32,
    setup: impl FnOnce(&KioskWindow),
) -> Result<Snapshot, SnapshotError> {
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(SnapshotPlatform {
        window: window.clone(),
    }))?;
    let kiosk = KioskWindow::new()?;
    window.set_size(PhysicalSize::new(width, height));
    setup(&kiosk);
    kiosk.show()?;
    slint::platform::update_timers_and_animations();
    window.request_redraw();
    let mut pixels = vec![Rgb8Pixel::default(); width as usize * height as usize];
    let drawn = window.draw_if_needed(|renderer| {
        renderer.render(&mut pixels, width as usize);
    });
    kiosk.hide()?;
    if !drawn {
        return Err(SnapshotError::NotDrawn);
    }
    Ok(Snapshot {
        width,
        height,
        pixels,
    })
}
