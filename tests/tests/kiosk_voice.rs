//! Voice guidance: every screen has a prompt in each language, and the real synthesisers
//! (Open JTalk for Japanese, espeak-ng for the others) turn it into audible speech.

use mynakiosk::kiosk::view;
use mynakiosk::session::{Lang, Screen};
use mynakiosk::voice::{self, VoiceConfig};
use slint::ComponentHandle;

/// Each screen's prompt, per language, from the window's own translations.
fn prompts() -> Vec<(Lang, Vec<String>)> {
    i_slint_backend_testing::init_no_event_loop();
    let window = ui::KioskWindow::new().unwrap();
    Lang::ALL
        .into_iter()
        .map(|lang| {
            view::select_language(lang);
            let texts = Screen::ALL
                .into_iter()
                .map(|s| {
                    window
                        .global::<ui::Texts>()
                        .invoke_prompt(view::screen(s))
                        .to_string()
                })
                .collect();
            (lang, texts)
        })
        .collect()
}

#[test]
fn every_screen_has_a_prompt_in_every_language() {
    let all = prompts();
    let japanese = &all[0].1;
    for (lang, texts) in &all {
        for (screen, text) in Screen::ALL.iter().zip(texts) {
            assert!(!text.is_empty(), "{screen:?} has no {lang:?} prompt");
            if *lang != Lang::Ja {
                let ja = &japanese[Screen::ALL.iter().position(|s| s == screen).unwrap()];
                assert_ne!(text, ja, "{screen:?} prompt is not in {lang:?}");
            }
        }
    }
}

/// Root mean square of the samples, relative to full scale, and the duration in seconds.
fn loudness(path: &std::path::Path) -> (f64, f64) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    assert_eq!(spec.bits_per_sample, 16);
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let sum: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    let rms = (sum / samples.len().max(1) as f64).sqrt() / f64::from(i16::MAX);
    let seconds = samples.len() as f64 / f64::from(spec.sample_rate) / f64::from(spec.channels);
    (rms, seconds)
}

#[test]
fn prompts_render_to_audible_speech_in_each_language() {
    let dir = tempfile::tempdir().unwrap();
    let config = VoiceConfig {
        cache_dir: dir.path().join("cache"),
        ..VoiceConfig::default()
    };
    for (lang, texts) in prompts() {
        let text = &texts[0];
        let wav = voice::cached(&config, lang, text)
            .unwrap_or_else(|e| panic!("{lang:?} prompt {text:?}: {e}"));
        let (rms, seconds) = loudness(&wav);
        assert!(rms > 0.02, "{lang:?}: RMS {rms:.4} is near silence");
        assert!(seconds > 0.5, "{lang:?}: only {seconds:.2} s of audio");
        // The second request is served from the cache, byte for byte.
        let again = voice::cached(&config, lang, text).unwrap();
        assert_eq!(again, wav);
    }
    let quiet = VoiceConfig {
        volume: 10,
        cache_dir: dir.path().join("quiet"),
        ..VoiceConfig::default()
    };
    let loud_rms = loudness(&voice::cached(&config, Lang::En, "Please take your card").unwrap()).0;
    let quiet_rms = loudness(&voice::cached(&quiet, Lang::En, "Please take your card").unwrap()).0;
    assert!(
        quiet_rms < loud_rms / 2.0,
        "volume 10 %: {quiet_rms} vs {loud_rms}"
    );
}
