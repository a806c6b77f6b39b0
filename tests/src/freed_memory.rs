//! Looks into freed memory for secrets: a global allocator for test binaries that hands out
//! zero-initialised blocks (so every byte of a block is initialised and may be read) and,
//! while recording, looks into every block *before* passing it back to the system
//! allocator. A block that still holds one of the recorded byte strings ("needles") is
//! counted as a leak. Reading a block the program still owns, inside `dealloc`, is sound;
//! nothing reads freed memory.
//!
//! A test binary installs it with
//! `#[global_allocator] static A: InspectingAllocator = InspectingAllocator;` and keeps to
//! one test, so that nothing else allocates while recording. It sees every buffer Rust
//! code allocates, not memory that C or C++ libraries allocate themselves.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// Length of the needles [`needles_from`] picks from large buffers.
pub const NEEDLE: usize = 32;

/// Needles to look for, in a leaked (never freed) slice; empty while not recording.
static NEEDLES: AtomicPtr<Vec<u8>> = AtomicPtr::new(std::ptr::null_mut());
static NEEDLE_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Length of the shortest needle: smaller blocks cannot hold one.
static SHORTEST: AtomicUsize = AtomicUsize::new(usize::MAX);
static RECORDING: AtomicBool = AtomicBool::new(false);
static LEAKS: AtomicUsize = AtomicUsize::new(0);

/// The inspecting allocator (see the module documentation).
pub struct InspectingAllocator;

// SAFETY: every call is forwarded to `System` with the same layout; `alloc` returns zeroed
// memory, so the bytes `dealloc` reads are initialised, and they are read before the block
// is returned. The default `realloc` goes through `alloc` and `dealloc` of this allocator.
unsafe impl GlobalAlloc for InspectingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if RECORDING.load(Ordering::SeqCst) && layout.size() >= SHORTEST.load(Ordering::SeqCst) {
            // SAFETY: `ptr` is a live block of `layout.size()` initialised bytes.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if holds_a_needle(block) {
                LEAKS.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn holds_a_needle(block: &[u8]) -> bool {
    let count = NEEDLE_COUNT.load(Ordering::SeqCst);
    let ptr = NEEDLES.load(Ordering::SeqCst);
    if ptr.is_null() || count == 0 {
        return false;
    }
    // SAFETY: set by `record` from a leaked boxed slice of `count` needles.
    let needles = unsafe { std::slice::from_raw_parts(ptr, count) };
    // A bitset of the needles' first two bytes rejects almost every position with one
    // lookup.
    let mut starts = [0u64; 1024];
    for needle in needles {
        let key = usize::from(u16::from_le_bytes([needle[0], needle[1]]));
        starts[key / 64] |= 1 << (key % 64);
    }
    (0..block.len().saturating_sub(1)).any(|at| {
        let key = usize::from(u16::from_le_bytes([block[at], block[at + 1]]));
        starts[key / 64] & (1 << (key % 64)) != 0
            && needles.iter().any(|n| block[at..].starts_with(n))
    })
}

/// Starts counting freed blocks that hold any of `needles` (each at least 2 bytes; picked
/// from buffers the test keeps until after [`stop`]).
pub fn record(needles: Vec<Vec<u8>>) {
    assert!(
        needles.iter().all(|n| n.len() >= 2),
        "needles of 2 bytes or more"
    );
    let count = needles.len();
    let shortest = needles.iter().map(Vec::len).min().unwrap_or(usize::MAX);
    let leaked: &'static mut [Vec<u8>] = Box::leak(needles.into_boxed_slice());
    NEEDLES.store(leaked.as_mut_ptr(), Ordering::SeqCst);
    NEEDLE_COUNT.store(count, Ordering::SeqCst);
    SHORTEST.store(shortest, Ordering::SeqCst);
    LEAKS.store(0, Ordering::SeqCst);
    RECORDING.store(true, Ordering::SeqCst);
}

/// Stops recording and returns the number of leaking blocks seen.
pub fn stop() -> usize {
    RECORDING.store(false, Ordering::SeqCst);
    LEAKS.load(Ordering::SeqCst)
}

/// Distinctive [`NEEDLE`]-byte stretches of `bytes` (no long runs of one value), up to
/// `max`, spread over the buffer.
pub fn needles_from(bytes: &[u8], max: usize) -> Vec<Vec<u8>> {
    // A stride coprime to 2, 3 and 5 so that candidates do not all fall in one image column.
    let mut stride = (bytes.len() / NEEDLE / (max * 8)).max(1);
    while stride > 1 && [2, 3, 5].iter().any(|&p| stride.is_multiple_of(p)) {
        stride += 1;
    }
    bytes
        .chunks_exact(NEEDLE)
        .step_by(stride)
        .filter(|chunk| {
            let mut distinct: Vec<u8> = chunk.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            distinct.len() >= 12
        })
        .take(max)
        .map(<[u8]>::to_vec)
        .collect()
}
