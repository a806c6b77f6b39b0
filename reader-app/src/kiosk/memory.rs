//! The kiosk's memory: one allocator heap, returned to the system after each session, and the
//! resident memory read from `/proc/self/status` for the start-up log and the benchmarks
//! (README.md, "End-to-end figures").

/// A size field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`, `RssAnon`, `RssFile`); 0
/// when it cannot be read.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)?
                    .strip_prefix(':')?
                    .trim()
                    .trim_end_matches(" kB")
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

/// Makes every thread allocate from glibc's one main heap. Call first thing in `main`, before
/// any thread starts (a heap once made stays).
///
/// A session's large, short-lived buffers (camera frames, card-front pictures, the models'
/// inputs) come from the heap rather than mappings of their own below face-match's running
/// mmap threshold. With a heap per thread (up to eight per core) each freed buffer stayed in
/// the heap of the thread that used it, where `malloc_trim` cannot return it: the soak bench
/// (`tests/benches/soak.rs`, which prints every heap's mapped and free KiB) showed memory in
/// use flat while free memory inside a dozen heaps rose in steps of about 4.5 MB.
pub fn one_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; 1 is a valid arena count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Gives the memory freed in the heap back to the system (`malloc_trim`): when a session's
/// biometric data is discarded and when a session ends, so that the next one starts from
/// what the kiosk holds, not from what the last one left scattered in the heap.
pub fn return_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's heap; no block in use
    // moves.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Logs (at debug) the resident memory, and its peak so far, once the start-up step `step` is
/// done.
pub fn log_after(step: &str) {
    tracing::debug!(
        rss_kib = status_kib("VmRSS"),
        peak_kib = status_kib("VmHWM"),
        anon_kib = status_kib("RssAnon"),
        file_kib = status_kib("RssFile"),
        "resident memory after {step}"
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_resident_memory_is_read_and_within_its_peak() {
        let rss = super::status_kib("VmRSS");
        assert!(rss > 0);
        assert!(super::status_kib("VmHWM") >= rss);
        assert_eq!(super::status_kib("NoSuchField"), 0);
    }
}
