//! The `bench` and `unreadable` commands: held-out cards read on worker threads (each card's
//! frames made only when read), tallied in card order, and the figures as a README table.

use card_front::{
    back_frames, first_card_alone, read_card_front_frames, synthetic_frames, turned_frames,
    two_cards_photo, unreadable_photo, CardFrontReader, Date, Defect, FrameVotes, OcrError,
    PinBRead, ReadQuality, SubmitPolicy,
};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How one read (one frame, or a card's frames combined) ended, without its digits.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A validated read: its least digit confidence, how many frames gave it on their own,
    /// whether a second look agreed, whether it is the card's 照合番号B, and which of its 14
    /// digits are not (bit `p` for digit `p`).
    Read {
        least: f32,
        agreeing: u8,
        second_look: bool,
        right: bool,
        wrong_digits: u16,
    },
    /// No validated read, and why.
    Rejected(String),
}

impl Outcome {
    /// Whether the submit policy would present this read to the card.
    fn is_sure(&self, policy: &SubmitPolicy) -> bool {
        match self {
            Outcome::Read {
                least,
                agreeing,
                second_look,
                ..
            } => policy.is_sure(ReadQuality::Read {
                min_confidence: *least,
                agreeing_frames: *agreeing,
                second_look: *second_look,
            }),
            Outcome::Rejected(_) => false,
        }
    }

    fn of(read: &Result<PinBRead, OcrError>, pin_b: &str) -> Self {
        match read {
            Ok(r) => {
                let wrong_digits = r
                    .digits()
                    .iter()
                    .zip(pin_b.bytes())
                    .enumerate()
                    .filter(|(_, (read, printed))| *read != printed)
                    .fold(0u16, |mask, (p, _)| mask | 1 << p);
                Outcome::Read {
                    least: r.min_confidence(),
                    agreeing: r.agreeing_frames,
                    second_look: r.second_look,
                    right: wrong_digits == 0,
                    wrong_digits,
                }
            }
            Err(e) => Outcome::Rejected(e.to_string()),
        }
    }
}

/// One card of the benchmark: its first frame's read, its frames combined, how many were read,
/// and each frame's own read.
#[derive(Debug, Clone, PartialEq)]
pub struct CardOutcome {
    pub single: Outcome,
    pub multi: Outcome,
    pub frames: usize,
    pub each: Vec<FrameRead>,
}

/// One frame's own read, for `--dump`: the confidence of each digit and which digits are
/// wrong (never the digits), or why it was rejected.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameRead {
    Read {
        confidence: [f32; 14],
        wrong_digits: u16,
    },
    Rejected(String),
}

impl FrameRead {
    fn of(read: &Result<PinBRead, OcrError>, pin_b: &str) -> Self {
        match (read, Outcome::of(read, pin_b)) {
            (Ok(r), Outcome::Read { wrong_digits, .. }) => FrameRead::Read {
                confidence: r.confidence,
                wrong_digits,
            },
            (_, outcome) => FrameRead::Rejected(format!("{outcome:?}")),
        }
    }
}

/// Writes every frame's own read, one line each: card, frame, then `read`, the wrong digits'
/// mask and the 14 confidences, or `rejected` and why (tab-separated).
pub fn dump(outcomes: &[CardOutcome], first: u32, out: &std::path::Path) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let mut text = String::new();
    for (i, card) in (first..).zip(outcomes) {
        for (f, frame) in card.each.iter().enumerate() {
            match frame {
                FrameRead::Read {
                    confidence,
                    wrong_digits,
                } => {
                    let c: Vec<String> = confidence.iter().map(|c| format!("{c:.5}")).collect();
                    writeln!(text, "{i}\t{f}\tread\t{wrong_digits}\t{}", c.join("\t"))?;
                }
                FrameRead::Rejected(why) => writeln!(text, "{i}\t{f}\trejected\t{why}")?,
            }
        }
    }
    std::fs::write(out, text)?;
    Ok(())
}

/// What reading a run of cards cost.
#[derive(Default)]
pub struct Cost {
    /// Frames read.
    pub reads: usize,
    /// CPU time of the whole process (every thread: the workers, OpenCV's, ONNX Runtime's)
    /// less what the workers spent making the cards and their frames.
    pub read_cpu: Duration,
    pub wall: Duration,
}

/// Runs `job` on every index of `cards` on `threads` worker threads (each takes the next card
/// not yet taken) and gives the results in card order, with the CPU time the jobs spent on
/// making cards (the `Duration` each returns) and a progress line on stderr every `every`
/// cards.
pub fn on_workers<T: Send>(
    cards: Range<u32>,
    threads: usize,
    every: u32,
    job: impl Fn(u32) -> anyhow::Result<(T, Duration)> + Sync,
) -> anyhow::Result<(Vec<T>, Duration)> {
    let next = AtomicU32::new(cards.start);
    let done = AtomicU32::new(0);
    let results = Mutex::new(Vec::new());
    let making = Mutex::new(Duration::ZERO);
    let started = Instant::now();
    let total = cards.len() as u32;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= cards.end {
                            return Ok(());
                        }
                        let (result, made) = job(i)?;
                        results.lock().expect("results").push((i, result));
                        *making.lock().expect("making") += made;
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_multiple_of(every.max(1)) || n == total {
                            let secs = started.elapsed().as_secs_f64();
                            let left = secs / f64::from(n) * f64::from(total - n);
                            eprintln!("{n} of {total} cards, {secs:.0} s, about {left:.0} s left");
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("a worker panicked")?;
        }
        Ok(())
    })?;
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(i, _)| *i);
    let made = making.into_inner().expect("making");
    Ok((results.into_iter().map(|(_, r)| r).collect(), made))
}

/// Reads cards `cards` of held-out set `seed`, up to `frames` frames each (as
/// `read_card_front_frames`: stop at a combined read sure under `policy`; a frame is made only
/// when it is read; with `every_frame`, all `frames` are read), on
/// `threads` workers; with `turned`, card `i` turned `i % 4` quarter turns. Each card's frames' own reads are kept in [`CardOutcome::each`].
#[allow(clippy::too_many_arguments)]
pub fn read_cards(
    reader: &CardFrontReader,
    seed: u64,
    cards: Range<u32>,
    frames: usize,
    every_frame: bool,
    turned: bool,
    policy: &SubmitPolicy,
    threads: usize,
    today: Date,
) -> anyhow::Result<(Vec<CardOutcome>, Cost)> {
    let (cpu0, wall0) = (super::process_cpu(), Instant::now());
    let (outcomes, making) = on_workers(cards, threads, 50, |i| {
        let made = thread_cpu();
        let (id, mut shots): (_, Box<dyn Iterator<Item = _>>) = if turned {
            let (id, shots) = turned_frames(seed, i, today, (i % 4) as u8)?;
            (id, Box::new(shots))
        } else {
            let (id, shots) = synthetic_frames(seed, i, today)?;
            (id, Box::new(shots))
        };
        let mut making = thread_cpu().saturating_sub(made);
        let pin_b = id.pin_b();
        let mut votes = FrameVotes::new();
        let mut single = None;
        let mut each = Vec::new();
        while votes.frames() < frames {
            let made = thread_cpu();
            let shot = shots.next().expect("endless frames")?;
            making += thread_cpu().saturating_sub(made);
            let read = reader.read(&shot.image, today);
            each.push(FrameRead::of(&read, &pin_b));
            votes.add(read);
            single.get_or_insert_with(|| Outcome::of(&votes.combined(), &pin_b));
            if votes.is_finished(policy) && !every_frame {
                break;
            }
        }
        let card = CardOutcome {
            single: single.expect("at least one frame"),
            multi: Outcome::of(&votes.combined(), &pin_b),
            frames: votes.frames(),
            each,
        };
        Ok((card, making))
    })?;
    let cost = Cost {
        reads: outcomes.iter().map(|c| c.frames).sum(),
        read_cpu: super::process_cpu()
            .saturating_sub(cpu0)
            .saturating_sub(making),
        wall: wall0.elapsed(),
    };
    Ok((outcomes, cost))
}

/// Reads `count` cards of set `seed` per defect (or only `only`) made unreadable by design on
/// `threads` workers, and prints how many were rejected (every one must be).
/// Reads `count` photos of two held-out cards side by side (set `seed`) on `threads` workers
/// and prints how each ended: read (never wanted; sure enough under the submit policy to be
/// submitted from that one photo, or not), rejected as more than one card, or rejected
/// otherwise; and how many of the first cards are read alone (the photo's left half).
pub fn pairs(
    reader: &CardFrontReader,
    seed: u64,
    count: u32,
    threads: usize,
    today: Date,
) -> anyhow::Result<()> {
    let policy = SubmitPolicy::default();
    let (outcomes, _) = on_workers(0..count, threads, 50, |i| {
        let ([first, _], shot) = two_cards_photo(seed, i, today)?;
        let both = reader
            .read(&shot.image, today)
            .map(|r| policy.is_sure(ReadQuality::of(Ok(&r))));
        let alone = reader
            .read(&first_card_alone(&shot)?, today)
            .is_ok_and(|r| r.pin_b() == first.pin_b());
        Ok(((both, alone), Duration::ZERO))
    })?;
    let mut reasons = BTreeMap::<String, (u32, u32)>::new();
    for (i, (both, alone)) in outcomes.iter().enumerate() {
        let why = match both {
            Ok(sure) => {
                println!("  pair {i} READ{}", if *sure { ", SUBMITTED" } else { "" });
                format!(
                    "read, {}",
                    if *sure {
                        "submitted"
                    } else {
                        "not sure enough"
                    }
                )
            }
            Err(e) => format!("rejected: {e}"),
        };
        let tally = reasons.entry(why).or_default();
        tally.0 += 1;
        tally.1 += u32::from(*alone);
    }
    println!("{count} photos of two cards (seed {seed}):");
    for (why, (n, alone)) in reasons {
        println!("  {why}: {n} (the first card read alone in {alone} of them)");
    }
    Ok(())
}

/// Reads COUNT held-out card backs (with `turned`, back `i` turned `i % 4` quarter turns):
/// each first frame on its own, and each back's frames as the kiosk reads them (up to
/// `MAX_FRAMES`, stopping at a back); prints how each was rejected (none may be read).
pub fn backs(
    reader: &CardFrontReader,
    seed: u64,
    count: u32,
    turned: bool,
    threads: usize,
    today: Date,
) -> anyhow::Result<()> {
    let policy = SubmitPolicy::default();
    let (outcomes, _) = on_workers(0..count, threads, 50, |i| {
        let turns = if turned { (i % 4) as u8 } else { 0 };
        let (_, mut frames) = back_frames(seed, i, today, turns)?;
        let first = frames.next().expect("an endless stream of frames")?.image;
        let alone = reader.read(&first, today).map(|_| ());
        let shots = std::iter::once(Ok(first)).chain(frames.map(|f| f.map(|s| s.image)));
        let all = read_card_front_frames(reader, shots.map_while(Result::ok), today, &policy)
            .map(|r| policy.is_sure(ReadQuality::of(Ok(&r))));
        Ok(((alone, all), Duration::ZERO))
    })?;
    let mut single = BTreeMap::<String, u32>::new();
    let mut frames = BTreeMap::<String, u32>::new();
    let why = |r: Result<String, &OcrError>| r.unwrap_or_else(|e| format!("rejected: {e}"));
    for (i, (alone, all)) in outcomes.iter().enumerate() {
        *single
            .entry(why(alone.as_ref().map(|()| "READ".to_string())))
            .or_default() += 1;
        let all = all.as_ref().map(|&sure| {
            println!("  back {i} READ{}", if sure { ", SUBMITTED" } else { "" });
            format!("READ{}", if sure { ", SUBMITTED" } else { "" })
        });
        *frames.entry(why(all)).or_default() += 1;
    }
    let turned = if turned { ", turned" } else { "" };
    println!("{count} card backs (seed {seed}{turned}), first frame alone:");
    for (why, n) in single {
        println!("  {why}: {n}");
    }
    println!(
        "the same backs, up to {} frames each:",
        card_front::MAX_FRAMES
    );
    for (why, n) in frames {
        println!("  {why}: {n}");
    }
    Ok(())
}

pub fn unreadable(
    reader: &CardFrontReader,
    seed: u64,
    count: u32,
    only: Option<&str>,
    threads: usize,
    today: Date,
) -> anyhow::Result<()> {
    let policy = SubmitPolicy::default();
    let defects = Defect::ALL
        .into_iter()
        .filter(|d| only.is_none_or(|o| o == format!("{d:?}")));
    for defect in defects {
        let (outcomes, _) = on_workers(0..count, threads, 50, |i| {
            let (id, shot) = unreadable_photo(defect, seed, i, today)?;
            Ok((
                Outcome::of(&reader.read(&shot.image, today), &id.pin_b()),
                Duration::ZERO,
            ))
        })?;
        let mut submitted = 0u32;
        for (i, outcome) in outcomes.iter().enumerate() {
            if let Outcome::Read { right, .. } = outcome {
                if outcome.is_sure(&policy) {
                    let right = if *right { "right" } else { "WRONG" };
                    println!("  {defect:?} card {i} submitted ({right})");
                    submitted += 1;
                }
            }
        }
        println!(
            "{defect:?}: {} of {count} rejected, {submitted} submitted",
            count - submitted
        );
    }
    Ok(())
}

/// CPU time the calling thread has used (`/proc/thread-self/schedstat`, nanoseconds).
pub fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat.split_whitespace().next().and_then(|t| t.parse().ok());
    Duration::from_nanos(ns.unwrap_or(0))
}

/// The figures of one way of reading (single frame, or up to the most frames).
#[derive(Default)]
pub struct Tally {
    cards: u32,
    exact: u32,
    wrong: u32,
    rejected: u32,
    /// Rejected reads that were right but not confident enough.
    low_conf_correct: u32,
    reasons: BTreeMap<String, u32>,
    /// (least digit confidence, read right) of every validated read, for the sweep.
    validated: Vec<(f32, bool)>,
    /// Validated reads a second look agreed with: right, wrong.
    second_looks: [u32; 2],
    frames: usize,
}

impl Tally {
    pub fn of<'a>(
        outcomes: impl IntoIterator<Item = (&'a Outcome, usize)>,
        policy: &SubmitPolicy,
    ) -> Self {
        let mut t = Tally::default();
        for (outcome, frames) in outcomes {
            t.cards += 1;
            t.frames += frames;
            match outcome {
                Outcome::Read {
                    least,
                    right,
                    second_look,
                    ..
                } => {
                    t.validated.push((*least, *right));
                    if *second_look {
                        t.second_looks[usize::from(!*right)] += 1;
                    }
                    if !outcome.is_sure(policy) {
                        t.rejected += 1;
                        t.low_conf_correct += u32::from(*right);
                    } else if *right {
                        t.exact += 1;
                    } else {
                        t.wrong += 1;
                    }
                }
                Outcome::Rejected(reason) => {
                    t.rejected += 1;
                    *t.reasons.entry(reason.clone()).or_insert(0) += 1;
                }
            }
        }
        t
    }

    fn pct(&self, n: u32) -> f64 {
        100.0 * f64::from(n) / f64::from(self.cards.max(1))
    }

    /// Why reads were rejected, and the exact / wrong submissions at other thresholds.
    pub fn print_details(&self, name: &str) {
        println!("{name}:");
        for (reason, n) in &self.reasons {
            println!("    rejected: {reason}: {n}");
        }
        println!(
            "    rejected, right but less sure than the policy: {}",
            self.low_conf_correct
        );
        let sweep: Vec<String> = [0.5f32, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995]
            .iter()
            .map(|&t| {
                let at = |right: bool| {
                    let sure = self.validated.iter().filter(|(c, _)| *c >= t);
                    sure.filter(|(_, ok)| *ok == right).count()
                };
                format!("{t:.2} → {} / {}", at(true), at(false))
            })
            .collect();
        println!(
            "    validated reads at least so sure in every digit, however many frames agree (exact / wrong): {}",
            sweep.join(", ")
        );
        println!(
            "    validated reads a second look agreed with (exact / wrong): {} / {}",
            self.second_looks[0], self.second_looks[1]
        );
    }

    /// The row of the README's table, with the run's CPU time per read `cpu_ms`.
    pub fn row(&self, name: &str, cpu_ms: f64) -> String {
        format!(
            "| {name} | **{:.2} %** ({}) | {:.2} % ({} of them right but not sure enough) | **{}** | {:.2} | {cpu_ms:.0} ms |",
            self.pct(self.exact),
            self.exact,
            self.pct(self.rejected),
            self.low_conf_correct,
            self.wrong,
            self.frames as f64 / f64::from(self.cards.max(1)),
        )
    }
}

/// Prints the figures of a benchmark run, ending with the table for card-front/README.md.
pub fn print(
    outcomes: &[CardOutcome],
    cost: &Cost,
    (seed, cards, frames, threads): (u64, Range<u32>, usize, usize),
) {
    let policy = SubmitPolicy::default();
    let single = Tally::of(outcomes.iter().map(|c| (&c.single, 1)), &policy);
    let multi = Tally::of(outcomes.iter().map(|c| (&c.multi, c.frames)), &policy);
    single.print_details("single frame");
    if frames > 1 {
        multi.print_details(&format!("up to {frames} frames"));
    }
    print_wrong_reads(outcomes, cards.start);
    let reads = cost.reads.max(1) as f64;
    let cpu_ms = cost.read_cpu.as_secs_f64() * 1000.0 / reads;
    println!();
    println!(
        "| {} cards, seed {seed} (cards {}..{}) | Exact submitted | Rejected (re-place / PIN) | Wrong submissions | Frames per card | CPU per read (every frame of the run) |",
        cards.len(),
        cards.start,
        cards.end
    );
    println!("|---|---|---|---|---|---|");
    println!("{}", single.row("Single frame", cpu_ms));
    if frames > 1 {
        let name = format!("Up to {frames} frames, stop when sure");
        println!("{}", multi.row(&name, cpu_ms));
    }
    println!();
    println!(
        "CPU per read: **{cpu_ms:.1} ms** ({} frames read in {:.0} s on {threads} worker threads, {:.1} ms of wall time per read; the whole process's CPU time less the making of the cards)",
        cost.reads,
        cost.wall.as_secs_f64(),
        cost.wall.as_secs_f64() * 1000.0 / reads,
    );
}

/// Lists every wrong validated read at least 0.9 sure, by card and field (never its digits),
/// so that a wrong submission can be looked at on a development seed.
fn print_wrong_reads(outcomes: &[CardOutcome], first: u32) {
    const FIELDS: [(&str, std::ops::Range<usize>); 3] =
        [("birth", 0..6), ("expiry", 6..10), ("code", 10..14)];
    for (i, card) in (first..).zip(outcomes) {
        for (name, outcome) in [("single frame", &card.single), ("frames", &card.multi)] {
            let Outcome::Read {
                least,
                agreeing,
                second_look,
                right: false,
                wrong_digits,
            } = outcome
            else {
                continue;
            };
            if *least < 0.9 {
                continue;
            }
            let fields: Vec<String> = FIELDS
                .iter()
                .filter(|(_, digits)| digits.clone().any(|p| wrong_digits & 1 << p != 0))
                .map(|(field, digits)| {
                    let at: Vec<String> = digits
                        .clone()
                        .filter(|p| wrong_digits & 1 << p != 0)
                        .map(|p| (p - digits.start + 1).to_string())
                        .collect();
                    format!("{field} digit {}", at.join("+"))
                })
                .collect();
            println!(
                "  card {i}: wrong read ({name}, least {least:.3}, {agreeing} frame(s) agreeing, second look agreeing: {second_look}): {}",
                fields.join(", ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcomes_do_not_depend_on_the_number_of_workers() {
        let env = super::super::ort_env().unwrap();
        let reader = CardFrontReader::new(&env, &card_front::models_dir()).unwrap();
        let today = Date::new(2026, 11, 22).unwrap();
        let policy = SubmitPolicy::default();
        let run = |threads| read_cards(&reader, 5, 0..4, 2, false, false, &policy, threads, today);
        let run = |threads| run(threads).unwrap();
        let (one, cost) = run(1);
        let (two, _) = run(2);
        assert_eq!(one, two);
        assert_eq!(one.len(), 4);
        assert_eq!(cost.reads, one.iter().map(|c| c.frames).sum::<usize>());
        assert!(one.iter().any(|c| matches!(c.single, Outcome::Read { .. })));
    }
}
