"""Similar measures across documents (policy diffusion): the ``similar_clauses`` table.

For every task/measure clause, the clauses of *other* documents that state the same measure.
Two methods, measured on ``tests/diffusion_gold.jsonl`` (``policykb similar-eval``):

- ``tfidf``: TF-IDF over jieba search tokens (:func:`extractor.kb.fts.search_tokens`, so
  traditional and simplified text compare alike), cosine similarity (scikit-learn);
- ``minhash``: MinHash over character 3-shingles (datasketch), candidates from MinHashLSH and
  the estimated Jaccard similarity as the score.

The build uses :data:`METHOD` at :data:`THRESHOLD` (chosen on the gold, see README), keeping
the best :data:`TOP_K` per clause. Clusters of a measure are the connected components of the
mutual top-3 pairs (:func:`cluster_edges`, :func:`clusters`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from extractor.kb.fts import normalize_for_search, search_tokens

METHOD = "tfidf"
THRESHOLD = 0.3
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
# the lead of an item (一是, 1., （2）, 另一方面) is no part of the measure
LEAD = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+是|另一方面|一方面|\d+[.、．]|[（(]\d+[)）]|[一二三四五六七八九十]+、)\s*"
)


@dataclass(frozen=True)
class MeasureClause:
    id: str
    document_id: str
    text: str  # the clause's text as stored

    @property
    def key(self) -> str:
        """What is compared: the text without its lead, t2s, NFKC, lower case, no blanks."""
        return re.sub(r"\s+", "", normalize_for_search(LEAD.sub("", self.text)).text)


def is_measure(kind: str, text: str) -> bool:
    """Whether a clause states a task/measure (compared across documents)."""
    body = re.sub(r"\s+", "", LEAD.sub("", text or ""))
    return (
        kind in MEASURE_KINDS
        and len(body) >= MIN_CHARS
        and bool(CLAUSE_PUNCT.search(body))
        and bool(MEASURE_VERBS.search(body))
        and not ABOUT_DOCUMENT.search(body)
    )


def measure_clauses(conn) -> list[MeasureClause]:
    """The task/measure clauses of kb.db (an sqlite3 connection or sqlite_utils Database)."""
    rows = conn.execute(
        "select id, document_id, kind, text from clauses order by document_id, seq"
    ).fetchall()
    return [MeasureClause(i, d, t) for i, d, k, t in rows if is_measure(k, t)]


# -- the two similarity methods ------------------------------------------------------------


def tfidf_matrix(clauses: Sequence[MeasureClause]):
    """Cosine similarities (a dense n x n array) of the clauses' TF-IDF vectors."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vec = TfidfVectorizer(tokenizer=search_tokens, token_pattern=None, lowercase=False, sublinear_tf=True)
    return cosine_similarity(vec.fit_transform([c.text for c in clauses]))


def shingles(text: str, n: int = SHINGLE) -> set[str]:
    return {text[i : i + n] for i in range(max(1, len(text) - n + 1))}


def minhashes(clauses: Sequence[MeasureClause]) -> list:
    from datasketch import MinHash

    out = []
    for c in clauses:
        m = MinHash(num_perm=MINHASH_PERM, seed=1)
        m.update_batch([s.encode("utf-8") for s in sorted(shingles(c.key))])
        out.append(m)
    return out


def pair_scores(clauses: Sequence[MeasureClause], method: str) -> dict[tuple[str, str], float]:
    """Score of every pair of clauses of different documents (ids sorted within the pair);
    minhash: only the pairs MinHashLSH proposes at a low threshold (others score 0)."""
    scores: dict[tuple[str, str], float] = {}
    if len({c.document_id for c in clauses}) < 2:
        return scores  # nothing to compare across documents
    if method == "tfidf":
        try:
            sim = tfidf_matrix(clauses)
        except ValueError:  # no token at all (clauses of stop words or digits only)
            return scores
        for i, a in enumerate(clauses):
            for j in range(i + 1, len(clauses)):
                b = clauses[j]
                if a.document_id != b.document_id and sim[i, j] > 0:
                    scores[tuple(sorted((a.id, b.id)))] = round(float(sim[i, j]), 4)
    elif method == "minhash":
        from datasketch import MinHashLSH

        hashes = minhashes(clauses)
        lsh = MinHashLSH(threshold=0.1, num_perm=MINHASH_PERM)
        for i, m in enumerate(hashes):
            lsh.insert(str(i), m)
        for i, a in enumerate(clauses):
            for key in lsh.query(hashes[i]):
                j = int(key)
                b = clauses[j]
                if j > i and a.document_id != b.document_id:
                    scores[tuple(sorted((a.id, b.id)))] = round(float(hashes[i].jaccard(hashes[j])), 4)
    else:
        raise ValueError(f"unknown similarity method {method!r}")
    return scores


def similar_rows(
    clauses: Sequence[MeasureClause], method: str = METHOD, threshold: float = THRESHOLD, k: int = TOP_K
) -> list[dict]:
    """The ``similar_clauses`` rows: both directions of each pair at or above ``threshold``,
    at most ``k`` per clause (best first; ties by id), sorted."""
    by_clause: dict[str, list[tuple[float, str]]] = {}
    for (a, b), s in pair_scores(clauses, method).items():
        if s >= threshold:
            by_clause.setdefault(a, []).append((s, b))
            by_clause.setdefault(b, []).append((s, a))
    rows = []
    for cid in sorted(by_clause):
        for s, other in sorted(by_clause[cid], key=lambda x: (-x[0], x[1]))[:k]:
            rows.append({"clause_id": cid, "other_clause_id": other, "score": s, "method": method})
    return rows


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


def build_similar(db) -> int:
    """Create and fill ``similar_clauses`` in a sqlite_utils Database (called by store.write_db)."""
    rows = similar_rows(measure_clauses(db))
    db["similar_clauses"].create(
        {"clause_id": str, "other_clause_id": str, "score": float, "method": str},
        pk=("clause_id", "other_clause_id"),
        foreign_keys=[("clause_id", "clauses", "id"), ("other_clause_id", "clauses", "id")],
    )
    db["similar_clauses"].insert_all(rows)
    db["similar_clauses"].create_index(["other_clause_id"])
    return len(rows)


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


def evaluate_pairs(conn, gold: Sequence[dict]) -> list[Score]:
    """Precision and recall of each method and threshold on gold pairs ``{a, b, same}``."""
    clauses = measure_clauses(conn)
    known = {c.id for c in clauses}
    missing = [g for g in gold if g["a"] not in known or g["b"] not in known]
    if missing:
        raise ValueError(f"gold pairs name clauses that are not measure clauses of kb.db: {missing[:3]}")
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
