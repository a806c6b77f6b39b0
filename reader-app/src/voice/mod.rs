//! Voice guidance: the prompt of each screen, spoken in the patient's language. Japanese is
//! synthesised by Open JTalk (HTS voice "Mei"), the other languages by espeak-ng; WAVs are
//! rendered once into a cache folder and played with `aplay`. Prompts never contain personal
//! data (they are the screens' fixed sentences).

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use crate::lang::Lang;

/// `[voice]`: guidance through the kiosk's speaker.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceConfig {
    /// false = muted.
    pub enabled: bool,
    /// 0–100 % of the synthesiser's normal loudness.
    pub volume: u8,
    /// HTS voice for Open JTalk (Japanese).
    pub htsvoice: PathBuf,
    /// Open JTalk's dictionary folder (Debian: open-jtalk-mecab-naist-jdic).
    pub dictionary: PathBuf,
    /// Where rendered prompts are kept.
    pub cache_dir: PathBuf,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            volume: 100,
            htsvoice: PathBuf::from(
                option_env!("MYNAKIOSK_HTSVOICE")
                    .unwrap_or("/usr/share/mynakiosk/voices/mei_normal.htsvoice"),
            ),
            dictionary: PathBuf::from("/var/lib/mecab/dic/open-jtalk/naist-jdic"),
            cache_dir: std::env::temp_dir().join("mynakiosk-voice"),
        }
    }
}

impl VoiceConfig {
    /// The volume is a percentage.
    pub(crate) fn validate(&self) -> Result<(), crate::setting::Invalid> {
        crate::setting::Invalid::check_range("voice.volume", self.volume, 0..=100)
    }
}

/// Why a prompt could not be rendered or played.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("{program} failed with {status}")]
    Failed {
        program: &'static str,
        status: std::process::ExitStatus,
    },
    /// aplay failed; `stderr` is the first line it wrote there.
    #[error("aplay failed with {status}: {stderr}")]
    Playback {
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("the Japanese voice {0} is missing (scripts/setup.sh installs it)")]
    NoVoice(PathBuf),
    #[error("cannot write the voice cache: {0}")]
    Cache(#[from] std::io::Error),
}

/// Renders `text` in `lang` to the WAV file `out`.
pub fn render(config: &VoiceConfig, lang: Lang, text: &str, out: &Path) -> Result<(), VoiceError> {
    let volume = f64::from(config.volume.clamp(1, 100));
    let mut cmd;
    let program = if lang == Lang::Ja {
        if !config.htsvoice.is_file() {
            return Err(VoiceError::NoVoice(config.htsvoice.clone()));
        }
        cmd = Command::new("open_jtalk");
        cmd.arg("-x")
            .arg(&config.dictionary)
            .arg("-m")
            .arg(&config.htsvoice)
            .arg("-g")
            .arg(format!("{:.1}", 20.0 * (volume / 100.0).log10()))
            .arg("-ow")
            .arg(out);
        "open_jtalk"
    } else {
        cmd = Command::new("espeak-ng");
        let voice = match lang {
            Lang::En => "en",
            Lang::ZhHans => "cmn",
            Lang::Ko => "ko",
            _ => "vi",
        };
        cmd.args(["-v", voice, "-s", "150", "-a"])
            .arg(format!("{volume:.0}"))
            .arg("-w")
            .arg(out)
            .arg("--stdin");
        "espeak-ng"
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| VoiceError::Spawn { program, source })?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(text.as_bytes())
            .map_err(|source| VoiceError::Spawn { program, source })?;
    }
    let status = child
        .wait()
        .map_err(|source| VoiceError::Spawn { program, source })?;
    if status.success() {
        Ok(())
    } else {
        Err(VoiceError::Failed { program, status })
    }
}

/// The cached WAV of a prompt, rendered on first use.
pub fn cached(config: &VoiceConfig, lang: Lang, text: &str) -> Result<PathBuf, VoiceError> {
    let key = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}\n{}\n{}", lang.code(), config.volume, text).as_bytes(),
    );
    let path = config
        .cache_dir
        .join(format!("{}.wav", hex::encode(&key.as_ref()[..12])));
    if !path.is_file() {
        std::fs::create_dir_all(&config.cache_dir)?;
        let partial = path.with_extension("part.wav");
        render(config, lang, text, &partial)?;
        std::fs::rename(&partial, &path)?;
    }
    Ok(path)
}

/// ALSA's list of sound cards.
const SOUND_CARDS: &str = "/proc/asound/cards";

/// The sound cards ALSA lists, or why there is no sound output.
pub fn sound_device() -> Result<String, String> {
    sound_cards(std::fs::read_to_string(SOUND_CARDS).ok().as_deref())
}

/// The card names in a `/proc/asound/cards` listing (`None`: no such file).
fn sound_cards(listing: Option<&str>) -> Result<String, String> {
    let Some(listing) = listing else {
        return Err(format!(
            "no sound device ({SOUND_CARDS} missing: no ALSA driver)"
        ));
    };
    // Each card's first line is ` N [id  ]: driver - name`.
    let names: Vec<&str> = listing
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.split_once(" - ").map(|(_, name)| name.trim()))
        .collect();
    if names.is_empty() {
        Err(format!("no sound device ({SOUND_CARDS} lists no card)"))
    } else {
        Ok(names.join(", "))
    }
}

/// Speaks prompts on a thread of its own; a newer prompt replaces one not yet started.
pub struct Voice {
    tx: Option<mpsc::Sender<(Lang, String)>>,
}

impl Voice {
    /// Starts the player, or a silent voice when muted or when there is no sound device
    /// (said once, in one warning).
    pub fn start(config: VoiceConfig) -> Self {
        if !config.enabled || config.volume == 0 {
            return Self { tx: None };
        }
        if let Err(reason) = sound_device() {
            tracing::warn!("voice guidance is silent: {reason}");
            return Self { tx: None };
        }
        let (tx, rx) = mpsc::channel::<(Lang, String)>();
        let spawned = std::thread::Builder::new()
            .name("voice".into())
            .spawn(move || {
                // A failure is reported once until a prompt plays again, not per prompt.
                let mut failing = false;
                while let Ok(mut prompt) = rx.recv() {
                    while let Ok(newer) = rx.try_recv() {
                        prompt = newer;
                    }
                    match speak(&config, prompt.0, &prompt.1) {
                        Ok(()) => failing = false,
                        Err(e) if failing => tracing::debug!(error = %e, "voice guidance failed"),
                        Err(e) => {
                            failing = true;
                            tracing::warn!(error = %e, "voice guidance failed (repeats not logged)");
                        }
                    }
                }
            });
        match spawned {
            Ok(_) => Self { tx: Some(tx) },
            Err(e) => {
                tracing::warn!(error = %e, "cannot start voice guidance");
                Self { tx: None }
            }
        }
    }

    pub fn say(&self, lang: Lang, text: String) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((lang, text));
        }
    }
}

fn speak(config: &VoiceConfig, lang: Lang, text: &str) -> Result<(), VoiceError> {
    let wav = cached(config, lang, text)?;
    let out = Command::new("aplay")
        .arg("-q")
        .arg(&wav)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|source| VoiceError::Spawn {
            program: "aplay",
            source,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(VoiceError::Playback {
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn voice_section_mutes_and_sets_volume() {
        let c = Config::parse("[voice]\nenabled = false\nvolume = 40\n").unwrap();
        assert!(!c.voice.enabled);
        assert_eq!(c.voice.volume, 40);
        let e = Config::parse("[voice]\nvolume = 120\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "line 2, key voice.volume: expected 0 to 100, found 120");
    }

    #[test]
    fn sound_cards_are_listed_or_their_absence_explained() {
        let listing = " 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0xf7f10000 irq 33\n 1 [Device         ]: USB-Audio - USB Audio Device\n                      C-Media USB Audio at usb-0000:00:14.0-2\n";
        assert_eq!(
            super::sound_cards(Some(listing)).unwrap(),
            "HDA Intel PCH, USB Audio Device"
        );
        let none = super::sound_cards(Some("--- no soundcards ---\n")).unwrap_err();
        assert!(none.contains("lists no card"), "{none}");
        let missing = super::sound_cards(None).unwrap_err();
        assert!(missing.contains("no ALSA driver"), "{missing}");
    }

    #[test]
    fn missing_japanese_voice_is_a_clear_error() {
        let config = super::VoiceConfig {
            htsvoice: "/nonexistent/mei.htsvoice".into(),
            ..Default::default()
        };
        let out = std::env::temp_dir().join("mynakiosk-voice-test.wav");
        let e = super::render(&config, crate::lang::Lang::Ja, "テスト", &out).unwrap_err();
        assert!(matches!(e, super::VoiceError::NoVoice(_)), "{e}");
        assert!(e.to_string().contains("scripts/setup.sh"));
    }
}
