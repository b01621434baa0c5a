"""Rendering notebooks to HTML: hostile content never survives, real content shows faithfully."""

from __future__ import annotations

import base64
import gc
import os
import re
import tracemalloc
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from nbformat import v4

from nbshelf.render import RenderHeader, render_notebook
from nbshelf.render.audit import remote_references
from nbshelf.render.outputs import WIDGET_TEXT

EVIL = "https://evil.example"
# A 1x1 transparent PNG.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
    "rkJggg=="
)

HOSTILE_HTML = f"""
<script>document.title = 'PWNED-script'</script>
<img src="x" onerror="document.title='PWNED-onerror'">
<img src="{EVIL}/tracker.png" alt="remote picture">
<iframe src="{EVIL}/frame">PWNED-iframe-fallback</iframe>
<object data="{EVIL}/x.swf">PWNED-object</object>
<embed src="{EVIL}/x.swf">
<form action="{EVIL}/post"><input name="q"><button>go</button></form>
<meta http-equiv="refresh" content="0;url={EVIL}/">
<base href="{EVIL}/">
<link rel="stylesheet" href="{EVIL}/style.css">
<a href="javascript:document.title='PWNED-link'">click me</a>
<a href="{EVIL}/phish">remote link</a>
<div style="background: url({EVIL}/bg.png); color: red">styled</div>
<style>@import url({EVIL}/import.css); body {{ background: url({EVIL}/b.png) }}</style>
<svg width="10" height="10"><script>document.title='PWNED-svg'</script>
  <circle r="5" onload="document.title='PWNED-onload'"/>
  <a xlink:href="javascript:alert(1)"><text>svg link</text></a>
  <image href="{EVIL}/svg-image.png" width="5" height="5"/>
  <foreignObject><iframe src="{EVIL}/fo"></iframe></foreignObject>
</svg>
<p onclick="document.title='PWNED-click'">kept text</p>
"""

HOSTILE_SVG = f"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="20" height="20">
  <script type="text/javascript">document.title='PWNED-svg-output'</script>
  <rect width="20" height="20" fill="url(#g)" onclick="alert(1)"/>
  <use xlink:href="{EVIL}/sprite.svg#icon"/>
  <image xlink:href="{EVIL}/pic.png" width="5" height="5"/>
  <style>@import url({EVIL}/svg.css);</style>
</svg>"""


def hostile_notebook() -> Any:
    """A notebook that tries every trick of the issue, in markdown and in outputs."""
    nb = v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells.append(v4.new_markdown_cell("# Innocent title\n\n" + HOSTILE_HTML))
    nb.cells.append(
        v4.new_markdown_cell(
            f"![remote]({EVIL}/md.png) [js](javascript:alert(1)) [web]({EVIL}/page)\n\n"
            "$\\href{javascript:alert(1)}{x} + \\text{<img src=x onerror=alert(1)>}$"
        )
    )
    code = v4.new_code_cell("show()", execution_count=1)
    code.outputs = [
        v4.new_output("display_data", data={"text/html": HOSTILE_HTML}),
        v4.new_output("display_data", data={"image/svg+xml": HOSTILE_SVG}),
        v4.new_output(
            "display_data",
            data={
                "application/javascript": "document.title = 'PWNED-js-output'",
                "text/plain": "<IPython.core.display.Javascript object>",
            },
        ),
        v4.new_output(
            "execute_result",
            data={"text/html": f'<img src="{EVIL}/out.png">', "text/plain": "x"},
            execution_count=1,
        ),
    ]
    nb.cells.append(code)
    return nb


class _Tags(HTMLParser):
    """Collects (tag, attrs) the way a browser parses the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def visible_text(page: str) -> str:
    """The page's text with tags removed (what a reader sees, roughly)."""
    return re.sub(r"<[^>]+>", "", page)


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


@pytest.fixture(scope="module")
def hostile_page() -> str:
    return render_notebook(hostile_notebook(), asset_base=None)


def test_nothing_in_a_hostile_notebook_would_load_or_run(hostile_page: str) -> None:
    assert remote_references(hostile_page) == []
    assert "evil.example" not in re.sub(r'title="[^"]*"', "", hostile_page)
    assert "PWNED" not in hostile_page
    tags = tags_of(hostile_page)
    names = {t for t, _ in tags}
    assert not names & {"script", "iframe", "object", "embed", "form", "base", "button"}
    # the only form control is our own report-view switch
    assert [a.get("id") for t, a in tags if t == "input"] == ["nbs-report"]
    assert [a for t, a in tags if t == "meta" and a.get("http-equiv") == "refresh"] == []
    assert not any(k.startswith("on") for _, attrs in tags for k in attrs)


def test_hostile_content_keeps_its_harmless_text(hostile_page: str) -> None:
    text = re.sub(r"<[^>]+>", " ", hostile_page)
    assert "Innocent title" in text
    assert "kept text" in text
    assert "click me" in text  # the link text stays, only the javascript: target goes
    assert "remote link" in text
    assert "[image not available: remote picture]" in text


def test_remote_links_become_inert_but_show_their_address(hostile_page: str) -> None:
    anchors = [a for t, a in tags_of(hostile_page) if t == "a"]
    assert all((a.get("href") or "#").startswith("#") for a in anchors)
    assert any(a.get("title") == f"{EVIL}/page" for a in anchors)


def test_css_keeps_safe_declarations_and_drops_loads(hostile_page: str) -> None:
    styled = [a["style"] for t, a in tags_of(hostile_page) if a.get("style")]
    assert any("color: red" in s for s in styled)
    assert not any("url" in s for s in styled)


def test_javascript_output_is_a_placeholder(hostile_page: str) -> None:
    assert "interactive output (JavaScript)" in hostile_page


def test_page_policy_forbids_scripts_and_outside_loads() -> None:
    page = render_notebook(v4.new_notebook(), asset_base="nbshelf://app/")
    csp = next(
        a["content"] or ""
        for t, a in tags_of(page)
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "script-src 'none'" in csp
    assert "default-src 'none'" in csp
    assert "img-src nbshelf: data:" in csp
    assert "http" not in csp
    links = [a["href"] for t, a in tags_of(page) if t == "link"]
    assert links and all((h or "").startswith("nbshelf://app/") for h in links)


def test_export_inlines_its_styles() -> None:
    page = render_notebook(v4.new_notebook(), asset_base=None)
    assert "<link" not in page
    assert ".nbs-cell" in page  # our stylesheet, inline
    assert ".highlight" in page  # pygments' colours, inline
    assert remote_references(page) == []


def test_relative_images_are_embedded_only_from_inside_the_notebook_folder(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "share" / "project"
    (folder / "img").mkdir(parents=True)
    png = base64.b64decode(PNG_B64)
    (folder / "img" / "chart one.png").write_bytes(png)
    (tmp_path / "share" / "secret.png").write_bytes(png)
    (folder / "link.png").symlink_to(tmp_path / "share" / "secret.png")
    (folder / "evil.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="4"/></svg>'
    )
    nb = v4.new_notebook()
    nb.cells.append(
        v4.new_markdown_cell(
            "![inside](img/chart%20one.png) ![outside](../secret.png) "
            "![link](link.png) ![abs](/etc/passwd) ![svg](evil.svg)"
        )
    )
    page = render_notebook(nb, base_dir=folder, asset_base=None)
    srcs = {a.get("alt"): a.get("src") for t, a in tags_of(page) if t == "img"}
    assert srcs["inside"] == f"data:image/png;base64,{PNG_B64}"
    assert set(srcs) == {"inside", "svg"}
    for refused in ("outside", "link", "abs"):
        assert f"[image not available: {refused}]" in page
    svg = base64.b64decode((srcs["svg"] or "").split(",", 1)[1]).decode()
    assert "<circle" in svg and "script" not in svg
    assert remote_references(page) == []


def test_markdown_tables_code_and_heading_anchors() -> None:
    nb = v4.new_notebook()
    nb.cells.append(
        v4.new_markdown_cell(
            "# Results\n\n| model | score |\n|---|---:|\n| ridge | 0.91 |\n\n"
            "```python\nimport pandas as pd\n```\n\n## Results\n\n<b>bold</b> ~~gone~~"
        )
    )
    page = render_notebook(nb, asset_base=None)
    tags = tags_of(page)
    assert ("th", {}) in tags or any(t == "th" for t, _ in tags)
    assert "<td>ridge</td>" in page
    assert re.search(r'<span class="kn">import</span>', page)
    ids = [a["id"] for t, a in tags if t in {"h1", "h2"} and a.get("id")]
    assert ids == ["Results", "Results-1"]  # unique across the notebook
    assert '<a href="#Results-1">Results</a>' in page  # the outline jumps to it
    assert "<b>bold</b>" in page and "<s>gone</s>" in page


def test_math_is_typeset_as_mathml_with_the_notebooks_macros() -> None:
    nb = v4.new_notebook()
    nb.cells.append(v4.new_markdown_cell(r"$\newcommand{\R}{\mathbb{R}}$ Euler: $e^{i\pi}+1=0$"))
    nb.cells.append(
        v4.new_markdown_cell(
            "$$\\sum_{k=1}^n k = \\frac{n(n+1)}{2}$$\n\n"
            "\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}\n\n$x \\in \\R$"
        )
    )
    page = render_notebook(nb, asset_base=None)
    assert page.count("<math") == 5
    assert '<math display="block">' in page
    assert "<mfrac>" in page and "<mtable" in page
    assert "ℝ" in page  # \R defined in an earlier cell, as MathJax allows
    assert "$" not in re.sub(r"<[^>]+>", "", page.split("<main", 1)[1])


def test_code_outputs_show_as_jupyter_shows_them() -> None:
    nb = v4.new_notebook()
    cell = v4.new_code_cell("plot()", execution_count=7)
    cell.outputs = [
        v4.new_output("stream", name="stdout", text="epoch 1\repoch 2\repoch 3\ndone\n"),
        v4.new_output("stream", name="stderr", text="careful\n"),
        v4.new_output(
            "display_data", data={"image/png": PNG_B64}, metadata={"image/png": {"width": 300}}
        ),
        v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=7),
        v4.new_output("display_data", data={"text/latex": "$$\\alpha^2$$"}),
        v4.new_output("display_data", data={"application/json": {"a": [1, 2]}}),
        v4.new_output("display_data", data={"text/markdown": "**bold** text"}),
        v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
                "text/plain": "IntSlider(value=0)",
            },
        ),
    ]
    nb.cells.append(cell)
    page = render_notebook(nb, asset_base=None)
    assert "In [7]:" in page and "Out[7]:" in page
    assert "epoch 3\ndone" in page and "epoch 1" not in page  # \r redraws the line
    assert '<div class="nbs-output nbs-stream nbs-stderr">' in page
    assert f'<img src="data:image/png;base64,{PNG_B64}" width="300"' in page
    assert "<pre>42</pre>" in page
    assert "<msup>" in page  # text/latex typeset
    assert "&quot;a&quot;" in page or '"a"' in page
    assert "<strong>bold</strong>" in page
    assert WIDGET_TEXT in page and "run the notebook" not in page  # a run cannot show it


def test_widget_and_plotly_outputs_show_their_saved_picture_or_html() -> None:
    nb = v4.new_notebook()
    cell = v4.new_code_cell("fig.show(); slider")
    cell.outputs = [
        v4.new_output("display_data", data={
            "application/vnd.plotly.v1+json": {"data": [], "layout": {}},
            "text/html": "<div id='p'></div><script>Plotly.newPlot('p')</script>",
            "image/png": PNG_B64,
        }),
        v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2},
            "text/html": "<table><tr><td>static slider: 5</td></tr></table>",
            "text/plain": "IntSlider(value=5)",
        }),
        v4.new_output("display_data", data={
            "application/vnd.plotly.v1+json": {"data": []}, "text/plain": "Figure()"}),
    ]
    nb.cells.append(cell)
    page = render_notebook(nb, asset_base=None)
    assert f'<img src="data:image/png;base64,{PNG_B64}"' in page
    assert "static slider: 5" in page and WIDGET_TEXT not in page
    assert "interactive output (application/vnd.plotly.v1+json)" in page
    assert "no picture of it was saved" in page and "run the notebook" not in page


def test_error_tracebacks_keep_their_ansi_colours() -> None:
    nb = v4.new_notebook()
    cell = v4.new_code_cell("1/0")
    cell.outputs = [
        v4.new_output(
            "error",
            ename="ZeroDivisionError",
            evalue="division by zero",
            traceback=["\x1b[0;31mZeroDivisionError\x1b[0m: division by <zero>"],
        )
    ]
    nb.cells.append(cell)
    page = render_notebook(nb, asset_base=None)
    assert '<span class="ansi-red-fg">ZeroDivisionError</span>' in page
    assert "division by &lt;zero&gt;" in page
    assert "\x1b" not in page


def test_raw_cells_are_preformatted() -> None:
    nb = v4.new_notebook()
    nb.cells.append(v4.new_raw_cell("<b>not html</b>\n  indented"))
    page = render_notebook(nb, asset_base=None)
    assert "<pre>&lt;b&gt;not html&lt;/b&gt;\n  indented</pre>" in page


def test_markdown_attachments_are_embedded() -> None:
    nb = v4.new_notebook()
    cell = v4.new_markdown_cell("![chart](attachment:chart.png)")
    cell.attachments = {"chart.png": {"image/png": PNG_B64}}
    nb.cells.append(cell)
    page = render_notebook(nb, asset_base=None)
    assert f'src="data:image/png;base64,{PNG_B64}"' in page


@pytest.mark.parametrize("svg", [
    base64.b64encode(b"not an svg at all").decode(),  # base64, as the format stores it
    "<p>not svg</p>",                                 # text that is no SVG
], ids=["unreadable-base64", "not-svg-text"])
def test_an_unreadable_svg_attachment_falls_back_to_its_png(svg: str) -> None:
    nb = v4.new_notebook()
    cell = v4.new_markdown_cell("![chart](attachment:chart)")
    cell.attachments = {"chart": {"image/svg+xml": svg, "image/png": PNG_B64}}
    nb.cells.append(cell)
    page = render_notebook(nb, asset_base=None)
    assert f'src="data:image/png;base64,{PNG_B64}"' in page
    assert "image not available" not in page


def test_a_base64_svg_attachment_is_shown_as_svg() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">'
           '<rect width="4" height="4"/></svg>')
    nb = v4.new_notebook()
    cell = v4.new_markdown_cell("![chart](attachment:chart)")
    cell.attachments = {"chart": {"image/svg+xml": base64.b64encode(svg.encode()).decode(),
                                  "image/png": PNG_B64}}
    nb.cells.append(cell)
    page = render_notebook(nb, asset_base=None)
    assert 'src="data:image/svg+xml;base64,' in page


def test_a_v3_notebook_renders() -> None:
    nb = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "heading", "level": 2, "source": ["Old ", "style"]},
                    {
                        "cell_type": "code",
                        "language": "python",
                        "input": ["x = 1\n", "x"],
                        "prompt_number": 3,
                        "outputs": [
                            {"output_type": "pyout", "prompt_number": 3, "text": ["1"]},
                            {"output_type": "display_data", "png": PNG_B64},
                            {"output_type": "stream", "stream": "stdout", "text": "hi\n"},
                            {"output_type": "pyerr", "ename": "E", "evalue": "v", "traceback": []},
                        ],
                    },
                ]
            }
        ],
    }
    page = render_notebook(nb, asset_base=None)
    assert '<h2 id="Old-style">Old style' in page
    assert "In [3]:" in page and "Out[3]:" in page
    assert "<pre>1</pre>" in page
    assert PNG_B64 in page
    assert "E: v" in page


def test_cells_with_missing_or_odd_fields_do_not_cost_the_page() -> None:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": None,
        "cells": [
            {"cell_type": "code"},
            {"cell_type": "markdown"},
            {},
            "not a cell",
            {"cell_type": "code", "source": 42, "outputs": [{"output_type": "mystery"}, "x"]},
            {"cell_type": "code", "source": "ok()", "execution_count": "seven", "outputs": None},
            {"cell_type": "markdown", "source": ["# Still ", "here"]},
            {
                "cell_type": "code",
                "outputs": [{"output_type": "display_data", "data": {"image/png": "!!"}}],
            },
        ],
    }
    page = render_notebook(nb, asset_base=None)
    assert '<h1 id="Still-here">' in page
    assert "ok()" in visible_text(page)
    assert "this output could not be shown (image/png)" in page
    assert "output of an unknown kind (mystery)" in page
    assert "cell of an unknown kind" in page


def test_not_even_a_notebook_renders_a_page() -> None:
    page = render_notebook({"cells": "nope"}, asset_base=None)
    assert "this notebook has no cells to show" in page


def test_header_marking_and_report_view() -> None:
    nb = v4.new_notebook()
    nb.cells.append(v4.new_code_cell("secret_code()"))
    header = RenderHeader(
        title="Quarterly <report>",
        source="Team share",
        path="finance/q3.ipynb",
        kernel="Python 3",
        modified="2026-11-01 09:30",
        size=2_500_000,
        marking="INTERNAL",
    )
    page = render_notebook(nb, header=header, report_view=True, asset_base=None)
    assert "<title>Quarterly &lt;report&gt;</title>" in page
    assert page.count('<div class="nbs-marking">INTERNAL</div>') == 2  # top and bottom
    # sizes in powers of 1000, as the app writes them (nbshelf.units.size)
    for shown in ("Team share", "finance/q3.ipynb", "2026-11-01 09:30", "2.5 MB"):
        assert shown in page
    toggle = next(a for t, a in tags_of(page) if t == "input")
    assert "checked" in toggle


def test_notebook_content_cannot_fake_our_banner_or_switch() -> None:
    nb = v4.new_notebook()
    nb.cells.append(
        v4.new_markdown_cell(
            '<div class="nbs-marking">TOP SECRET</div><span id="nbs-report">x</span>\n\n'
            "# nbs-report"
        )
    )
    page = render_notebook(nb, asset_base=None)
    assert '<div class="nbs-marking">' not in page
    assert page.count('id="nbs-report"') == 1  # only our own report switch


def test_rendering_notebooks_one_after_another_keeps_nothing_of_them(tmp_path: Path) -> None:
    """The app renders each notebook a user opens, hundreds in a day. What a render holds
    (its markdown parser, its embedded pictures) must go once its page is made. nh3's
    Cleaner kept the sanitizer's filter out of the garbage collector's sight, which kept
    every render alive: 20 renders of a notebook with a 300 kB picture held 8 MB."""
    (tmp_path / "chart.png").write_bytes(os.urandom(300_000))
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Sales\n\n![chart](chart.png)")])
    assert "data:image/png;base64," in render_notebook(nb, base_dir=tmp_path)  # embedded
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            render_notebook(nb, base_dir=tmp_path)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 2_000_000, f"{grown:,} bytes kept by 20 renders"
