//! The canonical card-front layout: a card rectified to [`CARD_W`] × [`CARD_H`] pixels (ID-1,
//! 85.6 × 54 mm at 10 px/mm). The generator prints here; the reader looks here.

use opencv::core::Rect;

pub const CARD_W: i32 = 856;
pub const CARD_H: i32 = 540;

/// A printed field: where its text starts, its type size, and the region the reader searches.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Left end of the baseline (for centred fields, its centre).
    pub origin: (f32, f32),
    /// Type size in pixels (em).
    pub px: f32,
    /// Where the reader looks for the line, with room for rectification error.
    pub region: Rect,
}

/// 生年月日 line, e.g. `昭和55年 2月17日生`.
pub const BIRTH: Field = Field {
    origin: (40.0, 262.0),
    px: 34.0,
    region: Rect {
        x: 4,
        y: 212,
        width: 432,
        height: 74,
    },
};

/// 有効期限 line, e.g. `2035年 2月17日まで有効`.
pub const EXPIRY: Field = Field {
    origin: (40.0, 345.0),
    px: 30.0,
    region: Rect {
        x: 4,
        y: 300,
        width: 552,
        height: 70,
    },
};

/// セキュリティコード under the photo (origin is the centre of the baseline).
pub const SECURITY_CODE: Field = Field {
    origin: (710.0, 392.0),
    px: 30.0,
    region: Rect {
        x: 596,
        y: 352,
        width: 228,
        height: 62,
    },
};

/// The photo box.
pub const PHOTO: Rect = Rect {
    x: 600,
    y: 64,
    width: 220,
    height: 270,
};

/// 性別 value, on the birth line right of the date (left end of the baseline).
pub const SEX_ORIGIN: (f32, f32) = (470.0, 262.0);
