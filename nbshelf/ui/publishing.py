"""Publishing the notebook shown to a share, from the app: every check before the button.

The dialog asks the core for a pre-flight (``Library.preflight_publish``, on the read lane)
when it opens and again whenever the target, the name, the outputs or the marking change.
It shows what would stop the publish (a marking above the source's ceiling, a target that
cannot be written) with Publish disabled and the reason beside it; warnings about leaks
make Publish non-default until the user confirms them; someone else's change on the share
is offered as "Publish under a new name" or "Replace theirs"; the data files the notebook
reads are listed to go with it. Nothing here reads the share on the GUI thread.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nbshelf.library import Library
from nbshelf.notebook.service import notebook_folder
from nbshelf.ui import fmt

if TYPE_CHECKING:
    # nbshelf.publish.share imports nbformat (jsonschema: ~50 ms); the start path needs neither.
    from nbshelf.publish.datafiles import DataFile
    from nbshelf.publish.preflight import Preflight
    from nbshelf.publish.share import Prepared
    from nbshelf.ui.tasks import Job, TaskRunner

#: How long the dialog waits after a keystroke in the name before checking it again (ms).
RECHECK_DELAY_MS = 300
NOT_MARKED = "Not marked"
CONFIRM_TEXT = "I have checked these warnings; publish anyway"


@dataclass
class PublishSetup:
    """What the dialog offers: the notebook's copy, where it may go, and two previews.

    Attributes:
        folder: the notebook's folder in its source, where the data files it reads are
            (None when that folder is not reachable now).
        scheme: the library's markings, lowest first.
    """

    title: str
    blob: str
    name: str
    sources: list[str]
    stripped: Prepared
    kept: Prepared
    folder: str | None = None
    scheme: list[str] = field(default_factory=list)


def gather_publish(lib: Library, notebook_id: int) -> PublishSetup:
    """The publish dialog's data, read on the library's read lane."""
    info = lib.show(notebook_id)
    listed = lib.list_sources()
    sources = [s.name for s in listed
               if s.available and s.kind not in ("opened", "pack", "demo")]
    own = next((s for s in listed if s.name == info.source), None)
    folder = notebook_folder(own.path, own.kind, info.path) if own is not None else None
    return PublishSetup(
        title=info.title, blob=info.blob, name=PurePosixPath(info.path).name, sources=sources,
        stripped=lib.prepare_publish(info.blob), kept=lib.prepare_publish(info.blob,
                                                                          keep_outputs=True),
        folder=str(folder) if folder is not None else None,
        scheme=list(lib.settings.get("markings")),
    )


class Outcome(enum.Enum):
    """Which button the user published with."""

    PUBLISH = "publish"
    NEW_NAME = "new-name"
    REPLACE = "replace"


@dataclass(frozen=True)
class PublishChoice:
    """What the user chose in the dialog: everything ``Library.publish`` needs."""

    source: str
    path: str
    keep_outputs: bool
    force: bool = False
    marking: str | None = None
    data: list[str] = field(default_factory=list)
    data_from: str | None = None


class PublishDialog(QDialog):
    """Where to publish, what publishing removes, warns about and takes along, and what
    would stop it, all before anything is written.

    Args:
        setup: what ``gather_publish`` read.
        parent: the window.
        runner: the app's task runner; the pre-flight runs on its read lane. Without one the
            dialog shows only the preview (nothing is checked before the button).
    """

    def __init__(self, setup: PublishSetup, parent: QWidget | None = None, *,
                 runner: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self.setup = setup
        self._runner = runner
        self._serial = 0
        self.checked: Preflight | None = None
        self.outcome = Outcome.PUBLISH
        self._data_wanted: dict[str, bool] = {}
        self.setWindowTitle(f"Publish “{setup.title}”")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_form())
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        layout.addWidget(self.preview)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        # what stops the publish must stand out from the preview above it
        self.status.setStyleSheet("QLabel { color: #a40000; font-weight: bold; }")
        layout.addWidget(self.status)
        layout.addWidget(self._build_warnings())
        layout.addWidget(self._build_conflict())
        layout.addWidget(self._build_data())
        layout.addStretch(1)
        layout.addWidget(self._build_buttons())
        self._recheck = QTimer(self)
        self._recheck.setSingleShot(True)
        self._recheck.setInterval(RECHECK_DELAY_MS)
        self._recheck.timeout.connect(self.check_now)
        self.source.currentTextChanged.connect(lambda _text: self.check_now())
        self.path.textEdited.connect(lambda _text: self._inputs_changed())
        self.keep.toggled.connect(lambda _on: self.check_now())
        self.marking.currentIndexChanged.connect(lambda _i: self.check_now())
        self.confirm.toggled.connect(lambda _on: self._update_buttons())
        self._show_preview()
        self.check_now()

    # -- building -------------------------------------------------------------------------

    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        self.source = QComboBox()
        self.source.addItems(self.setup.sources)
        form.addRow("&To source", self.source)
        self.path = QLineEdit(self.setup.name)
        form.addRow("&As", self.path)
        self.keep = QCheckBox("&Keep the outputs (they are removed by default)")
        form.addRow("", self.keep)
        self.marking = QComboBox()
        self.marking.addItem(NOT_MARKED, None)
        for name in self.setup.scheme:
            self.marking.addItem(name, name)
        own = self.setup.stripped.marking
        if self.setup.stripped.marked_in_notebook and own is not None:
            if self.marking.findData(own) < 0:
                self.marking.addItem(own, own)
            self.marking.setCurrentIndex(self.marking.findData(own))
            self.marking.setEnabled(False)
            self.marking.setToolTip("The notebook carries this marking itself; it is changed "
                                    "in the notebook, not here.")
        elif not self.setup.scheme:
            self.marking.setEnabled(False)
            self.marking.setToolTip("This library has no marking scheme (Settings).")
        self.ceiling = QLabel()
        self.ceiling.setWordWrap(True)
        form.addRow("&Marking", self.marking)
        form.addRow("", self.ceiling)
        return form

    def _build_warnings(self) -> QGroupBox:
        self.warnings_box = QGroupBox("Warnings")
        box = QVBoxLayout(self.warnings_box)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.PlainText)
        box.addWidget(self.warnings)
        self.confirm = QCheckBox(CONFIRM_TEXT)
        box.addWidget(self.confirm)
        self.warnings_box.hide()
        return self.warnings_box

    def _build_conflict(self) -> QGroupBox:
        self.conflict_box = QGroupBox("Someone else's change")
        box = QVBoxLayout(self.conflict_box)
        self.conflict = QLabel()
        self.conflict.setWordWrap(True)
        self.conflict.setTextFormat(Qt.TextFormat.PlainText)
        box.addWidget(self.conflict)
        self.conflict_box.hide()
        return self.conflict_box

    def _build_data(self) -> QGroupBox:
        self.data_box = QGroupBox("Data files it reads")
        box = QVBoxLayout(self.data_box)
        note = QLabel("Checked files are published beside it, at the same place relative to "
                      "the notebook, so that it finds them on the share.")
        note.setWordWrap(True)
        box.addWidget(note)
        self.data_list = QListWidget()
        self.data_list.setMaximumHeight(130)
        self.data_list.setWordWrap(True)  # a refusal's reason is read whole, not scrolled to
        self.data_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.data_list.itemChanged.connect(self._data_toggled)
        box.addWidget(self.data_list)
        self.data_box.hide()
        return self.data_box

    def _build_buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.publish_button = self._button("&Publish", Outcome.PUBLISH)
        self.new_name_button = self._button("Publish under a &new name", Outcome.NEW_NAME)
        self.replace_button = self._button("&Replace theirs", Outcome.REPLACE)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        self.new_name_button.hide()
        self.replace_button.hide()
        return self.buttons

    def _button(self, text: str, outcome: Outcome) -> QPushButton:
        button = self.buttons.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
        button.clicked.connect(lambda: self._finish(outcome))
        return button

    # -- checking -------------------------------------------------------------------------

    def _inputs_changed(self) -> None:
        self.checked = None  # what was checked is not what would be published now
        self._update_buttons()
        self._recheck.start()

    def check_now(self) -> None:
        """Ask for a pre-flight of what the dialog says now (on the read lane)."""
        self._recheck.stop()
        self._show_preview()
        if self._runner is None or not self.setup.sources:
            self._update_buttons()
            return
        self._serial += 1
        serial = self._serial
        self.checked = None
        self.status.setText("Checking the share…")
        self._update_buttons()
        blob, folder = self.setup.blob, self.setup.folder
        source, path, keep = self.source.currentText(), self._path(), self.keep.isChecked()
        marking = self._chosen_marking()

        def check(lib: Library, _job: Job) -> Preflight:
            return lib.preflight_publish(blob, source, as_path=path, keep_outputs=keep,
                                         marking=marking, data_from=folder)

        self._runner.task(check, label="Check publish").on_success(
            lambda found: self._checked(serial, found)).on_failure(
            lambda err: self._check_failed(serial, str(err))).start()

    def _checked(self, serial: int, found: Preflight) -> None:
        if serial != self._serial:
            return  # an older check answered late: the inputs changed since
        self.checked = found
        self._show_checks(found)
        self._update_buttons()

    def _check_failed(self, serial: int, message: str) -> None:
        if serial != self._serial:
            return
        self.checked = None
        self.status.setText(f"This notebook cannot be published: {message}")
        self._update_buttons()

    # -- showing --------------------------------------------------------------------------

    def _show_preview(self) -> None:
        prepared = self.setup.kept if self.keep.isChecked() else self.setup.stripped
        lines = [_removes(prepared.stripped.describe())]
        if not self.setup.sources:
            lines.append("There is no folder source to publish to: add a share first.")
        self.preview.setText("\n".join(lines))

    def _show_checks(self, found: Preflight) -> None:
        self.preview.setText(_removes(found.removes))
        self.status.setText("\n".join(self._blockers(found)))
        self.ceiling.setText(self._ceiling_text(found))
        self.warnings.setText("\n".join(f"• {w.message[0].upper()}{w.message[1:]}."
                                        for w in found.warnings))
        self.warnings_box.setTitle(f"Warnings ({len(found.warnings)})")
        self.warnings_box.setVisible(bool(found.warnings))
        self._show_conflict(found)
        self._show_data(found.data_files)

    def _blockers(self, found: Preflight) -> list[str]:
        """What stops the publish, in the dialog's words (the marking is chosen above)."""
        if found.target_refusal:
            return [found.target_refusal]
        if found.marking is None and found.required:
            return [f"Source '{found.source}' accepts only marked notebooks: choose this "
                    "notebook's marking above."]
        return found.blockers

    @staticmethod
    def _ceiling_text(found: Preflight) -> str:
        if found.target_refusal:
            return ""
        rules = []
        if found.ceiling:
            rules.append(f"may hold notebooks marked up to {found.ceiling}")
        if found.required:
            rules.append("accepts only marked notebooks")
        if not rules:
            return f"Source '{found.source}' has no marking rules."
        return f"Source '{found.source}' " + " and ".join(rules) + "."

    def _show_conflict(self, found: Preflight) -> None:
        conflict = found.conflict is not None and not found.target_refusal
        self.conflict_box.setVisible(conflict)
        self.publish_button.setVisible(not conflict)
        self.new_name_button.setVisible(conflict)
        self.replace_button.setVisible(conflict)
        if conflict:
            new = PurePosixPath(found.suggested_path or "").name
            self.conflict.setText(
                f"{found.conflict}\n\n"
                f"Publish under a new name: yours goes beside theirs as “{new}”, and theirs "
                "stays as it is.\n"
                "Replace theirs: their version is overwritten by yours.\n"
                "Cancel: nothing is written; sync to look at theirs first.")

    def _show_data(self, files: list[DataFile]) -> None:
        self.data_list.blockSignals(True)
        self.data_list.clear()
        order = {"found": 0, "missing": 1, "refused": 2}
        for item in sorted(files, key=lambda f: (order.get(f.state, 3), f.path)):
            self.data_list.addItem(self._data_item(item))
        self.data_list.blockSignals(False)
        self.data_box.setVisible(bool(files))

    def _data_item(self, item: DataFile) -> QListWidgetItem:
        reason = _without_path(item.reason, item.path)
        if item.publishable:
            text = f"{item.path} ({fmt.size(item.size)})"
            if reason:
                text += f" — {reason}"
            row = QListWidgetItem(text)
            row.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                         | Qt.ItemFlag.ItemIsUserCheckable)
            wanted = self._data_wanted.get(item.path, item.suggested)
            row.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
        else:
            word = "refused" if item.state == "refused" else "missing"
            row = QListWidgetItem(f"{item.path} — {word}: {reason}")
            row.setFlags(Qt.ItemFlag.ItemIsSelectable)  # shown, greyed, never checkable
        row.setData(Qt.ItemDataRole.UserRole, item.path)
        row.setToolTip(item.reason or f"{item.path} is beside the notebook.")
        return row

    def _data_toggled(self, row: QListWidgetItem) -> None:
        path = row.data(Qt.ItemDataRole.UserRole)
        self._data_wanted[path] = row.checkState() == Qt.CheckState.Checked

    def _update_buttons(self) -> None:
        """Publish only when the latest check found nothing that stops it and any warnings
        were confirmed; Enter never publishes a notebook that has warnings."""
        found = self.checked
        checked_ok = self._runner is None or (found is not None and not self._blockers(found))
        warned = found is not None and bool(found.warnings)
        ready = bool(self.setup.sources) and checked_ok and (
            not warned or self.confirm.isChecked())
        for button in (self.publish_button, self.new_name_button, self.replace_button):
            button.setEnabled(ready)
            button.setAutoDefault(False)
            button.setDefault(False)
        self.cancel_button.setAutoDefault(False)
        if warned or not ready:
            self.cancel_button.setDefault(True)
        else:
            self.cancel_button.setDefault(False)
            safe = self.new_name_button if self.new_name_button.isVisible() else (
                self.publish_button)
            safe.setDefault(True)

    # -- the answer -----------------------------------------------------------------------

    def _finish(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.accept()

    def _path(self) -> str:
        return self.path.text().strip() or self.setup.name

    def _chosen_marking(self) -> str | None:
        if not self.marking.isEnabled():
            return None  # the notebook's own, or no scheme: nothing to add
        chosen = self.marking.currentData()
        return chosen if isinstance(chosen, str) else None

    def _chosen_data(self) -> list[str]:
        rows = (self.data_list.item(i) for i in range(self.data_list.count()))
        return [row.data(Qt.ItemDataRole.UserRole) for row in rows
                if row.flags() & Qt.ItemFlag.ItemIsUserCheckable
                and row.checkState() == Qt.CheckState.Checked]

    def choices(self) -> PublishChoice:
        """What to publish, where, and how the user settled a conflict."""
        path = self._path()
        force = False
        if self.checked is not None and self.checked.conflict is not None:
            if self.outcome is Outcome.NEW_NAME and self.checked.suggested_path:
                path = self.checked.suggested_path
            force = self.outcome is Outcome.REPLACE
        return PublishChoice(
            source=self.source.currentText(), path=path, keep_outputs=self.keep.isChecked(),
            force=force, marking=self._chosen_marking(), data=self._chosen_data(),
            data_from=self.setup.folder)


def _removes(describe: str) -> str:
    """The preview's first line: ``Publishing removes 3 outputs…`` or that nothing goes."""
    if describe.startswith("nothing to remove"):
        describe = "removes nothing" + describe[len("nothing to remove"):]
    return f"Publishing {describe}."


def _without_path(reason: str, path: str) -> str:
    """A data file's reason without the path it starts with (the row shows the path)."""
    if reason.startswith(path + " "):
        reason = reason[len(path) + 1:]
    return reason
