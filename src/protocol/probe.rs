//! Probing one port for a mail service, for the setup wizard's guess: does `address` greet as
//! an IMAP, POP3 or submission server, over implicit TLS or in plain text offering STARTTLS?
//! Nothing is logged in to. The TLS handshake here does not check the certificate (only
//! whether the port speaks TLS); the verification that follows does, and says so. Every read is
//! bounded in time and size.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader,
};
use tokio::net::TcpStream;
use tokio_native_tls::{TlsConnector, native_tls};

/// Most bytes read from a probed server in all.
const MAX_READ: u64 = 16 * 1024;

/// The service a port is probed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Imap,
    Pop3,
    Submission,
}

/// How the port is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// TLS from the first byte (993, 995, 465).
    ImplicitTls,
    /// Plain text with STARTTLS offered (143, 110, 587).
    Starttls,
}

/// Probes `address` (named `host`, for TLS's server name) for `service` in `mode`, all within
/// `timeout`. Ok when the greeting is the service's and, for `Starttls`, the upgrade is
/// offered; otherwise what was wrong, in words.
pub async fn probe(
    address: SocketAddr,
    host: &str,
    service: Service,
    mode: Mode,
    timeout: Duration,
) -> Result<(), String> {
    match tokio::time::timeout(timeout, probe_inner(address, host, service, mode)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    }
}

async fn probe_inner(
    address: SocketAddr,
    host: &str,
    service: Service,
    mode: Mode,
) -> Result<(), String> {
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    tcp.set_nodelay(true)
        .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
    match mode {
        Mode::ImplicitTls => {
            let mut builder = native_tls::TlsConnector::builder();
            builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true);
            let connector = TlsConnector::from(
                builder
                    .build()
                    .map_err(|e| format!("cannot set up TLS: {e}"))?,
            );
            let tls = connector
                .connect(host, tcp)
                .await
                .map_err(|e| format!("no TLS on this port ({e})"))?;
            converse(tls, service, false).await
        }
        Mode::Starttls => converse(tcp, service, true).await,
    }
}

/// Reads the greeting and, when `starttls`, asks for the capabilities.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    service: Service,
    starttls: bool,
) -> Result<(), String> {
    let mut reader = BufReader::new(stream);
    let mut budget = MAX_READ;
    let greeting = read_line(&mut reader, &mut budget).await?;
    let greets = match service {
        Service::Imap => greeting.starts_with("* OK") || greeting.starts_with("* PREAUTH"),
        Service::Pop3 => greeting.starts_with("+OK"),
        Service::Submission => greeting.starts_with("220"),
    };
    if !greets {
        return Err(format!(
            "the greeting is not {}'s ({:?})",
            match service {
                Service::Imap => "IMAP",
                Service::Pop3 => "POP3",
                Service::Submission => "SMTP",
            },
            printable(&greeting)
        ));
    }
    if !starttls {
        let _ = quit(reader.get_mut(), service).await;
        return Ok(());
    }
    let offered = match service {
        Service::Imap => {
            if greeting.contains("[CAPABILITY ") && has_word(&greeting, "STARTTLS") {
                true
            } else {
                send(reader.get_mut(), b"p1 CAPABILITY\r\n").await?;
                let mut offered = false;
                loop {
                    let line = read_line(&mut reader, &mut budget).await?;
                    if line.starts_with("* CAPABILITY ") {
                        offered |= has_word(&line, "STARTTLS");
                    } else if line.starts_with("p1 ") {
                        break offered;
                    }
                }
            }
        }
        Service::Pop3 => {
            send(reader.get_mut(), b"CAPA\r\n").await?;
            let first = read_line(&mut reader, &mut budget).await?;
            let mut offered = false;
            if first.starts_with("+OK") {
                loop {
                    let line = read_line(&mut reader, &mut budget).await?;
                    if line == "." {
                        break;
                    }
                    offered |= line.eq_ignore_ascii_case("STLS");
                }
            }
            offered
        }
        Service::Submission => {
            send(reader.get_mut(), b"EHLO tern\r\n").await?;
            let mut offered = false;
            loop {
                let line = read_line(&mut reader, &mut budget).await?;
                if !line.starts_with("250") {
                    return Err(format!("EHLO was refused ({:?})", printable(&line)));
                }
                offered |= line
                    .get(4..)
                    .is_some_and(|word| word.trim().eq_ignore_ascii_case("STARTTLS"));
                if !line.starts_with("250-") {
                    break offered;
                }
            }
        }
    };
    let _ = quit(reader.get_mut(), service).await;
    if offered {
        Ok(())
    } else {
        Err("the server does not offer STARTTLS here".into())
    }
}

/// Takes a fresh plain connection through the greeting and the STARTTLS command (STLS for
/// POP3, after EHLO for SMTP) so that it is ready for the TLS handshake, all within `timeout`:
/// how a certificate offered only after STARTTLS is read to show it to the user.
pub async fn starttls(
    tcp: TcpStream,
    service: Service,
    timeout: Duration,
) -> Result<TcpStream, String> {
    match tokio::time::timeout(timeout, starttls_inner(tcp, service)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    }
}

async fn starttls_inner(tcp: TcpStream, service: Service) -> Result<TcpStream, String> {
    let mut reader = BufReader::new(tcp);
    let mut budget = MAX_READ;
    let refused = |line: &str| format!("STARTTLS was refused ({:?})", printable(line));
    match service {
        Service::Imap => {
            read_line(&mut reader, &mut budget).await?;
            send(reader.get_mut(), b"t1 STARTTLS\r\n").await?;
            loop {
                let line = read_line(&mut reader, &mut budget).await?;
                if line.starts_with("t1 ") {
                    if !line.get(3..).is_some_and(|rest| rest.starts_with("OK")) {
                        return Err(refused(&line));
                    }
                    break;
                }
            }
        }
        Service::Pop3 => {
            read_line(&mut reader, &mut budget).await?;
            send(reader.get_mut(), b"STLS\r\n").await?;
            let line = read_line(&mut reader, &mut budget).await?;
            if !line.starts_with("+OK") {
                return Err(refused(&line));
            }
        }
        Service::Submission => {
            while read_line(&mut reader, &mut budget)
                .await?
                .starts_with("220-")
            {}
            send(reader.get_mut(), b"EHLO tern\r\n").await?;
            while read_line(&mut reader, &mut budget)
                .await?
                .starts_with("250-")
            {}
            send(reader.get_mut(), b"STARTTLS\r\n").await?;
            let line = read_line(&mut reader, &mut budget).await?;
            if !line.starts_with("220") {
                return Err(refused(&line));
            }
        }
    }
    if !reader.buffer().is_empty() {
        return Err("the server sent data before the TLS handshake".into());
    }
    Ok(reader.into_inner())
}

async fn quit<S: AsyncWrite + Unpin>(stream: &mut S, service: Service) -> Result<(), String> {
    let command: &[u8] = match service {
        Service::Imap => b"p2 LOGOUT\r\n",
        Service::Pop3 | Service::Submission => b"QUIT\r\n",
    };
    send(stream, command).await
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> Result<(), String> {
    stream
        .write_all(bytes)
        .await
        .map_err(|e| format!("the connection failed: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("the connection failed: {e}"))
}

/// One line (CRLF or LF stripped), within what is left of `budget`.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    budget: &mut u64,
) -> Result<String, String> {
    use tokio::io::AsyncReadExt as _;
    let mut line = Vec::new();
    let n = (&mut *reader)
        .take(*budget)
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| format!("the connection failed: {e}"))?;
    *budget = budget.saturating_sub(n as u64);
    if n == 0 {
        return Err(if *budget == 0 {
            "the server sent more than a probe reads".into()
        } else {
            "the server closed the connection".into()
        });
    }
    if !line.ends_with(b"\n") {
        return Err("the server sent more than a probe reads".into());
    }
    let text = String::from_utf8_lossy(&line);
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

fn has_word(line: &str, word: &str) -> bool {
    line.split(|c: char| c.is_whitespace() || c == ']' || c == '[')
        .any(|w| w.eq_ignore_ascii_case(word))
}

fn printable(line: &str) -> String {
    line.chars().filter(|c| !c.is_control()).take(80).collect()
}
