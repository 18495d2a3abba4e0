//! The benchmark's mailbox: the test corpus (threads, alternatives, encoded words, flags) with
//! attachments of realistic size added to about a third of the messages (8 KB to 600 KB,
//! log-uniform), so 10,000 messages come to about 640 MB, like a real mailbox.

use base64::Engine as _;

use crate::support::User;
use crate::support::corpus::{self, Rng};
use crate::support::servers::{STORAGE_UID, chown_tree};

/// Writes `n` messages into `user`'s INBOX (Maildir); returns their total size in bytes.
pub fn fill(user: &User, n: usize, seed: u64) -> u64 {
    let dir = corpus::maildir_folder(user, "INBOX");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let mut rng = Rng::new(seed);
    let mut sizes = Rng::new(seed ^ 0x5eed);
    let mut roots = Vec::new();
    let mut total = 0u64;
    for index in 0..n {
        let (generated, raw) = corpus::message(&mut rng, index, &user.address, &mut roots);
        let raw = if sizes.below(100) < 35 {
            with_attachment(&raw, index, &mut sizes)
        } else {
            raw
        };
        corpus::write_maildir_file(&dir, index, seed, &generated, &raw);
        total += raw.len() as u64;
    }
    chown_tree(&user.home, STORAGE_UID).unwrap();
    total
}

/// `raw` (headers ending in MIME-Version, then its own Content-Type) as the first part of a
/// multipart/mixed whose second part is a base64 attachment.
fn with_attachment(raw: &[u8], index: usize, rng: &mut Rng) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let marker = "MIME-Version: 1.0\r\n";
    let Some(at) = text.find(marker) else {
        return raw.to_vec();
    };
    let (head, inner) = text.split_at(at + marker.len());
    // Log-uniform between 8 KB and 600 KB.
    let (lo, hi) = (8_000f64.ln(), 600_000f64.ln());
    let len = (lo + (hi - lo) * (rng.below(1_000_000) as f64 / 1e6)).exp() as usize;
    let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
    let mut lines = String::with_capacity(encoded.len() + encoded.len() / 38);
    for chunk in encoded.as_bytes().chunks(76) {
        lines.push_str(std::str::from_utf8(chunk).unwrap());
        lines.push_str("\r\n");
    }
    format!(
        "{head}Content-Type: multipart/mixed; boundary=\"bench-{index}\"\r\n\r\n\
--bench-{index}\r\n{inner}\r\n--bench-{index}\r\n\
Content-Type: application/pdf; name=\"report-{index}.pdf\"\r\n\
Content-Disposition: attachment; filename=\"report-{index}.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{lines}--bench-{index}--\r\n"
    )
    .into_bytes()
}
