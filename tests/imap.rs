//! The IMAP session layer against the harness's real Dovecot: TLS and STARTTLS with certificate
//! checks, pinning, login, capabilities, LIST with special-use roles and UTF-7 names. Scripted
//! fake servers only for what Dovecot will not do: no STARTTLS offered, garbage lines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use imap_codec::imap_types::command::CommandBody;
use support::MailServers;
use tern::account::Security;
use tern::account::credentials::Secret;
use tern::mail::folder::FolderRole;
use tern::protocol::ErrorKind;
use tern::protocol::imap::folders::{self, ListedFolder};
use tern::protocol::imap::{Endpoint, Session};
use tern::protocol::tls::Trust;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn endpoint(servers: &MailServers, security: Security, trust: Trust) -> Endpoint {
    let port = match security {
        Security::Tls => servers.ports.imaps,
        _ => servers.ports.imap,
    };
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        security,
        trust,
    }
}

fn ca(servers: &MailServers) -> Trust {
    Trust {
        ca_file: Some(servers.certs.ca_pem.clone()),
        pinned_sha256: None,
    }
}

async fn list(session: &mut Session) -> Vec<ListedFolder> {
    let done = session
        .run_ok("LIST", CommandBody::list("", "*").unwrap())
        .await
        .unwrap();
    let mut listed: Vec<ListedFolder> = done.data.iter().filter_map(folders::from_list).collect();
    folders::guess_roles(&mut listed);
    listed
}

#[tokio::test]
async fn tls_and_starttls_login_and_list_special_use_folders() {
    let servers = MailServers::start();
    let bob = &servers.bob;
    for security in [Security::Tls, Security::Starttls] {
        let mut session = Session::connect(&endpoint(&servers, security, ca(&servers)))
            .await
            .unwrap();
        assert!(
            !session.has_capability("QRESYNC"),
            "QRESYNC is only offered after login"
        );
        session
            .login(&bob.address, &Secret::new(bob.password.clone()))
            .await
            .unwrap();
        for cap in [
            "QRESYNC",
            "CONDSTORE",
            "UIDPLUS",
            "MOVE",
            "SPECIAL-USE",
            "IDLE",
            "ENABLE",
            "LITERAL+",
        ] {
            assert!(
                session.has_capability(cap),
                "{security:?}: no {cap} in {:?}",
                session.capabilities()
            );
        }
        assert!(
            session.compress().await.unwrap(),
            "COMPRESS=DEFLATE is offered and used"
        );
        assert!(session.is_compressed());
        let listed = list(&mut session).await;
        let role = |r: FolderRole| {
            listed
                .iter()
                .find(|f| f.role == Some(r))
                .map(|f| f.path.clone())
        };
        assert_eq!(role(FolderRole::Inbox).as_deref(), Some("INBOX"));
        assert_eq!(role(FolderRole::Sent).as_deref(), Some("Sent"));
        assert_eq!(role(FolderRole::Drafts).as_deref(), Some("Drafts"));
        assert_eq!(role(FolderRole::Trash).as_deref(), Some("Trash"));
        assert_eq!(role(FolderRole::Junk).as_deref(), Some("Junk"));
        assert_eq!(role(FolderRole::Archive).as_deref(), Some("Archive"));
        assert!(listed.iter().all(|f| f.delimiter == Some('/')));
        assert!(session.unparsed.is_empty(), "{:?}", session.unparsed);
        session.logout().await;
    }
}

#[tokio::test]
async fn certificates_are_verified_and_pins_are_honoured() {
    let servers = MailServers::start();
    // No trust: the self-signed CA is refused, and the error says how to pin.
    for security in [Security::Tls, Security::Starttls] {
        let err = Session::connect(&endpoint(&servers, security, Trust::default()))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Tls, "{err}");
        assert!(err.to_string().contains("--cert-sha256"), "{err}");
    }
    let err = Session::connect(&endpoint(&servers, Security::Tls, Trust::default()))
        .await
        .unwrap_err();
    let message = err.to_string();
    let fp = message
        .split("--cert-sha256 ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(fp.len(), 64, "{message}");

    // The pinned fingerprint is accepted without the CA, a wrong one is refused.
    let pinned = Trust {
        ca_file: None,
        pinned_sha256: Some(fp.clone()),
    };
    let mut session = Session::connect(&endpoint(&servers, Security::Tls, pinned))
        .await
        .unwrap();
    session
        .login(
            &servers.bob.address,
            &Secret::new(servers.bob.password.clone()),
        )
        .await
        .unwrap();
    session.logout().await;
    let wrong = Trust {
        ca_file: None,
        pinned_sha256: Some("00".repeat(32)),
    };
    let err = Session::connect(&endpoint(&servers, Security::Starttls, wrong))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tls);
    assert!(err.to_string().contains("not the pinned"), "{err}");

    // An address the certificate does not cover (127.0.0.2, through a loopback proxy) is refused
    // even with the CA.
    let proxy = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    let target = servers.ports.imaps;
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = proxy.accept().await {
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(("127.0.0.1", target))
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    let other = Endpoint {
        host: "127.0.0.2".into(),
        port: proxy_port,
        security: Security::Tls,
        trust: ca(&servers),
    };
    let err = Session::connect(&other).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tls, "{err}");
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_that_says_so() {
    let servers = MailServers::start();
    let mut session = Session::connect(&endpoint(&servers, Security::Tls, ca(&servers)))
        .await
        .unwrap();
    let err = session
        .login(&servers.bob.address, &Secret::new("wrong".into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "cannot log in to 127.0.0.1:{} as {}",
            servers.ports.imaps, servers.bob.address
        )),
        "{text}"
    );
    assert!(text.contains("rejected"), "{text}");
    assert!(
        !text.contains("wrong"),
        "the password leaked into the error: {text}"
    );
}

#[tokio::test]
async fn non_ascii_folders_round_trip_through_modified_utf7() {
    let servers = MailServers::start();
    let mut session = Session::connect(&endpoint(&servers, Security::Tls, ca(&servers)))
        .await
        .unwrap();
    session
        .login(
            &servers.bob.address,
            &Secret::new(servers.bob.password.clone()),
        )
        .await
        .unwrap();
    for name in ["Entwürfe", "Projekte/台北 & Co", "Émile 😀"] {
        let encoded = folders::encode_utf7(name);
        session
            .run_ok("CREATE", CommandBody::create(encoded.as_str()).unwrap())
            .await
            .unwrap();
    }
    let listed = list(&mut session).await;
    for name in ["Entwürfe", "Projekte", "Projekte/台北 & Co", "Émile 😀"] {
        assert!(
            listed.iter().any(|f| f.path == name),
            "{name} not in {listed:?}"
        );
    }
    // "Entwürfe" is recognised as the drafts folder only because the server has none; it does.
    assert_eq!(
        listed
            .iter()
            .find(|f| f.role == Some(FolderRole::Drafts))
            .unwrap()
            .path,
        "Drafts"
    );
    session.logout().await;
}

/// A scripted server: sends `greeting`, then answers each line it reads with the next reply
/// (with `{tag}` replaced). Returns its port and the lines it received.
async fn fake_server(
    greeting: &'static str,
    replies: Vec<&'static str>,
) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        write.write_all(greeting.as_bytes()).await.unwrap();
        let mut lines = BufReader::new(read).lines();
        let mut received = Vec::new();
        for reply in replies {
            let Ok(Some(line)) = lines.next_line().await else {
                break;
            };
            let tag = line.split(' ').next().unwrap_or("*").to_owned();
            received.push(line);
            write
                .write_all(reply.replace("{tag}", &tag).as_bytes())
                .await
                .unwrap();
        }
        while let Ok(Some(line)) = lines.next_line().await {
            received.push(line);
        }
        received
    });
    (port, handle)
}

#[tokio::test]
async fn starttls_not_offered_is_an_error_and_no_password_is_sent() {
    let (port, server) = fake_server(
        "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] no tls here\r\n",
        vec!["* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"],
    )
    .await;
    let endpoint = Endpoint {
        host: "127.0.0.1".into(),
        port,
        security: Security::Starttls,
        trust: Trust::default(),
    };
    let err = Session::connect(&endpoint).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tls);
    assert!(err.to_string().contains("does not offer STARTTLS"), "{err}");
    let received = server.await.unwrap();
    assert!(
        received
            .iter()
            .all(|l| !l.contains("LOGIN") && !l.contains("AUTHENTICATE")),
        "{received:?}"
    );
}

#[tokio::test]
async fn an_unparseable_line_is_set_aside_and_the_session_goes_on() {
    let (port, server) = fake_server(
        "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hello\r\n",
        vec![
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST ))) garbage (((\r\n* 3 FETCH (UID\r\n* LIST (\\Sent) \"/\" Sent\r\n{tag} OK listed\r\n",
        ],
    )
    .await;
    let endpoint = Endpoint {
        host: "127.0.0.1".into(),
        port,
        security: Security::Plain,
        trust: Trust::default(),
    };
    let mut session = Session::connect(&endpoint).await.unwrap();
    let listed = list(&mut session).await;
    assert_eq!(
        listed.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        ["INBOX", "Sent"]
    );
    assert_eq!(session.unparsed.len(), 2, "{:?}", session.unparsed);
    drop(session);
    let _ = server.await;
}

#[tokio::test]
async fn logindisabled_without_auth_plain_refuses_to_send_the_password() {
    let (port, server) = fake_server(
        "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED STARTTLS] hi\r\n",
        vec![],
    )
    .await;
    let endpoint = Endpoint {
        host: "127.0.0.1".into(),
        port,
        security: Security::Plain,
        trust: Trust::default(),
    };
    let mut session = Session::connect(&endpoint).await.unwrap();
    let err = session
        .login("jo@example.test", &Secret::new("secret".into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.to_string().contains("LOGINDISABLED"), "{err}");
    drop(session);
    let received = server.await.unwrap();
    assert!(
        received.iter().all(|l| !l.contains("secret")),
        "{received:?}"
    );
}
