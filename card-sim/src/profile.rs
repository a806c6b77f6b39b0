//! Simulated cards described by data files: `card-sim/profiles/<name>.toml` (embedded), or any
//! file through [`Profile::from_file`].
//!
//! A profile names a card type, the (fictional, TEST) holder, the PIN, retry counters,
//! certificate, photo and behaviour flags. File paths in a profile (certificates, keys,
//! photos) are relative to the profile file's folder; a path that does not exist there names an
//! embedded fixture (`certs/auth-normal.der`, `photos/obama.jp2`, …).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::card::Quirks;
use crate::date::{Calendar, Date};
use crate::fixtures;
use crate::pki::SigningKey;
use crate::SimError;

/// Embeds the profile files and lists their names.
macro_rules! embedded_profiles {
    ($($name:literal),* $(,)?) => {
        const NAMES: &[&str] = &[$($name),*];
        const TEXTS: &[&str] = &[$(include_str!(concat!("../profiles/", $name, ".toml"))),*];
    };
}

embedded_profiles!(
    "normal",
    "pin-1-try-left",
    "pin-locked",
    "face-card",
    "expired-cert",
    "untrusted-issuer",
    "no-photo",
    "corrupt-tlv",
    "truncated-file",
    "foreign-resident",
    "juki",
    "not-my-number",
);

/// What kind of card a profile simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CardType {
    /// マイナンバーカード: JPKI AP (token `JPKIAPICCTOKEN2`), 券面事項確認AP, 入力補助AP.
    #[default]
    MyNumber,
    /// 住基カード: JPKI AP only, token `JPKIAPICCTOKEN`.
    Juki,
    /// Another contact card (an 運転免許証 AID only): the JPKI AP answers `6A82`.
    NotMyNumber,
}

/// The fictional card holder printed on the card face and stored in the chip (TEST data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// 氏名 (family and given name separated by U+3000).
    pub name: String,
    /// 住所.
    pub address: String,
    /// 生年月日.
    pub birth_date: Date,
    /// How the card front prints the birth date (和暦 for Japanese nationals).
    pub calendar: Calendar,
    /// Calendar of the birth date inside 照合番号B and the 生年月日 key. 和暦 for Japanese
    /// nationals; for foreign residents UNCERTAIN (Gregorian assumed): a profile field.
    pub pin_b_calendar: Calendar,
    /// 性別: `1` male, `2` female, `9` not applicable, `0` unknown.
    pub sex: u8,
    /// 有効期限 of the card (not of the certificate).
    pub card_expiry: Date,
    /// セキュリティコード: 4 digits printed under the photo.
    pub security_code: String,
    /// TEST 12-digit My Number: only in the files the kiosk must never read.
    pub my_number: String,
    /// 全国地方公共団体コード (5 digits).
    pub municipality: String,
}

/// Retry counters of one IEF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tries {
    /// Tries after a correct entry.
    pub max: u8,
    /// Tries left now (defaults to `max`).
    pub left: Option<u8>,
}

impl Tries {
    const fn full(max: u8) -> Self {
        Self { max, left: None }
    }

    /// Tries left now.
    pub fn left(self) -> u8 {
        self.left.unwrap_or(self.max).min(self.max)
    }
}

/// Retry counters of the card's IEFs. Real limits of 照合番号A/B and the 生年月日 key are not
/// published (UNCERTAIN): 10 is assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retries {
    /// JPKI 利用者証明用 PIN (IEF 0018), 3.
    pub pin: Tries,
    /// 入力補助用 PIN (入力補助AP IEF 0011), 3.
    pub support_pin: Tries,
    /// 照合番号B (券面AP IEF 0012 and 入力補助AP IEF 0015, separate counters).
    pub pin_b: Tries,
    /// 照合番号A (券面AP IEF 0013, 入力補助AP IEF 0014).
    pub pin_a: Tries,
    /// 生年月日 key (券面AP IEF 0011).
    pub birth: Tries,
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            pin: Tries::full(3),
            support_pin: Tries::full(3),
            pin_b: Tries::full(10),
            pin_a: Tries::full(10),
            birth: Tries::full(10),
        }
    }
}

/// Deliberate defects of a profile's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Defects {
    /// The 券面AP card-face record's DF27 (photo) claims a length beyond the record.
    pub corrupt_tlv: bool,
    /// The user-auth certificate EF and the card-face EF end half-way through their TLV.
    pub truncated: bool,
}

/// A simulated card described by a profile file. TEST data only.
#[derive(Clone)]
pub struct Profile {
    /// Profile name (the file name without `.toml`).
    pub name: String,
    /// One line on what the profile shows.
    pub description: String,
    /// Card type.
    pub card_type: CardType,
    /// The 4-digit PINs (利用者証明用 and 入力補助用, set the same); `None` on a
    /// 顔認証マイナンバーカード, which has no PIN set.
    pub pin: Option<String>,
    /// 照合番号B, 14 digits: birth date `YYMMDD` (in [`Holder::pin_b_calendar`]) + card expiry
    /// year + セキュリティコード. Empty when the card has no 券面 APs.
    pub pin_b: String,
    /// The 6-digit 生年月日 key of 券面AP IEF 0011 (`YYMMDD`, same calendar as 照合番号B).
    pub birth_key: String,
    /// The holder (`None` for cards without 券面 APs).
    pub holder: Option<Holder>,
    /// Retry counters at insertion.
    pub retries: Retries,
    /// DER of the user-authentication certificate in JPKI EF 000A.
    pub certificate: Option<Vec<u8>>,
    /// DER of the CA certificate in JPKI EF 000B.
    pub ca_certificate: Option<Vec<u8>>,
    /// JPEG 2000 (JP2) face photo in DF27; `None` = empty DF27.
    pub photo: Option<Vec<u8>>,
    /// Protocol behaviours (61xx, 6Cxx, extended length).
    pub quirks: Quirks,
    /// Deliberate data defects.
    pub defects: Defects,
    pub(crate) auth_key: Option<SigningKey>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("card_type", &self.card_type)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    description: String,
    #[serde(default)]
    card: CardType,
    pin: Option<String>,
    holder: Option<HolderFile>,
    #[serde(default)]
    retries: Retries,
    certificate: Option<CertificateFile>,
    photo: Option<String>,
    #[serde(default)]
    quirks: QuirksFile,
    #[serde(default)]
    defects: Defects,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderFile {
    name: String,
    address: String,
    birth_date: String,
    calendar: Calendar,
    pin_b_calendar: Option<Calendar>,
    sex: u8,
    card_expiry: String,
    security_code: String,
    my_number: String,
    municipality: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateFile {
    file: String,
    key: String,
    #[serde(default = "default_ca")]
    ca: String,
}

fn default_ca() -> String {
    "certs/user-ca.der".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct QuirksFile {
    get_response: bool,
    wrong_le: bool,
    extended_length: bool,
}

impl Default for QuirksFile {
    fn default() -> Self {
        let q = Quirks::default();
        Self {
            get_response: q.get_response,
            wrong_le: q.wrong_le,
            extended_length: q.extended_length,
        }
    }
}

/// Where a profile's relative file paths point.
enum Base<'a> {
    Embedded,
    Dir(&'a Path),
}

impl Base<'_> {
    fn read(&self, profile: &str, path: &str) -> Result<Vec<u8>, SimError> {
        if let Base::Dir(dir) = self {
            let on_disk = dir.join(path);
            if on_disk.is_file() {
                return std::fs::read(&on_disk).map_err(|source| SimError::Io {
                    path: on_disk,
                    source,
                });
            }
        }
        fixtures::embedded(path)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| SimError::Invalid {
                profile: profile.to_owned(),
                reason: format!("no file {path:?} (neither beside the profile nor embedded)"),
            })
    }
}

impl Profile {
    /// Names of the embedded profiles.
    pub fn names() -> &'static [&'static str] {
        NAMES
    }

    /// The embedded profile `name`.
    pub fn load(name: &str) -> Result<Self, SimError> {
        let index = NAMES
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| SimError::UnknownProfile(name.to_owned()))?;
        Self::parse(name, TEXTS[index], &Base::Embedded)
    }

    /// A profile file anywhere; its name is the file name without extension.
    pub fn from_file(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Io {
            path: PathBuf::from(path),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::parse(&name, &text, &Base::Dir(dir))
    }

    fn parse(name: &str, text: &str, base: &Base) -> Result<Self, SimError> {
        let invalid = |reason: String| SimError::Invalid {
            profile: name.to_owned(),
            reason,
        };
        let file: ProfileFile = toml::from_str(text).map_err(|err| invalid(err.to_string()))?;
        if let Some(pin) = &file.pin {
            check_digits("pin", pin, 4).map_err(invalid)?;
        }
        let holder = file.holder.map(holder).transpose().map_err(invalid)?;
        let needs_jpki = file.card != CardType::NotMyNumber;
        if needs_jpki && file.certificate.is_none() {
            return Err(invalid("a JPKI card needs [certificate]".into()));
        }
        if file.card == CardType::MyNumber && holder.is_none() {
            return Err(invalid("a My Number card needs [holder]".into()));
        }
        let (certificate, ca_certificate, auth_key) = match &file.certificate {
            Some(cert) => {
                let key_pem = base.read(name, &cert.key)?;
                let key = SigningKey::from_pem(&cert.key, &key_pem)?;
                (
                    Some(base.read(name, &cert.file)?),
                    Some(base.read(name, &cert.ca)?),
                    Some(key),
                )
            }
            None => (None, None, None),
        };
        let photo = file.photo.map(|p| base.read(name, &p)).transpose()?;
        let (pin_b, birth_key) = match &holder {
            Some(h) => {
                let birth = h.birth_date.yymmdd(h.pin_b_calendar);
                let pin_b = format!("{birth}{:04}{}", h.card_expiry.year, h.security_code);
                (pin_b, birth)
            }
            None => (String::new(), String::new()),
        };
        Ok(Self {
            name: name.to_owned(),
            description: file.description,
            card_type: file.card,
            pin: file.pin,
            pin_b,
            birth_key,
            holder,
            retries: file.retries,
            certificate,
            ca_certificate,
            photo,
            quirks: Quirks {
                get_response: file.quirks.get_response,
                wrong_le: file.quirks.wrong_le,
                extended_length: file.quirks.extended_length,
            },
            defects: file.defects,
            auth_key,
        })
    }
}

fn holder(file: HolderFile) -> Result<Holder, String> {
    let date = |field: &str, text: &str| {
        Date::parse(text).ok_or_else(|| format!("{field} {text:?} is not a YYYY-MM-DD date"))
    };
    check_digits("security_code", &file.security_code, 4)?;
    check_digits("my_number", &file.my_number, 12)?;
    check_digits("municipality", &file.municipality, 5)?;
    if ![0, 1, 2, 9].contains(&file.sex) {
        return Err(format!("sex {} is not 0, 1, 2 or 9", file.sex));
    }
    Ok(Holder {
        name: file.name,
        address: file.address,
        birth_date: date("birth_date", &file.birth_date)?,
        calendar: file.calendar,
        pin_b_calendar: file.pin_b_calendar.unwrap_or(file.calendar),
        sex: file.sex,
        card_expiry: date("card_expiry", &file.card_expiry)?,
        security_code: file.security_code,
        my_number: file.my_number,
        municipality: file.municipality,
    })
}

fn check_digits(field: &str, value: &str, len: usize) -> Result<(), String> {
    if value.len() == len && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("{field} must be {len} ASCII digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_profile_loads() {
        assert_eq!(Profile::names().len(), 12);
        for name in Profile::names() {
            let profile = Profile::load(name).unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(profile.name, *name);
            assert!(!profile.description.is_empty());
        }
    }

    #[test]
    fn pin_b_is_wareki_birth_expiry_year_and_security_code() {
        let normal = Profile::load("normal").unwrap();
        assert_eq!(
            normal.pin_b, "55021720352285",
            "spec example: 昭和55-02-17, 2035, 2285"
        );
        assert_eq!(normal.birth_key, "550217");
        assert_eq!(normal.pin.as_deref(), Some("1234"));
        let foreign = Profile::load("foreign-resident").unwrap();
        let holder = foreign.holder.as_ref().unwrap();
        assert_eq!(holder.pin_b_calendar, Calendar::Gregorian);
        assert_eq!(
            &foreign.pin_b[..6],
            holder.birth_date.yymmdd(Calendar::Gregorian)
        );
        assert_eq!(foreign.pin_b.len(), 14);
    }

    #[test]
    fn unknown_profile_is_an_error() {
        assert!(matches!(
            Profile::load("gold-card"),
            Err(SimError::UnknownProfile(name)) if name == "gold-card"
        ));
    }

    #[test]
    fn profile_files_resolve_paths_beside_them_then_embedded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("me.jp2"), b"not really a photo").unwrap();
        let text = TEXTS[0].replace("photos/obama.jp2", "me.jp2");
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, text).unwrap();
        let profile = Profile::from_file(&path).unwrap();
        assert_eq!(profile.name, "mine");
        assert_eq!(profile.photo.as_deref(), Some(&b"not really a photo"[..]));
        assert!(profile.certificate.is_some(), "embedded certificate");
    }

    #[test]
    fn bad_profile_files_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("x = 1\n", "unknown field"),
            (&TEXTS[0].replace("\"2285\"", "\"22a5\""), "security_code"),
            (&TEXTS[0].replace("1980-02-17", "1980-02-30"), "birth_date"),
            (
                &TEXTS[0].replace("photos/obama.jp2", "photos/none.jp2"),
                "photos/none.jp2",
            ),
            (
                &TEXTS[0].replace("pin = \"1234\"", "pin = \"12345\""),
                "pin",
            ),
        ];
        for (text, needle) in cases {
            let path = dir.path().join("bad.toml");
            std::fs::write(&path, text).unwrap();
            let err = Profile::from_file(&path).unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} should mention {needle:?}");
        }
        assert!(matches!(
            Profile::from_file(&dir.path().join("missing.toml")),
            Err(SimError::Io { .. })
        ));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let normal = Profile::load("normal").unwrap();
        let debug = format!("{normal:?}");
        assert!(!debug.contains("1234") && !debug.contains(&normal.pin_b));
    }
}
