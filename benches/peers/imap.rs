//! IMAP rows: initial header sync, full offline download, no-change resync and a resync after
//! another client changed 1% of the flags; Tern beside the floor and mbsync, interleaved.

use std::path::{Path, PathBuf};

use crate::measure::{ByteCounter, Figure, Sample, run};
use crate::report::Row;
use crate::support::{self, MailServers};
use crate::{Bench, floor_env};

fn mbsync_config(servers: &MailServers, dir: &Path, port: u16) -> PathBuf {
    std::fs::create_dir_all(dir.join("mail")).unwrap();
    let password = dir.join("password");
    std::fs::write(&password, &servers.bob.password).unwrap();
    let config = format!(
        "IMAPAccount bob\nHost localhost\nPort {port}\nUser {user}\nPassCmd \"cat {pw}\"\nSSLType IMAPS\nCertificateFile {ca}\n\n\
IMAPStore remote\nAccount bob\n\n\
MaildirStore local\nPath {mail}/\nInbox {mail}/INBOX\n\n\
Channel bob\nFar :remote:\nNear :local:\nPatterns INBOX\nCreate Near\nSync Pull\nSyncState *\n",
        user = servers.bob.address,
        pw = password.display(),
        ca = servers.certs.ca_pem.display(),
        mail = dir.join("mail").display(),
    );
    let path = dir.join("mbsyncrc");
    std::fs::write(&path, config).unwrap();
    path
}

fn mbsync(config: &Path) -> Sample {
    run(
        Path::new("/usr/bin/mbsync"),
        &["-q", "-c", config.to_str().unwrap(), "bob"],
        &[],
        &[],
    )
    .0
}

/// A fresh Tern data dir for bob's IMAP account on `port` with `extra` options.
fn tern_account(b: &Bench, dir: &Path, port: u16, extra: &[&str]) {
    let _ = std::fs::remove_dir_all(dir);
    support::cli::add_imap_account(b.servers, dir, &b.servers.bob, port, extra);
}

fn tern_sync(b: &Bench, dir: &Path) -> Sample {
    let (sample, stderr) = run(
        &b.tern,
        &["--data-dir", dir.to_str().unwrap(), "sync"],
        &[],
        &[],
    );
    crate::nothing_set_aside(&stderr);
    sample
}

/// Panics unless `dir` caches all `n` messages (and, with `bodies`, every body).
fn check_cached(dir: &Path, n: usize, bodies: bool) {
    let (total, wanted) = crate::cached(dir, "bob");
    assert_eq!(total, n as u64, "tern sync cached {total} of {n} messages");
    assert!(!bodies || wanted == 0, "tern sync left bodies to download");
}

/// Another client sets \Flagged on a different 1% of the messages each round (`round`).
fn change_flags(servers: &MailServers, n: usize, round: usize) {
    let mut client = support::mailbox::login(servers, &servers.bob);
    client.imap_ok("s", "SELECT INBOX");
    let step = 100;
    let uids: Vec<String> = (1..=n)
        .filter(|u| (u + round * 7).is_multiple_of(step))
        .map(|u| u.to_string())
        .collect();
    for chunk in uids.chunks(1000) {
        client.imap_ok(
            "f",
            &format!("UID STORE {} +FLAGS.SILENT (\\Flagged)", chunk.join(",")),
        );
    }
    client.imap_ok("l", "LOGOUT");
}

/// All IMAP rows for bob's INBOX of `n` messages; `bodies` adds the full offline download.
/// Returns a data dir that caches the folder (with every body when `bodies`).
pub fn rows(b: &Bench, n: usize, bodies: bool, rows: &mut Vec<Row>) -> PathBuf {
    let servers = b.servers;
    let work = b.work.join(format!("imap-{n}"));
    let counter = ByteCounter::start(servers.ports.imaps);
    let floor = |kind: &str, port: u16| {
        run(
            &b.me,
            &["--floor", kind],
            &floor_env(servers, &servers.bob, port),
            &[],
        )
        .0
    };
    let k = n / 1000;

    // One run of each through the byte counter: it warms Dovecot's index and cache, so nobody
    // pays for that in the figures, and it gives the bytes each moves.
    let counted = work.join("tern-counted");
    tern_account(b, &counted, counter.port, &[]);
    tern_sync(b, &counted);
    let tern_bytes = counter.take();
    floor("imap-headers", counter.port);
    let floor_bytes = counter.take();
    let (mut fresh, mut floors, mut mb_fresh, mut full, mut floor_full) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut mbsync_bytes = None;
    let mb_counted = work.join("mbsync-counted");
    let mb_counted_rc = if b.mbsync_runs(n) > 0 {
        let rc = mbsync_config(servers, &mb_counted, counter.port);
        let sample = mbsync(&rc);
        if b.quick {
            mb_fresh.push(sample);
        }
        mbsync_bytes = Some(counter.take());
        Some(rc)
    } else {
        None
    };
    let (mut body_bytes, mut floor_body_bytes) = (None, None);
    if bodies {
        let dir = work.join("tern-bodies-counted");
        tern_account(b, &dir, counter.port, &["--download-bodies"]);
        let sample = tern_sync(b, &dir);
        if b.quick {
            full.push(sample);
        }
        body_bytes = Some(counter.take());
        let _ = std::fs::remove_dir_all(&dir);
        floor("imap-bodies", counter.port);
        floor_body_bytes = Some(counter.take());
    }
    tern_sync(b, &counted);
    let resync_bytes = counter.take();
    floor("imap-select", counter.port);
    let select_bytes = counter.take();
    let mb_resync_bytes = mb_counted_rc.as_ref().map(|rc| {
        mbsync(rc);
        counter.take()
    });

    let tern_dir = work.join("tern");
    let mb_dir = work.join("mbsync");
    let mb_rc = mbsync_config(servers, &mb_dir, servers.ports.imaps);
    for round in 0..b.rounds {
        crate::say!("IMAP {k}k, round {}", round + 1);
        tern_account(b, &tern_dir, servers.ports.imaps, &[]);
        fresh.push(tern_sync(b, &tern_dir));
        check_cached(&tern_dir, n, false);
        floors.push(floor("imap-headers", servers.ports.imaps));
        if round < b.mbsync_runs(n) {
            let _ = std::fs::remove_dir_all(&mb_dir);
            let rc = mbsync_config(servers, &mb_dir, servers.ports.imaps);
            mb_fresh.push(mbsync(&rc));
        }
        if bodies && round < b.long_rounds() {
            let dir = work.join("tern-bodies");
            tern_account(b, &dir, servers.ports.imaps, &["--download-bodies"]);
            full.push(tern_sync(b, &dir));
            check_cached(&dir, n, true);
            // The last one stays for the search rows (every body indexed).
            if round + 1 < b.long_rounds() {
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        if bodies {
            floor_full.push(floor("imap-bodies", servers.ports.imaps));
        }
    }
    let have_mbsync = !mb_fresh.is_empty();
    let (mut resync, mut mb_resync, mut selects) = (vec![], vec![], vec![]);
    for _ in 0..b.rounds.max(5) {
        resync.push(tern_sync(b, &tern_dir));
        if have_mbsync {
            mb_resync.push(mbsync(&mb_rc));
        }
        selects.push(floor("imap-select", servers.ports.imaps));
    }
    // Flags: one counted round, then the timed ones; both clients see the same change.
    change_flags(servers, n, 0);
    tern_sync(b, &counted);
    let flags_bytes = counter.take();
    let mb_flags_bytes = mb_counted_rc.as_ref().map(|rc| {
        mbsync(rc);
        counter.take()
    });
    // The timed stores take that change untimed, so each timed round below sees 1%, not 2%.
    tern_sync(b, &tern_dir);
    if have_mbsync {
        mbsync(&mb_rc);
    }
    let (mut flags, mut mb_flags) = (vec![], vec![]);
    for round in 1..=b.rounds {
        change_flags(servers, n, round);
        flags.push(tern_sync(b, &tern_dir));
        if have_mbsync {
            mb_flags.push(mbsync(&mb_rc));
        }
    }
    let _ = std::fs::remove_dir_all(&mb_dir);
    let _ = std::fs::remove_dir_all(&mb_counted);

    let headers = Figure::of(&fresh, Some(tern_bytes));
    let push = |rows: &mut Vec<Row>, work: String, tern: &Figure, peer: &str, p: Option<Figure>| {
        rows.push(Row {
            work,
            tern: tern.clone(),
            peer: peer.into(),
            peer_figure: p,
        });
    };
    let what = format!("IMAP initial header sync, {k}k");
    push(
        rows,
        what.clone(),
        &headers,
        "floor: one UID FETCH 1:*",
        Some(Figure::of(&floors, Some(floor_bytes))),
    );
    if have_mbsync {
        push(
            rows,
            what,
            &headers,
            "mbsync initial sync (whole messages)",
            Some(Figure::of(&mb_fresh, mbsync_bytes)),
        );
    }
    if bodies {
        let tern = Figure::of(&full, body_bytes);
        let what = format!("IMAP full offline download, {k}k");
        push(
            rows,
            what.clone(),
            &tern,
            "floor: BODY.PEEK[] in 500-UID batches",
            Some(Figure::of(&floor_full, floor_body_bytes)),
        );
        if have_mbsync {
            push(
                rows,
                what,
                &tern,
                "mbsync initial sync",
                Some(Figure::of(&mb_fresh, mbsync_bytes)),
            );
        }
    }
    let tern = Figure::of(&resync, Some(resync_bytes));
    let what = format!("IMAP no-change resync, {k}k");
    if have_mbsync {
        push(
            rows,
            what.clone(),
            &tern,
            "mbsync resync",
            Some(Figure::of(&mb_resync, mb_resync_bytes)),
        );
    }
    push(
        rows,
        what,
        &tern,
        "floor: LOGIN + SELECT",
        Some(Figure::of(&selects, Some(select_bytes))),
    );
    if have_mbsync {
        push(
            rows,
            format!("IMAP resync after 1% flags changed elsewhere, {k}k"),
            &Figure::of(&flags, Some(flags_bytes)),
            "mbsync resync",
            Some(Figure::of(&mb_flags, mb_flags_bytes)),
        );
    }
    let _ = std::fs::remove_dir_all(&counted);
    if bodies {
        let _ = std::fs::remove_dir_all(&tern_dir);
        work.join("tern-bodies")
    } else {
        tern_dir
    }
}
