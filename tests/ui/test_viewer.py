"""The notebook viewer: a real QWebEngineView, offscreen, showing hostile and ordinary pages."""

from __future__ import annotations

from typing import Any

from nbformat import v4
from PySide6.QtCore import QUrl

from nbshelf.render import RenderHeader, render_notebook
from nbshelf.ui.viewer import ASSET_BASE, NotebookViewer
from tests.ui.uihelpers import LOAD_TIMEOUT_MS, run_js

EVIL = "https://evil.example"


def show(qtbot: Any, viewer: NotebookViewer, page: str) -> None:
    with qtbot.waitSignal(viewer.loadFinished, timeout=LOAD_TIMEOUT_MS) as loaded:
        viewer.show_html(page)
    assert loaded.args == [True]


def hostile_notebook() -> Any:
    nb = v4.new_notebook()
    nb.cells.append(
        v4.new_markdown_cell(
            "# Quarterly figures\n\n<script>document.title='PWNED'</script>"
            f'<img src="{EVIL}/md.png" onerror="document.title=\'PWNED\'">'
            f'<iframe src="{EVIL}/frame"></iframe>'
            f'<div style="background:url({EVIL}/bg.png)">text</div>'
        )
    )
    cell = v4.new_code_cell("show()", execution_count=1)
    cell.outputs = [
        v4.new_output(
            "display_data",
            data={
                "text/html": f'<script>document.title="PWNED"</script><img src="{EVIL}/o.png">'
                f'<svg><script>document.title="PWNED"</script><image href="{EVIL}/s.png"/></svg>',
                "application/javascript": "document.title = 'PWNED'",
            },
        )
    ]
    nb.cells.append(cell)
    return nb


def test_hostile_notebook_runs_nothing_and_requests_nothing_outside(
    qtbot: Any, viewer: NotebookViewer
) -> None:
    page = render_notebook(
        hostile_notebook(), header=RenderHeader(title="Quarterly figures"), asset_base=ASSET_BASE
    )
    show(qtbot, viewer, page)
    qtbot.wait(300)  # give any straggling load or timer a chance to show itself
    assert viewer.title() == "Quarterly figures"
    assert viewer.interceptor.blocked == []
    assert viewer.interceptor.allowed >= 2  # the page and its stylesheets, from our scheme
    # Our stylesheet applied: the header band has its background colour.
    background = run_js(
        qtbot,
        viewer,
        "getComputedStyle(document.querySelector('.nbs-header')).backgroundColor",
    )
    assert background == "rgb(250, 251, 252)"


def test_raw_unsanitized_page_still_cannot_run_or_reach_out(
    qtbot: Any, viewer: NotebookViewer
) -> None:
    # The walls behind the sanitizer, on their own: no CSP, no cleaning.
    raw = (
        "<!DOCTYPE html><html><head><title>raw page</title>"
        f'<link rel="stylesheet" href="{EVIL}/x.css"></head><body>'
        "<script>document.title='PWNED'</script>"
        '<img src="x" onerror="document.title=\'PWNED\'">'
        f'<img src="{EVIL}/tracker.png"><img src="file:///etc/hostname">'
        f'<iframe src="{EVIL}/frame"></iframe></body></html>'
    )
    show(qtbot, viewer, raw)
    qtbot.wait(500)
    assert viewer.title() == "raw page"
    assert "file:///etc/hostname" in viewer.interceptor.blocked
    requested = {u.split("/")[0] for u in viewer.interceptor.blocked}
    assert requested <= {"file:", "https:", "http:"}  # anything outside was blocked, not loaded


def test_navigation_away_is_refused(qtbot: Any, viewer: NotebookViewer) -> None:
    show(qtbot, viewer, render_notebook(v4.new_notebook(), asset_base=ASSET_BASE))
    shown = viewer.url()
    with qtbot.waitSignal(viewer.navigation_blocked, timeout=LOAD_TIMEOUT_MS) as refused:
        viewer.load(QUrl(f"{EVIL}/phish"))
    assert refused.args[0].toString().startswith(EVIL)
    qtbot.wait(200)
    assert viewer.url() == shown


def test_find_in_notebook(qtbot: Any, viewer: NotebookViewer) -> None:
    nb = v4.new_notebook()
    nb.cells.append(v4.new_markdown_cell("The Lorenz system. Lorenz again, and LORENZ."))
    show(qtbot, viewer, render_notebook(nb, asset_base=ASSET_BASE))
    with qtbot.waitSignal(viewer.page().findTextFinished, timeout=LOAD_TIMEOUT_MS) as found:
        viewer.find_text("lorenz")
    assert found.args[0].numberOfMatches() == 3


def test_report_view_hides_code_and_keeps_outputs(qtbot: Any, viewer: NotebookViewer) -> None:
    nb = v4.new_notebook()
    cell = v4.new_code_cell("print('result')", execution_count=1)
    cell.outputs = [v4.new_output("stream", name="stdout", text="the answer is 42\n")]
    nb.cells.append(cell)
    show(qtbot, viewer, render_notebook(nb, asset_base=ASSET_BASE))
    visible = "getComputedStyle(document.querySelector('{}')).display"
    assert run_js(qtbot, viewer, visible.format(".nbs-input")) != "none"
    viewer.set_report_view(True)
    qtbot.waitUntil(
        lambda: run_js(qtbot, viewer, visible.format(".nbs-input")) == "none",
        timeout=LOAD_TIMEOUT_MS,
    )
    assert run_js(qtbot, viewer, visible.format(".nbs-outputs")) != "none"
    viewer.set_report_view(False)
    qtbot.waitUntil(
        lambda: run_js(qtbot, viewer, visible.format(".nbs-input")) != "none",
        timeout=LOAD_TIMEOUT_MS,
    )


def test_exported_page_is_styled_with_nothing_to_fetch(qtbot: Any, viewer: NotebookViewer) -> None:
    # The `render -o OUT.html` flavour: styles inline, as a browser opening the file sees it.
    nb = v4.new_notebook()
    nb.cells.append(v4.new_markdown_cell("# Exported\n\n$$\\frac{a}{b}$$"))
    show(qtbot, viewer, render_notebook(nb, asset_base=None))
    before = viewer.interceptor.allowed
    background = run_js(
        qtbot, viewer, "getComputedStyle(document.querySelector('.nbs-header')).backgroundColor"
    )
    assert background == "rgb(250, 251, 252)"
    # MathML laid out natively: the fraction is taller than a line of text.
    height = run_js(qtbot, viewer, "document.querySelector('mfrac').getBoundingClientRect().height")
    assert height > 20
    assert viewer.interceptor.allowed == before  # nothing requested beyond the page itself
    assert viewer.interceptor.blocked == []
