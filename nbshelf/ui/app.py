"""``run_app``: what ``nbshelf`` and ``nbshelf FILE.ipynb`` start.

One app per library: a second launch hands its file to the running window and exits 0
(``nbshelf.ui.instance``). Bugs go to a crash dialog and ``crash.log`` (``nbshelf.ui.crash``).

``NBSHELF_QUIT_AFTER_START=1`` makes the app close itself once the window is shown, the list
filled and the start-up sync over, and turns the crash dialog into a traceback on stderr with
exit code 70: the end-to-end smoke test (and a bundle's) runs the real app that way.

``NBSHELF_QUIT_AFTER_FIRST_ROWS=1`` is the start-up probe of ``bench/startup.py``: the app
prints ``nbshelf-first-rows <unix time>`` on stdout when the list has painted its first
loaded rows, then ``nbshelf-loaded NAME ...``, the top-level packages imported by then (so a
test can tell that heavy ones stay off the start path), and closes at once (a start-up sync
still going is cancelled).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from nbshelf.library import Library, default_library_dir, open_library
from nbshelf.resources import resources_dir
from nbshelf.ui.crash import CrashHandler, log_folder
from nbshelf.ui.instance import SingleInstance
from nbshelf.ui.tasks import TaskRunner
from nbshelf.ui.window import MainWindow

QUIT_AFTER_START = "NBSHELF_QUIT_AFTER_START"
QUIT_AFTER_FIRST_ROWS = "NBSHELF_QUIT_AFTER_FIRST_ROWS"

log = logging.getLogger("nbshelf")


def _setup_logging() -> None:
    if log.handlers:
        return
    folder = log_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(folder / "app.log", encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def _application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        from nbshelf.ui.viewer import register_scheme

        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Chromium's sandbox refuses root (containers, CI); an analyst's account keeps it.
            os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
        register_scheme()  # the viewer's own URL scheme must exist before the QApplication
        app = QApplication(sys.argv[:1])
    app.setApplicationName("nbshelf")
    icon = resources_dir() / "icons" / "nbshelf.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    app.setOrganizationName("nbshelf")
    app.setDesktopFileName("nbshelf")
    apply_style(app)
    return app


def style_sheet() -> str:
    """The app's style sheet (``resources/style/app.qss``: a clear keyboard focus); empty
    when the file is not there (a bundle without it still runs)."""
    try:
        return (resources_dir() / "style" / "app.qss").read_text(encoding="utf-8")
    except OSError:
        return ""


def apply_style(app: QApplication) -> None:
    """Give the whole application nbshelf's style sheet."""
    app.setStyleSheet(style_sheet())


def run_app(library: Path | None, file: Path | None) -> int:
    """Start the desktop app on ``library`` (None: the default one), showing ``file``.

    Returns the process exit code: 0 after a normal quit and when the file was handed to an
    app already running on this library; 1 when that app does not answer.
    """
    root = Path(os.path.abspath(library.expanduser())) if library else default_library_dir()
    probe = os.environ.get(QUIT_AFTER_FIRST_ROWS) == "1"
    unattended = os.environ.get(QUIT_AFTER_START) == "1" or probe
    # Index builds run on the write lane: no forked writer processes beside Qt's threads.
    os.environ.setdefault("NBSHELF_INDEX_PROCS", "1")
    app = _application()

    instance = SingleInstance(root)
    if not instance.acquire():
        message = (
            {"cmd": "open", "file": os.path.abspath(file)} if file else {"cmd": "activate"}
        )
        answer = instance.forward(message)
        if answer is not None and answer.get("ok"):
            return 0
        print(
            f"nbshelf: nbshelf is already open on the library {root} but does not answer; "
            "close it, or wait for it to finish starting",
            file=sys.stderr,
        )
        return 1

    _setup_logging()
    window: MainWindow | None = None
    crash = CrashHandler(lambda: window, end=QApplication.exit if unattended else None)
    crash.install()
    try:
        runner = TaskRunner(
            # A new library (the default one, or an empty folder named with --library) is
            # created with the demo source, as on a first start.
            open_writer=lambda: open_library(root, demo=True),
            open_reader=lambda: Library.open(root, readonly=True),
        )
        window = MainWindow(runner, root)
        instance.listen(window.handle_message)
        if probe:
            window.first_rows.connect(lambda: _report_first_rows(window))
        elif unattended:
            window.ready.connect(lambda: QTimer.singleShot(0, window.close))
        window.show()
        runner.start()
        if file is not None:
            window.open_file(file)
        code = app.exec()
        runner.shutdown()
        # The web view's page must go before its profile, and both before the QApplication.
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        window = None
        return code
    finally:
        instance.close()
        crash.uninstall()


def _report_first_rows(window: MainWindow | None) -> None:
    print(f"nbshelf-first-rows {time.time():.6f}", flush=True)
    # After the time: listing ~300 names must not count against the start.
    loaded = sorted({name.partition(".")[0] for name in list(sys.modules)})
    print(f"nbshelf-loaded {' '.join(loaded)}", flush=True)
    if window is not None:
        QTimer.singleShot(0, window.close)
