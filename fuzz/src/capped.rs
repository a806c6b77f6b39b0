//! A global allocator that aborts the process on a request over [`LIMIT`] or when the live
//! Rust heap would exceed it, so a decompression bomb is a crash the fuzzer and the corpus
//! replay report. (C++ allocations inside OpenCV are bounded by libFuzzer's `-rss_limit_mb`.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// 256 MiB: the most any input may make the kiosk hold at once.
pub const LIMIT: usize = 256 << 20;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// [`System`] with the [`LIMIT`] enforced.
pub struct CappedAlloc;

/// Reports on stderr (unbuffered, no allocation) and aborts.
fn over() -> ! {
    use std::io::Write;
    let _ = std::io::stderr().write_all(b"capped allocator: more than 256 MiB requested or live\n");
    std::process::abort()
}

fn reserve(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    if size > LIMIT || live > LIMIT {
        over();
    }
}

// SAFETY: every call forwards to `System` with the caller's layout; only counting is added.
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        reserve(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        reserve(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            reserve(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
