//! The packaging files agree with `Cargo.toml` and pass their validators: the AppStream metainfo
//! (`appstreamcli validate`), the desktop file (`desktop-file-validate`, rendered as
//! cargo-packager renders it), and the icons the packagers take exist at their sizes. The .deb
//! itself is built and installed by `packaging/check-deb` (`TERN_PACKAGING=1 bash .ci/run`).
//!
//! The validators come from Debian's `appstream` and `desktop-file-utils`, which `.ci/run`
//! installs; without them this says so and passes, except under CI (`CI=true`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs `tool args`, or None when the tool is not installed (an error under CI).
fn validate(tool: &str, args: &[&str]) -> Option<std::process::Output> {
    match Command::new(tool).args(args).output() {
        Ok(out) => Some(out),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{tool} is needed in CI ({e}): .ci/run installs appstream and desktop-file-utils"
            );
            eprintln!("skipped: {tool} is not installed");
            None
        }
    }
}

#[test]
fn the_metainfo_names_this_version_and_passes_appstreamcli() {
    let manifest = read("Cargo.toml");
    let metainfo = read("packaging/linux/org.tern.Tern.metainfo.xml");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        metainfo.contains(&format!("<release version=\"{version}\"")),
        "the metainfo's newest release is not {version}: add a <release> for it"
    );
    assert!(manifest.contains("identifier = \"org.tern.Tern\""));
    assert!(metainfo.contains("<id>org.tern.Tern</id>"));
    assert!(metainfo.contains("<launchable type=\"desktop-id\">tern.desktop</launchable>"));
    let path = root().join("packaging/linux/org.tern.Tern.metainfo.xml");
    if let Some(out) = validate(
        "appstreamcli",
        &["validate", "--no-net", "--explain", path.to_str().unwrap()],
    ) {
        assert!(
            out.status.success(),
            "appstreamcli validate failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_desktop_file_claims_mail_links_and_messages_and_validates() {
    // As cargo-packager fills the template for the .deb (name, exec, icon, the MIME types from
    // deep-link-protocols and file-associations).
    let rendered = read("packaging/linux/tern.desktop")
        .replace("{{name}}", "Tern")
        .replace("{{exec}}", "tern")
        .replace("{{icon}}", "tern")
        // cargo-packager lists the file types first, then the URL schemes.
        .replace("{{mime_type}}", "message/rfc822;x-scheme-handler/mailto")
        .replace("{{comment}}", env!("CARGO_PKG_DESCRIPTION"))
        .lines()
        .filter(|line| !line.starts_with("{{"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert!(rendered.contains("Categories=Network;Email;"));
    let types: Vec<&str> = rendered
        .lines()
        .find_map(|line| line.strip_prefix("MimeType="))
        .unwrap_or_default()
        .split(';')
        .collect();
    assert!(types.contains(&"x-scheme-handler/mailto") && types.contains(&"message/rfc822"));
    assert!(rendered.contains("Exec=tern %U"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tern.desktop");
    std::fs::write(&path, rendered).unwrap();
    if let Some(out) = validate("desktop-file-validate", &[path.to_str().unwrap()]) {
        assert!(
            out.status.success(),
            "desktop-file-validate failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_icon_the_packagers_take_is_there_at_its_size() {
    for size in [16u32, 24, 32, 48, 64, 128, 256, 512] {
        let path = root().join(format!("assets/app/tern-{size}.png"));
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let info = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        assert_eq!(
            (info.info().width, info.info().height),
            (size, size),
            "{}",
            path.display()
        );
    }
    for path in [
        "assets/app/tern.ico",
        "assets/app/tern.icns",
        "assets/tern.svg",
    ] {
        assert!(root().join(path).is_file(), "{path} is missing");
    }
    let plist = read("packaging/macos/Info.plist");
    assert!(plist.contains("<string>eml</string>") && plist.contains("NSHighResolutionCapable"));
}
