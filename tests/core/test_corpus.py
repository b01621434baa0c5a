"""Acceptance on real notebooks by other authors: ../shared/corpus (skipped where missing)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.corpus


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
    # the corpus README lists 19 files that fail nbformat's schema check
    assert len(flagged) == 19
    assert "edge/jupyter-nbformat/tests/invalid.ipynb" in flagged
    again = run_cli(library_dir, "sync", "--json").json
    assert (again["added"], again["unchanged"]) == (0, 1172)
    shown = run_cli(library_dir, "show",
                    "corpus:jakevdp-pythondatasciencehandbook/notebooks/"
                    "03.08-Aggregation-and-Grouping.ipynb", "--json").json
    assert shown["title"] == "Aggregation and Grouping"
    assert {"numpy", "pandas"} <= set(shown["imports"])
