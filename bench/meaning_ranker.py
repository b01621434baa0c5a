"""Could a reorderer learned from several features beat the shipped one? (issue 18)

``bench/meaning_eval.py`` asks masked-title questions of the corpus and of a 10k generated
library (same questions, same libraries, same development and test halves). This script
takes each question's candidates as search by meaning gets them (``Searching._found``: the
best ``RERANK_DEPTH`` notebooks with every word, then the partial matches, each group kept
apart), and for each candidate reads eleven features:

* ``bm25``, ``adj``, ``rel``: the shipped signals (BM25F, share of the question's word
  pairs side by side, closeness through the related terms), each over the group's best;
* ``wmin``, ``wmean``: the weakest and the mean per-word BM25F score, over the group's best
  (a notebook about "missing data" has both words strongly);
* ``top_share``: share of the question's words among the notebook's 16 strongest terms;
* ``cos``: the notebook's cosine with the question in the LSA space;
* ``first``: log of the first position of a question word in the body (title, then
  headings, then prose: early means in a heading or the introduction);
* ``head``, ``title``: share of the words whose weight shows a heading (≥ 1.5 over their
  count) or a title occurrence (≥ 4.5 over);
* ``dlen``: log of the body's length.

A pairwise logistic regression (answer minus non-answer, within a group) is fitted on the
development half only, its regularisation chosen by development hit@5; hit@5 and MRR of the
candidate order are then printed for each half beside keyword order and the shipped order.
Meaning-only hits, which follow every group, are left out of these lists: reordering never
changes their ranks, so differences between columns are exact. Last, for the questions whose
answers lack a word of the question (or all of them) and are not in the top 5: the rank of
their first answer by LSA cosine alone, which is all search by meaning has to go on there.

Usage:
    python bench/meaning_ranker.py [--libraries corpus,10k]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from generate import WORK_DIR, corpus_dir, generate_tree  # noqa: E402
from meaning_eval import chosen, half_of, masked_tree, synced  # noqa: E402

from nbshelf.library import Library  # noqa: E402
from nbshelf.search.meaning import fold_query, plain_words, word_columns  # noqa: E402
from nbshelf.search.partial import PARTIAL_BELOW, _scores, partial_matches  # noqa: E402
from nbshelf.search.query import BODY, field_terms, parse  # noqa: E402
from nbshelf.search.ranking import ranked  # noqa: E402
from nbshelf.search.rerank import (  # noqa: E402
    ADJACENT_WEIGHT,
    RELATED_WEIGHT,
    RERANK_DEPTH,
    adjacent_pairs,
    adjacent_shares,
    expanded_query,
    related_scores,
    term_postings,
)
from nbshelf.search.service import _among, _scored, top_matches  # noqa: E402

NAMES = ["bm25", "adj", "rel", "wmin", "wmean", "top_share", "cos", "first", "head", "title",
         "dlen"]
OVER_BEST = {"bm25", "rel", "wmin", "wmean"}
CENTRED = {"first", "dlen", "cos"}
Candidate = dict[str, Any]
Question = dict[str, Any]


# -- features ----------------------------------------------------------------------------------


def _postings(searcher: Any, term: str, docnums: list[int]) -> dict[int, tuple[int, float, int]]:
    """For each of ``docnums`` holding body ``term``: (count, weight, first position)."""
    found: dict[int, tuple[int, float, int]] = {}
    for docnum, matcher in term_postings(searcher, term, sorted(set(docnums))):
        positions = matcher.value_as("positions")
        found[docnum] = (len(positions), matcher.weight(), min(positions))
    return found


def candidates(lib: Library, question: str, answers: set[str]) -> list[Candidate] | None:
    """The question's candidates with their features and label; None for an identifier or
    empty query (never reordered)."""
    searcher = lib.searching.index.searcher()
    searching = lib.searching._searching
    model = searching.meaning.model()
    parsed = parse(question)
    query = _among(parsed, None)
    if query is None or model is None or ranked(searcher, question, query) is not query:
        return None
    results = top_matches(searcher, query, RERANK_DEPTH)
    found = [(h, s, d, 0) for h, s, d in _scored(results)]
    if len(results) < PARTIAL_BELOW:
        some = partial_matches(searcher, parsed, None, RERANK_DEPTH)
        if some is not None:
            found += [(h, s, d, len(missing)) for h, s, d, missing in some.best]
    if not found:
        return []
    words = plain_words(parsed)
    docnums = [d for _, _, d, _ in found]
    hashes = [h for h, _, _, _ in found]
    shares = adjacent_shares(searcher, adjacent_pairs(parsed), docnums)
    weights = expanded_query(model, words)
    related = (np.zeros(len(found)) if weights is None
               else related_scores(model, weights, hashes))
    folded = fold_query(model, words)
    per_word, stems = [], []
    for part in parsed.parts:
        if part.optional and " OR " not in part.text:
            scores = _scores(searcher, part.query) if part.query is not None else {}
            per_word.append([scores.get(d, 0.0) for d in docnums])
            terms = field_terms("markdown", part.text)
            stems.append(_postings(searcher, terms[0], docnums) if terms else {})
    word_scores = np.array(per_word).T if per_word else np.zeros((len(found), 1))
    own = [set(word_columns(model, w)) for w in words]
    places = searching._places(hashes)
    reader = searcher.reader()
    out: list[Candidate] = []
    for i, (digest, score, docnum, lacking) in enumerate(found):
        row = model.row(digest)
        top = set(model.top_terms[row].tolist()) if row is not None else set()
        infos = [s.get(docnum) for s in stems]
        firsts = [info[2] for info in infos if info]
        paths = {p.path for p in places.get(digest, [])}
        out.append({
            "lack": lacking, "bm25": score, "adj": float(shares[i]), "rel": float(related[i]),
            "wmin": float(word_scores[i].min()), "wmean": float(word_scores[i].mean()),
            "top_share": sum(1 for c in own if c & top) / len(own) if own else 0.0,
            "cos": (float(model.docs[row] @ folded.vector)
                    if row is not None and folded is not None else 0.0),
            "first": math.log1p(min(firsts) if firsts else 10**6),
            "head": _share(infos, 1.5), "title": _share(infos, 4.5),
            "dlen": math.log1p(reader.doc_field_length(docnum, BODY, 1)),
            "hash": digest, "label": bool(paths & answers),
        })  # fmt: skip
    return out


def _share(infos: list[tuple[int, float, int] | None], excess: float) -> float:
    """Share of the words whose weight in the notebook exceeds their count by ``excess``."""
    if not infos:
        return 0.0
    return sum(1 for info in infos if info and info[1] - info[0] >= excess) / len(infos)


# -- orders ------------------------------------------------------------------------------------


def _groups(cands: list[Candidate]) -> list[list[Candidate]]:
    by: dict[int, list[Candidate]] = {}
    for c in cands:
        by.setdefault(c["lack"], []).append(c)
    return [by[k] for k in sorted(by)]


def _matrix(group: list[Candidate], names: list[str]) -> np.ndarray:
    x = np.array([[c[n] for n in names] for c in group], dtype=float)
    for j, name in enumerate(names):
        if name in OVER_BEST:
            best = x[:, j].max()
            x[:, j] = x[:, j] / best if best > 0 else 0.0
        elif name in CENTRED:
            x[:, j] -= x[:, j].mean()
    return x


Scorer = Callable[[list[Candidate]], np.ndarray]


def keyword(group: list[Candidate]) -> np.ndarray:
    return -np.arange(len(group), dtype=float)


def shipped(group: list[Candidate]) -> np.ndarray:
    x = _matrix(group, ["bm25", "adj", "rel"])
    return x[:, 0] + ADJACENT_WEIGHT * x[:, 1] + RELATED_WEIGHT * x[:, 2]


def learned(w: np.ndarray) -> Scorer:
    return lambda group: _matrix(group, NAMES) @ w


def ordered(cands: list[Candidate], scorer: Scorer) -> list[Candidate]:
    out: list[Candidate] = []
    for group in _groups(cands):
        s = scorer(group)
        out += [group[i] for i in sorted(range(len(group)), key=lambda i: (-s[i], i))]
    return out


def judge(questions: list[Question], scorer: Scorer) -> tuple[float, float]:
    """hit@5 and MRR (first 20) of the candidate order."""
    hit = mrr = 0.0
    for q in questions:
        for rank, c in enumerate(ordered(q["cands"], scorer)[:20], 1):
            if c["label"]:
                hit += rank <= 5
                mrr += 1 / rank
                break
    return hit / len(questions), mrr / len(questions)


def fit(dev: list[Question]) -> np.ndarray:
    """The pairwise model's weights, its regularisation chosen by development hit@5."""
    xs, ys = [], []
    for q in dev:
        for group in _groups(q["cands"]):
            labels = np.array([c["label"] for c in group])
            if labels.all() or not labels.any():
                continue
            m = _matrix(group, NAMES)
            for i in np.flatnonzero(labels):
                for j in np.flatnonzero(~labels)[:30]:
                    xs += [m[i] - m[j], m[j] - m[i]]
                    ys += [1, 0]
    best: tuple[float, np.ndarray] | None = None
    for c in (0.01, 0.1, 1.0, 10.0):
        w = LogisticRegression(C=c, fit_intercept=False, max_iter=2000).fit(
            np.array(xs), np.array(ys)).coef_[0]
        score = judge(dev, learned(w))[0]
        if best is None or score > best[0]:
            best = (score, w)
    assert best is not None
    return best[1]


# -- the run -----------------------------------------------------------------------------------


def gather(name: str) -> tuple[list[Question], Path, dict[str, set[str]]]:
    tree = corpus_dir() if name == "corpus" else generate_tree(
        WORK_DIR, int(name.rstrip("k")) * 1000, 0)
    assert tree is not None
    masked = masked_tree(name, tree)
    answers = {q: set(p) for q, p in masked.answers.items()}
    folder = synced(name, masked.folder)
    questions: list[Question] = []
    with Library.open(folder, readonly=True) as lib:
        for question in chosen(list(answers), 400):
            cands = candidates(lib, question, answers[question])
            if cands is not None:
                questions.append({"q": question, "half": half_of(question), "cands": cands})
    return questions, folder, answers


def unreached(name: str, questions: list[Question], folder: Path,
              answers: dict[str, set[str]]) -> Counter[str]:
    """Where the answers lacking words, and out of the top 5, stand by LSA cosine alone."""
    found: Counter[str] = Counter()
    with Library.open(folder, readonly=True) as lib:
        searching = lib.searching._searching
        model = searching.meaning.model()
        assert model is not None
        places = searching._places(list(model.hashes))
        for q in questions:
            cands = ordered(q["cands"], shipped)
            first = next((c for c in cands if c["label"]), None)
            exact = {c["hash"] for c in cands if c["lack"] == 0}
            if first is not None and first["lack"] == 0:
                continue  # in the exact group: a reordering question, not this one
            if first is not None and cands.index(first) < 5:
                continue
            folded = fold_query(model, plain_words(parse(q["q"])))
            kind = ("lacks words" if first is not None
                    else "not a candidate (none of the words, or past the best 100)")
            if folded is None:
                found[f"{kind}: no word known"] += 1
                continue
            rank = 0
            for row in np.argsort(-(model.docs @ folded.vector)):
                digest = model.hashes[row]
                if digest in exact:
                    continue
                rank += 1
                if {p.path for p in places.get(digest, [])} & answers[q["q"]]:
                    break
            found[f"{kind}: cosine rank {'≤ 5' if rank <= 5 else '6–20' if rank <= 20 else '> 20'}"] += 1  # noqa: E501
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--libraries", default="corpus,10k")
    args = parser.parse_args()
    if corpus_dir() is None:
        print("meaning_ranker: no corpus (set NBSHELF_CORPUS or put it at ../shared/corpus)")
        return 1
    for name in args.libraries.split(","):
        questions, folder, answers = gather(name)
        dev = [q for q in questions if q["half"] == "dev"]
        w = fit(dev)
        print(f"\n{name}: learned weights " + " ".join(
            f"{n} {v:+.2f}" for n, v in zip(NAMES, w, strict=True)))
        print(f"{'half':5} {'questions':>9}  {'keyword':>13}  {'shipped':>13}  {'learned':>13}")
        for half in ("dev", "test"):
            qs = [q for q in questions if q["half"] == half]
            cols = [judge(qs, s) for s in (keyword, shipped, learned(w))]
            print(f"{half:5} {len(qs):9}  " + "  ".join(f"{h:.3f} / {m:.3f}" for h, m in cols))
        print("answers out of the top 5 that lack words of the question, by LSA cosine alone:")
        for kind, count in sorted(unreached(name, questions, folder, answers).items()):
            print(f"  {kind}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
