"""Packs made by an attacker: paths that leave the pack, zip bombs, hostile manifests.

Each pack here is built by hand (a zip written byte by byte where ``zipfile`` would refuse),
added as a source and synced. What must hold: the bad part is a problem of that pack, named;
nothing of it enters the catalog; the rest of the pack and every other source still sync; and
no later export writes outside its folder.
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from nbshelf.catalog.models import Notebook
from nbshelf.library import Library
from nbshelf.notebook import content_hash
from nbshelf.safepath import UnsafePath, check_relpath
from nbshelf.sources.packs import CHECKSUM, MANIFEST, MAX_MANIFEST_BYTES
from nbshelf.sources.sync import MAX_NOTEBOOK_BYTES
from tests.helpers import CliResult, make_notebook, run_cli

GOOD = "notebooks/share/good.ipynb"


def notebook_bytes(title: str = "Good one") -> bytes:
    return nbformat.writes(make_notebook(title)).encode()


def entry(path: str, data: bytes, **changes: Any) -> dict[str, Any]:
    """A manifest record for ``data`` at ``path``, as ``nbshelf pack export`` writes one."""
    item = {"path": path, "title": "t", "sha256": content_hash(data), "size": len(data),
            "marking": None, "source": "share", "original_path": path.split("/", 2)[-1],
            "version": 1}
    item.update(changes)
    return item


def sealed(manifest: Any) -> tuple[bytes, bytes]:
    """The manifest's bytes and its checksum file, so the pack passes the tamper check."""
    raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    return raw, hashlib.sha256(raw).hexdigest().encode() + b"\n"


def write_zip(out: Path, files: list[tuple[str, bytes]], manifest: Any) -> Path:
    """A zip pack with these entries (names as given, however hostile) and a sealed manifest."""
    raw, checksum = sealed(manifest)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            zf.writestr(zipfile.ZipInfo(name), data)
        zf.writestr(MANIFEST, raw)
        zf.writestr(CHECKSUM, checksum)
    return out


def good_pack(out: Path) -> Path:
    data = notebook_bytes()
    return write_zip(out, [(GOOD, data)], {"format": 1, "notebooks": [entry(GOOD, data)]})


def sync_packs(tmp_path: Path, *packs: Path) -> tuple[Library, dict[str, tuple[str, str]]]:
    """A fresh library with these packs as sources, synced: the library and its problems."""
    lib = Library.open(tmp_path / "lib")
    for pack in packs:
        lib.add_source(pack)
    report = lib.sync(index=False)
    return lib, {p.path: (p.kind, p.message) for p in report.problems}


def titles(lib: Library) -> list[str]:
    return sorted(r.title for r in lib.notebook_rows(lib.notebook_ids()))


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


# -- paths that leave the pack ---------------------------------------------------------------

HOSTILE_PATHS = [
    "notebooks/../../../victim.ipynb",
    "notebooks/share/../../../../victim.ipynb",
    "notebooks//ABS/victim.ipynb",
    "/ABS/victim.ipynb",
    "notebooks/C:\\Users\\x\\victim.ipynb",
    "notebooks/C:/Users/x/victim.ipynb",
    "notebooks/share\\..\\..\\..\\victim.ipynb",
    "notebooks/share/a\x00b.ipynb",
    "notebooks/share//victim.ipynb",
    "notebooks/./share/victim.ipynb",
    "notebooks/",
    "elsewhere/victim.ipynb",
]


@pytest.mark.parametrize("hostile", HOSTILE_PATHS)
def test_a_path_leaving_the_pack_is_a_problem_and_never_catalogued(tmp_path: Path,
                                                                   hostile: str) -> None:
    sandbox = tmp_path / "sandbox"
    (sandbox / "a" / "b").mkdir(parents=True)
    hostile = hostile.replace("/ABS", str(sandbox))
    evil = notebook_bytes("Evil")
    good = notebook_bytes()
    zip_name = hostile.replace("\x00", "")  # zipfile cuts names at NUL; the manifest keeps it
    pack = write_zip(sandbox / "a" / "b" / "p.zip", [(GOOD, good), (zip_name, evil)],
                     {"format": 1, "notebooks": [entry(GOOD, good), entry(hostile, evil)]})
    lib, problems = sync_packs(sandbox / "a" / "b", pack)
    try:
        unsafe = [(path, msg) for path, (kind, msg) in problems.items()
                  if kind == "pack-unsafe-path"]
        assert unsafe, problems
        assert all("victim" in msg or "a?b" in msg or "'notebooks/'" in msg
                   for _, msg in unsafe), unsafe
        assert titles(lib) == ["Good one"]  # the rest of the pack is still read
        relpaths = {lib.show(i).path for i in lib.notebook_ids()}
        assert relpaths == {"share/good.ipynb"}
        out = sandbox / "a" / "b" / "export"
        lib.export_pack(out, ids=lib.notebook_ids())
        outside = {p for p in sandbox.rglob("*") if p.is_file()} - set(out.rglob("*"))
        assert all(p.parent == sandbox / "a" / "b" or "lib" in p.parts for p in outside)
        assert not any("victim" in p.name for p in sandbox.rglob("*"))
    finally:
        lib.close()


def test_folder_pack_manifest_with_parent_path_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "deep" / "pack"
    good = notebook_bytes()
    target = tmp_path / "deep" / "victim.ipynb"
    (pack / "notebooks" / "share").mkdir(parents=True)
    (pack / "notebooks" / "share" / "good.ipynb").write_bytes(good)
    target.write_bytes(good)  # a file the manifest reaches with ..: its hash matches
    manifest = {"format": 1, "notebooks": [entry(GOOD, good),
                                           entry("notebooks/../../victim.ipynb", good)]}
    raw, checksum = sealed(manifest)
    (pack / MANIFEST).write_bytes(raw)
    (pack / CHECKSUM).write_bytes(checksum)
    lib, problems = sync_packs(tmp_path, pack)
    try:
        assert problems["notebooks/../../victim.ipynb"][0] == "pack-unsafe-path"
        assert {lib.show(i).path for i in lib.notebook_ids()} == {"share/good.ipynb"}
    finally:
        lib.close()


def test_a_bad_path_already_in_the_catalog_cannot_escape_an_export(library: Library,
                                                                   tmp_path: Path) -> None:
    """However a path got into a catalog (an older nbshelf, a hand edit), export checks
    where it writes."""
    share = tmp_path / "share"
    share.mkdir()
    (share / "ok.ipynb").write_bytes(notebook_bytes())
    library.add_source(share, name="share")
    library.sync(index=False)
    good_id = library.notebook_ids()[0]
    digest = library.show(good_id).content_hash
    with library.engine.begin() as conn:
        source_id = conn.execute(Notebook.__table__.select()).first().source_id
        for bad in ("../../../victim.ipynb", "/tmp/victim-nbshelf.ipynb", "a\\..\\..\\v.ipynb"):
            conn.execute(insert(Notebook).values(
                source_id=source_id, relpath=bad, content_hash=digest, size=1, mtime_ns=1,
                inode=1, first_seen=0, last_seen=0, removed_at=None))
    ids = library.notebook_ids()
    assert len(ids) == 4
    for name in ("out", "out.zip"):
        with pytest.raises(UnsafePath):
            library.export_pack(tmp_path / "x" / "y" / name, ids=ids)
        assert not (tmp_path / "x" / "y" / name).exists()
    assert not any("victim" in p.name for p in tmp_path.rglob("*"))
    assert not Path("/tmp/victim-nbshelf.ipynb").exists()


def test_export_of_an_opened_file_stays_inside_the_pack(library: Library,
                                                        tmp_path: Path) -> None:
    """Notebooks opened from anywhere carry absolute paths: the pack holds them relative."""
    loose = tmp_path / "loose" / "mine.ipynb"
    loose.parent.mkdir()
    loose.write_bytes(notebook_bytes("Opened"))
    notebook_id = library.open_file(loose)
    out = tmp_path / "x" / "pack"
    library.export_pack(out, ids=[notebook_id])
    written = files_under(out)
    assert any(name.startswith("notebooks/") and name.endswith("mine.ipynb") for name in written)
    assert all(check_relpath(name) for name in written)
    other, problems = sync_packs(tmp_path / "y", out)
    try:
        assert problems == {}
        assert titles(other) == ["Opened"]
    finally:
        other.close()


_SEGMENTS = st.sampled_from(["..", ".", "", "a", "b.ipynb", "C:", "c:\\x", "..\\..", "\x00",
                             "notebooks", "share", "~", "%2e%2e", ".hidden", "x.ipynb"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(_SEGMENTS, min_size=0, max_size=7),
       lead=st.sampled_from(["notebooks/", "", "/", "notebooks//", "notebooks/share/"]))
def test_no_pack_entry_name_writes_outside_library_or_export(tmp_path_factory: Any,
                                                             segments: list[str],
                                                             lead: str) -> None:
    sandbox = tmp_path_factory.mktemp("sandbox")
    home = sandbox / "one" / "two" / "three"
    home.mkdir(parents=True)
    name = lead + "/".join(segments)
    if name.startswith("/"):
        name = str(sandbox) + name  # absolute: aimed at the sandbox, which is watched
    data = notebook_bytes("Generated")
    pack = write_zip(home / "p.zip", [(name.replace("\x00", ""), data)],
                     {"format": 1, "notebooks": [entry(name, data)]})
    before = files_under(sandbox)
    lib, _problems = sync_packs(home, pack)
    try:
        for path in {lib.show(i).path for i in lib.notebook_ids()}:
            check_relpath(path)  # whatever was catalogued is a plain relative path
        ids = lib.notebook_ids()
        if ids:
            lib.export_pack(home / "export", ids=ids)
            lib.export_pack(home / "export.zip", ids=ids)
            with zipfile.ZipFile(home / "export.zip") as zf:
                for member in zf.namelist():
                    check_relpath(member)
    finally:
        lib.close()
    after = files_under(sandbox)
    new = {p for p in after if p not in before}
    assert all(p.startswith(("one/two/three/lib/", "one/two/three/export")) for p in new), new


# -- zip bombs and damaged zips --------------------------------------------------------------


def _dos_time() -> tuple[int, int]:
    return (0 << 11) | (0 << 5), ((2024 - 1980) << 9) | (1 << 5) | 1


def write_raw_zip(out: Path, members: list[tuple[str, bytes, int, int, int, int, int]],
                  extra_files: list[tuple[str, bytes]]) -> Path:
    """A zip written byte by byte: (name, stored stream, method, crc, csize, usize, flags).

    ``zipfile`` cannot write a precompressed stream, lie about sizes or claim encryption;
    an attacker's tool can.
    """
    for name, data in extra_files:  # plain members (manifest, checksum) as stored entries
        members = [*members, (name, data, 0, zlib.crc32(data), len(data), len(data), 0)]
    tm, dt = _dos_time()
    local, central = bytearray(), bytearray()
    for name, stream, method, crc, csize, usize, flags in members:
        raw_name = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, tm, dt, crc, csize,
                             usize, len(raw_name), 0) + raw_name + stream
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, tm, dt,
                               crc, csize, usize, len(raw_name), 0, 0, 0, 0, 0o644 << 16,
                               offset) + raw_name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                      len(local), 0)
    out.write_bytes(bytes(local + central + end))
    return out


@pytest.fixture(scope="module")
def zeros_3gib() -> tuple[bytes, int, int]:
    """A raw deflate stream of 3 GiB of zeros (~3 MB), its CRC and its size."""
    chunk = bytes(1 << 24)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeeze.compress(chunk) + squeeze.flush(zlib.Z_FULL_FLUSH)
    repeats = 3 * 64
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    return block * repeats + squeeze.flush(), crc, len(chunk) * repeats


def bomb_pack(out: Path, bomb: tuple[bytes, int, int], *, claimed: int) -> Path:
    stream, crc, size = bomb
    good = notebook_bytes()
    name = "notebooks/share/bomb.ipynb"
    manifest = {"format": 1, "notebooks": [entry(GOOD, good),
                                           entry(name, b"", size=claimed,
                                                 sha256="0" * 64)]}
    raw, checksum = sealed(manifest)
    return write_raw_zip(out, [(name, stream, 8, crc, len(stream), size, 0),
                               (GOOD, good, 0, zlib.crc32(good), len(good), len(good), 0)],
                         [(MANIFEST, raw), (CHECKSUM, checksum)])


@pytest.mark.parametrize("claimed", [3 << 30, 1000], ids=["honest-size", "lying-size"])
def test_zip_bomb_is_a_problem_and_read_with_bounded_memory(
        tmp_path: Path, zeros_3gib: tuple[bytes, int, int], claimed: int) -> None:
    pack = bomb_pack(tmp_path / "bomb.zip", zeros_3gib, claimed=claimed)
    good = good_pack(tmp_path / "z-good.zip")
    lib_dir = tmp_path / "lib"
    assert run_cli(lib_dir, "source", "add", str(pack)).code == 0
    assert run_cli(lib_dir, "source", "add", str(good)).code == 0
    # the sync runs under a small wrapper that reports its child's peak memory
    wrapper = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "nbshelf",
                           "--library", str(lib_dir), "sync", "--json"],
                          capture_output=True, text=True, timeout=600)
    result = CliResult(proc.returncode, proc.stdout, proc.stderr)
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    assert result.code == 0, result.stderr
    assert "internal error" not in result.stderr
    problems = {(p["source"], p["path"]): p["kind"] for p in result.json["problems"]}
    assert problems[("bomb.zip", "share/bomb.ipynb")] in {"too-large", "pack-tampered"}
    shown = run_cli(lib_dir, "search", "good", "--json")
    assert shown.json["total"] == 2  # the good notebook of the bomb pack and the other pack
    # bounded memory: the sync never held the 3 GiB entry, only up to the cap
    assert peak_kib < 2**20 + MAX_NOTEBOOK_BYTES // 1024, f"peak {peak_kib / 2**10:.0f} MiB"


def _patched_method(good: bytes) -> tuple[str, bytes, int, int, int, int, int]:
    return (GOOD, good, 97, zlib.crc32(good), len(good), len(good), 0)


@pytest.mark.parametrize("damage", ["unknown-method", "encrypted", "bad-crc", "truncated-zip",
                                    "not-a-zip", "wrong-manifest-crc"])
def test_a_damaged_zip_is_a_problem_of_its_pack_and_others_still_sync(tmp_path: Path,
                                                                      damage: str) -> None:
    good = notebook_bytes()
    manifest = {"format": 1, "notebooks": [entry(GOOD, good)]}
    raw, checksum = sealed(manifest)
    crc = zlib.crc32(good)
    member = (GOOD, good, 0, crc, len(good), len(good), 0)
    if damage == "unknown-method":
        member = _patched_method(good)
    elif damage == "encrypted":
        member = (GOOD, good, 0, crc, len(good), len(good), 1)
    elif damage == "bad-crc":
        member = (GOOD, good, 0, crc ^ 1, len(good), len(good), 0)
    files = [(MANIFEST, raw), (CHECKSUM, checksum)]
    pack = write_raw_zip(tmp_path / "a-bad.zip", [member], files)
    if damage == "truncated-zip":
        pack.write_bytes(pack.read_bytes()[:-30])
    elif damage == "not-a-zip":
        pack.write_bytes(b"PK\x03\x04" + bytes(200))
    elif damage == "wrong-manifest-crc":
        data = bytearray(pack.read_bytes())
        start = data.index(raw)
        data[start + 2] ^= 0x01  # the manifest's bytes now fail their zip CRC
        pack.write_bytes(bytes(data))
    other = good_pack(tmp_path / "b-good.zip")
    lib = Library.open(tmp_path / "lib")
    try:
        for path in (pack, other):
            try:
                lib.add_source(path)
            except Exception as err:  # a pack so broken it cannot be added is also fine
                assert damage in {"truncated-zip", "not-a-zip"}, err
        report = lib.sync(index=False)
        kinds = {(p.source, p.kind) for p in report.problems}
        assert titles(lib)[-1] == "Good one"
        assert ("b-good.zip", "pack-tampered") not in kinds
        if damage in {"unknown-method", "encrypted", "bad-crc", "wrong-manifest-crc"}:
            assert any(src == "a-bad.zip" and kind.startswith("pack-")
                       for src, kind in kinds), kinds
            messages = " ".join(p.message for p in report.problems)
            assert "Traceback" not in messages
    finally:
        lib.close()


# -- hostile manifests -----------------------------------------------------------------------


def manifest_pack(out: Path, manifest: Any, *, files: list[tuple[str, bytes]] | None = None
                  ) -> Path:
    good = notebook_bytes()
    return write_zip(out, files if files is not None else [(GOOD, good)], manifest)


def test_deeply_nested_manifest_is_a_problem(tmp_path: Path) -> None:
    deep = b'{"format": 1, "notebooks": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    pack = manifest_pack(tmp_path / "a-deep.zip", deep)
    lib, problems = sync_packs(tmp_path, pack, good_pack(tmp_path / "b-good.zip"))
    try:
        assert problems[MANIFEST][0] == "pack-damaged"
        assert titles(lib) == ["Good one"]
    finally:
        lib.close()


def test_oversized_manifest_is_a_problem(tmp_path: Path) -> None:
    good = notebook_bytes()
    bloated = entry(GOOD, good, title="x" * (MAX_MANIFEST_BYTES + 1))
    pack = manifest_pack(tmp_path / "a-big.zip", {"format": 1, "notebooks": [bloated]})
    assert pack.stat().st_size < 2**20  # small on disk, big once inflated
    lib, problems = sync_packs(tmp_path, pack, good_pack(tmp_path / "b-good.zip"))
    try:
        kind, message = problems[MANIFEST]
        assert kind == "pack-damaged" and "MB" in message
        assert titles(lib) == ["Good one"]
    finally:
        lib.close()


CONFUSED = {
    "size-as-string": {"size": "12"},
    "size-negative": {"size": -1},
    "size-bool": {"size": True},
    "size-float": {"size": 1.5},
    "size-huge": {"size": 10**30},
    "sha-as-int": {"sha256": 12},
    "sha-not-hex": {"sha256": "z" * 64},
    "path-as-list": {"path": ["notebooks", "x.ipynb"]},
    "path-missing": {"path": None},
    "title-as-dict": {"title": {"a": 1}},
    "version-as-string": {"version": "1"},
    "marking-as-list": {"marking": ["SECRET"]},
}


@pytest.mark.parametrize("change", list(CONFUSED), ids=list(CONFUSED))
def test_type_confused_manifest_entry_is_a_problem_naming_it(tmp_path: Path,
                                                            change: str) -> None:
    good = notebook_bytes()
    other = notebook_bytes("Other one")
    bad = entry("notebooks/share/other.ipynb", other)
    bad.update(CONFUSED[change])
    if bad["path"] is None:
        del bad["path"]
    manifest = {"format": 1, "notebooks": [entry(GOOD, good), bad]}
    pack = manifest_pack(tmp_path / "p.zip", manifest,
                         files=[(GOOD, good), ("notebooks/share/other.ipynb", other)])
    lib, problems = sync_packs(tmp_path, pack)
    try:
        assert "Good one" in titles(lib)
        assert "Other one" not in titles(lib)
        bad_kinds = {kind for kind, _ in problems.values()}
        assert bad_kinds & {"pack-damaged", "pack-extra", "too-large"}, problems
        messages = " ".join(msg for _, msg in problems.values())
        assert "Traceback" not in messages and "ValueError" not in messages
    finally:
        lib.close()


@pytest.mark.parametrize("shape", [[], {"notebooks": {}}, {"notebooks": "x"}, "just text",
                                   {"notebooks": [1, None, "x"]}, {"format": 1}, 42, None])
def test_manifest_of_the_wrong_shape_is_a_problem(tmp_path: Path, shape: Any) -> None:
    pack = manifest_pack(tmp_path / "a.zip", shape)
    lib, problems = sync_packs(tmp_path, pack, good_pack(tmp_path / "b.zip"))
    try:
        assert problems[MANIFEST][0] == "pack-damaged"
        assert titles(lib) == ["Good one"]
    finally:
        lib.close()


def test_cli_sync_goes_on_past_a_bad_pack(tmp_path: Path) -> None:
    """The finding as a user met it: a bad pack first, a good one after; sync exits 0."""
    deep = b'{"notebooks": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    bad = manifest_pack(tmp_path / "a-bad.zip", deep)
    good = good_pack(tmp_path / "b-good.zip")
    lib_dir = tmp_path / "lib"
    for pack in (bad, good):
        assert run_cli(lib_dir, "source", "add", str(pack)).code == 0
    result = run_cli(lib_dir, "sync", "--json")
    assert result.code == 0, result.stderr
    assert result.json["added"] == 1
    assert {p["source"] for p in result.json["problems"]} == {"a-bad.zip"}


def test_hostile_pack_suite_runs_in_a_subprocess_without_traceback(tmp_path: Path) -> None:
    """``nbshelf problems`` after a hostile sync reads cleanly (no NUL or control bytes leak
    into the terminal)."""
    evil = notebook_bytes("Evil")
    name = "notebooks/share/\x1b[31mred\x00.ipynb"
    pack = write_zip(tmp_path / "p.zip", [(GOOD, evil)],
                     {"format": 1, "notebooks": [entry(name, evil)]})
    lib_dir = tmp_path / "lib"
    assert run_cli(lib_dir, "source", "add", str(pack)).code == 0
    assert run_cli(lib_dir, "sync").code == 0
    shown = subprocess.run([sys.executable, "-m", "nbshelf", "--library", str(lib_dir),
                            "problems"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0
    assert "\x1b" not in shown.stdout and "\x00" not in shown.stdout
