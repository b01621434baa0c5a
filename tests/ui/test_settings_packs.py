"""Settings and packs in the window (issue 15, point 9): what ``nbshelf settings`` and
``nbshelf pack export`` / a pack added as a source do, without the command line."""

from __future__ import annotations

import zipfile

from PySide6.QtWidgets import QDialogButtonBox

from nbshelf.library import Library
from nbshelf.ui.settings_dialog import parse_markings
from tests.helpers import run_cli
from tests.ui.uihelpers import open_window, shoot


def test_markings_are_one_a_line_lowest_first():
    assert parse_markings("OFFICIAL\n\n SECRET ,TOP SECRET\nSECRET") == (
        "OFFICIAL", "SECRET", "TOP SECRET")


def test_settings_are_changed_in_the_window(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    dialog = window.show_settings()
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(save.isEnabled, timeout=10000)
    assert dialog.interval.value() == 15 and dialog.markings.toPlainText() == ""
    dialog.markings.setPlainText("UNCLASSIFIED\nCONFIDENTIAL\nSECRET")
    dialog.interval.setValue(0)
    assert dialog.interval.text() == "Only at start and when asked"
    shoot(qtbot, dialog, "admin-settings")
    dialog.stale.setValue(30)
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        save.click()
    assert window.autosync.interval_minutes == 0 and not window.autosync.timer.isActive()
    assert window.statusBar().currentMessage() == "Settings saved."
    window.close()  # the library's writer goes: the command line reads what was saved
    shown = run_cli(synced, "settings", "--json").json["settings"]
    assert shown["markings"] == ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]
    assert shown["sync_interval_minutes"] == 0 and shown["stale_after_days"] == 30


def test_a_read_only_window_shows_the_settings_greyed(qtbot, runner_for, synced):
    holder = Library.open(synced)
    try:
        holder.settings.set("sync_interval_minutes", 45)
        window = open_window(qtbot, runner_for, synced)
        dialog = window.show_settings()
        qtbot.waitUntil(lambda: dialog.interval.value() == 45, timeout=10000)
        assert not dialog.interval.isEnabled()
        assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()
        assert "changed once it closes" in dialog.note.text()
    finally:
        holder.close()


def test_a_pack_is_exported_and_imported_in_the_window(
    qtbot, runner_for, synced, library_dir, tmp_path
):
    window = open_window(qtbot, runner_for, synced)
    window.run_search("mango")
    qtbot.waitUntil(lambda: window.model.query.text == "mango"
                    and window.model.rowCount() == 1, timeout=10000)
    dialog = window.show_packs()
    assert dialog.export_listed.isChecked()
    assert "the 1 notebook matching “mango”" in dialog.export_listed.text()
    out = tmp_path / "stick" / "mango.zip"
    out.parent.mkdir()
    dialog.export_path.setText(str(out))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.outcome.text().startswith("Exported"), timeout=20000)
    assert dialog.outcome.text() == f"Exported 1 notebook to {out}."
    shoot(qtbot, dialog, "admin-packs")
    with zipfile.ZipFile(out) as zf:
        assert any(name.endswith("mango-prices.ipynb") for name in zf.namelist())
    window.close()

    # On another machine: a new library imports the pack from its window.
    other = tmp_path / "other-library"
    Library.open(other).close()
    second = open_window(qtbot, runner_for, other)
    packs = second.show_packs(importing=True)
    packs.import_path.setText(str(out))
    packs.import_button.click()
    qtbot.waitUntil(lambda: second.model.rowCount() == 1 and not second.syncer.running,
                    timeout=30000)
    assert second.model.record(0).title == "Mango prices"
    listed = run_cli(other, "source", "list", "--json").json["sources"]
    assert [s["kind"] for s in listed] == ["pack"]
