"""Every real notebook of ../shared/corpus renders, and no page would load anything remote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbshelf.render import render_notebook
from nbshelf.render.audit import remote_references

pytestmark = pytest.mark.corpus


def test_every_corpus_notebook_renders_self_contained(corpus: Path) -> None:
    notebooks = sorted(corpus.rglob("*.ipynb"))
    assert len(notebooks) >= 1000
    failures: dict[str, str] = {}
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        page = render_notebook(nb, base_dir=path.parent, asset_base=None)
        findings = remote_references(page)
        if findings:
            failures[str(path.relative_to(corpus))] = findings[0]
        elif "<main" not in page:
            failures[str(path.relative_to(corpus))] = "no cells section"
    assert failures == {}


def test_corpus_pictures_beside_notebooks_are_embedded(corpus: Path) -> None:
    # ASSETS.tsv lists images that markdown cells link to by relative path.
    path = corpus / "ageron-handson-ml3" / "extra_ann_architectures.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    page = render_notebook(nb, base_dir=path.parent, asset_base=None)
    assert page.count('src="data:image/png;base64,') >= 4
