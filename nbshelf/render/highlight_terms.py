"""Marking a search's words in a rendered page: ``<mark>`` around them, in text only.

Runs on a page :mod:`nbshelf.render` made, after the sanitizer: this is trusted code adding
trusted markup. It reads the page with the standard library's HTML tokenizer and changes
nothing but runs of text inside the cells (``<main class="nbs-cells">``): a mark is never
put inside a tag, an attribute, an entity, a picture (SVG) or a formula (MathML), and the
text it wraps is the page's own, already escaped. The viewer runs no script, so each mark
has an id (``nbs-hit-N``, from 1): the app steps from match to match by jumping to it, and
the page's stylesheet shows the one jumped to (``:target``). Notebook content cannot
borrow those ids: the sanitizer drops every ``nbs-`` id a notebook brings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

Spans = list[tuple[int, int]]

#: The id of the N-th mark (from 1).
HIT_ID = "nbs-hit-{}"
#: Elements whose text is not read as text: pictures, formulas, and what a page never
#: shows (its head, styles).
_SKIPPED = frozenset({"svg", "math", "script", "style", "title", "head", "textarea"})
_CELL_ID = re.compile(r"nbs-cell-(\d+)$")
#: The marks' look: a soft yellow; the one jumped to, orange and outlined. Dark text on
#: them whatever the page's colours. Scrolled to a third of the view, not its edge.
HIT_STYLE = (
    "<style>mark.nbs-hit{background:#ffe27a;color:#111;border-radius:2px;padding:0 1px;"
    "scroll-margin-top:30vh}mark.nbs-hit:target{background:#ff9d3b;"
    "box-shadow:0 0 0 2px #e06c00}</style>"
)


@dataclass
class MarkedPage:
    """A page with its matches marked.

    Attributes:
        page: the document.
        count: how many marks it holds (0: none, the page is unchanged).
        cells: the cell (0-based) of each mark, in order: mark N is in ``cells[N - 1]``.
    """

    page: str
    count: int = 0
    cells: list[int] = field(default_factory=list)

    def first_in(self, cell: int | None) -> int:
        """The first mark (from 1) in ``cell`` or after it; 1 when there is none after, or
        ``cell`` is None; 0 when the page has no marks."""
        if not self.count:
            return 0
        if cell is not None:
            for number, at in enumerate(self.cells, 1):
                if at >= cell:
                    return number
        return 1


class _Tokens(HTMLParser):
    """Where the page's text is: ``(start, end, cell)`` of each run of text to mark."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # entities stay out of the text runs
        self.runs: list[tuple[int, int, int]] = []
        self._lines: list[int] = []
        self._in_cells = False
        self._skipped = 0
        self._cell = -1

    def read(self, page: str) -> list[tuple[int, int, int]]:
        self._lines = [0] + [m.end() for m in re.finditer("\n", page)]
        self.feed(page)
        self.close()
        return self.runs

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main" and "nbs-cells" in (dict(attrs).get("class") or "").split():
            self._in_cells = True
        elif tag in _SKIPPED:
            self._skipped += 1
        elif tag == "section":
            found = _CELL_ID.match(dict(attrs).get("id") or "")
            if found:
                self._cell = int(found.group(1))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._in_cells = False
        elif tag in _SKIPPED and self._skipped:
            self._skipped -= 1

    def handle_data(self, data: str) -> None:
        if self._in_cells and not self._skipped and data.strip():
            start = self._offset()
            self.runs.append((start, start + len(data), self._cell))


def mark_terms(page: str, spans: Callable[[str], Spans], *, limit: int = 2000) -> MarkedPage:
    """``page`` with each span ``spans`` finds in its cells' text wrapped in a mark.

    Args:
        page: a document made by ``nbshelf.render`` (sanitized).
        spans: where the words to mark are in a run of text (``nbshelf.search.marks``).
        limit: the most marks: past it the rest of the page stays as it is (a word on
            every line of a 10,000-line output helps no one, and costs).
    """
    pieces: list[str] = []
    cells: list[int] = []
    done = 0
    for start, end, cell in _Tokens().read(page):
        if len(cells) >= limit:
            break
        text = page[start:end]
        for a, b in spans(text):
            if len(cells) >= limit:
                break
            pieces += [page[done : start + a], f'<mark class="nbs-hit" id="'
                       f'{HIT_ID.format(len(cells) + 1)}">', text[a:b], "</mark>"]
            done = start + b
            cells.append(cell)
    if not cells:
        return MarkedPage(page)
    pieces.append(page[done:])
    marked = "".join(pieces)
    head = marked.find("</head>")
    if head >= 0:
        marked = marked[:head] + HIT_STYLE + marked[head:]
    return MarkedPage(marked, len(cells), cells)
