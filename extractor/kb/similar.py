"""Similar measures across documents (policy diffusion): the ``similar_clauses`` table.

For every task/measure clause, the clauses of *other* documents that state the same measure.
Two methods, measured on ``tests/diffusion_gold.jsonl`` (``policykb similar-eval``):

- ``tfidf``: TF-IDF over jieba search tokens (:func:`extractor.kb.fts.search_tokens`, so
  traditional and simplified text compare alike), cosine similarity (scikit-learn);
- ``minhash``: MinHash over character 3-shingles (datasketch), candidates from MinHashLSH and
  the estimated Jaccard similarity as the score.

The build uses :data:`METHOD` at :data:`THRESHOLD` (chosen on the gold, see README), keeping
the best :data:`TOP_K` per clause: :func:`tfidf_top_k`, exact (the rows every pair's cosine
would give) but scoring only the pairs that can be among a clause's best, copied clauses once
(see its docstring; :func:`tfidf_top_k_blockwise` is the exhaustive method it replaced, kept as
the tests' and the benchmark's reference). Clusters of a measure are the connected components of the
mutual top-3 pairs (:func:`cluster_edges`, :func:`clusters`).
"""

from __future__ import annotations

import functools
import gc
import itertools
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from extractor.kb.fts import normalize_for_search, search_tokens
from extractor.sqlite import sqlite3

METHOD = "tfidf"
THRESHOLD = 0.35
TOP_K = 5
MINHASH_PERM = 128
SHINGLE = 3

# a task/measure clause: prose (not table rows, not headings), long enough, with a verb of doing
MEASURE_KINDS = ("item", "subitem", "paragraph")
MIN_CHARS = 15
MEASURE_VERBS = re.compile(
    r"推进|推动|加强|强化|开展|实施|落实|完善|建立|建设|提升|深化|严格|加快|推广|控制|治理|整治|"
    r"淘汰|管控|保护|开展|落实|实现|完成|聚焦|探索|鼓励|支持|优化|持续|做好|配合|督促|削减|减少"
)
# a heading or title has no clause punctuation; a clause about the document itself is no measure
CLAUSE_PUNCT = re.compile(r"[，。；,;]")
ABOUT_DOCUMENT = re.compile(
    r"起草说明|政策解读|征求意见|审议通过|本规划|主要依据|编制了|制订了|项重点任务|项具体措施|"
    r"行动计划》?(?:分为|包括|包含|主要包括)"
)
# no measure: a paragraph of the plan's guiding ideology (以…思想为指导), or one in a section on the
# situation, the guiding ideology, the principles, the background or the drafting of the document
# (形势, 指导思想, 基本原则, 背景, 编制/起草过程: sections every plan, action plan and explanation
# has; its own title, not a chapter's, since 指导思想和目标 also holds the goals) unless that title
# names goals, tasks or measures
IDEOLOGY = re.compile(r"(?:思想|精神)为(?:指导|统领|引领)")
NOT_MEASURE_SECTION = re.compile(r"形势|指导思想|原则|背景|编制|起草|必要性|机遇|挑战")
MEASURE_SECTION = re.compile(r"目标|任务|措施|重点|举措")
# the lead of an item (一是, 1., （2）, 另一方面) is no part of the measure
LEAD = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+是|另一方面|一方面|\d+[.、．]|[（(]\d+[)）]|[一二三四五六七八九十]+、)\s*"
)


@dataclass(frozen=True)
class MeasureClause:
    id: str
    document_id: str
    text: str  # the clause's text as stored
    tokens: str | None = field(default=None, compare=False, repr=False)  # clauses_fts.tokens

    @property
    def key(self) -> str:
        """What is compared: the text without its lead, t2s, NFKC, lower case, no blanks."""
        return re.sub(r"\s+", "", normalize_for_search(LEAD.sub("", self.text)).text)


def is_measure(kind: str, text: str, section: str | None = None) -> bool:
    """Whether a clause states a task/measure (compared across documents); ``section``: the
    title of its section (its own, not its chapter's), if it has one."""
    body = re.sub(r"\s+", "", LEAD.sub("", text or ""))
    return (
        kind in MEASURE_KINDS
        and len(body) >= MIN_CHARS
        and bool(CLAUSE_PUNCT.search(body))
        and bool(MEASURE_VERBS.search(body))
        and not ABOUT_DOCUMENT.search(body)
        and not IDEOLOGY.search(body)
        and not (section and NOT_MEASURE_SECTION.search(section) and not MEASURE_SECTION.search(section))
    )


def measure_clauses(conn, documents: Iterable[str] | None = None) -> list[MeasureClause]:
    """:func:`iter_measure_clauses`, as a list."""
    return list(iter_measure_clauses(conn, documents))


def iter_measure_clauses(conn, documents: Iterable[str] | None = None) -> Iterator[MeasureClause]:
    """The task/measure clauses of kb.db (an sqlite3 connection or sqlite_utils Database), with
    their search tokens from ``clauses_fts`` when the FTS index holds them (so jieba does not
    segment every clause a second time) and their section's title (:func:`is_measure`) when it
    has ``sections``; with ``documents``, those of these documents only."""
    import json

    kinds = ", ".join(f"'{k}'" for k in MEASURE_KINDS)  # (is_measure's first test, in SQL)
    only, params = "", []
    if documents is not None:
        only, params = (
            " and c.document_id in (select value from json_each(?))",
            [json.dumps(sorted(documents))],
        )
    sections = conn.execute(
        "select 1 from sqlite_master where type = 'table' and name = 'sections'"
    ).fetchone()
    title, join = ("s.title", " left join sections s on s.id = c.section_id") if sections else ("null", "")
    query = (
        f"select c.id, c.document_id, c.kind, c.text, {title}, {{}} from clauses c{join} {{}}"
        f" where c.kind in ({kinds}){only} order by c.document_id, c.seq"
    )
    try:  # an FTS table that holds no tokens (contentless, external content) gives null or fails
        rows = conn.execute(query.format("f.tokens", "left join clauses_fts f on f.rowid = c.rowid"), params)
        first = rows.fetchmany(1)
    except sqlite3.OperationalError:
        rows = conn.execute(query.format("null", ""), params)
        first = []
    # row by row: the rows of every clause are not held at once
    return (
        MeasureClause(i, d, t, tok)
        for i, d, k, t, section, tok in itertools.chain(first, rows)
        if is_measure(k, t, section)
    )


# -- the two similarity methods ------------------------------------------------------------

CHUNK_ROWS = 1000  # clauses per block of the sparse product, at most
MAX_BLOCK_PAIRS = 10_000_000  # entries of a block's product, about (the next block is sized on it)
COLUMN_BANDS = 8  # the transposed vectors in 8 bands (a block skips the bands before it)
MERGE_PAIRS = 2_000_000  # kept pairs waiting before they are merged into each clause's best k


def clause_tokens(clause: MeasureClause) -> list[str]:
    """The clause's search tokens: the FTS index's (``clauses_fts.tokens``, read by
    :func:`measure_clauses`) when known, else :func:`extractor.kb.fts.search_tokens`."""
    return clause.tokens.split() if clause.tokens is not None else search_tokens(clause.text)


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        tokenizer=_same_tokens,
        preprocessor=None,
        token_pattern=None,
        lowercase=False,
        sublinear_tf=True,
    )


def _same_tokens(tokens):
    return tokens


def tfidf_vectors(clauses: Sequence[MeasureClause]):
    """The clauses' TF-IDF vectors: a sparse CSR matrix, rows of unit length, sorted indices (the
    rows of :func:`grouped_vectors`, one per clause). Raises ValueError if no clause has a token."""
    x, group = grouped_vectors(clauses)
    return x[group]


def tfidf_matrix(clauses: Sequence[MeasureClause]):
    """Cosine similarities (a dense n x n array) of the clauses' TF-IDF vectors: only for small
    sets (tests); the build never makes it (:func:`tfidf_top_k`)."""
    x = tfidf_vectors(clauses)
    return (x @ x.T).toarray()


def _top_k_rows(rows, others, scores, rank, k: int):
    """Of ``(row, other, score)`` triples, each row's ``k`` best: score descending, ties by the
    other's id (``rank`` = each clause's position in id order); sorted by the row's id."""
    import numpy as np

    order = np.lexsort((rank[others], -scores, rank[rows]))
    rows, others, scores = rows[order], others[order], scores[order]
    first = np.r_[True, rows[1:] != rows[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(rows)), 0))
    keep = np.arange(len(rows)) - group_start < k
    return rows[keep], others[keep], scores[keep]


def _blocks(n: int, chunk_rows: int, max_pairs: int, width: int | None = None):
    """``(start, stop)`` of consecutive blocks of ``n`` rows; a block's product with the
    ``width`` columns (default ``n``) has at most about ``max_pairs`` entries (each block is
    sized on the one before; the first as if its product were dense: a few rows searched
    against every vector are not all one block)."""
    width = n if width is None else width
    start, size = 0, max(1, min(chunk_rows, max_pairs // max(1, width)))  # the first as if dense
    while start < n:
        stop = min(n, start + size)
        nnz = yield start, stop
        per_row = max(1.0, (nnz or 0) / (stop - start))
        size = int(max(1, min(chunk_rows, max_pairs // per_row)))
        start = stop


LEVELS = (
    0.95,
    0.9,
    0.85,
    0.8,
    0.75,
    0.7,
    0.6,
    0.5,
    0.4,
)  # thresholds tried first: a clause with k pairs above one is done there
TAIL_GRID = 32  # cuts at which each row's tail norm is tabled (a first, cheaper bound)
CANDIDATE_PAIRS = 500_000  # candidates of a block of rows, about (their arrays bound the memory: 1,002 MB at 1M, 964 at 500k, the same time)
GROUP_NEIGHBOURS = 2 * TOP_K + 2  # distinct vectors kept per distinct vector before the clauses are expanded


@functools.cache
def word_idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table (``jieba/analyse/idf.txt``: inverse document frequencies of 270,000
    words, counted on a large general corpus) and its median, the weight jieba gives a word the
    table lacks. A fixed table, not the knowledge base's own document frequencies: a clause's
    vector depends on its tokens alone, so the scores of two clauses do not change when other
    documents are added, and a rebuild recomputes only the clauses a changed document touches
    (:func:`update_similar`)."""
    import jieba.analyse
    from jieba.analyse.tfidf import DEFAULT_IDF, IDFLoader

    loader = jieba.analyse.default_tfidf.idf_loader
    if loader.path != DEFAULT_IDF:  # (set_idf_path was called: the table jieba ships, still)
        loader = IDFLoader(DEFAULT_IDF)
    return loader.get_idf()


def grouped_vectors(clauses: Sequence[MeasureClause]):
    """``(x, group)``: the TF-IDF rows of the clauses' distinct token lists (in order of first
    appearance) and each clause's row (``x[group[i]]``). Term frequency sublinear
    (``1 + log tf``), inverse document frequency from :func:`word_idf`, rows of unit length
    (scikit-learn's ``TfidfTransformer`` with that ``idf_``). The columns are the tokens in
    sorted order (``CountVectorizer``'s vocabulary), so a row's floats, and the cosine of two
    rows (products summed in column order), are the same in any set of clauses. Raises
    ValueError if no clause has a token."""
    x, group, _, _ = _grouped(clauses)
    return x, group


def _grouped(
    clauses: Iterable[MeasureClause],
    seen: Callable[[MeasureClause], None] | None = None,
    known: Mapping[str, float] | None = None,
):
    """:func:`grouped_vectors`, its columns' tokens (a list, sorted) and their IDF (an array).
    The clauses are read once, in order (an iterator will do; ``seen`` is called with each).
    ``known``: IDF values already read from :func:`word_idf` (a saved index's), so the table is
    loaded only for a token they lack."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
    from sklearn.preprocessing import normalize

    index: dict[tuple[str, ...], int] = {}
    words: dict[str, str] = {}  # one string object per token (the distinct lists hold them)
    lists: list[tuple[str, ...]] = []
    groups: list[int] = []
    for c in clauses:
        tokens = tuple(words.setdefault(t, t) for t in clause_tokens(c))
        g = index.setdefault(tokens, len(lists))
        if g == len(lists):
            lists.append(tokens)
        groups.append(g)
        if seen is not None:
            seen(c)
    del index, words
    group = np.array(groups, dtype=np.int64)
    del groups
    vec = _vectorizer()
    counts = CountVectorizer.fit_transform(vec, lists).tocsr()  # what TfidfVectorizer counts first
    transformer = TfidfTransformer(
        norm=vec.norm, use_idf=True, smooth_idf=False, sublinear_tf=vec.sublinear_tf
    )
    transformer.fit(counts)  # (sets the shapes; its idf is replaced)
    vocabulary = vec.get_feature_names_out().tolist()
    idf = transformer.idf_ = _idf(vocabulary, known)
    x = normalize(transformer.transform(counts, copy=False).tocsr())  # as cosine_similarity does
    x.sort_indices()
    return x, group, vocabulary, idf


def _idf(words: Sequence[str], known: Mapping[str, float] | None = None):
    """Each word's IDF (an array): from ``known`` where it has the word, else from
    :func:`word_idf`, whose table is read only if some word is not known."""
    import numpy as np

    known = known or {}
    if all(t in known for t in words):
        return np.array([known[t] for t in words], dtype=np.float64)
    table, median = word_idf()
    return np.array([known[t] if t in known else table.get(t, median) for t in words], dtype=np.float64)


def _prefix_filter(x):
    """Each row's *prefix* for threshold ``tau`` (prefix filtering, Bayardo et al. 2007,
    "Scaling up all pairs similarity search"): the features in one global order (fewest rows
    first), minus the longest tail of common features whose share of any cosine is bounded
    below ``tau`` (by the tail's norm, and by its weights times each feature's largest weight in
    any row). Two rows whose cosine is at least ``tau`` share a feature of both prefixes: the
    first feature they share in the order.

    Returns ``at(tau)``, which gives ``(prefix, cut, tail)``: the prefix weights (CSR), each
    row's cut (the order of its first tail feature; the number of features if none), and
    ``tail(rows, cuts)``: the squared norm of each row's features from a cut on."""
    import numpy as np
    import scipy.sparse as sp

    m, v = x.shape
    rows = np.repeat(np.arange(m, dtype=np.int32), np.diff(x.indptr))
    df = np.bincount(x.indices, minlength=v)
    position = np.empty(v, dtype=np.int32 if v < 2**31 else np.int64)  # (int32: half the arrays of it)
    position[np.lexsort((np.arange(v), df))] = np.arange(v)  # fewest rows first
    maxw = np.zeros(v)
    np.maximum.at(maxw, x.indices, x.data)
    # each row's features in the order: the columns renumbered by it, each row's indices sorted
    # (a row has each column once: the order lexsort((position, rows)) gives, 4 times faster)
    inverse = np.empty(v, dtype=position.dtype)
    inverse[position] = np.arange(v)
    ordered = sp.csr_matrix((x.data.copy(), position[x.indices], x.indptr.copy()), shape=(m, v))
    ordered.sort_indices()
    w, pos = ordered.data, ordered.indices
    f = inverse[pos]
    del ordered, inverse
    # the bound of each tail, from the row's end back to each feature (segmented reverse sums)
    end = x.indptr[1:][rows]
    padded = np.r_[np.cumsum((w * w)[::-1])[::-1], 0.0]  # squared norm from each entry on
    tails = np.r_[np.maximum(padded[:-1] - padded[end], 0.0), 0.0]  # ... to its row's end (0.0: none)
    del padded
    dot = np.cumsum((w * maxw[f])[::-1])[::-1]
    dot -= np.r_[dot, 0.0][end]
    del end
    bound = np.minimum(np.sqrt(tails[:-1]), dot)
    del dot
    # each entry's row and order in one sorted key (uint32 where every key and needle fits)
    key_type = np.uint32 if m * v + 1 < 2**32 else np.int64
    keys = (rows.astype(np.int64) * v + pos).astype(key_type)
    size = len(w)

    def tail(r, c):
        needles = (r.astype(np.int64) * v + c).astype(key_type)
        order = np.argsort(needles)  # (sorted needles: a search over the keys 5 times faster)
        i = np.empty(len(needles), dtype=np.int64)
        i[order] = np.searchsorted(keys, needles[order])
        stop = x.indptr[r + 1]
        return np.where(i < stop, tails[np.minimum(i, size)], 0.0)

    # the tails from TAIL_GRID cuts (quantiles of the order), for a cheap bound first: a row's
    # tail from a cut is at most its tail from the grid's cut at or before it
    grid = (
        np.unique(np.r_[0, np.quantile(pos, np.linspace(0, 1, TAIL_GRID)).astype(np.int64)])
        if size
        else np.zeros(1, dtype=np.int64)
    )
    # each row's first entry at or after each cut: its start plus its entries before the cut
    # (what tail() searches for, counted for all rows and cuts at once)
    cuts = len(grid)
    before = np.zeros((m, cuts), dtype=np.int64)
    counts = np.bincount(
        rows.astype(np.int64) * cuts + np.searchsorted(grid, pos, side="right") - 1, minlength=m * cuts
    )
    np.cumsum(counts.reshape(m, cuts)[:, :-1], axis=1, out=before[:, 1:])
    del counts
    first = x.indptr[:-1, None] + before
    stops = x.indptr[1:, None]
    table = np.where(first < stops, tails[np.minimum(first, size)], 0.0)
    del before, first

    def tail_at_most(r, c):
        return table[r, np.searchsorted(grid, c, side="right") - 1]

    tail.at_most = tail_at_most
    tail.grid = grid
    # for the compiled bounds: the table by cut too (the tails of many rows from one cut, read
    # together), and what tail() searches
    tail.tables = (table, np.ascontiguousarray(table.T))
    tail.rows = (x.indptr, pos, tails)

    def at(tau: float):
        keep = bound >= tau - 1e-6  # (a little more prefix than needed: the sums' rounding)
        indptr = np.r_[0, np.cumsum(np.bincount(rows[keep], minlength=m))]
        prefix = sp.csr_matrix((w[keep], f[keep], indptr), shape=(m, v))
        prefix.sort_indices()
        cut = np.full(m, v, dtype=np.int64)
        np.minimum.at(cut, rows[~keep], pos[~keep])
        return prefix, cut, tail

    return at


PAIR_DOTS_MIN = 200_000  # pairs worth loading the compiled kernel for (about 1.5 s a process)


def _exact_cosines(x, a, b, chunk: int = 50_000):
    """``x[a[p]] · x[b[p]]`` for each pair ``p``, with the floats of scipy's sparse product
    ``x @ x.T``: the products of the shared columns summed from 0.0 in column order. The pairs'
    rows are read where they are stored (:func:`_pair_dots`, compiled by numba), not copied out
    first: at 10,000 documents this took the search's exact cosines from 44 to 19 s of CPU (the
    same rows, digest compared). Rows whose indices are not sorted, or a few pairs while the
    kernel is not loaded (a rebuild's update): :func:`_exact_cosines_scipy`, the same floats."""
    import numpy as np

    if not x.has_sorted_indices or (len(a) < PAIR_DOTS_MIN and not _kernels_loaded()):
        return _exact_cosines_scipy(x, a, b, chunk)
    out = np.zeros(len(a))
    if len(a):
        _pair_dots()(
            x.indptr.astype(np.int64, copy=False),
            x.indices,
            x.data.astype(np.float64, copy=False),
            x.shape[1],
            np.asarray(a, dtype=np.int64),
            np.asarray(b, dtype=np.int64),
            out,
        )
    return out


def _exact_cosines_scipy(x, a, b, chunk: int = 50_000):
    """:func:`_exact_cosines` with scipy alone: the element-wise product of the pairs' rows,
    then a sparse matrix-vector product with ones (the same floats; the tests' reference)."""
    import numpy as np

    ones = np.ones(x.shape[1])
    out = np.zeros(len(a))
    for lo in range(0, len(a), chunk):
        out[lo : lo + chunk] = x[a[lo : lo + chunk]].multiply(x[b[lo : lo + chunk]]).tocsr() @ ones
    return out


def _warm_pair_dots() -> None:
    """Load :func:`_pair_dots` and :func:`_candidate_bounds` and their machine code for the
    search's array types (numba's disk cache, or a compilation)."""
    import numpy as np

    ptr, idx, one, val = (
        np.array([0, 1], dtype=np.int64),
        np.zeros(1, dtype=np.int32),
        np.zeros(1, dtype=np.int64),
        np.ones(1),
    )
    _pair_dots()(ptr, idx, val, 1, one, one, np.zeros(1))
    out = np.zeros(1, dtype=np.int64)
    table = np.zeros((1, 1))
    _candidate_bounds()(
        ptr,
        idx,
        val,
        one,
        one - 1,
        one,
        val,
        table,
        table,
        one,
        ptr,
        idx,
        np.zeros(2),
        0.5,
        out,
        out.copy(),
        val,
    )


def _kernels_loaded() -> bool:
    return bool(_pair_dots.cache_info().currsize)


@functools.cache
def _pair_dots():
    """``dots(indptr, indices, data, ncols, a, b, out)``: ``out[p]`` = the dot product of CSR
    rows ``a[p]`` and ``b[p]`` (sorted indices), the products of their shared columns added to
    0.0 in column order, as scipy's element-wise product and matrix-vector product add them
    (IEEE products and sums, no fused multiply-add: numba's default, no fastmath). Row ``a[p]``
    is spread into a dense array while the next pair has the same ``a`` (the search's pairs come
    row by row), and each entry of row ``b[p]``, in column order, adds its product with the
    dense value: a column ``a[p]`` lacks adds a zero product, which leaves a sum of finite
    values as it was (no test and branch per entry: 15 % faster at 10,000 documents). Compiled
    once a process (cached on disk by numba)."""
    import numba
    import numpy as np

    @numba.njit(cache=True, nogil=True)
    def dots(indptr, indices, data, ncols, a, b, out):  # pragma: no cover (compiled)
        dense = np.zeros(ncols)
        prev = -1
        for p in range(a.shape[0]):
            i = a[p]
            if i != prev:
                if prev >= 0:
                    for k in range(indptr[prev], indptr[prev + 1]):
                        dense[indices[k]] = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    dense[indices[k]] = data[k]
                prev = i
            j = b[p]
            s = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                s += dense[indices[k]] * data[k]
            out[p] = s

    return dots


@functools.cache
def _candidate_bounds():
    """``bounds(indptr, indices, data, sel, single_doc, cut, rest, table, table_t, cell, row_ptr,
    pos, tails, low, out_a, out_b, out_bound)``: :func:`_bounded` compiled by numba, the
    filters of a block's candidates in one pass: of the product's entries (row ``sel[j]``,
    column ``b``, the shared prefix part ``data``) those that pass the bounds, written to
    ``out_*`` in the product's order; returns how many. The same floats: the same IEEE
    operations in the same order (no fastmath). Two differences in what is read, not in what
    is computed: a row's tail at the grid's cut comes from ``table_t`` (by cut, then row) when
    the block's row has the earlier cut, so that the tails of its candidates from one cut are
    read from one array of the rows, not one row each of ``table``; and the tail of a row from
    a cut is found by a binary search in that row's sorted positions (``pos`` from
    ``row_ptr``; ``tails``: the tail from each entry), where :func:`_bounded` searches the
    keys of all rows. At 10,000 documents the filters took 48 s of CPU in numpy."""
    import numba
    import numpy as np

    @numba.njit(cache=True, nogil=True)
    def bounds(
        indptr,
        indices,
        data,
        sel,
        single_doc,
        cut,
        rest,
        table,
        table_t,
        cell,
        row_ptr,
        pos,
        tails,
        low,
        out_a,
        out_b,
        out_bound,
    ):  # pragma: no cover (compiled)
        n = 0
        for j in range(sel.shape[0]):
            a = sel[j]
            doc, cut_a, cell_a, rest_a = single_doc[a], cut[a], cell[a], rest[a]
            for e in range(indptr[j], indptr[j + 1]):
                b = indices[e]
                if b == a or (doc >= 0 and doc == single_doc[b]):
                    continue
                shared = data[e]
                if cut_a <= cut[b]:  # a's cut is the earlier: b's tail from it
                    later, r, c = b, rest_a, cut_a
                    if not shared + np.sqrt(r) >= low:
                        continue
                    if not shared + np.sqrt(r * table_t[cell_a, b]) >= low:
                        continue
                else:
                    later, r, c = a, rest[b], cut[b]
                    if not shared + np.sqrt(r) >= low:
                        continue
                    if not shared + np.sqrt(r * table[a, cell[b]]) >= low:
                        continue
                lo, hi = row_ptr[later], row_ptr[later + 1]
                stop = hi
                while lo < hi:  # the later row's first entry at or after the cut
                    mid = (lo + hi) >> 1
                    if pos[mid] < c:
                        lo = mid + 1
                    else:
                        hi = mid
                t = tails[lo] if lo < stop else 0.0
                bound = shared + np.sqrt(r * t)
                if not bound >= low:
                    continue
                out_a[n] = a
                out_b[n] = b
                out_bound[n] = bound
                n += 1
        return n

    return bounds


def _scored(x, a, b, tau):
    """Of candidate pairs, those whose exact cosine rounds to at least ``tau``, with the rounded
    score."""

    cosines = _exact_cosines(x, a, b)
    keep = (cosines >= tau - 1e-3) & (cosines > 0)
    a, b = a[keep], b[keep]
    scores = _rounded(cosines[keep])
    ok = scores >= tau
    return a[ok], b[ok], scores[ok]


def _rounded(cosines):
    """``round(c, 4)`` of each cosine, as Python rounds (the double nearest the decimal rounding
    of the double's exact value). Vectorized: ``rint(c * 1e4) / 1e4`` is the same double unless
    ``c * 1e4`` lies within its rounding error of a half, and those few go through ``round``."""
    import numpy as np

    cosines = np.asarray(cosines, dtype=float)
    y = cosines * 1e4
    out = np.rint(y) / 1e4
    near = np.abs(y - np.floor(y) - 0.5) < 1e-6
    if near.any():
        out[near] = [round(c, 4) for c in cosines[near].tolist()]
    return out


def _neighbour_groups(x, prefixes, single_doc, minrank, tau, limit, rows, chunk_rows, max_pairs):
    """For each distinct vector ``a`` of ``rows``: the other vectors ``b`` whose cosine, rounded
    to 4 places, is at least ``tau``, best first (score descending, then ``minrank[b]``), at
    most ``limit`` of them (None: all). Returns ``(a, b, score)`` sorted so, and how many such
    ``b`` each ``a`` has in all (counted for ``rows``).

    Candidates: the vectors sharing a feature of both prefixes (:func:`_prefix_filter`), from the
    sparse product of the prefixes (a block of rows at a time), which also gives the part of
    the cosine over the shared prefix features; a candidate whose cosine cannot reach ``tau``
    (that part plus, by Cauchy-Schwarz, the norms of both rows from the earlier cut on) is
    dropped, the others scored exactly (:func:`_exact_cosines`). Vectors whose clauses are all
    of one document are not compared."""
    import numpy as np

    m = x.shape[0]
    rows = np.asarray(rows, dtype=np.int64)
    low = tau - 1e-3  # a cosine that rounds to tau is kept
    prefix, cut, tail = prefixes(low)
    prefix_t = prefix.T.tocsr()
    rest = tail(np.arange(m), cut)  # each row's squared norm from its cut on
    compiled = _compiled_bounds(single_doc, cut, rest, tail, low) if _kernels_loaded() else None
    empty = np.zeros(0, dtype=np.int64)
    best = (empty, empty, np.zeros(0))
    total = np.zeros(m, dtype=np.int64)
    pending, waiting = [], 0

    def merge(parts):
        r, o, s = (np.concatenate(z) for z in zip(*parts))
        order = np.lexsort((minrank[o], -s, r))
        r, o, s = r[order], o[order], s[order]
        if limit is not None:
            keep = _first_per_run(r, limit)
            r, o, s = r[keep], o[keep], s[keep]
        return r, o, s

    blocks = _blocks(len(rows), chunk_rows, max_pairs, width=m)
    span = next(blocks, None)
    while span is not None:
        start, stop = span
        sel = rows[start:stop]
        product = (prefix[sel] @ prefix_t).tocsr()
        if compiled is not None:
            a, b, bound = compiled(sel, product)
        else:
            a, b, bound = _bounded(sel, product, single_doc, cut, rest, tail, low)
        if limit is not None:
            # each row's `limit` likeliest candidates (highest bound) scored first: a candidate
            # whose bound is below the limit-th score so found cannot be among the row's best
            order = np.lexsort((-bound, a))
            a, b, bound = a[order], b[order], bound[order]
            first = _first_per_run(a, limit)
            a1, b1, s1 = _scored(x, a[first], b[first], tau)
            kth = np.full(m, -np.inf)
            if len(a1):
                order = np.lexsort((minrank[b1], -s1, a1))
                a1s, s1s = a1[order], s1[order]
                nth = np.arange(len(a1s)) - np.maximum.accumulate(
                    np.where(np.r_[True, a1s[1:] != a1s[:-1]], np.arange(len(a1s)), 0)
                )
                kth[a1s[nth == limit - 1]] = s1s[nth == limit - 1]
            later_ones = ~first
            prune = later_ones & (bound < kth[a] - 2e-4)
            total += np.bincount(a[prune], minlength=m)  # left off: counted as neighbours
            rest_ = later_ones & ~prune
            a2, b2, s2 = _scored(x, a[rest_], b[rest_], tau)
            a, b, scores = np.r_[a1, a2], np.r_[b1, b2], np.r_[s1, s2]
        else:
            a, b, scores = _scored(x, a, b, tau)
        total += np.bincount(a, minlength=m)
        pending.append((a, b, scores))
        waiting += len(a)
        if waiting > max(m * (limit or 1), MERGE_PAIRS):
            best = merge([best, *pending])
            pending, waiting = [], 0
        span = blocks.send(product.nnz) if stop < len(rows) else None
    best = merge([best, *pending])
    return best, total


def _bounded(sel, product, single_doc, cut, rest, tail, low):
    """Of a block's candidates (the entries of ``product``, row ``sel[j]``), the pairs ``(a, b)``
    of rows of other documents whose cosine can reach ``low``, with that bound: the part over
    the shared prefix features plus the rest of the cosine, over the features from the earlier
    of the two cuts on (by Cauchy-Schwarz: first with the other row's norm bounded by 1, then
    by its tail at the grid's cut, then by its tail at that cut)."""
    import numpy as np

    a = np.repeat(sel, np.diff(product.indptr))
    b = product.indices.astype(np.int64)
    shared = product.data
    keep = (b != a) & ((single_doc[a] < 0) | (single_doc[a] != single_doc[b]))
    a, b, shared = a[keep], b[keep], shared[keep]
    a_first = cut[a] <= cut[b]
    earlier, later = np.where(a_first, a, b), np.where(a_first, b, a)
    keep = shared + np.sqrt(rest[earlier]) >= low - 1e-9
    a, b, shared, earlier, later = a[keep], b[keep], shared[keep], earlier[keep], later[keep]
    keep = shared + np.sqrt(rest[earlier] * tail.at_most(later, cut[earlier])) >= low - 1e-9
    a, b, shared, earlier, later = a[keep], b[keep], shared[keep], earlier[keep], later[keep]
    bound = shared + np.sqrt(rest[earlier] * tail(later, cut[earlier]))
    keep = bound >= low - 1e-9
    return a[keep], b[keep], bound[keep]


def _compiled_bounds(single_doc, cut, rest, tail, low):
    """:func:`_bounded` as ``f(sel, product)``, by the compiled :func:`_candidate_bounds`."""
    import numpy as np

    kernel = _candidate_bounds()
    row_ptr, pos, tails = tail.rows
    table, table_t = tail.tables
    row_ptr = row_ptr.astype(np.int64, copy=False)
    cut = cut.astype(np.int64, copy=False)
    single_doc = single_doc.astype(np.int64, copy=False)
    cell = np.searchsorted(tail.grid, cut, side="right") - 1

    def bounded(sel, product):
        size = product.nnz
        out_a, out_b, out_bound = (
            np.empty(size, dtype=np.int64),
            np.empty(size, dtype=np.int64),
            np.empty(size),
        )
        n = kernel(
            product.indptr.astype(np.int64, copy=False),
            product.indices,
            product.data,
            np.asarray(sel, dtype=np.int64),
            single_doc,
            cut,
            rest,
            table,
            table_t,
            cell,
            row_ptr,
            pos,
            tails,
            low - 1e-9,
            out_a,
            out_b,
            out_bound,
        )
        return out_a[:n], out_b[:n], out_bound[:n]

    return bounded


def tfidf_top_k(
    clauses: Sequence[MeasureClause],
    threshold: float = THRESHOLD,
    k: int = TOP_K,
    chunk_rows: int = CHUNK_ROWS,
    max_pairs: int = CANDIDATE_PAIRS,
) -> list[tuple[int, int, float]]:
    """``(i, j, score)`` for each clause ``i`` and the best ``k`` clauses ``j`` of other documents
    whose cosine, rounded to 4 places, is at least ``threshold`` (ties by id), sorted by clause
    id: what :func:`similar_rows` keeps. Exact: the same rows, the same floats, as the
    exhaustive :func:`tfidf_top_k_blockwise` and a dense brute force (tests/test_similar_scale.py),
    without scoring every pair that shares a word.

    1. Clauses with the same tokens have the same vector (:func:`grouped_vectors`): each
       distinct vector is compared once, and the clauses of one group pair with each other at
       the group's cosine with itself (copied clauses make one group, not a clique of pairs).
    2. Levels (:data:`LEVELS`, then ``threshold``): at each, every distinct vector not yet done
       gets its neighbours at or above the level (:func:`_neighbour_groups`: prefix filtering,
       a bound, exact scores; at most :data:`GROUP_NEIGHBOURS` kept, best first). A clause
       with ``k`` pairs at or above a level has its best ``k`` among them, so its group is done
       there; a near-copy is done at 0.95 with few candidates, a clause of its own goes down to
       the threshold.
    3. Each clause's best ``k`` from its group's neighbours (:func:`_expand`: of each
       neighbour group its first ``k`` + its most clauses of one document, by id; other
       documents only). If neighbours were left off and one of them could come before the
       clause's ``k``-th pair (it is not before the last kept neighbour), the group goes on
       to the next level; at the threshold, it is done again with every neighbour kept.

    Memory: the vectors, one block's candidates (about ``max_pairs``) and the kept neighbours."""
    if len({c.document_id for c in clauses}) < 2:
        return []
    try:
        x, group = grouped_vectors(clauses)
    except ValueError:  # no token at all (clauses of stop words or digits only)
        return []
    ci, cj, cs = _top_k(
        x,
        group,
        [c.id for c in clauses],
        [c.document_id for c in clauses],
        threshold,
        k,
        chunk_rows,
        max_pairs,
    )
    return list(zip(ci.tolist(), cj.tolist(), cs.astype(float).tolist()))


def _top_k(
    x,
    group,
    ids: Sequence[str],
    document_ids: Sequence[str],
    threshold: float = THRESHOLD,
    k: int = TOP_K,
    chunk_rows: int = CHUNK_ROWS,
    max_pairs: int = CANDIDATE_PAIRS,
    only=None,
    jobs: int = 1,
    prefixes=None,
):
    """:func:`tfidf_top_k` on vectors ``x`` (distinct rows), each clause's row ``group``, its id
    and document: arrays ``(i, j, score)`` sorted by clause id, each clause's best first. With
    ``only`` (clause positions), the pairs of those clauses alone (their groups are searched
    against every row: the same pairs as for all clauses, fewer computed); a few of them are
    searched once at the threshold with every neighbour kept, not level by level. With ``jobs``
    > 1, a level's rows are searched by that many forked processes (each row's neighbours are
    its own: the same arrays, in the same order). ``prefixes``: :func:`_prefix_filter` of ``x``
    if the caller has it."""
    import numpy as np

    n, m = len(ids), x.shape[0]
    doc_codes: dict[str, int] = {}
    documents = np.array([doc_codes.setdefault(d, len(doc_codes)) for d in document_ids], dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[sorted(range(n), key=ids.__getitem__)] = np.arange(n)
    by_rank = np.argsort(rank)
    # each group's clauses in id order
    members = by_rank[np.argsort(group[by_rank], kind="stable")]
    size = np.bincount(group, minlength=m)
    starts = np.r_[0, np.cumsum(size)]
    minrank = rank[members[starts[:-1]]]
    # the most clauses of one document in each group; the document of a one-document group
    pair_keys, pair_counts = np.unique(group * len(doc_codes) + documents, return_counts=True)
    pair_group = pair_keys // len(doc_codes)
    most = np.zeros(m, dtype=np.int64)
    np.maximum.at(most, pair_group, pair_counts)
    n_docs = np.bincount(pair_group, minlength=m)
    single_doc = np.where(n_docs == 1, documents[members[starts[:-1]]], -1)

    todo, level, limit = np.arange(m), 0, GROUP_NEIGHBOURS
    levels = [t for t in LEVELS if t > threshold] + [threshold]
    if only is not None:
        todo = np.unique(group[np.asarray(only, dtype=np.int64)])
        if len(todo) * 20 < m:  # a few: one pass at the threshold (each level's prefix costs more)
            levels, limit = [threshold], None

    # a group's cosine with itself (its clauses of different documents with each other)
    multi = np.flatnonzero(n_docs >= 2)
    if only is not None:
        multi = np.intersect1d(multi, todo)
    self_cos = _exact_cosines(x, multi, multi)
    keep = self_cos > 0
    multi, self_scores = multi[keep], _rounded(self_cos[keep])

    prefixes = _prefix_filter(x) if prefixes is None else prefixes
    found = []
    shared = (x, prefixes, single_doc, minrank, chunk_rows, max_pairs)
    pool = _fork_pool(jobs, shared) if jobs > 1 and len(todo) >= PARALLEL_ROWS else None
    try:
        while len(todo):
            tau, final = levels[level], level == len(levels) - 1
            best, total = _neighbours(pool, jobs, shared, tau, limit, todo)
            mine = np.isin(multi, todo) & (self_scores >= tau)
            pairs = (
                np.concatenate([multi[mine], best[0]]),
                np.concatenate([multi[mine], best[1]]),
                np.concatenate([self_scores[mine], best[2]]),
            )
            ci, cj, cs, count, last_s, last_r = _expand(
                *pairs, members, starts, size, most, documents, rank, k
            )
            # a clause is done when nothing left off could come before its k-th pair: no neighbour
            # was left off, or its k-th comes before the last kept neighbour (and above this level,
            # it has k pairs: the level holds every pair that could be among its best)
            truncated = (total > limit) if limit is not None else np.zeros(m, dtype=bool)
            edge_s, edge_r = np.full(m, np.inf), np.full(m, -1, dtype=np.int64)
            if len(best[0]):
                ends = np.r_[np.flatnonzero(best[0][1:] != best[0][:-1]), len(best[0]) - 1]
                edge_s[best[0][ends]], edge_r[best[0][ends]] = best[2][ends], minrank[best[1][ends]]
            g = group
            before = (last_s > edge_s[g]) | ((last_s == edge_s[g]) & (last_r <= edge_r[g]))
            full = count >= k
            done_clause = (full & (~truncated[g] | before)) | (final & ~truncated[g])
            in_todo = np.zeros(m, dtype=bool)
            in_todo[todo] = True
            open_groups = np.unique(g[in_todo[g] & ~done_clause])
            done = in_todo.copy()
            done[open_groups] = False
            mask = done[g[ci]]
            found.append((ci[mask], cj[mask], cs[mask]))
            todo = open_groups
            if final:
                limit = None  # the last level again, every neighbour kept
            else:
                level += 1
    finally:
        if pool is not None:
            pool.terminate()
    ci, cj, cs = (np.concatenate(z) for z in zip(*found)) if found else (np.zeros(0, dtype=np.int64),) * 3
    if only is not None:
        mask = np.zeros(n, dtype=bool)
        mask[np.asarray(only, dtype=np.int64)] = True
        ci, cj, cs = ci[mask[ci]], cj[mask[ci]], cs[mask[ci]]
    order = np.argsort(rank[ci], kind="stable")  # each clause's pairs stay best first
    return ci[order], cj[order], cs[order].astype(float)


PARALLEL_ROWS = 5000  # distinct vectors, at least, for a level to be split among processes
_SHARED: tuple | None = None  # what forked searchers read (set before the fork)


def _fork_pool(jobs: int, shared: tuple):
    """A pool of ``jobs`` forked processes that inherit ``shared`` (the vectors and prefixes:
    copy-on-write, not pickled); None where fork is not available."""
    import multiprocessing

    global _SHARED
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return None
    _SHARED = shared
    gc.freeze()  # (the children's collector leaves the inherited objects alone: no page touched or copied)
    try:
        # each searcher loads the compiled kernel of the exact cosines itself: about 130 MB that
        # the process forking them (the similar clauses' process, near 900 MB) does not hold
        return context.Pool(jobs, initializer=_warm_pair_dots)
    finally:
        gc.unfreeze()
        _SHARED = None


def _search_part(args):
    tau, limit, rows = args
    x, prefixes, single_doc, minrank, chunk_rows, max_pairs = _SHARED
    return _neighbour_groups(x, prefixes, single_doc, minrank, tau, limit, rows, chunk_rows, max_pairs)


def _neighbours(pool, jobs: int, shared: tuple, tau: float, limit, rows):
    """:func:`_neighbour_groups` of ``rows`` at ``tau``, in the pool's processes (``jobs`` * 4
    consecutive parts, results in order) when there is one and the rows are many."""
    import numpy as np

    x, prefixes, single_doc, minrank, chunk_rows, max_pairs = shared
    if pool is None or len(rows) < PARALLEL_ROWS:
        return _neighbour_groups(x, prefixes, single_doc, minrank, tau, limit, rows, chunk_rows, max_pairs)
    parts = [p for p in np.array_split(rows, jobs * 4) if len(p)]
    results = pool.map(_search_part, [(tau, limit, p) for p in parts], chunksize=1)
    best = tuple(np.concatenate([r[0][i] for r in results]) for i in range(3))
    return best, sum(r[1] for r in results)


def _select(chosen, mask):
    ci, cj, cs = chosen[:3]
    return ci[mask], cj[mask], cs[mask]


def _first_per_run(keys, limit):
    """Mask of the first ``limit`` entries of each run of equal ``keys`` (sorted)."""
    import numpy as np

    if not len(keys):
        return np.zeros(0, dtype=bool)
    start = np.r_[True, keys[1:] != keys[:-1]]
    group_start = np.maximum.accumulate(np.where(start, np.arange(len(keys)), 0))
    return np.arange(len(keys)) - group_start < limit


def _expand(r, o, s, members, starts, size, most, documents, rank, k):
    """Clause pairs from pairs of groups ``(r, o, s)``: for each clause of group ``r``, its best
    ``k`` clauses of other documents among the groups ``o`` (score descending, then id). Returns
    ``(i, j, score)`` sorted by group and clause (each clause's best first), and for every clause
    the number of pairs it got and the score and id rank of its last."""
    import numpy as np

    n = len(documents)
    count = np.zeros(n, dtype=np.int64)
    last_s = np.full(n, -np.inf)
    last_r = np.full(n, -1, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    if not len(r):
        return empty, empty, np.zeros(0), count, last_s, last_r
    # of each neighbour group, its first k + (its most clauses of one document) clauses
    take = np.minimum(size[o], k + most[o])
    entry = np.repeat(np.arange(len(r)), take)
    offset = np.arange(len(entry)) - np.repeat(np.cumsum(take) - take, take)
    ea, ej, es = r[entry], members[starts[o[entry]] + offset], s[entry]
    order = np.lexsort((rank[ej], -es, ea))
    ea, ej, es = ea[order], ej[order], es[order]
    # of each group's list, the first k + (its most clauses of one document): for a clause of
    # any document, k of them are of other documents (or the list is whole)
    n_docs = int(documents.max()) + 1
    keys, counts = np.unique(ea * n_docs + documents[ej], return_counts=True)
    most_e = np.zeros(int(ea.max()) + 1, dtype=np.int64)
    np.maximum.at(most_e, keys // n_docs, counts)
    run = _first_per_run(ea, 1)
    start = np.flatnonzero(run)
    length = np.diff(np.r_[start, len(ea)])
    keep = np.arange(len(ea)) - np.repeat(start, length) < np.repeat(k + most_e[ea[start]], length)
    ea, ej, es = ea[keep], ej[keep], es[keep]
    # each clause of the group with each entry, other documents only, the first k
    start = np.flatnonzero(_first_per_run(ea, 1))
    length = np.diff(np.r_[start, len(ea)])
    groups = ea[start]
    block = size[groups] * length
    bid = np.repeat(np.arange(len(groups)), block)
    q = np.arange(len(bid)) - np.repeat(np.cumsum(block) - block, block)
    i = members[starts[groups[bid]] + q // length[bid]]
    e = start[bid] + q % length[bid]
    j, sc = ej[e], es[e]
    keep = documents[i] != documents[j]
    i, j, sc = i[keep], j[keep], sc[keep]
    keep = _first_per_run(i, k)
    i, j, sc = i[keep], j[keep], sc[keep]
    count += np.bincount(i, minlength=n)
    ends = np.r_[np.flatnonzero(i[1:] != i[:-1]), len(i) - 1] if len(i) else empty
    last_s[i[ends]] = sc[ends]
    last_r[i[ends]] = rank[j[ends]]
    return i, j, sc, count, last_s, last_r


def tfidf_top_k_blockwise(
    clauses: Sequence[MeasureClause],
    threshold: float = THRESHOLD,
    k: int = TOP_K,
    chunk_rows: int = CHUNK_ROWS,
    max_pairs: int = MAX_BLOCK_PAIRS,
) -> list[tuple[int, int, float]]:
    """The exhaustive method (the build's until issue 12; now the reference :func:`tfidf_top_k`
    is tested and timed against): every pair of clauses that share a word is scored.

    ``(i, j, score)`` for each clause ``i`` and the best ``k`` clauses ``j`` of other documents
    whose cosine, rounded to 4 places, is at least ``threshold`` (ties by id), sorted by clause
    id: what :func:`similar_rows` keeps.

    No n x n matrix: a block of rows at a time, the sparse product of the block with the rows
    from the block's first on (the transposed vectors in COLUMN_BANDS bands; each pair once,
    ``i < j``, the same floats as the whole product), pairs below the threshold or of one
    document dropped at once, and the best ``k`` of each clause merged into a running table of
    at most ``n * k`` pairs (every MERGE_PAIRS pairs). Memory: the block's product (about
    ``max_pairs`` entries) and two copies of the vectors, not n²."""
    import numpy as np

    if len({c.document_id for c in clauses}) < 2:
        return []
    try:
        x = tfidf_vectors(clauses)
    except ValueError:  # no token at all (clauses of stop words or digits only)
        return []
    n = len(clauses)
    doc_codes: dict[str, int] = {}
    documents = np.array([doc_codes.setdefault(c.document_id, len(doc_codes)) for c in clauses])
    rank = np.empty(n, dtype=np.int64)
    rank[sorted(range(n), key=lambda i: clauses[i].id)] = np.arange(n)
    empty = np.zeros(0, dtype=np.int64)
    best = (empty, empty, np.zeros(0))
    pending: list[tuple] = []  # pairs of the blocks since the last merge (both directions)
    waiting = 0
    # the transposed vectors in bands of columns, made once: a block is multiplied with the bands
    # from the one holding its first row on (one copy of the vectors, not one per block)
    width = max(1, -(-n // COLUMN_BANDS))
    bands = [(b, x[b : b + width].T.tocsr()) for b in range(0, n, width)]
    blocks = _blocks(n, chunk_rows, max_pairs)
    span = next(blocks, None)
    while span is not None:
        start, stop = span
        found, nnz = [], 0
        for first, band in bands:
            if first + width <= start:
                continue
            product = x[start:stop] @ band  # columns: clauses first, first+1, ...
            # a cosine that rounds to the threshold is kept: a little below it first, then exactly
            near = np.flatnonzero(product.data >= threshold - 1e-3)
            found.append(
                (
                    np.searchsorted(product.indptr, near, side="right") - 1 + start,
                    product.indices[near].astype(np.int64) + first,
                    product.data[near],
                )
            )
            nnz += product.nnz
            del product
        rows, others, cosines = (np.concatenate(parts) for parts in zip(*found))
        keep = (others > rows) & (documents[rows] != documents[others]) & (cosines > 0)
        rows, others = rows[keep], others[keep]
        scores = np.array([round(c, 4) for c in cosines[keep].tolist()], dtype=float)
        ok = scores >= threshold
        rows, others, scores = rows[ok], others[ok], scores[ok]
        pending.append((np.concatenate([rows, others]), np.concatenate([others, rows]), np.tile(scores, 2)))
        waiting += 2 * len(rows)
        if waiting > max(n * k, MERGE_PAIRS) or stop == n:  # merged with the best so far
            best = _top_k_rows(*(np.concatenate(parts) for parts in zip(best, *pending)), rank, k)
            pending, waiting = [], 0
        span = blocks.send(nnz) if stop < n else None
    return list(zip(best[0].tolist(), best[1].tolist(), best[2].tolist()))


def shingles(text: str, n: int = SHINGLE) -> set[str]:
    return {text[i : i + n] for i in range(max(1, len(text) - n + 1))}


def minhashes(clauses: Sequence[MeasureClause]) -> list:
    """One MinHash per clause (``seed=1``; ``MinHash.bulk`` makes the permutations once)."""
    from datasketch import MinHash

    return MinHash.bulk(
        ([s.encode("utf-8") for s in sorted(shingles(c.key))] for c in clauses), num_perm=MINHASH_PERM, seed=1
    )


def minhash_neighbours(clauses: Sequence[MeasureClause]):
    """For each clause ``i``: ``(i, others, jaccards)``, the clauses of other documents that
    MinHashLSH (threshold 0.1) proposes and their estimated Jaccard similarity (unrounded).
    One LSH query per clause; no loop over all pairs."""
    import numpy as np
    from datasketch import MinHashLSH

    hashes = minhashes(clauses)
    values = np.array([m.hashvalues for m in hashes]) if hashes else np.zeros((0, MINHASH_PERM))
    lsh = MinHashLSH(threshold=0.1, num_perm=MINHASH_PERM)
    for i, m in enumerate(hashes):
        lsh.insert(str(i), m)
    for i, c in enumerate(clauses):
        others = np.array(
            sorted(j for j in map(int, lsh.query(hashes[i])) if clauses[j].document_id != c.document_id),
            dtype=np.int64,
        )
        yield i, others, (values[others] == values[i]).sum(axis=1) / MINHASH_PERM


def pair_scores(clauses: Sequence[MeasureClause], method: str) -> dict[tuple[str, str], float]:
    """Score of every pair of clauses of different documents (ids sorted within the pair) that
    scores above 0; minhash: only the pairs MinHashLSH proposes at a low threshold (others score
    0). For evaluation on gold pairs and tests: the dict grows with the pairs (the build uses
    :func:`tfidf_top_k`, :func:`minhash_neighbours`)."""
    import numpy as np

    scores: dict[tuple[str, str], float] = {}
    if len({c.document_id for c in clauses}) < 2:
        return scores  # nothing to compare across documents
    if method == "tfidf":
        try:
            x = tfidf_vectors(clauses)
        except ValueError:  # no token at all (clauses of stop words or digits only)
            return scores
        documents = np.array([c.document_id for c in clauses], dtype=object)
        xt = x.T.tocsr()
        for start in range(0, len(clauses), CHUNK_ROWS):
            block = (x[start : start + CHUNK_ROWS] @ xt).tocoo()
            for i, j, s in zip((block.row + start).tolist(), block.col.tolist(), block.data.tolist()):
                if j > i and documents[i] != documents[j] and s > 0:
                    scores[tuple(sorted((clauses[i].id, clauses[j].id)))] = round(s, 4)
    elif method == "minhash":
        for i, others, jaccards in minhash_neighbours(clauses):
            for j, s in zip(others.tolist(), jaccards.tolist()):
                if j > i:
                    scores[tuple(sorted((clauses[i].id, clauses[j].id)))] = round(float(s), 4)
    else:
        raise ValueError(f"unknown similarity method {method!r}")
    return scores


def similar_rows(
    clauses: Sequence[MeasureClause], method: str = METHOD, threshold: float = THRESHOLD, k: int = TOP_K
) -> list[dict]:
    """The ``similar_clauses`` rows: both directions of each pair at or above ``threshold``,
    at most ``k`` per clause (best first; ties by id), sorted by clause id.

    A pair is in the rows of clause ``a`` if it is among ``a``'s ``k`` best (whatever it is for
    the other clause). Computed a block of clauses at a time (:func:`tfidf_top_k`) or one LSH
    query per clause (minhash), never over all pairs at once."""
    return list(_row_dicts(clauses, _best_pairs(clauses, method, threshold, k), method))


def _best_pairs(clauses: Sequence[MeasureClause], method: str, threshold: float, k: int) -> list:
    """``(i, j, score)`` of the rows :func:`similar_rows` gives, in its order."""
    if method == "tfidf":
        best = tfidf_top_k(clauses, threshold, k)
    elif method == "minhash":
        best = []
        if len({c.document_id for c in clauses}) >= 2:
            for i, others, jaccards in minhash_neighbours(clauses):
                found = [
                    (round(float(s), 4), clauses[j].id, j) for j, s in zip(others.tolist(), jaccards.tolist())
                ]
                found = sorted((f for f in found if f[0] >= threshold), key=lambda f: (-f[0], f[1]))[:k]
                best.extend((i, j, s) for s, _, j in found)
            best.sort(key=lambda t: clauses[t[0]].id)
    else:
        raise ValueError(f"unknown similarity method {method!r}")
    return best


def _row_dicts(clauses: Sequence[MeasureClause], best, method: str):
    for i, j, s in best:
        yield {"clause_id": clauses[i].id, "other_clause_id": clauses[j].id, "score": s, "method": method}


def clusters(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Connected components of the pairs (union-find), each sorted, largest first, then by id."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


CLUSTER_K = 3  # a cluster edge: each clause among the other's 3 best (single links would chain)


def cluster_edges(rows: Iterable[tuple[str, str, float]], k: int = CLUSTER_K) -> list[tuple[str, str]]:
    """The mutual top-``k`` pairs of ``(clause_id, other_clause_id, score)`` rows: connected
    components of all pairs chain every soil clause into one cluster; mutual neighbours do not."""
    best: dict[str, list[str]] = {}
    rows = sorted(rows, key=lambda r: (-r[2], r[0], r[1]))
    for a, b, _ in rows:
        best.setdefault(a, []).append(b)
    return sorted(
        {tuple(sorted((a, b))) for a, b, _ in rows if b in best[a][:k] and a in best.get(b, [])[:k]}
    )


SIMILAR_DDL = """create table similar_clauses (
    clause_id text not null references clauses(id),
    other_clause_id text not null references clauses(id),
    score float,
    method text,
    primary key (clause_id, other_clause_id)
) without rowid"""  # (rows in key order: a rebuild's inserts and deletes leave what a fresh build writes)


@dataclass
class SimilarIndex:
    """What the similar-clauses step computed on, kept beside the build cache so a rebuild
    does not read and vectorize every clause again: the distinct vectors ``x`` (CSR, columns
    ``vocabulary`` in sorted order), each measure clause's row ``group``, id and document, and
    each column's IDF (:func:`word_idf`'s value: an update vectorizes the new clauses without
    loading the table unless they bring a token the index lacks; None in an index saved before)."""

    x: object
    group: object
    ids: list[str]
    document_ids: list[str]
    vocabulary: list[str]
    digest: str | None = None  # (of the kb.db it was loaded for)
    idf: object = None

    @classmethod
    def of(cls, clauses: Iterable[MeasureClause], known: Mapping[str, float] | None = None) -> SimilarIndex:
        """Of the clauses (read once: an iterator will do, their texts are not kept; ``known``:
        see :func:`_grouped`). Raises ValueError if no clause has a token."""
        ids: list[str] = []
        documents: list[str] = []

        def seen(c: MeasureClause) -> None:
            ids.append(c.id)
            documents.append(sys.intern(c.document_id))

        x, group, vocabulary, idf = _grouped(clauses, seen, known)
        return cls(x, group, ids, documents, vocabulary, idf=idf)

    def save(self, path: Path, digest: str) -> None:
        """Written whole to a temporary file, then renamed (numpy arrays, no pickle)."""
        import numpy as np

        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(
                f,
                digest=np.frombuffer(digest.encode(), dtype=np.uint8),
                data=self.x.data,
                indices=self.x.indices,
                indptr=self.x.indptr,
                shape=np.array(self.x.shape),
                group=self.group,
                ids=_joined(self.ids),
                document_ids=_joined(self.document_ids),
                vocabulary=_joined(self.vocabulary),
                **({} if self.idf is None else {"idf": self.idf}),
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, digest: str) -> SimilarIndex | None:
        """The index saved for the kb.db of ``digest``; None if there is none, it belongs to
        another build, or it cannot be read."""
        import numpy as np
        import scipy.sparse as sp

        try:
            with np.load(path, allow_pickle=False) as f:
                if f["digest"].tobytes().decode() != digest:
                    return None
                x = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
                index = cls(
                    x,
                    f["group"],
                    *(_split(f[n]) for n in ("ids", "document_ids", "vocabulary")),
                    digest,
                    f["idf"] if "idf" in f.files else None,
                )
        except (OSError, ValueError, KeyError, UnicodeDecodeError, EOFError):
            return None
        ok = (
            len(index.ids) == len(index.document_ids) == len(index.group)
            and x.shape[1] == len(index.vocabulary)
            and (index.idf is None or index.idf.shape == (x.shape[1],))
        )
        return index if ok else None

    def without(self, documents: set[str]) -> SimilarIndex:
        """The index without the clauses of ``documents`` (rows no clause uses dropped)."""
        import numpy as np

        keep = np.array([d not in documents for d in self.document_ids], dtype=bool)
        group = self.group[keep]
        used = np.unique(group)
        return SimilarIndex(
            self.x[used],
            np.searchsorted(used, group),
            [i for i, k in zip(self.ids, keep) if k],
            [d for d, k in zip(self.document_ids, keep) if k],
            self.vocabulary,
            idf=self.idf,
        )

    def plus(self, clauses: Sequence[MeasureClause]) -> SimilarIndex:
        """The index with ``clauses`` appended (their rows after the old ones, columns merged
        in sorted order: every row keeps its floats and their order)."""
        import numpy as np
        import scipy.sparse as sp

        if not clauses:
            return self
        known = dict(zip(self.vocabulary, self.idf.tolist())) if self.idf is not None else None
        try:
            new = SimilarIndex.of(clauses, known)
        except ValueError:  # no token: rows of nothing (they pair with no clause)
            new = SimilarIndex(
                sp.csr_matrix((1, 0)),
                np.zeros(len(clauses), dtype=np.int64),
                [c.id for c in clauses],
                [c.document_id for c in clauses],
                [],
                idf=np.zeros(0),
            )
        old_words, new_words = np.array(self.vocabulary, dtype=str), np.array(new.vocabulary, dtype=str)
        words = np.union1d(old_words, new_words)  # sorted as Python sorts str (code points)
        old_x, new_x = self.x.copy(), new.x.copy()
        old_x.indices = np.searchsorted(words, old_words)[old_x.indices].astype(old_x.indices.dtype)
        new_x.indices = np.searchsorted(words, new_words)[new_x.indices].astype(new_x.indices.dtype)
        old_x.resize(old_x.shape[0], len(words))
        new_x.resize(new_x.shape[0], len(words))
        x = sp.vstack([old_x, new_x], format="csr")
        x.sort_indices()
        if self.idf is not None:  # each word's, from the old columns and the new (the same value)
            idf = np.zeros(len(words))
            idf[np.searchsorted(words, new_words)] = new.idf
            idf[np.searchsorted(words, old_words)] = self.idf
        else:  # (an index saved without them: the table was read for the new clauses anyway)
            idf = _idf(words.tolist())
        return SimilarIndex(
            x,
            np.r_[self.group, new.group + self.x.shape[0]],
            self.ids + new.ids,
            self.document_ids + new.document_ids,
            words.tolist(),
            idf=idf,
        )


def _joined(strings: Sequence[str]):
    import numpy as np

    return np.frombuffer("\n".join(strings).encode(), dtype=np.uint8)


def _split(array) -> list[str]:
    text = array.tobytes().decode()
    return text.split("\n") if text else []


def _insert_rows(db, rows) -> None:
    db.conn.executemany(
        "insert into similar_clauses (clause_id, other_clause_id, score, method) values (?, ?, ?, ?)", rows
    )


def build_similar(
    db,
    index_path: Path | None = None,
    digest: str | None = None,
    jobs: int = 1,
    apart: bool = False,
    pairs: PairsApart | None = None,
) -> int:
    """Create and fill ``similar_clauses`` in a sqlite_utils Database (called by store.write_db);
    with ``index_path``, save the :class:`SimilarIndex` there for :func:`update_similar` (under
    the kb.db's ``digest``). ``jobs``: processes for the search (:func:`_top_k`). With ``apart``,
    the pairs are computed in a new process that reads the database file itself, so the vectors
    and the search's arrays never add to this process's memory (the build's). ``pairs``: a
    :class:`PairsApart` already started on this database (its result is written)."""
    path = db.execute("pragma database_list").fetchone()[2] if apart and pairs is None else ""
    if pairs is not None:
        ids, ci, cj, cs = pairs.result()
    elif path:
        ids, ci, cj, cs = _apart(_pairs_of, path, index_path, digest, jobs)
    else:
        ids, ci, cj, cs = _pairs_of(db, index_path, digest, jobs)
    db.execute(SIMILAR_DDL)
    # plain executemany: sqlite_utils' insert_all took a fifth of the step at 10,000 documents
    with db.conn:
        _insert_rows(
            db, ((ids[i], ids[j], s, METHOD) for i, j, s in zip(ci.tolist(), cj.tolist(), cs.tolist()))
        )
    db["similar_clauses"].create_index(["other_clause_id"])
    return db.execute("select count(*) from similar_clauses").fetchone()[0]


def _pairs_of(db, index_path: Path | None, digest: str | None, jobs: int):
    """``(ids, i, j, score)``: the measure clauses' ids and :func:`_top_k`'s arrays over them (a
    database, or the path of its file); the index saved at ``index_path``."""
    import numpy as np

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True) if isinstance(db, str) else db
    try:
        index = SimilarIndex.of(iter_measure_clauses(conn))  # (the clauses' texts are not kept)
    except ValueError:  # no token at all (clauses of stop words or digits only), or no clause
        index = None
    finally:
        if isinstance(db, str):
            conn.close()
    if index is not None and len(set(index.document_ids)) >= 2:
        ci, cj, cs = _top_k(index.x, index.group, index.ids, index.document_ids, jobs=jobs)
    else:
        ci, cj, cs = _empty_int(), _empty_int(), np.zeros(0)
    if index_path is not None and digest is not None:
        (index or SimilarIndex(_empty_x(), _empty_int(), [], [], [])).save(index_path, digest)
    return (index.ids if index is not None else []), ci, cj, cs


def _apart(fn, *args):
    """``fn(*args)`` in a new process (spawned, not forked: it does not start with this
    process's pages, the build's), with pebble as the extraction workers are: its result, or its
    exception raised here. pebble's workers are no daemons, so it may fork its own searchers."""
    import multiprocessing

    from pebble import ProcessPool

    with ProcessPool(max_workers=1, context=multiprocessing.get_context("spawn")) as pool:
        return pool.schedule(fn, args=args).result()


class _Spawned:
    """One process of its own (spawned by pebble, as :func:`_apart`'s), made with a first task
    (``prepare(*args)``: imports, tables, anything the work needs before its input is known),
    then given one piece of work (:meth:`_schedule`). :meth:`result` gives that work's result,
    or raises its exception, and stops the process; :meth:`close` stops it (its work, if any,
    is dropped)."""

    def __init__(self, prepare: Callable, args: tuple = ()):
        import multiprocessing

        from pebble import ProcessPool

        self.pool = ProcessPool(max_workers=1, context=multiprocessing.get_context("spawn"))
        # (its result is not needed: a failure shows again in the work)
        self.pool.schedule(prepare, args=args)
        self.future = None

    def _schedule(self, fn: Callable, args: tuple) -> None:
        self.future = self.pool.schedule(fn, args=args)

    def result(self):
        try:
            return self.future.result()
        finally:
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool.join(timeout=10)
            self.pool = None


class PairsApart(_Spawned):
    """:func:`_pairs_of` of a cold build in a process of its own, made as the build begins:
    the process imports scikit-learn and reads jieba's IDF table while the documents are
    extracted (:func:`_prepare_pairs`). :meth:`start` gives it the build's database file once
    the clauses and their FTS tokens are committed; it reads them and computes the pairs while
    the build writes its other corpus-wide tables (the file in WAL mode, so the reader sees its
    snapshot and the writer is not blocked). :meth:`result` gives :func:`_pairs_of`'s arrays
    ``(ids, i, j, score)``, or raises the process's exception."""

    def __init__(self):
        super().__init__(_prepare_pairs)

    def start(self, db_path: str | Path, index_path: Path | None, digest: str | None, jobs: int = 1) -> None:
        self._schedule(_pairs_of, (str(db_path), index_path, digest, jobs))


def _prepare_pairs() -> None:
    """In :class:`PairsApart`'s process, before the clauses are written: the imports and the
    IDF table :func:`_pairs_of` needs."""
    import importlib

    for module in ("sklearn.feature_extraction.text", "sklearn.preprocessing", "scipy.sparse"):
        importlib.import_module(module)
    word_idf()


def _empty_x():
    import scipy.sparse as sp

    return sp.csr_matrix((0, 0))


def _empty_int():
    import numpy as np

    return np.zeros(0, dtype=np.int64)


def update_similar(
    db,
    removed: set[str],
    added: set[str],
    index_path: Path,
    old_digest: str,
    digest: str,
    jobs: int = 1,
) -> int | None:
    """Update ``similar_clauses`` of a kb.db whose documents ``removed`` (changed or gone) were
    deleted and ``added`` (changed or new) inserted, from the :class:`SimilarIndex` saved for
    the old kb.db (``old_digest``); the rows are those :func:`build_similar` writes on the new
    kb.db, and the index is saved again under ``digest``. Returns the number of rows written,
    or None if the index is missing or stale (the caller builds the table anew). A rebuild
    computes the same in a process of its own (:class:`UpdateApart`).

    A clause's vector depends on its own tokens (:func:`word_idf`), so an unchanged clause's
    best ``k`` change only if one of them was removed, or a new clause comes before its
    ``k``-th: the clauses of ``added`` and those whose rows named a removed clause get their
    best ``k`` anew (:func:`_top_k` with ``only``); every other clause that a new clause
    reaches at the threshold merges it into its rows (the best ``k`` of its old rows and the
    new pairs)."""
    plan = _UpdatePlan.of(db, index_path, old_digest, removed)
    if plan is None:
        return None
    delete, rows = plan.finish(measure_clauses(db, documents=added), db, index_path, digest, jobs)
    apply_update(db, delete, rows)
    return db.execute("select count(*) from similar_clauses").fetchone()[0]


def apply_update(db, delete: Sequence[str], rows: Sequence[tuple[str, str, float]]) -> None:
    """Delete the rows of the clauses ``delete`` and insert ``rows`` ``(clause, other, score)``
    (what :meth:`_UpdatePlan.finish` computed) in ``similar_clauses``."""
    import json

    with db.conn:
        db.execute(
            "delete from similar_clauses where clause_id in (select value from json_each(?))",
            [json.dumps(list(delete))],
        )
        _insert_rows(db, ((c, o, s, METHOD) for c, o, s in rows))


@dataclass
class _UpdatePlan:
    """What an update knows before the new clauses are read: the index without the removed
    documents' clauses, the ids of those clauses, and the clauses whose rows named one (read
    from ``similar_clauses`` of the old kb.db: a rebuild leaves that table as it was until the
    update is applied)."""

    index: SimilarIndex
    removed_ids: list[str]
    lost: set[str]
    release_idf: bool = (
        False  # (in a process of its own: jieba's IDF table dropped once the new vectors are made)
    )

    @classmethod
    def of(cls, db, index_path: Path, old_digest: str | None, removed: set[str]) -> _UpdatePlan | None:
        """None if the index saved at ``index_path`` is missing or not the one of ``old_digest``."""
        import json

        index = SimilarIndex.load(index_path, old_digest) if old_digest else None
        if index is None:
            return None
        removed_ids = [i for i, d in zip(index.ids, index.document_ids) if d in removed]
        index = index.without(removed)
        gone = set(removed_ids)
        lost = {
            c
            for (c,) in db.execute(
                "select distinct clause_id from similar_clauses where other_clause_id in (select value from json_each(?))",
                [json.dumps(removed_ids)],
            )
        } - gone
        return cls(index, removed_ids, lost)

    def finish(self, new: Sequence[MeasureClause], db, index_path: Path, digest: str, jobs: int = 1):
        """``(delete, rows)``: the clauses whose rows go and the rows ``(clause, other, score)``
        to insert, with the clauses ``new`` of the added documents (``db``: where the old rows
        of the clauses a new one reaches are read, the old kb.db or its copy). Saves the
        updated index at ``index_path`` under ``digest``."""
        import numpy as np

        index = self.index
        first_new = len(index.ids)
        index = index.plus(new)
        self.index = None  # (the index before: no longer held)
        if self.release_idf:
            _release_idf()
        gone = set(self.removed_ids)
        position = {c: i for i, c in enumerate(index.ids)}
        redo = sorted({position[c] for c in self.lost} | set(range(first_new, len(index.ids))))
        delete = set(gone | self.lost)
        rows: list[tuple[str, str, float]] = []
        if len(set(index.document_ids)) >= 2 and index.x.shape[1] and redo:
            prefixes = _prefix_filter(index.x)  # (once, for both searches)
            ci, cj, cs = _top_k(
                index.x, index.group, index.ids, index.document_ids, only=redo, jobs=jobs, prefixes=prefixes
            )
            ids = index.ids
            rows.extend((ids[i], ids[j], s) for i, j, s in zip(ci.tolist(), cj.tolist(), cs.tolist()))
            del ci, cj, cs
            # the other clauses a new clause reaches: its pair may enter their rows
            c, a, sc = _pairs_with(index, np.arange(first_new, len(index.ids)), prefixes)
            del prefixes
            keep = ~np.isin(c, np.asarray(redo))
            c, a, sc = c[keep], a[keep], sc[keep]
            changed, merged = _merged_rows(db, index, c, a, sc)
            delete.update(changed)
            rows.extend(merged)
        index.save(index_path, digest)
        return sorted(delete), rows


class UpdateApart(_Spawned):
    """:func:`update_similar` in a process of its own (spawned by pebble, as the cold build's
    pairs are, :func:`_apart`), so the index and the search never add to the build's memory.
    Started as a rebuild begins: the process imports scikit-learn, loads the index saved for
    the kb.db at ``db_path`` and drops the clauses of ``removed`` (:class:`_UpdatePlan`) while
    the changed documents are extracted. :meth:`start` sends it the new clauses (read by the
    caller from the updated copy, which the process never opens: it reads the old kb.db, which
    the rebuild does not change); :meth:`result` gives the rows to delete and insert
    (:func:`apply_update`), or None if the index is missing or stale. An exception in the
    process is raised by :meth:`result`."""

    def __init__(self, index_path: Path, db_path: Path, removed: set[str]):
        self.args = (str(index_path), str(db_path), sorted(removed))
        super().__init__(_prepare_apart, self.args)  # (see _update_apart)

    def start(self, new: Sequence[MeasureClause], old_digest: str | None, digest: str, jobs: int = 1) -> None:
        self._schedule(_update_apart, (*self.args, list(new), old_digest, digest, jobs))

    def result(self) -> tuple | None:
        """``(delete, rows)`` for :func:`apply_update`, or None (no usable index); stops the process."""
        return super().result()


def _release_idf() -> None:
    """Drop jieba's IDF table (about 130 MB of str and float objects) from this process: the
    cache of :func:`word_idf` and jieba's loader, which holds the same dict."""
    if not word_idf.cache_info().currsize:
        return  # (not read: the new clauses' tokens were all in the index)
    import jieba.analyse  # (its import reads the table: only once word_idf has)

    word_idf.cache_clear()
    loader = jieba.analyse.default_tfidf.idf_loader
    loader.idf_freq, loader.path = {}, ""
    gc.collect()


_PREPARED: dict[tuple, _UpdatePlan | None] = {}  # in the update's process: _prepare_apart's plan


def _prepare_apart(index_path: str, db_path: str, removed: list[str]) -> bool:
    """In :class:`UpdateApart`'s process, before the new clauses are known: the imports and the
    plan on the old kb.db (its digest read there); jieba's IDF table only for an index saved
    without its columns' IDF (an index has them: the table is read only if a new clause brings a
    token the index lacks, about 1.2 s of CPU beside the changed document's extraction)."""
    import importlib

    for module in ("sklearn.feature_extraction.text", "sklearn.preprocessing"):
        importlib.import_module(module)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = conn.execute("select value from build_info where key = 'corpus_digest'").fetchone()
        plan = _UpdatePlan.of(conn, Path(index_path), row[0] if row else None, set(removed))
    finally:
        conn.close()
    if plan is not None and plan.index.idf is None:  # (an index saved without its columns' IDF)
        word_idf()
    _PREPARED.clear()
    _PREPARED[(index_path, db_path, tuple(removed), row[0] if row else None)] = plan
    return plan is not None


def _update_apart(index_path, db_path, removed, new, old_digest, digest, jobs):
    """In :class:`UpdateApart`'s process: :meth:`_UpdatePlan.finish` on the plan
    :func:`_prepare_apart` made (made here if it did not run, or on another kb.db)."""
    key = (index_path, db_path, tuple(removed), old_digest)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        plan = (
            _PREPARED.pop(key)
            if key in _PREPARED
            else _UpdatePlan.of(conn, Path(index_path), old_digest, set(removed))
        )
        _PREPARED.clear()
        if plan is None:
            return None
        plan.release_idf = True
        return plan.finish(new, conn, Path(index_path), digest, jobs)
    finally:
        conn.close()


def _pairs_with(index: SimilarIndex, new, prefixes, threshold: float = THRESHOLD):
    """``(c, a, score)``: every clause ``c`` of another document whose cosine with a clause ``a``
    of ``new`` (positions), rounded to 4 places, is at least ``threshold`` (``prefixes``:
    :func:`_prefix_filter` of the index's vectors)."""
    import numpy as np

    x, group = index.x, index.group
    n, m = len(index.ids), x.shape[0]
    doc_codes: dict[str, int] = {}
    documents = np.array(
        [doc_codes.setdefault(d, len(doc_codes)) for d in index.document_ids], dtype=np.int64
    )
    members = np.argsort(group, kind="stable")
    size = np.bincount(group, minlength=m)
    starts = np.r_[0, np.cumsum(size)]
    rows = np.unique(group[new])
    no_doc = np.full(m, -1, dtype=np.int64)  # (every pair is kept here: one document's are dropped below)
    minrank = np.zeros(m, dtype=np.int64)
    (ga, gb, s), _ = _neighbour_groups(
        x, prefixes, no_doc, minrank, threshold, None, rows, CHUNK_ROWS, CANDIDATE_PAIRS
    )
    self_s = _rounded(_exact_cosines(x, rows, rows))
    ok = self_s >= threshold
    ga, gb, s = np.r_[ga, rows[ok]], np.r_[gb, rows[ok]], np.r_[s, self_s[ok]]
    is_new = np.zeros(n, dtype=bool)
    is_new[new] = True
    out_c, out_a, out_s = [], [], []
    for g_a, g_b, score in zip(ga.tolist(), gb.tolist(), s.tolist()):
        mine = members[starts[g_a] : starts[g_a + 1]]
        mine = mine[is_new[mine]]
        theirs = members[starts[g_b] : starts[g_b + 1]]
        cc, aa = np.repeat(theirs, len(mine)), np.tile(mine, len(theirs))
        keep = documents[cc] != documents[aa]
        out_c.append(cc[keep])
        out_a.append(aa[keep])
        out_s.append(np.full(int(keep.sum()), score))
    if not out_c:
        return _empty_int(), _empty_int(), np.zeros(0)
    return np.concatenate(out_c), np.concatenate(out_a), np.concatenate(out_s)


def _merged_rows(db, index: SimilarIndex, c, a, scores, k: int = TOP_K):
    """Merge the pairs ``(c, a, score)`` into the rows of each clause ``c`` (read from ``db``):
    its best ``k`` of old rows and new pairs (score descending, then the other clause's id).
    Returns the clauses whose rows change and their new rows ``(clause, other, score)``."""
    import json

    found: dict[str, list[tuple[float, str]]] = {}
    for ci, ai, s in zip(c.tolist(), a.tolist(), scores.tolist()):
        found.setdefault(index.ids[ci], []).append((s, index.ids[ai]))
    clauses = sorted(found)
    changed, rows = [], []
    for start in range(0, len(clauses), 500):
        chunk = clauses[start : start + 500]
        old: dict[str, list[tuple[float, str]]] = {cid: [] for cid in chunk}
        for cid, other, s in db.execute(
            "select clause_id, other_clause_id, score from similar_clauses"
            " where clause_id in (select value from json_each(?))",
            [json.dumps(chunk)],
        ):
            old[cid].append((s, other))
        for cid in chunk:
            best = sorted(set(old[cid]) | set(found[cid]), key=lambda t: (-t[0], t[1]))[:k]
            if best != sorted(old[cid], key=lambda t: (-t[0], t[1])):
                changed.append(cid)
                rows.extend((cid, other, s) for s, other in best)
    return changed, rows


# -- evaluation on the hand-checked gold ---------------------------------------------------


@dataclass
class Score:
    method: str
    threshold: float
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


THRESHOLDS = {"tfidf": (0.2, 0.25, 0.3, 0.35, 0.4, 0.5), "minhash": (0.1, 0.15, 0.2, 0.3, 0.4, 0.5)}


def not_measure_pairs(conn, gold: Sequence[dict]) -> list[dict]:
    """The gold pairs that name a clause of kb.db that is no measure clause (:func:`is_measure`):
    never predicted, so a negative one is right and a positive one a miss. Raises ValueError for
    a pair that names a clause kb.db does not have."""
    known = {c for (c,) in conn.execute("select id from clauses")}
    missing = [g for g in gold if g["a"] not in known or g["b"] not in known]
    if missing:
        raise ValueError(f"gold pairs name clauses that are not clauses of kb.db: {missing[:3]}")
    measures = {c.id for c in measure_clauses(conn)}
    return [g for g in gold if g["a"] not in measures or g["b"] not in measures]


def evaluate_pairs(conn, gold: Sequence[dict]) -> list[Score]:
    """Precision and recall of each method and threshold on gold pairs ``{a, b, same}``; a pair
    that names a clause that is no measure clause is never predicted (:func:`not_measure_pairs`);
    one that names a clause kb.db does not have raises ValueError."""
    not_measure_pairs(conn, gold)
    clauses = measure_clauses(conn)
    out = []
    for method, thresholds in THRESHOLDS.items():
        scores = pair_scores(clauses, method)
        for t in thresholds:
            tp = fp = fn = 0
            for g in gold:
                pred = scores.get(tuple(sorted((g["a"], g["b"]))), 0.0) >= t
                tp += pred and g["same"]
                fp += pred and not g["same"]
                fn += (not pred) and g["same"]
            out.append(Score(method, t, tp, fp, fn))
    return out


def load_gold(path) -> list[dict]:
    """The gold pairs of a JSON-lines file: ``{"a", "b", "same", "reason"}`` per line."""
    import json
    from pathlib import Path

    pairs = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not {"a", "b", "same", "reason"} <= row.keys() or not isinstance(row["same"], bool):
            raise ValueError(f"{path}:{n}: a gold pair needs a, b, same (true/false) and reason")
        pairs.append(row)
    return pairs


def format_scores(scores: Sequence[Score], n_pos: int, n_neg: int) -> str:
    """The table `policykb similar-eval` prints; the method and threshold the build uses is starred."""
    from tabulate import tabulate

    rows = [
        [
            s.method + (" *" if (s.method, s.threshold) == (METHOD, THRESHOLD) else ""),
            s.threshold,
            s.tp,
            s.fp,
            s.fn,
            f"{s.precision:.2f}",
            f"{s.recall:.2f}",
            f"{s.f1:.2f}",
        ]
        for s in scores
    ]
    head = f"gold pairs: {n_pos} same measure, {n_neg} not (* = what the build uses, top {TOP_K} per clause)"
    table = tabulate(
        rows,
        headers=["method", "threshold", "tp", "fp", "fn", "precision", "recall", "F1"],
        disable_numparse=True,
    )
    return head + "\n" + table
