//! Shared helpers for end-to-end tests.

pub mod pcscd {
    //! The real pcscd with vsmartcard's vpcd driver, shared by every test on the machine.
    //!
    //! pcscd runs once per machine and vpcd's slots are shared, so tests that use them take
    //! [`lock`] first: a process-wide mutex plus a file lock that other test binaries honour.
    //!
    //! vpcd quirk: a card reset (closing a PC/SC connection) that reaches vpcd after the virtual
    //! card left can hide that removal from pcscd, and a card inserted soon after then goes
    //! unnoticed. Close PC/SC connections before removing a card, or wait for the removal.

    use std::ffi::CString;
    use std::fs::{File, OpenOptions, TryLockError};
    use std::net::{Ipv4Addr, SocketAddr};
    use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
    use std::sync::{Mutex, MutexGuard, PoisonError};
    use std::thread;
    use std::time::{Duration, Instant};

    use card_io::monitor::{CardEvent, CardMonitor, ReaderFilter};
    use card_io::pcsc_transport::{list_readers, PcscTransport};
    use card_io::transport::TransportError;
    use pcsc::{Context, ReaderState, Scope, State};

    /// Reader name of vpcd slot 0.
    pub const SLOT0_READER: &str = "Virtual PCD 00 00";
    /// TCP port of vpcd slot 0.
    pub const SLOT0_PORT: u16 = 35963;
    /// Bound on every wait for pcscd or vpcd (vpcd polls about every 400 ms): waits end as
    /// soon as the event comes, so the bound is generous; on a loaded 2-core machine pcscd and
    /// vpcd can be starved for seconds (a CI run beside two benchmark processes saw a removed
    /// card still reported after 5 s).
    pub const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

    /// File locked by whoever uses pcscd's vpcd slots.
    const LOCK_PATH: &str = "/tmp/mynakiosk-pcscd.lock";
    /// Longest wait for another test binary to release the slots.
    const LOCK_TIMEOUT: Duration = Duration::from_secs(120);
    pub(crate) const POLL: Duration = Duration::from_millis(20);

    static IN_PROCESS: Mutex<()> = Mutex::new(());

    /// vpcd slot 0 on this machine.
    pub fn slot0_addr() -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, SLOT0_PORT))
    }

    /// Exclusive use of pcscd and its vpcd slots, released on drop.
    pub struct PcscdLock {
        _file: File,
        _guard: MutexGuard<'static, ()>,
    }

    /// Takes the pcscd lock, then checks that pcscd runs with the vpcd reader and that slot 0 is
    /// empty. Panics with the reason otherwise.
    pub fn lock() -> PcscdLock {
        let lock = PcscdLock::take(&IN_PROCESS, LOCK_PATH);
        require_vpcd_reader();
        require_empty_slot0();
        lock
    }

    impl PcscdLock {
        /// Locks `mutex`, then the file at `path` (waiting up to [`LOCK_TIMEOUT`]).
        pub(crate) fn take(mutex: &'static Mutex<()>, path: &str) -> Self {
            let guard = mutex.lock().unwrap_or_else(PoisonError::into_inner);
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
                .unwrap_or_else(|err| panic!("cannot open {path}: {err}"));
            let deadline = Instant::now() + LOCK_TIMEOUT;
            loop {
                match file.try_lock() {
                    Ok(()) => break,
                    Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                        thread::sleep(POLL)
                    }
                    Err(TryLockError::WouldBlock) => {
                        panic!("{path} stayed locked for {LOCK_TIMEOUT:?} by another test")
                    }
                    Err(TryLockError::Error(err)) => panic!("cannot lock {path}: {err}"),
                }
            }
            Self {
                _file: file,
                _guard: guard,
            }
        }
    }

    fn require_vpcd_reader() {
        match list_readers() {
            Ok(readers) => assert!(
                readers.iter().any(|r| r == SLOT0_READER),
                "pcscd has no reader {SLOT0_READER:?} (it has {readers:?}): install \
                 vsmartcard-vpcd and restart pcscd"
            ),
            Err(TransportError::NoService) => {
                panic!("pcscd is not running: start it with scripts/test.sh or `pcscd -f`")
            }
            Err(err) => panic!("cannot list the readers of pcscd: {err}"),
        }
    }

    /// Waits up to [`EVENT_TIMEOUT`] for pcscd to see slot 0 empty (panics otherwise).
    pub fn require_empty_slot0() {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        while slot0_has_card() {
            assert!(
                Instant::now() < deadline,
                "{SLOT0_READER} still holds a card: is a card-sim running?"
            );
            thread::sleep(POLL);
        }
    }

    /// Whether pcscd reports a card in slot 0 now.
    fn slot0_has_card() -> bool {
        let context = Context::establish(Scope::User)
            .unwrap_or_else(|err| panic!("cannot reach pcscd: {err}"));
        let name = CString::new(SLOT0_READER).unwrap_or_else(|err| panic!("{err}"));
        let mut states = [ReaderState::new(name, State::UNAWARE)];
        context
            .get_status_change(Duration::ZERO, &mut states)
            .unwrap_or_else(|err| panic!("cannot read the state of {SLOT0_READER}: {err}"));
        states[0].event_state().contains(State::PRESENT)
    }

    /// Connects to the card in `reader`, waiting up to [`EVENT_TIMEOUT`] for one to arrive.
    pub fn connect_when_present(reader: &str) -> PcscTransport {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        loop {
            match PcscTransport::connect(reader) {
                Ok(transport) => return transport,
                Err(TransportError::CardRemoved) if Instant::now() < deadline => {
                    thread::sleep(POLL)
                }
                Err(err) => panic!("no card to connect to in {reader}: {err}"),
            }
        }
    }

    /// A [`CardMonitor`] whose events a test can wait for.
    pub struct EventProbe {
        monitor: CardMonitor,
        events: Receiver<(Instant, CardEvent)>,
    }

    impl EventProbe {
        /// Starts a monitor on the readers matching `filter`.
        pub fn watch(filter: ReaderFilter) -> Self {
            let (sender, events) = mpsc::channel();
            let monitor = CardMonitor::spawn(filter, move |event| {
                let _ = sender.send((Instant::now(), event));
            })
            .unwrap_or_else(|err| panic!("cannot start the card monitor: {err}"));
            Self { monitor, events }
        }

        /// Waits up to [`EVENT_TIMEOUT`] for `expected` (skipping other events) and returns
        /// when it was reported; panics with the events seen otherwise.
        pub fn wait_for(&self, expected: &CardEvent) -> Instant {
            let deadline = Instant::now() + EVENT_TIMEOUT;
            let mut seen = Vec::new();
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.events.recv_timeout(left) {
                    Ok((at, event)) if event == *expected => return at,
                    Ok((_, event)) => seen.push(event),
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                        panic!("no {expected:?} within {EVENT_TIMEOUT:?}; events seen: {seen:?}")
                    }
                }
            }
        }

        /// Stops the monitor and returns how long that took.
        pub fn stop(self) -> Duration {
            let started = Instant::now();
            self.monitor.stop();
            started.elapsed()
        }
    }
}

pub mod freed_memory;

/// Makes a FIFO at `path` (coreutils `mkfifo`): a file name that blocks whoever opens it.
pub fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Writes a self-signed P-256 certificate for 127.0.0.1 to `cert` and its key to `key`
/// (the `openssl` command, from scripts/setup.sh).
pub fn self_signed_certificate(cert: &std::path::Path, key: &std::path::Path) {
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-out"])
        .arg(cert)
        .arg("-keyout")
        .arg(key)
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    assert!(out.status.success(), "openssl: {out:?}");
}

pub mod private_pcscd;

/// The system's load averages over 1, 5 and 15 minutes, for benchmarks to print beside their
/// figures.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

pub mod binary {
    //! The `mynakiosk` binary built by `cargo test --workspace`, run as a child process.

    use std::io::{BufRead, BufReader, Write};
    use std::path::PathBuf;
    use std::process::{Child, ChildStdin, Command, Stdio};
    use std::sync::mpsc::{self, Receiver};
    use std::time::{Duration, Instant};

    /// Path of `target/<profile>/mynakiosk`, next to the test executable's `deps/` folder.
    pub fn path() -> PathBuf {
        workspace_binary("mynakiosk")
    }

    /// Path of the workspace binary `name` in `target/<profile>/`.
    pub fn workspace_binary(name: &str) -> PathBuf {
        let exe = std::env::current_exe().expect("test executable path");
        let bin = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>/deps")
            .join(name);
        assert!(
            bin.is_file(),
            "{} is missing: build it with `cargo build --workspace --bins` (scripts/test.sh does)",
            bin.display()
        );
        bin
    }

    /// A command for the binary with a quiet, plain log format.
    pub fn command() -> Command {
        let mut cmd = Command::new(path());
        cmd.env("MYNAKIOSK_LOG", "warn,mynakiosk=info")
            .env_remove("MYNAKIOSK_LOG_FORMAT")
            .env_remove("JOURNAL_STREAM")
            .env_remove("MYNAKIOSK_CONFIG");
        cmd
    }

    /// A running binary whose stderr lines are collected; killed on drop.
    pub struct Running {
        child: Child,
        stdin: Option<ChildStdin>,
        lines: Receiver<String>,
        seen: Vec<String>,
    }

    impl Running {
        /// Starts `cmd` with no standard input.
        pub fn spawn(cmd: Command) -> Self {
            Self::start(cmd, Stdio::null())
        }

        /// Starts `cmd` with a standard input that [`Running::send_line`] writes to.
        pub fn spawn_with_input(cmd: Command) -> Self {
            Self::start(cmd, Stdio::piped())
        }

        fn start(mut cmd: Command, stdin: Stdio) -> Self {
            let mut child = cmd
                .stdin(stdin)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {cmd:?}: {err}"));
            let stderr = child.stderr.take().expect("piped stderr");
            let (tx, lines) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            Self {
                stdin: child.stdin.take(),
                child,
                lines,
                seen: Vec::new(),
            }
        }

        /// Writes `line` to the standard input (of a [`Running::spawn_with_input`] child).
        pub fn send_line(&mut self, line: &str) {
            let stdin = self.stdin.as_mut().expect("started with spawn_with_input");
            writeln!(stdin, "{line}").expect("write to the child");
        }

        /// Waits up to `timeout` for a stderr line containing `text`; panics with
        /// everything seen so far otherwise.
        pub fn wait_for_line(&mut self, text: &str, timeout: Duration) -> String {
            let mut lines = self.lines_until(text, timeout);
            lines.pop().unwrap_or_default()
        }

        /// The stderr lines after the previous wait, up to and including the first one
        /// containing `text` (waiting up to `timeout`; panics with everything seen otherwise).
        pub fn lines_until(&mut self, text: &str, timeout: Duration) -> Vec<String> {
            let deadline = Instant::now() + timeout;
            let first = self.seen.len();
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.lines.recv_timeout(left) {
                    Ok(line) => {
                        let found = line.contains(text);
                        self.seen.push(line);
                        if found {
                            return self.seen[first..].to_vec();
                        }
                    }
                    Err(_) => panic!(
                        "no line containing {text:?} within {timeout:?}; stderr so far:\n{}",
                        self.seen.join("\n")
                    ),
                }
            }
        }
    }

    impl Running {
        /// The stderr lines that arrive within `time` (after the previous wait).
        pub fn lines_for(&mut self, time: Duration) -> Vec<String> {
            let deadline = Instant::now() + time;
            let first = self.seen.len();
            while let Ok(line) = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                self.seen.push(line);
            }
            self.seen[first..].to_vec()
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Starts `mynakiosk qual-sim` (a SIMULATOR) on a free loopback port with the data file
    /// `data` (TOML); returns it with its base URL.
    pub fn qual_sim(data: &std::path::Path) -> (Running, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut cmd = command();
        cmd.arg("qual-sim")
            .arg("--data")
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")]);
        let mut sim = Running::spawn(cmd);
        sim.wait_for_line("listening on http://", Duration::from_secs(15));
        (sim, format!("http://127.0.0.1:{port}"))
    }
}

pub mod face {
    //! The real ONNX Runtime, the real face models and the evaluation images.

    use std::path::{Path, PathBuf};

    use face_match::{
        CameraSource, DetectorConfig, FaceDetector, FaceMatcher, Frame, ImageFolderSource,
        MatchPolicy, OrtRuntime, QualityConfig, YUNET_2023MAR_FILE, YUNET_2023MAR_SHA256,
    };

    /// A path from an environment variable set by `.cargo/config.toml`, after checking that
    /// setup put something there.
    pub fn configured(var: &str) -> PathBuf {
        let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
            panic!("{var} is not set: run the tests through cargo in the workspace")
        });
        assert!(
            path.exists(),
            "{} is missing: run scripts/setup.sh to fetch ONNX Runtime and the face models",
            path.display()
        );
        path
    }

    /// The process-wide runtime with two threads.
    pub fn runtime() -> OrtRuntime {
        OrtRuntime::init(&configured("MYNAKIOSK_ORT_DYLIB"), 2)
            .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"))
    }

    /// A model file in the generated models folder.
    pub fn model_path(file: &str) -> PathBuf {
        let path = configured("MYNAKIOSK_MODELS_DIR").join(file);
        assert!(
            path.exists(),
            "{} is missing: run scripts/setup.sh",
            path.display()
        );
        path
    }

    /// The default policy without its time limit, which a loaded test machine could hit.
    pub fn unhurried() -> MatchPolicy {
        MatchPolicy {
            attempt_seconds: 3600.0,
            ..MatchPolicy::default()
        }
    }

    /// YuNet and SFace with the given gate and policy.
    pub fn matcher(quality: QualityConfig, policy: MatchPolicy) -> FaceMatcher {
        FaceMatcher::load(
            &runtime(),
            &configured("MYNAKIOSK_MODELS_DIR"),
            quality,
            policy,
        )
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"))
    }

    /// `shared/face-eval/<relative>` beside the workspace.
    pub fn face_eval(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/face-eval")
            .join(relative)
    }

    /// The image file at `path`, decoded the way the kiosk decodes test images.
    pub fn load(path: &Path) -> Frame {
        ImageFolderSource::open(path)
            .and_then(|mut source| source.next_frame())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The portrait at `path` as a 640×480 kiosk camera frame: the detected face is framed
    /// the way a patient stands in front of the kiosk (face about 200 px tall, centred in
    /// the guide oval), sampled by nearest neighbour, on mid-grey where the portrait ends.
    pub fn kiosk_frame(path: &Path) -> Frame {
        let image = load(path);
        let mut detector = FaceDetector::new(
            &runtime(),
            &model_path(YUNET_2023MAR_FILE),
            YUNET_2023MAR_SHA256,
            DetectorConfig::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let faces = detector.detect(&image).unwrap_or_else(|e| panic!("{e}"));
        let (x, y, w, h) = faces
            .first()
            .unwrap_or_else(|| panic!("no face in {}", path.display()))
            .bbox;
        // A square 2.4 face-heights wide around the face, shown 480 px tall.
        let side = 2.4 * f64::from(h);
        let (cx, cy) = (f64::from(x + w / 2.0), f64::from(y + h / 2.0) + 0.08 * side);
        let scale = side / 480.0;
        let mut pixels = vec![128u8; 640 * 480 * 3];
        for row in 0..480usize {
            let sy = cy - side / 2.0 + row as f64 * scale;
            if sy < 0.0 || sy >= f64::from(image.height()) {
                continue;
            }
            let src = image.row(sy as u32).unwrap_or_default();
            for col in 0..480usize {
                let sx = cx - side / 2.0 + col as f64 * scale;
                if sx < 0.0 || sx >= f64::from(image.width()) {
                    continue;
                }
                let (from, to) = (sx as usize * 3, (row * 640 + 80 + col) * 3);
                pixels[to..to + 3].copy_from_slice(&src[from..from + 3]);
            }
        }
        Frame::from_raw(640, 480, 640 * 3, pixels.into()).unwrap_or_else(|e| panic!("{e}"))
    }
}
