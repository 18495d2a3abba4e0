//! Opening connections: TCP with `TCP_NODELAY`, TLS with verified certificates, and the upgrade
//! step of STARTTLS. A self-signed certificate is trusted only through the account's CA file or a
//! pinned SHA-256 fingerprint.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_compression::tokio::bufread::DeflateDecoder;
use async_compression::tokio::write::DeflateEncoder;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_native_tls::native_tls;
use tokio_native_tls::{TlsConnector, TlsStream};

use super::{ErrorKind, ProtocolError};

/// How long connecting or a TLS handshake may take at most (`protocol::limits().connect`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Idle time before the first TCP keepalive probe, and the time between probes.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// What to trust beyond the system's CA store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// Extra CA certificate(s) or a self-signed server certificate, PEM.
    pub ca_file: Option<PathBuf>,
    /// SHA-256 of the server certificate (DER), lower-case hex. When set, exactly this
    /// certificate is accepted, whoever signed it.
    pub pinned_sha256: Option<String>,
}

/// A connection, before or after TLS, and possibly compressed.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// DEFLATE compression (RFC 4978) over a plain or TLS stream.
    Compressed(Box<Compressed>),
    /// Taken apart (only while being wrapped); every operation fails.
    Closed,
}

/// The two halves of a compressed connection.
#[derive(Debug)]
pub struct Compressed {
    reader: DeflateDecoder<BufReader<ReadHalf<Stream>>>,
    writer: DeflateEncoder<WriteHalf<Stream>>,
    tls: bool,
}

impl Stream {
    pub fn is_tls(&self) -> bool {
        match self {
            Stream::Tls(_) => true,
            Stream::Compressed(c) => c.tls,
            Stream::Plain(_) | Stream::Closed => false,
        }
    }

    /// Wraps the stream in DEFLATE compression (after the server agreed to COMPRESS DEFLATE).
    pub fn compress(self) -> Stream {
        let tls = self.is_tls();
        let (read, write) = tokio::io::split(self);
        Stream::Compressed(Box::new(Compressed {
            reader: DeflateDecoder::new(BufReader::new(read)),
            writer: DeflateEncoder::new(write),
            tls,
        }))
    }

    pub fn is_compressed(&self) -> bool {
        matches!(self, Stream::Compressed(_))
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection is closed")
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Compressed(c) => match Pin::new(&mut c.reader).poll_read(cx, buf) {
                // The decoder words a stream that ends mid-block as "unexpected BufError".
                Poll::Ready(Err(e)) if !network_kind(e.kind()) => Poll::Ready(Err(io::Error::new(
                    e.kind(),
                    format!(
                        "the compressed stream (COMPRESS=DEFLATE) broke off ({e}); the connection was cut or damaged"
                    ),
                ))),
                other => other,
            },
            Stream::Closed => Poll::Ready(Err(closed())),
        }
    }
}

/// Whether an I/O error's kind already says what happened to the connection.
fn network_kind(kind: io::ErrorKind) -> bool {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, NotConnected, TimedOut};
    matches!(
        kind,
        ConnectionReset | ConnectionAborted | BrokenPipe | TimedOut | NotConnected
    )
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Compressed(c) => Pin::new(&mut c.writer).poll_write(cx, buf),
            Stream::Closed => Poll::Ready(Err(closed())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            // A flush of the encoder is a DEFLATE sync flush: the server gets whole commands.
            Stream::Compressed(c) => Pin::new(&mut c.writer).poll_flush(cx),
            Stream::Closed => Poll::Ready(Err(closed())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Compressed(c) => Pin::new(&mut c.writer).poll_shutdown(cx),
            Stream::Closed => Poll::Ready(Ok(())),
        }
    }
}

/// Opens a TCP connection with `TCP_NODELAY` set.
pub async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, ProtocolError> {
    let where_ = format!("{host}:{port}");
    let limit = super::limits().connect;
    let stream = tokio::time::timeout(limit, TcpStream::connect((host, port)))
        .await
        .map_err(|_| {
            ProtocolError::new(
                ErrorKind::Network,
                format!("cannot connect to {where_}: no answer within {} s; check the server name and port, and your network", limit.as_secs()),
            )
        })?
        .map_err(|e| {
            ProtocolError::new(ErrorKind::Network, format!("cannot connect to {where_}: {e}; check the server name and port, and your network"))
        })?;
    stream.set_nodelay(true).map_err(|e| {
        ProtocolError::new(
            ErrorKind::Network,
            format!("cannot set TCP_NODELAY on {where_}: {e}"),
        )
    })?;
    // Keepalive probes notice a peer that vanished (a laptop that slept, a NAT that forgot
    // the connection) on a connection that waits in IDLE for many minutes.
    let keepalive = socket2::TcpKeepalive::new().with_time(KEEPALIVE_IDLE);
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
    let keepalive = keepalive.with_interval(KEEPALIVE_INTERVAL);
    socket2::SockRef::from(&stream)
        .set_tcp_keepalive(&keepalive)
        .map_err(|e| {
            ProtocolError::new(
                ErrorKind::Network,
                format!("cannot set TCP keepalive on {where_}: {e}"),
            )
        })?;
    Ok(stream)
}

/// How a connection came to its TLS handshake: from the first byte, or after a protocol's
/// STARTTLS (which a second connection repeats to show the user a certificate that failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    Implicit,
    Starttls(super::probe::Service),
}

/// TLS settings built once per process for each (CA file contents, pinned) pair: building a
/// connector loads the system's CA bundle, which costs about 50 ms, and a sync opens several
/// connections.
fn cached_connector(
    ca_pem: Option<Vec<u8>>,
    trust: &Trust,
    where_: &str,
) -> Result<TlsConnector, ProtocolError> {
    type Key = (Option<Vec<u8>>, bool);
    static CACHE: std::sync::Mutex<Vec<(Key, native_tls::TlsConnector)>> =
        std::sync::Mutex::new(Vec::new());
    let key = (ca_pem, trust.pinned_sha256.is_some());
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, connector)) = cache.iter().find(|(k, _)| *k == key) {
        return Ok(TlsConnector::from(connector.clone()));
    }
    let connector = build_connector(key.0.as_deref(), trust, where_)?;
    // A handful of accounts at most; bounded anyway.
    if cache.len() >= 16 {
        cache.remove(0);
    }
    cache.push((key, connector.clone()));
    Ok(TlsConnector::from(connector))
}

/// A connector that verifies against the system store plus the CA file's certificates, or (for
/// a pinned certificate) leaves the check to the pin.
fn build_connector(
    ca_pem: Option<&[u8]>,
    trust: &Trust,
    where_: &str,
) -> Result<native_tls::TlsConnector, ProtocolError> {
    let tls_error = |message: String| ProtocolError::new(ErrorKind::Tls, message);
    let ca_path = || {
        trust
            .ca_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let mut builder = native_tls::TlsConnector::builder();
    builder.min_protocol_version(Some(native_tls::Protocol::Tlsv12));
    if let Some(pem) = ca_pem {
        let certs = pem_certificates(pem);
        if certs.is_empty() {
            return Err(tls_error(format!(
                "the CA file {} holds no PEM certificate; fix the account's --ca-file",
                ca_path()
            )));
        }
        for cert in certs {
            let cert = native_tls::Certificate::from_pem(&cert).map_err(|e| {
                tls_error(format!(
                    "the CA file {} is not a valid certificate: {e}",
                    ca_path()
                ))
            })?;
            builder.add_root_certificate(cert);
        }
    }
    if trust.pinned_sha256.is_some() {
        // The pin replaces chain and name checks: only the one certificate is accepted, after
        // the handshake.
        builder.danger_accept_invalid_certs(true);
        builder.danger_accept_invalid_hostnames(true);
    }
    builder
        .build()
        .map_err(|e| tls_error(format!("cannot set up TLS for {where_}: {e}")))
}

/// Runs the TLS handshake on `stream`, verifying the certificate for `host` against the system
/// store plus `trust`.
pub async fn handshake(
    stream: TcpStream,
    host: &str,
    port: u16,
    trust: &Trust,
    upgrade: Upgrade,
) -> Result<Stream, ProtocolError> {
    let where_ = format!("{host}:{port}");
    let tls_error = |message: String| ProtocolError::new(ErrorKind::Tls, message);
    let ca_pem = match &trust.ca_file {
        Some(path) => Some(tokio::fs::read(path).await.map_err(|e| {
            tls_error(format!(
                "cannot read the CA file {} for {where_}: {e}; fix the account's --ca-file",
                path.display()
            ))
        })?),
        None => None,
    };
    let connector = cached_connector(ca_pem, trust, &where_)?;
    let limit = super::limits().connect;
    let tls = tokio::time::timeout(limit, connector.connect(host, stream))
        .await
        .map_err(|_| {
            ProtocolError::new(
                ErrorKind::Network,
                format!(
                    "the TLS handshake with {where_} got no answer within {} s; check the port and its security mode, and your network",
                    limit.as_secs()
                ),
            )
        })?;
    let tls = match tls {
        Ok(tls) => tls,
        Err(e) => {
            // Only a failed certificate check waits for the user; a handshake the network cut
            // (or a server that does not speak TLS there) is a network error, retried. An I/O
            // error under the TLS error is the network; words about certificates are a
            // verification failure; otherwise (messages differ by platform and language) a
            // handshake that completes without verification shows that trust was the problem.
            let text = e.to_string().to_ascii_lowercase();
            let network = {
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
                let mut io = false;
                while let Some(err) = source {
                    io |= err.is::<io::Error>();
                    source = err.source();
                }
                // OpenSSL reports a peer that hung up mid-handshake without an I/O error.
                let hung_up = [
                    "eof",
                    "reset",
                    "broken pipe",
                    "connection",
                    "timed out",
                    "closed",
                ]
                .iter()
                .any(|w| text.contains(w));
                io || (hung_up && !trust_words(&text))
            };
            let about_trust = !network && trust.pinned_sha256.is_none() && trust_words(&text);
            let certificate = if trust.pinned_sha256.is_none() && !network {
                certificate_of(host, port, upgrade).await
            } else {
                None
            };
            if !about_trust && certificate.is_none() {
                return Err(ProtocolError::new(
                    ErrorKind::Network,
                    format!(
                        "the TLS handshake with {where_} failed: {e}; the connection was cut, or the server does not speak TLS on this port (Tern will try again)"
                    ),
                ));
            }
            let hint = match &certificate {
                Some(cert) => format!(
                    "; it names {} and was issued by {}; if you trust this server, pin its certificate with --cert-sha256 {} or trust its CA with --ca-file",
                    cert.subject, cert.issuer, cert.sha256
                ),
                None => "; if the server uses a self-signed certificate, pass --ca-file or pin it with --cert-sha256".to_owned(),
            };
            let mut error = tls_error(format!(
                "cannot verify the TLS certificate of {where_}: {e}{hint}"
            ));
            error.certificate = certificate.map(Box::new);
            return Err(error);
        }
    };
    if let Some(pin) = &trust.pinned_sha256 {
        let actual = peer_fingerprint(&tls).ok_or_else(|| {
            tls_error(format!(
                "{where_} presented no certificate to compare with the pinned one"
            ))
        })?;
        if !actual.eq_ignore_ascii_case(pin) {
            return Err(tls_error(format!(
                "the TLS certificate of {where_} has SHA-256 {actual}, not the pinned {pin}; if the server changed its certificate on purpose, update the pin"
            )));
        }
    }
    Ok(Stream::Tls(Box::new(tls)))
}

/// Whether a (lower-cased) TLS error message speaks of certificates and trust.
fn trust_words(text: &str) -> bool {
    [
        "certif",
        "verif",
        "trust",
        "principal name",
        "self signed",
        "self-signed",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// How long a plain connection waits for the server's first bytes before asking whether the
/// port wants TLS (every IMAP, POP3 and submission server greets at once).
pub const GREETING_TIMEOUT: Duration = Duration::from_secs(8);

/// Connects with implicit TLS. A port that answers in plain text (a greeting, where TLS
/// expects a handshake) is named as such: the security mode does not match the port.
pub async fn connect_tls(host: &str, port: u16, trust: &Trust) -> Result<Stream, ProtocolError> {
    let tcp = connect_tcp(host, port).await?;
    handshake_implicit(tcp, host, port, trust).await
}

/// `handshake` on a fresh connection for implicit TLS (see `connect_tls`).
pub async fn handshake_implicit(
    tcp: TcpStream,
    host: &str,
    port: u16,
    trust: &Trust,
) -> Result<Stream, ProtocolError> {
    match handshake(tcp, host, port, trust, Upgrade::Implicit).await {
        // A plain-text server greets first, so the handshake reads its greeting as garbage;
        // a cut or silent connection is the network, and asking again would only wait.
        // (The host is left out of what is matched: its name may hold any of the words.)
        Err(error)
            if error.kind == ErrorKind::Network
                && !cut_or_silent(&error.message.replace(host, "")) =>
        {
            match plain_greeting(host, port).await {
                Some(greeting) => Err(ProtocolError::new(
                    ErrorKind::Tls,
                    format!(
                        "the server on {host}:{port} did not answer with TLS but in plain text ({greeting:?}): this port wants starttls (or plain); use security starttls, or the server's TLS port (993, 995, 465)"
                    ),
                )),
                None => Err(error),
            }
        }
        other => other,
    }
}

/// Connects for a protocol that starts in plain text (STARTTLS, or plain), and waits until
/// the server has sent its first bytes. A server silent for `GREETING_TIMEOUT` that answers a
/// TLS handshake wants TLS from the first byte: that is said at once, instead of a stall
/// minutes later. One that does not is waited for up to the stall limit (a greeting delay,
/// as Postfix's postscreen makes, is no fault).
pub async fn connect_plain(host: &str, port: u16) -> Result<TcpStream, ProtocolError> {
    let tcp = connect_tcp(host, port).await?;
    let stall = super::limits().stall;
    let mut first = [0u8; 1];
    let early = GREETING_TIMEOUT.min(stall);
    if tokio::time::timeout(early, tcp.peek(&mut first))
        .await
        .is_ok()
    {
        return Ok(tcp);
    }
    if speaks_tls(host, port).await {
        return Err(ProtocolError::new(
            ErrorKind::Tls,
            format!(
                "{host}:{port} expects TLS from the first byte (it sent no greeting and answers a TLS handshake); use security tls"
            ),
        ));
    }
    match tokio::time::timeout(stall.saturating_sub(early), tcp.peek(&mut first)).await {
        Ok(_) => Ok(tcp),
        Err(_) => Err(ProtocolError::new(
            ErrorKind::Network,
            format!(
                "{host}:{port} sent no greeting within {} s; check the server name and port",
                stall.as_secs()
            ),
        )),
    }
}

/// Whether a failed handshake's error says the connection was cut or stayed silent (as opposed
/// to the peer answering with something that is not TLS).
fn cut_or_silent(message: &str) -> bool {
    let text = message.to_ascii_lowercase();
    ["eof", "reset", "broken pipe", "got no answer", "timed out"]
        .iter()
        .any(|w| text.contains(w))
}

/// The first line a server sends on a fresh plain connection, if it sends one at once that
/// reads like a mail protocol's greeting (`* OK`, `+OK`, `220`, …). Only to word an error.
async fn plain_greeting(host: &str, port: u16) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let mut tcp = connect_tcp(host, port).await.ok()?;
    let mut buffer = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(3), tcp.read(&mut buffer))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(buffer.get(..n)?);
    let line = text.lines().next()?.trim();
    let greets = [
        "* OK",
        "* PREAUTH",
        "* BYE",
        "+OK",
        "-ERR",
        "220",
        "421",
        "554",
    ]
    .iter()
    .any(|start| line.starts_with(start));
    greets.then(|| line.chars().filter(|c| !c.is_control()).take(80).collect())
}

/// Whether the port completes a TLS handshake (certificates not checked: only to word an
/// error, nothing is sent).
async fn speaks_tls(host: &str, port: u16) -> bool {
    let Ok(tcp) = connect_tcp(host, port).await else {
        return false;
    };
    let mut builder = native_tls::TlsConnector::builder();
    builder
        .danger_accept_invalid_certs(true)
        .danger_accept_invalid_hostnames(true);
    let Ok(connector) = builder.build() else {
        return false;
    };
    let connector = TlsConnector::from(connector);
    matches!(
        tokio::time::timeout(Duration::from_secs(4), connector.connect(host, tcp)).await,
        Ok(Ok(_))
    )
}

/// The SHA-256 fingerprint (lower-case hex) of the certificate a TLS stream's peer presented.
pub fn peer_fingerprint(tls: &TlsStream<TcpStream>) -> Option<String> {
    let cert = tls.get_ref().peer_certificate().ok()??;
    let der = cert.to_der().ok()?;
    Some(sha256_hex(&der))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A server certificate as the user is shown it before trusting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// `host:port` it came from.
    pub server: String,
    /// SHA-256 of the DER, lower-case hex (what `--cert-sha256` pins).
    pub sha256: String,
    /// The subject's distinguished name (`CN=mail.example.com, O=…`).
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// When it stops being valid (Unix seconds), if it could be read.
    pub not_after: Option<i64>,
}

impl CertificateInfo {
    /// Reads `der`; the names are "(unreadable)" when it is not a certificate.
    pub fn from_der(server: &str, der: &[u8]) -> CertificateInfo {
        let parsed = x509_parser::parse_x509_certificate(der).ok();
        let name = |text: Option<String>| {
            text.filter(|t| !t.is_empty())
                .map(|t| t.chars().filter(|c| !hidden(*c)).take(300).collect())
                .unwrap_or_else(|| "(unreadable)".to_owned())
        };
        CertificateInfo {
            server: server.to_owned(),
            sha256: sha256_hex(der),
            subject: name(parsed.as_ref().map(|(_, c)| c.subject().to_string())),
            issuer: name(parsed.as_ref().map(|(_, c)| c.issuer().to_string())),
            not_after: parsed.map(|(_, c)| c.validity().not_after.timestamp()),
        }
    }
}

/// Characters that must not reach a trust prompt: control characters, and the invisible and
/// direction-changing ones that could make a name read as another.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Reads a server's certificate without trusting it, to show the user what to trust. Only used
/// for an error message and the trust dialog.
async fn certificate_of(host: &str, port: u16, upgrade: Upgrade) -> Option<CertificateInfo> {
    let mut tcp = connect_tcp(host, port).await.ok()?;
    if let Upgrade::Starttls(service) = upgrade {
        tcp = super::probe::starttls(tcp, service, super::limits().connect)
            .await
            .ok()?;
    }
    let mut builder = native_tls::TlsConnector::builder();
    builder
        .danger_accept_invalid_certs(true)
        .danger_accept_invalid_hostnames(true);
    let connector = TlsConnector::from(builder.build().ok()?);
    let tls = tokio::time::timeout(super::limits().connect, connector.connect(host, tcp))
        .await
        .ok()?
        .ok()?;
    let der = tls.get_ref().peer_certificate().ok()??.to_der().ok()?;
    Some(CertificateInfo::from_der(&format!("{host}:{port}"), &der))
}

/// Splits a PEM file into its CERTIFICATE blocks.
pub fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find(BEGIN) {
        let Some(after_start) = rest.get(start..) else {
            break;
        };
        let Some(end) = after_start.find(END) else {
            break;
        };
        let block_end = end + END.len();
        if let Some(block) = after_start.get(..block_end) {
            out.push(block.as_bytes().to_vec());
        }
        rest = after_start.get(block_end..).unwrap_or("");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pem_bundles() {
        let one = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let bundle = format!("junk\n{one}{one}-----BEGIN CERTIFICATE-----\nunterminated");
        assert_eq!(pem_certificates(bundle.as_bytes()).len(), 2);
        assert!(pem_certificates(b"nothing here").is_empty());
    }

    #[test]
    fn sha256_hex_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
