//! BER-TLV encoding of the simulator's records.
//!
//! Hand-written because the records need exact control over the bytes (offset tables computed
//! from field positions, deliberately corrupt lengths), and `iso7816-tlv` 0.4.4 encodes a
//! 127-byte value with a two-byte length while counting one byte for it.

/// `tag ‖ length ‖ value` with the shortest definite length.
pub(crate) fn encode(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    out.extend_from_slice(&length(value.len()));
    out.extend_from_slice(value);
    out
}

/// The shortest BER length field for `len` (`len` < 65 536 in every record of the card).
pub(crate) fn length(len: usize) -> Vec<u8> {
    match len {
        0..=0x7F => vec![len as u8],
        0x80..=0xFF => vec![0x81, len as u8],
        _ => {
            let [hi, lo] = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
            vec![0x82, hi, lo]
        }
    }
}

/// A constructed record `tag { DF21 offsets, fields… }`: the offset table holds, big-endian,
/// the position of each field's first byte counted from the first byte of the record.
pub(crate) fn with_offset_table(tag: &[u8], fields: &[Vec<u8>]) -> Vec<u8> {
    let table_len = 2 * fields.len();
    let body_len: usize =
        2 + length(table_len).len() + table_len + fields.iter().map(Vec::len).sum::<usize>();
    let mut position = tag.len() + length(body_len).len() + 2 + length(table_len).len() + table_len;
    let mut table = Vec::with_capacity(table_len);
    for field in fields {
        table.extend_from_slice(&u16::try_from(position).unwrap_or(u16::MAX).to_be_bytes());
        position += field.len();
    }
    let mut body = encode(&[0xDF, 0x21], &table);
    body.extend(fields.iter().flatten());
    encode(tag, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_shortest_form() {
        assert_eq!(length(0), [0]);
        assert_eq!(length(127), [0x7F]);
        assert_eq!(length(128), [0x81, 0x80]);
        assert_eq!(length(255), [0x81, 0xFF]);
        assert_eq!(length(0x21E), [0x82, 0x02, 0x1E]);
    }

    #[test]
    fn offset_table_points_at_each_field() {
        let fields = vec![
            encode(&[0xDF, 0x22], b"abc"),
            encode(&[0xDF, 0x23], &[0; 200]),
            encode(&[0xDF, 0x24], b"x"),
        ];
        let record = with_offset_table(&[0xFF, 0x20], &fields);
        // FF 20 81 xx | DF 21 06 <6> | fields
        assert_eq!(record[..3], [0xFF, 0x20, 0x81]);
        assert_eq!(usize::from(record[3]) + 4, record.len());
        assert_eq!(record[4..7], [0xDF, 0x21, 0x06]);
        let table = &record[7..13];
        for (i, field) in fields.iter().enumerate() {
            let at = usize::from(u16::from_be_bytes([table[2 * i], table[2 * i + 1]]));
            assert_eq!(&record[at..at + field.len()], field.as_slice());
        }
    }

    #[test]
    fn spec_example_offsets_match() {
        // 入力補助 EF 0002 of a test card: FF 20 65 DF 21 08 00 0E … (name at 3 + 3 + 8).
        let fields = vec![
            encode(&[0xDF, 0x22], &[0; 0x0F]),
            encode(&[0xDF, 0x23], &[0; 0x36]),
            encode(&[0xDF, 0x24], b"19800217"),
            encode(&[0xDF, 0x25], b"1"),
        ];
        let record = with_offset_table(&[0xFF, 0x20], &fields);
        assert_eq!(
            record[..14],
            [0xFF, 0x20, 0x65, 0xDF, 0x21, 0x08, 0x00, 0x0E, 0x00, 0x20, 0x00, 0x59, 0x00, 0x64]
        );
    }
}
