"""The Publish dialog checks everything before its button (issue 15 point 6): warnings to
confirm, the marking and the share's ceiling, the data files, someone else's change."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from nbshelf.library import Library
from nbshelf.ui.publishing import CONFIRM_TEXT, PublishDialog, gather_publish
from nbshelf.ui.window import MainWindow
from tests.helpers import make_notebook, write_notebook
from tests.ui import uihelpers
from tests.ui.uihelpers import open_window

SCHEME = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]
TIMEOUT = 30_000


@pytest.fixture
def shelf(library_dir: Path, tmp_path: Path) -> Path:
    """A library whose source 'mine' holds the notebooks to publish and the data they read,
    with the share 'team' (ceiling CONFIDENTIAL, marked notebooks only) to publish to."""
    mine, team = tmp_path / "mine", tmp_path / "team"
    team.mkdir()
    write_notebook(mine / "leaky.ipynb", title="Leaky report", code=[
        "print('totals')", "password = 'hunter22'\naws = 'AKIAABCDEFGHIJKLMNOP'"])
    secret = make_notebook(title="Secret plans")
    secret.metadata["nbshelf"] = {"marking": "SECRET"}
    write_notebook(mine / "secret.ipynb", secret)
    write_notebook(mine / "reports" / "sales.ipynb", title="Sales 2025", code=[
        "import pandas as pd\ndf = pd.read_csv('data/sales_2025.csv')",
        "hosts = open('../../etc/passwd').read()\nconf = open('/etc/hosts').read()"])
    (mine / "reports" / "data").mkdir()
    (mine / "reports" / "data" / "sales_2025.csv").write_text("region,total\nnorth,12\n")
    with Library.open(library_dir) as lib:
        lib.add_source(mine, name="mine")
        lib.add_source(team, name="team")
        lib.sync()
        lib.settings.set("markings", SCHEME)
        lib.settings.set("marking_ceiling", "CONFIDENTIAL", "team")
        lib.settings.set("marking_required", True, "team")
    return library_dir


def open_dialog(qtbot: Any, runner_for: Any, root: Path, path: str,
                source: str = "team") -> PublishDialog:
    """The dialog for notebook ``mine:path``, shown at a realistic size, its first check in."""
    with Library.open(root, readonly=True) as lib:
        setup = gather_publish(lib, lib.resolve(f"mine:{path}"))
    runner = runner_for(root)
    runner.start()
    dialog = PublishDialog(setup, runner=runner)
    qtbot.addWidget(dialog)
    dialog.source.setCurrentText(source)
    dialog.resize(720, 640)
    dialog.show()
    wait_checked(qtbot, dialog)
    return dialog


def wait_checked(qtbot: Any, dialog: PublishDialog) -> None:
    qtbot.waitUntil(lambda: dialog.checked is not None, timeout=TIMEOUT)


def shoot(qtbot: Any, widget: Any, name: str) -> None:
    uihelpers.shoot(qtbot, widget, f"publish-{name}")


def select_path(qtbot: Any, window: MainWindow, path: str) -> None:
    model = window.model
    qtbot.waitUntil(lambda: any(
        (model.record(r) is not None and model.record(r).path == path)
        for r in range(model.rowCount())), timeout=TIMEOUT)
    row = next(r for r in range(model.rowCount()) if model.record(r).path == path)
    window.table.selectionModel().setCurrentIndex(
        model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    qtbot.waitUntil(lambda: window.pane.info is not None and window.pane.info.path == path,
                    timeout=TIMEOUT)


def in_modal_dialog(steps: list[Callable[[PublishDialog], None]], failures: list[str]) -> None:
    """Run ``steps`` on the publish dialog once it is open, each after the dialog's latest
    check landed (the dialog is modal: the test drives it from timers). A failing step
    closes the dialog so the test never hangs, and is reported through ``failures``."""
    remaining = list(steps)

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PublishDialog) or dialog.checked is None:
            QTimer.singleShot(50, poll)
            return
        step = remaining.pop(0)
        try:
            step(dialog)
        except AssertionError as err:
            failures.append(str(err) or repr(err))
            dialog.reject()
            return
        if remaining:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)


def data_rows(dialog: PublishDialog) -> dict[str, Any]:
    return {dialog.data_list.item(i).data(Qt.ItemDataRole.UserRole): dialog.data_list.item(i)
            for i in range(dialog.data_list.count())}


def test_warnings_make_publish_wait_for_a_deliberate_confirm(qtbot, runner_for, shelf):
    dialog = open_dialog(qtbot, runner_for, shelf, "leaky.ipynb")
    dialog.marking.setCurrentText("UNCLASSIFIED")  # the share takes marked notebooks only
    wait_checked(qtbot, dialog)
    assert dialog.warnings_box.isVisible()
    text = dialog.warnings.text()
    # the title is cell 1, print cell 2, the secrets cell 3: numbered as a person counts
    assert "Cell 3 sets password" in text and "AWS access key" in text
    assert "cell 2" not in text.lower()
    assert dialog.confirm.text() == CONFIRM_TEXT
    assert not dialog.publish_button.isEnabled() and not dialog.publish_button.isDefault()
    assert dialog.cancel_button.isDefault()
    shoot(qtbot, dialog, "warnings")
    qtbot.keyClick(dialog.confirm, Qt.Key.Key_Space)  # reachable from the keyboard
    assert dialog.confirm.isChecked() and dialog.publish_button.isEnabled()
    assert not dialog.publish_button.isDefault()  # Enter never publishes past warnings


def test_a_secret_notebook_to_a_confidential_share_is_refused_before_any_click(
        qtbot, runner_for, shelf, tmp_path):
    dialog = open_dialog(qtbot, runner_for, shelf, "secret.ipynb")
    assert not dialog.publish_button.isEnabled()
    assert dialog.status.text() == ("The notebook is marked SECRET, above what source "
                                    "'team' may hold (CONFIDENTIAL).")
    assert "may hold notebooks marked up to CONFIDENTIAL" in dialog.ceiling.text()
    # its own marking is shown and cannot be lowered here
    assert dialog.marking.currentText() == "SECRET" and not dialog.marking.isEnabled()
    shoot(qtbot, dialog, "ceiling")
    assert list((tmp_path / "team").iterdir()) == []


def test_an_unmarked_notebook_is_marked_in_the_dialog_and_published(
        qtbot, runner_for, shelf, tmp_path):
    window = open_window(qtbot, runner_for, shelf)
    select_path(qtbot, window, "reports/sales.ipynb")
    failures: list[str] = []
    seen: dict[str, Any] = {}

    def to_team(dialog: PublishDialog) -> None:
        dialog.source.setCurrentText("team")  # the check runs again

    def unmarked(dialog: PublishDialog) -> None:
        assert not dialog.publish_button.isEnabled()
        assert "accepts only marked notebooks: choose this notebook's marking above" in (
            dialog.status.text())
        assert dialog.marking.isEnabled() and dialog.marking.currentText() == "Not marked"
        dialog.marking.setCurrentText("CONFIDENTIAL")  # the check runs again

    def marked(dialog: PublishDialog) -> None:
        assert dialog.status.text() == "" and dialog.publish_button.isEnabled()
        assert dialog.publish_button.isDefault()  # no warnings here
        rows = data_rows(dialog)
        seen["rows"] = {path: row.text() for path, row in rows.items()}
        dialog.publish_button.click()

    in_modal_dialog([to_team, unmarked, marked], failures)
    window.publish_action.trigger()
    team = tmp_path / "team"
    qtbot.waitUntil(lambda: (team / "sales.ipynb").is_file() or bool(failures),
                    timeout=TIMEOUT)
    assert not failures, failures
    published = json.loads((team / "sales.ipynb").read_text())
    assert published["metadata"]["nbshelf"]["marking"] == "CONFIDENTIAL"
    qtbot.waitUntil(lambda: "Published team:sales.ipynb" in window.statusBar().currentMessage(),
                    timeout=TIMEOUT)
    assert "data/sales_2025.csv" in seen["rows"]


def test_the_data_file_is_listed_and_published_with_it_and_escapes_never(
        qtbot, runner_for, shelf, tmp_path):
    team = tmp_path / "team"
    dialog = open_dialog(qtbot, runner_for, shelf, "reports/sales.ipynb")
    dialog.marking.setCurrentText("UNCLASSIFIED")
    dialog.path.setText("q3/sales.ipynb")
    dialog.check_now()
    wait_checked(qtbot, dialog)
    rows = data_rows(dialog)
    assert set(rows) == {"data/sales_2025.csv", "../../etc/passwd", "/etc/hosts"}
    good = rows["data/sales_2025.csv"]
    assert good.checkState() == Qt.CheckState.Checked
    assert good.flags() & Qt.ItemFlag.ItemIsUserCheckable
    for bad in ("../../etc/passwd", "/etc/hosts"):
        assert "refused" in rows[bad].text()
        assert not rows[bad].flags() & Qt.ItemFlag.ItemIsUserCheckable
        assert not rows[bad].flags() & Qt.ItemFlag.ItemIsEnabled
    assert "leads out of the notebook's folder" in rows["../../etc/passwd"].text()
    assert dialog.data_box.isVisible()
    shoot(qtbot, dialog, "data-files")
    choice = dialog.choices()
    assert choice.data == ["data/sales_2025.csv"] and choice.path == "q3/sales.ipynb"
    # publish what the dialog chose, as the window does, on the write lane
    from nbshelf.ui.tasks import Lane

    done: list[Any] = []
    dialog._runner.task(lambda lib, _job: lib.publish(
        dialog.setup.blob, choice.source, as_path=choice.path, marking=choice.marking,
        data=choice.data, data_from=choice.data_from), lane=Lane.WRITE).on_success(
        done.append).start()
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT)
    assert (team / "q3" / "data" / "sales_2025.csv").read_text() == "region,total\nnorth,12\n"
    assert not any("passwd" in p.name or "hosts" in p.name for p in team.rglob("*"))
    health: list[Any] = []
    dialog._runner.task(lambda lib, _job: lib.health("team:q3/sales.ipynb")).on_success(
        health.append).start()
    qtbot.waitUntil(lambda: bool(health), timeout=TIMEOUT)
    assert health[0][0].missing_files == ["../../etc/passwd"]  # never copied, still missing
    assert "data/sales_2025.csv" not in health[0][0].missing_files


def test_a_conflict_offers_three_plain_choices_and_a_new_name_keeps_theirs(
        qtbot, runner_for, shelf, tmp_path):
    team = tmp_path / "team"
    window = open_window(qtbot, runner_for, shelf)
    theirs = make_notebook(title="Their sales")
    theirs.metadata["nbshelf"] = {"marking": "UNCLASSIFIED"}
    write_notebook(team / "sales.ipynb", theirs)  # on the share since the app's sync
    before = (team / "sales.ipynb").read_bytes()
    select_path(qtbot, window, "reports/sales.ipynb")
    failures: list[str] = []
    texts: dict[str, str] = {}

    def choose_marking(dialog: PublishDialog) -> None:
        dialog.source.setCurrentText("team")
        dialog.marking.setCurrentText("UNCLASSIFIED")

    def conflict(dialog: PublishDialog) -> None:
        assert dialog.conflict_box.isVisible() and not dialog.publish_button.isVisible()
        buttons = [b.text().replace("&", "") for b in dialog.buttons.buttons()
                   if b.isVisible()]
        assert sorted(buttons) == sorted(["Publish under a new name", "Replace theirs",
                                          "Cancel"])
        assert dialog.new_name_button.isDefault()  # the choice that loses nothing
        texts["conflict"] = dialog.conflict.text()
        texts["all"] = "\n".join(w.text() for w in dialog.findChildren(type(dialog.status)))
        dialog.resize(720, 640)
        shoot(qtbot, dialog, "conflict")
        dialog.new_name_button.click()

    in_modal_dialog([choose_marking, conflict], failures)
    window.publish_action.trigger()
    qtbot.waitUntil(lambda: (team / "sales (2).ipynb").is_file() or bool(failures),
                    timeout=TIMEOUT)
    assert not failures, failures
    assert "Someone else already has a notebook with this name on the share" in (
        texts["conflict"]) or "Someone changed this notebook" in texts["conflict"]
    assert "“sales (2).ipynb”" in texts["conflict"]
    assert "--as" not in texts["all"] and "--force" not in texts["all"]
    assert (team / "sales.ipynb").read_bytes() == before  # theirs intact
    assert "Sales 2025" in (team / "sales (2).ipynb").read_text()


def test_a_change_on_the_share_after_the_check_is_asked_about_in_plain_words(
        qtbot, runner_for, shelf, tmp_path):
    """Someone publishes between the dialog's check and the click: the window asks with the
    same three choices, and "Replace theirs" replaces."""
    team = tmp_path / "team"
    window = open_window(qtbot, runner_for, shelf)
    select_path(qtbot, window, "reports/sales.ipynb")
    failures: list[str] = []
    asked: list[str] = []

    def choose_marking(dialog: PublishDialog) -> None:
        dialog.source.setCurrentText("team")
        dialog.marking.setCurrentText("UNCLASSIFIED")

    def someone_publishes_then_click(dialog: PublishDialog) -> None:
        assert dialog.checked is not None and dialog.checked.conflict is None
        theirs = make_notebook(title="Sneaked in")
        theirs.metadata["nbshelf"] = {"marking": "UNCLASSIFIED"}
        write_notebook(team / "sales.ipynb", theirs)
        QTimer.singleShot(50, answer_replace)
        dialog.publish_button.click()

    def answer_replace() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, answer_replace)
            return
        asked.append(box.text() + "\n" + box.informativeText() + "\n" + "|".join(
            b.text().replace("&", "") for b in box.buttons()))
        replace = next(b for b in box.buttons() if b.text().replace("&", "") == "Replace theirs")
        replace.click()

    in_modal_dialog([choose_marking, someone_publishes_then_click], failures)
    window.publish_action.trigger()
    qtbot.waitUntil(lambda: bool(failures) or (
        (team / "sales.ipynb").is_file() and "Sales 2025" in (team / "sales.ipynb").read_text()),
        timeout=TIMEOUT)
    assert not failures, failures
    assert asked and asked[0].startswith(
        "Someone changed this notebook on the share since you synced it.")
    assert "Publish under a new name" in asked[0] and "Cancel" in asked[0]
    assert "--as" not in asked[0] and "--force" not in asked[0]
