"""Rendering from the library and from the command line: offline, safe, the right version."""

from __future__ import annotations

import os
from pathlib import Path

from nbformat import v4

from nbshelf.library import Library
from nbshelf.render.audit import remote_references
from tests.helpers import make_notebook, run_cli, write_notebook


def test_render_embeds_images_beside_the_notebook_and_shows_the_marking(
    library: Library, share: Path
) -> None:
    (share / "img").mkdir()
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    (share / "img" / "dot.png").write_bytes(png)
    nb = make_notebook(title="Pictures", markdown=["![a dot](img/dot.png) and "
                                                   "![remote](http://example.com/x.png)"])
    nb.metadata["nbshelf"] = {"marking": "CONFIDENTIAL"}
    write_notebook(share / "pics.ipynb", nb)
    library.add_source(share, name="team")
    library.sync()
    page = library.render("team:pics.ipynb")
    assert "data:image/png;base64," in page
    assert "CONFIDENTIAL" in page and "Pictures" in page
    assert remote_references(page, allowed_schemes={"nbshelf"}) == []  # the app's own styles


def test_older_versions_render_too(library: Library, share: Path) -> None:
    path = write_notebook(share / "v.ipynb", title="First words")
    library.add_source(share, name="team")
    library.sync()
    write_notebook(path, title="Second words")
    os.utime(path, ns=(1, 6_000_000_000_000_000_000))
    library.sync()
    assert "Second words" in library.render("team:v.ipynb")
    assert "First words" in library.render("team:v.ipynb", version=1)


def test_cli_render_writes_a_self_contained_file(library_dir: Path, share: Path,
                                                 tmp_path: Path) -> None:
    nb = make_notebook(title="Hostile", code=["x"])
    nb.cells[1].outputs = [v4.new_output("display_data", data={
        "text/html": "<script>document.title='pwned'</script><img src='https://evil/x.png' "
                     "onerror='alert(1)'><iframe src='http://evil'></iframe>"})]
    write_notebook(share / "h.ipynb", nb)
    assert run_cli(library_dir, "source", "add", str(share), "--name", "team").code == 0
    assert run_cli(library_dir, "sync").code == 0
    out = tmp_path / "export" / "h.html"
    done = run_cli(library_dir, "render", "team:h.ipynb", "-o", str(out))
    assert done.code == 0, done.stderr
    page = out.read_text()
    assert remote_references(page) == []
    assert "<script" not in page.lower() and "onerror" not in page.lower()
    assert "<iframe" not in page.lower()
    assert "<link" not in page.lower()  # styles are inlined: it opens anywhere, offline
    missing = run_cli(library_dir, "render", "team:nope.ipynb", "-o", str(out))
    assert missing.code == 1 and "no notebook in the library matches" in missing.stderr
