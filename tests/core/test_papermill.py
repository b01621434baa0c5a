"""nbshelf's parameters and run records beside papermill's own (issue 14).

papermill owns the behaviour: the injected-parameters cell, ``metadata.papermill`` on the
notebook and its cells, the error banners, ``-f``/``-y``/``--prepare-only`` and the
parameters its inspection lists. Each test runs papermill and nbshelf on the same notebook
with the same inputs and compares what they wrote: papermill's own test notebooks (shipped
in its package) and Python, R, Julia (and the other languages papermill translates)
notebooks built here. Notebooks in languages with no kernel here are compared prepared, not
run (``prepare_only``, the kernel named explicitly); one Python notebook is really run by
both, in this environment's ``python3`` kernel.

Where nbshelf differs on purpose the test says so: ``-p`` values typed after the default
(papermill's ``-p b true`` injects the text ``"true"``), tuples and sets written as Python
literals, inf/nan kept as text in the JSON metadata, extra ``metadata.nbshelf``.
"""

from __future__ import annotations

import ast
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat import v4
from papermill.translators import translate_parameters as papermill_translate

from nbshelf.errors import ParameterError
from nbshelf.library import Library
from nbshelf.run.parameters import python_literal, translate_parameters
from tests.helpers import run_cli, write_notebook

PAPERMILL_NOTEBOOKS = Path(papermill.__file__).parent / "tests" / "notebooks"
BANNER_TAG = "papermill-error-cell-tag"


@pytest.fixture(autouse=True)
def _no_black(monkeypatch: pytest.MonkeyPatch) -> None:
    """papermill formats Python parameters with black when it can import it; so would
    nbshelf (it uses papermill's translator). The comparison runs without, as the app's
    bundle does."""
    monkeypatch.setitem(sys.modules, "black", None)


def spec(name: str, language: str) -> dict[str, Any]:
    return {"kernelspec": {"name": name, "display_name": name, "language": language},
            "language_info": {"name": language}}


def notebook(metadata: dict[str, Any], parameters_cell: str | None, *code: str
             ) -> nbformat.NotebookNode:
    nb = v4.new_notebook(metadata=metadata)
    nb.cells.append(v4.new_markdown_cell("# A notebook"))
    if parameters_cell is not None:
        nb.cells.append(v4.new_code_cell(parameters_cell, metadata={"tags": ["parameters"]}))
    nb.cells.extend(v4.new_code_cell(c) for c in code)
    return nb


PYTHON_CELL = """\
s = "text"  # a string
i = 1
big = 2
f = 0.5
neg = -1.0
b = False
n = None
l = [1]
d = {"k": 1}
_private = 0
"""
R_CELL = 's <- "text"  # a string\ni <- 1L\nf <- 0.5\nb <- FALSE\nn <- NULL\n'
JULIA_CELL = 's = "text"  # a string\ni::Int64 = 1\nf = 0.5\nb = false\nn = nothing\n'

#: (language name, kernelspec name, language as the notebook spells it, parameters cell)
LANGUAGES = [
    ("python", "python3", "python", PYTHON_CELL),
    ("r", "ir", "R", R_CELL),
    ("julia", "julia-1.10", "julia", JULIA_CELL),
    ("scala", "scala", "scala", "val s = \"text\"\nval i = 1\n"),
    ("matlab", "matlab", "matlab", "s = \"text\";\ni = 1;\n"),
    ("csharp", ".net-csharp", "C#", "var s = \"text\";\nvar i = 1;\n"),
    ("fsharp", ".net-fsharp", "F#", "let s = \"text\"\nlet i = 1\n"),
    ("powershell", ".net-powershell", "PowerShell", "$s = \"text\"\n$i = 1\n"),
    ("bash", "bash", "bash", "s=text\ni=1\n"),
]

FULL = {
    "s": 'say "hi"\n\tand \\ é', "i": 3, "big": 3_000_000_000, "f": 2.5, "neg": -1e-9,
    "b": True, "n": None, "l": [1, "a", None, False], "d": {"k": [1.5, {"n": False}], "z": "w"},
    "_private": 1,
}
SIMPLE = {"s": "it's", "i": -7, "f": 0.25, "b": False, "l": [1, 2.5, "x"]}


# -- helpers ---------------------------------------------------------------------------------


def library_with(tmp_path: Path, notebooks: dict[str, nbformat.NotebookNode | Path]) -> Library:
    """A library whose one source holds these notebooks (built, or copied from a path)."""
    share = tmp_path / "share"
    share.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        if isinstance(nb, Path):
            shutil.copyfile(nb, share / name)
        else:
            write_notebook(share / name, nb)
    lib = Library.open(tmp_path / "library")
    lib.add_source(share, name="nb")
    report = lib.sync()
    assert not [p for p in report.problems if p.kind != "schema-warning"], report.problems
    return lib


def papermill_prepared(src: Path, out: Path, values: dict[str, Any],
                       kernel_name: str | None = None) -> dict[str, Any]:
    papermill.execute_notebook(str(src), str(out), parameters=values, prepare_only=True,
                               kernel_name=kernel_name, progress_bar=False)
    return json.loads(out.read_text(encoding="utf-8"))


def nbshelf_prepared(lib: Library, ref: str, out: Path, values: dict[str, Any],
                     kernel: str | None = None) -> dict[str, Any]:
    lib.prepare_run(ref, out, values=values or None, kernel=kernel)
    return json.loads(out.read_text(encoding="utf-8"))


def injected(nb: dict[str, Any]) -> dict[str, Any] | None:
    found = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(found) <= 1
    return found[0] if found else None


def assert_same_prepared(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    """Prepared notebooks agree: every cell (type, source, metadata, outputs, prompt) and
    the notebook's metadata, ``metadata.papermill`` included (nothing in it is a time)."""
    assert len(ours["cells"]) == len(theirs["cells"])
    for mine, papers in zip(ours["cells"], theirs["cells"], strict=True):
        for key in ("cell_type", "source", "metadata", "outputs", "execution_count"):
            assert mine.get(key) == papers.get(key), (key, mine, papers)
    assert ours["metadata"] == theirs["metadata"]
    assert (ours["nbformat"], ours["nbformat_minor"]) == (theirs["nbformat"],
                                                          theirs["nbformat_minor"])


# -- papermill's own test notebooks, prepared -----------------------------------------------


@pytest.fixture
def papermill_notebooks() -> Path:
    if not (PAPERMILL_NOTEBOOKS / "simple_execute.ipynb").is_file():
        pytest.skip("papermill's test notebooks are not in this papermill install; the "
                    "notebooks built in the tests below cover the same cases")
    return PAPERMILL_NOTEBOOKS


PAPERMILL_CASES = [
    ("simple_execute.ipynb", {"msg": "Hello"}, None),
    ("complex_parameters.ipynb", {"msg": "x", "a": 1.5, "b": ["a", "b"], "c": None}, None),
    ("no_parameters.ipynb", {"msg": "Hi", "n": 3}, None),  # no parameters cell: on top
    ("nb_version_4.4.ipynb", {"var": 2}, None),  # v4.4: upgraded to 4.5 by both
    ("result_no_exec.ipynb", {"foo": 2, "bar": "bye"}, None),  # old metadata.papermill kept
    ("broken1.ipynb", {}, None),  # stale error banners dropped; nothing injected
    ("broken2.ipynb", {"x": 1}, None),
    ("notimplemented_translator.ipynb", {"msg": "x"}, None),  # an R notebook
    ("simple_execute.ipynb", {"msg": "for R"}, "ir"),  # papermill -k: kernel not installed
]


@pytest.mark.parametrize(("name", "values", "kernel"), PAPERMILL_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in PAPERMILL_CASES])
def test_papermills_notebooks_prepare_as_papermill_prepares_them(
    tmp_path: Path, papermill_notebooks: Path, name: str, values: dict[str, Any],
    kernel: str | None,
) -> None:
    lib = library_with(tmp_path, {name: papermill_notebooks / name})
    out = tmp_path / "out.ipynb"  # one output path, so output_path agrees too
    theirs = papermill_prepared(tmp_path / "share" / name, out, values, kernel)
    ours = nbshelf_prepared(lib, f"nb:{name}", out, values, kernel)
    lib.close()
    assert_same_prepared(theirs, ours)
    assert not [c for c in ours["cells"] if BANNER_TAG in c["metadata"].get("tags", [])]
    assert ours["metadata"]["papermill"]["input_path"] == str(tmp_path / "share" / name)
    assert ours["metadata"]["papermill"]["output_path"] == str(out)


def test_parameters_listed_as_papermills_inspection_lists_them(
    tmp_path: Path, papermill_notebooks: Path, library_dir: Path,
) -> None:
    names = ["complex_parameters.ipynb", "simple_execute.ipynb", "no_parameters.ipynb"]
    lib = library_with(tmp_path, {n: papermill_notebooks / n for n in names})
    lib.close()
    for name in names:
        theirs = papermill.inspect_notebook(str(papermill_notebooks / name))
        listed = run_cli(library_dir, "parameters", f"nb:{name}", "--json")
        shown = run_cli(library_dir, "show", f"nb:{name}", "--json")
        assert listed.code == 0 and shown.code == 0, listed.stderr + shown.stderr
        ours = {p["name"]: p for p in listed.json["parameters"]}
        assert shown.json["parameters"] == listed.json["parameters"]
        for pname, param in theirs.items():
            assert ours[pname]["default"] == param["default"]
            assert ours[pname]["help"] == param["help"]
            if param["inferred_type_name"] in ("float", "int", "str", "bool", "None"):
                assert ours[pname]["type"] == param["inferred_type_name"]
        # papermill's line-based reader skips `d = a == 3` (two '='); nbshelf reads Python
        assert set(ours) - set(theirs) <= {"d"}
    complex_ = run_cli(library_dir, "parameters", "nb:complex_parameters.ipynb", "--json").json
    assert {p["name"]: p["type"] for p in complex_["parameters"]} == {
        "msg": "None", "a": "float", "b": "list", "c": "None", "d": "expression"}
    human = run_cli(library_dir, "parameters", "nb:complex_parameters.ipynb")
    assert "  a: float (default 2.25)         Variable a" in human.stdout


# -- every language papermill translates, prepared ------------------------------------------


@pytest.mark.parametrize(("key", "kernel_name", "language", "cell"), LANGUAGES,
                         ids=[x[0] for x in LANGUAGES])
@pytest.mark.parametrize("values", [FULL, SIMPLE], ids=["full", "simple"])
def test_every_language_gets_papermills_cell(
    tmp_path: Path, key: str, kernel_name: str, language: str, cell: str,
    values: dict[str, Any],
) -> None:
    nb = notebook(spec(kernel_name, language), cell, "x = 1")
    out = tmp_path / "out.ipynb"
    with library_with(tmp_path, {f"{key}.ipynb": nb}) as lib:
        try:
            theirs = papermill_prepared(tmp_path / "share" / f"{key}.ipynb", out, values,
                                        kernel_name)
        except NotImplementedError:
            # papermill's C# translator has no None, its bash translator no dictionaries:
            # nbshelf refuses the same values, in words, before writing anything
            out.unlink(missing_ok=True)
            with pytest.raises(ParameterError, match="papermill cannot write"):
                lib.prepare_run(f"nb:{key}.ipynb", out, values=values, kernel=kernel_name)
            assert not out.exists()
            return
        ours = nbshelf_prepared(lib, f"nb:{key}.ipynb", out, values, kernel_name)
    assert_same_prepared(theirs, ours)
    mine, papers = injected(ours), injected(theirs)
    assert mine is not None and papers is not None
    assert (mine["source"], mine["metadata"]["tags"]) == (papers["source"],
                                                          papers["metadata"]["tags"])


def test_non_finite_floats_are_injected_as_papermill_writes_them(tmp_path: Path) -> None:
    values = {"a": math.inf, "b": -math.inf, "c": math.nan, "d": 1.5}
    for key, kernel_name, language, cell in LANGUAGES:
        declared = "a = 1.0\nb = 1.0\nc = 1.0\nd = 1.0" if key == "python" else cell
        nb = notebook(spec(kernel_name, language), declared)
        lib = library_with(tmp_path / key, {"n.ipynb": nb})
        out = tmp_path / key / "out.ipynb"
        theirs = papermill_prepared(tmp_path / key / "share" / "n.ipynb", out, values,
                                    kernel_name)
        ours = nbshelf_prepared(lib, "nb:n.ipynb", out, values, kernel_name)
        lib.close()
        assert injected(ours)["source"] == injected(theirs)["source"], key  # type: ignore[index]
        # the one difference: papermill writes NaN/Infinity into the JSON (not JSON);
        # nbshelf keeps them as text there
        assert ours["metadata"]["papermill"]["parameters"] == {
            "a": "inf", "b": "-inf", "c": "nan", "d": 1.5}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), JSON_VALUES,
                       max_size=5),
       st.sampled_from([(k, lang) for _, k, lang, _ in LANGUAGES]))
def test_any_yaml_values_translate_as_papermill_translates_them(
    values: dict[str, Any], kernel: tuple[str, str],
) -> None:
    kernel_name, language = kernel
    try:
        theirs = papermill_translate(kernel_name, language, values, "Parameters")
    except NotImplementedError:
        with pytest.raises(ParameterError):
            translate_parameters(values, kernel_name=kernel_name, languages=[language])
        return
    assert translate_parameters(values, kernel_name=kernel_name, languages=[language]) == theirs


@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.frozensets(st.integers() | st.text(), max_size=3)
    | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
))
def test_typed_python_values_read_back_as_themselves(value: Any) -> None:
    # tuples and sets come only from nbshelf's typed -p (papermill would write their text)
    assert ast.literal_eval(python_literal(value)) == value


# -- one real run each, side by side --------------------------------------------------------


@pytest.fixture(scope="module")
def python3_kernel() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("no 'python3' kernelspec here: papermill has no kernel to run in")
    return "python3"


def run_both(tmp_path: Path, nb: nbformat.NotebookNode, values: dict[str, Any]
             ) -> tuple[dict[str, Any], dict[str, Any], Any]:
    lib = library_with(tmp_path, {"run.ipynb": nb})
    share = tmp_path / "share"
    out = tmp_path / "out.ipynb"
    try:
        papermill.execute_notebook(str(share / "run.ipynb"), str(out), parameters=values,
                                   kernel_name="python3", progress_bar=False, cwd=str(share))
    except papermill.PapermillExecutionError:
        pass  # written first, raised after: as a failed nbshelf run
    theirs = json.loads(out.read_text(encoding="utf-8"))
    result = lib.run("nb:run.ipynb", kernel="python3", values=values, output=out)
    ours = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(result.record.read_text(encoding="utf-8")) == ours  # -o: the same
    lib.close()
    return theirs, ours, result


def _types(meta: dict[str, Any]) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in meta.items()}


def assert_same_run(theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    """Runs agree where runs can: every key and its type, every value that is not a time."""
    pm_theirs, pm_ours = theirs["metadata"]["papermill"], ours["metadata"]["papermill"]
    assert _types(pm_ours) == _types(pm_theirs)
    for key in ("parameters", "default_parameters", "environment_variables", "input_path",
                "output_path", "version", "exception"):
        assert pm_ours[key] == pm_theirs[key], key
    assert set(ours["metadata"]) - set(theirs["metadata"]) == {"nbshelf"}
    assert len(ours["cells"]) == len(theirs["cells"])
    for mine, papers in zip(ours["cells"], theirs["cells"], strict=True):
        assert (mine["cell_type"], mine["source"]) == (papers["cell_type"], papers["source"])
        assert mine["metadata"].get("tags") == papers["metadata"].get("tags")
        assert sorted(mine["metadata"]) == sorted(papers["metadata"])
        cell_ours, cell_theirs = (mine["metadata"].get("papermill"),
                                  papers["metadata"].get("papermill"))
        if cell_theirs is None:  # a banner cell
            assert cell_ours is None
            continue
        assert _types(cell_ours) == _types(cell_theirs)
        assert (cell_ours["status"], cell_ours["exception"]) == (
            cell_theirs["status"], cell_theirs["exception"])
        assert mine.get("execution_count") == papers.get("execution_count")
        assert [o["output_type"] for o in mine.get("outputs", [])] == [
            o["output_type"] for o in papers.get("outputs", [])]


def test_a_run_records_what_papermills_run_records(tmp_path: Path, python3_kernel: str) -> None:
    nb = notebook(spec("python3", "python"), "alpha = 0.5\nn = 3",
                  "print(alpha, n)", "", "x = n * 2\nx")
    nb.cells.insert(3, v4.new_markdown_cell("between"))
    theirs, ours, result = run_both(tmp_path, nb, {"alpha": 0.7, "n": 4})
    assert result.status == "ok"
    assert_same_run(theirs, ours)
    assert ours["metadata"]["papermill"]["exception"] is None
    assert not [c for c in ours["cells"] if BANNER_TAG in c["metadata"].get("tags", [])]


def test_a_failed_run_gets_papermills_banners_at_the_failing_cell(
    tmp_path: Path, python3_kernel: str,
) -> None:
    nb = notebook(spec("python3", "python"), "alpha = 0.5",
                  "print(alpha)", "1 / 0", "print('never')")
    nb.cells.insert(2, v4.new_markdown_cell("counts differ from indices"))
    theirs, ours, result = run_both(tmp_path, nb, {"alpha": 1.5})
    assert result.status == "error" and result.failed_cell == 4
    assert_same_run(theirs, ours)
    banners = [i for i, c in enumerate(ours["cells"])
               if BANNER_TAG in c["metadata"].get("tags", [])]
    assert banners == [0, 6]  # on top, and just before "1 / 0"
    assert "In [4]" in "".join(ours["cells"][0]["source"])
    assert [c["metadata"]["papermill"]["status"] for c in ours["cells"]
            if "papermill" in c["metadata"]] == [
        "completed", "completed", "completed", "completed", "completed", "failed", "pending"]


# -- the command line: -f, -y, --prepare-only, -o --------------------------------------------


@pytest.fixture
def cli_library(tmp_path: Path, library_dir: Path) -> Iterator[Path]:
    nb = notebook(spec("python3", "python"), 'alpha = 0.5  # rate\nn = 1\nregion = "north"\n'
                  "verbose = False\nwhen = None", "print(alpha, n, region, verbose, when)")
    r_nb = notebook(spec("ir", "R"), "flag <- FALSE\nk <- 1L", "print(flag)")
    lib = library_with(tmp_path, {"p.ipynb": nb, "r.ipynb": r_nb})
    lib.close()
    yield library_dir


def papermill_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "papermill", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)


def test_yaml_file_and_string_merge_as_papermills_command_line_merges_them(
    tmp_path: Path, cli_library: Path,
) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("alpha: 0.1\nn: 1\nregion: from-file\nwhen: 2024-01-02\n")
    source = tmp_path / "share" / "p.ipynb"
    theirs_path, ours_path = tmp_path / "theirs.ipynb", tmp_path / "ours.ipynb"
    args = ["-f", str(params), "-y", "n: 2\nregion: from-yaml", "-p", "region", "from-p"]
    done = papermill_cli(str(source), str(theirs_path), *args, "--prepare-only")
    assert done.returncode == 0, done.stderr
    ours = run_cli(cli_library, "run", "nb:p.ipynb", "-f", str(params), "-y",
                   "n: 2\nregion: from-yaml", "-p", "region=from-p", "--prepare-only",
                   "-o", str(ours_path), "--json")
    assert ours.code == 0, ours.stderr
    theirs_nb = json.loads(theirs_path.read_text())
    ours_nb = json.loads(ours_path.read_text())
    assert injected(ours_nb)["source"] == injected(theirs_nb)["source"]  # type: ignore[index]
    assert ours_nb["metadata"]["papermill"]["parameters"] == {
        "alpha": 0.1, "n": 2, "region": "from-p", "when": "2024-01-02"}  # dates stay text
    assert ours_nb["metadata"]["papermill"]["parameters"] == (
        theirs_nb["metadata"]["papermill"]["parameters"])
    assert ours.json["status"] == "prepared" and ours.json["record"] is None


def test_prepare_only_writes_without_running_or_recording(
    tmp_path: Path, cli_library: Path,
) -> None:
    out = tmp_path / "prepared.ipynb"
    holder = Library.open(cli_library)  # another process writes: prepare-only only reads
    try:
        done = run_cli(cli_library, "--wait", "0", "run", "nb:p.ipynb", "-p", "n=5",
                       "--prepare-only", "-o", str(out), "--json")
    finally:
        holder.close()
    assert done.code == 0, done.stderr
    nb = json.loads(out.read_text())
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in nb["cells"] if c["cell_type"] == "code")
    assert "start_time" not in nb["metadata"]["papermill"]  # nothing ran
    assert "nbshelf" not in nb["metadata"]
    assert run_cli(cli_library, "runs", "nb:p.ipynb", "--json").json == {"runs": []}
    missing = run_cli(cli_library, "run", "nb:p.ipynb", "--prepare-only")
    assert missing.code == 1 and "-o PATH" in missing.stderr


def test_o_writes_the_record_copy_and_never_over_the_notebook(
    tmp_path: Path, cli_library: Path,
) -> None:
    source = tmp_path / "share" / "p.ipynb"
    before = source.read_bytes()
    refused = run_cli(cli_library, "run", "nb:p.ipynb", "-o", str(source), "--json")
    assert refused.code == 1 and "never writes over a notebook" in refused.stderr
    prepared = run_cli(cli_library, "run", "nb:p.ipynb", "--prepare-only", "-o", str(source))
    assert prepared.code == 1 and source.read_bytes() == before
    assert run_cli(cli_library, "runs", "nb:p.ipynb", "--json").json == {"runs": []}

    out = tmp_path / "copy.ipynb"
    done = run_cli(cli_library, "run", "nb:p.ipynb", "-o", str(out), "--json")
    assert done.code == 0, done.stderr
    assert done.json["output"] == str(out)
    assert out.read_bytes() == Path(done.json["record"]).read_bytes()
    assert json.loads(out.read_text())["metadata"]["papermill"]["output_path"] == str(out)


def test_typed_coercion_still_beats_papermills_text(tmp_path: Path, cli_library: Path) -> None:
    ours_path, theirs_path = tmp_path / "ours.ipynb", tmp_path / "theirs.ipynb"
    done = run_cli(cli_library, "run", "nb:p.ipynb", "-p", "verbose=true", "-p", "alpha=1",
                   "--prepare-only", "-o", str(ours_path))
    assert done.code == 0, done.stderr
    source = "".join(injected(json.loads(ours_path.read_text()))["source"])  # type: ignore[index]
    assert source == "# Parameters\nverbose = True\nalpha = 1.0\n"
    # papermill's own -p reads "true" as text and 1 as an int, whatever the defaults say
    papermill_cli(str(tmp_path / "share" / "p.ipynb"), str(theirs_path), "-p", "verbose",
                  "true", "-p", "alpha", "1", "--prepare-only")
    theirs = "".join(injected(json.loads(theirs_path.read_text()))["source"])  # type: ignore[index]
    assert theirs == '# Parameters\nverbose = "true"\nalpha = 1\n'
    # and in R: typed after `flag <- FALSE`, written by papermill's R translator
    done = run_cli(cli_library, "run", "nb:r.ipynb", "-p", "flag=yes", "-p", "k=2",
                   "--prepare-only", "-o", str(ours_path))
    assert done.code == 0, done.stderr
    source = "".join(injected(json.loads(ours_path.read_text()))["source"])  # type: ignore[index]
    assert source == "# Parameters\nflag = TRUE\nk = 2\n"
    bad = run_cli(cli_library, "run", "nb:r.ipynb", "-p", "flag=maybe", "--prepare-only",
                  "-o", str(ours_path))
    assert bad.code == 1 and "true or false" in bad.stderr


def test_a_stale_banner_is_dropped_from_a_run_that_succeeds(
    tmp_path: Path, python3_kernel: str,
) -> None:
    nb = notebook(spec("python3", "python"), None, "print('fine')")
    message = v4.new_markdown_cell("An Exception was encountered at 'In [1]'.")
    anchor = v4.new_markdown_cell("Execution using papermill encountered an exception here")
    for banner in (message, anchor):
        banner.metadata["tags"] = [BANNER_TAG]
    nb.cells.insert(0, message)
    nb.cells.insert(2, anchor)
    lib = library_with(tmp_path, {"stale.ipynb": nb})
    events: list[Any] = []
    result = lib.run("nb:stale.ipynb", kernel=python3_kernel, on_event=events.append)
    lib.close()
    assert result.status == "ok"
    record = json.loads(result.record.read_text())
    assert not [c for c in record["cells"] if BANNER_TAG in c["metadata"].get("tags", [])]
    assert record["metadata"]["papermill"]["exception"] is None
    # events keep the indices of the notebook given (banners and all)
    assert [e.index for e in events if e.kind == "started"] == [3]


# -- what papermill cannot inspect: parameters cells in other languages -----------------------

LINE_CELLS = {
    "R": ('alpha <- 0.5  # rate\nn = 10L\nname <- "x # not a comment"\nflag <- TRUE\n'
          "none <- NULL\nxs <- c(1, 2)\nopts <- list(a = 1)\nd <- Sys.Date()\n",
          [("alpha", "float", "0.5", "rate"), ("n", "int", "10L", ""),
           ("name", "str", '"x # not a comment"', ""), ("flag", "bool", "TRUE", ""),
           ("none", "None", "NULL", ""), ("xs", "list", "c(1, 2)", ""),
           ("opts", "dict", "list(a = 1)", ""), ("d", "expression", "Sys.Date()", "")]),
    "julia": ('alpha = 0.5  # rate\nn::Float64 = 10\nz = nothing\nd = Dict("a" => 1)\n',
              [("alpha", "float", "0.5", "rate"), ("n", "float", "10", ""),
               ("z", "None", "nothing", ""), ("d", "dict", 'Dict("a" => 1)', "")]),
    "scala": ('val alpha = 0.5 // rate\nval n: Long = 10\nval xs = Seq(1, 2)\n',
              [("alpha", "float", "0.5", "rate"), ("n", "int", "10", ""),
               ("xs", "list", "Seq(1, 2)", "")]),
    "matlab": ("alpha = 0.5; % rate\nflag = true;\n",
               [("alpha", "float", "0.5", "rate"), ("flag", "bool", "true", "")]),
    "C#": ('var alpha = 0.5; // rate\nstring name = "x";\n',
           [("alpha", "float", "0.5", "rate"), ("name", "str", '"x"', "")]),
    "F#": ('let alpha = 0.5 // rate\nlet name = "x" (* the name *)\n',
           [("alpha", "float", "0.5", "rate"), ("name", "str", '"x"', "the name")]),
    "PowerShell": ("$alpha = 0.5 # rate\n[int]$n = 10\n$flag = $True\n$h = @{a = 1}\n",
                   [("alpha", "float", "0.5", "rate"), ("n", "int", "10", ""),
                    ("flag", "bool", "$True", ""), ("h", "dict", "@{a = 1}", "")]),
    "bash": ('alpha=0.5 # rate\nname="x y"\nword=hello\nz=\n',
             [("alpha", "float", "0.5", "rate"), ("name", "str", '"x y"', ""),
              ("word", "str", "hello", ""), ("z", "None", "", "")]),
}


@pytest.mark.parametrize("language", sorted(LINE_CELLS))
def test_other_languages_parameters_are_read_line_by_line(language: str) -> None:
    from nbshelf.run.parameters import parse_parameters_cell

    source, expected = LINE_CELLS[language]
    found = parse_parameters_cell(source, language)
    assert [(p.name, p.type, p.default, p.help) for p in found] == expected


def test_a_julia_value_is_typed_after_its_default(tmp_path: Path) -> None:
    nb = notebook(spec("julia-1.10", "julia"), "flag = false\nn::Float64 = 1", "println(n)")
    out = tmp_path / "out.ipynb"
    with library_with(tmp_path, {"j.ipynb": nb}) as lib:
        assert [(p.name, p.type) for p in lib.parameters("nb:j.ipynb")] == [
            ("flag", "bool"), ("n", "float")]
        lib.prepare_run("nb:j.ipynb", out, parameters={"flag": "on", "n": "2"})
    source = "".join(injected(json.loads(out.read_text()))["source"])  # type: ignore[index]
    assert source == "# Parameters\nflag = true\nn = 2.0\n"
