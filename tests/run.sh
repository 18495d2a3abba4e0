#!/usr/bin/env bash
# Runs Tern's whole test suite, setup included: installs the Debian packages of the private test
# mail servers (Dovecot, Postfix), of the window smoke test (Xvfb, xwd, a font) and of the
# real-keyring test (gnome-keyring, dbus-daemon) and the packaging files' validators (appstream,
# desktop-file-utils) when run as root, or names the one apt-get
# line to run.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix xvfb x11-apps fonts-dejavu-core fonts-noto-color-emoji fonts-noto-cjk gnome-keyring dbus-daemon appstream desktop-file-utils)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" != 0 ]; then
        echo "tests/run.sh: missing ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo fmt --check
cargo clippy --locked --all-targets --features console -- -D warnings
cargo test --locked
