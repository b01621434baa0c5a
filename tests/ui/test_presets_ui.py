"""The run form's presets: saving the form's values, then loading them into a new form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbshelf.library import Library
from nbshelf.ui.running import RunDialog, RunSetup

PARAMETERS = [("alpha", "0.5", "float"), ("n", "10", "int"), ("region", "'north'", "str"),
              ("years", "[2020]", "list")]


def setup_for(notebook_id: int, file: Path | None = None) -> RunSetup:
    return RunSetup("Traffic forecast", [("python3", "Python 3")], "python3", None,
                    PARAMETERS, None, notebook_id, file)


def test_saving_then_loading_a_preset_fills_the_form(qtbot: Any, runner_for: Any,
                                                     library_dir: Path, make_share: Any) -> None:
    share = make_share("share", ["Traffic forecast"])
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
        notebook_id = lib.resolve("share:000-traffic-forecast.ipynb")
    runner = runner_for(library_dir)
    runner.start()

    first = RunDialog(setup_for(notebook_id), runner=runner)
    qtbot.addWidget(first)
    assert first.save_preset_button.isVisibleTo(first)
    first.fields["alpha"].setText("0.7")
    first.fields["region"].setText("south")
    first.fields["years"].setText("[2021, 2022]")
    first.save_preset_button.click()
    qtbot.waitUntil(lambda: first.preset_note.text().startswith("Saved"), timeout=10000)
    saved = library_dir / "presets" / f"{notebook_id}.yaml"
    assert saved.is_file()
    assert not (share / "000-traffic-forecast.params.yaml").exists()  # sources stay read-only

    second = RunDialog(setup_for(notebook_id), runner=runner)
    qtbot.addWidget(second)
    assert second.fields["alpha"].text() == "0.5"
    second.load_preset_button.click()
    qtbot.waitUntil(lambda: second.preset_note.text().startswith("Loaded"), timeout=10000)
    assert {name: field.text() for name, field in second.fields.items()} == {
        "alpha": "0.7", "n": "10", "region": "south", "years": "[2021, 2022]"}
    kernel, values = second.choices()
    assert kernel == "python3"
    assert values["alpha"] == "0.7" and values["region"] == "south"  # the run passes them


def test_the_preset_beside_the_notebook_and_a_bad_value(qtbot: Any, runner_for: Any,
                                                       library_dir: Path,
                                                       make_share: Any) -> None:
    share = make_share("share", ["Traffic forecast"])
    (share / "000-traffic-forecast.params.yaml").write_text("n: 42\nother: 1\n",
                                                            encoding="utf-8")
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
        notebook_id = lib.resolve("share:000-traffic-forecast.ipynb")
    runner = runner_for(library_dir)
    runner.start()
    dialog = RunDialog(setup_for(notebook_id, share / "000-traffic-forecast.ipynb"),
                       runner=runner)
    qtbot.addWidget(dialog)
    dialog.load_preset_button.click()
    qtbot.waitUntil(lambda: dialog.preset_note.text().startswith("Loaded"), timeout=10000)
    assert dialog.fields["n"].text() == "42"
    assert "other" in dialog.preset_note.text()
    dialog.fields["n"].setText("ten")
    dialog.save_preset_button.click()
    assert dialog.preset_note.text().startswith("Not saved:")
    assert not (library_dir / "presets").exists()


def test_the_run_setup_knows_where_the_notebook_file_is(library_dir: Path,
                                                        make_share: Any) -> None:
    from nbshelf.ui.running import gather_setup

    share = make_share("share", ["Traffic forecast"])
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
        setup = gather_setup(lib, lib.resolve("share:000-traffic-forecast.ipynb"))
    assert setup.notebook_file == share / "000-traffic-forecast.ipynb"
