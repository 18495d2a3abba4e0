//! POP3 rows: downloading bob's INBOX into a fresh store, and a check with no new mail; Tern
//! beside a minimal RETR loop and fetchmail in keep mode writing to a file.

use std::path::{Path, PathBuf};

use crate::measure::{ByteCounter, Figure, Sample, run};
use crate::report::Row;
use crate::support::{self, MailServers};
use crate::{Bench, floor_env};

fn fetchmail_rc(servers: &MailServers, dir: &Path, port: u16) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let rc = dir.join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\nset idfile \"{idfile}\"\n\
             poll 127.0.0.1 port {port} protocol POP3 uidl\n  \
             user \"{user}\" password \"{password}\" ssl sslcertck sslcertfile \"{ca}\" sslcommonname localhost keep\n",
            idfile = dir.join("idfile").display(),
            user = servers.bob.address,
            password = servers.bob.password,
            ca = servers.certs.ca_pem.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    rc
}

/// fetchmail exits 1 for "no mail", which is a success only for a check (`fresh` false): a fresh
/// download that found nothing would be a bogus fast figure.
fn fetchmail(rc: &Path, fresh: bool) -> Sample {
    let out = rc.with_file_name("mail.bsmtp");
    run(
        Path::new("/usr/bin/fetchmail"),
        &[
            "-f",
            rc.to_str().unwrap(),
            "--bsmtp",
            out.to_str().unwrap(),
            "--nodetach",
            "--silent",
        ],
        &[],
        if fresh { &[] } else { &[1] },
    )
    .0
}

fn tern_account(servers: &MailServers, dir: &Path, port: u16) {
    let _ = std::fs::remove_dir_all(dir);
    support::cli::add_pop3_account(servers, dir, &servers.bob, port, "tls", &[]);
}

pub fn rows(b: &Bench, n: usize, rows: &mut Vec<Row>) {
    let servers = b.servers;
    let work = b.work.join("pop3");
    let counter = ByteCounter::start(servers.ports.pop3s);
    let tern = |dir: &Path| {
        let (sample, stderr) = run(
            &b.tern,
            &["--data-dir", dir.to_str().unwrap(), "sync"],
            &[],
            &[],
        );
        crate::nothing_set_aside(&stderr);
        sample
    };
    let floor = |kind: &str, port: u16| {
        run(
            &b.me,
            &["--floor", kind],
            &floor_env(servers, &servers.bob, port),
            &[],
        )
        .0
    };

    // Unlike the other long rows, the counted downloads are never samples (fetchmail's time
    // varies most, 18 to 30 s). In --quick these rows run one round less (and so give the
    // slower of two runs).
    let (mut fresh, mut floors, mut fm) = (vec![], vec![], vec![]);
    let counted = work.join("tern-counted");
    tern_account(servers, &counted, counter.port);
    tern(&counted);
    let tern_bytes = counter.take();
    tern(&counted);
    let recheck_bytes = counter.take();
    floor("pop3-retr", counter.port);
    let floor_bytes = counter.take();
    floor("pop3-uidl", counter.port);
    let uidl_bytes = counter.take();
    let rc = fetchmail_rc(servers, &work.join("fetchmail-counted"), counter.port);
    fetchmail(&rc, true);
    let fm_bytes = counter.take();
    fetchmail(&rc, false);
    let fm_recheck_bytes = counter.take();
    let _ = std::fs::remove_dir_all(&counted);

    let dir = work.join("tern");
    let fm_dir = work.join("fetchmail");
    for round in 0..b.long_rounds() {
        crate::say!("POP3, round {}", round + 1);
        tern_account(servers, &dir, servers.ports.pop3s);
        fresh.push(tern(&dir));
        let (total, _) = crate::cached(&dir, "bob");
        assert_eq!(
            total, n as u64,
            "tern sync stored {total} of {n} POP3 messages"
        );
        floors.push(floor("pop3-retr", servers.ports.pop3s));
        let rc = fetchmail_rc(servers, &fm_dir, servers.ports.pop3s);
        fm.push(fetchmail(&rc, true));
        let bsmtp = std::fs::read(rc.with_file_name("mail.bsmtp")).unwrap();
        let got = bsmtp
            .split(|&c| c == b'\n')
            .filter(|l| l.starts_with(b"MAIL FROM:"))
            .count();
        assert_eq!(got, n, "fetchmail wrote {got} of {n} messages");
    }
    let rc = fm_dir.join("fetchmailrc");
    let (mut recheck, mut fm_recheck, mut uidls) = (vec![], vec![], vec![]);
    for _ in 0..b.rounds.max(5) {
        recheck.push(tern(&dir));
        fm_recheck.push(fetchmail(&rc, false));
        uidls.push(floor("pop3-uidl", servers.ports.pop3s));
    }
    let _ = std::fs::remove_dir_all(&work);

    let k = n / 1000;
    let tern_fresh = Figure::of(&fresh, Some(tern_bytes));
    let what = format!("POP3 download, {k}k");
    rows.push(Row {
        work: what.clone(),
        tern: tern_fresh.clone(),
        peer: "floor: RETR loop, one round trip each".into(),
        peer_figure: Some(Figure::of(&floors, Some(floor_bytes))),
    });
    rows.push(Row {
        work: what,
        tern: tern_fresh,
        peer: "fetchmail keep, BSMTP to a file".into(),
        peer_figure: Some(Figure::of(&fm, Some(fm_bytes))),
    });
    let tern_recheck = Figure::of(&recheck, Some(recheck_bytes));
    let what = format!("POP3 check, no new mail, {k}k");
    rows.push(Row {
        work: what.clone(),
        tern: tern_recheck.clone(),
        peer: "fetchmail keep (UIDL file)".into(),
        peer_figure: Some(Figure::of(&fm_recheck, Some(fm_recheck_bytes))),
    });
    rows.push(Row {
        work: what,
        tern: tern_recheck,
        peer: "floor: LOGIN + STAT + UIDL".into(),
        peer_figure: Some(Figure::of(&uidls, Some(uidl_bytes))),
    });
}
