"""The Packs dialog: carry notebooks between machines on a USB stick (``nbshelf pack export``,
and a pack added as a source, which is how a pack is imported).

Export only reads the library (read lane): it works in a read-only window too. Import adds the
pack as a source and syncs it, through the window's sync controller.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from nbshelf.ui import fmt
from nbshelf.ui.tasks import TaskRunner

MUTED = "color: palette(placeholder-text);"


class PacksDialog(QDialog):
    """Export the notebooks listed (or the one shown) as a pack; import a pack.

    Args:
        runner: the window's task runner.
        listed: the ids the list shows now, and what that list is (``the 12 notebooks
            matching “pandas”``), asked when the dialog opens.
        shown: the id and title of the notebook shown, if any.

    Signals:
        import_requested(str): add this pack (a .zip file or a folder) as a source and sync.
        message(str): something to say in the status bar.
    """

    import_requested = Signal(str)
    message = Signal(str)

    def __init__(
        self,
        runner: TaskRunner,
        listed: tuple[list[int], str],
        shown: tuple[int, str] | None,
        start: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Packs — nbshelf")
        self.resize(640, 440)
        self._runner = runner
        self._listed_ids, listed_what = listed
        self._shown = shown
        layout = QVBoxLayout(self)
        intro = QLabel(
            "A pack is a .zip file (or a folder) of notebooks with a list of what it holds, to "
            "carry notebooks to a machine that cannot reach your shares."
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(MUTED)
        layout.addWidget(intro)

        export = QGroupBox("Export a pack")
        box = QVBoxLayout(export)
        self.export_listed = QRadioButton(f"&Listed: {listed_what}")
        self.export_shown = QRadioButton(
            f"The notebook &shown: {shown[1]}" if shown else "The notebook shown (none)"
        )
        self.export_shown.setEnabled(shown is not None)
        (self.export_listed if self._listed_ids else self.export_shown).setChecked(True)
        self.export_listed.setEnabled(bool(self._listed_ids))
        box.addWidget(self.export_listed)
        box.addWidget(self.export_shown)
        self.export_path = QLineEdit(str(start / "notebooks-pack.zip"))
        box.addLayout(_path_row("Save &to:", self.export_path, self._browse_export))
        self.export_button = QPushButton("&Export Pack")
        self.export_button.clicked.connect(self.export)
        self.export_button.setEnabled(bool(self._listed_ids) or shown is not None)
        box.addLayout(_right(self.export_button))
        layout.addWidget(export)

        imported = QGroupBox("Import a pack")
        box = QVBoxLayout(imported)
        note = QLabel(
            "The pack becomes a source of this library: its notebooks are listed and "
            "searchable like any other, and the pack itself is never changed."
        )
        note.setWordWrap(True)
        note.setStyleSheet(MUTED)
        box.addWidget(note)
        self.import_path = QLineEdit()
        self.import_path.setPlaceholderText("a .zip pack, or a pack folder")
        box.addLayout(_path_row("&Pack:", self.import_path, self._browse_import))
        self.import_button = QPushButton("&Import Pack")
        self.import_button.clicked.connect(self.import_pack)
        self.import_button.setEnabled(runner.writable)
        box.addLayout(_right(self.import_button))
        layout.addWidget(imported)

        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        layout.addWidget(self.outcome)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)

    def export_ids(self) -> list[int]:
        """The notebooks the chosen export takes."""
        if self.export_shown.isChecked() and self._shown is not None:
            return [self._shown[0]]
        return list(self._listed_ids)

    def export(self) -> None:
        """Write the pack (read lane: an export only reads the library)."""
        ids, out = self.export_ids(), Path(self.export_path.text().strip()).expanduser()
        if not ids or not self.export_path.text().strip():
            self.outcome.setText("Choose what to pack and where to save it.")
            return

        def done(report: dict[str, Any]) -> None:
            count = fmt.count(int(report["notebooks"]), "notebook")
            text = f"Exported {count} to {report['pack']}."
            self.outcome.setText(text)
            self.message.emit(text)
            self.export_button.setEnabled(True)

        def failed(err: Exception) -> None:
            self.outcome.setText(f"Not exported: {err}.")
            self.export_button.setEnabled(True)

        self.export_button.setEnabled(False)
        self.outcome.setText(f"Exporting {fmt.count(len(ids), 'notebook')}…")
        self._runner.task(
            lambda lib, _job: lib.export_pack(out, ids=ids), label="Export a pack"
        ).on_success(done).on_failure(failed).start()

    def import_pack(self) -> None:
        """Add the pack as a source; the window's sync controller adds and syncs it."""
        path = self.import_path.text().strip()
        if not path:
            self.outcome.setText("Choose a pack to import.")
            return
        if not Path(path).expanduser().exists():
            self.outcome.setText(f"There is no pack at {path}.")
            return
        self.outcome.setText("Importing the pack: its notebooks join the list as they are read.")
        self.import_requested.emit(str(Path(path).expanduser()))

    def _browse_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the pack as", self.export_path.text(), "Packs (*.zip)"
        )
        if path:
            self.export_path.setText(path)

    def _browse_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a pack", "", "Packs (*.zip)")
        if path:
            self.import_path.setText(path)


def _path_row(label: str, edit: QLineEdit, browse: Callable[[], None]) -> QHBoxLayout:
    row = QHBoxLayout()
    caption = QLabel(label)
    caption.setBuddy(edit)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    row.addWidget(caption)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


def _right(button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(button)
    return row
