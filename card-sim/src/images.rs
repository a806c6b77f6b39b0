//! The 1-bit greyscale PNG images of the card face (氏名, 住所, セキュリティコード, 個人番号).
//!
//! SIMULATED: each character becomes a 12 × 12 cell (6 × 12 for ASCII) of pixels derived from
//! its code point — a stand-in with the right format and plausible size, not readable text.

const HEIGHT: u32 = 12;

/// A PNG of `text`, 1 bit per pixel, greyscale.
pub(crate) fn text_png(text: &str) -> Vec<u8> {
    let cells: Vec<(char, u32)> = text
        .chars()
        .map(|c| (c, if c.is_ascii() { 6 } else { 12 }))
        .collect();
    let width = cells.iter().map(|(_, w)| w).sum::<u32>().max(1);
    let row_bytes = width.div_ceil(8) as usize;
    let mut pixels = vec![0xFF; row_bytes * HEIGHT as usize];
    let mut x0 = 0;
    for (c, w) in cells {
        let pattern = glyph_bits(c);
        for y in 1..HEIGHT - 1 {
            for x in 1..w - 1 {
                let bit = (y * w + x) % 64;
                if pattern >> bit & 1 == 1 {
                    let px = (x0 + x) as usize;
                    pixels[y as usize * row_bytes + px / 8] &= !(0x80 >> (px % 8));
                }
            }
        }
        x0 += w;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, HEIGHT);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        // Writing to a Vec cannot fail and the sizes match by construction.
        if let Ok(mut writer) = encoder.write_header() {
            let _ = writer.write_image_data(&pixels);
        }
    }
    out
}

/// 64 pseudo-random bits for a character (splitmix64 of the code point).
fn glyph_bits(c: char) -> u64 {
    let mut z = u64::from(c).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_code_image_is_a_24_by_12_one_bit_png() {
        let png = text_png("2285");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (24, 12));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(info.color_type, png::ColorType::Grayscale);
    }

    #[test]
    fn different_texts_give_different_images() {
        assert_ne!(text_png("試験　太郎"), text_png("試験　花子"));
        assert!(text_png("").starts_with(&[0x89, b'P', b'N', b'G']));
    }
}
