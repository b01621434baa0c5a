#!/usr/bin/env bash
# Packaging smoke test: build the PyInstaller bundle, then use the bundle alone (empty PATH,
# `env -i`, a temporary HOME, XDG folders and library) the way a workstation with no Python
# would: --version, source add + sync, search, similar, render, health, run on the built-in
# kernel, the app started offscreen (also on a file, as a double-click does), the .ipynb
# association; then the kernels installed on this machine (R, the venv's python3) from the
# bundle.
#
#   packaging/smoke.sh              # build (pyinstaller nbshelf.spec) then test, ~3-5 min
#   packaging/smoke.sh --no-build   # test dist/nbshelf as it is
#   KEEP=1 packaging/smoke.sh ...   # keep the temporary folder for a look afterwards
#
# Ends with "N passed, M failed"; exit 0 only when nothing failed. No Python is used to check
# results either: the test notebooks are JSON written here, answers are grepped.
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$repo/dist/nbshelf"
exe="$bundle/nbshelf"
build=1
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "smoke.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/nbshelf-smoke.XXXXXX")"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{home,data,config,cache,tmp,bin,out} "$tmp/runtime"
chmod 700 "$tmp/runtime"
lib="$tmp/library"
src="$tmp/share"
passed=0
failed=0

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# step NAME COMMAND...: run it, its output to $tmp/out/NAME.log; PASS or FAIL with the time.
step() {
    local name="$1"; shift
    local log="$tmp/out/$name.log" t0 t1 status
    t0=$(now)
    "$@" >"$log" 2>&1
    status=$?
    t1=$(now)
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        printf 'PASS  %-22s %6ss\n' "$name" "$(secs "$t0" "$t1")"
    else
        failed=$((failed + 1))
        printf 'FAIL  %-22s %6ss  (exit %s)\n' "$name" "$(secs "$t0" "$t1")" "$status"
        tail -n 15 "$log" | sed 's/^/      | /'
    fi
}

# The bundle alone: nothing inherited, nothing on PATH (so no python3 either).
bundle_env=(env -i HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config"
    XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/runtime" TMPDIR="$tmp/tmp"
    PATH="$tmp/bin" LANG=C.UTF-8)
nb() { "${bundle_env[@]}" "$exe" --library "$lib" "$@"; }
# expect FILE PATTERN...: every extended regex is in FILE.
expect() {
    local file="$1"; shift
    local pattern
    for pattern in "$@"; do
        grep -Eq -- "$pattern" "$file" || { echo "missing /$pattern/ in $file:"; head -c 3000 "$file"; return 1; }
    done
}

# -- the test tree: notebooks as JSON text ------------------------------------------------------
mkdir -p "$src/reports" "$src/tools"
cat > "$src/reports/quarterly_sales.ipynb" <<'EOF'
{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Quarterly sales report\n", "\n", "Revenue by region; Euler says $e^{i\\pi} + 1 = 0$."]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["import statistics\n", "import sys\n", "revenue = [120, 135, 150, 171]\n", "print('mean revenue =', statistics.mean(revenue))"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["import numpy as np\n", "print('answer =', int(np.array([6]).prod() * 7))\n", "print('frozen =', getattr(sys, 'frozen', False))"]}
 ],
 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}, "language_info": {"name": "python"}},
 "nbformat": 4, "nbformat_minor": 5
}
EOF
cat > "$src/reports/regional_sales.ipynb" <<'EOF'
{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Regional sales\n", "Revenue by region and quarter."]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["import statistics\n", "revenue = [120, 135, 150, 171]\n", "print('mean revenue =', statistics.mean(revenue))"]}
 ],
 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
 "nbformat": 4, "nbformat_minor": 5
}
EOF
cat > "$src/tools/cleaning.ipynb" <<'EOF'
{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Cleaning helpers"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["import nbshelf_smoke_missing_module\n", "nbshelf_smoke_missing_module.clean()"]}
 ],
 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
 "nbformat": 4, "nbformat_minor": 5
}
EOF
cat > "$src/tools/stats.ipynb" <<'EOF'
{
 "cells": [
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["x <- c(6, 7)\n", "cat('r answer =', prod(x), '\\n')"]}
 ],
 "metadata": {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}, "language_info": {"name": "R"}},
 "nbformat": 4, "nbformat_minor": 5
}
EOF
printf '{"cells": [' > "$src/tools/broken.ipynb"

# -- build ---------------------------------------------------------------------------------------
build_bundle() {
    [ -x "$repo/.venv/bin/pyinstaller" ] ||
        { echo "no PyInstaller in .venv: .venv/bin/pip install pyinstaller==6.22.3"; return 1; }
    (cd "$repo" && "$repo/.venv/bin/pyinstaller" --noconfirm nbshelf.spec)
}
if [ "$build" = 1 ]; then
    echo "== building the bundle (pyinstaller nbshelf.spec; log in $repo/build/smoke-build.log)"
    t0=$(now)
    step build build_bundle
    cp "$tmp/out/build.log" "$repo/build/smoke-build.log" 2>/dev/null || true
    echo "build time: $(secs "$t0" "$(now)") s"
fi
if [ ! -x "$exe" ]; then
    echo "smoke.sh: no bundle at $exe (build it, or drop --no-build)" >&2
    echo "$passed passed, $((failed + 1)) failed"
    exit 1
fi
size_mb=$(du -sm "$bundle" | cut -f1)
echo "bundle: $bundle, $size_mb MB, $(find "$bundle" -type f | wc -l) files"

# -- the bundle alone ----------------------------------------------------------------------------
size_ok() { [ "$size_mb" -lt 700 ] || { echo "$size_mb MB is not under 700 MB"; return 1; }; }
no_python() { ! "${bundle_env[@]}" /bin/sh -c 'command -v python3 || command -v python'; }
version() { nb --version > "$tmp/version.txt" && expect "$tmp/version.txt" '^nbshelf [0-9]+\.[0-9]+'; }
source_add() { nb source add "$src" --name share; }
sync_tree() {
    nb sync --json > "$tmp/sync.json" &&
        expect "$tmp/sync.json" '"added": 4' '"kind": "invalid-json"' 'broken\.ipynb'
}
search() {
    nb search quarterly revenue --json > "$tmp/search.json" &&
        expect "$tmp/search.json" '"total": [1-9]' 'reports/quarterly_sales\.ipynb'
}
similar() {
    nb similar share:reports/quarterly_sales.ipynb --json > "$tmp/similar.json" &&
        expect "$tmp/similar.json" 'reports/regional_sales\.ipynb'
}
render() {
    nb render share:reports/quarterly_sales.ipynb -o "$tmp/quarterly.html" &&
        expect "$tmp/quarterly.html" 'Quarterly sales report' '<math' 'mean revenue' &&
        ! grep -Eq '<script|src="https?:' "$tmp/quarterly.html"
}
health() {
    nb health --json > "$tmp/health.json" &&
        expect "$tmp/health.json" 'nbshelf_smoke_missing_module'
}
run_own_kernel() {
    nb run share:reports/quarterly_sales.ipynb --kernel nbshelf-python3 --json > "$tmp/run.json"
    local status=$?
    cat "$tmp/run.json"
    [ "$status" -eq 0 ] || return "$status"
    expect "$tmp/run.json" '"status": "ok"' '"cells_run": 2' '"kernel": "nbshelf-python3"' || return 1
    local record
    record=$(sed -n 's/^ *"record": "\(.*\)",\{0,1\}$/\1/p' "$tmp/run.json")
    expect "$record" 'answer = 42' 'mean revenue = 144' 'frozen = True'
}
# A share of 450 notebooks syncs in three batches: from the first one on, the index takes the
# batches in through a worker process (spawned: the bundle's executable run again), so this
# proves the frozen bundle can start it and that every batch ends up searchable.
big_share() {
    local big="$tmp/bigshare" biglib="$tmp/biglibrary" i
    mkdir -p "$big"
    for i in $(seq 1 450); do
        printf '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Ledger %s\\n", "smokeword%s totals"]}, {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["x = %s"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n' "$i" "$i" "$i" > "$big/ledger_$i.ipynb"
    done
    "${bundle_env[@]}" "$exe" --library "$biglib" source add "$big" --name big &&
        timeout 300 "${bundle_env[@]}" "$exe" --library "$biglib" sync --json > "$tmp/bigsync.json" &&
        expect "$tmp/bigsync.json" '"added": 450' &&
        "${bundle_env[@]}" "$exe" --library "$biglib" search smokeword449 --json > "$tmp/bigsearch.json" &&
        expect "$tmp/bigsearch.json" '"total": 1' 'ledger_449\.ipynb'
}
app_offscreen() {
    timeout 180 "${bundle_env[@]}" QT_QPA_PLATFORM=offscreen NBSHELF_QUIT_AFTER_START=1 \
        QTWEBENGINE_DISABLE_SANDBOX=1 "$exe" --library "$lib"
}
app_open_file() {
    timeout 180 "${bundle_env[@]}" QT_QPA_PLATFORM=offscreen NBSHELF_QUIT_AFTER_START=1 \
        QTWEBENGINE_DISABLE_SANDBOX=1 "$exe" --library "$lib" "$src/reports/quarterly_sales.ipynb"
}
association() {
    command -v xdg-mime >/dev/null || { echo "xdg-mime is not installed: skipped"; return 0; }
    local data="$tmp/assoc-data"
    HOME="$tmp/home" XDG_DATA_HOME="$data" "$bundle/linux/install-association.sh" "$exe" &&
        [ "$(HOME="$tmp/home" XDG_DATA_HOME="$data" XDG_CONFIG_HOME="$tmp/config" \
            xdg-mime query default application/x-ipynb+json)" = nbshelf.desktop ] &&
        grep -q "^Exec=\"$exe\" %f" "$data/applications/nbshelf.desktop" &&
        HOME="$tmp/home" XDG_DATA_HOME="$data" "$bundle/linux/uninstall-association.sh"
}

step size-under-700MB size_ok
step no-python-on-path no_python
step version version
step source-add source_add
step sync sync_tree
step search search
step similar similar
step render render
step health health
step run-builtin-kernel run_own_kernel
step big-share-batches big_share
step app-offscreen app_offscreen
step app-open-file app_open_file
step linux-association association

# -- kernels installed on the machine, started from the bundle ----------------------------------
# Their own interpreter and libraries, not the bundle's (LD_LIBRARY_PATH is given back).
installed_env=(env -i HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config"
    XDG_RUNTIME_DIR="$tmp/runtime" TMPDIR="$tmp/tmp" PATH=/usr/local/bin:/usr/bin:/bin
    LANG=C.UTF-8)
run_r_kernel() {
    "${installed_env[@]}" "$exe" --library "$lib" run share:tools/stats.ipynb --json \
        > "$tmp/run-r.json"
    local status=$?
    cat "$tmp/run-r.json"
    [ "$status" -eq 0 ] && expect "$tmp/run-r.json" '"status": "ok"' '"kernel": "ir"'
}
run_venv_kernel() {
    "${installed_env[@]}" JUPYTER_PATH="$repo/.venv/share/jupyter" "$exe" --library "$lib" \
        run share:reports/quarterly_sales.ipynb --kernel python3 --json > "$tmp/run-py.json"
    local status=$?
    cat "$tmp/run-py.json"
    [ "$status" -eq 0 ] || return "$status"
    expect "$tmp/run-py.json" '"status": "ok"' '"kernel": "python3"' || return 1
    local record
    record=$(sed -n 's/^ *"record": "\(.*\)",\{0,1\}$/\1/p' "$tmp/run-py.json")
    expect "$record" 'answer = 42' 'frozen = False'
}
if [ -d /usr/share/jupyter/kernels/ir ] || [ -d /usr/local/share/jupyter/kernels/ir ]; then
    step installed-kernel-R run_r_kernel
fi
if [ -f "$repo/.venv/share/jupyter/kernels/python3/kernel.json" ]; then
    step installed-kernel-py run_venv_kernel
fi

[ "${KEEP:-0}" = 1 ] && echo "kept: $tmp"
echo "bundle size: $size_mb MB"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
