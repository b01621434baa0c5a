"""The version-diff page: every changed cell, its lines marked, safe and offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat import v4

from nbshelf.library import Library
from nbshelf.notebook.diff import diff_notebooks, read_for_diff
from nbshelf.render.audit import remote_references
from nbshelf.render.diffpage import render_diff_page
from tests.helpers import make_notebook, write_notebook

PNG_A = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
         "rkJggg==")
PNG_B = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5E"
         "rkJggg==")
HOSTILE = ("<script>document.title='PWNED'</script><img src=x onerror=alert(1)>"
           "<a href='https://evil.example/x'>x</a>")


def _page(old: Any, new: Any, **kwargs: Any) -> str:
    import nbformat

    a = read_for_diff(nbformat.writes(old).encode())
    b = read_for_diff(nbformat.writes(new).encode())
    changes = diff_notebooks(a, b, outputs=True)
    return render_diff_page(changes, a, b, title="Version 1 → 2", old_label="version 1",
                            new_label="version 2", **kwargs)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _assert_inert(page: str) -> None:
    assert "<script" not in page.lower()
    assert remote_references(page, {"nbshelf"}) == []
    assert not re.search(r"(?:src|href)=\"(?:https?:|//|file:)", page, re.I)
    for tag, attrs in _tags(page):
        assert tag not in {"script", "iframe", "object", "embed", "form", "base"}
        assert not any(name.startswith("on") for name in attrs)


def test_hostile_source_is_escaped_and_the_page_is_inert() -> None:
    old = make_notebook(code=["x = 1"])
    new = make_notebook(code=["x = 1\n" + HOSTILE])
    page = _page(old, new)
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in page
    _assert_inert(page)
    standalone = _page(old, new, asset_base=None)
    _assert_inert(standalone)
    assert "nbs-diff-add" in standalone  # the stylesheet inlined


def test_added_and_removed_lines_are_marked_and_context_greyed() -> None:
    old = make_notebook(code=["a = 1\nb = 2\nc = 3"])
    new = make_notebook(code=["a = 1\nb = 20\nc = 3"])
    page = _page(old, new)
    assert ('<span class="nbs-diff-line nbs-diff-del"><span class="nbs-diff-mark">-</span>'
            "b = 2\n</span>") in page
    assert ('<span class="nbs-diff-line nbs-diff-add"><span class="nbs-diff-mark">+</span>'
            "b = 20\n</span>") in page
    assert ('<span class="nbs-diff-line nbs-diff-same"><span class="nbs-diff-mark"> </span>'
            "a = 1\n</span>") in page


def test_cells_are_numbered_from_one_as_the_diff_reports_them() -> None:
    old = make_notebook(title="T", code=["keep()", "gone()"])  # cells 1 (title), 2, 3
    new = make_notebook(title="T", code=["keep()"])
    new.cells.insert(0, v4.new_markdown_cell("Intro"))  # new cell 1
    page = _page(old, new)
    assert '<span class="nbs-diff-where">Cell 1</span>' in page
    assert "Intro" in page
    assert '<span class="nbs-diff-where">Cell 3 of version 1</span>' in page
    assert "nbs-diff-kind nbs-diff-removed" in page and "nbs-diff-kind nbs-diff-added" in page
    assert "2 cells changed" in page


def test_a_changed_picture_shows_old_and_new_side_by_side() -> None:
    def with_picture(b64: str) -> Any:
        nb = make_notebook(code=["plot()"])
        nb.cells[-1].outputs = [v4.new_output(
            "display_data", data={"image/png": b64, "text/plain": "<Figure>"})]
        return nb

    page = _page(with_picture(PNG_A), with_picture(PNG_B))
    images = [attrs["src"] for tag, attrs in _tags(page) if tag == "img"]
    assert images == [f"data:image/png;base64,{PNG_A}", f"data:image/png;base64,{PNG_B}"]
    assert "nbs-diff-pair" in page and "outputs" in page
    _assert_inert(page)


def test_pictures_that_are_not_base64_or_not_raster_are_never_embedded() -> None:
    def with_picture(data: dict[str, Any]) -> Any:
        nb = make_notebook(code=["plot()"])
        nb.cells[-1].outputs = [v4.new_output("display_data", data=data)]
        return nb

    page = _page(with_picture({"image/png": PNG_A}),
                 with_picture({"image/png": '"><script>x</script>',
                               "image/svg+xml": "<svg onload='x'></svg>"}))
    assert [tag for tag, _ in _tags(page) if tag == "img"] == ["img"]  # only the old one
    _assert_inert(page)


def test_no_change_says_so() -> None:
    nb = make_notebook()
    assert "No cell changed." in _page(nb, nb)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=4), st.lists(st.text(), min_size=1, max_size=4))
def test_any_source_stays_text(old_sources: list[str], new_sources: list[str]) -> None:
    old = make_notebook(code=old_sources)
    new = make_notebook(code=new_sources)
    page = _page(old, new)
    _assert_inert(page)
    for tag, _attrs in _tags(page):
        assert tag in {"html", "head", "meta", "title", "link", "body", "header", "h1", "p",
                       "main", "section", "h2", "span", "pre", "div", "h3"}


def test_the_page_from_a_library_version_pair(library_dir: Path, tmp_path: Path) -> None:
    import os

    share = tmp_path / "share"
    path = write_notebook(share / "n.ipynb", code=["print('old')"])
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
        write_notebook(path, code=["print('new')"])
        os.utime(path, ns=(1, 7_000_000_000_000_000_000))
        lib.sync()
        (notebook_id,) = lib.notebook_ids()
        changes = lib.diff(notebook_id, 1, 2, outputs=True)
        page = render_diff_page(changes, read_for_diff(lib.read_version(notebook_id, 1)),
                                read_for_diff(lib.read_version(notebook_id, 2)), title="1 → 2")
    assert "<span class=\"nbs-diff-mark\">+</span>print(&#x27;new&#x27;)" in page
    assert "<span class=\"nbs-diff-mark\">-</span>print(&#x27;old&#x27;)" in page
