"""Every bad input of issue 7 becomes a problem with a kind and a specific message.

Each test syncs a real source folder into a real library: sync goes on past the bad file,
and nothing already in the library is lost because of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import nbshelf.sources.sync
from nbshelf.library import Library
from nbshelf.records import ProblemInfo
from tests.helpers import make_notebook, write_notebook


def sync_problems(library: Library, share: Path) -> dict[str, ProblemInfo]:
    if not library.list_sources():
        library.add_source(share, name="share")
    report = library.sync()
    return {p.path: p for p in report.problems}


def assert_problem(problems: dict[str, ProblemInfo], path: str, kind: str, words: str) -> None:
    assert path in problems, f"no problem for {path}: {sorted(problems)}"
    assert problems[path].kind == kind
    assert words in problems[path].message


@pytest.mark.parametrize(
    ("content", "kind", "words"),
    [
        (b"", "empty", "the file is empty"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_', "invalid-json",
         "looks truncated"),
        (bytes(range(256)) * 4, "not-text", "binary data"),
        (b'{"title": "not a notebook"}', "not-a-notebook", "not a notebook"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {"a": 1}}',
         "not-a-notebook", "'cells' is an object, not a list"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": ["text"]}',
         "not-a-notebook", "cell 0 is a string"),
        (b'{"nbformat": 9, "nbformat_minor": 0, "metadata": {}, "cells": []}',
         "unsupported-version", "nbformat 9 is newer than this version of nbshelf reads"),
    ],
)
def test_bad_file_is_a_problem_and_good_files_still_sync(
    library: Library, share: Path, content: bytes, kind: str, words: str
) -> None:
    write_notebook(share / "good.ipynb", title="Good")
    (share / "bad.ipynb").write_bytes(content)
    problems = sync_problems(library, share)
    assert_problem(problems, "bad.ipynb", kind, words)
    assert library.show("share:good.ipynb").title == "Good"


def test_cell_of_unknown_type_is_catalogued_with_a_schema_warning(
    library: Library, share: Path
) -> None:
    nb = make_notebook(title="Strange cell")
    raw = nbformat.writes(nb).replace('"cell_type": "code"', '"cell_type": "sql"')
    (share / "odd.ipynb").write_text(raw)
    problems = sync_problems(library, share)
    assert_problem(problems, "odd.ipynb", "schema-warning", "breaks the notebook format")
    assert library.show("share:odd.ipynb").title == "Strange cell"


def test_bom_and_v3_are_read(library: Library, share: Path) -> None:
    data = nbformat.writes(make_notebook(title="With BOM")).encode()
    (share / "bom.ipynb").write_bytes(b"\xef\xbb\xbf" + data)
    v3 = nbformat.v3.new_notebook(
        worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_heading_cell("Version 3")])]
    )
    (share / "v3.ipynb").write_text(nbformat.v3.writes_json(v3))
    assert sync_problems(library, share) == {}
    assert library.show("share:bom.ipynb").title == "With BOM"
    assert library.show("share:v3.ipynb").nbformat == "3.0"


def test_folder_named_like_a_notebook(library: Library, share: Path) -> None:
    (share / "x.ipynb").mkdir()
    write_notebook(share / "x.ipynb" / "inner.ipynb", title="Inside")
    problems = sync_problems(library, share)
    assert_problem(problems, "x.ipynb", "not-a-file", "folder named like a notebook")
    assert library.show("share:x.ipynb/inner.ipynb").title == "Inside"


def test_dangling_symlink_and_symlink_loop(library: Library, share: Path) -> None:
    os.symlink(share / "gone.ipynb", share / "dangling.ipynb")
    os.symlink("loop-b.ipynb", share / "loop-a.ipynb")
    os.symlink("loop-a.ipynb", share / "loop-b.ipynb")
    os.symlink(share, share / "back-to-top")  # a folder link into its own ancestor
    problems = sync_problems(library, share)
    assert_problem(problems, "dangling.ipynb", "broken-link", "does not exist")
    assert_problem(problems, "loop-a.ipynb", "symlink-loop", "loop")
    assert_problem(problems, "back-to-top", "symlink-loop", "already scanned")


def test_links_leaving_the_source_hidden_folders_and_checkpoints_are_skipped(
    library: Library, share: Path, tmp_path: Path
) -> None:
    outside = write_notebook(tmp_path / "elsewhere" / "secret.ipynb", title="Outside")
    os.symlink(outside, share / "link.ipynb")
    write_notebook(share / ".ipynb_checkpoints" / "a-checkpoint.ipynb")
    write_notebook(share / ".hidden" / "h.ipynb")
    write_notebook(share / "real.ipynb", title="Real")
    problems = sync_problems(library, share)
    assert_problem(problems, "link.ipynb", "link-outside-source", "leads outside the source")
    assert [s.notebooks for s in library.list_sources()] == [1]


def test_name_that_is_not_utf8(library: Library, share: Path) -> None:
    data = nbformat.writes(make_notebook(title="Latin-1 name")).encode()
    fd = os.open(os.fsencode(share) + b"/caf\xe9.ipynb", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, data)
    os.close(fd)
    problems = sync_problems(library, share)
    assert_problem(problems, "caf\\xe9.ipynb", "bad-filename", "not valid UTF-8")


def test_file_that_vanishes_before_it_is_read(library: Library, share: Path) -> None:
    write_notebook(share / "stays.ipynb")
    doomed = write_notebook(share / "doomed.ipynb")
    library.add_source(share, name="share")

    def delete_when_copying_starts(p: nbshelf.sources.sync.SyncProgress) -> None:
        if p.phase == "copy":
            doomed.unlink(missing_ok=True)

    report = library.sync(progress=delete_when_copying_starts)
    problems = {p.path: p for p in report.problems}
    assert_problem(problems, "doomed.ipynb", "vanished", "disappeared while the sync was reading")
    assert report.added == 1


def test_file_that_changes_while_it_is_read(
    library: Library, share: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write_notebook(share / "busy.ipynb", title="First")
    library.add_source(share, name="share")
    real_fstat = os.fstat
    calls = {"n": 0}

    def fstat_then_someone_writes(fd: int) -> os.stat_result:
        result = real_fstat(fd)
        calls["n"] += 1
        if calls["n"] == 1:  # right after the first look, another user saves the file
            with open(target, "a") as out:
                out.write("\n\n")
            os.utime(target, ns=(result.st_mtime_ns + 10**9, result.st_mtime_ns + 10**9))
        return result

    monkeypatch.setattr(nbshelf.sources.sync.os, "fstat", fstat_then_someone_writes)
    problems = {p.path: p for p in library.sync().problems}
    assert_problem(problems, "busy.ipynb", "changed-while-reading", "read again at the next sync")
    monkeypatch.undo()
    report = library.sync()
    assert (report.added, report.problems) == (1, [])


def test_unreadable_file(tmp_path: Path) -> None:
    """Permission denied. Root reads any file, so as root the sync runs without the
    capabilities that let it (as on an analyst's machine, where the user is not root)."""
    share = tmp_path / "share"
    write_notebook(share / "ok.ipynb")
    write_notebook(share / "locked.ipynb").chmod(0)
    (share / "private").mkdir(mode=0)
    script = (
        "import json,sys; from nbshelf.library import Library\n"
        "with Library.open(sys.argv[1]) as lib:\n"
        "    lib.add_source(sys.argv[2], name='share')\n"
        "    r = lib.sync()\n"
        "    print(json.dumps({'added': r.added, 'problems': [p.to_json() for p in r.problems]}))\n"
    )
    command = [sys.executable, "-c", script, str(tmp_path / "lib"), str(share)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    out = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert out["added"] == 1
    assert out["problems"] == [
        {"source": "share", "path": "locked.ipynb", "kind": "unreadable",
         "message": "the file cannot be read (permission denied)"},
        {"source": "share", "path": "private", "kind": "unreadable",
         "message": "the folder private cannot be listed (permission denied); "
                    "its notebooks are kept as they were"},
    ]


def test_a_broken_file_never_loses_the_version_already_in_the_library(
    library: Library, share: Path
) -> None:
    path = write_notebook(share / "report.ipynb", title="Quarterly report")
    library.add_source(share, name="share")
    library.sync()
    path.write_bytes(path.read_bytes()[:100])  # a truncated save over the good file
    problems = {p.path: p for p in library.sync().problems}
    assert_problem(problems, "report.ipynb", "invalid-json", "truncated")
    info = library.show("share:report.ipynb")
    assert (info.title, info.removed_at, info.versions) == ("Quarterly report", None, 1)
    assert b"Quarterly report" in library.read_version("share:report.ipynb")


def test_bad_files_are_not_read_again_while_unchanged(
    library: Library, share: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (share / "bad.ipynb").write_bytes(b"{")
    write_notebook(share / "good.ipynb")
    library.add_source(share, name="share")
    library.sync()
    reads: list[str] = []
    real = nbshelf.sources.sync.read_stable
    monkeypatch.setattr(nbshelf.sources.sync, "read_stable", lambda p: reads.append(p) or real(p))
    problems = {p.path: p for p in library.sync().problems}
    assert reads == []
    assert problems["bad.ipynb"].kind == "invalid-json"


def test_large_notebook_is_read(library: Library, share: Path) -> None:
    big = make_notebook(title="Big", code=["x = 1"])
    big.cells[1].outputs = [nbformat.v4.new_output("stream", text="y" * 50_000_000)]
    write_notebook(share / "big.ipynb", big)
    assert sync_problems(library, share) == {}
    assert library.show("share:big.ipynb").size > 50_000_000


@pytest.mark.corpus
def test_corpus_edge_folder_syncs(library: Library, corpus: Path, tmp_path: Path) -> None:
    edge = tmp_path / "edge"
    shutil.copytree(corpus / "edge", edge)
    report = library.sync() if library.add_source(edge) else None
    assert report is not None
    assert report.added == sum(1 for _ in edge.rglob("*.ipynb"))
    assert all(p.kind == "schema-warning" for p in report.problems)
