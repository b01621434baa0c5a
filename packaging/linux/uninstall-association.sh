#!/usr/bin/env bash
# Undoes install-association.sh for the current user.
set -euo pipefail
data="${XDG_DATA_HOME:-$HOME/.local/share}"
rm -f "$data/applications/nbshelf.desktop" "$data/mime/packages/nbshelf-ipynb.xml"
rm -f "$data"/icons/hicolor/*/apps/nbshelf.png
command -v update-mime-database >/dev/null && update-mime-database "$data/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
mimeapps="${XDG_CONFIG_HOME:-$HOME/.config}/mimeapps.list"
if [ -f "$mimeapps" ]; then
    sed -i '/^application\/x-ipynb+json=nbshelf.desktop;*$/d' "$mimeapps"
fi
echo "nbshelf no longer opens .ipynb files for $(id -un)"
