//! BER-TLV framing of the card's records: the outer header, then the primitive fields it holds
//! (a constructed field is refused, so hostile nesting cannot recurse). Fields borrow their
//! bytes from the record, which the caller zeroizes: parsing copies no personal data.

use super::RecordError;

/// Where the parts of a TLV lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Bytes of the tag.
    pub tag_len: usize,
    /// Bytes of tag and length together.
    pub len: usize,
    /// Bytes of the value.
    pub value_len: usize,
}

impl Header {
    /// Bytes of the whole TLV.
    pub fn total(self) -> usize {
        self.len + self.value_len
    }
}

/// The header of the TLV at the start of `bytes`.
///
/// Tags of up to three bytes and definite lengths of up to three bytes are accepted.
pub(crate) fn header(bytes: &[u8]) -> Result<Header, RecordError> {
    let first = *bytes.first().ok_or(RecordError::Truncated)?;
    let mut pos = 1;
    if first & 0x1F == 0x1F {
        loop {
            let byte = *bytes.get(pos).ok_or(RecordError::Truncated)?;
            pos += 1;
            if byte & 0x80 == 0 {
                break;
            }
            if pos >= 3 {
                return Err(RecordError::BadLength);
            }
        }
    }
    let tag_len = pos;
    let len_byte = *bytes.get(pos).ok_or(RecordError::Truncated)?;
    pos += 1;
    let value_len = match len_byte {
        0x00..=0x7F => usize::from(len_byte),
        0x81..=0x83 => {
            let n = usize::from(len_byte & 0x7F);
            let field = bytes.get(pos..pos + n).ok_or(RecordError::Truncated)?;
            pos += n;
            field.iter().fold(0, |acc, b| acc << 8 | usize::from(*b))
        }
        _ => return Err(RecordError::BadLength),
    };
    Ok(Header {
        tag_len,
        len: pos,
        value_len,
    })
}

/// One field of a record: its tag, where its TLV starts in the record, and the raw TLV bytes.
#[derive(Debug)]
pub(crate) struct Field<'a> {
    /// Tag bytes, e.g. `[0xDF, 0x27]`.
    pub tag: Vec<u8>,
    /// Offset of the field's first byte from the first byte of the record.
    pub offset: usize,
    /// The whole TLV (tag, length, value), as on the card.
    pub raw: &'a [u8],
    /// The value.
    pub value: &'a [u8],
}

/// Splits the record at the start of `file` whose outer tag must be `outer` into its primitive
/// fields. Bytes after the record (filler) are ignored.
pub(crate) fn fields<'a>(file: &'a [u8], outer: &[u8]) -> Result<Vec<Field<'a>>, RecordError> {
    if !file.starts_with(outer) {
        return Err(RecordError::UnexpectedTag);
    }
    let outer_header = header(file)?;
    if outer_header.tag_len != outer.len() {
        return Err(RecordError::UnexpectedTag);
    }
    let end = outer_header.total();
    if end > file.len() {
        return Err(RecordError::Truncated);
    }
    sequence(&file[..end], outer_header.len)
}

/// The primitive TLVs in `bytes[start..]`, which they must fill exactly.
pub(crate) fn sequence(bytes: &[u8], start: usize) -> Result<Vec<Field<'_>>, RecordError> {
    let mut fields = Vec::new();
    let mut pos = start;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest[0] & 0x20 != 0 {
            return Err(RecordError::UnexpectedTag);
        }
        let field = header(rest)?;
        let raw = rest.get(..field.total()).ok_or(RecordError::Truncated)?;
        fields.push(Field {
            tag: raw[..field.tag_len].to_vec(),
            offset: pos,
            raw,
            value: &raw[field.len..],
        });
        pos += raw.len();
    }
    Ok(fields)
}

/// The value of the field tagged `tag`, if present.
pub(crate) fn find<'f>(fields: &'f [Field<'_>], tag: &[u8]) -> Option<&'f Field<'f>> {
    fields.iter().find(|f| f.tag == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_short_and_long_forms() {
        let h = |tag_len, len, value_len| {
            Ok(Header {
                tag_len,
                len,
                value_len,
            })
        };
        assert_eq!(header(&[0x30, 0x82, 0x04, 0xB0]), h(1, 4, 0x4B0));
        assert_eq!(header(&[0xFF, 0x20, 0x82, 0x01, 0x00]), h(2, 5, 0x100));
        assert_eq!(header(&[0xDF, 0x21, 0x12]), h(2, 3, 0x12));
        assert_eq!(header(&[0x7F, 0x21, 0x81, 0x90]), h(2, 4, 0x90));
        assert_eq!(header(&[0x30, 0x82, 0x04]), Err(RecordError::Truncated));
        assert_eq!(header(&[0x30, 0x80]), Err(RecordError::BadLength));
        assert_eq!(
            header(&[0x30, 0x84, 1, 2, 3, 4]),
            Err(RecordError::BadLength)
        );
        assert_eq!(
            header(&[0xDF, 0xFF, 0xFF, 0x01]),
            Err(RecordError::BadLength)
        );
        assert_eq!(header(&[]), Err(RecordError::Truncated));
    }

    #[test]
    fn fields_keep_their_offsets_and_raw_bytes() {
        let file = [
            0xFF, 0x20, 0x0A, 0xDF, 0x22, 0x02, 0x41, 0x42, 0xDF, 0x23, 0x81, 0x01, 0x43, 0xFF,
            0xFF,
        ];
        let fields = fields(&file, &[0xFF, 0x20]).unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].tag, [0xDF, 0x22]);
        assert_eq!(fields[0].offset, 3);
        assert_eq!(fields[0].value, b"AB");
        assert_eq!(fields[1].tag, [0xDF, 0x23]);
        assert_eq!(fields[1].offset, 8);
        assert_eq!(fields[1].raw, [0xDF, 0x23, 0x81, 0x01, 0x43]);
    }

    #[test]
    fn nesting_and_overruns_are_rejected() {
        let nested = [0xFF, 0x20, 0x04, 0xFF, 0x21, 0x01, 0x00];
        assert_eq!(
            fields(&nested, &[0xFF, 0x20]).unwrap_err(),
            RecordError::UnexpectedTag
        );
        let overrun = [0xFF, 0x20, 0x04, 0xDF, 0x22, 0x05, 0x00];
        assert_eq!(
            fields(&overrun, &[0xFF, 0x20]).unwrap_err(),
            RecordError::Truncated
        );
        assert_eq!(
            fields(&[0x30, 0x00], &[0xFF, 0x20]).unwrap_err(),
            RecordError::UnexpectedTag
        );
    }
}
