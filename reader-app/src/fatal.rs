//! A panic in any thread ends the whole process (exit status 101), so systemd's restart
//! policy brings the kiosk back instead of leaving a frozen window with a dead session thread.

/// Exit status after a panic, as the Rust runtime uses for a panicking main thread.
pub const PANIC_EXIT_STATUS: i32 = 101;

/// Debug builds only: `MYNAKIOSK_FAULT=panic-in-thread` panics a background thread 200 ms
/// after start, so tests can show the process ends and is restarted.
const FAULT_VARIABLE: &str = "MYNAKIOSK_FAULT";

/// Installs the panic hook: the default report (message, location, backtrace) on stderr, then
/// an immediate `_exit` — no unwinding into other threads, no exit handlers that could wait on
/// a lock the panicking thread held, no core dump with images in it.
pub fn install() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        eprintln!("mynakiosk: a thread panicked; ending the process so it is restarted");
        // SAFETY: `_exit` only ends the process; nothing of ours runs afterwards.
        unsafe { libc::_exit(PANIC_EXIT_STATUS) }
    }));
    if cfg!(debug_assertions) && std::env::var(FAULT_VARIABLE).is_ok_and(|v| v == "panic-in-thread")
    {
        std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            panic!("injected by {FAULT_VARIABLE}=panic-in-thread");
        });
    }
}
