//! A simulated card-front camera: places a rendered card on a busy background and applies
//! camera-like distortions (perspective, rotation, scale, blur, noise, glare, uneven light,
//! low resolution, a finger over an edge). Seeded and reproducible.

use crate::error::OcrError;
use opencv::core::{self, Mat, MatTraitConst, Point, Point2f, Scalar, Size, CV_32FC3, CV_8UC3};
use opencv::imgproc::{self, LINE_AA};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One synthetic photo and where the card's corners landed (TL, TR, BR, BL).
pub struct CameraShot {
    pub image: Mat,
    pub corners: [Point2f; 4],
}

/// Photographs a printed card (BGR, [`crate::layout::CARD_W`] × [`crate::layout::CARD_H`], or
/// upright when printed at a quarter turn).
pub fn photograph(card: &Mat, rng: &mut ChaCha8Rng) -> Result<CameraShot, OcrError> {
    photograph_moved(card, rng, |corners, _| corners)
}

/// Photographs a canonical card placed where `moved` puts the corners drawn for it, given the
/// frame's size (a card partly outside the frame: [`crate::unreadable`]).
pub(crate) fn photograph_moved(
    card: &Mat,
    rng: &mut ChaCha8Rng,
    moved: impl FnOnce([Point2f; 4], Size) -> [Point2f; 4],
) -> Result<CameraShot, OcrError> {
    let (w, h) = FRAME_SIZES[rng.random_range(0..FRAME_SIZES.len())];
    let mut image = busy_background(rng, w, h)?;
    let placed = place(rng, w as f32, h as f32, aspect(card), 0.3..0.8);
    let corners = moved(placed, Size::new(w, h));
    lay(card, &corners, &mut image)?;
    finish(image, rng, corners)
}

/// Photographs two cards side by side, each at 60–95 % of its half of the frame's width (as
/// far as it fits); the shot's corners are the first card's.
pub(crate) fn photograph_two(
    cards: [&Mat; 2],
    rng: &mut ChaCha8Rng,
) -> Result<CameraShot, OcrError> {
    let (w, h) = FRAME_SIZES[rng.random_range(0..FRAME_SIZES.len())];
    let mut image = busy_background(rng, w, h)?;
    let half = w as f32 / 2.0;
    let mut first = None;
    for (k, card) in cards.into_iter().enumerate() {
        let shift = Point2f::new(half * k as f32, 0.0);
        let corners = place(rng, half, h as f32, aspect(card), 0.6..0.95).map(|p| p + shift);
        lay(card, &corners, &mut image)?;
        first.get_or_insert(corners);
    }
    finish(image, rng, first.unwrap_or_default())
}

/// A card image's height over its width (a card printed at a quarter turn stands upright).
fn aspect(card: &Mat) -> f32 {
    card.rows() as f32 / card.cols().max(1) as f32
}

/// Warps `card` onto `image` with its corners at `corners` (TL, TR, BR, BL of the card image).
fn lay(card: &Mat, corners: &[Point2f; 4], image: &mut Mat) -> Result<(), OcrError> {
    let (cw, ch) = (card.cols() as f32, card.rows() as f32);
    let src = [
        Point2f::new(0.0, 0.0),
        Point2f::new(cw, 0.0),
        Point2f::new(cw, ch),
        Point2f::new(0.0, ch),
    ];
    let m = imgproc::get_perspective_transform_slice_def(src, *corners)?;
    let size = image.size()?;
    imgproc::warp_perspective(
        card,
        image,
        &m,
        size,
        imgproc::INTER_AREA,
        core::BORDER_TRANSPARENT,
        Scalar::default(),
    )?;
    Ok(())
}

/// The camera's part after the scene: sometimes a finger on the card at `corners`, uneven
/// light and glare, blur and noise.
fn finish(
    mut image: Mat,
    rng: &mut ChaCha8Rng,
    corners: [Point2f; 4],
) -> Result<CameraShot, OcrError> {
    if rng.random_bool(0.35) {
        finger(&mut image, rng, &corners)?;
    }
    let image = lighting(&image, rng, &corners)?;
    let image = degrade(&image, rng)?;
    Ok(CameraShot { image, corners })
}

/// The camera's frame sizes (width, height).
const FRAME_SIZES: [(i32, i32); 3] = [(1280, 720), (1920, 1080), (1280, 960)];

/// Where the card's corners go: scaled, rotated, shifted, with perspective jitter.
/// `widths` is the card's width as a fraction of `w`, drawn; `aspect` its height over width.
fn place(
    rng: &mut ChaCha8Rng,
    w: f32,
    h: f32,
    aspect: f32,
    widths: std::ops::Range<f32>,
) -> [Point2f; 4] {
    let angle = rng.random_range(-18.0f32..18.0).to_radians();
    let (s, c) = angle.sin_cos();
    // `widths` of the frame's width, as far as the turned card fits the frame's height.
    let fits = 0.85 * h / (s.abs() + aspect * c.abs());
    let cw = (w * rng.random_range(widths)).min(fits);
    let ch = cw * aspect;
    let half_extent_x = (cw * c.abs() + ch * s.abs()) / 2.0;
    let half_extent_y = (cw * s.abs() + ch * c.abs()) / 2.0;
    let margin = 0.06 * cw;
    let cx = rng.random_range(
        half_extent_x + margin..(w - half_extent_x - margin).max(half_extent_x + margin + 1.0),
    );
    let cy = rng.random_range(
        half_extent_y + margin..(h - half_extent_y - margin).max(half_extent_y + margin + 1.0),
    );
    let jitter = 0.04 * cw;
    [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(sx, sy)| {
        let (x, y) = (sx * cw / 2.0, sy * ch / 2.0);
        Point2f::new(
            cx + x * c - y * s + rng.random_range(-jitter..jitter),
            cy + x * s + y * c + rng.random_range(-jitter..jitter),
        )
    })
}

/// A cluttered desk: random shapes, lines and stripes in random colours.
fn busy_background(rng: &mut ChaCha8Rng, w: i32, h: i32) -> Result<Mat, OcrError> {
    let base = random_colour(rng);
    let mut bg = Mat::new_rows_cols_with_default(h, w, CV_8UC3, base)?;
    let big = w / 5;
    for _ in 0..rng.random_range(25..70) {
        let colour = random_colour(rng);
        let p = Point::new(rng.random_range(0..w), rng.random_range(0..h));
        match rng.random_range(0..3) {
            0 => {
                let size = Size::new(rng.random_range(5..big), rng.random_range(5..big));
                imgproc::rectangle(
                    &mut bg,
                    core::Rect::from_point_size(p, size),
                    colour,
                    -1,
                    LINE_AA,
                    0,
                )?
            }
            1 => imgproc::circle(
                &mut bg,
                p,
                rng.random_range(3..big / 2),
                colour,
                -1,
                LINE_AA,
                0,
            )?,
            _ => {
                let q = Point::new(rng.random_range(0..w), rng.random_range(0..h));
                imgproc::line(&mut bg, p, q, colour, rng.random_range(1..8), LINE_AA, 0)?
            }
        }
    }
    let mut blurred = Mat::default();
    let sigma = rng.random_range(0.5..3.0);
    imgproc::gaussian_blur(
        &bg,
        &mut blurred,
        Size::default(),
        sigma,
        sigma,
        core::BORDER_DEFAULT,
    )?;
    Ok(blurred)
}

fn random_colour(rng: &mut ChaCha8Rng) -> Scalar {
    Scalar::new(
        rng.random_range(0.0..255.0),
        rng.random_range(0.0..255.0),
        rng.random_range(0.0..255.0),
        0.0,
    )
}

/// A finger holding the card by its left or right edge near the top, short of the text.
fn finger(image: &mut Mat, rng: &mut ChaCha8Rng, corners: &[Point2f; 4]) -> Result<(), OcrError> {
    // Card-relative anchor (u, v in 0..1) and direction pointing into the card.
    let (u, dir) = if rng.random_bool(0.5) {
        (0.0, 0.0f32)
    } else {
        (1.0, 180.0)
    };
    let v = rng.random_range(0.04..0.28);
    let at = |u: f32, v: f32| {
        let top = corners[0] + (corners[1] - corners[0]) * u;
        let bottom = corners[3] + (corners[2] - corners[3]) * u;
        top + (bottom - top) * v
    };
    let tip = at(u, v);
    let card_w =
        ((corners[1].x - corners[0].x).powi(2) + (corners[1].y - corners[0].y).powi(2)).sqrt();
    let edge_angle = (corners[1].y - corners[0].y)
        .atan2(corners[1].x - corners[0].x)
        .to_degrees();
    let angle = edge_angle + dir + rng.random_range(-15.0..15.0);
    let length = card_w * rng.random_range(0.12..0.22);
    let width = card_w * rng.random_range(0.05..0.07);
    let skin = Scalar::new(
        rng.random_range(120.0..170.0),
        rng.random_range(150.0..190.0),
        rng.random_range(190.0..235.0),
        0.0,
    );
    let rad = (angle + 180.0).to_radians();
    let centre = Point::new(
        (tip.x + rad.cos() * length * 0.8) as i32,
        (tip.y + rad.sin() * length * 0.8) as i32,
    );
    let axes = Size::new(length as i32, width as i32);
    imgproc::ellipse(
        image,
        centre,
        axes,
        f64::from(angle),
        0.0,
        360.0,
        skin,
        -1,
        LINE_AA,
        0,
    )?;
    let nail = Scalar::new(skin[0] + 25.0, skin[1] + 25.0, skin[2] + 15.0, 0.0);
    let nail_centre = Point::new(
        (tip.x + rad.cos() * width * 0.9) as i32,
        (tip.y + rad.sin() * width * 0.9) as i32,
    );
    let nail_axes = Size::new((width * 0.7) as i32, (width * 0.55) as i32);
    imgproc::ellipse(
        image,
        nail_centre,
        nail_axes,
        f64::from(angle),
        0.0,
        360.0,
        nail,
        -1,
        LINE_AA,
        0,
    )?;
    Ok(())
}

/// Uneven light (a brightness ramp) and sometimes a specular glare spot on the card.
fn lighting(image: &Mat, rng: &mut ChaCha8Rng, corners: &[Point2f; 4]) -> Result<Mat, OcrError> {
    let size = Size::new(image.cols(), image.rows());
    let base = rng.random_range(0.75f32..1.1);
    let ramp: [[f32; 2]; 2] =
        std::array::from_fn(|_| std::array::from_fn(|_| base + rng.random_range(-0.2..0.2)));
    let mut gain1 = Mat::default();
    imgproc::resize(
        &Mat::from_slice_2d(&ramp)?,
        &mut gain1,
        size,
        0.0,
        0.0,
        imgproc::INTER_LINEAR,
    )?;
    let mut gain = Mat::default();
    imgproc::cvt_color(&gain1, &mut gain, imgproc::COLOR_GRAY2BGR, 0)?;
    let mut float = Mat::default();
    image.convert_to(&mut float, CV_32FC3, 1.0, 0.0)?;
    let mut lit = Mat::default();
    core::multiply(&float, &gain, &mut lit, 1.0, -1)?;
    if !rng.random_bool(0.35) {
        return Ok(lit);
    }
    let centre = corners[0] + (corners[2] - corners[0]) * rng.random_range(0.1..0.9);
    let radius = (corners[1].x - corners[0].x).abs() * rng.random_range(0.05..0.12);
    let amplitude = f64::from(rng.random_range(40.0f32..110.0));
    let mut spot = Mat::new_size_with_default(size, CV_32FC3, Scalar::all(0.0))?;
    let c = Point::new(centre.x as i32, centre.y as i32);
    imgproc::circle(
        &mut spot,
        c,
        radius as i32,
        Scalar::all(amplitude),
        -1,
        LINE_AA,
        0,
    )?;
    let mut soft = Mat::default();
    let sigma = f64::from(radius) * 0.7;
    imgproc::gaussian_blur(
        &spot,
        &mut soft,
        Size::default(),
        sigma,
        sigma,
        core::BORDER_DEFAULT,
    )?;
    let mut out = Mat::default();
    core::add(&lit, &soft, &mut out, &core::no_array(), -1)?;
    Ok(out)
}

/// Defocus blur, sensor noise and 8-bit quantisation.
fn degrade(image: &Mat, rng: &mut ChaCha8Rng) -> Result<Mat, OcrError> {
    let mut blurred = Mat::default();
    let sigma = rng.random_range(0.3..1.6);
    imgproc::gaussian_blur(
        image,
        &mut blurred,
        Size::default(),
        sigma,
        sigma,
        core::BORDER_DEFAULT,
    )?;
    let mut noise =
        Mat::new_rows_cols_with_default(image.rows(), image.cols(), CV_32FC3, Scalar::all(0.0))?;
    let seed = rng.random::<i32>();
    core::set_rng_seed(seed)?;
    let stddev = rng.random_range(2.0..9.0);
    core::randn(&mut noise, &Scalar::all(0.0), &Scalar::all(stddev))?;
    let mut noisy = Mat::default();
    core::add(&blurred, &noise, &mut noisy, &core::no_array(), -1)?;
    let mut out = Mat::default();
    noisy.convert_to(&mut out, CV_8UC3, 1.0, 0.0)?;
    Ok(out)
}
