//! Smoke test of the real binary: `tern` starts under Xvfb (tiny-skia renderer) on a data
//! directory synced from the harness's Dovecot, and a screenshot of the screen (xwd, from
//! Debian's x11-apps) shows the folder tree and the message rows. The screenshot is kept as
//! `target/tmp/ui-screenshots/smoke.png`.
//!
//! Needs `Xvfb` and `xwd`; `.ci/run` installs them. Without them the test says so and passes,
//! except under CI (`CI=true`), where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::cli::{add_imap_account, tern};
use support::{MailServers, corpus};

const WIDTH: usize = 1280;
const HEIGHT: usize = 800;

/// Kills a child process when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Starts Xvfb on a free display number; returns it and the server.
fn xvfb(dir: &Path) -> (String, Killed) {
    for n in 90..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let log = std::fs::File::create(dir.join(format!("xvfb{n}.log"))).unwrap();
        let child = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                &format!("{WIDTH}x{HEIGHT}x24"),
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Killed(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return (display, server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("could not start Xvfb on any display from :90 to :139");
}

/// Reads an XWD screenshot (32 bits per pixel, as Xvfb's 24-bit screen gives) into RGBA.
fn read_xwd(bytes: &[u8]) -> Vec<u8> {
    let field = |i: usize| u32::from_be_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap()) as usize;
    let header_size = field(0);
    let (width, height) = (field(4), field(5));
    let byte_order = field(7);
    let bits_per_pixel = field(11);
    let bytes_per_line = field(12);
    let ncolors = field(19);
    assert_eq!((width, height), (WIDTH, HEIGHT), "screen size");
    assert_eq!(bits_per_pixel, 32, "bits per pixel");
    let start = header_size + ncolors * 12;
    let mut rgba = Vec::with_capacity(width * height * 4);
    for y in 0..height {
        for x in 0..width {
            let p = &bytes[start + y * bytes_per_line + x * 4..][..4];
            let (r, g, b) = if byte_order == 0 {
                (p[2], p[1], p[0])
            } else {
                (p[1], p[2], p[3])
            };
            rgba.extend_from_slice(&[r, g, b, 255]);
        }
    }
    rgba
}

fn save_png(rgba: &[u8], path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(file, WIDTH as u32, HEIGHT as u32);
    encoder.set_color(png::ColorType::Rgba);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(rgba).unwrap();
    writer.finish().unwrap();
}

/// Text rows in a region: horizontal bands of rows that hold dark (text) pixels, separated by
/// rows that hold none.
fn text_lines(rgba: &[u8], x: std::ops::Range<usize>, y: std::ops::Range<usize>) -> usize {
    let dark = |px: usize, py: usize| {
        let p = &rgba[(py * WIDTH + px) * 4..][..3];
        (p[0] as u32 + p[1] as u32 + p[2] as u32) < 200
    };
    let mut lines = 0;
    let mut inside = false;
    for py in y {
        let has = x.clone().any(|px| dark(px, py));
        if has && !inside {
            lines += 1;
        }
        inside = has;
    }
    lines
}

#[test]
fn the_binary_draws_the_folder_tree_and_rows_under_xvfb() {
    if !have("Xvfb") || !have("xwd") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Xvfb and xwd are needed in CI: .ci/run installs xvfb and x11-apps"
        );
        eprintln!("skipped: install xvfb and x11-apps to run the smoke test");
        return;
    }
    let servers = MailServers::start();
    let bob = &servers.bob;
    corpus::fill_maildir(bob, "INBOX", 200, 7);
    let data = servers.dir().join("tern-data");
    add_imap_account(&servers, &data, bob, servers.ports.imaps, &[]);
    let out = tern(&data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (display, _xvfb) = xvfb(servers.dir());
    // A light theme, so text is dark on light whatever the desktop would choose.
    std::fs::write(
        data.join("ui.json"),
        format!("{{\"width\": {WIDTH}, \"height\": {HEIGHT}, \"theme\": \"Light\"}}"),
    )
    .unwrap();
    let started = Instant::now();
    let mut app = Killed(
        Command::new(env!("CARGO_BIN_EXE_tern"))
            .arg("--data-dir")
            .arg(&data)
            .env("DISPLAY", &display)
            .env("ICED_BACKEND", "tiny-skia")
            .env("WAYLAND_DISPLAY", "")
            .env("TERN_STARTUP_TRACE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = app.0.stderr.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut log = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !log
        .iter()
        .any(|l: &String| l.starts_with("tern: first rows"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines_rx.recv_timeout(left) {
            Ok(line) => log.push(line),
            Err(_) => panic!(
                "the window showed no rows within 120 s; it said:\n{}",
                log.join("\n")
            ),
        }
    }
    eprintln!("{} (test clock: {:.1?})", log.join("\n"), started.elapsed());
    // Let the frame with the rows reach the screen, then take the picture.
    std::thread::sleep(Duration::from_millis(800));
    let shot = servers.dir().join("screen.xwd");
    let status = Command::new("xwd")
        .args(["-root", "-silent", "-display", &display, "-out"])
        .arg(&shot)
        .status()
        .unwrap();
    assert!(status.success(), "xwd failed");
    let rgba = read_xwd(&std::fs::read(&shot).unwrap());
    let png = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ui-screenshots")
        .join("smoke.png");
    save_png(&rgba, &png);

    // The folder pane (left) lists INBOX and the special folders; the list shows many rows.
    let folders = text_lines(&rgba, 10..200, 50..500);
    let rows = text_lines(&rgba, 260..700, 110..760);
    assert!(
        folders >= 3,
        "folder pane: {folders} lines of text (see {})",
        png.display()
    );
    assert!(
        rows >= 15,
        "message list: {rows} lines of text (see {})",
        png.display()
    );
}
