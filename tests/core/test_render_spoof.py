"""Notebook content cannot paint over the page's marking banners (issue 13, finding 4).

A markdown cell once covered a TOP SECRET banner with a fake "UNCLASSIFIED" strip, using no
``position`` at all: negative margins pulled it up, ``opacity`` below 1 made it a stacking
context painted above the banner. Two walls now: the sanitizer drops every declaration that
lets content leave its box, and the page keeps the notebook in a clipped, isolated container
with the banners outside it (the app draws its banners outside the web view altogether).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbformat import v4

import nbshelf.render.page as render_page
from nbshelf.render import APP_ASSET_BASE, RenderHeader, render_notebook
from nbshelf.render.assets import css_text
from nbshelf.render.sanitize import Sanitizer, clean_style

SPOOF = (
    '<div style="margin-top:-170px; margin-left:-400px; width:2000px; opacity:0.99; '
    'background:#2e7d32">UNCLASSIFIED // PUBLIC RELEASE</div>'
)
NEGATIVE_MARGINS = [
    "margin:-5px",
    "margin: 0 0 -170px 0",
    "margin-top:-1em",
    "margin-left: calc(0px - 400px)",
    "margin-right: calc(-1 * 400px)",
    "margin-bottom: -.5in",
    "MARGIN-TOP: -5PX",
    "margin: 0 auto -2% auto",
    "margin-top: -webkit-calc(0px - 9px)",
]
ESCAPES = [
    "opacity: 0.99",
    "opacity:.5",
    "opacity: 99%",
    "transform: translateY(-200px)",
    "z-index: 2147483647",
    "mix-blend-mode: multiply",
    "filter: drop-shadow(0 -200px 0 #2e7d32)",
    "backdrop-filter: blur(2px)",
    "clip-path: inset(0)",
    "mask: linear-gradient(#000, transparent)",
    "mask-image: linear-gradient(#000, transparent)",
    "-webkit-mask-image: linear-gradient(#000, transparent)",
    "position: absolute",
    "position: fixed",
    "top: -100px",
    "left: 0",
    "right: 0",
    "bottom: 0",
    "inset: 0",
    "translate: 0 -200px",
    "rotate: 180deg",
    "scale: 40",
    "box-shadow: 0 -200px 0 200px #2e7d32",
    "text-shadow: 0 -200px #2e7d32",
    "outline: 400px solid #2e7d32",
    "text-indent: -9999px",
    "letter-spacing: -40px",
    "overflow: visible",  # lets an inline <svg> paint outside its box
    "overflow-y: visible",
    "margin-top: var(--x)",
    "will-change: transform",
    "contain: none",
    "zoom: 40",
]
BENIGN = [
    ("color: red", "color: red"),
    ("margin-top:10px", "margin-top: 10px"),
    ("margin: 0 auto", "margin: 0 auto"),
    ("margin: 1em 0 2.5em", "margin: 1em 0 2.5em"),
    ("margin-left: 5%", "margin-left: 5%"),
    ("margin-bottom: 0", "margin-bottom: 0"),
    ("padding: 4px 8px", "padding: 4px 8px"),
    ("background: #2e7d32", "background: #2e7d32"),
    ("text-align: center", "text-align: center"),
    ("font-size: 1.2em", "font-size: 1.2em"),
    ("width: 2000px", "width: 2000px"),
    ("text-indent: 2em", "text-indent: 2em"),
    ("letter-spacing: 0.1em", "letter-spacing: 0.1em"),
    ("overflow: auto", "overflow: auto"),
    ("overflow-x: hidden", "overflow-x: hidden"),
    ("float: right", "float: right"),
]


@pytest.mark.parametrize("declaration", NEGATIVE_MARGINS)
def test_negative_margins_in_every_spelling_are_dropped(declaration: str) -> None:
    assert clean_style(declaration) is None
    assert clean_style(f"color: red; {declaration}") == "color: red"


@pytest.mark.parametrize("declaration", ESCAPES)
def test_declarations_that_let_content_leave_its_box_are_dropped(declaration: str) -> None:
    assert clean_style(declaration) is None
    assert clean_style(f"{declaration}; color: red") == "color: red"


@pytest.mark.parametrize(("declaration", "kept"), BENIGN)
def test_benign_declarations_are_kept(declaration: str, kept: str) -> None:
    assert clean_style(declaration) == kept


def test_the_reported_spoof_keeps_only_its_size_and_colour() -> None:
    cleaned = Sanitizer(lambda _src: None).clean(SPOOF)
    assert cleaned == (
        '<div style="width: 2000px; background: #2e7d32">UNCLASSIFIED // PUBLIC RELEASE</div>'
    )


def test_an_inline_svg_cannot_be_moved_or_made_a_layer_of_its_own() -> None:
    cleaned = Sanitizer(lambda _src: None).clean(
        '<svg transform="translate(0,-300)" opacity="0.99" style="overflow:visible">'
        '<rect y="-300" width="10" height="10" transform="rotate(45)"/></svg>'
        '<math><mpadded voffset="300px"><mtext>UNCLASSIFIED</mtext></mpadded></math>'
    )
    svg = re.search(r"<svg[^>]*>", cleaned)
    assert svg is not None
    assert svg.group(0) == "<svg>"
    assert 'transform="rotate(45)"' in cleaned  # inside the picture, drawing stays drawing
    assert "voffset" not in cleaned


_DECLARATIONS = st.lists(
    st.tuples(
        st.sampled_from(["margin", "margin-top", "margin-left", "opacity", "color", "transform",
                         "text-indent", "overflow", "width", "letter-spacing", "z-index"]),
        st.text(alphabet="-+0123456789.pxem%() calcautovisible*", max_size=24),
    ),
    max_size=6,
)


@given(_DECLARATIONS)
def test_whatever_the_style_no_kept_declaration_pulls_content_out(
    declarations: list[tuple[str, str]],
) -> None:
    style = "; ".join(f"{prop}: {value}" for prop, value in declarations)
    cleaned = clean_style(style)
    if cleaned is None:
        return
    for kept in cleaned.split(";"):
        prop, _, value = kept.partition(":")
        prop = prop.strip()
        assert prop not in {"opacity", "transform", "z-index"}
        if prop.startswith("margin") or prop in {"text-indent", "letter-spacing"}:
            assert "-" not in value
        if prop.startswith("overflow"):
            assert "visible" not in value
    assert clean_style(cleaned) == cleaned


class _Tree(HTMLParser):
    """Records, for each element, its tag, classes and its ancestors' classes."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.elements: list[tuple[str, set[str], list[set[str]], dict[str, str]]] = []
        self.text: dict[int, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        classes = set(attributes.get("class", "").split())
        self.elements.append((tag, classes, [c for _, c in self.stack], attributes))
        if tag not in self.VOID:
            self.stack.append((tag, classes))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def _parse(page: str) -> _Tree:
    tree = _Tree()
    tree.feed(page)
    return tree


def _spoofed_notebook() -> dict[str, object]:
    nb = v4.new_notebook()
    nb.cells.append(v4.new_markdown_cell("# Figures"))
    nb.cells.append(v4.new_markdown_cell(SPOOF))
    nb.cells.append(v4.new_markdown_cell('<meta name="nbshelf-marking" content="UNCLASSIFIED">'))
    nb.cells.append(v4.new_code_cell("print(1)"))
    return nb


def test_an_exported_page_keeps_its_banners_outside_the_notebooks_walled_body() -> None:
    page = render_notebook(
        _spoofed_notebook(), header=RenderHeader(marking="TOP SECRET"), asset_base=None
    )
    tree = _parse(page)
    banners = [e for e in tree.elements if "nbs-marking" in e[1]]
    assert len(banners) == 2
    for _tag, _classes, ancestors, _attrs in banners:
        assert not any("nbs-body" in c for c in ancestors)
    bodies = [e for e in tree.elements if "nbs-body" in e[1]]
    assert len(bodies) == 1
    cells = [e for e in tree.elements if "nbs-cell" in e[1]]
    assert len(cells) == 4
    assert all(any("nbs-body" in c for c in ancestors) for _t, _c, ancestors, _a in cells)
    # The first banner is the first thing in the page, the second the last.
    body_start = page.index("<body")
    assert page.index('class="nbs-marking"', body_start) < page.index("nbs-body", body_start)
    assert page.rindex('class="nbs-marking"') > page.rindex("</main>")


def _rule(css: str, selector: str) -> str:
    found = re.search(r"(?:^|\})\s*" + re.escape(selector) + r"\s*\{([^}]*)\}", css, re.M)
    assert found is not None, f"no rule for {selector}"
    return found.group(1)


def test_the_stylesheet_walls_the_body_in() -> None:
    body = _rule(css_text("render/nbshelf.css"), "main.nbs-body")
    assert re.search(r"overflow:\s*(clip|hidden)", body)
    assert re.search(r"isolation:\s*isolate", body)
    assert re.search(r"contain:\s*paint", body)
    assert re.search(r"position:\s*relative", body)
    # Wide prose scrolls on its own, so the wall never cuts what a reader needs.
    table = _rule(css_text("render/nbshelf.css"), ".nbs-markdown table")
    assert re.search(r"overflow-x:\s*auto", table) and re.search(r"max-width:\s*100%", table)


def test_in_the_app_the_page_names_its_marking_for_the_viewer_to_draw() -> None:
    page = render_notebook(
        _spoofed_notebook(), header=RenderHeader(marking="TOP SECRET"), asset_base=APP_ASSET_BASE
    )
    # The viewer draws the banners as widgets outside the web view; none in the page itself.
    assert 'class="nbs-marking"' not in page
    assert render_page.page_marking(page) == "TOP SECRET"
    assert page.count('name="nbshelf-marking"') == 1  # the notebook's own meta was dropped


def test_a_page_without_a_marking_names_none_whatever_its_content_says() -> None:
    page = render_notebook(_spoofed_notebook(), asset_base=APP_ASSET_BASE)
    assert render_page.page_marking(page) == ""
    assert render_page.page_marking("<html><body>not ours</body></html>") == ""


def test_a_marking_is_escaped_where_the_page_names_it() -> None:
    marking = 'SECRET//REL TO "A" & <B>'
    page = render_notebook(
        v4.new_notebook(), header=RenderHeader(marking=marking), asset_base=APP_ASSET_BASE
    )
    assert render_page.page_marking(page) == marking
    assert "<B>" not in page
