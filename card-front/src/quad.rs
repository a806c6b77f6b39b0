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

/// Whether `other` is the outline of a second card beside the one at `card`: neither holds the
/// other's centre (an outline of the same card, or of the card with something next to it,
/// does), and it is at least half the card's size (a card of the same size, a little farther
/// from the camera).
pub(crate) fn apart(card: &[Point2f; 4], other: &[Point2f; 4]) -> bool {
    !holds(card, centre(other)) && !holds(other, centre(card)) && area(other) >= area(card) / 2.0
}

/// The outline grown by `factor` about its centre.
pub(crate) fn grown(quad: &[Point2f; 4], factor: f32) -> [Point2f; 4] {
    let c = centre(quad);
    quad.map(|p| Point2f::new(c.x + (p.x - c.x) * factor, c.y + (p.y - c.y) * factor))
}

fn centre(quad: &[Point2f; 4]) -> Point2f {
    let sum = quad.iter().fold(Point2f::default(), |s, &p| s + p);
    Point2f::new(sum.x / 4.0, sum.y / 4.0)
}

/// Shoelace area of a quadrilateral.
fn area(quad: &[Point2f; 4]) -> f64 {
    (0..4)
        .map(|i| quad[i].cross(quad[(i + 1) % 4]))
        .sum::<f64>()
        .abs()
        / 2.0
}

/// Whether convex `quad` holds `p`: `p` lies on the same side of each of its sides.
fn holds(quad: &[Point2f; 4], p: Point2f) -> bool {
    let sides: Vec<f64> = (0..4)
        .map(|i| (quad[(i + 1) % 4] - quad[i]).cross(p - quad[i]))
        .collect();
    sides.iter().all(|&s| s >= 0.0) || sides.iter().all(|&s| s <= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: f32, y: f32, w: f32, h: f32) -> [Point2f; 4] {
        [(x, y), (x + w, y), (x + w, y + h), (x, y + h)].map(|(x, y)| Point2f::new(x, y))
    }

    #[test]
    fn a_second_card_is_apart_but_the_same_card_found_again_is_not() {
        let card = rect(100.0, 100.0, 400.0, 250.0);
        assert!(
            apart(&card, &rect(600.0, 120.0, 380.0, 240.0)),
            "side by side"
        );
        assert!(
            apart(&card, &rect(380.0, 200.0, 400.0, 250.0)),
            "overlapping, fanned"
        );
        assert!(
            !apart(&card, &rect(104.0, 98.0, 398.0, 254.0)),
            "the same card"
        );
        assert!(
            !apart(&card, &rect(90.0, 90.0, 700.0, 300.0)),
            "the card and clutter"
        );
        assert!(
            !apart(&card, &rect(600.0, 120.0, 270.0, 170.0)),
            "too small"
        );
        assert!(
            !apart(&card, &half_turned(&card)),
            "the same card upside down"
        );
    }
}
