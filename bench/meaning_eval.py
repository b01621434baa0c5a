"""Does search by meaning find the notebook a plain question is about? (issue 18)

The questions come from facts about the notebooks, fixed before any result was seen, not from
labels written after looking at results:

**The masked-title rule.** A notebook's title is its author's own one-line summary of what it
does ("Working with Time Series", "Unsupervised Learning Techniques"). Every title nbshelf
gives a notebook becomes a question:

1. the title, lower-cased, split into words (letters and digits; anything else separates);
2. numbers, roman numerals, one-letter words and the structural words in ``STRUCTURAL`` are
   dropped ("Chapter 9 – Unsupervised Learning" asks "unsupervised learning");
3. a question needs at least two words left.

Then every markdown line, in any notebook of the tree, that reads as one of those titles (a
heading or a bold line, once its marks are gone) is removed, and the notebooks that lost such a
line answer its question (editions and copies of one chapter all count; in a generated tree,
a notebook holding a run of that chapter's cells counts too). Files are renamed to numbers in
flat folders, so neither a path nor a file name gives a title away. A title that is the file
name's words, or a heading split over several lines, removes nothing and asks nothing.

Most title words still occur in the notebook's body (a chapter on time series says "time
series" often): keyword search is not helpless, and a question it answers well tells us
meaning search must not get in the way. Where the body says it in other words, only meaning
search can find it.

Libraries: the corpus (``../shared/corpus``, masked into ``bench/_work/meaning/``) and a 10k
generated tree (``bench/generate.py``, masked the same way). Each library is synced once and
reused. For each question, the same library answers twice in the same run: keyword search
(``meaning=False``: every word, then the notebooks with most of them) and search by meaning
(``meaning=True``). Reported: hit@5 (an answer among the first five results), MRR over the
first 20 (1/rank of the first answer, 0 when none), per library; then 20 example questions,
chosen by a fixed hash of their text, with the top 3 of each mode so a reader can judge.

**Development and test halves.** Whatever search by meaning is tuned on must not be what it
is judged on. A question is in the development half when the SHA-256 of ``"split "`` and its
text, read as a number, is even, and in the test half when it is odd (``half_of``): a fixed
rule of the text alone, drawn after the questions were chosen, so each library's 400 split
about evenly. Weights are chosen on the development half only (``--split dev``); every
report gives both halves and the whole, from the same run.

Usage:
    python bench/meaning_eval.py [--libraries corpus,10k] [--max-queries 400] [--examples 20]
                                 [--split dev|test|all]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
# this checkout's nbshelf, not the one the environment has installed (another worktree's)
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from generate import WORK_DIR, corpus_dir, generate_tree, notebook_files  # noqa: E402
from search import machine  # noqa: E402
from tables import header, row  # noqa: E402

from nbshelf.errors import NbshelfError  # noqa: E402
from nbshelf.library import Library  # noqa: E402
from nbshelf.notebook import parse_notebook  # noqa: E402
from nbshelf.notebook.titles import clean_heading  # noqa: E402

MEANING_DIR = WORK_DIR / "meaning"
#: Bump when the masking or the question rule changes: masked trees are then rebuilt.
RULE_VERSION = "2"
#: Words that say where a notebook sits in a book or course, not what it does.
STRUCTURAL = frozenset({
    "chapter", "ch", "part", "lesson", "lecture", "section", "notebook", "tutorial",
    "exercise", "exercises", "solution", "solutions", "appendix", "week", "day", "unit",
    "module", "lab", "homework", "assignment", "example", "examples", "demo",
})  # fmt: skip
#: Results looked at per question (MRR counts a first answer up to this rank).
DEPTH = 20
_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_ATX_PREFIX = re.compile(r"^\s{0,3}#{1,6}\s+")
_ATX_SUFFIX = re.compile(r"\s+#+\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HTML_H = re.compile(r"^\s*<h[1-6][^>]*>(.*?)</h[1-6]\s*>\s*$", re.IGNORECASE)


# -- the rule ----------------------------------------------------------------------------------


def question_of(title: str) -> str | None:
    """The question a title becomes (steps 1 and 2 of the rule), or None when too short."""
    words = [
        w for w in _WORDS.findall(title.lower())
        if len(w) > 1 and not w.isdigit() and w not in STRUCTURAL
        and not re.fullmatch(r"[ivxl]+", w)  # roman numerals of chapters
    ]  # fmt: skip
    return " ".join(words) if len(words) >= 2 else None


def _line_text(line: str) -> str:
    """A markdown line as a heading reads (no #'s, emphasis, links, tags), for comparing."""
    html = _HTML_H.match(line)
    text = html.group(1) if html else _ATX_SUFFIX.sub("", _ATX_PREFIX.sub("", line))
    return clean_heading(text).casefold()


def _cell_lines(cell: dict[str, Any]) -> list[str]:
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    return text.splitlines(keepends=True)


def mask_titles(raw: dict[str, Any], titles: dict[str, str]) -> set[str]:
    """Remove every markdown line that reads as one of ``titles`` (casefolded title ->
    question), and a setext underline after one; return the questions whose lines went."""
    removed: set[str] = set()
    for cell in raw.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        lines = _cell_lines(cell)
        kept: list[str] = []
        skip_underline = False
        for line in lines:
            if skip_underline and _SETEXT.match(line):
                skip_underline = False
                continue
            skip_underline = False
            question = titles.get(_line_text(line)) if line.strip() else None
            if question is not None:
                removed.add(question)
                skip_underline = True
                continue
            kept.append(line)
        if len(kept) != len(lines):
            cell["source"] = kept
    return removed


@dataclass
class MaskedTree:
    """A masked copy of a tree: each question and the files (new paths) that answer it."""

    folder: Path
    answers: dict[str, list[str]] = field(default_factory=dict)  # question -> relpaths
    notebooks: int = 0


def masked_tree(name: str, tree: Path) -> MaskedTree:
    """Mask ``tree`` into ``bench/_work/meaning/<name>-tree`` (reused when already made).

    Two passes: the first reads every title that makes a question; the second removes each
    such title wherever it is a heading line, in any notebook (a generated notebook holds
    runs of cells of several corpus notebooks, so a chapter's title may head a run in the
    middle of another notebook: that notebook answers the question too, and must not keep
    the words that would give it away).
    """
    folder = MEANING_DIR / f"{name}-tree"
    marker = folder / ".meaning-rule.json"
    if marker.is_file():
        saved = orjson.loads(marker.read_bytes())
        if saved.get("rule") == RULE_VERSION and saved.get("from") == str(tree):
            return MaskedTree(folder, dict(saved["answers"]), int(saved["notebooks"]))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = sorted(notebook_files(tree))
    titles = _titles(files)
    masked = MaskedTree(folder)
    for n, path in enumerate(files):
        relpath = f"nb{n // 500:03d}/{n:06d}.ipynb"
        out = folder / relpath
        out.parent.mkdir(exist_ok=True)
        for question in _masked_copy(path.read_bytes(), titles, out):
            masked.answers.setdefault(question, []).append(relpath)
        masked.notebooks += 1
    marker.write_bytes(orjson.dumps({
        "rule": RULE_VERSION, "from": str(tree), "notebooks": masked.notebooks,
        "answers": masked.answers,
    }))  # fmt: skip
    return masked


def _titles(files: list[Path]) -> dict[str, str]:
    """Every title (casefolded) that makes a question, and its question (pass 1)."""
    titles: dict[str, str] = {}
    for path in files:
        try:
            title = parse_notebook(path.read_bytes(), path.name, validate=False).summary.title
        except (OSError, NbshelfError):
            continue
        question = question_of(title)
        if question is not None:
            titles[title.casefold()] = question
    return titles


def _masked_copy(data: bytes, titles: dict[str, str], out: Path) -> set[str]:
    """Write the masked notebook to ``out``; the questions it answers (pass 2)."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        raw = None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int) \
            or raw["nbformat"] < 4:
        out.write_bytes(data)  # unreadable or old files stay as they are, answering nothing
        return set()
    removed = mask_titles(raw, titles)
    out.write_bytes(orjson.dumps(raw) if removed else data)
    return removed


# -- answering ---------------------------------------------------------------------------------


def synced(name: str, tree: Path) -> Path:
    """A library of the masked tree, synced (index, similarity and meaning models) once."""
    folder = MEANING_DIR / f"{name}-lib"
    marker = folder / "synced-from"
    if marker.is_file() and marker.read_text() == f"{tree} {RULE_VERSION}":
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    with Library.open(folder) as lib:
        lib.add_source(tree, name="masked")
        lib.sync()
        lib.refresh_similar()
    marker.write_text(f"{tree} {RULE_VERSION}")
    print(f"  (synced {name}: {time.perf_counter() - start:.0f} s)", flush=True)
    return folder


def half_of(question: str) -> str:
    """"dev" or "test": the half a question is in (the rule in the docstring)."""
    digest = hashlib.sha256(f"split {question}".encode()).hexdigest()
    return "dev" if int(digest, 16) % 2 == 0 else "test"


def chosen(questions: list[str], limit: int) -> list[str]:
    """At most ``limit`` questions, picked by a fixed hash of their text (not by results)."""
    return sorted(questions, key=lambda q: hashlib.sha256(q.encode()).hexdigest())[:limit]


@dataclass
class Answer:
    rank: int | None  # 1-based rank of the first answer within DEPTH, or None
    top: list[str]  # the first three results, as "title (path)"
    seconds: float


def ask(lib: Library, question: str, answers: set[str], meaning: bool) -> Answer:
    start = time.perf_counter()
    # an nbshelf without search by meaning has no such keyword: its search is the keyword one
    options = {"meaning": meaning} if _HAS_MEANING else {}
    results = lib.search(question, limit=DEPTH, **options)
    seconds = time.perf_counter() - start
    rank = None
    for i, hit in enumerate(results.hits, 1):
        paths = {hit.path, *(p.path for p in hit.also_at)}
        if paths & answers:
            rank = i
            break
    top = [
        f"{'~' if getattr(h, 'by_meaning', False) else ('-' if h.partial else '')}"
        f"{h.title[:48]} ({h.path})" for h in results.hits[:3]
    ]  # fmt: skip
    return Answer(rank, top, seconds)


def _has_meaning() -> bool:
    import inspect

    return "meaning" in inspect.signature(Library.search).parameters


_HAS_MEANING = _has_meaning()


@dataclass
class Scores:
    hit5: float
    mrr: float
    p50_ms: float
    p95_ms: float


def score(answers: list[Answer]) -> Scores:
    times = sorted(a.seconds * 1000 for a in answers)
    return Scores(
        hit5=sum(1 for a in answers if a.rank is not None and a.rank <= 5) / len(answers),
        mrr=sum(1 / a.rank for a in answers if a.rank is not None) / len(answers),
        p50_ms=statistics.median(times),
        p95_ms=times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
    )


def evaluate(name: str, tree: Path, max_queries: int, examples: int,
             split: str = "all") -> list[list[str]]:
    """Ask every chosen question (of the half ``split``) both ways; return the table rows
    (each half, then the whole), print the examples."""
    masked = masked_tree(name, tree)
    answers = {q: set(paths) for q, paths in masked.answers.items()}
    questions = chosen(list(answers), max_queries)
    if split != "all":
        questions = [q for q in questions if half_of(q) == split]
    folder = synced(name, masked.folder)
    modes = [("keyword", False)] + ([("meaning", True)] if _HAS_MEANING else [])
    got: dict[str, list[Answer]] = {m: [] for m, _ in modes}
    with Library.open(folder, readonly=True) as lib:
        for question in questions:
            for mode, meaning in modes:
                got[mode].append(ask(lib, question, answers[question], meaning))
    print(f"\n{name}: {masked.notebooks:,} notebooks, {len(answers):,} questions by the rule, "
          f"{len(questions):,} asked; answers per question: median "
          f"{statistics.median(len(answers[q]) for q in questions):.0f}")
    print_examples(name, questions, got, examples)
    rows = []
    halves = [h for h in ("dev", "test") if split in (h, "all")] + (["all"] if split == "all"
                                                                     else [])
    for half in halves:
        for mode, _ in modes:
            picked = [a for q, a in zip(questions, got[mode], strict=True)
                      if half == "all" or half_of(q) == half]
            s = score(picked)
            rows.append([name, mode, half, f"{len(picked)}", f"{s.hit5:.3f}", f"{s.mrr:.3f}",
                         f"{s.p50_ms:.1f}", f"{s.p95_ms:.1f}"])
    return rows


def print_examples(name: str, questions: list[str], got: dict[str, list[Answer]],
                   count: int) -> None:
    """``count`` questions picked by a second fixed hash, with each mode's top 3."""
    picked = sorted(range(len(questions)),
                    key=lambda i: hashlib.sha256(f"example {questions[i]}".encode()).hexdigest())
    print(f"Examples ({name}; ~ found by meaning, - lacks some words; rank of the first answer):")
    for i in picked[:count]:
        print(f"  “{questions[i]}”")
        for mode, answers in got.items():
            a = answers[i]
            print(f"    {mode:8} rank {a.rank if a.rank else '-':>2}: " + " | ".join(a.top))


COLS = [("library", 8), ("mode", 8), ("half", 5), ("questions", 9), ("hit@5", 6), ("MRR", 6),
        ("p50 ms", 7), ("p95 ms", 7)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--libraries", default="corpus,10k")
    parser.add_argument("--max-queries", type=int, default=400)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all",
                        help="ask only the development or the test half (see the docstring)")
    args = parser.parse_args()
    corpus = corpus_dir()
    if corpus is None:
        print("meaning_eval: no corpus (set NBSHELF_CORPUS or put it at ../shared/corpus)")
        return 1
    load = os.getloadavg()[0]
    print(f"meaning_eval {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}; load {load:.2f}; "
          f"split {args.split}")
    if not _HAS_MEANING:
        print("(this nbshelf has no search by meaning: keyword search only)")
    table: list[list[str]] = []
    for name in args.libraries.split(","):
        if name == "corpus":
            tree = corpus
        else:
            size = int(name.rstrip("k")) * 1000
            tree = generate_tree(WORK_DIR, size, 0)
        table += evaluate(name, tree, args.max_queries, args.examples, args.split)
    print()
    print("\n".join(header(COLS)))
    for values in table:
        print(row(COLS, values))
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
