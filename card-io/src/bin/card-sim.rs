//! `card-sim`: puts a **simulated** card into a vsmartcard vpcd reader, for development and CI.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::Context as _;
use card_io::sim::vpcd::VpcdCard;
use card_io::sim::VirtualCard;
use clap::{Parser, ValueEnum};

/// Insert a simulated card into vpcd ("Virtual PCD 00 00" listens on 35963, "… 00 01" on
/// 35964). The card stays until Ctrl-C, end of standard input, or --remove-after.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// vpcd TCP port.
    #[arg(long, default_value_t = 35963)]
    port: u16,
    /// vpcd host.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Which card to simulate.
    #[arg(long, value_enum, default_value_t = Profile::Mynumber)]
    profile: Profile,
    /// Remove the card after this many seconds (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    remove_after: Option<Duration>,
    /// Keep the card at end of standard input (when run in the background with stdin closed).
    #[arg(long)]
    ignore_stdin: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Profile {
    /// マイナンバーカード (token JPKIAPICCTOKEN2).
    Mynumber,
    /// 住基カード (token JPKIAPICCTOKEN).
    Juki,
    /// A card without the JPKI AP.
    NotMynumber,
}

impl Profile {
    fn card(self) -> VirtualCard {
        match self {
            Self::Mynumber => VirtualCard::my_number(),
            Self::Juki => VirtualCard::juki(),
            Self::NotMynumber => VirtualCard::not_my_number(),
        }
    }
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.parse().map_err(|err| format!("{err}"))?;
    Duration::try_from_secs_f64(secs).map_err(|err| format!("{err}"))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
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

    let card = VpcdCard::insert(args.profile.card(), addr)?;
    println!("inserted {:?} card into vpcd at {addr}", args.profile);
    // `stop` stays alive here, so the channel never disconnects.
    let reason = match args.remove_after {
        Some(after) => stopped.recv_timeout(after).unwrap_or("timer"),
        None => stopped.recv().unwrap_or("channel closed"),
    };
    card.remove()?;
    println!("removed {:?} card ({reason})", args.profile);
    drop(stop);
    Ok(())
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
    fn profiles_parse_from_their_cli_names() {
        let args =
            Args::try_parse_from(["card-sim", "--profile", "not-mynumber", "--port", "35964"])
                .unwrap();
        assert!(matches!(args.profile, Profile::NotMynumber));
        assert_eq!(args.port, 35964);
        assert_eq!(Args::try_parse_from(["card-sim"]).unwrap().port, 35963);
    }
}
