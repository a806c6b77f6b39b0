//! Why single-frame reads fail (development seeds only): each rejected or unsure first frame
//! is read again at the card's true corners, and the lines read there are printed next to the
//! printed fields (synthetic identities, never a real card).

use card_front::{
    rectify, synthetic_card, CardFrontReader, Date, OcrError, ScrubbedMat, Split, SubmitPolicy,
};
use opencv::core::MatTraitConst;
use opencv::imgproc;
use std::collections::BTreeMap;

/// Reads the first frame of cards `cards` of set `seed` of `split` and prints a breakdown of
/// the failures by cause, with the lines of each failing card.
pub fn run(
    reader: &CardFrontReader,
    split: Split,
    seed: u64,
    cards: std::ops::Range<u32>,
    today: Date,
) -> anyhow::Result<()> {
    let count = cards.len() as u32;
    let policy = SubmitPolicy::default();
    let mut causes: BTreeMap<String, u32> = BTreeMap::new();
    let mut cpu = std::time::Duration::ZERO;
    for i in cards {
        let (id, _, mut frames) = synthetic_card(split, seed, i, today)?;
        let shot = frames.next().expect("endless frames")?;
        let verdict = |r: &Result<card_front::PinBRead, OcrError>| match r {
            Ok(r) if r.pin_b() != id.pin_b() => format!("WRONG at {:.3}", r.min_confidence()),
            Ok(r) if r.min_confidence() < policy.needed(1, r.second_look) => {
                // Which of the 14 digits (YYMMDD, expiry year, code) is unsure.
                let needed = policy.needed(1, r.second_look);
                let unsure: String = r
                    .confidence
                    .iter()
                    .map(|&c| if c < needed { '?' } else { '.' })
                    .collect();
                format!("right but unsure ({:.3}, {unsure})", r.min_confidence())
            }
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        };
        let cpu_start = super::process_cpu();
        let found = reader.read(&shot.image, today);
        cpu += super::process_cpu().saturating_sub(cpu_start);
        let found = verdict(&found);
        if found == "ok" {
            *causes.entry("ok".into()).or_default() += 1;
            continue;
        }
        let mut grey = ScrubbedMat::default();
        imgproc::cvt_color_def(&shot.image, &mut *grey, imgproc::COLOR_BGR2GRAY)?;
        let card = rectify(&grey, &shot.corners)?;
        let truth = verdict(&reader.read_rectified(&card, today));
        let cause = if truth == "ok" {
            "outline (reads at the true corners)".to_string()
        } else {
            format!("at true corners: {truth}")
        };
        println!(
            "card {i} ({}x{}): {found}; {cause}; printed {} / {} / {}",
            shot.image.cols(),
            shot.image.rows(),
            id.printed_birth(),
            id.printed_expiry(),
            id.printed_security_code()
        );
        if truth != "ok" {
            for (r, text, least) in reader.line_texts(&card)? {
                println!(
                    "    {:>3},{:>3} {:>3}x{:>2} {least:.2} {}",
                    r.x,
                    r.y,
                    r.width,
                    r.height,
                    text.as_str()
                );
            }
        }
        *causes.entry(cause).or_default() += 1;
    }
    println!("breakdown of {count} cards (seed {seed}, {split:?}):");
    for (cause, n) in causes {
        println!("  {n:>4}  {cause}");
    }
    println!(
        "CPU per read (first frames, whole process): {:.1} ms",
        cpu.as_secs_f64() * 1000.0 / f64::from(count.max(1))
    );
    Ok(())
}
