"""Similar notebooks: neighbours with reasons, copies told apart, cold start, rebuilds."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from nbformat import v4
from sqlalchemy import update

from nbshelf.catalog.models import Content
from nbshelf.library import Library
from nbshelf.notebook import parse_notebook
from nbshelf.similar import Features, Similarity, SimilarModel, build_model, features_from_text
from nbshelf.similar.cache import TOKENS_FILE, TableBuilder, TokenTable
from nbshelf.similar.features import CODE, TITLE
from nbshelf.similar.model import FORMAT_VERSION
from tests.helpers import make_notebook, write_notebook

R_META = {"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}}
JULIA_META = {"kernelspec": {"name": "julia-1.9", "language": "julia", "display_name": "Julia"}}

SALES_CODE = [
    "import pandas as pd\nimport numpy as np",
    "sales = pd.read_csv('sales.csv', parse_dates=['order_date'])\nsales.head()",
    "sales['month'] = sales['order_date'].dt.to_period('M')\n"
    "sales['margin'] = sales.revenue - sales.cost",
    "by_region = sales.groupby(['region', 'month'])['revenue'].sum()\nby_region.tail()",
    "table = sales.pivot_table(index='region', columns='month', values='margin', aggfunc='sum')",
    "table.style.format('{:.0f}')\ntop_regions = table.sum(axis=1).nlargest(5)",
    "share = by_region / by_region.groupby(level='month').transform('sum')\nshare.unstack()",
]
SALES_PROSE = [
    "We summarise monthly revenue and margin by sales region.",
    "The pivot table shows which regions carry the quarter.",
]
SPANISH_PROSE = [
    "Resumimos los ingresos mensuales y el margen por región de ventas.",
    "La tabla dinámica muestra qué regiones sostienen el trimestre.",
]


def sales_notebook(title: str, prose: list[str], code: list[str]) -> object:
    return make_notebook(title=title, markdown=prose, code=code)


@pytest.fixture
def shelf(library: Library, share: Path) -> Library:
    """A team share with copies, near copies, relatives and odd notebooks."""
    original = sales_notebook("Regional sales report", SALES_PROSE, SALES_CODE)
    write_notebook(share / "finance" / "sales.ipynb", original)
    write_notebook(share / "backup" / "sales copy.ipynb", original)  # identical bytes
    edited = sales_notebook(
        "Regional sales report (v2)",
        SALES_PROSE,
        [*SALES_CODE, "top_regions.plot.bar(title='Top regions')"],
    )
    write_notebook(share / "alice" / "sales_v2.ipynb", edited)
    write_notebook(
        share / "es" / "ventas.ipynb",
        sales_notebook("Informe de ventas por región", SPANISH_PROSE, SALES_CODE),
    )
    write_notebook(
        share / "ops" / "tickets.ipynb",
        make_notebook(
            title="Support tickets by team",
            markdown=["Count support tickets per team and week with a pivot table."],
            code=[
                "import pandas as pd",
                "tickets = pd.read_csv('tickets.csv', parse_dates=['opened'])",
                "weekly = tickets.groupby(['team', tickets.opened.dt.isocalendar().week]).size()",
                "tickets.pivot_table(index='team', columns='priority', values='id',\n"
                "                    aggfunc='count')",
            ],
        ),
    )
    write_notebook(
        share / "plots" / "waves.ipynb",
        make_notebook(
            title="Plotting waves",
            code=[
                "import matplotlib.pyplot as plt\nimport numpy as np",
                "t = np.linspace(0, 2 * np.pi, 400)\nplt.plot(t, np.sin(3 * t))",
                "fig, ax = plt.subplots()\nax.fill_between(t, np.cos(t), alpha=0.3)",
            ],
        ),
    )
    # Code only, no markdown at all.
    nb = v4.new_notebook(metadata=make_notebook().metadata)
    nb.cells = [
        v4.new_code_cell("import matplotlib.pyplot as plt\nimport numpy as np"),
        v4.new_code_cell("t = np.linspace(0, 1, 50)\nplt.plot(t, np.sin(2 * np.pi * t))"),
        v4.new_code_cell("fig, ax = plt.subplots()\nax.fill_between(t, np.cos(t))"),
    ]
    write_notebook(share / "plots" / "no_markdown.ipynb", nb)
    for name in ("ggplot_mtcars", "ggplot_iris"):
        write_notebook(
            share / "r" / f"{name}.ipynb",
            make_notebook(
                title=f"Plots with ggplot2 ({name})",
                metadata=R_META,
                code=[
                    "library(ggplot2)\nlibrary(dplyr)",
                    f"df <- {name.split('_')[1]} %>% mutate(ratio = .[[1]] / .[[2]])",
                    "ggplot(df, aes(x = ratio)) + geom_histogram(bins = 30) + theme_minimal()",
                ],
            ),
        )
    write_notebook(
        share / "julia" / "frames.ipynb",
        make_notebook(
            title="DataFrames in Julia",
            metadata=JULIA_META,
            code=[
                "using DataFrames, CSV",
                'df = CSV.read("sales.csv", DataFrame)',
                "combine(groupby(df, :region), :revenue => sum)",
            ],
        ),
    )
    write_notebook(share / "odd" / "empty.ipynb", v4.new_notebook())
    write_notebook(share / "odd" / "tiny.ipynb", make_notebook(title="x", code=["x = 1"]))
    write_notebook(
        share / "odd" / "blank_cells.ipynb",
        v4.new_notebook(cells=[v4.new_code_cell(""), v4.new_markdown_cell("  ")]),
    )
    library.add_source(share, name="team")
    library.sync(index=False)  # the catalog only: these tests drive the model themselves
    return library


def similarity(lib: Library) -> Similarity:
    return Similarity(lib.root / "similar", lib.engine, lib.store)


def nid(lib: Library, path: str) -> int:
    return lib.resolve(f"team:{path}")


def by_path(results: list) -> dict[str, object]:
    return {r.path: r for r in results}


def source_text(path: Path) -> str:
    parsed = parse_notebook(path.read_bytes(), path.name, validate=False)
    return "\n".join(c.source for c in parsed.cells).lower()


def test_identical_copy_is_same_and_the_notebook_never_lists_itself(shelf: Library) -> None:
    results = similarity(shelf).similar(nid(shelf, "finance/sales.ipynb"))
    assert results[0].path == "backup/sales copy.ipynb"
    assert results[0].relation == "same" and results[0].score == 1.0
    assert "finance/sales.ipynb" not in [r.path for r in results]
    assert all(r.id != nid(shelf, "finance/sales.ipynb") for r in results)


def test_near_copies_are_labelled_and_listed_before_similar_notebooks(shelf: Library) -> None:
    results = similarity(shelf).similar(nid(shelf, "finance/sales.ipynb"))
    found = by_path(results)
    assert found["alice/sales_v2.ipynb"].relation == "near-copy"
    assert found["es/ventas.ipynb"].relation == "near-copy"  # translated prose, same code
    assert found["ops/tickets.ipynb"].relation == "similar"
    relations = [r.relation for r in results]
    assert relations == sorted(relations, key=["same", "near-copy", "similar"].index)
    assert any("near copy" in reason for reason in found["es/ventas.ipynb"].reasons)


def test_reasons_name_terms_both_notebooks_really_share(shelf: Library, share: Path) -> None:
    results = by_path(similarity(shelf).similar(nid(shelf, "finance/sales.ipynb")))
    tickets = results["ops/tickets.ipynb"]
    assert tickets.reasons and tickets.reasons[-1].startswith("shared: ")
    assert {"pandas", "pivot_table", "groupby"} & set(tickets.shared)
    mine = source_text(share / "finance" / "sales.ipynb")
    theirs = source_text(share / "ops" / "tickets.ipynb")
    for term in tickets.shared:
        assert term.lower() in mine and term.lower() in theirs, term
    # Keywords are not reasons; nor are parts shown apart from the identifier they are of.
    assert "import" not in tickets.shared
    assert not {"pivot", "table"} & set(tickets.shared) or "pivot_table" not in tickets.shared


def test_scores_are_cosines_in_the_unit_interval(shelf: Library) -> None:
    sim = similarity(shelf)
    model = sim.model() or sim.rebuild()
    assert model is not None
    norms = np.sqrt(np.asarray(model.matrix.multiply(model.matrix).sum(axis=1)).ravel())
    assert (norms <= 1.0 + 1e-6).all()
    for digest in model.hashes:
        for n in model.neighbours(digest, 20):
            assert 0.0 <= n.score <= 1.0
            assert n.content_hash != digest


def test_notebooks_without_markdown_and_in_other_languages(shelf: Library) -> None:
    sim = similarity(shelf)
    plots = by_path(sim.similar(nid(shelf, "plots/no_markdown.ipynb")))
    assert "plots/waves.ipynb" in plots
    r_results = sim.similar(nid(shelf, "r/ggplot_mtcars.ipynb"))
    assert r_results[0].path == "r/ggplot_iris.ipynb"
    assert "ggplot2" in r_results[0].shared or "ggplot" in r_results[0].shared
    julia = sim.similar(nid(shelf, "julia/frames.ipynb"))
    assert all(0.0 <= r.score <= 1.0 for r in julia)


@pytest.mark.parametrize("path", ["odd/empty.ipynb", "odd/tiny.ipynb", "odd/blank_cells.ipynb"])
def test_tiny_and_empty_notebooks_may_have_no_neighbours(shelf: Library, path: str) -> None:
    results = similarity(shelf).similar(nid(shelf, path))
    assert all(r.relation in ("same", "similar", "near-copy") for r in results)
    if path != "odd/tiny.ipynb":
        assert [r for r in results if r.relation != "same"] == []


def test_a_model_of_nothing_and_of_empty_notebooks_answers_nothing() -> None:
    empty = SimilarModel.fit([], [])
    assert empty.neighbours_for(features_from_text(code="x = 1"), 5) == []
    blank = Features(features_from_text().terms)
    model = SimilarModel.fit(["a", "b"], [blank, blank])
    assert model.neighbours("a", 5) == []
    assert model.neighbours_for(blank, 5) == []


def test_cold_start_for_a_notebook_the_model_has_not_seen(shelf: Library, share: Path) -> None:
    sim = similarity(shelf)
    assert sim.rebuild() is not None
    fork = sales_notebook(
        "Sales report, Bob's fork", SALES_PROSE, [*SALES_CODE[:-1], "by_region.plot()"]
    )
    write_notebook(share / "bob" / "sales_fork.ipynb", fork)
    shelf.sync()
    fork_id = nid(shelf, "bob/sales_fork.ipynb")
    digest = shelf.show(fork_id).content_hash
    model = sim.model()
    assert model is not None and digest not in model
    results = sim.similar(fork_id)  # answered by cold start, no refit needed
    assert results[0].relation == "near-copy"
    assert results[0].path in (
        "finance/sales.ipynb",
        "backup/sales copy.ipynb",
        "alice/sales_v2.ipynb",
        "es/ventas.ipynb",
    )
    parsed = parse_notebook((share / "bob" / "sales_fork.ipynb").read_bytes(), "sales_fork")
    direct = model.neighbours_for(parsed, 3)
    assert direct and direct[0].relation == "near-copy"


def test_cold_start_scores_match_the_fitted_scores(shelf: Library, share: Path) -> None:
    model = similarity(shelf).rebuild()
    assert model is not None
    path = share / "ops" / "tickets.ipynb"
    digest = shelf.show(nid(shelf, "ops/tickets.ipynb")).content_hash
    fitted = model.neighbours(digest, 5)
    cold = model.neighbours_for(parse_notebook(path.read_bytes(), path.name), 5, exclude=[digest])
    assert [n.content_hash for n in cold] == [n.content_hash for n in fitted]
    assert [n.score for n in cold] == pytest.approx([n.score for n in fitted], abs=1e-3)


def test_staleness_and_background_refit(shelf: Library, share: Path) -> None:
    sim = similarity(shelf)
    assert sim.needs_rebuild()  # no model yet
    assert sim.refresh() is True
    assert sim.needs_rebuild() is False and sim.refresh() is False
    for i in range(4):
        write_notebook(
            share / "new" / f"n{i}.ipynb",
            make_notebook(
                title=f"Queue length study {i}",
                code=[f"arrivals_{i} = simulate_queue(rate={i + 1})"],
            ),
        )
    shelf.sync(index=False)  # catalog only, so the model is left stale for this test
    coverage = sim.coverage()
    assert coverage is not None and coverage.new == 4 and coverage.stale
    assert coverage.needs_refit(0.10)
    assert sim.refresh() is True
    coverage = sim.coverage()
    assert coverage is not None and not coverage.stale


def test_removed_notebooks_are_not_listed(shelf: Library, share: Path) -> None:
    sim = similarity(shelf)
    sim.rebuild()
    (share / "alice" / "sales_v2.ipynb").unlink()
    shelf.sync()
    results = sim.similar(nid(shelf, "finance/sales.ipynb"))  # the model still has it
    assert "alice/sales_v2.ipynb" not in [r.path for r in results]


def test_model_is_saved_loaded_and_rebuilt_when_deleted(shelf: Library) -> None:
    sim = similarity(shelf)
    built = sim.rebuild()
    assert built is not None and (sim.folder / "VERSION").is_file()
    loaded = SimilarModel.load(sim.folder)
    assert loaded is not None and loaded.hashes == built.hashes
    some = built.hashes[0]
    assert loaded.neighbours(some, 5) == built.neighbours(some, 5)
    shutil.rmtree(sim.folder)
    fresh = similarity(shelf)
    assert fresh.model() is None and fresh.needs_rebuild()
    assert fresh.refresh() is True and SimilarModel.load(fresh.folder) is not None
    # Without a saved model, asking still answers (fitted in memory).
    shutil.rmtree(fresh.folder)
    answer = similarity(shelf).similar(nid(shelf, "finance/sales.ipynb"))
    assert answer and answer[0].relation == "same"


def test_model_and_cache_are_saved_deflated_and_a_raw_saved_model_still_loads(
        shelf: Library) -> None:
    sim = similarity(shelf)
    built = sim.rebuild()
    assert built is not None
    for name in ("arrays.npz", "tokens.npz"):  # smaller on disk (issue 16)
        with zipfile.ZipFile(sim.folder / name) as archive:
            assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    # a model saved before issue 16 holds the same arrays uncompressed (np.savez)
    with np.load(sim.folder / "arrays.npz") as arrays:
        kept = {key: arrays[key] for key in arrays.files}
    with open(sim.folder / "arrays.npz", "wb") as out:
        np.savez(out, **kept)
    loaded = SimilarModel.load(sim.folder)
    assert loaded is not None and loaded.hashes == built.hashes
    some = built.hashes[0]
    assert loaded.neighbours(some, 5) == built.neighbours(some, 5)


@pytest.mark.parametrize(
    "damage",
    [
        "garbage arrays",
        "truncated arrays",
        "bad terms",
        "old version",
        "missing terms",
        "mismatched shapes",
    ],
)
def test_a_damaged_model_is_not_loaded_and_is_rebuilt(shelf: Library, damage: str) -> None:
    sim = similarity(shelf)
    sim.rebuild()
    folder = sim.folder
    if damage == "garbage arrays":
        (folder / "arrays.npz").write_bytes(b"\x00garbage" * 100)
    elif damage == "truncated arrays":
        data = (folder / "arrays.npz").read_bytes()
        (folder / "arrays.npz").write_bytes(data[: len(data) // 2])
    elif damage == "bad terms":
        (folder / "terms.json").write_text("{not json")
    elif damage == "old version":
        (folder / "VERSION").write_text(f"{FORMAT_VERSION}-old")
    elif damage == "missing terms":
        (folder / "terms.json").unlink()
    else:
        text = (folder / "terms.json").read_text("utf-8")
        (folder / "terms.json").write_text(re.sub(r'"terms": \["[^"]*", ', '"terms": [', text))
    assert SimilarModel.load(folder) is None
    fresh = similarity(shelf)
    assert fresh.model() is None
    assert fresh.refresh() is True
    assert SimilarModel.load(folder) is not None


def test_a_cancelled_build_changes_nothing(shelf: Library) -> None:
    import threading

    sim = similarity(shelf)
    cancel = threading.Event()
    cancel.set()
    assert sim.rebuild(cancel=cancel) is None
    assert not sim.folder.exists()


def test_progress_is_reported(shelf: Library) -> None:
    seen: list[tuple[int, int, str]] = []
    SimilarModel.build(shelf.engine, shelf.store, lambda d, t, m: seen.append((d, t, m)))
    assert seen and seen[-1][0] == seen[-1][1]


@pytest.mark.slow
def test_notebooks_can_be_read_by_two_processes(
    shelf: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("nbshelf.similar.service.BATCH", 3)  # several batches, two processes
    one = SimilarModel.build(shelf.engine, shelf.store)
    two = SimilarModel.build(shelf.engine, shelf.store, procs=2)
    assert one is not None and two is not None
    assert two.hashes == one.hashes
    digest = one.hashes[0]
    assert two.neighbours(digest, 5) == one.neighbours(digest, 5)


# -- the refit cache (tokens of every covered content, kept with the model) ---------------------


def reading_totals(sim: Similarity, *, reuse: bool = True) -> tuple[SimilarModel, list[int]]:
    """Rebuild, and return the model with the totals of the "reading" progress reports (how
    many contents were read from their blobs)."""
    seen: list[tuple[int, int, str]] = []
    model = sim.rebuild(lambda done, total, what: seen.append((done, total, what)), reuse=reuse)
    assert model is not None
    return model, sorted({total for _, total, what in seen if what.startswith("reading")})


def assert_same_model(one: SimilarModel, two: SimilarModel) -> None:
    assert one.hashes == two.hashes and one.terms == two.terms
    assert one.spellings == two.spellings
    assert (one.matrix != two.matrix).nnz == 0
    for digest in one.hashes:
        assert one.neighbours(digest, 10) == two.neighbours(digest, 10)


def test_a_refit_reads_only_new_contents_and_matches_a_cold_fit(
    shelf: Library, share: Path
) -> None:
    sim = similarity(shelf)
    first, totals = reading_totals(sim)
    assert totals == [len(first.hashes)]  # no cache yet: every content is read
    assert (sim.folder / TOKENS_FILE).is_file()
    for i, topic in enumerate(["pivot tables", "regional margins", "ticket queues"]):
        write_notebook(
            share / "new" / f"n{i}.ipynb",
            sales_notebook(
                f"More on {topic}", [f"Notes about {topic}."], [*SALES_CODE[:3], f"x{i} = {i}"]
            ),
        )
    shelf.sync(index=False)
    warm, totals = reading_totals(sim)
    assert totals == [3]  # the cache had every other content
    cold = build_model(shelf.engine, shelf.store)
    assert cold is not None and len(cold.hashes) == len(first.hashes) + 3
    assert_same_model(warm, cold)
    cached = TokenTable.load(sim.folder / TOKENS_FILE)
    assert cached is not None and cached.hashes == warm.hashes
    _, totals = reading_totals(similarity(shelf))  # a new keeper (a new process) reads the file
    assert totals == []
    again, totals = reading_totals(sim, reuse=False)  # a rebuild from scratch reads every blob
    assert totals == [len(warm.hashes)]
    assert_same_model(again, warm)


@pytest.mark.parametrize(
    "damage", ["garbage", "truncated", "empty", "other rules", "inconsistent", "missing"]
)
def test_a_damaged_cache_is_ignored_and_rebuilt(shelf: Library, damage: str) -> None:
    sim = similarity(shelf)
    cold, _ = reading_totals(sim)
    path = sim.folder / TOKENS_FILE
    if damage == "garbage":
        path.write_bytes(b"\x00garbage" * 1000)
    elif damage == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "missing":
        path.unlink()
    else:
        with np.load(path) as saved:
            arrays = dict(saved)
        if damage == "other rules":
            arrays["fingerprint"] = np.array("made by another version")
        else:
            arrays["indices0"] = arrays["indices0"] + len(arrays["lengths0"])  # past the end
        with open(path, "wb") as out:
            np.savez(out, **arrays)
    assert TokenTable.load(path) is None
    fresh = similarity(shelf)
    again, totals = reading_totals(fresh)
    assert totals == [len(cold.hashes)]  # everything read again
    assert_same_model(again, cold)
    assert TokenTable.load(path) is not None


def test_contents_gone_from_the_library_leave_the_cache(shelf: Library, share: Path) -> None:
    sim = similarity(shelf)
    sim.rebuild()
    gone = shelf.show(nid(shelf, "alice/sales_v2.ipynb")).content_hash
    before = TokenTable.load(sim.folder / TOKENS_FILE)
    assert before is not None and gone in before.hashes
    assert "top_regions.plot.bar" in before.tokens[CODE]  # only that notebook has it
    (share / "alice" / "sales_v2.ipynb").unlink()
    shelf.sync(index=False)
    model, totals = reading_totals(sim)
    assert totals == []  # nothing new to read
    after = TokenTable.load(sim.folder / TOKENS_FILE)
    assert after is not None and gone not in after.hashes and after.hashes == model.hashes
    assert "top_regions.plot.bar" not in after.tokens[CODE]
    cold = build_model(shelf.engine, shelf.store)
    assert cold is not None
    assert_same_model(model, cold)


def test_a_content_whose_catalog_summary_changed_is_read_again(shelf: Library) -> None:
    sim = similarity(shelf)
    sim.rebuild()
    digest = shelf.show(nid(shelf, "ops/tickets.ipynb")).content_hash
    with shelf.engine.begin() as conn:
        conn.execute(update(Content).where(Content.hash == digest).values(title="Ticket backlog"))
    model, totals = reading_totals(sim)
    assert totals == [1]
    cached = TokenTable.load(sim.folder / TOKENS_FILE)
    assert cached is not None and "backlog" in cached.tokens[TITLE]
    cold = build_model(shelf.engine, shelf.store)
    assert cold is not None
    assert_same_model(model, cold)


def test_the_cache_file_keeps_any_token(tmp_path: Path) -> None:
    builder = TableBuilder()
    odd = ["x", "日本語", "\ud800broken", "𝔘nicode", "a.b.c", ""]
    builder.add(
        "a" * 64,
        7,
        [odd, ["Regression", "regressions"], [], ["numpy"]],
        np.array([3, 9], dtype=np.uint32),
    )
    builder.add("b" * 64, 8, [["x", "x"], [], ["Title"], []], np.zeros(0, dtype=np.uint32))
    table = builder.table()
    table.save(tmp_path / TOKENS_FILE)
    loaded = TokenTable.load(tmp_path / TOKENS_FILE)
    assert loaded is not None
    assert loaded.hashes == table.hashes and loaded.tokens == table.tokens
    assert loaded.keys.tolist() == [7, 8]
    assert all((a != b).nnz == 0 for a, b in zip(loaded.counts, table.counts, strict=True))
    assert loaded.line_data.tolist() == [3, 9] and loaded.line_ptr.tolist() == [0, 2, 2]
    empty = TokenTable.empty()
    empty.save(tmp_path / "empty.npz")
    nothing = TokenTable.load(tmp_path / "empty.npz")
    assert nothing is not None and len(nothing) == 0


def test_tokens_and_features_give_the_same_scores(shelf: Library) -> None:
    """The fit from tokens (the library's) and the fit from features (cold start's terms)
    count the same terms, so they score the same."""
    from_tokens = build_model(shelf.engine, shelf.store)
    assert from_tokens is not None
    sim = similarity(shelf)
    features = [sim._features(h) for h in from_tokens.hashes]
    from_features = SimilarModel.fit(from_tokens.hashes, [f for f in features if f is not None])
    assert sorted(from_tokens.terms) == sorted(from_features.terms)
    for digest in from_tokens.hashes:
        one = from_tokens.neighbours(digest, 10)
        two = from_features.neighbours(digest, 10)
        assert [n.content_hash for n in one] == [n.content_hash for n in two]
        assert [n.score for n in one] == pytest.approx([n.score for n in two], abs=1e-6)


def test_a_save_killed_half_way_leaves_the_old_model_and_cache(shelf: Library) -> None:
    sim = similarity(shelf)
    first = sim.rebuild()
    assert first is not None
    # What a kill while the next save wrote its cache leaves: a new folder, incomplete.
    staging = sim.folder.parent / f"{sim.folder.name}.new"
    staging.mkdir()
    whole = (sim.folder / TOKENS_FILE).read_bytes()
    (staging / TOKENS_FILE).write_bytes(whole[: len(whole) // 3])
    fresh = similarity(shelf)
    assert fresh.model() is not None  # the old model is whole
    model, totals = reading_totals(fresh)
    assert totals == []  # and so is its cache
    assert not staging.exists()
    assert_same_model(model, first)
