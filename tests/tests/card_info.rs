//! `mynakiosk card-info` as a black box, against the simulator in vpcd slot 0 through pcscd.

use crate::common;
use std::path::Path;
use std::process::{Output, Stdio};

use card_sim::vpcd::VpcdCard;
use card_sim::{pki, Profile, VirtualCard};
use mynakiosk_tests::binary;
use mynakiosk_tests::pcscd::{self, SLOT0_READER};
use rsa::pkcs8::{EncodePublicKey, LineEnding};

/// Runs `card-info` with `args` on slot 0 while `card` is inserted.
fn card_info(card: Option<VirtualCard>, args: &[&str]) -> (Output, Option<VirtualCard>) {
    card_info_with_input(card, args, "")
}

/// [`card_info`] with `input` on its standard input.
fn card_info_with_input(
    card: Option<VirtualCard>,
    args: &[&str],
    input: &str,
) -> (Output, Option<VirtualCard>) {
    let inserted = card.map(|c| VpcdCard::insert(c, pcscd::slot0_addr()).expect("insert"));
    if inserted.is_some() {
        // Wait for pcscd to see the card.
        drop(pcscd::connect_when_present(SLOT0_READER));
    }
    let mut child = binary::command()
        .args(["card-info", "--reader", SLOT0_READER])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mynakiosk");
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, input.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let card = inserted.map(|c| c.remove().expect("remove"));
    pcscd::require_empty_slot0();
    (out, card)
}

/// 照合番号B in a file of its own (mode 0600) under `dir`, for `--pin-b-file`.
fn pin_b_file(dir: &Path, pin_b: &str) -> String {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("pin-b");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, format!("{pin_b}\n").as_bytes()).unwrap();
    path.display().to_string()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn write_anchor_and_cvc_key(dir: &Path) -> (String, String) {
    let anchor = dir.join("user-ca.der");
    std::fs::write(&anchor, pki::test_trust_anchor_der()).unwrap();
    let key = pki::test_cvc_ca_public_key();
    let key = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&key.modulus),
        rsa::BigUint::from_bytes_be(&key.exponent),
    )
    .unwrap();
    let pem = dir.join("cvc-ca.pem");
    std::fs::write(&pem, key.to_public_key_pem(LineEnding::LF).unwrap()).unwrap();
    (anchor.display().to_string(), pem.display().to_string())
}

#[test]
fn normal_card_reports_certificate_counters_and_photo_but_no_secrets() {
    let _lock = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let (anchor, cvc) = write_anchor_and_cvc_key(dir.path());
    let profile = Profile::load("normal").unwrap();
    let (out, card) = card_info(
        Some(profile.card()),
        &[
            "--trust-anchor",
            &anchor,
            "--cvc-ca-key",
            &cvc,
            "--pin-b-file",
            &pin_b_file(dir.path(), &profile.pin_b),
        ],
    );
    let report = json(&out);
    assert_eq!(report["card_type"], "my-number-card", "{report}");
    assert_eq!(report["certificate"]["verdict"], "valid", "{report}");
    assert!(
        report["certificate"]["serial"].as_str().is_some(),
        "{report}"
    );
    assert_eq!(report["pin_retries"], 3, "{report}");
    assert_eq!(report["pin_b_retries"], 10, "{report}");
    assert!(report["photo_bytes"].as_u64().unwrap() > 1000, "{report}");
    assert_eq!(report["record_signature"], "valid", "{report}");
    let everything = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let holder = profile.holder.as_ref().unwrap();
    for secret in [
        &holder.my_number,
        &profile.pin_b,
        profile.pin.as_ref().unwrap(),
    ] {
        assert!(
            !common::shows_secret(&everything, secret),
            "{secret} leaked: {everything}"
        );
    }
    assert_eq!(card.unwrap().forbidden_access_count(), 0);
}

#[test]
fn pin_b_is_not_presented_with_two_tries_left() {
    let _lock = pcscd::lock();
    let mut profile = Profile::load("normal").unwrap();
    profile.retries.pin_b.left = Some(2);
    // 照合番号B on stdin, never in argv.
    let (out, card) = card_info_with_input(
        Some(profile.card()),
        &["--pin-b-file", "-"],
        &format!("{}\n", profile.pin_b),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("照合番号B not presented: 2 tries left"),
        "{stderr}"
    );
    let card = card.unwrap();
    assert_eq!(
        card.tries_left(&card_io::mynumber::aid::KENMEN_KAKUNIN, 0x0012),
        Some(2),
        "no try spent"
    );
}

#[test]
fn untrusted_and_expired_certificates_get_their_verdicts() {
    let _lock = pcscd::lock();
    let dir = tempfile::tempdir().unwrap();
    let (anchor, _) = write_anchor_and_cvc_key(dir.path());
    for (name, verdict) in [
        ("expired-cert", "expired"),
        ("untrusted-issuer", "untrusted"),
    ] {
        let profile = Profile::load(name).unwrap();
        let (out, _) = card_info(Some(profile.card()), &["--trust-anchor", &anchor]);
        assert_eq!(json(&out)["certificate"]["verdict"], verdict, "{name}");
    }
    let juki = Profile::load("juki").unwrap();
    let (out, _) = card_info(Some(juki.card()), &[]);
    assert_eq!(json(&out)["card_type"], "juki-card");
}

#[test]
fn no_card_and_no_reader_fail_with_a_clear_message() {
    let _lock = pcscd::lock();
    let (out, _) = card_info(None, &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no card in reader"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = binary::command()
        .args(["card-info", "--reader", "No Such Reader"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no card reader matches"));
    // 照合番号B is never taken from the command line, where `ps` would show it.
    let out = binary::command()
        .args(["card-info", "--pin-b", "12345678901234"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument '--pin-b'"));
    let profile = Profile::load("corrupt-tlv").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pin_b = pin_b_file(dir.path(), &profile.pin_b);
    let (out, _) = card_info(Some(profile.card()), &["--pin-b-file", &pin_b]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read the card"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
