"""The Settings dialog: the library's settings a user changes (``nbshelf settings``): the
marking scheme, how often shares are synced, when a notebook's last good run is stale.

Read on the read lane, saved on the write lane; a read-only window shows them greyed.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nbshelf.library import Library
from nbshelf.ui.tasks import Job, Lane, TaskRunner

MUTED = "color: palette(placeholder-text);"
#: The longest sync interval offered (a day), in minutes.
MAX_INTERVAL = 24 * 60


@dataclass(frozen=True)
class LibrarySettings:
    """The settings the dialog shows (library-wide ones of ``catalog.settings.SCHEMA``)."""

    markings: tuple[str, ...]
    sync_interval_minutes: int
    stale_after_days: int

    @classmethod
    def read(cls, library: Library) -> LibrarySettings:
        """The library's current values (any lane)."""
        get = library.settings.get
        return cls(tuple(get("markings")), int(get("sync_interval_minutes")),
                   int(get("stale_after_days")))

    def write(self, library: Library) -> LibrarySettings:
        """Store these values (write lane) and return what the library now holds."""
        library.settings.set("markings", list(self.markings))
        library.settings.set("sync_interval_minutes", self.sync_interval_minutes)
        library.settings.set("stale_after_days", self.stale_after_days)
        return LibrarySettings.read(library)


def parse_markings(text: str) -> tuple[str, ...]:
    """One marking a line (commas also separate), blanks and repeats dropped, order kept."""
    words = [w.strip() for line in text.splitlines() for w in line.split(",")]
    return tuple(dict.fromkeys(w for w in words if w))


class SettingsDialog(QDialog):
    """Library settings. Saving runs on the write lane; ``saved`` follows.

    Signals:
        saved(object): the ``LibrarySettings`` now in the library.
    """

    saved = Signal(object)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings — nbshelf")
        self.resize(560, 420)
        self._runner = runner
        layout = QVBoxLayout(self)
        intro = QLabel(
            "These settings belong to this library: every window and command on it uses them."
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(MUTED)
        layout.addWidget(intro)
        form = QFormLayout()
        self.markings = QPlainTextEdit()
        self.markings.setTabChangesFocus(True)
        self.markings.setPlaceholderText("UNCLASSIFIED\nCONFIDENTIAL\nSECRET")
        self.markings.setMaximumHeight(120)
        markings_label = QLabel("&Marking scheme:")
        markings_label.setBuddy(self.markings)
        form.addRow(markings_label, self.markings)
        form.addRow("", _note(
            "The control markings your organisation uses, one a line, lowest first. "
            "Publishing checks a notebook's marking against a share's ceiling."))
        self.interval = QSpinBox()
        self.interval.setRange(0, MAX_INTERVAL)
        self.interval.setSuffix(" min")
        self.interval.setSpecialValueText("Only at start and when asked")
        interval_label = QLabel("Sync &shares every:")
        interval_label.setBuddy(self.interval)
        form.addRow(interval_label, self.interval)
        self.stale = QSpinBox()
        self.stale.setRange(1, 3650)
        self.stale.setSuffix(" days")
        stale_label = QLabel("A run is s&tale after:")
        stale_label.setBuddy(self.stale)
        form.addRow(stale_label, self.stale)
        layout.addLayout(form)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(MUTED)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._set_enabled(False)
        self.load()

    def load(self) -> None:
        """Read the settings (read lane)."""
        self.note.setText("Reading the settings…")
        self._runner.task(
            lambda lib, _job: LibrarySettings.read(lib), label="Read settings"
        ).on_success(self._show).start()

    def chosen(self) -> LibrarySettings:
        """What the form holds now."""
        return LibrarySettings(parse_markings(self.markings.toPlainText()),
                               self.interval.value(), self.stale.value())

    def save(self) -> None:
        """Store the form's values (write lane), then close."""
        wanted = self.chosen()

        def write(lib: Library, _job: Job) -> LibrarySettings:
            return wanted.write(lib)

        self._set_enabled(False)
        self.note.setText("Saving…")
        self._runner.task(write, lane=Lane.WRITE, label="Save settings").on_success(
            self._saved
        ).on_failure(lambda err: self._failed(str(err))).start()

    def _saved(self, values: LibrarySettings) -> None:
        self.saved.emit(values)
        self.accept()

    def _failed(self, message: str) -> None:
        self._set_enabled(self._runner.writable)
        self.note.setText(f"Not saved: {message}.")

    def _show(self, values: LibrarySettings) -> None:
        self.markings.setPlainText("\n".join(values.markings))
        self.interval.setValue(values.sync_interval_minutes)
        self.stale.setValue(values.stale_after_days)
        writable = self._runner.writable
        self._set_enabled(writable)
        self.note.setText(
            "" if writable else
            "Another nbshelf window or command is changing this library: the settings can be "
            "read here, and changed once it closes."
        )

    def _set_enabled(self, on: bool) -> None:
        for widget in (self.markings, self.interval, self.stale):
            widget.setEnabled(on)
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(on)


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(MUTED)
    return label
