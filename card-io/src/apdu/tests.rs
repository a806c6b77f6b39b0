//! Command encoding, response parsing and status words.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn select_df_encodes_as_the_spec_bytes() {
    let aid = hex("D3 92 F0 00 26 01 00 00 00 01");
    let cmd = Command::select_df(&aid).unwrap();
    assert_eq!(
        *cmd.to_bytes(),
        hex("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")
    );
}

#[test]
fn select_ef_and_read_binary_encode_short() {
    assert_eq!(
        *Command::select_ef(0x000A).to_bytes(),
        hex("00 A4 02 0C 02 00 0A")
    );
    assert_eq!(
        *Command::read_binary(0x0104, 256).unwrap().to_bytes(),
        hex("00 B0 01 04 00")
    );
    assert_eq!(
        *Command::read_binary(0, 4).unwrap().to_bytes(),
        hex("00 B0 00 00 04")
    );
}

#[test]
fn read_binary_rejects_out_of_range_arguments() {
    assert_eq!(
        Command::read_binary(0x8000, 1),
        Err(ApduError::OffsetOutOfRange(0x8000))
    );
    assert_eq!(Command::read_binary(0, 0), Err(ApduError::LeOutOfRange(0)));
    assert_eq!(
        Command::read_binary(0, 257),
        Err(ApduError::LeOutOfRange(257))
    );
}

#[test]
fn extended_encoding_is_used_when_lengths_need_it() {
    let cmd = Command::new(0x00, 0xB0, 0x8A, 0x04)
        .with_ne(0x0400)
        .unwrap();
    assert!(cmd.is_extended());
    assert_eq!(*cmd.to_bytes(), hex("00 B0 8A 04 00 04 00"));

    let whole = Command::new(0x00, 0xB0, 0x81, 0x00)
        .with_ne(65_536)
        .unwrap();
    assert_eq!(*whole.to_bytes(), hex("00 B0 81 00 00 00 00"));

    let big = Command::new(0x80, 0xA2, 0x06, 0xC1)
        .with_data(vec![0xAB; 307])
        .unwrap()
        .with_ne(256)
        .unwrap();
    let bytes = big.to_bytes();
    assert_eq!(bytes[..7], hex("80 A2 06 C1 00 01 33"));
    assert_eq!(bytes.len(), 7 + 307 + 2);
    assert_eq!(bytes[bytes.len() - 2..], [0x01, 0x00]);
}

#[test]
fn lengths_out_of_range_are_rejected() {
    assert_eq!(
        Command::new(0, 0, 0, 0).with_data(vec![0; 65_536]),
        Err(ApduError::DataTooLong(65_536))
    );
    assert_eq!(
        Command::new(0, 0, 0, 0).with_ne(65_537),
        Err(ApduError::LeOutOfRange(65_537))
    );
    assert_eq!(
        Command::get_response(257),
        Err(ApduError::LeOutOfRange(257))
    );
}

#[test]
fn parse_round_trips_every_case() {
    for apdu in [
        "00 A4 00 00",
        "00 B0 00 00 00",
        "00 B0 00 00 20",
        "00 A4 02 0C 02 00 06",
        "80 2A 00 97 02 AA BB 00",
        "00 B0 8A 04 00 04 00",
        "00 B0 81 00 00 00 00",
    ] {
        let bytes = hex(apdu);
        let cmd = Command::from_bytes(&bytes).unwrap();
        assert_eq!(*cmd.to_bytes(), bytes, "{apdu}");
    }
    let case4e = [hex("80 A2 06 C1 00 01 33"), vec![7; 307], hex("00 00")].concat();
    let cmd = Command::from_bytes(&case4e).unwrap();
    assert_eq!(cmd.data().len(), 307);
    assert_eq!(cmd.ne(), Some(65_536));
    assert_eq!(*cmd.to_bytes(), case4e);
}

#[test]
fn parse_reads_the_fields() {
    let cmd = Command::from_bytes(&hex("00 A4 02 0C 02 00 06")).unwrap();
    assert_eq!(
        (cmd.cla(), cmd.ins(), cmd.p1(), cmd.p2()),
        (0, 0xA4, 2, 0x0C)
    );
    assert_eq!(cmd.data(), [0, 6]);
    assert_eq!(cmd.ne(), None);
    assert_eq!(
        Command::from_bytes(&hex("00 B0 00 00 00")).unwrap().ne(),
        Some(256)
    );
}

#[test]
fn parse_rejects_malformed_lengths() {
    for apdu in [
        "00 A4 04",
        "00 A4 02 0C 03 00 06",
        "00 A4 02 0C 02 00 06 00 00",
        "00 B0 00 00 00 00",
    ] {
        assert_eq!(
            Command::from_bytes(&hex(apdu)),
            Err(ApduError::MalformedCommand(hex(apdu).len())),
            "{apdu}"
        );
    }
}

#[test]
fn response_parse_splits_status_word() {
    let r = Response::from_bytes(hex("30 82 04 B0 90 00")).unwrap();
    assert_eq!(r.data(), hex("30 82 04 B0"));
    assert!(r.sw().is_ok());
    assert_eq!(r.to_bytes(), hex("30 82 04 B0 90 00"));
    let empty = Response::from_bytes(hex("6A 82")).unwrap();
    assert!(empty.data().is_empty());
    assert_eq!(empty.sw(), StatusWord::FILE_NOT_FOUND);
}

#[test]
fn response_shorter_than_two_bytes_is_an_error() {
    assert_eq!(
        Response::from_bytes(vec![]),
        Err(ApduError::ResponseTooShort(0))
    );
    assert_eq!(
        Response::from_bytes(vec![0x90]),
        Err(ApduError::ResponseTooShort(1))
    );
}

#[test]
fn status_word_helpers() {
    assert!(StatusWord::new(0x90, 0x00).is_ok());
    assert!(!StatusWord::new(0x62, 0x82).is_ok());
    assert_eq!(StatusWord::new(0x63, 0xC2).retries_left(), Some(2));
    assert_eq!(StatusWord::new(0x63, 0xC0).retries_left(), Some(0));
    assert_eq!(StatusWord::new(0x63, 0x00).retries_left(), None);
    assert_eq!(StatusWord::new(0x61, 0x10).more_data(), Some(16));
    assert_eq!(StatusWord::new(0x61, 0x00).more_data(), Some(256));
    assert_eq!(StatusWord::new(0x6C, 0x20).wrong_le(), Some(32));
    assert_eq!(StatusWord::new(0x6C, 0x20).more_data(), None);
    assert_eq!(StatusWord::OK.wrong_le(), None);
    assert_eq!(StatusWord::new(0x6A, 0x82).to_string(), "6A82");
    assert_eq!(StatusWord::new(0x6A, 0x82), StatusWord::FILE_NOT_FOUND);
}

#[test]
fn debug_output_hides_data_bytes() {
    let pin = Command::new(0x00, 0x20, 0x00, 0x80)
        .with_data(b"1234".to_vec())
        .unwrap();
    let shown = format!("{pin:?}");
    assert!(!shown.contains("31") && !shown.contains("1234"), "{shown}");
    assert!(shown.contains("4 data bytes"), "{shown}");
    let resp = Response::new(b"123456789012".to_vec(), StatusWord::OK);
    assert_eq!(format!("{resp:?}"), "Response(12 data bytes, 9000)");
}
