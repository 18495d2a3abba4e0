//! One window per data directory: the first `tern` started on a data directory owns it, and a
//! later one (a clicked `mailto:` link, a double-clicked `.eml` file) hands it what to open and
//! exits, as Thunderbird and Apple Mail do.
//!
//! The owner holds an OS file lock on `instance.lock` for its lifetime (released by the OS on any
//! exit, `kill -9` included) and listens on a loopback port written with a random token to
//! `instance` (owner-only permissions). A later process that finds the lock taken connects and
//! sends, one per line:
//!
//! ```text
//! TERN1 <token>
//! mailto <link>        (any number of these and `file` lines)
//! file <absolute path>
//! end
//! ```
//!
//! and waits for `ok`. Lines are bounded, connections time out, and a wrong token is refused, so
//! another local user cannot drive the window. Headless commands (`tern sync`) never claim the
//! directory: they run beside the window. This module knows nothing of iced; the window reads
//! what arrives from [`take_requests`].

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc;

/// The lock file a running window holds.
const LOCK_FILE: &str = "instance.lock";
/// Where the running window's port and token are.
const ADDRESS_FILE: &str = "instance";
/// The longest line either side reads (a mailto: link is at most `mail::mailto::MAX_LEN`).
const MAX_LINE: usize = crate::mail::mailto::MAX_LEN + 64;
/// The most targets one request carries.
const MAX_TARGETS: usize = 32;
/// How long either side waits for the other.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How many requests may wait for the window before senders are told to retry later.
const QUEUE: usize = 64;

/// Something the user asked to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A `mailto:` link (RFC 6068), as given.
    Mailto(String),
    /// A message file (`.eml`, RFC 5322), as an absolute path.
    File(PathBuf),
}

/// What the window is asked to do by another `tern` process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Come to the front (the user started Tern again).
    Raise,
    /// Open these, then come to the front.
    Open(Vec<Target>),
}

/// Why the directory could not be claimed or a request not delivered.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("cannot use {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot reach the running Tern window: {0}")]
    Unreachable(String),
}

/// What [`claim`] found.
#[derive(Debug)]
pub enum Claim {
    /// This process owns the directory; keep the value alive as long as the window runs.
    Owner(Owner),
    /// Another window owns it and has taken the request.
    Delivered,
}

/// The claim on a data directory: the lock is held while this lives (and released by the OS on
/// any exit), so keep it for the window's lifetime; requests are read through [`take_requests`].
#[derive(Debug)]
pub struct Owner {
    _lock: File,
}

/// Requests that arrived for this process's window, taken once by the window.
static REQUESTS: Mutex<Option<mpsc::Receiver<Request>>> = Mutex::new(None);

/// The window's receiver of requests from other processes (`None` when there is no listener, or
/// it was taken already).
pub fn take_requests() -> Option<mpsc::Receiver<Request>> {
    REQUESTS.lock().ok().and_then(|mut slot| slot.take())
}

/// Claims `data_dir` for this process's window, or hands `targets` to the window that has it.
///
/// When the running window cannot be reached (it is starting, or hung), this waits briefly and
/// then returns the error: the caller starts without the single-instance guard rather than
/// dropping what the user asked for.
pub fn claim(data_dir: &Path, targets: &[Target]) -> Result<Claim, InstanceError> {
    std::fs::create_dir_all(data_dir).map_err(|source| InstanceError::File {
        path: data_dir.to_owned(),
        source,
    })?;
    let lock_path = data_dir.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| InstanceError::File {
            path: lock_path.clone(),
            source,
        })?;
    match lock.try_lock() {
        Ok(()) => {
            listen(data_dir)?;
            Ok(Claim::Owner(Owner { _lock: lock }))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            // The owner writes its address just after taking the lock: give it a moment, but
            // not long (a hung owner must not keep the user waiting).
            let give_up = std::time::Instant::now() + Duration::from_secs(2);
            // At most MAX_TARGETS per request; none is a request to come to the front.
            let chunks: Vec<&[Target]> = if targets.is_empty() {
                vec![targets]
            } else {
                targets.chunks(MAX_TARGETS).collect()
            };
            let mut next = 0;
            loop {
                let Some(chunk) = chunks.get(next) else {
                    return Ok(Claim::Delivered);
                };
                let last = match deliver(data_dir, chunk) {
                    Ok(()) => {
                        next += 1;
                        continue;
                    }
                    Err(err) => err,
                };
                if std::time::Instant::now() >= give_up {
                    return Err(InstanceError::Unreachable(last));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Err(std::fs::TryLockError::Error(source)) => Err(InstanceError::File {
            path: lock_path,
            source,
        }),
    }
}

/// Starts the listener thread and publishes its address.
fn listen(data_dir: &Path) -> Result<(), InstanceError> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|source| InstanceError::File {
            path: data_dir.join(ADDRESS_FILE),
            source,
        })?;
    let port = listener
        .local_addr()
        .map_err(|source| InstanceError::File {
            path: data_dir.join(ADDRESS_FILE),
            source,
        })?
        .port();
    let token = new_token().map_err(|e| InstanceError::Unreachable(e.to_string()))?;
    write_address(data_dir, port, &token)?;
    let (sender, receiver) = mpsc::channel(QUEUE);
    if let Ok(mut slot) = REQUESTS.lock() {
        *slot = Some(receiver);
    }
    std::thread::Builder::new()
        .name("tern-instance".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else {
                    // Out of descriptors, say: do not spin.
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                };
                let request = match serve(&stream, &token) {
                    Ok(request) => request,
                    Err(err) => {
                        eprintln!("tern: a request from another Tern was refused: {err}");
                        continue;
                    }
                };
                // `ok` only once the request has its place in the queue, so the sender never
                // exits on a request that is then dropped; a full queue or a closing window
                // says so, and the sender opens its own window.
                match sender.try_reserve() {
                    Ok(permit) => {
                        if (&stream).write_all(b"ok\n").is_ok() {
                            permit.send(request);
                        }
                    }
                    Err(mpsc::error::TrySendError::Full(())) => {
                        let _ = (&stream).write_all(b"busy\n");
                    }
                    Err(mpsc::error::TrySendError::Closed(())) => {
                        let _ = (&stream).write_all(b"closing\n");
                        return;
                    }
                }
            }
        })
        .map_err(|source| InstanceError::File {
            path: data_dir.join(ADDRESS_FILE),
            source,
        })?;
    Ok(())
}

/// 128 random bits as hex.
fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `port token` to the address file, readable by the owner only, replacing it whole.
fn write_address(data_dir: &Path, port: u16, token: &str) -> Result<(), InstanceError> {
    let path = data_dir.join(ADDRESS_FILE);
    let tmp = data_dir.join(format!("{ADDRESS_FILE}.tmp"));
    let err = |source| InstanceError::File {
        path: path.clone(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(err)?;
    file.write_all(format!("{port} {token}\n").as_bytes())
        .map_err(err)?;
    file.sync_all().map_err(err)?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(err)
}

/// A connection that gives up at a deadline, however slowly the other side trickles bytes in
/// (one sender cannot hold the listener for longer than `TIMEOUT`).
struct Deadline {
    stream: TcpStream,
    until: std::time::Instant,
}

impl std::io::Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self
            .until
            .checked_duration_since(std::time::Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or(std::io::ErrorKind::TimedOut)?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// Reads one request from a connection (the caller answers it).
fn serve(stream: &TcpStream, token: &str) -> Result<Request, String> {
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(Deadline {
        stream: stream.try_clone().map_err(|e| e.to_string())?,
        until: std::time::Instant::now() + TIMEOUT,
    });
    let hello = read_line(&mut reader)?;
    let expected = format!("TERN1 {token}");
    // In constant time, so the token cannot be guessed byte by byte from timings.
    let same = hello.len() == expected.len()
        && hello
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0;
    if !same {
        let _ = (&*stream).write_all(b"no\n");
        return Err("wrong token".into());
    }
    let mut targets = Vec::new();
    loop {
        let line = read_line(&mut reader)?;
        if line == "end" {
            break;
        }
        if targets.len() == MAX_TARGETS {
            return Err(format!("more than {MAX_TARGETS} things to open"));
        }
        match line.split_once(' ') {
            Some(("mailto", link)) => targets.push(Target::Mailto(link.to_owned())),
            Some(("file", path)) => targets.push(Target::File(PathBuf::from(path))),
            _ => return Err("a line that is not mailto, file or end".into()),
        }
    }
    Ok(if targets.is_empty() {
        Request::Raise
    } else {
        Request::Open(targets)
    })
}

/// One line without its ending, at most `MAX_LINE` bytes, as UTF-8.
fn read_line(reader: &mut impl std::io::BufRead) -> Result<String, String> {
    let mut line = Vec::new();
    let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX);
    reader
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|e| e.to_string())?;
    if line.pop() != Some(b'\n') {
        return Err("a line too long, or the connection closed".into());
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| "a line that is not UTF-8".into())
}

/// Sends `targets` to the window that owns `data_dir`.
fn deliver(data_dir: &Path, targets: &[Target]) -> Result<(), String> {
    let text = std::fs::read_to_string(data_dir.join(ADDRESS_FILE)).map_err(|e| e.to_string())?;
    let (port, token) = text
        .trim()
        .split_once(' ')
        .ok_or("the instance file is not `port token`")?;
    let port: u16 = port.parse().map_err(|_| "the instance file has no port")?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&address, TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(|e| e.to_string())?;
    let mut request = format!("TERN1 {token}\n");
    for target in targets {
        match target {
            Target::Mailto(link) if !link.contains(['\n', '\r']) => {
                request.push_str(&format!("mailto {link}\n"));
            }
            Target::File(path) => match path.to_str() {
                Some(path) if !path.contains(['\n', '\r']) => {
                    request.push_str(&format!("file {path}\n"));
                }
                _ => eprintln!("tern: cannot pass {} to the window", path.display()),
            },
            Target::Mailto(_) => eprintln!("tern: a mailto: link with a line break was ignored"),
        }
    }
    request.push_str("end\n");
    (&stream)
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let answer = read_line(&mut BufReader::new(&stream))?;
    if answer == "ok" {
        Ok(())
    } else {
        Err(format!("the window answered {answer:?}"))
    }
}

/// What the command line asks to open, when every argument (after `--data-dir`) is a `mailto:`
/// link, a `file://` URL or an existing file; relative paths are made absolute. `None` when any
/// argument is something else (a subcommand or a flag), so the usual parser reports it.
pub fn targets_in(args: &[String], cwd: &Path) -> Option<Vec<Target>> {
    if args.is_empty() {
        return None;
    }
    args.iter().map(|arg| target(arg, cwd)).collect()
}

fn target(arg: &str, cwd: &Path) -> Option<Target> {
    if arg.starts_with('-') {
        return None;
    }
    if arg
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
    {
        return Some(Target::Mailto(arg.to_owned()));
    }
    if arg
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file://"))
    {
        let path = url::Url::parse(arg).ok()?.to_file_path().ok()?;
        return Some(Target::File(path));
    }
    // A bare word is a command (`tern sync`), even beside a file of that name: a file is named
    // with a path (as desktops pass it) or by its `.eml` extension.
    let named_as_file = arg.contains(['/', std::path::MAIN_SEPARATOR])
        || Path::new(arg)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("eml"));
    let path = cwd.join(arg);
    (named_as_file && path.is_file()).then_some(Target::File(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    #[test]
    fn arguments_that_are_all_targets_are_read_as_targets() {
        let dir = std::env::temp_dir().join(format!("tern-targets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.eml"), b"Subject: x\r\n\r\nbody\r\n").unwrap();
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            targets_in(&args(&["MAILTO:bob@example.org?subject=hi", "a.eml"]), &dir),
            Some(vec![
                Target::Mailto("MAILTO:bob@example.org?subject=hi".into()),
                Target::File(dir.join("a.eml")),
            ])
        );
        let url = format!("file://{}", dir.join("a.eml").display());
        assert_eq!(
            targets_in(&args(&[&url]), Path::new("/")),
            Some(vec![Target::File(dir.join("a.eml"))])
        );
        // A subcommand, a flag or a missing file leaves the arguments to the parser.
        assert_eq!(targets_in(&args(&["sync"]), &dir), None);
        assert_eq!(targets_in(&args(&["mailto:a@b", "--json"]), &dir), None);
        assert_eq!(targets_in(&args(&["missing.eml"]), &dir), None);
        std::fs::write(dir.join("sync"), b"x").unwrap();
        assert_eq!(targets_in(&args(&["sync"]), &dir), None);
        assert_eq!(
            targets_in(&args(&["./sync"]), &dir),
            Some(vec![Target::File(dir.join("./sync"))])
        );
        assert_eq!(targets_in(&[], &dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_second_process_hands_its_targets_to_the_owner() {
        let dir = std::env::temp_dir().join(format!("tern-instance-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let Claim::Owner(_owner) = claim(&dir, &[]).unwrap() else {
            panic!("the first claim owns the directory");
        };
        let mut requests = take_requests().unwrap();
        // Another process's claim: the lock is per open file, so this models it.
        let targets = vec![
            Target::Mailto("mailto:ann@example.org".into()),
            Target::File(dir.join("m.eml")),
        ];
        assert!(matches!(claim(&dir, &targets).unwrap(), Claim::Delivered));
        assert_eq!(requests.blocking_recv(), Some(Request::Open(targets)));
        assert!(matches!(claim(&dir, &[]).unwrap(), Claim::Delivered));
        assert_eq!(requests.blocking_recv(), Some(Request::Raise));

        // A wrong token, an overlong line and junk are refused without disturbing the owner.
        let text = std::fs::read_to_string(dir.join(ADDRESS_FILE)).unwrap();
        let port: u16 = text.split(' ').next().unwrap().parse().unwrap();
        for junk in [
            b"TERN1 0000\nend\n".to_vec(),
            vec![b'x'; MAX_LINE + 10],
            b"\xff\xfe\n".to_vec(),
        ] {
            let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
            let _ = stream.write_all(&junk);
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            assert_ne!(answer, "ok\n");
        }
        assert!(matches!(claim(&dir, &[]).unwrap(), Claim::Delivered));
        assert_eq!(requests.blocking_recv(), Some(Request::Raise));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(ADDRESS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the token is the owner's alone");
        }
    }
}
