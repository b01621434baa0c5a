#!/usr/bin/env bash
# Makes .ipynb files open with nbshelf for the current user: no root needed.
# Usage: install-association.sh [PATH-TO-nbshelf]   (default: the nbshelf on PATH)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
icons="$here/../../resources/icons/hicolor"
[ -d "$icons" ] || icons="$here/icons/hicolor"          # inside a bundle
data="${XDG_DATA_HOME:-$HOME/.local/share}"
exe="${1:-$(command -v nbshelf || true)}"
if [ -z "$exe" ]; then
    echo "install-association: nbshelf is not on PATH; give its path as the first argument" >&2
    exit 1
fi
exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"

mkdir -p "$data/applications" "$data/mime/packages"
sed -e "s|^Exec=nbshelf %f|Exec=\"$exe\" %f|" -e "s|^TryExec=nbshelf|TryExec=$exe|" \
    "$here/nbshelf.desktop" > "$data/applications/nbshelf.desktop"
cp "$here/nbshelf-ipynb.xml" "$data/mime/packages/nbshelf-ipynb.xml"
for size_dir in "$icons"/*/; do
    size=$(basename "$size_dir")
    mkdir -p "$data/icons/hicolor/$size/apps"
    cp "$size_dir/apps/nbshelf.png" "$data/icons/hicolor/$size/apps/nbshelf.png"
done

# Refresh the desktop's caches where the tools exist; each is optional on a minimal system.
command -v update-mime-database >/dev/null && update-mime-database "$data/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
if command -v xdg-mime >/dev/null; then
    xdg-mime default nbshelf.desktop application/x-ipynb+json
fi
echo "nbshelf now opens .ipynb files for $(id -un) ($data)"
