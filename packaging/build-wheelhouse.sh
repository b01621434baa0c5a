#!/usr/bin/env bash
# Build a wheelhouse for installing nbshelf on a machine with no network:
#
#     pip install --no-index --find-links wheelhouse nbshelf
#
# It holds nbshelf's own wheel and a wheel of every dependency, chosen for the TARGET's Python
# (exact version, X.Y.Z) and platform, not for the Python running this script. See
# packaging/offline-install.md for the whole procedure and the interpreter-version trap.
#
# Usage:
#   packaging/build-wheelhouse.sh --python-version 3.11.2 [options]
#   packaging/build-wheelhouse.sh --target-python /usr/bin/python3 [options]   # ask that Python
# Options:
#   --python-version X.Y.Z   the target interpreter's full version (python3 -V on the target)
#   --target-python PATH     a Python like the target's, on this machine: its version is used,
#                            and with --check the wheelhouse is test-installed into a venv of it
#   --glibc X.Y              the target's glibc (ldd --version), default 2.34: the least
#                            PySide6 6.11 runs on. Every manylinux tag from it down to
#                            manylinux1 is accepted: pip takes a given --platform literally, so
#                            manylinux2014_x86_64 alone finds no PySide6 (manylinux_2_34 wheels)
#   --platform TAG           instead of --glibc: exactly these tags (repeat it), e.g. win_amd64
#   --out DIR                default ./wheelhouse (emptied first)
#   --extras test            also the test tools (pytest, pytest-qt, ruff, mypy)
#   --check                  install from the wheelhouse alone into a temporary venv of
#                            --target-python and run `nbshelf --version` (no index used)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
py_version=""
target_python=""
glibc="2.34"
platforms=()
out="$PWD/wheelhouse"
extras=""
check=0
while [ $# -gt 0 ]; do
    case "$1" in
        --python-version) py_version="$2"; shift 2 ;;
        --target-python) target_python="$2"; shift 2 ;;
        --glibc) glibc="$2"; shift 2 ;;
        --platform) platforms+=("$2"); shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --extras) extras="[$2]"; shift 2 ;;
        --check) check=1; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "build-wheelhouse: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -n "$target_python" ] && [ -z "$py_version" ]; then
    py_version="$("$target_python" -c 'import platform; print(platform.python_version())')"
fi
if ! [[ "$py_version" =~ ^3\.[0-9]+\.[0-9]+$ ]]; then
    echo "build-wheelhouse: give the target's exact Python version, e.g. --python-version 3.11.2" >&2
    echo "  (X.Y is not enough: pip would take X.Y.0 or this machine's X.Y.Z, see offline-install.md)" >&2
    exit 2
fi
if [ "$check" = 1 ] && [ -z "$target_python" ]; then
    echo "build-wheelhouse: --check needs --target-python" >&2
    exit 2
fi
if [ "${#platforms[@]}" -eq 0 ]; then
    for ((minor = ${glibc#2.}; minor >= 5; minor--)); do
        platforms+=("manylinux_2_${minor}_x86_64")
    done
    platforms+=(manylinux2014_x86_64 manylinux2010_x86_64 manylinux1_x86_64)
fi
platform_args=()
for tag in "${platforms[@]}"; do platform_args+=(--platform "$tag"); done
major_minor="${py_version%.*}"
abi="cp${major_minor/./}"
pip=("$repo/.venv/bin/python" -m pip)
[ -x "$repo/.venv/bin/python" ] || pip=(python3 -m pip)

echo "== wheelhouse for CPython $py_version ($abi) on ${platforms[0]} and older -> $out"
rm -rf "$out"
mkdir -p "$out"
t0=$(date +%s)

# 1. nbshelf itself, as a wheel (pure Python, with resources/ inside as nbshelf/_resources).
"${pip[@]}" wheel --quiet --no-deps --wheel-dir "$out" "$repo"
wheel="$(ls "$out"/nbshelf-*.whl)"

# 2. Every dependency, binary wheels only, for the target's interpreter and platform.
"${pip[@]}" download --quiet --dest "$out" --only-binary=:all: \
    --python-version "$py_version" --implementation cp --abi "$abi" --abi abi3 --abi none \
    "${platform_args[@]}" "${wheel}${extras}"

count=$(find "$out" -name '*.whl' | wc -l)
echo "== $count wheels, $(du -sm "$out" | cut -f1) MB, $(( $(date +%s) - t0 )) s"

# 3. Optional: prove it installs with no index at all.
if [ "$check" = 1 ]; then
    venv="$(mktemp -d "${TMPDIR:-/tmp}/nbshelf-wheelhouse-check.XXXXXX")"
    trap 'rm -rf "$venv"' EXIT
    "$target_python" -m venv "$venv"
    t1=$(date +%s)
    PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install --quiet --no-index \
        --find-links "$out" "nbshelf${extras}"
    echo "== installed offline into $venv in $(( $(date +%s) - t1 )) s"
    QT_QPA_PLATFORM=offscreen "$venv/bin/nbshelf" --version
    "$venv/bin/python" -c 'import PySide6.QtWebEngineWidgets, sklearn, whoosh, ipykernel; print("imports ok")'
fi
