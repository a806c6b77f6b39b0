//! The process's resident memory, read from `/proc/self/status`, for the start-up log and the
//! memory figures of the benchmarks (README.md, "End-to-end figures").

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

/// glibc's malloc arenas for the whole process. Without a limit every thread that allocates
/// while another holds an arena gets one of its own (up to eight per core), and each keeps the
/// memory its thread freed: the card-front reader's, the face pipeline's and the window's
/// freed buffers were held apart (kiosk_e2e peak 270 → 257 MB with two; README.md,
/// "End-to-end figures").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_ARENAS: libc::c_int = 2;

/// Limits glibc's malloc arenas to [`MALLOC_ARENAS`]; called before the kiosk's threads start.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; the value is within its limits.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}

/// Gives the memory freed in glibc's heaps back to the system (`malloc_trim`), once a
/// session's biometric data is discarded: the next session then starts from what the kiosk
/// holds, not from what the last one left scattered in the heaps.
pub fn return_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Logs (at debug) the resident memory once the start-up step `step` is done.
pub fn log_after(step: &str) {
    tracing::debug!(
        rss_kib = status_kib("VmRSS"),
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
