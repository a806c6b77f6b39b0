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
