"""Acceptance on real notebooks by other authors: ../shared/corpus (skipped where missing)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.corpus


def schema_failures(corpus: Path) -> set[str]:
    """The files the corpus README's schema-validation table lists as failing."""
    readme = (corpus / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Schema validation", 1)[1]
    return set(re.findall(r"^\| `([^`]+\.ipynb)` \|", table, flags=re.MULTILINE))


def id_breakage(corpus: Path, paths: list[str]) -> set[str]:
    """Notebooks of nbformat 4.5+ with a cell lacking an id, or with two cells sharing one."""
    broken = set()
    for path in paths:
        nb = json.loads((corpus / path).read_text(encoding="utf-8"))
        cells = nb.get("cells")
        if not isinstance(cells, list):
            continue
        ids = [c.get("id") for c in cells if isinstance(c, dict)]
        present = [i for i in ids if i is not None]
        modern = (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5)
        if (modern and None in ids) or len(present) != len(set(present)):
            broken.add(path)
    return broken


def test_corpus_syncs_every_notebook_and_flags_schema_breakage(
    corpus: Path, library_dir: Path
) -> None:
    with open(corpus / "MANIFEST.tsv", encoding="utf-8") as rows:
        manifest = list(csv.DictReader(rows, delimiter="\t"))
    assert run_cli(library_dir, "source", "add", str(corpus), "--name", "corpus").code == 0
    sync = run_cli(library_dir, "sync", "--json", timeout=600)
    assert sync.code == 0 and "Traceback" not in sync.stderr
    report = sync.json
    assert report["added"] == len(manifest) == 1172
    kinds = {p["kind"] for p in report["problems"]}
    assert kinds == {"schema-warning"}
    flagged = {p["path"] for p in report["problems"]}
    # The corpus README lists 19 files that fail nbformat's schema check. nbshelf flags 18 of
    # them: test2.ipynb is nbformat 2, which nbformat upgrades and then validates (issue 14).
    # It also flags what nbformat's validate() lets pass (issue 14): nbformat 4.5+ notebooks
    # with a cell missing its id, and notebooks whose cells share an id, counted here by a
    # check of the raw JSON independent of nbshelf's reader.
    assert len(schema_failures(corpus)) == 19
    assert flagged >= schema_failures(corpus) - {"edge/jupyter-nbformat/tests/test2.ipynb"}
    assert "edge/jupyter-nbformat/tests/test2.ipynb" not in flagged
    extra = flagged - schema_failures(corpus)
    assert extra == id_breakage(corpus, [row["path"] for row in manifest])
    assert len(extra) == 10
    assert "edge/jupyter-nbformat/tests/invalid.ipynb" in flagged
    again = run_cli(library_dir, "sync", "--json").json
    assert (again["added"], again["unchanged"]) == (0, 1172)
    shown = run_cli(library_dir, "show",
                    "corpus:jakevdp-pythondatasciencehandbook/notebooks/"
                    "03.08-Aggregation-and-Grouping.ipynb", "--json").json
    assert shown["title"] == "Aggregation and Grouping"
    assert {"numpy", "pandas"} <= set(shown["imports"])
