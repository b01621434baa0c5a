"""The compact store (issue 16): blobs stored as zstd frames, named by the hash of the
original bytes; old raw blobs still read, and ``maintenance compact`` converts them.

Real libraries on real files: the store, a sync, the CLI in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
from pathlib import Path

import nbformat
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat import v4

from nbshelf.errors import BlobDamaged, StorageError
from nbshelf.library import Library
from nbshelf.limits import MAX_BLOB_BYTES
from nbshelf.store import ZSTD_MAGIC, BlobStore
from tests.helpers import make_notebook, run_cli, write_notebook, write_raw_blobs


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_files(library: Path) -> list[Path]:
    return sorted((library / "blobs").glob("*/*.ipynb"))


def typical_notebook(i: int, rng: random.Random) -> nbformat.NotebookNode:
    """A notebook like the analysts' own: markdown, pandas code, printed tables."""
    code = [f"import pandas as pd\ndf = pd.read_csv('data/sales_{i}.csv')\n"
            f"df.groupby('region')['revenue'].sum()" for _ in range(rng.randint(4, 10))]
    nb = make_notebook(title=f"Sales analysis {i}", code=code,
                       markdown=[f"## Step {k}\nWe look at the revenue by region." for k in
                                 range(3)])
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        rows = "\n".join(f"{r:>4}  {rng.choice(['north', 'south', 'east', 'west']):<6}  "
                         f"{rng.randint(1000, 99999):>8}  {rng.random():.6f}"
                         for r in range(rng.randint(20, 120)))
        cell.outputs = [v4.new_output("execute_result", execution_count=n + 1,
                                      data={"text/plain": rows})]
        cell.execution_count = n + 1
    return nb


@pytest.fixture
def synced(library: Library, share: Path) -> Library:
    rng = random.Random(16)
    for i in range(12):
        write_notebook(share / f"team{i % 3}" / f"nb{i:02}.ipynb", typical_notebook(i, rng))
    library.add_source(share, name="share")
    library.sync()
    return library


# -- the format ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=20_000))
def test_any_bytes_round_trip_compressed_under_their_own_hash(tmp_path: Path,
                                                              data: bytes) -> None:
    store = BlobStore(tmp_path / "blobs")
    digest = sha(data)
    store.put(digest, data)  # a second example with the same bytes finds it there already
    assert store.path(digest).read_bytes().startswith(ZSTD_MAGIC)
    assert store.read(digest) == data
    assert store.put(digest, data) is False  # identity is the original's hash: deduplicated


notebooks = st.builds(
    lambda title, code, md, out: _with_output(make_notebook(title=title, code=code,
                                                            markdown=md), out),
    st.text(max_size=40), st.lists(st.text(max_size=200), min_size=1, max_size=5),
    st.lists(st.text(max_size=200), max_size=3), st.text(max_size=2_000))


def _with_output(nb: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    nb.cells[-1].outputs = [v4.new_output("stream", text=text)]
    return nb


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nb=notebooks)
def test_generated_notebooks_sync_compressed_and_keep_their_hash(tmp_path: Path,
                                                                 nb: nbformat.NotebookNode
                                                                 ) -> None:
    case = tmp_path / sha(nbformat.writes(nb).encode())[:12]
    write_notebook(case / "share" / "a.ipynb", nb)
    original = (case / "share" / "a.ipynb").read_bytes()
    with Library.open(case / "library") as lib:
        lib.add_source(case / "share", name="share")
        lib.sync()
        info = lib.show("share:a.ipynb")
        assert info.content_hash == sha(original)  # the hash of what the share holds
        assert Path(info.blob).read_bytes().startswith(ZSTD_MAGIC)
        assert lib.store.read(info.content_hash) == original
        assert lib.notebooks.read_version(info.id) == original


def test_identical_notebooks_are_stored_once(library: Library, share: Path) -> None:
    write_notebook(share / "a.ipynb", make_notebook(title="Same"))
    (share / "copy").mkdir()
    (share / "copy" / "a.ipynb").write_bytes((share / "a.ipynb").read_bytes())
    library.add_source(share, name="share")
    library.sync()
    assert len(blob_files(library.root)) == 1
    assert library.show("share:a.ipynb").also_at[0].path == "copy/a.ipynb"


def test_the_store_on_disk_is_less_than_half_the_notebooks(synced: Library,
                                                           share: Path) -> None:
    notebooks = [p.stat() for p in share.rglob("*.ipynb")]
    blobs = [p.stat() for p in blob_files(synced.root)]
    assert len(blobs) == len(notebooks) == 12
    # what a user sees in a file manager (bytes), and what the disk gives (blocks)
    assert sum(b.st_size for b in blobs) < 0.5 * sum(n.st_size for n in notebooks)
    assert sum(b.st_blocks for b in blobs) < 0.5 * sum(n.st_blocks for n in notebooks)


# -- damaged blobs ---------------------------------------------------------------------------


def _damage(store: BlobStore, digest: str, how: str) -> None:
    path = store.path(digest)
    stored = path.read_bytes()
    if how == "truncated":
        path.write_bytes(stored[: len(stored) // 2])
    elif how == "cut-header":
        path.write_bytes(stored[:5])
    elif how == "flipped":
        middle = len(stored) // 2
        path.write_bytes(stored[:middle] + bytes([stored[middle] ^ 0xFF]) + stored[middle + 1:])
    elif how == "trailing":
        path.write_bytes(stored + b"garbage")
    elif how == "garbage":
        path.write_bytes(ZSTD_MAGIC + bytes(range(256)) * 8)
    elif how == "no-size":  # a valid frame that does not say how large it is
        packer = zstandard.ZstdCompressor(write_content_size=False)
        path.write_bytes(packer.compressobj().compress(b"{}") + packer.compressobj().flush())
    elif how == "bomb":  # a header claiming a terabyte (single segment, 8-byte size field)
        path.write_bytes(ZSTD_MAGIC + bytes([0xE0]) + (2**40).to_bytes(8, "little") + b"\0" * 16)
    elif how == "oversized":  # claims just past the cap: refused before any allocation
        path.write_bytes(ZSTD_MAGIC + bytes([0xE0]) + (MAX_BLOB_BYTES + 1).to_bytes(8, "little"))


@pytest.mark.parametrize("how", ["truncated", "cut-header", "flipped", "trailing", "garbage",
                                 "no-size", "bomb", "oversized"])
def test_a_damaged_blob_is_a_named_error(synced: Library, how: str) -> None:
    info = synced.show(synced.notebook_ids()[0])
    _damage(synced.store, info.content_hash, how)
    with pytest.raises(BlobDamaged) as caught:
        synced.store.read(info.content_hash)
    assert isinstance(caught.value, StorageError)  # a known error: no crash dialog
    assert str(synced.store.path(info.content_hash)) in str(caught.value)
    assert "delete that file, touch or save the notebook in its source" in str(caught.value)
    with pytest.raises(BlobDamaged):
        synced.render(info.id)


def test_a_damaged_blob_fails_a_command_in_words_and_the_rest_goes_on(
        synced: Library, tmp_path: Path) -> None:
    ids = synced.notebook_ids()
    info = synced.show(ids[0])
    _damage(synced.store, info.content_hash, "truncated")
    synced.close()
    failed = run_cli(synced.root, "render", str(info.id), "-o", str(tmp_path / "x.html"))
    assert failed.code == 1
    assert "is damaged" in failed.stderr and "Traceback" not in failed.stderr
    assert "internal error" not in failed.stderr
    ok = run_cli(synced.root, "render", str(ids[1]), "-o", str(tmp_path / "y.html"))
    assert ok.code == 0, ok.stderr
    # the index rebuild skips it like a lost blob instead of stopping
    rebuilt = run_cli(synced.root, "reindex", "--json")
    assert rebuilt.code == 0, rebuilt.stderr
    assert rebuilt.json["indexed"] == len(ids) - 1


def test_deleting_a_damaged_blob_and_syncing_copies_it_anew(synced: Library,
                                                            share: Path) -> None:
    info = synced.show(synced.notebook_ids()[0])
    _damage(synced.store, info.content_hash, "flipped")
    # what the message tells the user to do: delete it, touch the notebook, sync
    synced.store.path(info.content_hash).unlink()
    source_file = share / info.path
    stat = source_file.stat()
    os.utime(source_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    report = synced.sync()
    assert (report.added, report.updated, report.unchanged) == (0, 0, 12)
    assert sha(synced.store.read(info.content_hash)) == info.content_hash


# -- readers that were handed a path: publish, export, packs ---------------------------------


def test_publishing_the_stored_copy_writes_plain_json(synced: Library, share: Path) -> None:
    info = synced.show("share:team0/nb00.ipynb")
    # the window publishes ``NotebookInfo.blob``, a path into the compressed store
    synced.prepare_publish(info.blob)
    result = synced.publish(info.blob, "share", as_path="published/nb00.ipynb")
    written = (share / "published" / "nb00.ipynb").read_bytes()
    assert written.lstrip().startswith(b"{")
    assert "".join(json.loads(written)["cells"][0]["source"]) == "# Sales analysis 0"
    assert result.notebook_id is not None


# -- an old library (raw blobs) --------------------------------------------------------------


def _everything(lib: Library, out: Path) -> dict[str, object]:
    """What a user gets out of each notebook: bytes, page, export, pack."""
    seen: dict[str, object] = {}
    ids = lib.notebook_ids()
    for notebook_id in ids:
        info = lib.show(notebook_id)
        seen[f"{info.path} bytes"] = lib.notebooks.read_version(notebook_id)
        seen[f"{info.path} page"] = lib.render(notebook_id)
        exported = lib.export(notebook_id, "notebook", out / f"export-{notebook_id}",
                              force=True)
        seen[f"{info.path} export"] = Path(exported["output"]).read_bytes()
    lib.export_pack(out / "pack", ids=ids)
    manifest = json.loads((out / "pack" / "nbshelf-pack.json").read_text())
    for entry in manifest["notebooks"]:
        packed = (out / "pack" / entry["path"]).read_bytes()
        assert sha(packed) == entry["sha256"]
        seen[f"{entry['path']} pack"] = packed
    return seen


def test_an_old_library_reads_publishes_and_exports_then_compact_converts_it(
        synced: Library, share: Path, tmp_path: Path) -> None:
    new_format = _everything(synced, tmp_path / "new")
    root = synced.root
    synced.close()
    assert write_raw_blobs(root) == 12
    raw_size = sum(p.stat().st_size for p in blob_files(root))
    assert not any(p.read_bytes().startswith(ZSTD_MAGIC) for p in blob_files(root))

    with Library.open(root) as old:
        assert _everything(old, tmp_path / "old") == new_format
        for value in new_format.values():  # plain notebook JSON everywhere, never a frame
            if isinstance(value, bytes):
                assert value.lstrip().startswith(b"{")
        info = old.show("share:team1/nb01.ipynb")
        old.publish(info.blob, "share", as_path="from-old/nb01.ipynb")
        assert (share / "from-old" / "nb01.ipynb").read_bytes().lstrip().startswith(b"{")
        old_blob_count = len(blob_files(root))

    compacted = run_cli(root, "maintenance", "compact", "--json")
    assert compacted.code == 0, compacted.stderr
    report = compacted.json
    assert (report["blobs"], report["compacted"], report["already"]) == (
        old_blob_count, old_blob_count - 1, 1)  # the publish stored one version compressed
    assert report["damaged"] == [] and report["cancelled"] is False
    assert report["bytes_after"] < 0.5 * report["bytes_before"]
    assert report["bytes_before"] >= raw_size
    assert all(p.read_bytes().startswith(ZSTD_MAGIC) for p in blob_files(root))
    assert not list((root / "blobs").rglob("*.tmp"))

    with Library.open(root) as lib:
        after = _everything(lib, tmp_path / "compacted")  # and the published notebook
        assert {key: after[key] for key in new_format} == new_format
        assert all(sha(lib.store.read(d)) == d for d in (
            p.parent.name + p.name.removesuffix(".ipynb") for p in blob_files(root)))
        assert lib.search("revenue").total > 0

    again = run_cli(root, "maintenance", "compact")
    assert again.code == 0, again.stderr
    assert again.stdout.startswith(f"compacted 0 of {old_blob_count} stored versions "
                                   f"({old_blob_count} were compressed already)")


def test_compact_leaves_a_damaged_raw_blob_alone_and_says_so(synced: Library) -> None:
    root = synced.root
    synced.close()
    write_raw_blobs(root)
    victim = blob_files(root)[0]
    victim.write_bytes(victim.read_bytes().replace(b"revenue", b"REVENUE", 1))
    with Library.open(root) as lib:
        report = lib.compact_store()
    assert report.damaged == [str(victim)]
    assert report.compacted == len(blob_files(root)) - 1
    assert not victim.read_bytes().startswith(ZSTD_MAGIC)


def test_compact_stopped_midway_keeps_a_store_that_reads(synced: Library) -> None:
    root = synced.root
    originals = {p: synced.store.read(p.parent.name + p.name.removesuffix(".ipynb"))
                 for p in blob_files(root)}
    synced.close()
    write_raw_blobs(root)
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, _message: str) -> None:
        seen.append((done, total))
        if done == 5:
            cancel.set()  # as Ctrl+C does: the store stops between two blobs

    with Library.open(root) as lib:
        report = lib.compact_store(progress=progress, cancel=cancel)
        assert report.cancelled and report.compacted == 5
        for path, data in originals.items():
            assert lib.store.read(path.parent.name + path.name.removesuffix(".ipynb")) == data
        finished = lib.compact_store()
    assert (finished.compacted, finished.already) == (len(originals) - 5, 5)
    assert seen[0] == (0, len(originals))


def test_compact_takes_the_writer_lock(synced: Library) -> None:
    # the fixture's library is open as the writer: compact must wait, then say so in words
    busy = run_cli(synced.root, "--wait", "0", "maintenance", "compact", "--json")
    assert busy.code == 1
    assert "in use" in busy.json["error"] and "Traceback" not in busy.stderr
