"""A notebook never runs in a kernel of another language, unless the user insists.

Issue 15: an R notebook on a machine without an R kernel was run in Python (the kernel the
user picked) and recorded a SyntaxError run as the notebook's own. Real library, real
ipykernel; the machine has no R kernel (only Python ones).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbshelf.library import Library
from nbshelf.run.kernels import (
    KernelLanguageMismatch,
    installed_kernels,
    kernels_for,
    no_kernel_sentence,
)
from tests.helpers import run_cli, write_notebook

R_META = {
    "kernelspec": {"name": "ir", "display_name": "R", "language": "R"},
    "language_info": {"name": "R"},
}
R_CODE = ["sales <- read.csv('sales.csv')", "sales$month <- 1"]


@pytest.fixture
def shelf(library: Library, share: Path) -> Library:
    write_notebook(share / "r.ipynb", title="Sales by region (R)", code=R_CODE, metadata=R_META)
    write_notebook(share / "py.ipynb", title="Python one", code=["print(6 * 7)"])
    write_notebook(share / "plain.ipynb", title="No language", code=["print('x')"],
                   metadata={})
    library.add_source(share, name="team")
    library.sync()
    return library


def test_an_r_notebook_is_refused_in_a_python_kernel_and_nothing_is_recorded(
    shelf: Library,
) -> None:
    assert not any(k.language == "r" for k in installed_kernels())  # the machine's state
    with pytest.raises(KernelLanguageMismatch) as err:
        shelf.run("team:r.ipynb", kernel="python3")
    assert str(err.value).startswith("This notebook is written in R, and the kernel ")
    assert shelf.runs("team:r.ipynb") == []
    assert not list((shelf.root / "runs").glob("**/*.ipynb"))


def test_insisting_runs_it_there_and_records_what_happened(shelf: Library) -> None:
    result = shelf.run("team:r.ipynb", kernel="python3", any_language=True)
    assert result.status == "error" and result.failed_cell == 1  # R code fails in Python
    assert [r.kernel for r in shelf.runs("team:r.ipynb")] == ["python3"]


def test_notebooks_of_the_kernels_language_or_of_none_run_as_before(shelf: Library) -> None:
    assert shelf.run("team:py.ipynb", kernel="nbshelf-python3").status == "ok"
    assert shelf.run("team:plain.ipynb", kernel="python3").status == "ok"


def test_the_window_sentence_says_what_is_missing_and_what_to_do() -> None:
    assert no_kernel_sentence("R") == (
        "This notebook is written in R, and no R kernel is installed on this computer. "
        "Ask your IT support to install the R kernel (IRkernel).")
    assert "no Julia kernel" in no_kernel_sentence("julia")
    python = kernels_for("python", installed_kernels())
    assert python and all(k.language == "python" for k in python)
    assert python[0].name == "python3"  # the one a Python notebook runs in by default
    assert kernels_for("r", installed_kernels()) == []


def test_the_command_line_refuses_unless_forced(shelf: Library, library_dir: Path) -> None:
    shelf.close()
    refused = run_cli(library_dir, "run", "team:r.ipynb", "--kernel", "python3", "--json")
    assert refused.code == 1
    message = refused.json["error"]
    assert message.startswith("This notebook is written in R")
    assert "--force-kernel" in message and "Traceback" not in refused.stderr
    assert json.loads(run_cli(library_dir, "runs", "team:r.ipynb", "--json").stdout) == {
        "runs": []}
    forced = run_cli(library_dir, "run", "team:r.ipynb", "--kernel", "python3",
                     "--force-kernel", "--json")
    assert forced.code == 1 and forced.json["status"] == "error"  # it ran, and failed
    assert forced.json["kernel"] == "python3"
    # without --kernel nothing of the notebook's language is found: the old message stays
    missing = run_cli(library_dir, "run", "team:r.ipynb")
    assert missing.code == 1 and "Installed kernels" in missing.stderr


def test_a_python_notebook_runs_in_every_python_kernel_installed(shelf: Library) -> None:
    for kernel in kernels_for("python", installed_kernels()):
        assert shelf.run("team:py.ipynb", kernel=kernel.name).status == "ok"
