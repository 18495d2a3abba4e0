//! `tern-cli`: the same program as `tern` with a console on Windows, where the installer puts it
//! beside `tern.exe` as `tern.com`, so `tern sync` in a terminal prints there. Built only with
//! `--features console`.

fn main() -> std::process::ExitCode {
    tern::cli::entry::main()
}
