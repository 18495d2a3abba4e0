//! The IMAP session layer: tags, framing (lines and literals, via imap-codec's `Fragmentizer`),
//! literal synchronisation, STARTTLS, capabilities and login. Parsing is imap-codec's; this module
//! only moves bytes and keeps state.
//!
//! A response imap-codec cannot parse is set aside (counted and kept for the log) and the session
//! goes on: one bad line never ends a sync.

use std::borrow::Cow;

use imap_codec::decode::Decoder as _;
use imap_codec::encode::{Encoder as _, Fragment};
use imap_codec::fragmentizer::{DecodeMessageError, FragmentInfo, Fragmentizer};
use imap_codec::imap_types::IntoStatic as _;
use imap_codec::imap_types::auth::AuthMechanism;
use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::core::{IString, LiteralMode, NString, Tag, Vec1};
use imap_codec::imap_types::extensions::compress::CompressionAlgorithm;
use imap_codec::imap_types::extensions::enable::CapabilityEnable;
use imap_codec::imap_types::response::{
    Capability, Code, Data, GreetingKind, Response, Status, StatusKind, Tagged,
};
use imap_codec::{CommandCodec, GreetingCodec, ResponseCodec};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::account::Security;
use crate::account::credentials::Secret;
use crate::protocol::imap::preview;
use crate::protocol::tls::{self, Stream};
use crate::protocol::{ErrorKind, ProtocolError};

/// A literal larger than this is written on its own (see `run`).
const BIG_LITERAL: usize = 64 * 1024;

mod setup;

/// Largest response kept in memory (bigger bodies are fetched in partial ranges).
const MAX_MESSAGE: u32 = 64 * 1024 * 1024;

/// Untagged status responses (`* OK`, `* NO`, `* BAD`) one command may draw; a server that
/// sends more is cut off (a flood of `* OK` would otherwise keep a command alive for ever).
const MAX_UNTAGGED_STATUS: usize = 10_000;

/// Untagged data responses `run` collects for one command (streaming commands hand them on one
/// by one instead).
const MAX_COLLECTED: usize = 100_000;

/// Bytes of untagged data `run` collects for one command, at most.
const MAX_COLLECTED_BYTES: usize = 64 * 1024 * 1024;

/// The longest response line (literals aside) that is decoded: a longer one (a VANISHED set of
/// millions of ranges) is set aside unread, so its parse cannot take hundreds of megabytes. A
/// SEARCH of a million UIDs is about 8 MB, so folders of about 3.5 million messages fit.
const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

/// Unparseable responses kept for the log (the rest are only counted).
const MAX_UNPARSED_KEPT: usize = 100;

/// Bytes that count as progress while a response is read: a response that neither completes
/// nor brings this much within the stall limit is trickling and is cut off.
const PROGRESS_BYTES: usize = 64 * 1024;

fn stall() -> std::time::Duration {
    crate::protocol::limits().stall
}

pub use crate::protocol::Endpoint;

/// What a command produced: the untagged data, the codes of untagged OK/NO responses, and the
/// tagged completion.
#[derive(Debug)]
pub struct Completion {
    pub data: Vec<Data<'static>>,
    pub codes: Vec<Code<'static>>,
    pub status: Tagged<'static>,
}

impl Completion {
    pub fn is_ok(&self) -> bool {
        self.status.body.kind == StatusKind::Ok
    }

    /// The response codes of the untagged OK/NO responses followed by the tagged one's.
    pub fn all_codes(&self) -> impl Iterator<Item = &Code<'static>> {
        self.codes.iter().chain(self.status.body.code.iter())
    }
}

/// An authenticated or not-yet-authenticated IMAP connection.
#[derive(Debug)]
pub struct Session {
    stream: Stream,
    fragments: Fragmentizer,
    endpoint: String,
    next_tag: u32,
    capabilities: Vec<String>,
    /// Bytes received so far (for tests and statistics).
    pub bytes_received: u64,
    /// This connection's part of the protocol log.
    trace: crate::protocol::trace::Trace,
    /// Responses that could not be parsed, kept (truncated) for the log: the first
    /// `MAX_UNPARSED_KEPT`; `unparsed_count` counts them all.
    pub unparsed: Vec<String>,
    pub unparsed_count: u64,
    /// Whether QRESYNC was enabled on this connection.
    qresync: bool,
    /// How long one read may wait (longer while idling).
    read_timeout: std::time::Duration,
    /// How many commands of each kind were sent (e.g. "FETCH": 3), for statistics and tests.
    pub commands: std::collections::BTreeMap<&'static str, u32>,
    /// The size of the last response read, and the bytes of its lines (literals aside).
    last_size: usize,
    last_line_bytes: usize,
    /// While `run` collects: how many more bytes of data it may hold.
    collect_budget: Option<usize>,
    /// While a FETCH with PREVIEW runs: FETCH responses have the item taken out before they are
    /// decoded (imap-codec does not know it), and `last_preview` holds what it said.
    preview_wanted: bool,
    last_preview: Option<Option<String>>,
    /// Extensions advertised but refused in this session (`refuse_capability`).
    refused: Vec<String>,
}

/// PREVIEW (RFC 8970) added to a FETCH: `Lazy` answers only from what the server has ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewItem {
    Lazy,
    Computed,
}

/// Why an IDLE ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdleEnd<T> {
    /// The server reported new, changed or expunged messages.
    Changed,
    /// The time limit passed (re-issue IDLE or poll).
    Timeout,
    /// The caller's interrupt completed with this value.
    Interrupted(T),
}

fn is_change(data: &Data<'_>) -> bool {
    matches!(
        data,
        Data::Exists(_)
            | Data::Expunge(_)
            | Data::Fetch { .. }
            | Data::Vanished { .. }
            | Data::Recent(_)
    )
}

/// Renders protocol bytes for an error message or log, without control characters.
fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out.trim().to_owned()
}

impl Session {
    /// Connects, reads the greeting and, for STARTTLS, upgrades. Does not log in.
    pub async fn connect(endpoint: &Endpoint) -> Result<Session, ProtocolError> {
        let stream = match endpoint.security {
            Security::Tls => {
                tls::connect_tls(&endpoint.host, endpoint.port, &endpoint.trust).await?
            }
            Security::Starttls | Security::Plain => {
                Stream::Plain(tls::connect_plain(&endpoint.host, endpoint.port).await?)
            }
        };
        let mut session = Session {
            stream,
            fragments: Fragmentizer::new(MAX_MESSAGE),
            endpoint: endpoint.to_string(),
            next_tag: 1,
            capabilities: Vec::new(),
            bytes_received: 0,
            trace: crate::protocol::trace::Trace::new(format!("imap {endpoint}")),
            unparsed: Vec::new(),
            unparsed_count: 0,
            commands: std::collections::BTreeMap::new(),
            qresync: false,
            read_timeout: stall(),
            last_size: 0,
            last_line_bytes: 0,
            collect_budget: None,
            preview_wanted: false,
            last_preview: None,
            refused: Vec::new(),
        };
        session.read_greeting().await?;
        if endpoint.security == Security::Starttls {
            session = session.starttls(endpoint).await?;
        }
        Ok(session)
    }

    fn error(&self, kind: ErrorKind, what: impl std::fmt::Display) -> ProtocolError {
        ProtocolError::new(kind, format!("IMAP server {}: {what}", self.endpoint))
    }

    /// The server's capabilities, upper-cased (e.g. `IDLE`, `AUTH=PLAIN`).
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name))
    }

    /// Stops using an extension the server advertised but refused (for the rest of this
    /// session); `was_refused` then tells so.
    pub fn refuse_capability(&mut self, name: &str) {
        self.capabilities.retain(|c| !c.eq_ignore_ascii_case(name));
        if !self.was_refused(name) {
            self.refused.push(name.to_ascii_uppercase());
        }
    }

    pub fn was_refused(&self, name: &str) -> bool {
        self.refused.iter().any(|c| c.eq_ignore_ascii_case(name))
    }

    fn set_capabilities<'a>(&mut self, caps: impl IntoIterator<Item = &'a Capability<'a>>) {
        let refused = &self.refused;
        self.capabilities = caps
            .into_iter()
            .map(|c| c.to_string().to_ascii_uppercase())
            .filter(|c| !refused.contains(c))
            .collect();
    }

    /// Reads what the server sent (at most 64 KiB) into the framer; returns how many bytes.
    async fn fill(&mut self) -> Result<usize, ProtocolError> {
        let mut buf = vec![0u8; 64 * 1024];
        let limit = self.read_timeout;
        let n = tokio::time::timeout(limit, self.stream.read(&mut buf))
            .await
            .map_err(|_| {
                self.error(
                    ErrorKind::Network,
                    format!(
                        "no data for {} s; the connection seems stalled",
                        limit.as_secs()
                    ),
                )
            })?
            .map_err(|e| self.error(ErrorKind::Network, format!("the connection failed: {e}")))?;
        if n == 0 {
            return Err(self.error(ErrorKind::Network, "the server closed the connection"));
        }
        self.bytes_received += n as u64;
        let got = buf.get(..n).unwrap_or_default();
        self.trace.received(got);
        self.fragments.enqueue_bytes(got);
        Ok(n)
    }

    /// Reads bytes until one whole message (line plus literals) is framed. A message that
    /// neither completes nor brings `PROGRESS_BYTES` within the read limit is trickling: the
    /// connection is cut off with an error.
    async fn next_message(&mut self) -> Result<(), ProtocolError> {
        let mut since = std::time::Instant::now();
        let mut got = 0usize;
        let mut line_bytes = 0usize;
        loop {
            let fragment = self.fragments.progress();
            if let Some(FragmentInfo::Line { start, end, .. }) = fragment {
                line_bytes = line_bytes.saturating_add(end.saturating_sub(start));
            }
            match fragment {
                Some(_) if self.fragments.is_message_complete() => {
                    self.last_size = self.fragments.message_bytes().len();
                    self.last_line_bytes = line_bytes;
                    return Ok(());
                }
                Some(_) => continue,
                None => {
                    got += self.fill().await?;
                    if got >= PROGRESS_BYTES {
                        since = std::time::Instant::now();
                        got = 0;
                    } else if since.elapsed() > self.read_timeout {
                        return Err(self.error(
                            ErrorKind::Network,
                            format!(
                                "sent only {got} bytes of a response in {} s (the server is trickling data); try again later",
                                self.read_timeout.as_secs()
                            ),
                        ));
                    }
                }
            }
        }
    }

    async fn read_greeting(&mut self) -> Result<(), ProtocolError> {
        self.next_message().await?;
        let greeting = match self.fragments.decode_message(&GreetingCodec::default()) {
            Ok(g) => g.into_static(),
            Err(_) => {
                let raw = printable(self.fragments.message_bytes());
                return Err(self.error(
                    ErrorKind::Protocol,
                    format!("sent a greeting that is not IMAP: {raw:?}"),
                ));
            }
        };
        match greeting.kind {
            GreetingKind::Ok => {}
            GreetingKind::PreAuth => {}
            GreetingKind::Bye => {
                return Err(self.error(
                    ErrorKind::Network,
                    format!("refused the connection: {}", greeting.text),
                ));
            }
        }
        if let Some(Code::Capability(caps)) = &greeting.code {
            self.set_capabilities(caps.as_ref());
        }
        Ok(())
    }

    /// Reads the next parseable response. Unparseable ones are recorded and skipped.
    pub async fn read_response(&mut self) -> Result<Response<'static>, ProtocolError> {
        loop {
            self.next_message().await?;
            if self.last_line_bytes > MAX_LINE_BYTES {
                self.unparsed_count += 1;
                if self.unparsed.len() < MAX_UNPARSED_KEPT {
                    self.unparsed.push(format!(
                        "a response line of {} MB, set aside unread",
                        self.last_line_bytes / (1024 * 1024)
                    ));
                }
                continue;
            }
            self.last_preview = None;
            if self.preview_wanted
                && !self.fragments.is_max_message_size_exceeded()
                && let Some(stripped) = preview::strip(self.fragments.message_bytes())
                && let Ok((_, response)) = ResponseCodec::default().decode(&stripped.response)
            {
                self.last_preview = Some(stripped.preview);
                return Ok(response.into_static());
            }
            match self.fragments.decode_message(&ResponseCodec::default()) {
                Ok(response) => return Ok(response.into_static()),
                Err(DecodeMessageError::DecodingRemainder { message, .. }) => {
                    return Ok(message.into_static());
                }
                Err(_) => {
                    self.unparsed_count += 1;
                    if self.unparsed.len() < MAX_UNPARSED_KEPT {
                        let raw = printable(self.fragments.message_bytes());
                        self.unparsed.push(raw);
                    }
                }
            }
        }
    }

    fn tag(&mut self) -> Result<Tag<'static>, ProtocolError> {
        let tag = Tag::try_from(format!("T{}", self.next_tag))
            .map_err(|e| self.error(ErrorKind::Protocol, format!("cannot make a tag: {e}")))?;
        self.next_tag += 1;
        Ok(tag)
    }

    /// Sends a command. Bytes up to a synchronising literal go out in one write; at a synchronising
    /// literal we wait for the server's continuation request.
    pub async fn send(&mut self, body: CommandBody<'_>) -> Result<Tag<'static>, ProtocolError> {
        self.send_with(body, None).await
    }

    /// `send`, with `extra` items (PREVIEW) added to a FETCH's item list.
    async fn send_with(
        &mut self,
        body: CommandBody<'_>,
        extra: Option<&[u8]>,
    ) -> Result<Tag<'static>, ProtocolError> {
        let tag = self.tag()?;
        let name = match body {
            CommandBody::ExpungeUid { .. } => "UID EXPUNGE",
            _ => body.name(),
        };
        *self.commands.entry(name).or_default() += 1;
        let command = Command {
            tag: tag.clone(),
            body,
        };
        let fragments: Vec<Fragment> = CommandCodec::default().encode(&command).collect();
        // An item added to a command that needs a synchronising literal would be refused after
        // part of it went out: refuse it before anything is written.
        if extra.is_some()
            && fragments.iter().any(|f| {
                matches!(
                    f,
                    Fragment::Literal {
                        mode: LiteralMode::Sync,
                        ..
                    }
                )
            })
        {
            return Err(self.error(
                ErrorKind::Protocol,
                format!("cannot add PREVIEW to {name}: it carries a literal"),
            ));
        }
        let mut pending = Vec::new();
        for fragment in fragments {
            match fragment {
                Fragment::Line { data } => pending.extend_from_slice(&data),
                // A large literal (an APPEND) goes out on its own rather than copied once more
                // into the command's buffer; small ones stay in the one write.
                Fragment::Literal {
                    data,
                    mode: LiteralMode::NonSync,
                } if extra.is_none() && data.len() > BIG_LITERAL => {
                    self.write_all(&pending).await?;
                    pending.clear();
                    self.write_all(&data).await?;
                }
                Fragment::Literal {
                    data,
                    mode: LiteralMode::NonSync,
                } => pending.extend_from_slice(&data),
                Fragment::Literal {
                    data,
                    mode: LiteralMode::Sync,
                } => {
                    self.write_all(&pending).await?;
                    pending.clear();
                    self.await_continuation(&tag).await?;
                    if extra.is_none() && data.len() > BIG_LITERAL {
                        self.write_all(&data).await?;
                    } else {
                        pending.extend_from_slice(&data);
                    }
                }
            }
        }
        if let Some(extra) = extra {
            pending = preview::add_to_command(&pending, extra).ok_or_else(|| {
                self.error(
                    ErrorKind::Protocol,
                    format!("cannot add PREVIEW to {name}: it has no item list"),
                )
            })?;
        }
        self.write_all(&pending).await?;
        Ok(tag)
    }

    /// Sends several commands in one write (RFC 3501 5.5 pipelining) and reads until all are
    /// complete, handing untagged data to `on_data`. Commands that need a synchronising literal
    /// are sent one by one instead. Returns the completions in command order.
    pub async fn run_pipelined(
        &mut self,
        bodies: Vec<CommandBody<'_>>,
        mut on_data: impl FnMut(Data<'static>),
    ) -> Result<Vec<Tagged<'static>>, ProtocolError> {
        let mut tags = Vec::with_capacity(bodies.len());
        let mut batch = Vec::new();
        for body in bodies {
            let tag = self.tag()?;
            let name = body.name();
            let command = Command {
                tag: tag.clone(),
                body,
            };
            let mut bytes = Vec::new();
            let mut simple = true;
            for fragment in CommandCodec::default().encode(&command) {
                match fragment {
                    Fragment::Line { data }
                    | Fragment::Literal {
                        data,
                        mode: LiteralMode::NonSync,
                    } => bytes.extend_from_slice(&data),
                    Fragment::Literal { .. } => simple = false,
                }
            }
            if simple {
                *self.commands.entry(name).or_default() += 1;
                batch.extend_from_slice(&bytes);
                tags.push(tag);
            } else {
                self.write_all(&batch).await?;
                batch.clear();
                tags.push(self.send(command.body).await?);
            }
        }
        self.write_all(&batch).await?;
        let mut done: Vec<Option<Tagged<'static>>> = vec![None; tags.len()];
        let mut open = tags.len();
        let deadline = std::time::Instant::now() + crate::protocol::limits().command;
        let mut statuses = 0usize;
        let mut answers = 0usize;
        while open > 0 {
            let response = self.read_response().await?;
            self.check_deadline("the pipelined commands", deadline)?;
            if matches!(response, Response::Status(Status::Untagged(_))) {
                statuses += 1;
                if statuses > MAX_UNTAGGED_STATUS {
                    return Err(self.error(
                        ErrorKind::Network,
                        format!("sent more than {MAX_UNTAGGED_STATUS} status lines and no end"),
                    ));
                }
            }
            match response {
                Response::Data(data) => {
                    answers += 1;
                    if answers > MAX_COLLECTED {
                        return Err(self.error(
                            ErrorKind::Network,
                            format!(
                                "sent more than {MAX_COLLECTED} answers to the pipelined commands"
                            ),
                        ));
                    }
                    on_data(data)
                }
                Response::Status(Status::Tagged(t)) => {
                    if let Some(slot) = tags
                        .iter()
                        .position(|tag| *tag == t.tag)
                        .and_then(|i| done.get_mut(i))
                        && slot.is_none()
                    {
                        *slot = Some(t);
                        open -= 1;
                    }
                }
                Response::Status(Status::Bye(bye)) => {
                    return Err(self.error(
                        ErrorKind::Network,
                        format!("closed the connection: {}", bye.text),
                    ));
                }
                _ => {}
            }
        }
        Ok(done.into_iter().flatten().collect())
    }

    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.trace.sent(bytes);
        crate::protocol::write_with_timeout(&mut self.stream, bytes, stall())
            .await
            .map_err(|e| self.error(ErrorKind::Network, format!("cannot send: {e}")))
    }

    async fn await_continuation(&mut self, tag: &Tag<'_>) -> Result<(), ProtocolError> {
        for _ in 0..MAX_COLLECTED {
            match self.read_response().await? {
                Response::CommandContinuationRequest(_) => return Ok(()),
                Response::Status(Status::Tagged(t)) if t.tag == *tag => {
                    // The command is over (the rest was never sent): the session is in step.
                    return Err(self.error(
                        ErrorKind::Refused,
                        format!("refused a command: {}", t.body.text),
                    ));
                }
                Response::Status(Status::Bye(bye)) => {
                    return Err(self.error(
                        ErrorKind::Network,
                        format!("closed the connection: {}", bye.text),
                    ));
                }
                _ => {}
            }
        }
        Err(self.error(
            ErrorKind::Network,
            "never asked for the rest of a command; the connection was closed",
        ))
    }

    /// Runs a command to completion, handing each untagged data response to `on_data` as it
    /// arrives (so a large FETCH never has to be held in memory).
    pub async fn run_streaming(
        &mut self,
        body: CommandBody<'_>,
        mut on_data: impl FnMut(Data<'static>),
    ) -> Result<(Vec<Code<'static>>, Tagged<'static>), ProtocolError> {
        self.stream_command(body, None, |data, _| on_data(data))
            .await
    }

    /// A FETCH with PREVIEW added, run like `run_streaming_ok`: `on_data` gets each response
    /// and what its PREVIEW item said (None: no such item; `Some(None)`: NIL).
    pub async fn fetch_with_preview(
        &mut self,
        what: &str,
        body: CommandBody<'_>,
        item: PreviewItem,
        on_data: impl FnMut(Data<'static>, Option<Option<String>>),
    ) -> Result<Vec<Code<'static>>, ProtocolError> {
        let extra = preview::item(item == PreviewItem::Lazy);
        self.preview_wanted = true;
        let result = self.stream_command(body, Some(extra), on_data).await;
        self.preview_wanted = false;
        let (codes, status) = result?;
        if status.body.kind == StatusKind::Ok {
            Ok(codes)
        } else {
            Err(self.error(
                ErrorKind::Refused,
                format!("{what} failed: {}", status.body.text),
            ))
        }
    }

    async fn stream_command(
        &mut self,
        body: CommandBody<'_>,
        extra: Option<&[u8]>,
        mut on_data: impl FnMut(Data<'static>, Option<Option<String>>),
    ) -> Result<(Vec<Code<'static>>, Tagged<'static>), ProtocolError> {
        let name = body.name();
        let tag = self.send_with(body, extra).await?;
        let deadline = std::time::Instant::now() + crate::protocol::limits().command;
        let mut codes = Vec::new();
        let mut statuses = 0usize;
        loop {
            let response = self.read_response().await?;
            self.check_deadline(name, deadline)?;
            match response {
                Response::Data(data) => {
                    if let Some(budget) = self.collect_budget {
                        let Some(left) = budget.checked_sub(self.last_size) else {
                            return Err(self.error(
                                ErrorKind::Network,
                                format!(
                                    "answered {name} with more than {} MB; the connection was closed",
                                    MAX_COLLECTED_BYTES / (1024 * 1024)
                                ),
                            ));
                        };
                        self.collect_budget = Some(left);
                    }
                    let preview = self.last_preview.take();
                    on_data(data, preview)
                }
                Response::Status(Status::Tagged(t)) if t.tag == tag => {
                    if let Some(Code::Capability(caps)) = &t.body.code {
                        self.set_capabilities(caps.as_ref());
                    }
                    return Ok((codes, t));
                }
                Response::Status(Status::Untagged(body)) => {
                    statuses += 1;
                    if statuses > MAX_UNTAGGED_STATUS {
                        // The connection is of no further use: the pass ends here.
                        return Err(self.error(
                            ErrorKind::Network,
                            format!(
                                "answered {name} with more than {MAX_UNTAGGED_STATUS} status lines and no end; the connection was closed"
                            ),
                        ));
                    }
                    // Response codes are few per command; keep a bounded number.
                    if let Some(code) = body.code
                        && codes.len() < 1024
                    {
                        codes.push(code);
                    }
                }
                Response::Status(Status::Bye(bye)) => {
                    return Err(self.error(
                        ErrorKind::Network,
                        format!("closed the connection: {}", bye.text),
                    ));
                }
                _ => {}
            }
        }
    }

    /// Like `run_streaming`, but a NO or BAD completion is an error naming `what`.
    pub async fn run_streaming_ok(
        &mut self,
        what: &str,
        body: CommandBody<'_>,
        on_data: impl FnMut(Data<'static>),
    ) -> Result<Vec<Code<'static>>, ProtocolError> {
        let (codes, status) = self.run_streaming(body, on_data).await?;
        if status.body.kind == StatusKind::Ok {
            Ok(codes)
        } else {
            Err(self.error(
                ErrorKind::Refused,
                format!("{what} failed: {}", status.body.text),
            ))
        }
    }

    /// Runs a command to completion, collecting its untagged data (at most `MAX_COLLECTED`
    /// responses; a command whose answer can be larger streams it with `run_streaming`).
    pub async fn run(&mut self, body: CommandBody<'_>) -> Result<Completion, ProtocolError> {
        let name = body.name();
        let mut data = Vec::new();
        let mut overflow = false;
        self.collect_budget = Some(MAX_COLLECTED_BYTES);
        let result = self
            .run_streaming(body, |d| {
                if data.len() < MAX_COLLECTED {
                    data.push(d);
                } else {
                    overflow = true;
                }
            })
            .await;
        self.collect_budget = None;
        let (codes, status) = result?;
        if overflow {
            return Err(self.error(
                ErrorKind::Protocol,
                format!("answered {name} with more than {MAX_COLLECTED} responses"),
            ));
        }
        Ok(Completion {
            data,
            codes,
            status,
        })
    }

    /// Fails once a command has run past its deadline (a server that keeps a command alive
    /// with a slow stream of responses).
    fn check_deadline(
        &self,
        name: &str,
        deadline: std::time::Instant,
    ) -> Result<(), ProtocolError> {
        if std::time::Instant::now() > deadline {
            return Err(self.error(
                ErrorKind::Network,
                format!(
                    "did not finish answering {name} within {} minutes; the connection was closed",
                    crate::protocol::limits().command.as_secs() / 60
                ),
            ));
        }
        Ok(())
    }

    /// Like `run`, but a NO or BAD completion is an error naming `what`.
    pub async fn run_ok(
        &mut self,
        what: &str,
        body: CommandBody<'_>,
    ) -> Result<Completion, ProtocolError> {
        let done = self.run(body).await?;
        if done.is_ok() {
            Ok(done)
        } else {
            Err(self.error(
                ErrorKind::Refused,
                format!("{what} failed: {}", done.status.body.text),
            ))
        }
    }
}
