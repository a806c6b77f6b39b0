//! Certificate verdicts against the simulator's test CA: chain, validity, expiry warning, CRLs,
//! and trust anchors from PEM or DER files.

use std::path::{Path, PathBuf};

use card_io::certificate::{
    CaDefect, CertificateSummary, ChainVerdict, TrustAnchors, TrustError, EXPIRY_WARNING_DAYS,
};
use card_sim::pki::{self, ChainFixture};
use card_sim::Profile;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn certificate(profile: &str) -> Vec<u8> {
    Profile::load(profile)
        .unwrap()
        .certificate
        .expect("profile certificate")
}

fn anchors() -> TrustAnchors {
    let mut anchors = TrustAnchors::new();
    anchors.add_der(&pki::test_trust_anchor_der()).unwrap();
    anchors
}

#[test]
fn validity_window_gives_each_verdict() {
    let normal = certificate("normal");
    let summary = CertificateSummary::of(&normal).unwrap();
    assert_eq!(summary.serial, "10:01");
    assert!(summary.issuer.contains("JPKI TEST"), "{}", summary.issuer);
    let anchors = anchors();
    let day = 86_400;
    assert_eq!(
        anchors.check(&normal, summary.not_before + day),
        ChainVerdict::Valid
    );
    assert_eq!(
        anchors.check(&normal, summary.not_before - 1),
        ChainVerdict::NotYetValid
    );
    assert_eq!(
        anchors.check(&normal, summary.not_after + 1),
        ChainVerdict::Expired
    );
    assert_eq!(
        anchors.check(&normal, summary.not_after - 10 * day),
        ChainVerdict::ExpiringSoon { days_left: 10 }
    );
    assert_eq!(
        anchors.check(&normal, summary.not_after - EXPIRY_WARNING_DAYS * day - 1),
        ChainVerdict::Valid
    );
}

#[test]
fn untrusted_issuer_and_empty_anchor_set_are_untrusted() {
    let now = CertificateSummary::of(&certificate("normal"))
        .unwrap()
        .not_before
        + 86_400;
    assert_eq!(
        anchors().check(&certificate("untrusted-issuer"), now),
        ChainVerdict::Untrusted
    );
    assert_eq!(
        TrustAnchors::new().check(&certificate("normal"), now),
        ChainVerdict::Untrusted
    );
    let mut tampered = certificate("normal");
    let at = tampered.len() - 10;
    tampered[at] ^= 1;
    assert_eq!(anchors().check(&tampered, now), ChainVerdict::Untrusted);
}

#[test]
fn a_crl_signed_by_the_anchor_revokes_by_serial() {
    let mut anchors = anchors();
    anchors
        .add_crl_file(&fixture("revoked-normal.crl.pem"))
        .unwrap();
    let normal = certificate("normal");
    let now = CertificateSummary::of(&normal).unwrap().not_before + 86_400;
    assert_eq!(anchors.check(&normal, now), ChainVerdict::Revoked);
    assert_eq!(
        anchors.check(&certificate("pin-locked"), now),
        ChainVerdict::Valid
    );
}

#[test]
fn a_crl_from_another_issuer_is_refused() {
    let mut anchors = anchors();
    assert!(matches!(
        anchors.add_crl_file(&fixture("untrusted-issuer.crl.pem")),
        Err(TrustError::CrlNotTrusted { .. })
    ));
}

#[test]
fn anchors_load_from_pem_and_der_files() {
    let dir = std::env::temp_dir().join(format!("card-io-anchors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let der_path = dir.join("ca.der");
    std::fs::write(&der_path, pki::test_trust_anchor_der()).unwrap();
    let now = CertificateSummary::of(&certificate("normal"))
        .unwrap()
        .not_before
        + 86_400;
    for path in [der_path, fixture("user-ca.pem")] {
        let mut anchors = TrustAnchors::new();
        anchors.add_file(&path).unwrap();
        assert_eq!(
            anchors.check(&certificate("normal"), now),
            ChainVerdict::Valid,
            "{}",
            path.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A day after the chain fixtures' leaves became valid.
fn chain_fixture_now() -> i64 {
    CertificateSummary::of(&ChainFixture::LeafViaIntermediate.der())
        .unwrap()
        .not_before
        + 86_400
}

#[test]
fn a_leaf_chains_to_the_anchor_through_an_intermediate() {
    let leaf = ChainFixture::LeafViaIntermediate.der();
    let now = chain_fixture_now();
    let mut anchors = anchors();
    assert_eq!(anchors.check(&leaf, now), ChainVerdict::Untrusted);
    anchors
        .add_intermediate_der(&ChainFixture::IntermediateCa.der())
        .unwrap();
    assert_eq!(anchors.check(&leaf, now), ChainVerdict::Valid);
    // The intermediate alone is no anchor.
    let mut only_intermediate = TrustAnchors::new();
    only_intermediate
        .add_intermediate_der(&ChainFixture::IntermediateCa.der())
        .unwrap();
    assert_eq!(only_intermediate.check(&leaf, now), ChainVerdict::Untrusted);
    // Nor does an intermediate make the other CA's certificates trusted.
    assert_eq!(
        anchors.check(&certificate("untrusted-issuer"), now),
        ChainVerdict::Untrusted
    );
}

#[test]
fn the_path_length_of_an_intermediate_is_respected() {
    let leaf = ChainFixture::LeafViaTwoIntermediates.der();
    let now = chain_fixture_now();
    let mut anchors = anchors();
    anchors
        .add_intermediate_der(&ChainFixture::SubIntermediateCa.der())
        .unwrap();
    // Without the intermediate-ca link there is no path at all.
    assert_eq!(anchors.check(&leaf, now), ChainVerdict::Untrusted);
    anchors
        .add_intermediate_der(&ChainFixture::IntermediateCa.der())
        .unwrap();
    // Every signature verifies, but intermediate-ca (pathLenConstraint 0) allows no CA below.
    assert_eq!(anchors.check(&leaf, now), ChainVerdict::Untrusted);
    // A sub-intermediate trusted directly is a one-intermediate path again.
    anchors
        .add_der(&ChainFixture::SubIntermediateCa.der())
        .unwrap();
    assert_eq!(anchors.check(&leaf, now), ChainVerdict::Valid);
}

#[test]
fn anchors_and_intermediates_must_be_ca_certificates() {
    let mut anchors = TrustAnchors::new();
    let cases = [
        (ChainFixture::NotACa, CaDefect::NotCa),
        (ChainFixture::CaWithoutKeyCertSign, CaDefect::NoKeyCertSign),
        (ChainFixture::NotACaIntermediate, CaDefect::NotCa),
    ];
    for (fixture, expected) in cases {
        let der = fixture.der();
        for result in [anchors.add_der(&der), anchors.add_intermediate_der(&der)] {
            match result {
                Err(TrustError::NotCa {
                    defect, subject, ..
                }) => {
                    assert_eq!(defect, expected, "{fixture:?}");
                    assert!(subject.contains("TEST-NOCA") || subject.contains("TEST-NOKCS"));
                }
                other => panic!("{fixture:?} accepted as a CA: {other:?}"),
            }
        }
    }
    assert!(anchors.is_empty());
    // From a file, the message names the file and says why.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-ca.der");
    std::fs::write(&path, ChainFixture::NotACa.der()).unwrap();
    let message = anchors.add_file(&path).unwrap_err().to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("not a CA certificate"), "{message}");
    assert!(message.contains("cA=true"), "{message}");
    let message = anchors
        .add_intermediate_file(&path)
        .unwrap_err()
        .to_string();
    assert!(message.contains("not a CA certificate"), "{message}");
}
