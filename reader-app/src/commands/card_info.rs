//! `mynakiosk card-info`: reads the card on a PC/SC reader and prints, as JSON, what the kiosk
//! learned. Never the My Number (the card layer cannot read it) and never a PIN.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use card_io::certificate::{CertificateSummary, TrustAnchors};
use card_io::monitor::ReaderFilter;
use card_io::mynumber::{CardKind, MyNumberCard, PinB, RetryCounter, RsaPublicKey, VerifyOutcome};
use card_io::pcsc_transport::{list_readers, PcscTransport};
use card_io::transport::{CardTransport, TransportError};
use serde_json::{json, Value};

use crate::capped_file;
use crate::config::{CardConfig, Config, MAX_CONFIG_BYTES};

/// 照合番号B is presented only while more than this many tries remain.
const PIN_B_MIN_TRIES: u8 = 2;

/// Options of `card-info`.
#[derive(clap::Args)]
pub struct Args {
    /// Substring of the reader name (default: `reader.name` of the configuration).
    #[arg(long)]
    reader: Option<String>,
    /// Trust anchor for the user-authentication certificate (PEM or DER; repeatable).
    #[arg(long = "trust-anchor")]
    trust_anchors: Vec<PathBuf>,
    /// Intermediate CA between a trust anchor and the certificate (PEM or DER; repeatable).
    #[arg(long = "intermediate")]
    intermediates: Vec<PathBuf>,
    /// CRL of a trust anchor (PEM or DER; repeatable).
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// PEM public key of the CA of the 券面 AP certificate chain, to check the card-face signature.
    #[arg(long)]
    cvc_ca_key: Option<PathBuf>,
    /// File holding 照合番号B (14 digits) to open the card face, `-` for stdin (never on the
    /// command line, where `ps` shows it); refused when 2 or fewer tries remain.
    #[arg(long, value_name = "FILE|-")]
    pin_b_file: Option<PathBuf>,
}

/// Longest 照合番号B input read: 14 digits and a line end, with room for spaces.
const MAX_PIN_B_INPUT: u64 = 64;

/// Reads 照合番号B from `path` (`-`: stdin): one line, at most [`MAX_PIN_B_INPUT`] bytes.
fn read_pin_b(path: &Path) -> anyhow::Result<PinB> {
    use std::io::Read;
    let mut text = zeroize::Zeroizing::new(String::new());
    let read = if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_PIN_B_INPUT)
            .read_to_string(&mut text)
    } else {
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => Err(std::io::Error::other("not a regular file")),
            _ => std::fs::File::open(path)
                .and_then(|f| f.take(MAX_PIN_B_INPUT).read_to_string(&mut text)),
        }
    };
    read.with_context(|| format!("--pin-b-file {}", path.display()))?;
    PinB::new(text.trim()).with_context(|| format!("--pin-b-file {}", path.display()))
}

pub fn run(config: &Config, args: Args) -> anyhow::Result<()> {
    let anchors = CardConfig {
        trust_anchors: args.trust_anchors,
        intermediates: args.intermediates,
        crls: args.crl,
    }
    .trust_anchors()?;
    let cvc_ca = match &args.cvc_ca_key {
        Some(path) => Some(
            capped_file::read_text(path, MAX_CONFIG_BYTES)
                .ok()
                .and_then(|text| RsaPublicKey::from_pem(&text))
                .ok_or_else(|| anyhow!("{} is not a PEM RSA public key", path.display()))?,
        ),
        None => None,
    };
    let pin_b = args.pin_b_file.as_deref().map(read_pin_b).transpose()?;
    let pattern = args.reader.as_deref().unwrap_or(&config.reader.name);
    let (reader, mut transport) = connect(pattern)?;
    let transaction = transport
        .transaction()
        .with_context(|| format!("cannot start a transaction on {reader:?}"))?;
    let mut card = MyNumberCard::new(transaction);
    let mut report = read(&mut card, &anchors, cvc_ca.as_ref(), pin_b.as_ref())
        .with_context(|| format!("cannot read the card in {reader:?}"))?;
    report["reader"] = json!(reader);
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The card in the first reader whose name contains `pattern` (ignoring case) and holds a card.
fn connect(pattern: &str) -> anyhow::Result<(String, PcscTransport)> {
    let readers = list_readers().map_err(|err| match err {
        TransportError::NoService => anyhow!("pcscd is not running (no PC/SC service)"),
        TransportError::ReaderUnavailable => anyhow!("no card reader is connected"),
        err => anyhow!("cannot list card readers: {err}"),
    })?;
    let filter = ReaderFilter::Contains(pattern.to_owned());
    let matching: Vec<String> = readers
        .into_iter()
        .filter(|name| filter.matches(name))
        .collect();
    if matching.is_empty() {
        bail!("no card reader matches {pattern:?}");
    }
    for reader in &matching {
        match PcscTransport::connect(reader) {
            Ok(transport) => return Ok((reader.clone(), transport)),
            Err(TransportError::CardRemoved) => {}
            Err(err) => bail!("cannot connect to the card in {reader:?}: {err}"),
        }
    }
    match matching.as_slice() {
        [reader] => bail!("no card in reader {reader:?}"),
        readers => bail!("no card in any of the readers {readers:?}"),
    }
}

/// Everything `card-info` reports.
fn read<T: CardTransport>(
    card: &mut MyNumberCard<T>,
    anchors: &TrustAnchors,
    cvc_ca: Option<&RsaPublicKey>,
    pin_b: Option<&PinB>,
) -> anyhow::Result<Value> {
    let kind = card.detect()?;
    let mut report = json!({ "card_type": kind_code(&kind) });
    if let CardKind::UnknownToken(token) = &kind {
        report["token"] = json!(token);
    }
    if kind != CardKind::MyNumberCard {
        return Ok(report);
    }
    let mut jpki = card.jpki()?;
    let certificate = jpki.user_auth_certificate()?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let verdict = anchors.check(&certificate, now);
    report["certificate"] = match CertificateSummary::of(&certificate) {
        Some(summary) => json!({
            "serial": summary.serial,
            "issuer": summary.issuer,
            "not_before": summary.not_before,
            "not_after": summary.not_after,
            "verdict": verdict.code(),
        }),
        None => json!({ "verdict": verdict.code() }),
    };
    report["pin_retries"] = retries_json(jpki.pin_retries()?);
    let mut surface = card.surface()?;
    let pin_b_retries = surface.pin_b_retries()?;
    report["pin_b_retries"] = retries_json(pin_b_retries);
    let Some(pin_b) = pin_b else {
        return Ok(report);
    };
    match pin_b_retries {
        RetryCounter::Remaining(n) if n > PIN_B_MIN_TRIES => {}
        RetryCounter::AlreadyVerified => {}
        other => bail!(
            "照合番号B not presented: {} tries left (needs more than {PIN_B_MIN_TRIES})",
            other.remaining().unwrap_or(0)
        ),
    }
    match surface.verify_pin_b(pin_b)? {
        VerifyOutcome::Verified => {}
        VerifyOutcome::Wrong { remaining } => {
            bail!("照合番号B was rejected by the card: {remaining} tries left")
        }
        VerifyOutcome::Locked => bail!("照合番号B is locked on this card"),
    }
    let record = surface.read_record()?;
    report["photo_bytes"] = json!(record.photo.as_ref().map_or(0, |p| p.len()));
    report["record_signature"] = match cvc_ca {
        Some(ca) => json!(record.verify(&surface.certificate()?, ca).code()),
        None => json!("not-checked"),
    };
    Ok(report)
}

fn kind_code(kind: &CardKind) -> &'static str {
    match kind {
        CardKind::MyNumberCard => "my-number-card",
        CardKind::JukiCard => "juki-card",
        CardKind::PhoneToken => "phone-token",
        CardKind::NotMyNumberCard => "not-my-number-card",
        CardKind::UnknownToken(_) => "unknown-token",
    }
}

fn retries_json(counter: RetryCounter) -> Value {
    match counter {
        RetryCounter::Remaining(n) => json!(n),
        RetryCounter::Locked => json!("locked"),
        RetryCounter::AlreadyVerified => json!("verified"),
        RetryCounter::NotSet => json!("not-set"),
    }
}
