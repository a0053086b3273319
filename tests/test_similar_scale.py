"""similar_clauses without an n x n matrix: the blockwise top k (extractor.kb.similar.tfidf_top_k)
equals a brute-force dense computation (the way the table was built before: every pair of the
dense cosine matrix), whatever the block size; MinHash rows equal the rows of all its pairs."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from extractor.kb import similar
from extractor.kb.fts import search_tokens
from extractor.kb.similar import MeasureClause

WORDS = [
    "推进",
    "加强",
    "扬尘",
    "管控",
    "燃油",
    "叉车",
    "电动化",
    "土壤",
    "污染",
    "防控",
    "未利用地",
    "保护",
    "生物",
    "多样性",
    "水源地",
    "治理",
    "监测",
    "执法",
    "清洁",
    "能源",
]


def random_clauses(seed: int, n: int = 60, documents: int = 6) -> list[MeasureClause]:
    """Clauses of random words (given as tokens, no jieba), some repeated word for word in other
    documents (ties at 1.0) or with one word changed; ids not in list order."""
    rng = random.Random(seed)
    texts: list[list[str]] = []
    for _ in range(n):
        if texts and rng.random() < 0.4:
            words = list(rng.choice(texts))
            if rng.random() < 0.5:
                words[rng.randrange(len(words))] = rng.choice(WORDS)
        else:
            words = rng.choices(WORDS, k=rng.randint(2, 7))
        texts.append(words)
    ids = rng.sample(range(1000, 10000), n)
    return [
        MeasureClause(f"d{rng.randrange(documents)}:c{ids[i]}", "", "", " ".join(words))
        for i, words in enumerate(texts)
    ]


def with_documents(clauses: list[MeasureClause]) -> list[MeasureClause]:
    return [MeasureClause(c.id, c.id.split(":")[0], c.text, c.tokens) for c in clauses]


def brute_force(clauses, threshold: float, k: int) -> list[tuple[str, str, float]]:
    """Every pair of the dense cosine matrix; each clause's k best at or above the threshold."""
    x = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, sublinear_tf=True)
    x.fit([c.tokens for c in clauses])
    table, median = similar.word_idf()  # the fixed IDF (jieba's table), not the clauses' own
    x.idf_ = np.array([table.get(w, median) for w in x.get_feature_names_out()])
    sim = cosine_similarity(x.transform([c.tokens for c in clauses]))
    by_clause: dict[str, list[tuple[float, str]]] = {}
    for i, a in enumerate(clauses):
        for j in range(i + 1, len(clauses)):
            b = clauses[j]
            if a.document_id != b.document_id and sim[i, j] > 0:
                s = round(float(sim[i, j]), 4)
                if s >= threshold:
                    by_clause.setdefault(a.id, []).append((s, b.id))
                    by_clause.setdefault(b.id, []).append((s, a.id))
    return [
        (cid, other, s)
        for cid in sorted(by_clause)
        for s, other in sorted(by_clause[cid], key=lambda x: (-x[0], x[1]))[:k]
    ]


def blockwise(clauses, threshold, k, chunk_rows, max_pairs=similar.MAX_BLOCK_PAIRS):
    return [
        (clauses[i].id, clauses[j].id, s)
        for i, j, s in similar.tfidf_top_k(clauses, threshold, k, chunk_rows=chunk_rows, max_pairs=max_pairs)
    ]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk_rows", [1, 2, 7, 1000])
def test_blockwise_top_k_equals_brute_force(seed, chunk_rows):
    clauses = with_documents(random_clauses(seed))
    for threshold, k in ((0.3, 5), (0.1, 2), (0.5, 1)):
        expected = brute_force(clauses, threshold, k)
        assert expected, "the random set has pairs above the threshold"
        assert blockwise(clauses, threshold, k, chunk_rows) == expected


def test_blocks_sized_by_their_product_still_give_the_same_rows():
    clauses = with_documents(random_clauses(7, n=80))
    expected = brute_force(clauses, 0.3, 5)
    for max_pairs in (1, 30, 500):  # 1: one row per block after the first
        assert blockwise(clauses, 0.3, 5, 1000, max_pairs) == expected


def test_blocks_stay_under_the_pair_budget():
    blocks = similar._blocks(10_000, chunk_rows=1000, max_pairs=50_000)
    start, stop = next(blocks)
    assert (start, stop) == (0, 5)  # the first block as if its product were dense
    start, stop = blocks.send(5 * 100)  # 100 pairs per row: 500 rows fit
    assert (start, stop) == (5, 505)
    start, stop = blocks.send(500 * 50_000)  # dense rows: one at a time
    assert (start, stop) == (505, 506)


def test_ties_are_broken_by_id_and_k_is_respected():
    same = "推进 燃油 叉车 电动化"
    clauses = [MeasureClause(f"{d}:c1", d, "", same) for d in ("e", "b", "d", "a", "c")]
    rows = blockwise(clauses, 0.3, 2, chunk_rows=1)
    assert rows == brute_force(clauses, 0.3, 2)
    assert [r[:2] for r in rows if r[0] == "c:c1"] == [("c:c1", "a:c1"), ("c:c1", "b:c1")]
    assert all(s == 1.0 for *_, s in rows) and len(rows) == 5 * 2


def test_pairs_of_one_document_are_never_kept():
    clauses = with_documents(random_clauses(3))
    rows = blockwise(clauses, 0.0001, 1000, chunk_rows=3)
    assert rows and all(a.split(":")[0] != b.split(":")[0] for a, b, _ in rows)
    one_document = [MeasureClause(c.id, "d0", c.text, c.tokens) for c in clauses]
    assert similar.tfidf_top_k(one_document) == []


def test_the_build_never_makes_the_dense_matrix(monkeypatch):
    def dense(*_):
        raise AssertionError("an n x n matrix")

    monkeypatch.setattr(similar, "tfidf_matrix", dense)
    monkeypatch.setattr("sklearn.metrics.pairwise.cosine_similarity", dense)
    clauses = with_documents(random_clauses(1))
    assert similar.similar_rows(clauses, "tfidf") == [
        {"clause_id": a, "other_clause_id": b, "score": s, "method": "tfidf"}
        for a, b, s in brute_force(clauses, similar.THRESHOLD, similar.TOP_K)
    ]


def test_minhash_rows_equal_the_rows_of_all_its_pairs():
    rng = random.Random(5)
    base = [
        "加强扬尘管控，推进燃油叉车电动化。",
        "防控未利用地土壤污染，加强保护利用。",
        "强化生物多样性保护。",
    ]
    clauses = []
    for i in range(40):
        text = list(rng.choice(base))
        text[rng.randrange(len(text))] = rng.choice("治理监测执法清洁能源")
        clauses.append(MeasureClause(f"d{i % 7}:c{rng.randrange(10**6)}", f"d{i % 7}", "".join(text)))
    pairs = similar.pair_scores(clauses, "minhash")
    for threshold, k in ((0.1, 5), (0.4, 2)):
        by_clause: dict[str, list[tuple[float, str]]] = {}
        for (a, b), s in pairs.items():
            if s >= threshold:
                by_clause.setdefault(a, []).append((s, b))
                by_clause.setdefault(b, []).append((s, a))
        expected = [
            (cid, other, s)
            for cid in sorted(by_clause)
            for s, other in sorted(by_clause[cid], key=lambda x: (-x[0], x[1]))[:k]
        ]
        got = [
            (r["clause_id"], r["other_clause_id"], r["score"])
            for r in similar.similar_rows(clauses, "minhash", threshold, k)
        ]
        assert got and got == expected


def test_the_fts_tokens_are_the_clauses_search_tokens(conn):
    clauses = similar.measure_clauses(conn)
    assert clauses and all(c.tokens is not None for c in clauses)
    assert all(c.tokens.split() == search_tokens(c.text) for c in clauses)
    # without the FTS table (an older kb.db, a bench file) jieba segments the text itself
    plain = [MeasureClause(c.id, c.document_id, c.text) for c in clauses]
    assert similar.similar_rows(plain) == similar.similar_rows(clauses)


@pytest.mark.parametrize("bands", [1, 3, 1000])
def test_merging_the_best_after_every_block_gives_the_same_rows(monkeypatch, bands):
    monkeypatch.setattr(similar, "MERGE_PAIRS", 0)
    monkeypatch.setattr(similar, "COLUMN_BANDS", bands)
    clauses = with_documents(random_clauses(11, n=80))
    for threshold, k in ((0.1, 1), (0.3, 2)):
        assert blockwise(clauses, threshold, k, chunk_rows=1) == brute_force(clauses, threshold, k)


@pytest.mark.parametrize("fts", [None, "content=''", "content='clauses'"])
def test_clauses_without_fts_tokens_are_segmented_by_jieba(fts):
    from extractor.sqlite import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("create table clauses (id, document_id, kind, text, seq)")
    text = "三是加强未利用地保护利用，防控未利用地土壤污染。"
    conn.executemany(
        "insert into clauses values (?, ?, 'item', ?, 1)", [("a:c1", "a", text), ("b:c1", "b", text)]
    )
    if fts:  # an FTS table that does not hold the tokens
        conn.execute(f"create virtual table clauses_fts using fts5(tokens, {fts})")
    clauses = similar.measure_clauses(conn)
    assert [c.tokens for c in clauses] == [None, None]
    assert [(r["clause_id"], r["score"]) for r in similar.similar_rows(clauses)] == [
        ("a:c1", 1.0),
        ("b:c1", 1.0),
    ]


# -- the grouped, prefix-filtered top k (tfidf_top_k) against the exhaustive ones ----------------


def copied_clauses(seed: int, n: int = 150, documents: int = 12) -> list[MeasureClause]:
    """A corpus of copies, as provinces copy each other's plans: a few source clauses, each
    copied word for word into many documents (sometimes twice into one), or with a word or a
    number changed, or with a district's name put in front; some clauses of their own."""
    rng = random.Random(seed)
    sources = [rng.choices(WORDS, k=rng.randint(3, 9)) for _ in range(6)]
    out = []
    for _i in range(n):
        doc = f"d{rng.randrange(documents):02d}"
        r = rng.random()
        words = list(rng.choice(sources))
        if r < 0.45:
            pass  # word for word
        elif r < 0.7:
            words[rng.randrange(len(words))] = str(rng.randint(1, 40))  # a number changed
        elif r < 0.85:
            words = [rng.choice(["兴泽", "安宁", "和平"]), "县", *words]
        else:
            words = rng.choices(WORDS, k=rng.randint(2, 7))
        out.append(MeasureClause(f"{doc}:c{rng.randrange(10**6):06d}", doc, "", " ".join(words)))
    if rng.random() < 0.5:  # a clause repeated inside one document
        out.append(MeasureClause(f"{out[0].document_id}:c9999999", out[0].document_id, "", out[0].tokens))
    return out


def top_k(clauses, threshold, k, **kw):
    return [(clauses[i].id, clauses[j].id, s) for i, j, s in similar.tfidf_top_k(clauses, threshold, k, **kw)]


@pytest.mark.parametrize("seed", range(12))
def test_grouped_top_k_equals_brute_force_on_copied_clauses(seed):
    clauses = copied_clauses(seed)
    for threshold, k in ((0.3, 5), (0.1, 3), (0.6, 1), (0.9, 2), (0.0001, 8)):
        expected = brute_force(clauses, threshold, k)
        assert expected
        assert top_k(clauses, threshold, k) == expected


@pytest.mark.parametrize("neighbours", [1, 2, 3])
@pytest.mark.parametrize("levels", [(), (0.95, 0.8), (0.9, 0.7, 0.5)])
def test_neighbours_left_off_are_found_again(monkeypatch, neighbours, levels):
    # few neighbour groups kept: clauses whose k-th pair could be beaten by one left off are
    # done again with all of them; levels above the threshold: clauses with k pairs above one
    monkeypatch.setattr(similar, "GROUP_NEIGHBOURS", neighbours)
    monkeypatch.setattr(similar, "LEVELS", levels)
    for seed in range(4):
        clauses = copied_clauses(100 + seed, n=90)
        for threshold, k in ((0.3, 5), (0.2, 2)):
            assert top_k(clauses, threshold, k, chunk_rows=7) == brute_force(clauses, threshold, k)


def test_grouped_top_k_equals_the_blockwise_one_on_random_clauses():
    for seed in range(6):
        clauses = with_documents(random_clauses(seed, n=120, documents=9))
        for threshold, k in ((0.3, 5), (0.15, 2)):
            assert similar.tfidf_top_k(clauses, threshold, k) == similar.tfidf_top_k_blockwise(
                clauses, threshold, k
            )


def test_grouped_vectors_hold_the_same_floats():
    clauses = copied_clauses(3) + with_documents(random_clauses(4))
    x = similar.tfidf_vectors(clauses)
    xu, group = similar.grouped_vectors(clauses)
    assert xu.shape[0] < len(clauses)  # the copies share a row
    rows = xu[group]
    assert (rows.indptr == x.indptr).all() and (rows.indices == x.indices).all()
    assert (rows.data == x.data).all()  # bit for bit, not approximately


def test_exact_cosines_are_the_sparse_products_floats():
    import numpy as np

    x = similar.tfidf_vectors(with_documents(random_clauses(5, n=80)))
    product = (x @ x.T).toarray()
    a, b = np.nonzero(product)
    order = np.lexsort((b, a))
    got = similar._exact_cosines(x, a[order], b[order], chunk=17)
    assert (got == product[a[order], b[order]]).all()
    assert (similar._exact_cosines_scipy(x, a[order], b[order], chunk=17) == got).all()


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_pair_dots_add_as_scipy_adds(seed):
    """The compiled kernel's dot products are scipy's floats bit for bit, on rows whose sums
    depend on the order of addition (magnitudes from 1e-8 to 1e16, both signs), pairs in any
    order (a row repeated, rows alternating, a row with itself, empty rows); a matrix whose
    indices are not sorted takes scipy's own path."""
    import numpy as np
    import scipy.sparse as sp

    similar._warm_pair_dots()  # (loaded: _exact_cosines takes it for any number of pairs)
    rng = np.random.default_rng(seed)
    m, v = 60, 40
    x = sp.random(m, v, density=0.3, format="csr", random_state=seed)
    x.data = rng.choice([1e16, -1e16, 1.0, -1.0, 1e-8, 0.1, 3.0], size=x.nnz) * rng.random(x.nnz)
    x = sp.csr_matrix(x.multiply(np.arange(m)[:, None] != 5))
    x.eliminate_zeros()  # row 5 empty
    assert x.indptr[5] == x.indptr[6]
    x.sort_indices()
    a = rng.integers(0, m, 3000)
    b = rng.integers(0, m, 3000)
    a[:200] = 7  # one row against many, then alternating rows, then each row with itself
    a[200:400] = np.tile([3, 9], 100)
    b[400:460] = a[400:460] = np.arange(60)
    got = similar._exact_cosines(x, a, b)
    assert (got == similar._exact_cosines_scipy(x, a, b)).all()
    assert (got == (x @ x.T).toarray()[a, b]).all()
    shuffled = x.copy()
    for r in range(m):  # the same rows, their entries stored out of order
        lo, hi = shuffled.indptr[r], shuffled.indptr[r + 1]
        perm = rng.permutation(hi - lo)
        shuffled.indices[lo:hi], shuffled.data[lo:hi] = (
            shuffled.indices[lo:hi][perm],
            shuffled.data[lo:hi][perm],
        )
    shuffled.has_sorted_indices = False  # (scipy then adds in the stored order: its path is taken)
    assert (similar._exact_cosines(shuffled, a, b) == similar._exact_cosines_scipy(shuffled, a, b)).all()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("tau", [0.2, 0.5, 0.9])
def test_the_compiled_bounds_keep_what_the_numpy_filters_keep(seed, tau):
    """The compiled candidate filter gives the numpy filter's pairs, in its order, with its
    bounds bit for bit: blocks of consecutive and of scattered rows, rows of one document (their
    pairs dropped), and a row against itself."""
    similar._warm_pair_dots()
    x, _ = similar.grouped_vectors(copied_clauses(seed, n=400, documents=12))
    m = x.shape[0]
    rng = np.random.default_rng(seed)
    single_doc = np.where(rng.random(m) < 0.4, rng.integers(0, 5, m), -1)
    low = tau - 1e-3
    prefix, cut, tail = similar._prefix_filter(x)(low)
    rest = tail(np.arange(m), cut)
    compiled = similar._compiled_bounds(single_doc, cut, rest, tail, low)
    kept = 0
    for sel in (np.arange(m // 2), np.sort(rng.choice(m, m // 3, replace=False)), np.arange(m)):
        product = (prefix[sel] @ prefix.T.tocsr()).tocsr()
        want = similar._bounded(sel, product, single_doc, cut, rest, tail, low)
        got = compiled(sel, product)
        assert all(len(g) == len(w) and (g == w).all() for g, w in zip(got, want))
        assert not (single_doc[got[0]] >= 0)[single_doc[got[0]] == single_doc[got[1]]].any()
        kept += len(got[0])
    assert kept


@pytest.mark.parametrize("seed", range(2))
def test_the_search_gives_the_same_rows_with_or_without_the_compiled_kernels(seed, monkeypatch):
    clauses = copied_clauses(seed, n=300, documents=15)
    x, group = similar.grouped_vectors(clauses)
    args = (x, group, [c.id for c in clauses], [c.document_id for c in clauses])
    similar._warm_pair_dots()
    compiled = similar._top_k(*args)
    monkeypatch.setattr(similar, "_kernels_loaded", lambda: False)
    plain = similar._top_k(*args)
    assert len(compiled[0]) and all((a == b).all() for a, b in zip(compiled, plain))


@pytest.mark.parametrize("tau", [0.05, 0.3, 0.7, 0.95])
def test_pairs_above_tau_share_a_prefix_feature_and_the_bound_holds(tau):
    import numpy as np

    x, _ = similar.grouped_vectors(copied_clauses(8, n=200))
    prefix, cut, tail = similar._prefix_filter(x)(tau)
    product = (x @ x.T).toarray()
    shared = (prefix @ prefix.T).toarray()
    a, b = np.nonzero(product >= tau)
    assert len(a) > x.shape[0]  # pairs of different rows too
    assert (shared[a, b] > 0).all()
    c = np.minimum(cut[a], cut[b])
    assert (shared[a, b] + np.sqrt(tail(a, c) * tail(b, c)) >= product[a, b] - 1e-12).all()


def test_the_build_table_equals_the_exhaustive_one(conn):
    clauses = similar.measure_clauses(conn)
    assert similar.tfidf_top_k(clauses) == similar.tfidf_top_k_blockwise(clauses)


@pytest.mark.parametrize("seed", range(4))
def test_forked_search_gives_the_same_rows(seed, monkeypatch):
    """A level's rows split among forked processes: the same arrays as one process."""
    monkeypatch.setattr(similar, "PARALLEL_ROWS", 1)
    clauses = copied_clauses(seed, n=300, documents=15)
    x, group = similar.grouped_vectors(clauses)
    args = (x, group, [c.id for c in clauses], [c.document_id for c in clauses])
    one = similar._top_k(*args, jobs=1)
    two = similar._top_k(*args, jobs=2)
    assert len(one[0]) and all((a == b).all() for a, b in zip(one, two))


def test_rounding_is_pythons():
    """The vectorized rounding gives round(c, 4) for every cosine, halves and near halves too."""
    rng = np.random.default_rng(7)
    halves = (np.arange(10_000) + 0.5) / 1e4
    cosines = np.concatenate(
        [rng.random(200_000), halves, np.nextafter(halves, 0), np.nextafter(halves, 1), [0.0, 1.0]]
    )
    assert similar._rounded(cosines).tolist() == [round(c, 4) for c in cosines.tolist()]


@pytest.mark.parametrize("seed", range(3))
def test_the_tail_table_holds_the_tails_at_its_cuts(seed):
    """The table of each row's tail at the grid's cuts (the cheap bound) equals tail() there."""
    x, _ = similar.grouped_vectors(copied_clauses(seed, n=300, documents=15))
    _, _, tail = similar._prefix_filter(x)(0.5)
    rows = np.arange(x.shape[0])
    for g in tail.grid.tolist():
        cut = np.full(len(rows), g)
        assert (tail.at_most(rows, cut) == tail(rows, cut)).all()
        assert (tail.at_most(rows, cut + 1) >= tail(rows, cut + 1)).all()


def test_a_few_rows_against_many_columns_start_with_a_small_block():
    """A search of a few rows against every vector (a rebuild's): the first block is sized on
    the columns, not on the few rows (77 rows against 100,000 vectors were one block of 7.7
    million candidates)."""
    blocks = similar._blocks(77, chunk_rows=1000, max_pairs=500_000, width=100_000)
    assert next(blocks) == (0, 5)
    assert blocks.send(5 * 1000) == (5, 77)  # 1,000 candidates a row: the rest fit in one block
