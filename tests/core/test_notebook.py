"""Reading notebooks: titles, headings, kernels, languages and imports as a user expects."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat import v4

from nbshelf.errors import NotebookInvalid
from nbshelf.notebook import parse_notebook
from tests.helpers import make_notebook


def parse(nb: nbformat.NotebookNode, name: str = "nb.ipynb"):
    return parse_notebook(nbformat.writes(nb).encode(), name).summary


def test_title_is_first_heading_without_markdown_decoration() -> None:
    nb = make_notebook(title="[Monthly **sales**](http://x) report", markdown=["## Data", "text"])
    summary = parse(nb)
    assert summary.title == "Monthly sales report"
    assert summary.headings == ["Monthly sales report", "Data"]


def test_title_falls_back_to_file_name_and_ignores_fenced_code() -> None:
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("```\n# not a heading\n```\nplain words")])
    assert parse(nb, "team/cleanup_q3.ipynb").title == "Cleanup q3"  # the name in words


def test_setext_and_html_headings() -> None:
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("Overview\n========\n<h2>Inputs</h2>")])
    assert parse(nb).headings == ["Overview", "Inputs"]


def test_python_imports_survive_magics_shell_lines_and_syntax_errors() -> None:
    code = [
        "%matplotlib inline\nimport numpy as np, os.path\n!pip install foo\nx = np.array([",
        "from pandas.io import json as pj\nfrom . import local\n"
        "from sklearn.linear_model import (\n    LinearRegression,\n)",
        "%%bash\nimport notpython",
        "try:\n    import scipy.stats\nexcept ImportError:\n    pass",
    ]
    summary = parse(make_notebook(code=code))
    assert summary.imports == ["numpy", "os", "pandas", "scipy", "sklearn"]


def test_r_and_julia_packages() -> None:
    r_meta = {"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}}
    r_nb = make_notebook(code=['library(ggplot2)\nrequire("dplyr")\nx <- readr::read_csv("a")'],
                         metadata=r_meta)
    summary = parse(r_nb)
    assert (summary.language, summary.kernel_name) == ("r", "ir")
    assert summary.imports == ["dplyr", "ggplot2", "readr"]
    jl_meta = {"kernelspec": {"name": "julia-1.9", "language": "julia", "display_name": "Julia"}}
    jl_nb = make_notebook(code=["using DataFrames, CSV\nimport Plots: plot\nusing .Local"],
                          metadata=jl_meta)
    assert parse(jl_nb).imports == ["CSV", "DataFrames", "Plots"]


def test_language_is_guessed_when_metadata_is_silent() -> None:
    nb = make_notebook(code=["x <- c(1, 2)\nlibrary(stats)\nsummary(x)"], metadata={})
    assert parse(nb).language == "r"
    assert parse(make_notebook(code=["import os\nprint(os.sep)"], metadata={})).language == "python"


def test_counts_and_version() -> None:
    nb = make_notebook(markdown=["a"], code=["1", "2"])
    nb.cells.append(v4.new_raw_cell("raw"))
    s = parse(nb)
    assert (s.n_cells, s.n_markdown, s.n_code, s.n_raw) == (5, 2, 2, 1)
    assert (s.nbformat, s.nbformat_minor) == (4, nb.nbformat_minor)
    assert s.schema_error is None


def test_nbformat_v3_heading_cells_and_input() -> None:
    v3 = {
        "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
        "worksheets": [{"cells": [
            {"cell_type": "heading", "level": 1, "source": ["Old style"], "metadata": {}},
            {"cell_type": "code", "input": ["import math\n", "math.pi"], "language": "python",
             "outputs": [], "collapsed": False, "metadata": {}},
        ], "metadata": {}}],
    }
    s = parse_notebook(json.dumps(v3).encode(), "old.ipynb").summary
    assert (s.title, s.imports, s.nbformat, s.language) == ("Old style", ["math"], 3, "python")


def test_utf8_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + nbformat.writes(make_notebook(title="Bom")).encode()
    assert parse_notebook(data, "bom.ipynb").summary.title == "Bom"


def test_schema_breakage_is_a_warning_not_a_refusal() -> None:
    raw = json.loads(nbformat.writes(make_notebook(title="Odd")))
    del raw["cells"][1]["source"]
    summary = parse_notebook(json.dumps(raw).encode(), "odd.ipynb").summary
    assert summary.title == "Odd"
    assert "'source' is a required property" in summary.schema_error


@pytest.mark.parametrize(
    ("data", "kind", "words"),
    [
        (b"", "empty", "empty"),
        (b'{"cells": [', "invalid-json", "truncated"),
        (b'{"cells": [}', "invalid-json", "line 1, column 12"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not-text", "binary data"),
        (b'{"name": "x"}', "not-a-notebook", "no 'nbformat', 'cells' or 'worksheets'"),
        (b"[1, 2]", "not-a-notebook", "holds a list"),
        (b'{"nbformat": 4, "cells": "oops"}', "not-a-notebook", "'cells' is a string"),
        (b'{"nbformat": 4, "cells": [3]}', "not-a-notebook", "cell 0 is a number"),
        (b'{"nbformat": 5, "cells": []}', "unsupported-version", "nbformat 5 is newer"),
    ],
)
def test_unreadable_content_says_what_is_wrong(data: bytes, kind: str, words: str) -> None:
    with pytest.raises(NotebookInvalid) as info:
        parse_notebook(data, "bad.ipynb")
    assert info.value.kind == kind
    assert words in info.value.message


def _v45(cells: list[dict[str, object]], minor: int = 5) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": minor, "metadata": {},
                       "cells": cells}).encode()


def _md(cell_id: str | None, source: object = "text") -> dict[str, object]:
    cell: dict[str, object] = {"cell_type": "markdown", "metadata": {}, "source": source}
    if cell_id is not None:
        cell["id"] = cell_id
    return cell


@pytest.mark.parametrize(("data", "warning"), [
    (_v45([_md("a"), _md("b"), _md("a")]), "cells 1 and 3 have the same id 'a'"),
    (_v45([_md("a"), _md(None)]), "cell 2 has no id"),
    (_v45([_md("a", 5)]), "cell 1's source is a number, not text"),
], ids=["duplicate-ids", "missing-id-in-4.5", "source-a-number"])
def test_cell_id_and_source_breaches_are_flagged(data: bytes, warning: str) -> None:
    assert warning in (parse_notebook(data, "x.ipynb").summary.schema_error or "")


def test_cells_without_ids_before_4_5_are_fine() -> None:
    assert parse_notebook(_v45([_md(None), _md(None)], minor=4), "x.ipynb").summary \
        .schema_error is None


def test_a_v2_notebook_that_upgrades_cleanly_is_not_flagged() -> None:
    v2 = {"nbformat": 2, "nbformat_minor": 0, "metadata": {"name": "old"},
          "worksheets": [{"cells": [{"cell_type": "code", "input": "1 + 1",
                                     "language": "python", "outputs": [],
                                     "collapsed": False}]}]}
    parsed = parse_notebook(json.dumps(v2).encode(), "old.ipynb")
    assert parsed.summary.nbformat == 2
    assert parsed.summary.schema_error is None
