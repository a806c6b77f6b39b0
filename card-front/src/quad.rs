//! What makes four corners a card's outline: their order (TL, TR, BR, BL), a card's aspect
//! and a least size in the photo; shared by the outline finders (`locate`, `sides`).

use opencv::core::Point2f;

/// Smallest card, as a fraction of the photo's area.
pub(crate) const MIN_AREA_FRAC: f64 = 0.06;
/// Accepted ratio of long to short side (ID-1 is 1.585), allowing for perspective.
const ASPECT: std::ops::RangeInclusive<f32> = 1.35..=2.0;

/// Whether an ordered quadrilateral (TL, TR, BR, BL) has a card's aspect, allowing for
/// perspective.
pub(crate) fn card_like(quad: &[Point2f; 4]) -> bool {
    let long = ((quad[1] - quad[0]).norm() + (quad[2] - quad[3]).norm()) as f32;
    let short = ((quad[3] - quad[0]).norm() + (quad[2] - quad[1]).norm()) as f32;
    short > 0.0 && ASPECT.contains(&(long / short))
}

/// Orders four corners TL, TR, BR, BL, with TL→TR along the long side.
pub(crate) fn order(pts: &[Point2f]) -> [Point2f; 4] {
    let cx = pts.iter().map(|p| p.x).sum::<f32>() / 4.0;
    let cy = pts.iter().map(|p| p.y).sum::<f32>() / 4.0;
    let mut sorted = pts.to_vec();
    // Clockwise on screen (y down), starting from the corner with the smallest x + y.
    sorted.sort_by(|a, b| {
        (a.y - cy)
            .atan2(a.x - cx)
            .total_cmp(&(b.y - cy).atan2(b.x - cx))
    });
    let start = (0..4)
        .min_by(|&i, &j| (sorted[i].x + sorted[i].y).total_cmp(&(sorted[j].x + sorted[j].y)))
        .unwrap_or(0);
    let mut q: [Point2f; 4] = std::array::from_fn(|i| sorted[(start + i) % 4]);
    if (q[1] - q[0]).norm() < (q[2] - q[1]).norm() {
        q.rotate_left(3);
    }
    q
}

/// The same outline taken from its opposite corner: the card read upside down.
pub(crate) fn half_turned(quad: &[Point2f; 4]) -> [Point2f; 4] {
    [quad[2], quad[3], quad[0], quad[1]]
}

/// Whether two outlines are of the same card: every corner of one within 8 % of its diagonal
/// of a corner of the other, in order (either may be taken from another corner).
pub(crate) fn alike(a: &[Point2f; 4], b: &[Point2f; 4]) -> bool {
    let near = 0.08 * (a[2] - a[0]).norm();
    (0..4).any(|turn| (0..4).all(|i| (a[i] - b[(i + turn) % 4]).norm() <= near))
}

/// The corners of an upright rectangle, TL, TR, BR, BL.
#[cfg(test)]
pub(crate) fn rect(x: f32, y: f32, w: f32, h: f32) -> [Point2f; 4] {
    [(x, y), (x + w, y), (x + w, y + h), (x, y + h)].map(|(x, y)| Point2f::new(x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_of_the_same_card_are_alike_and_others_are_not() {
        let card = rect(100.0, 100.0, 400.0, 250.0);
        assert!(
            alike(&card, &rect(104.0, 98.0, 398.0, 254.0)),
            "found again"
        );
        assert!(alike(&card, &half_turned(&card)), "upside down");
        assert!(
            !alike(&card, &rect(600.0, 120.0, 380.0, 240.0)),
            "side by side"
        );
        assert!(
            !alike(&card, &rect(30.0, 60.0, 1000.0, 600.0)),
            "the card and clutter"
        );
        assert!(
            !alike(&card, &rect(100.0, 100.0, 330.0, 250.0)),
            "a part of it"
        );
    }
}
