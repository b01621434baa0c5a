"""The read-only notebook viewer: a locked-down QWebEngineView over rendered HTML.

Walls, from the outside in: the page comes from ``nbshelf.render`` (sanitized, all images
embedded); its CSP forbids every script and every load that is not the app's own scheme or
``data:``; this view turns JavaScript off, gives the page its own off-the-record profile, and
puts a request interceptor on that profile that blocks, and counts, every request to any other
scheme. Navigation away from the shown page is refused. The page and the app's stylesheets are
served by a scheme handler, so no size limit of ``setHtml`` applies.

The marking banners are not part of the page in the app: the notebook pane draws them as Qt
strips above and below this view, where nothing a page paints can reach them.

Call :func:`register_scheme` once at start, before the ``QApplication`` exists.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QBuffer, QByteArray, QObject, QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEngineLoadingInfo,
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

# Only the assets module: the page module pulls in markdown-it and latex2mathml, which the
# start path (this module registers the URL scheme) has no use for.
from nbshelf.render.assets import APP_ASSET_BASE, asset

ASSET_BASE = APP_ASSET_BASE  # "nbshelf://app/": pages and stylesheets are served under it
SCHEME = ASSET_BASE.split(":", 1)[0]
_PAGE_PREFIX = "page/"
# Schemes the page may use: its own, and data: for embedded pictures. The interceptor blocks
# the rest (http, https, file, ftp, ws...).
_ALLOWED_SCHEMES = {SCHEME, "data"}


def register_scheme() -> None:
    """Declare the app's URL scheme to QtWebEngine. Call before creating the QApplication.

    Safe to call more than once.
    """
    if QWebEngineUrlScheme.schemeByName(SCHEME.encode()).name():
        return
    scheme = QWebEngineUrlScheme(SCHEME.encode())
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    # Local: pages of this scheme cannot reach remote URLs (LocalContentCanAccessRemoteUrls is
    # off), and remote pages cannot reach it. Secure: treated like https, no mixed-content
    # downgrade.
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme | QWebEngineUrlScheme.Flag.LocalScheme)
    QWebEngineUrlScheme.registerScheme(scheme)


class BlockingInterceptor(QWebEngineUrlRequestInterceptor):
    """Blocks every request whose scheme is not the app's own or ``data:``, and remembers it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.blocked: list[str] = []
        self.allowed = 0

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        if url.scheme().lower() in _ALLOWED_SCHEMES:
            self.allowed += 1
            return
        info.block(True)
        self.blocked.append(url.toString())


class _SchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves the page being shown and the renderer's stylesheets under ``nbshelf:``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pages: dict[str, bytes] = {}

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        name = job.requestUrl().path().lstrip("/")
        if name in self.pages:
            self._reply(job, self.pages[name], b"text/html;charset=utf-8")
            return
        found = asset(name)
        if found is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        content, mime = found
        self._reply(job, content, mime.encode())

    @staticmethod
    def _reply(job: QWebEngineUrlRequestJob, content: bytes, mime: bytes) -> None:
        # The buffer must outlive this call: parent it to the job, which WebEngine deletes
        # once the reply is read.
        buffer = QBuffer(job)
        buffer.setData(QByteArray(content))
        buffer.open(QBuffer.OpenModeFlag.ReadOnly)
        job.reply(mime, buffer)


class _LockedPage(QWebEnginePage):
    """A page that shows what the viewer loads into it and navigates nowhere else."""

    navigation_blocked = Signal(QUrl)

    def __init__(self, profile: QWebEngineProfile, parent: QObject | None = None) -> None:
        super().__init__(profile, parent)
        self.current: QUrl | None = None

    def acceptNavigationRequest(
        self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        url = QUrl(url)  # Qt passes a QUrl; the signature also takes str, as the base's does
        if self.current is not None and _without_fragment(url) == _without_fragment(self.current):
            return True  # the page itself, or a jump to one of its headings
        self.navigation_blocked.emit(url)
        return False


def _without_fragment(url: QUrl) -> str:
    return url.toString().split("#", 1)[0]


def _at_cell(url: QUrl, cell: int | None) -> QUrl:
    """``url`` with the anchor of a cell's section (see ``nbshelf.render.notebook``)."""
    if cell is None:
        return url
    anchored = QUrl(url)
    anchored.setFragment(f"nbs-cell-{cell}")
    return anchored


def _lock_down(settings: QWebEngineSettings) -> None:
    attr = QWebEngineSettings.WebAttribute
    for name, on in (
        (attr.JavascriptEnabled, False),
        (attr.JavascriptCanOpenWindows, False),
        (attr.JavascriptCanAccessClipboard, False),
        (attr.LocalContentCanAccessRemoteUrls, False),
        # Our scheme is a local one, and WebEngine counts its stylesheets as "file" content:
        # with this off the page could not load them. file: URLs themselves are still blocked
        # by the interceptor (and by the page's CSP).
        (attr.LocalContentCanAccessFileUrls, True),
        (attr.PluginsEnabled, False),
        (attr.PdfViewerEnabled, False),
        (attr.AutoLoadIconsForPage, False),
        (attr.HyperlinkAuditingEnabled, False),
        (attr.DnsPrefetchEnabled, False),
        (attr.NavigateOnDropEnabled, False),
        (attr.LocalStorageEnabled, False),
        (attr.WebGLEnabled, False),
    ):
        settings.setAttribute(name, on)


class NotebookViewer(QWebEngineView):
    """Shows one rendered notebook, read-only and offline.

    Render with ``nbshelf.render.render_notebook(nb, asset_base=ASSET_BASE)`` and pass the
    HTML to :meth:`show_html`.

    Args:
        parent: the owning widget.

    Attributes:
        interceptor: the request wall; ``interceptor.blocked`` lists every URL it stopped.

    Signals:
        page_ready(): the page last given to :meth:`show_html` finished loading (or failed).
    """

    page_ready = Signal()
    #: What the view's own find found: the match on screen (from 1) and how many there are.
    text_found = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # An off-the-record profile of our own. Qt deletes children in the order they were
        # parented, and a profile must outlive its page: parent the page first, then the
        # profile (else exit warns "Release of profile requested but WebEnginePage still not
        # deleted").
        self._profile = QWebEngineProfile()
        self.interceptor = BlockingInterceptor(self._profile)
        self._profile.setUrlRequestInterceptor(self.interceptor)
        self._handler = _SchemeHandler(self._profile)
        self._profile.installUrlSchemeHandler(SCHEME.encode(), self._handler)
        self._page = _LockedPage(self._profile, self)
        self._profile.setParent(self)
        _lock_down(self._page.settings())
        self.setPage(self._page)
        self.navigation_blocked = self._page.navigation_blocked
        self._page.loadingChanged.connect(self._loading_changed)
        self._page.findTextFinished.connect(
            lambda result: self.text_found.emit(result.activeMatch(), result.numberOfMatches()))
        self._serial = itertools.count(1)
        self._report_view = False

    def _loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        if info.status() == QWebEngineLoadingInfo.LoadStatus.LoadStartedStatus:
            return
        # Only the page being shown: a load it interrupted reports its end too.
        current = self._page.current
        if current is not None and _without_fragment(info.url()) == _without_fragment(current):
            self.page_ready.emit()

    def show_html(self, page_html: str, cell: int | None = None) -> None:
        """Show a page made by ``render_notebook(..., asset_base=ASSET_BASE)``.

        Args:
            page_html: the document.
            cell: open it scrolled to this cell (0-based), not at its top.
        """
        name = f"{_PAGE_PREFIX}{next(self._serial)}.html"
        # Only the page on screen is kept: a 4 MB notebook page should not pile up.
        self._handler.pages = {name: page_html.encode("utf-8")}
        url = QUrl(f"{ASSET_BASE}{name}")
        self._page.current = url
        self.load(_at_cell(url, cell))

    def scroll_to_cell(self, cell: int) -> None:
        """Scroll the page shown to this cell (0-based).

        A jump to the cell's anchor (``#nbs-cell-N``, on each cell's section): the browser
        scrolls to it itself, with the page's JavaScript off. Again to the same cell scrolls
        again.
        """
        if self._page.current is not None:
            self.load(_at_cell(self._page.current, cell))

    def show_hit(self, number: int) -> None:
        """Scroll to the ``number``-th marked match of the page (from 1; see
        ``nbshelf.render.highlight_terms``), which the page's stylesheet then shows as the
        current one. A jump to its anchor, as :meth:`scroll_to_cell`: no script runs."""
        from nbshelf.render.highlight_terms import HIT_ID

        if self._page.current is not None and number > 0:
            url = QUrl(self._page.current)
            url.setFragment(HIT_ID.format(number))
            self.load(url)

    def find_text(self, text: str, *, backward: bool = False) -> None:
        """Find text in the notebook; an empty text clears the highlight. The answer comes
        as ``text_found``.

        Args:
            text: what to look for (case-insensitive).
            backward: search towards the top.
        """
        flags = QWebEnginePage.FindFlag(0)
        if backward:
            flags |= QWebEnginePage.FindFlag.FindBackward
        self.findText(text, flags)

    def set_report_view(self, on: bool) -> None:
        """Hide code cells (outputs and prose only) or show them again.

        The page holds the switch itself (a checkbox styled by CSS, also usable by a click);
        this flips it from the app in an isolated world, which runs even with the page's
        JavaScript off and shares nothing with the page's own scripts.

        Args:
            on: hide code when true.
        """
        from nbshelf.render.page import REPORT_TOGGLE_ID

        self._report_view = on
        state = "true" if on else "false"
        self._page.runJavaScript(
            f"(function(){{var b=document.getElementById('{REPORT_TOGGLE_ID}');"
            f"if(b){{b.checked={state};}}}})();",
            QWebEngineScript.ScriptWorldId.ApplicationWorld,
        )
