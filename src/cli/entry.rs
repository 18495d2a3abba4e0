//! The program's edge, shared by `tern` and its Windows console twin `tern-cli`: reads the
//! arguments, then starts the window (handing `mailto:` links and message files to a window
//! already running on the data directory) or runs a headless command. Errors become one line on
//! stderr and an exit code (0 done, 1 failed, 2 bad usage), as README.md documents.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;

use super::Cli;
use crate::instance::{self, Claim, Target};

/// Runs `tern` with the process's arguments.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let (args, targets) = match open_request(&args) {
        Some((data_args, targets)) => (data_args, targets),
        None => (args, Vec::new()),
    };
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let data_dir = match super::data_dir(cli.data_dir) {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("tern: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        None => window(data_dir, targets),
        Some(command) => super::run(data_dir, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tern: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `tern [--data-dir DIR] TARGET…` where every TARGET is a `mailto:` link, a `file://` URL or a
/// message file (what a desktop passes when a link or an `.eml` file is opened with Tern): the
/// arguments with the targets taken out, and the targets.
fn open_request(args: &[OsString]) -> Option<(Vec<OsString>, Vec<Target>)> {
    let (program, rest) = args.split_first()?;
    let mut kept = vec![program.clone()];
    let mut others = Vec::new();
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        let text = arg.to_str()?;
        if text == "--data-dir" {
            kept.push(arg.clone());
            kept.push(rest.next()?.clone());
        } else if text.starts_with("--data-dir=") {
            kept.push(arg.clone());
        } else {
            others.push(text.to_owned());
        }
    }
    let cwd = std::env::current_dir().ok()?;
    let targets = instance::targets_in(&others, &cwd)?;
    Some((kept, targets))
}

/// Starts the window on `data_dir`, or gives `targets` to the one already there.
fn window(data_dir: PathBuf, targets: Vec<Target>) -> anyhow::Result<()> {
    let _owner = match instance::claim(&data_dir, &targets) {
        Ok(Claim::Delivered) => return Ok(()),
        Ok(Claim::Owner(owner)) => Some(owner),
        Err(err) => {
            // Better a second window than a lost request: the store is safe to share.
            eprintln!("tern: {err}; opening another window");
            None
        }
    };
    crate::ui::run(data_dir, targets).map_err(|e| anyhow::anyhow!("cannot start the window: {e}"))
}

/// Prints help or version (exit 0), or a usage error as one line (exit 2).
fn usage_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    // One line: clap's first line, without its "error: " prefix.
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or("bad arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("tern: {first} (see `tern --help`)");
    ExitCode::from(2)
}
