//! Rendering the window to pixels without a display: the Japanese text must really be drawn
//! (without a CJK font Slint drops the glyphs silently).

use std::sync::Mutex;

use i_slint_backend_testing::ElementHandle;
use slint::Rgb8Pixel;
use ui::snapshot::{self, Snapshot};
use ui::Screen;

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 800;

/// Pixel rectangle: x, y, width, height.
type Area = (u32, u32, u32, u32);

fn is_dark(p: &Rgb8Pixel) -> bool {
    (u32::from(p.r) * 299 + u32::from(p.g) * 587 + u32::from(p.b) * 114) / 1000 < 96
}

/// Dark pixels inside `area`, and how many columns have at least one.
fn ink(snapshot: &Snapshot, (x0, y0, w, h): Area) -> (usize, usize) {
    let mut count = 0;
    let mut columns = 0;
    for x in x0..x0 + w {
        let dark = (y0..y0 + h)
            .filter(|&y| is_dark(&snapshot.pixels[(y * snapshot.width + x) as usize]))
            .count();
        count += dark;
        columns += usize::from(dark > 0);
    }
    (count, columns)
}

/// Renders `screen` and returns the frame with the area of the element `id`.
fn render_with_area(screen: Screen, id: &str) -> (Snapshot, Area) {
    let area = Mutex::new(None);
    let snapshot = snapshot::render(WIDTH, HEIGHT, |kiosk| {
        kiosk.set_screen(screen);
        let element = ElementHandle::find_by_element_id(kiosk, id)
            .next()
            .expect(id);
        let (at, size) = (element.absolute_position(), element.size());
        *area.lock().unwrap() = Some((
            at.x as u32,
            at.y as u32,
            size.width as u32,
            size.height as u32,
        ));
    })
    .unwrap();
    let area = area.into_inner().unwrap().unwrap();
    (snapshot, area)
}

#[test]
fn waiting_screen_draws_japanese_glyphs() {
    let (snapshot, area) = render_with_area(Screen::Waiting, "WaitingScreen::prompt");
    assert_eq!((snapshot.width, snapshot.height), (WIDTH, HEIGHT));
    assert_eq!(snapshot.pixels.len(), (WIDTH * HEIGHT) as usize);

    // Not blank: the white page and the dark bars are both there.
    let white = snapshot
        .pixels
        .iter()
        .filter(|p| (p.r, p.g, p.b) == (255, 255, 255))
        .count();
    let dark = snapshot.pixels.iter().filter(|p| is_dark(p)).count();
    assert!(white > snapshot.pixels.len() / 3, "white pixels: {white}");
    assert!(dark > snapshot.pixels.len() / 20, "dark pixels: {dark}");

    // The 17 characters of the prompt at 56 px: strokes over several hundred columns.
    let (x, y, w, h) = area;
    assert!(
        w > 600 && h >= 56 && x + w <= WIDTH && y + h <= HEIGHT,
        "prompt area {area:?}"
    );
    let (count, columns) = ink(&snapshot, area);
    assert!(
        count * 100 > (w * h) as usize * 3,
        "{count} dark pixels in {area:?}"
    );
    assert!(columns > 500, "glyph strokes in only {columns} columns");

    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("waiting.png");
    snapshot.write_png(&path).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut bytes = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut bytes).unwrap();
    assert_eq!((frame.width, frame.height), (WIDTH, HEIGHT));
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    let expected: Vec<u8> = snapshot
        .pixels
        .iter()
        .flat_map(|p| [p.r, p.g, p.b])
        .collect();
    assert_eq!(bytes[..frame.buffer_size()], expected[..]);
}

#[test]
fn remove_card_screen_draws_its_message() {
    let (snapshot, area) = render_with_area(Screen::RemoveCard, "RemoveCardScreen::message");
    let (count, columns) = ink(&snapshot, area);
    assert!(
        count > 2000 && columns > 300,
        "{count} dark pixels in {columns} columns of {area:?}"
    );
}
