//! Generated test mail, written straight into a user's Maildir (about 1,500 messages a second,
//! far faster than APPEND or LMTP). Deterministic for a seed, and varied: threads,
//! multipart/alternative, attachments, RFC 2047 encoded words, UTF-8 bodies, flags.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;

use super::servers::{STORAGE_UID, User, chown_tree};

/// What was generated, to compare with what a client later sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    pub from_name: String,
    pub from_addr: String,
    /// Unix seconds of the Date: header (also the file's mtime, which Dovecot uses as INTERNALDATE).
    pub date: i64,
    /// Size in bytes (RFC822.SIZE).
    pub size: usize,
    /// IMAP flags set on the file.
    pub flags: Vec<&'static str>,
    pub has_attachment: bool,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Plain,
    Alternative,
    WithAttachment,
    EncodedUtf8,
}

/// A small deterministic PRNG (xorshift64*), so corpora are reproducible from their seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub const SENDERS: [(&str, &str); 8] = [
    ("Ada Lovelace", "ada@example.test"),
    ("Jörg Müller", "joerg@example.test"),
    ("Zoë Ångström", "zoe@example.test"),
    ("", "noreply@lists.example.test"),
    ("李雷", "lilei@example.test"),
    ("Grace Hopper", "grace@example.test"),
    ("O'Brien, Pat", "pat@example.test"),
    ("Émile Zola", "emile@example.test"),
];

pub const TOPICS: [&str; 8] = [
    "Quarterly report",
    "Lunch on Friday?",
    "Grüße aus München",
    "Build failed on main",
    "Réunion de l'équipe",
    "Invoice 2023-118",
    "会议记录",
    "Photos from the trip",
];

/// First date used; message `i` is 10 minutes after message `i - 1`.
pub const BASE_DATE: i64 = 1_690_000_000;

/// An RFC 2047 B-encoded word when `text` is not ASCII.
fn encode_word(text: &str) -> String {
    if text.is_ascii() {
        text.to_owned()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    }
}

fn address_header(name: &str, addr: &str) -> String {
    if name.is_empty() {
        addr.to_owned()
    } else if name.is_ascii() {
        format!("\"{}\" <{addr}>", name.replace('"', ""))
    } else {
        format!("{} <{addr}>", encode_word(name))
    }
}

fn rfc2822_date(seconds: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(seconds, 0)
        .unwrap()
        .to_rfc2822()
}

/// Generates message `index` of a corpus. `to` is the recipient address.
pub fn message(
    rng: &mut Rng,
    index: usize,
    to: &str,
    thread_roots: &mut Vec<(String, String)>,
) -> (Generated, Vec<u8>) {
    let (from_name, from_addr) = SENDERS[(rng.below(SENDERS.len() as u64)) as usize];
    let date = BASE_DATE + index as i64 * 600;
    let message_id = format!(
        "gen-{index}-{:x}@{}",
        rng.next() & 0xffff_ffff,
        "example.test"
    );
    let kind = match index % 4 {
        0 => Kind::Plain,
        1 => Kind::Alternative,
        2 => Kind::WithAttachment,
        _ => Kind::EncodedUtf8,
    };
    // About a third of messages reply to an earlier thread.
    let (subject, in_reply_to, references) = if !thread_roots.is_empty() && rng.below(3) == 0 {
        let pick = rng.below(thread_roots.len() as u64) as usize;
        let (root_id, root_subject) = thread_roots[pick].clone();
        (
            format!("Re: {root_subject}"),
            Some(root_id.clone()),
            vec![root_id],
        )
    } else {
        let subject = format!(
            "{} #{index}",
            TOPICS[rng.below(TOPICS.len() as u64) as usize]
        );
        thread_roots.push((message_id.clone(), subject.clone()));
        if thread_roots.len() > 50 {
            thread_roots.remove(0);
        }
        (subject, None, Vec::new())
    };
    let mut flags = Vec::new();
    let roll = rng.below(10);
    if roll < 6 {
        flags.push("\\Seen");
    }
    if roll == 0 || roll == 7 {
        flags.push("\\Flagged");
    }
    if roll == 1 {
        flags.push("\\Answered");
    }

    let mut head = String::new();
    head.push_str(&format!("Message-ID: <{message_id}>\r\n"));
    head.push_str(&format!("Date: {}\r\n", rfc2822_date(date)));
    head.push_str(&format!(
        "From: {}\r\n",
        address_header(from_name, from_addr)
    ));
    head.push_str(&format!("To: {to}\r\n"));
    head.push_str(&format!("Subject: {}\r\n", encode_word(&subject)));
    if let Some(parent) = &in_reply_to {
        head.push_str(&format!("In-Reply-To: <{parent}>\r\n"));
        head.push_str(&format!(
            "References: {}\r\n",
            references
                .iter()
                .map(|r| format!("<{r}>"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    head.push_str("MIME-Version: 1.0\r\n");
    let text = format!(
        "Hello,\r\n\r\nthis is generated message {index} about {subject}.\r\nGrüße, ünïcödé ✓\r\n"
    );
    let body = match kind {
        Kind::Plain => {
            format!(
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}"
            )
        }
        Kind::EncodedUtf8 => format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}",
            quoted_printable(&text)
        ),
        Kind::Alternative => format!(
            "Content-Type: multipart/alternative; boundary=\"alt-{index}\"\r\n\r\n\
--alt-{index}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
--alt-{index}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<html><body><p>{}</p><img src=\"https://tracker.invalid/p.gif\"></body></html>\r\n\
--alt-{index}--\r\n",
            text.replace("\r\n", "<br>")
        ),
        Kind::WithAttachment => {
            let len = 200 + rng.below(3000) as usize;
            let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
            let lines: Vec<&str> = encoded
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            format!(
                "Content-Type: multipart/mixed; boundary=\"mix-{index}\"\r\n\r\n\
--mix-{index}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
--mix-{index}\r\nContent-Type: application/octet-stream; name=\"data-{index}.bin\"\r\n\
Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9-{index}.bin\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--mix-{index}--\r\n",
                lines.join("\r\n")
            )
        }
    };
    let raw = format!("{head}{body}").into_bytes();
    let generated = Generated {
        message_id,
        in_reply_to,
        references,
        subject,
        from_name: from_name.to_owned(),
        from_addr: from_addr.to_owned(),
        date,
        size: raw.len(),
        flags,
        has_attachment: kind == Kind::WithAttachment,
        kind,
    };
    (generated, raw)
}

fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for line in text.split("\r\n") {
        let mut width = 0;
        for byte in line.bytes() {
            let piece = if (byte.is_ascii_graphic() && byte != b'=') || byte == b' ' {
                (byte as char).to_string()
            } else {
                format!("={byte:02X}")
            };
            if width + piece.len() > 73 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
        out.push_str("\r\n");
    }
    out.truncate(out.len().saturating_sub(2));
    out
}

/// The on-disk directory of a mailbox in Dovecot's default Maildir++ layout ('/' separator).
pub fn maildir_folder(user: &User, folder: &str) -> PathBuf {
    assert!(
        folder.is_ascii(),
        "fill_maildir takes ASCII folder names; create others over IMAP"
    );
    if folder.eq_ignore_ascii_case("INBOX") {
        user.maildir()
    } else {
        user.maildir()
            .join(format!(".{}", folder.replace('/', ".")))
    }
}

/// Writes `count` generated messages into `folder` of `user`'s Maildir and returns what was
/// written, oldest first. Dovecot indexes them on next access.
pub fn fill_maildir(user: &User, folder: &str, count: usize, seed: u64) -> Vec<Generated> {
    let dir = maildir_folder(user, folder);
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    if dir != user.maildir() {
        File::create(dir.join("maildirfolder")).unwrap();
    }
    let mut rng = Rng::new(seed);
    let mut roots = Vec::new();
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        let (generated, raw) = message(&mut rng, index, &user.address, &mut roots);
        write_maildir_file(&dir, index, seed, &generated, &raw);
        out.push(generated);
    }
    chown_tree(&user.home, STORAGE_UID).unwrap();
    out
}

/// Writes one generated message as a Maildir file named after its date, size and flags, with
/// its date as the file's mtime (Dovecot's INTERNALDATE).
pub fn write_maildir_file(dir: &Path, index: usize, seed: u64, g: &Generated, raw: &[u8]) {
    let mut info: Vec<char> = g
        .flags
        .iter()
        .map(|f| match *f {
            "\\Seen" => 'S',
            "\\Flagged" => 'F',
            "\\Answered" => 'R',
            "\\Draft" => 'D',
            _ => 'T',
        })
        .collect();
    info.sort_unstable();
    let info: String = info.into_iter().collect();
    let name = format!("{}.M{index}P{seed}.tern,S={}:2,{info}", g.date, raw.len());
    let path = dir.join("cur").join(name);
    let mut file = File::create(&path).unwrap();
    file.write_all(raw).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(g.date as u64))
        .unwrap();
}

/// Writes one raw message into `folder` of `user`'s Maildir with the given IMAP flags.
pub fn write_message(user: &User, folder: &str, raw: &[u8], flags: &[&'static str], date: i64) {
    let dir = maildir_folder(user, folder);
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    if dir != user.maildir() {
        File::create(dir.join("maildirfolder")).unwrap();
    }
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1_000_000);
    let index = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let generated = Generated {
        message_id: String::new(),
        in_reply_to: None,
        references: Vec::new(),
        subject: String::new(),
        from_name: String::new(),
        from_addr: String::new(),
        date,
        size: raw.len(),
        flags: flags.to_vec(),
        has_attachment: false,
        kind: Kind::Plain,
    };
    write_maildir_file(&dir, index, 0, &generated, raw);
    chown_tree(&user.home, STORAGE_UID).unwrap();
}
