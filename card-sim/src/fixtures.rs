//! TEST-ONLY fixture files embedded in the binary (keys, certificates, photos, profiles), so
//! that `card-sim` works from any directory.

/// Embeds `card-sim/profiles/<path>` for each path.
macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        /// Every embedded fixture, by its path under `card-sim/profiles/`.
        const FILES: &[(&str, &[u8])] = &[
            $(($path, include_bytes!(concat!("../profiles/", $path)))),*
        ];
    };
}

embed!(
    "keys/user-ca.pem",
    "keys/untrusted-ca.pem",
    "keys/cvc-ca.pem",
    "keys/kenmen-ap.pem",
    "keys/hojo-ap.pem",
    "keys/card-key.pem",
    "keys/auth-normal.pem",
    "keys/auth-pin-1-try-left.pem",
    "keys/auth-pin-locked.pem",
    "keys/auth-face-card.pem",
    "keys/auth-expired-cert.pem",
    "keys/auth-untrusted-issuer.pem",
    "keys/auth-no-photo.pem",
    "keys/auth-corrupt-tlv.pem",
    "keys/auth-truncated-file.pem",
    "keys/auth-foreign-resident.pem",
    "keys/auth-juki.pem",
    "certs/user-ca.der",
    "certs/untrusted-ca.der",
    "certs/auth-normal.der",
    "certs/auth-pin-1-try-left.der",
    "certs/auth-pin-locked.der",
    "certs/auth-face-card.der",
    "certs/auth-expired-cert.der",
    "certs/auth-untrusted-issuer.der",
    "certs/auth-no-photo.der",
    "certs/auth-corrupt-tlv.der",
    "certs/auth-truncated-file.der",
    "certs/auth-foreign-resident.der",
    "certs/auth-juki.der",
    "certs/intermediate-ca.der",
    "certs/sub-intermediate-ca.der",
    "certs/not-a-ca-intermediate.der",
    "certs/not-a-ca.der",
    "certs/ca-without-keycertsign.der",
    "certs/auth-via-intermediate.der",
    "certs/auth-via-two-intermediates.der",
    "photos/obama.jp2",
    "photos/obama2.jp2",
    "photos/biden.jp2",
    "photos/hopper.jp2",
);

/// The embedded fixture at `path` (relative to `card-sim/profiles/`).
pub(crate) fn embedded(path: &str) -> Option<&'static [u8]> {
    FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_greyscale_jp2_files() {
        for (name, bytes) in FILES.iter().filter(|(n, _)| n.starts_with("photos/")) {
            assert_eq!(
                bytes[..12],
                [0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A],
                "{name}"
            );
            assert!(bytes.len() < 8 * 1024, "{name} is {} bytes", bytes.len());
        }
    }

    #[test]
    fn unknown_paths_are_none() {
        assert!(embedded("keys/none.pem").is_none());
        assert!(embedded("certs/user-ca.der").is_some());
    }
}
