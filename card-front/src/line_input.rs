//! What the line recogniser sees: one printed field of a rectified card, grey, scaled to a
//! fixed height. The training set (`card-front dataset`) is made by the same function.

use crate::error::OcrError;
use crate::layout::Field;
use crate::scrub::ScrubbedMat;
use opencv::core::{Mat, MatTraitConst, Size};
use opencv::imgproc;

/// Height of a line image in pixels; its width keeps the field region's aspect.
pub const LINE_H: i32 = 32;

/// The characters the recogniser tells apart, in output-class order after the CTC blank
/// (class 0). Everything printed on the three 照合番号B lines but the spaces.
pub const ALPHABET: &str = "0123456789昭平成令和年月日生まで有効";

/// Width of `field`'s line image.
pub fn line_width(field: &Field) -> i32 {
    (field.region.width * LINE_H + field.region.height / 2) / field.region.height
}

/// `field`'s region of a grey rectified card, scaled to [`LINE_H`] × [`line_width`] (8-bit).
pub fn line_image(card: &Mat, field: &Field) -> Result<ScrubbedMat, OcrError> {
    let roi = Mat::roi(card, field.region)?;
    let mut line = ScrubbedMat::default();
    imgproc::resize(
        &roi,
        &mut *line,
        Size::new(line_width(field), LINE_H),
        0.0,
        0.0,
        imgproc::INTER_AREA,
    )?;
    if line.typ() != opencv::core::CV_8UC1 {
        return Err(OcrError::Image(
            "the rectified card is not 8-bit grey".into(),
        ));
    }
    Ok(line)
}

/// The label a line is trained on: its printed text without spaces.
pub fn line_label(printed: &str) -> String {
    printed.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout;
    use opencv::core::{Scalar, CV_8UC1};

    #[test]
    fn lines_keep_the_region_aspect_at_the_fixed_height() {
        assert_eq!(line_width(&layout::BIRTH), 187);
        assert_eq!(line_width(&layout::EXPIRY), 252);
        assert_eq!(line_width(&layout::SECURITY_CODE), 118);
        let card = Mat::new_rows_cols_with_default(
            layout::CARD_H,
            layout::CARD_W,
            CV_8UC1,
            Scalar::all(200.0),
        )
        .unwrap();
        let line = line_image(&card, &layout::EXPIRY).unwrap();
        assert_eq!((line.rows(), line.cols()), (LINE_H, 252));
        assert_eq!(*line.at_2d::<u8>(5, 5).unwrap(), 200);
    }

    #[test]
    fn labels_drop_spaces_and_use_only_the_alphabet() {
        let label = line_label("昭和55年 2月17日生");
        assert_eq!(label, "昭和55年2月17日生");
        assert!(line_label("2035年 2月17日まで有効")
            .chars()
            .chain(label.chars())
            .all(|c| ALPHABET.contains(c)));
    }
}
