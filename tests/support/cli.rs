//! Running the `tern` binary from tests and benchmarks, and adding a test user's IMAP account.

use std::path::Path;
use std::process::{Command, Output};

use super::{MailServers, User};

/// Runs `tern --data-dir DATA ARGS...`.
pub fn tern(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap()
}

/// `out` of a `tern` run that must have succeeded (else panics with its stderr and stdout).
pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "tern failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// The JSON document a `tern ... --json` run that must have succeeded printed.
pub fn json(out: Output) -> serde_json::Value {
    serde_json::from_slice(&ok(out).stdout).unwrap()
}

/// Runs `tern --data-dir DATA ARGS...`, which must succeed; returns what it said on stderr.
pub fn tern_ok(data_dir: &Path, args: &[&str]) -> String {
    let out = tern(data_dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "tern {args:?}: {stderr}");
    stderr
}

/// Adds an IMAP account named after the user's local part (e.g. "bob") for `user` at
/// 127.0.0.1:`imap_port` over TLS, trusting the harness CA, with the password read from a file
/// by `--password-cmd`. `extra` is appended to `tern account add`.
pub fn add_imap_account(
    servers: &MailServers,
    data: &Path,
    user: &User,
    imap_port: u16,
    extra: &[&str],
) {
    std::fs::create_dir_all(data).unwrap();
    let name = user.address.split('@').next().unwrap();
    // `password` for the first account (tests change it there); a second user gets their own.
    let mut password_file = data.join("password");
    let line = format!("{}\n", user.password);
    if std::fs::read_to_string(&password_file).is_ok_and(|old| old != line) {
        password_file = data.join(format!("password-{name}"));
    }
    std::fs::write(&password_file, line).unwrap();
    let incoming = format!("127.0.0.1:{imap_port}");
    let outgoing = format!("127.0.0.1:{}", servers.ports.submissions);
    let cmd = format!("cat {}", password_file.display());
    let ca = servers.certs.ca_pem.to_str().unwrap();
    let mut args = vec![
        "account",
        "add",
        "--name",
        name,
        "--email",
        &user.address,
        "--protocol",
        "imap",
        "--incoming",
        &incoming,
        "--incoming-security",
        "tls",
        "--outgoing",
        &outgoing,
        "--outgoing-security",
        "tls",
        "--password-cmd",
        &cmd,
        "--ca-file",
        ca,
    ];
    args.extend_from_slice(extra);
    let out = tern(data, &args);
    assert!(
        out.status.success(),
        "account add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `tern --data-dir DATA ARGS...` with `stdin` as its standard input.
pub fn tern_with_input(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    tern_with(data_dir, args, &[], stdin)
}

/// Runs `tern --data-dir DATA ARGS...` with the variables `env` set and `stdin` as its
/// standard input.
pub fn tern_with(data_dir: &Path, args: &[&str], env: &[(&str, String)], stdin: &str) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Adds `user`'s IMAP account (named after the local part) at 127.0.0.1:`imap_port` without
/// TLS, for a proxy that must see the protocol in the clear (Dovecot allows plaintext logins
/// on loopback). The password is read from a file by `--password-cmd`.
pub fn add_plain_imap_account(servers: &MailServers, data: &Path, user: &User, imap_port: u16) {
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(data.join("password"), &user.password).unwrap();
    let cmd = format!("cat {}", data.join("password").display());
    let name = user.address.split('@').next().unwrap();
    let incoming = format!("127.0.0.1:{imap_port}");
    let outgoing = format!("127.0.0.1:{}", servers.ports.submissions);
    let out = tern(
        data,
        &[
            "account",
            "add",
            "--name",
            name,
            "--email",
            &user.address,
            "--protocol",
            "imap",
            "--incoming",
            &incoming,
            "--incoming-security",
            "plain",
            "--outgoing",
            &outgoing,
            "--outgoing-security",
            "tls",
            "--password-cmd",
            &cmd,
        ],
    );
    assert!(
        out.status.success(),
        "account add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Points the (only) account in `data` at a plain SMTP server on 127.0.0.1:`port` (a scripted
/// one, or Postfix's MX-style port).
pub fn use_plain_smtp(data: &Path, port: u16) {
    rusqlite::Connection::open(data.join("tern.db"))
        .unwrap()
        .execute(
            "UPDATE account SET outgoing_port = ?1, outgoing_security = 'plain'",
            [port],
        )
        .unwrap();
}

/// Adds `user`'s POP3 account (named after the local part) at 127.0.0.1:`port` with
/// `security` (tls, starttls or plain), trusting the harness CA, the password read from a file
/// by `--password-cmd`. `extra` is appended to `tern account add`.
pub fn add_pop3_account(
    servers: &MailServers,
    data: &Path,
    user: &User,
    port: u16,
    security: &str,
    extra: &[&str],
) {
    std::fs::create_dir_all(data).unwrap();
    let password_file = data.join("password");
    std::fs::write(&password_file, format!("{}\n", user.password)).unwrap();
    let name = user.address.split('@').next().unwrap();
    let incoming = format!("127.0.0.1:{port}");
    let outgoing = format!("127.0.0.1:{}", servers.ports.submissions);
    let cmd = format!("cat {}", password_file.display());
    let ca = servers.certs.ca_pem.to_str().unwrap();
    let mut args = vec![
        "account",
        "add",
        "--name",
        name,
        "--email",
        &user.address,
        "--protocol",
        "pop3",
        "--incoming",
        &incoming,
        "--incoming-security",
        security,
        "--outgoing",
        &outgoing,
        "--outgoing-security",
        "tls",
        "--password-cmd",
        &cmd,
        "--ca-file",
        ca,
    ];
    args.extend_from_slice(extra);
    let out = tern(data, &args);
    assert!(
        out.status.success(),
        "account add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a bounded run of `tern` did: its output and how long it took.
pub struct Bounded {
    pub output: Output,
    pub took: std::time::Duration,
    /// The process's peak resident set (VmHWM), in KiB, as last sampled (every 5 ms).
    pub peak_kib: u64,
}

impl Bounded {
    /// Whether the process panicked (Rust's exit status 101, or a panic message on stderr).
    pub fn panicked(&self) -> bool {
        self.output.status.code() == Some(101)
            || String::from_utf8_lossy(&self.output.stderr).contains("panicked at")
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
}

/// Runs `tern --data-dir DATA ARGS...` with `env`, `stdin` as its input, and kills it if it
/// runs past `limit` (a hang past every timeout: the test fails naming the command).
pub fn tern_bounded(
    data_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
    limit: std::time::Duration,
) -> Bounded {
    use std::io::Write as _;
    use std::process::Stdio;
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(kib) = peak_rss_kib(child.id()) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "tern {} still ran after {limit:?}: it hung past its timeouts",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let _ = writer.join();
    let output = Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    Bounded {
        output,
        took: started.elapsed(),
        peak_kib,
    }
}

/// A process's peak resident set so far (VmHWM, KiB), from `/proc`; None once it is gone.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
