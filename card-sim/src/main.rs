//! `card-sim`: puts a **simulated** card into a vsmartcard vpcd reader, for development and CI.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::Context as _;
use card_sim::vpcd::VpcdCard;
use card_sim::{Fault, Profile, Quirks};
use clap::Parser;

/// Insert a SIMULATED card (test data only) into vpcd ("Virtual PCD 00 00" listens on 35963,
/// "… 00 01" on 35964). The card stays until Ctrl-C, end of standard input, --remove-after,
/// or a remove-after fault. On exit a report line gives how often a file holding the My Number
/// was touched.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// vpcd TCP port.
    #[arg(long, default_value_t = 35963)]
    port: u16,
    /// vpcd host.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Embedded profile to simulate (see --list).
    #[arg(long, default_value = "normal", conflicts_with = "profile_file")]
    profile: String,
    /// A profile file instead of an embedded profile.
    #[arg(long, value_name = "FILE")]
    profile_file: Option<PathBuf>,
    /// Remove the card after this many seconds (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    remove_after: Option<Duration>,
    /// Inject a fault: remove-after=N (APDUs), slow=MILLISECONDS, wrong-status=INS:SW (hex).
    /// Repeatable.
    #[arg(long, value_name = "FAULT")]
    fault: Vec<Fault>,
    /// Answer every response with data as 61xx and hand it out by GET RESPONSE.
    #[arg(long)]
    get_response: bool,
    /// Answer 6Cxx when a short READ BINARY asks past the end of a file.
    #[arg(long)]
    wrong_le: bool,
    /// Refuse extended-length APDUs (6700), as a card without extended length would.
    #[arg(long)]
    short_only: bool,
    /// Keep the card at end of standard input (when run in the background with stdin closed).
    #[arg(long)]
    ignore_stdin: bool,
    /// List the embedded profiles and exit.
    #[arg(long)]
    list: bool,
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.parse().map_err(|err| format!("{err}"))?;
    Duration::try_from_secs_f64(secs).map_err(|err| format!("{err}"))
}

fn list() -> anyhow::Result<()> {
    for name in Profile::names() {
        let profile = Profile::load(name)?;
        println!("{name:18} {}", profile.description);
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.list {
        return list();
    }
    let profile = match &args.profile_file {
        Some(path) => Profile::from_file(path)?,
        None => Profile::load(&args.profile)?,
    };
    let quirks = Quirks {
        get_response: profile.quirks.get_response || args.get_response,
        wrong_le: profile.quirks.wrong_le || args.wrong_le,
        extended_length: profile.quirks.extended_length && !args.short_only,
    };
    let card = args
        .fault
        .iter()
        .fold(profile.card().with_quirks(quirks), |card, fault| {
            card.with_fault(*fault)
        });
    let forbidden = card.forbidden_access_counter();
    let addr = SocketAddr::new(args.host, args.port);
    let (stop, stopped) = mpsc::channel();
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || {
            let _ = stop.send("Ctrl-C");
        })
        .context("installing the Ctrl-C handler")?;
    }
    if !args.ignore_stdin {
        let stop = stop.clone();
        thread::spawn(move || {
            // Whatever arrives on stdin is ignored; only its end matters.
            let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
            let _ = stop.send("end of input");
        });
    }

    let inserted = VpcdCard::insert(card, addr)?;
    println!(
        "inserted simulated card {:?} into vpcd at {addr}",
        profile.name
    );
    let reason = wait(&inserted, &stopped, args.remove_after);
    let card = inserted.remove()?;
    println!("removed simulated card {:?} ({reason})", profile.name);
    println!(
        "report: profile={} apdus={} forbidden_accesses={}",
        profile.name,
        card.apdus_answered(),
        forbidden.count()
    );
    drop(stop);
    Ok(())
}

/// Waits for a stop request, the timer, or a fault that removed the card.
fn wait(
    card: &VpcdCard,
    stopped: &mpsc::Receiver<&'static str>,
    limit: Option<Duration>,
) -> &'static str {
    const POLL: Duration = Duration::from_millis(50);
    let deadline = limit.map(|limit| std::time::Instant::now() + limit);
    loop {
        match stopped.recv_timeout(POLL) {
            Ok(reason) => return reason,
            Err(mpsc::RecvTimeoutError::Disconnected) => return "channel closed",
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if card.is_closed() {
            return "fault";
        }
        if deadline.is_some_and(|deadline| std::time::Instant::now() >= deadline) {
            return "timer";
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_after_accepts_fractions_and_rejects_negatives() {
        assert_eq!(parse_secs("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("soon").is_err());
    }

    #[test]
    fn profiles_and_faults_parse_from_the_command_line() {
        let args = Args::try_parse_from([
            "card-sim",
            "--profile",
            "pin-locked",
            "--port",
            "35964",
            "--fault",
            "remove-after=3",
            "--fault",
            "slow=10",
            "--wrong-le",
        ])
        .unwrap();
        assert_eq!(args.profile, "pin-locked");
        assert_eq!(args.port, 35964);
        assert_eq!(
            args.fault,
            [
                Fault::RemoveAfter(3),
                Fault::Slow(Duration::from_millis(10))
            ]
        );
        assert!(args.wrong_le && !args.get_response && !args.short_only);
        let defaults = Args::try_parse_from(["card-sim"]).unwrap();
        assert_eq!(
            (defaults.port, defaults.profile.as_str()),
            (35963, "normal")
        );
        assert!(Args::try_parse_from(["card-sim", "--fault", "explode"]).is_err());
        assert!(
            Args::try_parse_from(["card-sim", "--profile", "x", "--profile-file", "y"]).is_err()
        );
    }
}
