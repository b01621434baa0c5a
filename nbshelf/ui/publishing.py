"""Publishing the notebook shown to a share, from the app: target, preview, then write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from nbshelf.library import Library

if TYPE_CHECKING:
    # nbshelf.publish.share imports nbformat (jsonschema: ~50 ms); the start path needs neither.
    from nbshelf.publish.share import Prepared


@dataclass
class PublishSetup:
    """What the dialog offers: the notebook's copy, where it may go, and two previews."""

    title: str
    blob: str
    name: str
    sources: list[str]
    stripped: Prepared
    kept: Prepared


def gather_publish(lib: Library, notebook_id: int) -> PublishSetup:
    """The publish dialog's data, read on the library's read lane."""
    info = lib.show(notebook_id)
    sources = [s.name for s in lib.list_sources()
               if s.available and s.kind not in ("opened", "pack", "demo")]
    return PublishSetup(
        title=info.title, blob=info.blob, name=PurePosixPath(info.path).name, sources=sources,
        stripped=lib.prepare_publish(info.blob), kept=lib.prepare_publish(info.blob,
                                                                          keep_outputs=True),
    )


class PublishDialog(QDialog):
    """Where to publish, and what publishing removes and warns about, before anything is
    written."""

    def __init__(self, setup: PublishSetup, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setup = setup
        self.setWindowTitle(f"Publish “{setup.title}”")
        self.setMinimumWidth(500)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.source = QComboBox()
        self.source.addItems(setup.sources)
        form.addRow("To source", self.source)
        self.path = QLineEdit(setup.name)
        form.addRow("As", self.path)
        self.keep = QCheckBox("Keep the outputs (they are removed by default)")
        self.keep.toggled.connect(self._show_preview)
        form.addRow("", self.keep)
        layout.addLayout(form)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        layout.addWidget(self.preview)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Publish")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(setup.sources))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._show_preview()

    def _show_preview(self) -> None:
        prepared = self.setup.kept if self.keep.isChecked() else self.setup.stripped
        lines = [f"Publishing {prepared.stripped.describe()}."]
        lines.append(f"Marking: {prepared.marking or 'none'}.")
        lines += [f"Warning: {leak.message}." for leak in prepared.leaks]
        if not self.setup.sources:
            lines.append("There is no folder source to publish to: add a share first.")
        self.preview.setText("\n".join(lines))

    def choices(self) -> tuple[str, str, bool]:
        """(source, path inside it, keep outputs)."""
        return self.source.currentText(), self.path.text().strip(), self.keep.isChecked()
