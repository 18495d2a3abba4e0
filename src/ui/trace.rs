//! Startup tracing (`TERN_STARTUP_TRACE`): when the first frame was shown and when the open
//! folder's first rows arrived, for the smoke test and the startup measurements.

/// When the process started (for `TERN_STARTUP_TRACE`).
pub(super) static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// What `TERN_STARTUP_TRACE` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Trace {
    #[default]
    Off,
    Print,
    PrintAndExit,
}

impl Trace {
    pub(super) fn from_env() -> Trace {
        match std::env::var("TERN_STARTUP_TRACE").as_deref() {
            Ok("exit") => Trace::PrintAndExit,
            Ok(_) => Trace::Print,
            Err(_) => Trace::Off,
        }
    }
}

/// Milliseconds since the process started (since the program was built, in tests).
pub(super) fn since_start() -> u128 {
    STARTED
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis()
}
