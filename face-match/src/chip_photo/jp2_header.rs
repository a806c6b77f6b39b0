//! Structural checks of JPEG 2000 data before any decoder sees it: JP2 container or raw
//! codestream, complete boxes, codestream start and end markers, image size.

use super::PhotoError;

/// The JP2 signature box.
const JP2_SIGNATURE: [u8; 12] = [
    0, 0, 0, 0x0C, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A,
];
/// SOC followed by SIZ: the start of every JPEG 2000 codestream.
const CODESTREAM_START: [u8; 4] = [0xFF, 0x4F, 0xFF, 0x51];
/// EOC: the end of every complete codestream.
const CODESTREAM_END: [u8; 2] = [0xFF, 0xD9];

/// Checks that `bytes` is a complete JP2 file or raw JPEG 2000 codestream and returns the
/// image's (width, height) from the codestream's SIZ marker.
pub(crate) fn image_size(bytes: &[u8]) -> Result<(u32, u32), PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    let codestream = if bytes.starts_with(&JP2_SIGNATURE) {
        jp2_codestream(bytes)?
    } else if bytes.starts_with(&CODESTREAM_START) {
        bytes
    } else if JP2_SIGNATURE.starts_with(bytes) || CODESTREAM_START.starts_with(bytes) {
        return Err(PhotoError::Truncated);
    } else {
        return Err(PhotoError::NotJpeg2000);
    };
    codestream_size(codestream)
}

/// The contents of the `jp2c` box, after checking that every box fits in `bytes`.
pub(super) fn jp2_codestream(bytes: &[u8]) -> Result<&[u8], PhotoError> {
    let mut rest = bytes;
    let mut codestream = None;
    while !rest.is_empty() {
        let (kind, content, len) = next_box(rest)?;
        if kind == *b"jp2c" && codestream.is_none() {
            codestream = Some(content);
        }
        rest = &rest[len..];
    }
    // Data cut before the codestream box is the usual way to lose it.
    codestream.ok_or(PhotoError::Truncated)
}

/// Splits off the first box of `bytes`: (type, contents, total length).
fn next_box(bytes: &[u8]) -> Result<([u8; 4], &[u8], usize), PhotoError> {
    let header = bytes.get(..8).ok_or(PhotoError::Truncated)?;
    let kind = [header[4], header[5], header[6], header[7]];
    let (header_len, len) = match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
        0 => (8, bytes.len()),
        1 => {
            let extended = bytes.get(8..16).ok_or(PhotoError::Truncated)?;
            let len = u64::from_be_bytes(extended.try_into().unwrap_or_default());
            (16, usize::try_from(len).unwrap_or(usize::MAX))
        }
        len => (8, len as usize),
    };
    if len < header_len {
        return Err(PhotoError::Corrupt(format!(
            "box {} declares {len} bytes",
            String::from_utf8_lossy(&kind)
        )));
    }
    let content = bytes.get(header_len..len).ok_or(PhotoError::Truncated)?;
    Ok((kind, content, len))
}

/// Image size from the SIZ marker of a complete codestream.
fn codestream_size(codestream: &[u8]) -> Result<(u32, u32), PhotoError> {
    if !codestream.starts_with(&CODESTREAM_START) {
        return Err(PhotoError::Corrupt(
            "codestream does not start with SOC, SIZ".into(),
        ));
    }
    // SOC(2) SIZ(2) Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4)
    let field = |offset: usize| -> Result<u32, PhotoError> {
        let b = codestream
            .get(offset..offset + 4)
            .ok_or(PhotoError::Truncated)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (x_end, y_end, x_origin, y_origin) = (field(8)?, field(12)?, field(16)?, field(20)?);
    if !codestream.ends_with(&CODESTREAM_END) {
        return Err(PhotoError::Truncated);
    }
    match (x_end.checked_sub(x_origin), y_end.checked_sub(y_origin)) {
        (Some(width), Some(height)) if width > 0 && height > 0 => Ok((width, height)),
        _ => Err(PhotoError::Corrupt(format!(
            "image area ({x_origin},{y_origin})..({x_end},{y_end}) is empty"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal raw codestream: SOC, SIZ for a `w`×`h` image, EOC (not decodable, but
    /// structurally complete).
    fn codestream(w: u32, h: u32) -> Vec<u8> {
        let mut c = CODESTREAM_START.to_vec();
        c.extend([0, 41, 0, 0]); // Lsiz, Rsiz
        for v in [w, h, 0, 0, w, h, 0, 0] {
            c.extend(v.to_be_bytes());
        }
        c.extend([0, 1, 7, 1, 1]); // Csiz = 1, 8-bit, no subsampling
        c.extend(CODESTREAM_END);
        c
    }

    fn jp2(codestream: &[u8]) -> Vec<u8> {
        let mut f = JP2_SIGNATURE.to_vec();
        f.extend(20u32.to_be_bytes());
        f.extend(b"ftypjp2 ");
        f.extend([0, 0, 0, 0]);
        f.extend(b"jp2 ");
        f.extend((8 + codestream.len() as u32).to_be_bytes());
        f.extend(b"jp2c");
        f.extend(codestream);
        f
    }

    #[test]
    fn size_of_raw_codestream_and_jp2() {
        assert_eq!(image_size(&codestream(120, 160)), Ok((120, 160)));
        assert_eq!(image_size(&jp2(&codestream(90, 110))), Ok((90, 110)));
    }

    #[test]
    fn every_truncation_is_reported_as_truncated() {
        for data in [jp2(&codestream(90, 110)), codestream(90, 110)] {
            for len in 1..data.len() {
                assert_eq!(
                    image_size(&data[..len]),
                    Err(PhotoError::Truncated),
                    "cut at {len}"
                );
            }
        }
    }

    #[test]
    fn garbage_and_empty_input() {
        assert_eq!(image_size(b""), Err(PhotoError::Empty));
        assert_eq!(
            image_size(b"\xFF\xD8\xFF\xE0 a JPEG"),
            Err(PhotoError::NotJpeg2000)
        );
        assert_eq!(image_size(&[0u8; 64]), Err(PhotoError::NotJpeg2000));
    }

    #[test]
    fn bad_box_length_and_empty_image_are_corrupt() {
        let mut bad_box = jp2(&codestream(9, 9));
        bad_box[12..16].copy_from_slice(&3u32.to_be_bytes());
        assert!(matches!(image_size(&bad_box), Err(PhotoError::Corrupt(_))));
        assert!(matches!(
            image_size(&codestream(0, 9)),
            Err(PhotoError::Corrupt(_))
        ));
    }
}
