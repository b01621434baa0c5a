"""Help → Keyboard Shortcuts lists every key the window answers to, read from the window."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from nbshelf.library import Library
from nbshelf.ui.shortcuts import key_text
from tests.ui.uihelpers import open_window, shoot


def _every_key(window) -> set[str]:
    keys = {key_text(k) for a in window.findChildren(QAction) for k in a.shortcuts()}
    keys |= {key_text(k) for s in window.findChildren(QShortcut) for k in s.keys()}
    keys |= {key_text(k) for w in window.findChildren(QWidget) for a in w.actions()
             for k in a.shortcuts()}
    return {k for k in keys if k}


def test_the_shortcuts_list_holds_every_shortcut_of_the_window(
    qtbot, runner_for, library_dir, make_share
):
    with Library.open(library_dir) as lib:
        lib.add_source(make_share("share", ["One", "Two"]))
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir)
    # a shortcut added later, anywhere in the window, is listed too: nothing to keep in step
    extra = QShortcut(QKeySequence("Ctrl+Alt+J"), window.pane)
    extra.setWhatsThis("Jump somewhere")
    dialog = window.show_shortcuts()
    listed = dialog.keys()
    expected = _every_key(window)
    assert expected <= listed, expected - listed
    assert len(expected) >= 20
    rows = {(dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text())
            for r in range(dialog.table.rowCount())}
    assert ("Ctrl+Alt+J", "Jump somewhere") in rows
    assert ("Ctrl+,", "Settings") in rows
    assert ("Alt+3", "Show the History Tab") in rows
    assert ("Ctrl+/", "Keyboard Shortcuts") in rows
    shoot(qtbot, dialog, "admin-shortcuts")
    # reachable from the keyboard, and from the Help menu
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert window.shortcuts_action in help_menu.actions()


def test_no_two_actions_of_the_window_share_a_key(qtbot, runner_for, library_dir):
    window = open_window(qtbot, runner_for, library_dir)
    seen: dict[str, str] = {}
    for action in window.actions():
        for key in action.shortcuts():
            text = key_text(key)
            assert text not in seen, f"{text}: {seen.get(text)} and {action.text()}"
            seen[text] = action.text()
