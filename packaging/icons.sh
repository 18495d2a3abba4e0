#!/usr/bin/env bash
# Renders the application icon (assets/tern.svg) into the files the packagers and the window
# use: PNGs from 16 to 512 px (assets/app/), a Windows .ico and a macOS .icns.
# Run it by hand after changing the SVG, and commit what it writes; builds never run it.
# Needs Debian's librsvg2-bin (rsvg-convert), imagemagick (convert) and icnsutils (png2icns).
set -euo pipefail
cd "$(dirname "$0")/.."
out=assets/app
mkdir -p "$out"
sizes=(16 24 32 48 64 128 256 512)
for size in "${sizes[@]}"; do
    rsvg-convert --width "$size" --height "$size" assets/tern.svg --output "$out/tern-$size.png"
done
# Windows: one .ico holding the sizes Explorer and the taskbar ask for.
convert "$out/tern-16.png" "$out/tern-24.png" "$out/tern-32.png" "$out/tern-48.png" \
    "$out/tern-64.png" "$out/tern-256.png" "$out/tern.ico"
# macOS: png2icns takes the sizes the format has (16, 32, 48, 128, 256, 512).
png2icns "$out/tern.icns" "$out/tern-16.png" "$out/tern-32.png" "$out/tern-48.png" \
    "$out/tern-128.png" "$out/tern-256.png" "$out/tern-512.png" >/dev/null
# Smaller files, same pixels (optipng when it is there).
if command -v optipng >/dev/null; then optipng -quiet -o5 "$out"/tern-*.png; fi
ls -l "$out"
