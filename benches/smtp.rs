//! SMTP submission benchmark against the test harness's Postfix (implicit TLS, AUTH PLAIN): the
//! time per message for a batch sent on one connection, by lettre 0.11 (`AsyncSmtpConnection`,
//! the transport the team was pointed to) and by Tern's own pipelining client. Medians of 3
//! batches.
//!
//! Needs root and the harness packages: `cargo bench --bench smtp` (TERN_BENCH_MESSAGES sets the
//! batch size, default 100).
//!
//! Measured on the 2-core build machine (2026-11-22, release build, 100 messages of ~2 kB to one
//! recipient, median of 3 batches): lettre 4,463 ms (44.6 ms per message), Tern 205 ms (2.05 ms
//! per message). lettre writes MAIL, RCPT and DATA one at a time and waits for each reply without
//! TCP_NODELAY, so Nagle's algorithm and the server's delayed ACK cost about 40 ms per message;
//! Tern sends the envelope and DATA in one write and the body in another.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tern::account::Security;
use tern::account::credentials::Secret;
use tern::mail::compose::{Draft, Identity, build};
use tern::protocol::Endpoint;
use tern::protocol::smtp::{Envelope, SmtpClient};
use tern::protocol::tls::Trust;

const RUNS: usize = 3;

fn messages(n: usize) -> Vec<Vec<u8>> {
    let me = Identity {
        name: "Alice".into(),
        address: "alice@example.test".into(),
    };
    (0..n)
        .map(|i| {
            let draft = Draft {
                to: vec!["bob@example.test".into()],
                subject: format!("bench {i}"),
                text: "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n".repeat(30),
                ..Draft::default()
            };
            build(&me, &draft, 1_795_000_000 + i as i64).unwrap().raw
        })
        .collect()
}

async fn lettre_batch(servers: &support::MailServers, batch: &[Vec<u8>]) -> Duration {
    let ca = Certificate::from_pem(&std::fs::read(&servers.certs.ca_pem).unwrap()).unwrap();
    let tls = TlsParameters::builder("127.0.0.1".into())
        .add_root_certificate(ca)
        .build_native()
        .unwrap();
    let mut conn = AsyncSmtpConnection::connect_tokio1(
        ("127.0.0.1", servers.ports.submissions),
        Some(Duration::from_secs(30)),
        &ClientId::Domain("bench.example.test".into()),
        Some(tls),
        None,
    )
    .await
    .unwrap();
    let credentials = Credentials::new(
        servers.alice.address.clone(),
        servers.alice.password.clone(),
    );
    conn.auth(&[Mechanism::Plain], &credentials).await.unwrap();
    let envelope = lettre::address::Envelope::new(
        Some("alice@example.test".parse().unwrap()),
        vec!["bob@example.test".parse().unwrap()],
    )
    .unwrap();
    let started = Instant::now();
    for raw in batch {
        conn.send(&envelope, raw).await.unwrap();
    }
    let elapsed = started.elapsed();
    conn.quit().await.unwrap();
    elapsed
}

async fn tern_batch(servers: &support::MailServers, batch: &[Vec<u8>]) -> Duration {
    let endpoint = Endpoint {
        host: "127.0.0.1".into(),
        port: servers.ports.submissions,
        security: Security::Tls,
        trust: Trust {
            ca_file: Some(servers.certs.ca_pem.clone()),
            pinned_sha256: None,
        },
    };
    let mut client = SmtpClient::connect(&endpoint).await.unwrap();
    client
        .login(
            &servers.alice.address,
            &Secret::new(servers.alice.password.clone()),
        )
        .await
        .unwrap();
    let envelope = Envelope {
        from: "alice@example.test".into(),
        to: vec!["bob@example.test".into()],
    };
    let started = Instant::now();
    for raw in batch {
        client.send(&envelope, raw, || Ok(())).await.unwrap();
    }
    let elapsed = started.elapsed();
    client.quit().await;
    elapsed
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("TERN_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let servers = support::MailServers::start();
    let batch = messages(n);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Warm up Postfix and Dovecot's LMTP once.
    runtime.block_on(tern_batch(&servers, &batch[..n.min(10)]));
    let mut lettre = Vec::new();
    let mut tern = Vec::new();
    for _ in 0..RUNS {
        lettre.push(runtime.block_on(lettre_batch(&servers, &batch)));
        tern.push(runtime.block_on(tern_batch(&servers, &batch)));
    }
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;
    let (l, t) = (median(lettre), median(tern));
    println!("SMTP submission, {n} messages on one connection (median of {RUNS}):");
    println!(
        "  lettre 0.11: {:8.1} ms total, {:6.2} ms per message",
        l.as_secs_f64() * 1000.0,
        per(l)
    );
    println!(
        "  tern:        {:8.1} ms total, {:6.2} ms per message",
        t.as_secs_f64() * 1000.0,
        per(t)
    );
}
