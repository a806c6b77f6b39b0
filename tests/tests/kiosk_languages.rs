//! Every screen in each of the five languages, rendered to pixels without a display: the
//! translation is applied and its glyphs are really drawn (Slint drops missing glyphs silently).

use std::sync::Mutex;

use i_slint_backend_testing::ElementHandle;
use mynakiosk::commands::screenshots::{headline_id, sample, HEIGHT, WIDTH};
use mynakiosk::kiosk::view;
use mynakiosk::session::{Lang, Screen};
use slint::Rgb8Pixel;
use ui::snapshot::Snapshot;

fn is_ink(p: &Rgb8Pixel) -> bool {
    (u32::from(p.r) * 299 + u32::from(p.g) * 587 + u32::from(p.b) * 114) / 1000 < 110
}

/// Renders `screen` in `lang`; returns the frame, the headline's text and its pixel area.
fn render(screen: Screen, lang: Lang) -> (Snapshot, String, (u32, u32, u32, u32)) {
    let found = Mutex::new(None);
    let id = headline_id(screen);
    let snapshot = ui::snapshot::render(WIDTH, HEIGHT, |w| {
        view::apply(w, &sample(screen, lang));
        let e = ElementHandle::find_by_element_id(w, id)
            .next()
            .unwrap_or_else(|| panic!("{id} not shown on {screen:?} in {lang:?}"));
        let (at, size) = (e.absolute_position(), e.size());
        *found.lock().unwrap() = Some((
            e.accessible_label().unwrap_or_default().to_string(),
            (
                at.x as u32,
                at.y as u32,
                size.width as u32,
                size.height as u32,
            ),
        ));
    })
    .unwrap();
    let (text, area) = found.into_inner().unwrap().unwrap();
    (snapshot, text, area)
}

/// Ink pixels in `area`, and the columns that have any.
fn ink(s: &Snapshot, (x0, y0, w, h): (u32, u32, u32, u32)) -> (usize, usize) {
    let mut count = 0;
    let mut columns = 0;
    for x in x0..(x0 + w).min(s.width) {
        let n = (y0..(y0 + h).min(s.height))
            .filter(|&y| is_ink(&s.pixels[(y * s.width + x) as usize]))
            .count();
        count += n;
        columns += usize::from(n > 0);
    }
    (count, columns)
}

#[test]
fn every_screen_is_translated_and_drawn_in_every_language() {
    for screen in Screen::ALL {
        let mut japanese = String::new();
        for lang in Lang::ALL {
            let (snapshot, text, area) = render(screen, lang);
            assert!(!text.is_empty(), "{screen:?} {lang:?}: empty headline");
            if lang == Lang::Ja {
                japanese = text.clone();
            } else {
                assert_ne!(text, japanese, "{screen:?} not translated to {lang:?}");
            }
            let glyphs = text.chars().filter(|c| !c.is_whitespace()).count();
            let (count, columns) = ink(&snapshot, area);
            // A glyph of 24–56 px leaves well over 20 ink pixels; a dropped glyph leaves none.
            assert!(
                count > glyphs * 20 && columns > glyphs * 4,
                "{screen:?} {lang:?} {text:?}: {count} ink pixels in {columns} columns of {area:?}"
            );
        }
    }
}
