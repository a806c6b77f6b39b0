//! Voice guidance: the prompt of each screen, spoken in the patient's language. Japanese is
//! synthesised by Open JTalk (HTS voice "Mei"), the other languages by espeak-ng; WAVs are
//! rendered once into a cache folder (ahead of time by [`Voice::prerender`]) and played with
//! `aplay` on `[voice] device` (e.g. a headphone or handset, so the PIN flow is not announced to
//! the room). A prompt holds the player for its whole length, even on a sink that returns at
//! once, so prompts never talk over each other. Prompts never contain personal data (they are
//! the screens' fixed sentences; a PIN digit is a tone).

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
    /// ALSA device for `aplay -D` (e.g. `plughw:CARD=Headset`, `pulse`, `null`); empty: the
    /// default device.
    pub device: String,
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
            device: String::new(),
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
        let partial = partial_path(&path);
        render(config, lang, text, &partial)?;
        std::fs::rename(&partial, &path)?;
    }
    Ok(path)
}

/// A file of its own to render `path` into (the player and the pre-renderer may race).
fn partial_path(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    path.with_extension(format!("{}-{n}.part", std::process::id()))
}

/// Samples per second of the key tone.
const TONE_RATE: u32 = 16_000;

/// The key tone (80 ms at 880 Hz, at the configured volume), written once into the cache.
fn tone(config: &VoiceConfig) -> Result<PathBuf, VoiceError> {
    let path = config.cache_dir.join(format!("tone-{}.wav", config.volume));
    if path.is_file() {
        return Ok(path);
    }
    std::fs::create_dir_all(&config.cache_dir)?;
    let amplitude = 8000.0 * f64::from(config.volume) / 100.0;
    let samples: Vec<u8> = (0..TONE_RATE * 80 / 1000)
        .flat_map(|i| {
            let t = f64::from(i) / f64::from(TONE_RATE);
            let v = (amplitude * (2.0 * std::f64::consts::PI * 880.0 * t).sin()) as i16;
            v.to_le_bytes()
        })
        .collect();
    let partial = partial_path(&path);
    std::fs::write(&partial, wav_pcm16_mono(TONE_RATE, &samples))?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// A 16-bit mono PCM WAV file of `data`.
fn wav_pcm16_mono(rate: u32, data: &[u8]) -> Vec<u8> {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// The longest rendered prompt read back (about 17 minutes of 16 kHz mono).
const MAX_WAV_BYTES: u64 = 32 << 20;

/// How long a PCM WAV file plays (its byte rate and data size from the header), if it says and
/// it is a regular file of at most [`MAX_WAV_BYTES`].
pub fn duration(wav: &Path) -> Option<std::time::Duration> {
    use std::io::Read;
    let mut header = [0u8; 44];
    let mut file = crate::capped_file::open(wav, MAX_WAV_BYTES).ok()?;
    file.read_exact(&mut header).ok()?;
    let byte_rate = u32::from_le_bytes(header[28..32].try_into().ok()?);
    let size = file.metadata().ok()?.len().saturating_sub(44);
    (byte_rate > 0).then(|| std::time::Duration::from_secs_f64(size as f64 / f64::from(byte_rate)))
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

/// What the voice says: a prompt's text, or the key tone.
#[derive(Debug, Clone, PartialEq)]
pub enum Utterance {
    Text(Lang, String),
    Tone,
}

/// Speaks prompts on a thread of its own; a newer prompt replaces one not yet started.
pub struct Voice {
    tx: Option<mpsc::Sender<Utterance>>,
    config: VoiceConfig,
}

impl Voice {
    /// Starts the player, or a silent voice when muted or when there is no sound device
    /// (said once, in one warning). A configured `device` is taken as given.
    pub fn start(config: VoiceConfig) -> Self {
        if !config.enabled || config.volume == 0 {
            return Self { tx: None, config };
        }
        if config.device.is_empty() {
            if let Err(reason) = sound_device() {
                tracing::warn!("voice guidance is silent: {reason}");
                return Self { tx: None, config };
            }
        }
        let (tx, rx) = mpsc::channel::<Utterance>();
        let player = config.clone();
        let spawned = std::thread::Builder::new()
            .name("voice".into())
            .spawn(move || {
                // A failure is reported once until a prompt plays again, not per prompt.
                let mut failing = false;
                while let Ok(mut said) = rx.recv() {
                    while let Ok(newer) = rx.try_recv() {
                        said = newer;
                    }
                    match speak(&player, &said) {
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
            Ok(_) => Self {
                tx: Some(tx),
                config,
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot start voice guidance");
                Self { tx: None, config }
            }
        }
    }

    pub fn say(&self, said: Utterance) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(said);
        }
    }

    /// Renders `prompts` into the cache on a thread of its own, so no screen change waits for
    /// a synthesiser.
    pub fn prerender(&self, prompts: Vec<(Lang, String)>) {
        if self.tx.is_none() {
            return;
        }
        let config = self.config.clone();
        let spawned = std::thread::Builder::new()
            .name("voice-render".into())
            .spawn(move || {
                let _ = tone(&config);
                let failed = prompts
                    .iter()
                    .filter(|(lang, text)| cached(&config, *lang, text).is_err())
                    .count();
                tracing::info!(prompts = prompts.len(), failed, "voice prompts rendered");
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot render the voice prompts ahead");
        }
    }
}

/// Plays `said`, and holds the player for the prompt's length even when the sink returns
/// sooner.
fn speak(config: &VoiceConfig, said: &Utterance) -> Result<(), VoiceError> {
    let wav = match said {
        Utterance::Text(lang, text) => cached(config, *lang, text)?,
        Utterance::Tone => tone(config)?,
    };
    let started = std::time::Instant::now();
    let mut aplay = Command::new("aplay");
    aplay.arg("-q");
    if !config.device.is_empty() {
        aplay.arg("-D").arg(&config.device);
    }
    let out = aplay
        .arg(&wav)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|source| VoiceError::Spawn {
            program: "aplay",
            source,
        })?;
    if !out.status.success() {
        return Err(VoiceError::Playback {
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        });
    }
    if let Some(rest) = duration(&wav).and_then(|d| d.checked_sub(started.elapsed())) {
        std::thread::sleep(rest);
    }
    Ok(())
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
    fn the_key_tone_is_a_short_wav_of_its_length() {
        let dir = std::env::temp_dir().join(format!("mynakiosk-tone-{}", std::process::id()));
        let config = super::VoiceConfig {
            cache_dir: dir.clone(),
            ..Default::default()
        };
        let wav = super::tone(&config).unwrap();
        let d = super::duration(&wav).unwrap();
        assert_eq!(d.as_millis(), 80);
        std::fs::remove_dir_all(dir).unwrap();
        let c = Config::parse("[voice]\ndevice = \"plughw:CARD=Headset\"\n").unwrap();
        assert_eq!(c.voice.device, "plughw:CARD=Headset");
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
