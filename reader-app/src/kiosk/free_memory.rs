//! Keeps the kiosk's memory flat over thousands of sessions: one allocator heap, trimmed once a
//! session is over.
//!
//! A session's large, short-lived buffers (camera frames, card-front pictures, the models'
//! inputs) come from glibc's heaps rather than mappings of their own: face-match raises the
//! mmap threshold to 32 MiB once its models are loaded, so that inference reuses them. With a
//! heap per thread (up to eight per core), each freed buffer stays resident in the heap of the
//! thread that used it, and `malloc_trim` cannot return the free end of a thread's heap. The
//! soak bench (`tests/benches/soak.rs`, which prints every heap's mapped and free KiB) showed
//! memory in use flat while free memory inside a dozen heaps rose in steps of about 4.5 MB.
//! With one heap, the trim at the end of each session returns all of it.

/// Makes every thread allocate from the one main heap. Call first thing in `main`, before any
/// thread starts (a heap once made stays).
pub fn one_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; 1 is a valid arena count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Returns the free pages of the allocator's heap to the system.
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds free; no block in use moves.
    unsafe {
        libc::malloc_trim(0);
    }
}
