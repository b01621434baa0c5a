"""Would word vectors learned from the library's cells find what LSA misses? (issue 18)

Search by meaning folds a question into the LSA space of the similarity model's TF-IDF
(``nbshelf.similar.related``): words are related when the same notebooks use them. Word
vectors from co-occurrence within a cell (PPMI over the cells, reduced by SVD, the classic
count-based word2vec equivalent) relate words that are used *together*, a tighter context.
This script fits them on the masked corpus of ``bench/meaning_eval.py`` (markdown cells as
prose stems, code cells as code terms; terms in at least 3 cells, at most 40,000), makes
each notebook's vector the idf-weighted sum of its terms' vectors, and compares, on the same
questions and halves:

* dense retrieval alone (the top 5 by cosine): LSA, word vectors, and their sum;
* for the questions whose answers lack a word of the question and are out of the top 5 of
  the shipped order (where only meaning can help; see ``bench/meaning_ranker.py``): the rank
  of the first answer by LSA cosine and by the sum, among the notebooks lacking a word.

Usage:
    python bench/meaning_wordvectors.py [--dimensions 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import orjson
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from generate import corpus_dir  # noqa: E402
from meaning_eval import chosen, half_of, masked_tree, synced  # noqa: E402
from meaning_ranker import gather, ordered, shipped  # noqa: E402

from nbshelf.library import Library  # noqa: E402
from nbshelf.search.analysis import code_terms, prose_terms  # noqa: E402
from nbshelf.search.meaning import fold_query, plain_words  # noqa: E402
from nbshelf.search.query import parse  # noqa: E402

MAX_TERMS = 40_000
MIN_CELLS = 3
#: Context distribution smoothing of the PPMI (Levy, Goldberg and Dagan's 0.75).
SMOOTHING = 0.75


def cell_terms(path: Path) -> list[list[str]]:
    """The distinct terms of each markdown and code cell of one notebook."""
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return []
    cells = raw.get("cells", []) if isinstance(raw, dict) else []
    found = []
    for cell in cells:
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        text = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "markdown":
            terms = {"p:" + t for t in prose_terms(text, numbers=False)}
        elif cell.get("cell_type") == "code":
            terms = {"c:" + t for t in code_terms(text) if not t.isdigit()}
        else:
            continue
        if terms:
            found.append(sorted(terms))
    return found


class WordVectors:
    """PPMI + SVD word vectors over cells, and each notebook's vector."""

    def __init__(self, files: list[Path], dimensions: int) -> None:
        cells: list[list[str]] = []
        owner: list[int] = []
        for n, path in enumerate(files):
            for terms in cell_terms(path):
                cells.append(terms)
                owner.append(n)
        counts = Counter(t for terms in cells for t in terms)
        self.vocab = [t for t, c in counts.most_common(MAX_TERMS) if c >= MIN_CELLS]
        self.column = {t: i for i, t in enumerate(self.vocab)}
        rows, cols = [], []
        for i, terms in enumerate(cells):
            for t in terms:
                if (j := self.column.get(t)) is not None:
                    rows.append(i)
                    cols.append(j)
        x = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                          shape=(len(cells), len(self.vocab)))
        together = (x.T @ x).tocoo()
        sums = np.asarray(together.sum(axis=1)).ravel()
        context = sums**SMOOTHING / (sums**SMOOTHING).sum()
        pmi = np.log(together.data / together.data.sum()
                     / (sums[together.row] / sums.sum() * context[together.col]))
        keep = (pmi > 0) & (together.row != together.col)
        ppmi = sp.csr_matrix((pmi[keep].astype(np.float32),
                              (together.row[keep], together.col[keep])), shape=together.shape)
        svd = TruncatedSVD(dimensions, algorithm="randomized", random_state=0)
        reduced = svd.fit_transform(ppmi)
        self.words = normalize(reduced * svd.singular_values_**-0.5)
        docs = sp.csr_matrix((np.ones(len(cells)), (owner, np.arange(len(cells)))),
                             shape=(len(files), len(cells))) @ x
        held = np.asarray((docs > 0).sum(axis=0)).ravel()
        self.idf = np.log((1 + len(files)) / (1 + held)) + 1
        weighted = docs.multiply(self.idf).tocsr()
        weighted.data = np.log1p(weighted.data)
        self.docs = normalize(weighted @ self.words)

    def query(self, question: str) -> np.ndarray | None:
        cols = [self.column[t] for w in plain_words(parse(question))
                for t in ["p:" + p for p in prose_terms(w)] + ["c:" + c for c in code_terms(w)]
                if t in self.column]
        if not cols:
            return None
        v = (self.idf[cols, None] * self.words[cols]).sum(axis=0)
        return v / (np.linalg.norm(v) or 1.0)

    def nearest(self, term: str, count: int = 8) -> list[str]:
        if term not in self.column:
            return []
        scores = self.words @ self.words[self.column[term]]
        return [self.vocab[i] for i in np.argsort(-scores)[1 : count + 1]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dimensions", type=int, default=200)
    args = parser.parse_args()
    corpus = corpus_dir()
    if corpus is None:
        print("meaning_wordvectors: no corpus (set NBSHELF_CORPUS or put it at ../shared/corpus)")
        return 1
    masked = masked_tree("corpus", corpus)
    answers = {q: set(p) for q, p in masked.answers.items()}
    files = sorted(masked.folder.rglob("*.ipynb"))
    paths = [str(f.relative_to(masked.folder)) for f in files]
    start = time.perf_counter()
    vectors = WordVectors(files, args.dimensions)
    print(f"word vectors: {len(vectors.vocab):,} terms, {args.dimensions} dimensions, "
          f"{time.perf_counter() - start:.1f} s")
    lsa = np.zeros((len(files), 1), dtype=np.float32)
    with Library.open(synced("corpus", masked.folder), readonly=True) as lib:
        model = lib.searching._searching.meaning.model()
        assert model is not None
        places = lib.searching._searching._places(list(model.hashes))
        at = {p.path: r for r, h in enumerate(model.hashes) for p in places.get(h, [])}
        lsa = np.zeros((len(files), model.docs.shape[1]), dtype=np.float32)
        for i, path in enumerate(paths):
            if path in at:
                lsa[i] = model.docs[at[path]]

    def scores(question: str, which: str) -> np.ndarray | None:
        folded = fold_query(model, plain_words(parse(question)))
        word = vectors.query(question)
        parts = ([lsa @ folded.vector] if folded is not None and which != "words" else []) + (
            [vectors.docs @ word] if word is not None and which != "lsa" else [])
        return np.sum(parts, axis=0) if parts else None

    questions = chosen(list(answers), 400)
    print("dense retrieval alone, hit@5:")
    for which in ("lsa", "words", "both"):
        line = []
        for half in ("dev", "test"):
            asked = [q for q in questions if half_of(q) == half]
            hits = sum(1 for q in asked if (s := scores(q, which)) is not None
                       and {paths[i] for i in np.argsort(-s)[:5]} & answers[q])
            line.append(f"{half} {hits / len(asked):.3f}")
        print(f"  {which:6} " + "  ".join(line))
    print("answers out of the top 5 that lack words of the question, rank by cosine alone:")
    rows = {p: i for i, p in enumerate(paths)}
    candidates, _, _ = gather("corpus")
    for which in ("lsa", "both"):
        found: Counter[str] = Counter()
        for q in candidates:
            cands = ordered(q["cands"], shipped)
            first = next((c for c in cands if c["label"]), None)
            if first is not None and (first["lack"] == 0 or cands.index(first) < 5):
                continue
            s = scores(q["q"], which)
            if s is None:
                found["no word known"] += 1
                continue
            exact = {rows[p.path] for c in cands if c["lack"] == 0
                     for p in places.get(c["hash"], []) if p.path in rows}
            rank = 0
            for i in np.argsort(-s):
                if i not in exact:
                    rank += 1
                    if paths[i] in answers[q["q"]]:
                        break
            found["≤ 5" if rank <= 5 else "6–20" if rank <= 20 else "> 20"] += 1
        print(f"  {which:6} " + ", ".join(f"{k}: {v}" for k, v in sorted(found.items())))
    for term in ("p:combin", "c:merge", "p:miss", "c:groupby"):
        print(f"  nearest to {term}: {', '.join(vectors.nearest(term))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
