#!/usr/bin/env bash
# Renders every icon Tauri bundles from icon.svg. The outputs are committed, so builds do not
# need these tools; run this again only after changing icon.svg.
# Needs: rsvg-convert (apt librsvg2-bin), ImageMagick 6 `convert`, png2icns (apt icnsutils).
# Tauri's generate_context! requires RGBA PNGs: every PNG is written as PNG32.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

render() { # size out
  rsvg-convert -w "$1" -h "$1" icon.svg -o "$tmp/raw.png"
  convert "$tmp/raw.png" -strip "PNG32:$2"
}

render 32 32x32.png
render 128 128x128.png
render 256 128x128@2x.png
render 512 icon.png
# Windows Store logos (optional for Tauri, cheap to keep).
for s in 30 44 71 89 107 142 150 284 310; do render "$s" "Square${s}x${s}Logo.png"; done
render 50 StoreLogo.png

# Windows: one .ico with the usual sizes.
for s in 16 24 32 48 64 256; do render "$s" "$tmp/ico-$s.png"; done
convert "$tmp"/ico-16.png "$tmp"/ico-24.png "$tmp"/ico-32.png "$tmp"/ico-48.png "$tmp"/ico-64.png "$tmp"/ico-256.png icon.ico

# macOS: png2icns takes the sizes it knows (16, 32, 48, 128, 256, 512).
for s in 16 32 48 128 256 512; do render "$s" "$tmp/icns-$s.png"; done
png2icns icon.icns "$tmp"/icns-{16,32,48,128,256,512}.png >/dev/null
echo "icons rendered in $(pwd)"
