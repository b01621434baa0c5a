#!/usr/bin/env bash
# Installs nbshelf for development or use on Debian/Ubuntu: the system libraries Qt needs,
# then a virtual environment in .venv/ with nbshelf and its test tools. Safe to run again:
# it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")"

# Qt Widgets, QtWebEngine and the X11 (xcb) platform plugin, per ../shared/ENVIRONMENT.md.
packages=(
    python3 python3-venv python3-pip
    libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfreetype6 libfontconfig1 fontconfig-config
    libdbus-1-3 libnspr4 libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1
    libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
    libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1
    xdg-utils
)

sudo_cmd() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || echo "$pkg"
    done
}

if command -v apt-get >/dev/null 2>&1; then
    mapfile -t todo < <(missing_packages "${packages[@]}")
    # Ubuntu 24.04 renamed libasound2 to libasound2t64: take whichever this release has.
    need_alsa=false
    if [ -n "$(missing_packages libasound2)" ] && [ -n "$(missing_packages libasound2t64)" ]; then
        need_alsa=true
    fi
    if [ "${#todo[@]}" -gt 0 ] || $need_alsa; then
        sudo_cmd apt-get update -qq
        if $need_alsa; then
            if apt-cache show libasound2t64 >/dev/null 2>&1; then todo+=(libasound2t64)
            else todo+=(libasound2); fi
        fi
        echo "setup: installing system packages: ${todo[*]}"
        sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${todo[@]}"
    fi
else
    echo "setup: no apt-get here; install Qt's system libraries yourself (see README)" >&2
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: nbshelf needs Python 3.11 or newer; $("$python" --version) found" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# PySide6 6.12.0 (excluded by pyproject.toml: it loses a reference on every signal emitted)
# split QtWebEngine into packages that 6.11 does not have: installing over it would leave
# them claiming 6.11's files. Take the whole binding out first.
if .venv/bin/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("PySide6") != "6.12.0")' 2>/dev/null; then
    .venv/bin/python -m pip uninstall -y -q PySide6 PySide6_Essentials PySide6_Addons \
        PySide6_WebEngine PySide6_Pdf shiboken6
fi
.venv/bin/python -m pip install -q -e '.[test]'
echo "setup: nbshelf is installed in $(pwd)/.venv"
