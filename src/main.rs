//! The `tern` binary: starts the desktop app, or runs a headless command (`cli::entry`).
// A release build on Windows is a GUI program, so starting it from the Start menu or a link
// opens no console window; the installer puts the console twin (`tern-cli`) beside it as
// `tern.com` for the command line.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    tern::cli::entry::main()
}
