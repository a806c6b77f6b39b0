//! The face screen's guide oval from `[camera]` and `[face.quality]`: sized for a comfortable
//! face and centred where the quality gate wants the face.

use face_match::QualityConfig;

use super::face_port::PREVIEW;
use crate::config::CameraConfig;

/// The oval is this many times the smallest face the gate accepts: a face filling it is well
/// above the limit, and a barely accepted one fills half of it.
pub const OVAL_PER_MIN_FACE: f32 = 2.0;

/// Where the oval goes on the preview of `camera`'s frames.
pub fn face_guide(camera: &CameraConfig, quality: &QualityConfig) -> ui::FaceGuide {
    let frame = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    ui::FaceGuide {
        frame_width: frame(camera.width),
        frame_height: frame(camera.height),
        preview_width: frame(PREVIEW.0),
        preview_height: frame(PREVIEW.1),
        oval_width: OVAL_PER_MIN_FACE * quality.min_face_px,
        center_x: quality.guide_oval.center_x,
        center_y: quality.guide_oval.center_y,
    }
}

#[cfg(test)]
mod tests {
    use i_slint_backend_testing::ElementHandle;
    use slint::{ComponentHandle, LogicalSize};

    use super::*;

    /// The oval's (x, y, width, height) in the camera box on the face screen of a
    /// `size` window, for `camera` and `quality`.
    fn oval(
        camera: &CameraConfig,
        quality: &QualityConfig,
        size: (f32, f32),
    ) -> (f32, f32, f32, f32) {
        thread_local! {
            static BACKEND: () = i_slint_backend_testing::init_no_event_loop();
        }
        BACKEND.with(|_| ());
        let w = ui::KioskWindow::new().unwrap();
        w.window().set_size(LogicalSize::new(size.0, size.1));
        w.set_screen(ui::Screen::FaceCapture);
        w.set_face_guide(face_guide(camera, quality));
        let find = |id| {
            let e = ElementHandle::find_by_element_id(&w, id)
                .next()
                .unwrap_or_else(|| panic!("{id} not shown"));
            (e.absolute_position(), e.size())
        };
        let (at, _) = find("FaceCaptureScreen::camera");
        let (p, s) = find("FaceCaptureScreen::oval");
        (p.x - at.x, p.y - at.y, s.width, s.height)
    }

    fn camera(width: u32, height: u32) -> CameraConfig {
        CameraConfig {
            width,
            height,
            ..CameraConfig::default()
        }
    }

    fn near(found: (f32, f32, f32, f32), want: (f32, f32, f32, f32)) {
        let close = |a: f32, b: f32| (a - b).abs() < 0.6;
        assert!(
            close(found.0, want.0)
                && close(found.1, want.1)
                && close(found.2, want.2)
                && close(found.3, want.3),
            "oval at {found:?}, want {want:?}"
        );
    }

    #[test]
    fn the_oval_is_twice_the_smallest_accepted_face_where_the_gate_wants_it() {
        // 640×480 into the 320×240 preview (½), the preview covering the 420×520 box
        // (×520/240): a frame pixel is 13/12 px and the frame's left edge is at
        // (420 − 640·13/12)/2 = −136.7 px. The 80 px minimum gives a 160 px oval, 173.3 px
        // wide, 225.3 high, centred at (−136.7 + 320·13/12, 0.45·480·13/12) = (210, 234).
        let quality = QualityConfig::default();
        let (w, h) = (173.33, 225.33);
        near(
            oval(&camera(640, 480), &quality, (1280.0, 800.0)),
            (210.0 - w / 2.0, 234.0 - h / 2.0, w, h),
        );
        // A barely accepted face is half as wide as the oval.
        let shown_min_face = quality.min_face_px * 13.0 / 12.0;
        assert!((shown_min_face * OVAL_PER_MIN_FACE - w).abs() < 0.6);
        // The 800×480 panel scales the whole screen by 0.6.
        near(
            oval(&camera(640, 480), &quality, (800.0, 480.0)),
            (
                0.6 * (210.0 - w / 2.0),
                0.6 * (234.0 - h / 2.0),
                0.6 * w,
                0.6 * h,
            ),
        );
    }

    #[test]
    fn the_oval_follows_a_wide_camera_and_a_moved_guide() {
        // 1280×720 letterboxed into 320×180 (¼) with 30 px bars, covering the box ×13/6: a
        // frame pixel is 13/24 px; the frame's corner is at ((420 − 1280·13/24)/2,
        // (520 − 720·13/24)/2) = (−136.7, 65). A 100 px minimum gives a 200 px oval,
        // 108.3 wide, 140.8 high, centred at (−136.7 + 0.6·1280·13/24, 65 + 0.4·720·13/24)
        // = (279.3, 221).
        let mut quality = QualityConfig {
            min_face_px: 100.0,
            ..QualityConfig::default()
        };
        quality.guide_oval.center_x = 0.6;
        quality.guide_oval.center_y = 0.4;
        let (w, h) = (108.33, 140.83);
        near(
            oval(&camera(1280, 720), &quality, (1280.0, 800.0)),
            (279.33 - w / 2.0, 221.0 - h / 2.0, w, h),
        );
    }

    #[test]
    fn an_oval_larger_than_the_preview_is_cut_to_the_camera_box() {
        let quality = QualityConfig {
            min_face_px: 400.0,
            ..QualityConfig::default()
        };
        let (x, _, w, h) = oval(&camera(640, 480), &quality, (1280.0, 800.0));
        assert_eq!((w, h), (420.0, 520.0));
        assert!(x.abs() < 0.6, "still centred: {x}");
    }
}
