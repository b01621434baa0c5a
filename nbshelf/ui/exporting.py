"""File → Export…: the notebook shown as a script, Markdown, an HTML report or a notebook file.

The dialog only chooses the format and the file; the window runs ``Library.export`` on the
read lane (an export only reads the library).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nbshelf.notebook.export import SCRIPT_EXTENSIONS
from nbshelf.records import NotebookInfo

#: The formats offered, in order: (format, label, extension); the script's is the language's.
FIXED_FORMATS = (
    ("markdown", "Markdown", ".md"),
    ("html", "HTML report", ".html"),
    ("notebook", "Notebook", ".ipynb"),
)


def script_choice(language: str | None) -> tuple[str, str]:
    """The script format's label and extension for a notebook's language."""
    name = (language or "python").strip()
    extension = SCRIPT_EXTENSIONS.get(name.lower(), ".txt")
    label = {"r": "R", "julia": "Julia", "python": "Python"}.get(name.lower(), name.title())
    return f"{label} script", extension


def suggested_name(info: NotebookInfo, extension: str) -> str:
    """The notebook's file name with ``extension`` in place of ``.ipynb``."""
    base = PurePosixPath(info.path.replace("\\", "/")).name
    stem = base[: -len(".ipynb")] if base.lower().endswith(".ipynb") else Path(base).stem
    return (stem or "notebook") + extension


class ExportDialog(QDialog):
    """Choose the format and the file to export the notebook shown to.

    Args:
        info: the notebook shown.
        folder: the folder the file is suggested in (the last one exported to).
        parent: the window.

    ``choose_file`` asks with the platform's save dialog (which confirms replacing a file);
    ``export_to`` takes the path directly (tests, scripting) and accepts the dialog.
    """

    def __init__(self, info: NotebookInfo, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self._confirmed = False  # the user already agreed to replace the file chosen
        self.setWindowTitle("Export Notebook")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        heading = QLabel(f"Export “{info.title}” as a file outside the library.")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        form = QFormLayout()
        self.format = QComboBox()
        label, extension = script_choice(info.language)
        self._extensions = {"script": extension}
        self.format.addItem(f"{label} ({extension})", "script")
        for to, name, ext in FIXED_FORMATS:
            self._extensions[to] = ext
            self.format.addItem(f"{name} ({ext})", to)
        self.format.setCurrentIndex(self.format.findData("html"))
        form.addRow("Format", self.format)
        self.path = QLineEdit(str(folder / suggested_name(info, self.extension())))
        self.path.textEdited.connect(lambda _text: self._unconfirm())
        browse = QPushButton("Choose…")
        browse.clicked.connect(self.choose_file)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        layout.addLayout(form)
        note = QLabel("The notebook's current version is exported; the HTML report is one "
                      "offline page, safe to open in any browser.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.format.currentIndexChanged.connect(lambda _i: self._format_changed())

    def to(self) -> str:
        """The format chosen (``Library.export``'s ``to``)."""
        return str(self.format.currentData())

    def extension(self) -> str:
        """The chosen format's file extension."""
        return self._extensions[self.to()]

    def choices(self) -> tuple[str, Path, bool]:
        """The format, the file, and whether an existing file may be replaced."""
        return self.to(), Path(self.path.text().strip()).expanduser(), self._confirmed

    def choose_file(self) -> None:
        """Pick the file with the platform's save dialog."""
        current = Path(self.path.text().strip() or suggested_name(self.info, self.extension()))
        label = self.format.currentText()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export to", str(current), f"{label} (*{self.extension()});;All files (*)"
        )
        if path:
            self.path.setText(path)
            self._confirmed = True  # the save dialog asked before picking an existing file

    def export_to(self, path: str | Path, to: str | None = None, *,
                  overwrite: bool = False) -> None:
        """Export to ``path`` without the platform's dialog (``to``: a format, else the one
        chosen); ``overwrite`` replaces an existing file without asking."""
        if to is not None:
            self.format.setCurrentIndex(self.format.findData(to))
        self.path.setText(str(path))
        self._confirmed = overwrite
        self.accept()

    def accept(self) -> None:
        text = self.path.text().strip()
        if not text:
            self.path.setFocus()
            return
        target = Path(text).expanduser()
        if target.is_dir():
            target = target / suggested_name(self.info, self.extension())
            self.path.setText(str(target))
        if target.exists() and not self._confirmed:
            answer = QMessageBox.question(
                self, "Replace the file?",
                f"{target} already exists. Replace it with the export?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            self._confirmed = True
        super().accept()

    def _unconfirm(self) -> None:
        self._confirmed = False

    def _format_changed(self) -> None:
        text = self.path.text().strip()
        if text:
            current = Path(text)
            stem = current.name[: -len(current.suffix)] if current.suffix else current.name
            self.path.setText(str(current.with_name(stem + self.extension())))
            self._confirmed = False
