//! Session setup and lifecycle: NAMESPACE, capabilities, STARTTLS, login, ENABLE QRESYNC,
//! COMPRESS, ID, IDLE and LOGOUT (the command and framing machinery is in `mod.rs`).

use super::*;

impl Session {
    /// The personal namespace's prefix and delimiter (RFC 2342), e.g. `("INBOX.", Some('.'))` on
    /// Courier-style servers; `("", ...)` when folders live at the top level or the server has
    /// no NAMESPACE.
    pub async fn personal_namespace(&mut self) -> Result<(String, Option<char>), ProtocolError> {
        if !self.has_capability("NAMESPACE") {
            return Ok((String::new(), None));
        }
        let done = self.run_ok("NAMESPACE", CommandBody::Namespace).await?;
        Ok(done
            .data
            .iter()
            .find_map(|d| match d {
                Data::Namespace { personal, .. } => personal.first().map(|n| {
                    (
                        String::from_utf8_lossy(n.prefix.as_ref()).into_owned(),
                        n.delimiter.as_ref().map(|c| c.inner()),
                    )
                }),
                _ => None,
            })
            .unwrap_or_default())
    }

    /// Asks for CAPABILITY and stores the answer.
    pub async fn refresh_capabilities(&mut self) -> Result<(), ProtocolError> {
        let done = self.run_ok("CAPABILITY", CommandBody::Capability).await?;
        for data in &done.data {
            if let Data::Capability(caps) = data {
                self.set_capabilities(caps.as_ref());
            }
        }
        Ok(())
    }

    pub(super) async fn starttls(mut self, endpoint: &Endpoint) -> Result<Session, ProtocolError> {
        if self.capabilities.is_empty() {
            self.refresh_capabilities().await?;
        }
        if !self.has_capability("STARTTLS") {
            return Err(self.error(
                ErrorKind::Tls,
                "does not offer STARTTLS, so Tern will not send the password; choose security tls (usually port 993), or plain only if you accept an unencrypted connection",
            ));
        }
        let done = self.run(CommandBody::StartTLS).await?;
        if !done.is_ok() {
            return Err(self.error(
                ErrorKind::Tls,
                format!("refused STARTTLS: {}", done.status.body.text),
            ));
        }
        // Anything the server sent after its OK would have been injected before encryption.
        if self.fragments.progress().is_some() {
            return Err(self.error(
                ErrorKind::Tls,
                "sent data after STARTTLS before the TLS handshake (possible injection)",
            ));
        }
        let already = self.error(
            ErrorKind::Tls,
            "STARTTLS on a connection that is already encrypted",
        );
        let Session {
            stream,
            endpoint: name,
            next_tag,
            bytes_received,
            trace,
            unparsed,
            unparsed_count,
            commands,
            ..
        } = self;
        let Stream::Plain(tcp) = stream else {
            return Err(already);
        };
        let stream = tls::handshake(
            tcp,
            &endpoint.host,
            endpoint.port,
            &endpoint.trust,
            tls::Upgrade::Starttls(crate::protocol::probe::Service::Imap),
        )
        .await?;
        // A fresh framer, and no capabilities from before TLS (RFC 3501 6.2.1): they are re-read.
        let mut session = Session {
            stream,
            fragments: Fragmentizer::new(MAX_MESSAGE),
            endpoint: name,
            next_tag,
            capabilities: Vec::new(),
            bytes_received,
            trace,
            unparsed,
            unparsed_count,
            commands,
            qresync: false,
            read_timeout: stall(),
            last_size: 0,
            last_line_bytes: 0,
            collect_budget: None,
            preview_wanted: false,
            last_preview: None,
            refused: Vec::new(),
        };
        session.refresh_capabilities().await?;
        Ok(session)
    }

    /// Logs in with AUTHENTICATE PLAIN when offered, else LOGIN (unless LOGINDISABLED), then
    /// re-reads the capabilities.
    pub async fn login(&mut self, user: &str, password: &Secret) -> Result<(), ProtocolError> {
        self.trace.forbid(user, password.expose());
        if self.capabilities.is_empty() {
            self.refresh_capabilities().await?;
        }
        let plain_offered = self.has_capability("AUTH=PLAIN");
        let done = if plain_offered && self.has_capability("SASL-IR") {
            let token = format!("\0{user}\0{}", password.expose()).into_bytes();
            self.run(CommandBody::authenticate_with_ir(
                AuthMechanism::Plain,
                Cow::Owned(token),
            ))
            .await?
        } else if !self.has_capability("LOGINDISABLED") {
            let body = CommandBody::login(user, password.expose()).map_err(|_| {
                self.error(
                    ErrorKind::Auth,
                    "the user name or password cannot be sent with LOGIN",
                )
            })?;
            self.run(body).await?
        } else {
            return Err(self.error(
                ErrorKind::Auth,
                "allows no login over this connection (LOGINDISABLED and no AUTH=PLAIN); use security tls or starttls",
            ));
        };
        if !done.is_ok() {
            return Err(ProtocolError::new(
                ErrorKind::Auth,
                format!(
                    "cannot log in to {} as {user}: the server rejected the user name or password ({}); check them in the account settings",
                    self.endpoint, done.status.body.text
                ),
            ));
        }
        if !matches!(done.status.body.code, Some(Code::Capability(_))) {
            self.refresh_capabilities().await?;
        }
        Ok(())
    }

    /// Enables QRESYNC (which implies CONDSTORE) when offered; returns whether it is on.
    pub async fn enable_qresync(&mut self) -> Result<bool, ProtocolError> {
        if !(self.has_capability("QRESYNC") && self.has_capability("ENABLE")) {
            return Ok(false);
        }
        let capability = CapabilityEnable::try_from("QRESYNC")
            .map_err(|e| self.error(ErrorKind::Protocol, format!("cannot build ENABLE: {e}")))?;
        let done = self
            .run(CommandBody::Enable {
                capabilities: Vec1::from(capability),
            })
            .await?;
        self.qresync = done.is_ok()
            && done.data.iter().any(|d| match d {
                Data::Enabled { capabilities } => capabilities
                    .iter()
                    .any(|c| c.to_string().eq_ignore_ascii_case("QRESYNC")),
                _ => false,
            });
        Ok(self.qresync)
    }

    /// Turns on COMPRESS=DEFLATE (RFC 4978) when the server offers it; returns whether it is on.
    pub async fn compress(&mut self) -> Result<bool, ProtocolError> {
        if self.stream.is_compressed() {
            return Ok(true);
        }
        if !self.has_capability("COMPRESS=DEFLATE") {
            return Ok(false);
        }
        let done = self
            .run(CommandBody::Compress {
                algorithm: CompressionAlgorithm::Deflate,
            })
            .await?;
        if !done.is_ok() {
            return Ok(false);
        }
        if self.fragments.progress().is_some() {
            return Err(self.error(
                ErrorKind::Protocol,
                "sent data after COMPRESS before compression started",
            ));
        }
        let stream = std::mem::replace(&mut self.stream, Stream::Closed);
        self.stream = stream.compress();
        Ok(true)
    }

    /// Tells the server who we are (RFC 2971 ID) when it supports ID; its answer is ignored.
    pub async fn identify(&mut self) -> Result<(), ProtocolError> {
        if !self.has_capability("ID") {
            return Ok(());
        }
        let field = |key: &'static str,
                     value: &'static str|
         -> Option<(IString<'static>, NString<'static>)> {
            Some((
                IString::try_from(key).ok()?,
                NString(Some(IString::try_from(value).ok()?)),
            ))
        };
        let parameters: Option<Vec<_>> = [
            field("name", "Tern"),
            field("version", env!("CARGO_PKG_VERSION")),
        ]
        .into_iter()
        .collect();
        let _ = self.run(CommandBody::Id { parameters }).await?;
        Ok(())
    }

    /// Whether the connection is compressed.
    pub fn is_compressed(&self) -> bool {
        self.stream.is_compressed()
    }

    /// Whether `enable_qresync` turned QRESYNC on for this connection.
    pub fn qresync_enabled(&self) -> bool {
        self.qresync
    }

    /// Waits in IDLE (RFC 2177) on the selected mailbox until the server reports a change, `limit`
    /// passes (keep it under 29 minutes), or `interrupt` completes; then ends IDLE with DONE.
    pub async fn idle<T>(
        &mut self,
        limit: std::time::Duration,
        interrupt: impl std::future::Future<Output = T>,
    ) -> Result<IdleEnd<T>, ProtocolError> {
        let tag = self.send(CommandBody::Idle).await?;
        let mut changed = false;
        loop {
            match self.read_response().await? {
                Response::CommandContinuationRequest(_) => break,
                Response::Status(Status::Tagged(t)) if t.tag == tag => {
                    return Err(self.error(
                        ErrorKind::Protocol,
                        format!("refused IDLE: {}", t.body.text),
                    ));
                }
                Response::Data(data) => changed |= is_change(&data),
                _ => {}
            }
        }
        self.read_timeout = limit + std::time::Duration::from_secs(60);
        let deadline = tokio::time::sleep(limit);
        tokio::pin!(deadline);
        tokio::pin!(interrupt);
        let mut chatter = 0usize;
        let end = if changed {
            IdleEnd::Changed
        } else {
            loop {
                tokio::select! {
                    response = self.read_response() => match response {
                        Ok(Response::Data(data)) if is_change(&data) => break IdleEnd::Changed,
                        // Keep-alive lines are fine; an endless flood of them is not.
                        Ok(_) if chatter >= MAX_UNTAGGED_STATUS => {
                            self.read_timeout = stall();
                            return Err(self.error(ErrorKind::Network, format!("sent more than {MAX_UNTAGGED_STATUS} lines during IDLE without a change")));
                        }
                        Ok(Response::Status(Status::Bye(bye))) => {
                            self.read_timeout = stall();
                            return Err(self.error(ErrorKind::Network, format!("closed the connection: {}", bye.text)));
                        }
                        Ok(_) => {
                            chatter += 1;
                            continue;
                        }
                        Err(e) => {
                            self.read_timeout = stall();
                            return Err(e);
                        }
                    },
                    () = &mut deadline => break IdleEnd::Timeout,
                    value = &mut interrupt => break IdleEnd::Interrupted(value),
                }
            }
        };
        self.read_timeout = stall();
        self.write_all(b"DONE\r\n").await?;
        for _ in 0..MAX_COLLECTED {
            if let Response::Status(Status::Tagged(t)) = self.read_response().await?
                && t.tag == tag
            {
                return Ok(end);
            }
        }
        Err(self.error(
            ErrorKind::Network,
            "did not end IDLE after DONE; the connection was closed",
        ))
    }

    /// Sends LOGOUT and closes the connection, ignoring errors (the session is over either way).
    pub async fn logout(mut self) {
        let _ = self.run(CommandBody::Logout).await;
        let _ = self.stream.shutdown().await;
    }
}
