//! BER-TLV encoding of the simulator's records, with the `iso7816-tlv` crate.
//!
//! The crate checks the tags and writes the length fields. A constructed tag's value is given as
//! bytes (the encoded fields), because `iso7816-tlv` 0.4.4 writes a 127-byte value's length as
//! `81 7F` yet counts one byte for it, so its own constructed encoding would misstate the outer
//! length of a record holding a 127-byte field; a primitive value's length is exact.

use iso7816_tlv::ber::{Tag, Tlv, Value};

/// Bit 6 of a tag's first byte: the value is made of TLVs.
const CONSTRUCTED: u8 = 0x20;

/// Tag of a record's offset table.
const OFFSET_TABLE: [u8; 2] = [0xDF, 0x21];

/// `tag ‖ length ‖ value`. A constructed tag is written through its primitive twin (bit 6 of the
/// first byte cleared, then set again in the output), so `value` is taken as raw bytes.
///
/// Panics on an invalid tag: the simulator's tags are constants.
pub(crate) fn encode(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut twin = tag.to_vec();
    let constructed = twin.first().is_some_and(|first| first & CONSTRUCTED != 0);
    if let Some(first) = twin.first_mut() {
        *first &= !CONSTRUCTED;
    }
    let number = twin.iter().fold(0u64, |n, byte| n << 8 | u64::from(*byte));
    let tlv = Tag::try_from(number)
        .and_then(|tag| Tlv::new(tag, Value::Primitive(value.to_vec())))
        .unwrap_or_else(|err| panic!("tag {tag:02X?}: {err:?}"));
    let mut out = tlv.to_vec();
    if constructed {
        out[0] |= CONSTRUCTED;
    }
    out
}

/// A constructed record `tag { DF21 offsets, fields… }`: the offset table holds, big-endian,
/// the position of each field's first byte counted from the first byte of the record.
pub(crate) fn with_offset_table(tag: &[u8], fields: &[Vec<u8>]) -> Vec<u8> {
    let table_len = 2 * fields.len();
    let mut body = encode(&OFFSET_TABLE, &vec![0; table_len]);
    body.extend(fields.iter().flatten());
    let mut record = encode(tag, &body);
    // The fields end the record and the table ends where they start.
    let mut position = record.len() - fields.iter().map(Vec::len).sum::<usize>();
    let table = position - table_len;
    for (entry, field) in record[table..position].chunks_exact_mut(2).zip(fields) {
        entry.copy_from_slice(&u16::try_from(position).unwrap_or(u16::MAX).to_be_bytes());
        position += field.len();
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The length field of `encode(tag, value)` for a one-byte primitive tag.
    fn length_field(len: usize) -> Vec<u8> {
        let tlv = encode(&[0x80], &vec![0; len]);
        tlv[1..tlv.len() - len].to_vec()
    }

    #[test]
    fn lengths_are_definite_and_exact() {
        assert_eq!(length_field(0), [0]);
        assert_eq!(length_field(126), [0x7E]);
        // Valid BER, not the shortest form (see the module documentation).
        assert_eq!(length_field(127), [0x81, 0x7F]);
        assert_eq!(length_field(128), [0x81, 0x80]);
        assert_eq!(length_field(255), [0x81, 0xFF]);
        assert_eq!(length_field(0x21E), [0x82, 0x02, 0x1E]);
    }

    #[test]
    fn constructed_tags_keep_their_bit_and_exact_length() {
        let field = encode(&[0xDF, 0x22], &[0x41; 127]);
        let record = encode(&[0xFF, 0x20], &field);
        assert_eq!(record[..2], [0xFF, 0x20]);
        assert_eq!(record[2..4], [0x81, 131]);
        assert_eq!(record[4..], field[..]);
        let cvc = encode(&[0x7F, 0x21], &[]);
        assert_eq!(cvc, [0x7F, 0x21, 0x00]);
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
