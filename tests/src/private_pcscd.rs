//! A pcscd of the test's own, which the test may stop, crash and restart without disturbing
//! the machine's pcscd.
//!
//! pcscd 1.9.9 always serves `/run/pcscd/pcscd.comm` (only the client library honours
//! `PCSCLITE_CSOCK_NAME`), so the private daemon runs in a mount namespace of its own with a
//! tmpfs on `/run/pcscd`; clients reach its socket through `/proc/<pid>/root`. Its reader
//! list is a private `reader.conf.d` (`pcscd --config`) whose vpcd readers listen on ports
//! other than the machine's. Creating the namespace needs root (CAP_SYS_ADMIN), as CI has.
//!
//! pcscd loads `reader.conf.d` readers only when it starts (a hot-plug rescan does not drop
//! them), so a reader "unplugged" while pcscd is down is a restart with another reader list.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::Instant;

use card_sim::vpcd::VpcdCard;
use card_sim::VirtualCard;

use crate::pcscd::{PcscdLock, EVENT_TIMEOUT, POLL};

/// File locked by the tests that run a private pcscd (its vpcd ports are fixed).
const LOCK_PATH: &str = "/tmp/mynakiosk-private-pcscd.lock";
static IN_PROCESS: Mutex<()> = Mutex::new(());

/// A vpcd reader of the private pcscd: slot 0 is `"<name> 00 00"` on `port`.
#[derive(Debug, Clone, Copy)]
pub struct VpcdReader {
    /// pcscd's FRIENDLYNAME.
    pub name: &'static str,
    /// TCP port of slot 0 (slot 1 listens on the next one).
    pub port: u16,
}

impl VpcdReader {
    /// pcscd's name of slot 0.
    pub fn slot0(&self) -> String {
        format!("{} 00 00", self.name)
    }

    /// Inserts `card` in slot 0, retrying while pcscd's vpcd is not listening yet.
    pub fn insert(&self, card: VirtualCard) -> VpcdCard {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + EVENT_TIMEOUT;
        loop {
            match VpcdCard::insert(card.clone(), addr) {
                Ok(inserted) => return inserted,
                Err(_) if Instant::now() < deadline => thread::sleep(POLL),
                Err(err) => panic!("cannot insert a card in {}: {err}", self.slot0()),
            }
        }
    }
}

/// The reader the private pcscd starts with.
pub const PRIVATE: VpcdReader = VpcdReader {
    name: "Private PCD",
    port: 0x8D11,
};
/// Another reader, for a restart without [`PRIVATE`].
pub const OTHER: VpcdReader = VpcdReader {
    name: "Other PCD",
    port: 0x8D21,
};

/// The namespace, the daemon in it, and its configuration; all stopped on drop.
pub struct PrivatePcscd {
    dir: tempfile::TempDir,
    /// Holds the namespace open (it exits when its standard input closes).
    holder: Child,
    _holder_stdin: ChildStdin,
    daemon: Option<Child>,
    _lock: PcscdLock,
}

impl PrivatePcscd {
    /// Starts pcscd in a new mount namespace with `reader` (panics with the reason if it
    /// cannot).
    pub fn start(reader: VpcdReader) -> Self {
        let lock = PcscdLock::take(&IN_PROCESS, LOCK_PATH);
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut holder = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg("mkdir -p /run/pcscd && mount -t tmpfs tmpfs /run/pcscd && echo ready && exec cat >/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run unshare (util-linux)");
        let mut ready = String::new();
        let stdout = holder.stdout.take().expect("piped stdout");
        BufReader::new(stdout).read_line(&mut ready).ok();
        if ready.trim() != "ready" {
            let _ = holder.wait();
            let mut why = String::new();
            if let Some(err) = holder.stderr.take() {
                BufReader::new(err).read_line(&mut why).ok();
            }
            panic!("cannot make a mount namespace for a private pcscd (needs root): {why}");
        }
        let stdin = holder.stdin.take().expect("piped stdin");
        let mut pcscd = Self {
            dir,
            holder,
            _holder_stdin: stdin,
            daemon: None,
            _lock: lock,
        };
        pcscd.restart(reader);
        pcscd
    }

    /// The socket clients reach the daemon by, for `PCSCLITE_CSOCK_NAME`.
    pub fn socket(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/root/run/pcscd/pcscd.comm",
            self.holder.id()
        ))
    }

    /// Kills the daemon (SIGKILL: a crash, leaving its socket file behind).
    pub fn kill(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }

    /// (Re)starts the daemon with `reader` as its only configured reader and waits for its
    /// socket.
    pub fn restart(&mut self, reader: VpcdReader) {
        self.kill();
        let conf = self.dir.path().join("reader.conf.d");
        let _ = std::fs::remove_dir_all(&conf);
        std::fs::create_dir_all(&conf).expect("reader.conf.d");
        std::fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"{}\"\nDEVICENAME /dev/null:0x{port:04X}\n\
                 LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x{port:04X}\n",
                reader.name,
                port = reader.port
            ),
        )
        .expect("reader.conf");
        let socket = self.socket();
        let _ = std::fs::remove_file(&socket);
        let log = File::create(self.dir.path().join("pcscd.log")).expect("pcscd log");
        let daemon = Command::new("nsenter")
            .args(["--target", &self.holder.id().to_string(), "--mount", "--"])
            // Killed with the test thread that started it, should the test die first.
            .args([
                "setpriv",
                "--pdeathsig",
                "KILL",
                "pcscd",
                "--foreground",
                "--config",
            ])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("pcscd log"))
            .stderr(log)
            .spawn()
            .expect("run nsenter (util-linux) and pcscd");
        self.daemon = Some(daemon);
        // Ready once its socket accepts connections (it loads reader.conf.d before that).
        let deadline = Instant::now() + EVENT_TIMEOUT;
        while UnixStream::connect(&socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "the private pcscd did not answer within {EVENT_TIMEOUT:?}: {}",
                std::fs::read_to_string(self.dir.path().join("pcscd.log")).unwrap_or_default()
            );
            thread::sleep(POLL);
        }
    }
}

impl Drop for PrivatePcscd {
    fn drop(&mut self) {
        self.kill();
        // Closing its standard input ends the holder and with it the namespace.
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
