"""Double-click support on Linux: registering .ipynb for the current user, without root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging" / "linux"


@pytest.mark.skipif(shutil.which("xdg-mime") is None, reason="xdg-utils is not installed")
def test_install_registers_nbshelf_for_ipynb_and_uninstall_removes_it(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    exe = Path(sys.executable).with_name("nbshelf")
    subprocess.run([str(PACKAGING / "install-association.sh"), str(exe)], env=env, check=True,
                   capture_output=True)

    xdg_mime = shutil.which("xdg-mime") or "xdg-mime"

    def default() -> str:
        return subprocess.run([xdg_mime, "query", "default", "application/x-ipynb+json"],
                              env=env, capture_output=True, text=True, check=False).stdout.strip()

    assert default() == "nbshelf.desktop"
    desktop = (tmp_path / "data" / "applications" / "nbshelf.desktop").read_text()
    assert f'Exec="{exe}" %f' in desktop and "MimeType=application/x-ipynb+json;" in desktop
    assert (tmp_path / "data" / "icons" / "hicolor" / "48x48" / "apps" / "nbshelf.png").is_file()
    subprocess.run([str(PACKAGING / "uninstall-association.sh")], env=env, check=True,
                   capture_output=True)
    assert default() != "nbshelf.desktop"
