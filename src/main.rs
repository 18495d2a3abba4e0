//! The `tern` binary: starts the desktop app, or runs a headless command. The error edge.

use std::process::ExitCode;

use clap::Parser as _;
use tern::cli::{self, Cli};

fn main() -> ExitCode {
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(err) => {
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
            return ExitCode::from(2);
        }
    };
    let data_dir = match cli::data_dir(args.data_dir) {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("tern: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.command {
        None => {
            tern::ui::run(data_dir).map_err(|e| anyhow::anyhow!("cannot start the window: {e}"))
        }
        Some(command) => cli::run(data_dir, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tern: {err:#}");
            ExitCode::FAILURE
        }
    }
}
