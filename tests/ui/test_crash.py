"""Bugs reach the crash log (and, unattended, stderr and an exit code)."""

from __future__ import annotations

import sys

from nbshelf.ui.crash import CrashHandler, log_folder


def test_a_bug_is_logged_and_ends_an_unattended_app(qapp, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    codes: list[int] = []
    handler = CrashHandler(lambda: None, end=codes.append)
    handler.install()
    try:
        assert sys.excepthook is handler
        try:
            raise RuntimeError("something broke")
        except RuntimeError as err:
            sys.excepthook(type(err), err, err.__traceback__)
    finally:
        handler.uninstall()
    assert sys.excepthook is not handler
    assert codes == [CrashHandler.EXIT_CODE]
    assert str(tmp_path) in str(log_folder())
    log = (log_folder() / "crash.log").read_text(encoding="utf-8")
    assert "RuntimeError: something broke" in log and "(app)" in log
    assert "RuntimeError: something broke" in capsys.readouterr().err
