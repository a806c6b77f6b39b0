//! The process-wide ONNX Runtime: loading its shared library once, and building inference
//! sessions from model files whose sha256 is verified first.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ort::environment::Environment;
use ort::ep;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;

use crate::error::FaceError;

/// ONNX Runtime's environment variable that disables its telemetry entirely.
const TELEMETRY_OPT_OUT: &str = "ORT_DISABLE_TELEMETRY";

/// The loaded library and its environment. ONNX Runtime allows one per process, for good.
static LOADED: Mutex<Option<Loaded>> = Mutex::new(None);

struct Loaded {
    path: PathBuf,
    env: Environment,
}

/// How far ONNX Runtime rewrites a model's graph when it builds a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphOptimisation {
    /// No rewrites.
    Off,
    /// Constant folding and redundant-node removal.
    Basic,
    /// Basic and node fusions.
    Extended,
    /// Everything, including layout changes for the CPU (ONNX Runtime's own default).
    All,
}

impl GraphOptimisation {
    fn level(self) -> GraphOptimizationLevel {
        match self {
            Self::Off => GraphOptimizationLevel::Disable,
            Self::Basic => GraphOptimizationLevel::Level1,
            Self::Extended => GraphOptimizationLevel::Level2,
            Self::All => GraphOptimizationLevel::All,
        }
    }
}

/// Session options besides the thread count. The defaults were chosen with `face_bench`
/// (face-match/README.md, "Speed and memory").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTuning {
    /// Graph rewrites when a session is built.
    pub optimisation: GraphOptimisation,
    /// A CPU memory arena for the working tensors: freed tensor memory is kept for reuse
    /// instead of going back to the process's allocator. On, each session has its own, freed
    /// with it: the kiosk drops the face models after each session, and an arena shared in the
    /// environment kept the largest run's working set between sessions (kiosk_e2e 139 → 127 MB
    /// at rest, peak 194–197 → 192–194 MB; the top README, "Where the kiosk's memory goes").
    pub cpu_arena: bool,
    /// Pre-planned buffer layout for fixed input shapes (needs the arena to have an effect).
    pub memory_pattern: bool,
    /// Weights re-laid out once for the CPU kernels at load. On: SFace's last layer, in 8-bit
    /// blocks, is otherwise unpacked again at every run (about four times slower, models/README.md).
    pub prepacking: bool,
    /// Idle intra-op threads spin between a run's operators instead of sleeping. Off: on a
    /// small kiosk CPU shared with the camera and the UI, spinning costs more than it saves
    /// (`face_bench --spinning on`, face-match/README.md).
    pub spinning: bool,
}

impl Default for SessionTuning {
    fn default() -> Self {
        Self {
            optimisation: GraphOptimisation::All,
            cpu_arena: true,
            memory_pattern: false,
            prepacking: true,
            spinning: false,
        }
    }
}

/// A handle to the process-wide ONNX Runtime environment, with the thread count and options
/// that sessions built through it use. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OrtRuntime {
    env: Environment,
    threads: usize,
    tuning: SessionTuning,
}

impl OrtRuntime {
    /// Loads the ONNX Runtime shared library `dylib` (once per process) and returns a handle
    /// whose sessions use `threads` intra-op threads (0: ONNX Runtime's default, one per core).
    ///
    /// Later calls with the same library return a new handle to the same environment; a
    /// different library is a [`FaceError::RuntimeConflict`].
    pub fn init(dylib: &Path, threads: usize) -> Result<Self, FaceError> {
        // `ort` panics on its first API call when no library could be loaded, so the path is
        // checked here and every loading failure is turned into an error before that.
        let path = dylib
            .canonicalize()
            .map_err(|_| FaceError::RuntimeMissing {
                path: dylib.to_path_buf(),
            })?;
        if !path.is_file() {
            return Err(FaceError::RuntimeNotLoadable {
                path,
                reason: "not a regular file".into(),
            });
        }
        let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
        let env = match &*loaded {
            Some(active) if active.path == path => active.env.clone(),
            Some(active) => {
                return Err(FaceError::RuntimeConflict {
                    active: active.path.clone(),
                    requested: path,
                })
            }
            None => {
                let not_loadable = |reason: String| FaceError::RuntimeNotLoadable {
                    path: path.clone(),
                    reason,
                };
                // ONNX Runtime ≥ 1.29 on Linux otherwise creates a telemetry database under
                // ~/.cache/Microsoft and tries to upload events, before any API can turn it
                // off; this variable is its documented opt-out and must be set first.
                std::env::set_var(TELEMETRY_OPT_OUT, "1");
                let env = ort::init_from(&path)
                    .map_err(|e| not_loadable(e.to_string()))?
                    .with_name("mynakiosk")
                    .with_telemetry(false)
                    .build()
                    .map_err(|e| not_loadable(e.to_string()))?;
                tracing::debug!(library = %path.display(), "ONNX Runtime loaded");
                *loaded = Some(Loaded {
                    path,
                    env: env.clone(),
                });
                env
            }
        };
        Ok(Self {
            env,
            threads,
            tuning: SessionTuning::default(),
        })
    }

    /// This handle with other session options for the sessions built through it.
    pub fn with_tuning(mut self, tuning: SessionTuning) -> Self {
        self.tuning = tuning;
        self
    }

    /// The session options in use.
    pub fn tuning(&self) -> SessionTuning {
        self.tuning
    }

    /// The ONNX Runtime environment, for other models of the process (the card-front reader).
    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// Intra-op threads per session (0: ONNX Runtime's default).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `load`, which builds sessions of other models in [`OrtRuntime::environment`] (the
    /// card-front reader), with large freed blocks returned to the system as for the face
    /// models, so that ONNX Runtime's temporary copies of the weights leave the heap; what runs
    /// after it keeps the heap's top as the face models do.
    pub fn loading<T>(&self, load: impl FnOnce() -> T) -> T {
        large_allocations_returned(load)
    }

    /// Builds a session from `model` after checking that its sha256 is `expected_sha256`
    /// (hex, case-insensitive).
    ///
    /// The file is opened once and hashed through that descriptor; ONNX Runtime then reads the
    /// same open file (`/proc/self/fd`), not the path, so a file renamed or linked over the
    /// path after the check is not what loads. No copy of the model is held here while ONNX
    /// Runtime parses it, which keeps the largest model (SFace, 38.7 MB) out of the peak
    /// memory (face-match/README.md, "Memory").
    pub(crate) fn load_session(
        &self,
        model: &Path,
        expected_sha256: &str,
    ) -> Result<Session, FaceError> {
        let file = open_verified(model, expected_sha256)?;
        let invalid = |reason: String| FaceError::ModelInvalid {
            path: model.to_path_buf(),
            reason,
        };
        let mut builder = Session::builder(&self.env)
            .map_err(|e| invalid(e.to_string()))?
            .with_intra_threads(self.threads)
            .map_err(|e| invalid(e.to_string()))?
            .with_intra_op_spinning(self.tuning.spinning)
            .map_err(|e| invalid(e.to_string()))?
            .with_optimization_level(self.tuning.optimisation.level())
            .map_err(|e| invalid(e.to_string()))?
            .with_memory_pattern(self.tuning.memory_pattern)
            .map_err(|e| invalid(e.to_string()))?
            .with_prepacking(self.tuning.prepacking)
            .map_err(|e| invalid(e.to_string()))?
            .with_execution_providers([ep::CPU::default()
                .with_arena_allocator(self.tuning.cpu_arena)
                .build()])
            .map_err(|e| invalid(e.to_string()))?;
        let session =
            large_allocations_returned(|| builder.commit_from_file(descriptor_path(&file)))
                .map_err(|e| invalid(e.to_string()))?;
        drop(file);
        tracing::debug!(model = %model.display(), "model loaded");
        Ok(session)
    }
}

/// Size from which glibc maps an allocation on its own while a session is built: the
/// temporary copies ONNX Runtime makes of a model's weights then go back to the system when
/// it frees them, instead of staying in the heap (SFace: 42 MB; face-match/README.md,
/// "Memory").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const LOADING_MMAP_THRESHOLD: libc::c_int = 256 * 1024;

/// The size afterwards: 4 MiB, so that a 640×480 camera frame and YuNet's input for it (3.7
/// MB) are reused from the heap, while larger blocks (the card-front camera's 1920×1080 frames,
/// full-size photos) go back to the system when freed instead of staying scattered in it
/// (kiosk_e2e after the face path 240 → 234 MB against glibc's ceiling of 32 MiB). Mapping
/// inference's working buffers anew on every run, as with the loading threshold and no arena,
/// made a whole-frame detection two to four times slower.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const RUNNING_MMAP_THRESHOLD: libc::c_int = 4 * 1024 * 1024;

/// Free memory at the top of the heap kept for reuse instead of given back, once models are
/// loaded: twice the mapping threshold, glibc's own rule while it tunes both itself (setting
/// one by hand stops that, and leaves the top trimmed from 128 KiB). With 128 KiB every
/// frame's buffers were given back to the system and faulted in again, zeroed, on the next
/// detection: building YuNet's input for a 640×480 frame took 2.3 ms instead of 0.7, and the
/// chip decision 65 ms instead of 56 (face-match/README.md, "Session 16"); kept for the
/// card-front read too, the kiosk's face path is 45–100 ms shorter (top README, "Session 18").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const RUNNING_TRIM_THRESHOLD: libc::c_int = 2 * RUNNING_MMAP_THRESHOLD;

/// The trim threshold while a session is built: glibc's default, so that the weights' copies
/// freed during the build leave the heap at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const LOADING_TRIM_THRESHOLD: libc::c_int = 128 * 1024;

/// Runs `load` with glibc's allocator returning large freed blocks to the system, then sets
/// the running thresholds.
fn large_allocations_returned<T>(load: impl FnOnce() -> T) -> T {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; the values are within its limits.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LOADING_MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, LOADING_TRIM_THRESHOLD);
    }
    let loaded = load();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: as above.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, RUNNING_MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, RUNNING_TRIM_THRESHOLD);
    }
    loaded
}

/// The path through which the process opens `file` again: the same file, whatever has
/// happened to its name since.
fn descriptor_path(file: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// The largest model file read (SFace, the largest, is 38.7 MB).
const MAX_MODEL_BYTES: u64 = 256 << 20;

/// Opens a model file (a regular file of at most [`MAX_MODEL_BYTES`]) and checks its sha256,
/// read in blocks; the file is returned open.
fn open_verified(path: &Path, expected_sha256: &str) -> Result<File, FaceError> {
    let unreadable = |source: std::io::Error| match source.kind() {
        ErrorKind::NotFound => FaceError::ModelMissing {
            path: path.to_path_buf(),
        },
        _ => FaceError::ModelUnreadable {
            path: path.to_path_buf(),
            source,
        },
    };
    let file = capped_file::open(path, MAX_MODEL_BYTES).map_err(|refusal| match refusal {
        capped_file::Refusal::Io(e) => unreadable(e),
        other => unreadable(std::io::Error::new(ErrorKind::InvalidInput, other)),
    })?;
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut block = vec![0u8; 1 << 16];
    let mut capped = (&file).take(MAX_MODEL_BYTES);
    loop {
        match capped.read(&mut block) {
            Ok(0) => break,
            Ok(n) => digest.update(&block[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(e)),
        }
    }
    let actual = hex(digest.finish().as_ref());
    if !actual.eq_ignore_ascii_case(expected_sha256.trim()) {
        return Err(FaceError::ModelChecksum {
            path: path.to_path_buf(),
            expected: expected_sha256.trim().to_ascii_lowercase(),
            actual,
        });
    }
    Ok(file)
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that exists and is certainly neither a model nor a shared library.
    fn some_text_file() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
    }

    /// What ONNX Runtime would read after the check.
    fn read_verified(path: &Path, expected_sha256: &str) -> Result<Vec<u8>, FaceError> {
        let file = open_verified(path, expected_sha256)?;
        Ok(std::fs::read(descriptor_path(&file)).unwrap())
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn missing_model_is_a_typed_error() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-dir/model.onnx");
        let err = read_verified(&path, &sha256_hex(b"")).unwrap_err();
        assert!(matches!(err, FaceError::ModelMissing { path: p } if p == path));
    }

    #[test]
    fn model_with_wrong_sha256_is_a_typed_error() {
        let path = some_text_file();
        let expected = sha256_hex(b"the real model");
        match read_verified(&path, &expected).unwrap_err() {
            FaceError::ModelChecksum {
                expected: e,
                actual,
                ..
            } => {
                assert_eq!(e, expected);
                assert_eq!(actual, sha256_hex(&std::fs::read(&path).unwrap()));
            }
            other => panic!("unexpected error: {other}"),
        }
    }

    #[test]
    fn model_with_right_sha256_is_read_whatever_the_hex_case() {
        let path = some_text_file();
        let bytes = std::fs::read(&path).unwrap();
        let expected = format!(" {} ", sha256_hex(&bytes).to_ascii_uppercase());
        assert_eq!(read_verified(&path, &expected).unwrap(), bytes);
    }

    #[test]
    fn the_verified_file_is_loaded_even_if_another_is_put_at_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, b"the verified model").unwrap();
        let file = open_verified(&path, &sha256_hex(b"the verified model")).unwrap();
        let other = dir.path().join("other.onnx");
        std::fs::write(&other, b"a swapped model").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(
            std::fs::read(descriptor_path(&file)).unwrap(),
            b"the verified model"
        );
    }

    #[test]
    fn a_fifo_or_a_device_as_the_model_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("sface.onnx");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        for path in [fifo.as_path(), Path::new("/dev/zero")] {
            match open_verified(path, &sha256_hex(b"")).unwrap_err() {
                FaceError::ModelUnreadable { source, .. } => {
                    assert!(
                        source.to_string().contains("not a regular file"),
                        "{source}"
                    )
                }
                other => panic!("unexpected error: {other}"),
            }
        }
    }

    #[test]
    fn missing_runtime_library_is_a_typed_error_not_a_panic() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-dir/libonnxruntime.so");
        let err = OrtRuntime::init(&path, 1).unwrap_err();
        assert!(matches!(err, FaceError::RuntimeMissing { path: p } if p == path));
    }

    #[test]
    fn unloadable_runtime_library_is_a_typed_error_not_a_panic() {
        let err = OrtRuntime::init(&some_text_file(), 1).unwrap_err();
        assert!(
            matches!(err, FaceError::RuntimeNotLoadable { .. }),
            "unexpected error: {err}"
        );
        let err = OrtRuntime::init(Path::new(env!("CARGO_MANIFEST_DIR")), 1).unwrap_err();
        assert!(
            matches!(err, FaceError::RuntimeNotLoadable { .. }),
            "unexpected error: {err}"
        );
    }
}
