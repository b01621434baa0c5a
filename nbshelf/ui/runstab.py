"""The pane's Runs tab: a notebook's run as it goes, its past runs, and a run's record.

Each notebook has its own live run: run notebook A, pick notebook B, and B's tab shows B's
(or nothing); back on A, A's run is there, still growing if it runs. The output is rendered
off the GUI thread by the viewer's own renderer (``nbshelf.ui.liverun``) and added to the
page in place, in the viewer's isolated script world: the page itself runs no script.

Above the output, the tab's header says what is shown: the run going on (kernel, since when,
a Stop button), or the run record opened from the list (when it ran, kernel, status, how long
it took, its parameters), never the notebook's own facts.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nbshelf.ui import fmt

if TYPE_CHECKING:
    from nbshelf.run.runbook import RunInfo
    from nbshelf.ui.viewer import NotebookViewer

MUTED = "color: palette(placeholder-text);"
TITLE_STYLE = "font-size: 11pt; font-weight: 600;"
NOTE = ("Run the notebook (Ctrl+R) to see its output here as it runs, or open one of its "
        "runs below (double-click or Enter) to read its record.")
#: How often the live page takes in new output at most (ms): a busy cell costs few updates.
FLUSH_MS = 120
#: Live runs kept for notebooks not on screen (the newest; a running one is always kept).
KEEP_LIVE = 6

_STATUS_WORDS = {
    "ok": "finished without error", "error": "failed", "timeout": "timed out",
    "cancelled": "stopped by the user", "killed": "ended when nbshelf was closed",
    "running": "still running",
}

# Upserts one cell's section into the live page, in the viewer's isolated world (the page's
# own scripts are off). It follows the end of the page while the reader is there (or has not
# scrolled since it last followed), again once a new picture is decoded and has its height.
_UPSERT = """(function(waitId, id, markup){
var main = document.querySelector('main.nbs-cells'); if (!main) { return false; }
var root = document.scrollingElement || document.documentElement;
var follow = root.scrollTop + window.innerHeight >= root.scrollHeight - 48
  || root.scrollTop === window.nbsFollowedTo;
var t = document.createElement('template'); t.innerHTML = markup;
var node = t.content.firstElementChild; if (!node) { return false; }
var old = document.getElementById(id);
if (old) { old.replaceWith(node); } else {
  var wait = document.getElementById(waitId); if (wait) { wait.remove(); }
  main.appendChild(node); }
function toEnd() { if (follow) { root.scrollTop = root.scrollHeight;
  window.nbsFollowedTo = root.scrollTop; } }
toEnd();
node.querySelectorAll('img').forEach(function(img) {
  if (img.decode) { img.decode().then(toEnd, function() {}); } });
return true; })(%s, %s, %s);"""


class Banner(Protocol):
    """A marking strip drawn outside the page (``nbshelf.ui.pane.MarkingBanner``)."""

    def set_marking(self, marking: str) -> None:
        """Show ``marking``; hide the strip when it is empty."""


@dataclass
class LiveRun:
    """One notebook's run as the tab shows it, while it runs and after."""

    notebook_id: int
    kernel: str
    marking: str = ""
    started: float = field(default_factory=time.time)
    sections: dict[int, str] = field(default_factory=dict)  # record index → HTML
    running: bool = True
    outcome: str = ""  # how it ended, in a sentence
    failed: bool = False


def duration(seconds: float | None) -> str:
    """``0.8 s``, ``12 s``, ``3 min 5 s``, ``1 h 2 min``."""
    if seconds is None or seconds < 0:
        return "unknown"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def outcome_text(result: Any, error: str) -> tuple[str, bool]:
    """How a run ended, in a sentence (cells from 1), and whether it went wrong."""
    if result is None:
        return f"The run could not go on: {error}", True
    if result.status == "ok":
        return f"Finished: {fmt.count(result.cells_run, 'cell')} ran without error.", False
    where = f" at cell {result.failed_cell + 1}" if result.failed_cell is not None else ""
    status = _STATUS_WORDS.get(result.status, result.status)
    return f"Stopped{where}: {status}. {result.error or ''}".strip(), True


def record_status(run: RunInfo) -> str:
    """``failed at cell 6``: how a recorded run ended (cells from 1)."""
    status = _STATUS_WORDS.get(run.status, run.status)
    if run.failed_cell is not None:
        status += f" at cell {run.failed_cell + 1}"
    return status


def record_facts(run: RunInfo) -> list[tuple[str, str]]:
    """What a run record's header says under its title (which has its status): when it ran,
    kernel, duration, cells, parameters, and which version of the notebook it ran."""
    took = duration(run.ended - run.started) if run.ended is not None else "still running"
    parameters = ", ".join(f"{name} = {json.dumps(value, ensure_ascii=False)}"
                           for name, value in run.parameters.items())
    return [
        ("Ran", fmt.when(run.started)),
        ("Kernel", run.kernel),
        ("Took", took),
        ("Cells", str(run.cells_run)),
        ("Parameters", parameters or "the notebook's defaults"),
        ("Version", "the current one" if run.current_version else "an older one"),
    ]


def _facts_html(facts: list[tuple[str, str]]) -> str:
    return " &nbsp;·&nbsp; ".join(
        f"<span style='font-weight:600'>{html.escape(k)}</span> {html.escape(v)}"
        for k, v in facts)


class RunsTab(QWidget):
    """A notebook's runs: its header, its output (live or a record), the list of its runs.

    Args:
        table: the list of runs (its model holds ``RunInfo`` records).
        top_banner, bottom_banner: the marking strips drawn around the page.

    Signals:
        stop_requested(): the user pressed Stop.
        open_requested(object): the user opened a run of the list (its ``RunInfo``).
    """

    stop_requested = Signal()
    open_requested = Signal(object)

    def __init__(self, table: QTableView, top_banner: Banner, bottom_banner: Banner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self._banners = (top_banner, bottom_banner)
        self.viewer: NotebookViewer | None = None
        self.live: dict[int, LiveRun] = {}
        self.notebook_id: int | None = None
        self.mode = "none"  # none, live, record
        self.record: RunInfo | None = None
        self._page_ready = False
        self._dirty: dict[int, None] = {}  # sections to push into the live page
        self._marking: str | None = None  # the marking of the page loading
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._clock = QTimer(self)  # the live header's "for 12 s"
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._show_header)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QWidget()
        bar.setObjectName("runHeader")
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(12, 8, 12, 8)
        words = QVBoxLayout()
        words.setSpacing(2)
        self.title = QLabel()
        self.title.setObjectName("runTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setObjectName("runFacts")
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        words.addWidget(self.title)
        words.addWidget(self.facts)
        bar_layout.addLayout(words, 1)
        self.live_button = QPushButton("Show Live Output")
        self.live_button.setToolTip("Back to the output of the run going on")
        self.live_button.clicked.connect(self.show_live)
        self.stop_button = QPushButton("Stop Run")
        self.stop_button.setToolTip("Stop the run: the cell running is interrupted and the "
                                    "record keeps what ran (Esc or Ctrl+R also stop it)")
        self.stop_button.setStyleSheet("QPushButton { color: #a40e26; font-weight: 600; }")
        self.stop_button.clicked.connect(self.stop_requested)
        for button in (self.live_button, self.stop_button):
            button.hide()
            bar_layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(bar)

        self.output = QStackedWidget()
        self.note = QLabel(NOTE)
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet(MUTED + " padding: 24px;")
        self.output.addWidget(self.note)
        self._page_box = QWidget()
        page_layout = QVBoxLayout(self._page_box)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.setSpacing(0)
        for banner in self._banners:
            assert isinstance(banner, QWidget)
            page_layout.addWidget(banner)
        self.output.addWidget(self._page_box)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.output)
        splitter.addWidget(table)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([480, 120])  # the output first; a few runs stay in view below
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)
        table.setToolTip("Double-click a run, or press Enter, to read its record (the "
                         "executed copy) above")
        table.activated.connect(self._activated)
        self.show_for(None)

    # -- what the pane asks --------------------------------------------------------------------

    def show_for(self, notebook_id: int | None) -> None:
        """Show what the tab has for this notebook: its live run, else the hint."""
        self.notebook_id = notebook_id
        self.record = None
        if notebook_id is not None and notebook_id in self.live:
            self.show_live()
        else:
            self._show_note()

    def run_started(self, notebook_id: int, kernel: str, marking: str = "") -> None:
        """A run of this notebook began (its earlier live run, if any, is replaced)."""
        self.live.pop(notebook_id, None)
        self.live[notebook_id] = LiveRun(notebook_id, kernel, marking)
        self._forget_old()
        if notebook_id == self.notebook_id:
            self.show_live()

    def run_output(self, notebook_id: int, key: int, section: str) -> None:
        """One cell's section of the run of ``notebook_id``, new or changed."""
        live = self.live.get(notebook_id)
        if live is None:
            return
        live.sections[key] = section
        if self.mode == "live" and notebook_id == self.notebook_id:
            self._dirty[key] = None
            if self._page_ready and not self._flush_timer.isActive():
                self._flush_timer.start()

    def run_finished(self, notebook_id: int, result: Any, error: str) -> None:
        """The run ended: its header says how; its output stays until the next run."""
        live = self.live.get(notebook_id)
        if live is None:  # it ended before it began (a refused kernel, a bad parameter)
            live = self.live[notebook_id] = LiveRun(notebook_id, "", "")
        live.running = False
        live.outcome, live.failed = outcome_text(result, error)
        if notebook_id == self.notebook_id and self.mode == "none":
            self.show_live()  # it ended before its first cell: say how, in the page too
        self._show_header()

    def show_record(self, run: RunInfo, page: str) -> None:
        """Show a run's record (its executed copy) under a header of its own facts."""
        self.mode = "record"
        self.record = run
        self._load(page)
        self._show_header()

    def show_live(self) -> None:
        """Show the live run of the notebook shown, opened at its latest cell."""
        live = self._live_shown()
        if live is None:
            self._show_note()
            return
        from nbshelf.ui.liverun import live_page

        self.mode = "live"
        self.record = None
        self._dirty.clear()
        waiting = "Starting the kernel…" if live.running else live.outcome
        last = next(reversed(live.sections), None)  # open at the cell running (or last)
        self._load(live_page(list(live.sections.values()), title=f"Run in {live.kernel}",
                             marking=live.marking, waiting=waiting), last)
        self._show_header()

    def page_text(self) -> str:
        """The live run's sections, as HTML (what the page holds once it took them in)."""
        live = self._live_shown()
        return "".join(live.sections.values()) if live is not None else ""

    # -- internals -----------------------------------------------------------------------------

    def _show_note(self) -> None:
        self.mode = "none"
        self._marking = None
        self.output.setCurrentWidget(self.note)
        for banner in self._banners:
            banner.set_marking("")
        self._show_header()

    def _ensure_viewer(self) -> NotebookViewer:
        if self.viewer is None:
            from nbshelf.ui.viewer import NotebookViewer

            self.viewer = NotebookViewer()
            self.viewer.page_ready.connect(self._on_page_ready)
            layout = self._page_box.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(1, self.viewer, 1)
        return self.viewer

    def _load(self, page: str, cell: int | None = None) -> None:
        from nbshelf.render.page import page_marking

        viewer = self._ensure_viewer()
        self._page_ready = False
        self._marking = page_marking(page)
        viewer.show_html(page, cell)

    def _on_page_ready(self) -> None:
        self._page_ready = True
        if self._marking is not None:  # a page never shows under another page's marking
            for banner in self._banners:
                banner.set_marking(self._marking)
            self._marking = None
        if self.mode != "none":
            self.output.setCurrentWidget(self._page_box)
        if self.mode == "live" and self._dirty:
            self._flush()

    def _flush(self) -> None:
        """Put the sections that changed since the last time into the live page."""
        live = self._live_shown()
        if self.viewer is None or live is None or self.mode != "live" or not self._page_ready:
            return
        from PySide6.QtWebEngineCore import QWebEngineScript

        from nbshelf.ui.liverun import WAITING_ID, section_id

        keys, self._dirty = list(self._dirty), {}
        for key in keys:
            script = _UPSERT % (json.dumps(WAITING_ID), json.dumps(section_id(key)),
                                json.dumps(live.sections[key]))
            self.viewer.page().runJavaScript(script,
                                             QWebEngineScript.ScriptWorldId.ApplicationWorld)

    def _live_shown(self) -> LiveRun | None:
        """The live run of the notebook the tab is for, if it has one."""
        return self.live.get(self.notebook_id) if self.notebook_id is not None else None

    def _show_header(self) -> None:
        live = self._live_shown()
        self.stop_button.setVisible(live is not None and live.running)
        self.live_button.setVisible(live is not None and self.mode != "live")
        title, facts, alarm = self._header_text(live)
        self.title.setText(title)
        self.title.setStyleSheet(TITLE_STYLE + (" color: #a40e26;" if alarm else ""))
        self.facts.setText(_facts_html(facts))
        if live is not None and live.running and self.mode == "live":
            self._clock.start()  # "Running for" counts on
        else:
            self._clock.stop()

    def _header_text(self, live: LiveRun | None) -> tuple[str, list[tuple[str, str]], bool]:
        """The header's title, its facts, and whether the title says something went wrong."""
        if self.mode == "record" and self.record is not None:
            run = self.record
            return (f"Record of run {run.id}: {record_status(run)}", record_facts(run),
                    run.status not in ("ok", "running"))
        if self.mode == "live" and live is not None:
            started = ("Started", fmt.when(live.started))
            if live.running:
                return (f"Running in {live.kernel}…",
                        [started, ("Running for", duration(time.time() - live.started))], False)
            kernel = [("Kernel", live.kernel)] if live.kernel else []
            return live.outcome, [started, *kernel], live.failed
        return "No run shown", [], False

    def _activated(self, index: Any) -> None:
        model = self.table.model()
        record = getattr(model, "record", None)
        run = record(index.row()) if record is not None else None
        if run is not None:
            self.open_requested.emit(run)

    def _forget_old(self) -> None:
        """Keep the newest few live runs (and any that runs): their pictures weigh."""
        done = [k for k, v in self.live.items() if not v.running and k != self.notebook_id]
        while len(self.live) > KEEP_LIVE and done:
            self.live.pop(done.pop(0))
