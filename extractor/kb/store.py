"""Write kb.db with sqlite-utils: schema, rows, indexes, search (see docs/ARCHITECTURE.md).

The build is atomic (a temporary file beside the target, then ``os.replace``) and deterministic
(documents in id order, rows in document order, no timestamps), so the same corpus gives the
same content. A document that cannot be read is reported and left out; the others still build.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from extractor.errors import PolicyKBError, SourceError
from extractor.kb import compare, coverage, duties, search_tables
from extractor.lexicon.base import campaigns
from extractor.pipeline import ProcessedDocument, process_file
from extractor.read.catalog import CatalogEntry, load_catalog, unlisted_files

DOC_TIMEOUT = 120.0  # seconds one document may take (build --doc-timeout)
SCHEMA_VERSION = 7  # 2: targets.kind_evidence; 3: targets.dimension, targets.value_text;
# 4: responsibilities, deadlines; 5: rowids in per-document slots, build_documents;
# 6: indexes on clauses.seq and sections.start (the table pages' default sort);
# 7: clause_targets_fts(tokens, target_tokens): the clause's and its targets' own in two columns

_DOCUMENTS = {
    "id": str,
    "file": str,
    "format": str,
    "encoding": str,
    "sha256": str,
    "district": str,
    "district_slug": str,
    "city": str,
    "year": int,
    "year_end": int,
    "genre": str,
    "title": str,
    "plan_title": str,
    "issuer": str,
    "doc_number": str,
    "published": str,
    "source_url": str,
    "notes": str,
    "n_chars": int,
    "n_pages": int,
    "text": str,
}
_SECTIONS = {
    "id": str,
    "document_id": str,
    "parent_id": str,
    "level": int,
    "number": str,
    "title": str,
    "kind": str,
    "campaign": str,
    "campaign_label": str,
    "start": int,
    "end": int,
    "path": str,
}
_CLAUSES = {
    "id": str,
    "document_id": str,
    "section_id": str,
    "campaign": str,
    "seq": int,
    "ordinal": str,
    "kind": str,
    "text": str,
    "start": int,
    "end": int,
    "page": int,
}
_TARGETS = {
    "id": str,
    "document_id": str,
    "clause_id": str,
    "indicator": str,
    "indicator_id": str,
    "value": float,
    "value_max": float,
    "unit": str,
    "canonical_unit": str,
    "value_canonical": float,
    "comparator": str,
    "kind": str,
    "kind_evidence": str,
    "dimension": str,
    "value_text": str,
    "year": int,
    "base_year": int,
    "campaign": str,
    "qualifiers": str,
    "attribute": str,
    "surface": str,
    "start": int,
    "end": int,
    "page": int,
}
_DOCUMENT_CAMPAIGNS = {"document_id": str, "campaign": str, "label": str, "clauses": int, "targets": int}
_INDICATORS = {
    "id": str,
    "name_zh": str,
    "name_en": str,
    "campaign": str,
    "canonical_unit": str,
    "dimension": str,
    "description": str,
}


@dataclass
class DocumentSummary:
    id: str
    file: str
    campaigns: list[tuple[str, str]]
    clauses: int
    targets: int


@dataclass
class BuildReport:
    db_path: Path
    documents: list[DocumentSummary] = field(default_factory=list)
    errors: list[PolicyKBError] = field(default_factory=list)
    unlisted: list[Path] = field(default_factory=list)  # documents in the corpus the catalog misses
    extracted: int = 0  # documents read and extracted in this build (the others came from the cache)
    mode: str = ""  # "incremental": kb.db updated in place; "full": written anew
    reason: str = ""  # why a full write (no kb.db, rules or schema changed, too many changes...)
    changed: int = 0  # documents of the old kb.db whose rows were replaced (incremental or not)
    added: int = 0
    removed: int = 0
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of the build


def corpus_digest(corpus_dir: str | Path) -> str:
    """A digest of the catalog and every file it names: kb.db is stale when this changes."""
    return _digests(Path(corpus_dir), load_catalog(corpus_dir), None)[0]


def _digests(corpus_dir: Path, entries: list[CatalogEntry], rules: str | None) -> tuple[str, dict[str, str]]:
    """:func:`corpus_digest` and (with ``rules``) each entry's cache key, each file read once."""
    from extractor.kb.cache import cache_key

    h = hashlib.sha256((corpus_dir / "catalog.yml").read_bytes())
    keys = {}
    for entry in entries:
        data = entry.path.read_bytes()
        h.update(entry.file.encode() + b"\0" + data)
        if rules is not None:
            keys[entry.id] = cache_key(entry, rules, data)
    return h.hexdigest(), keys


def extractor_digest() -> str:
    """A digest of the extractor's code and data files: kb.db is stale when the rules change.
    The web layer and the tools (cli, evaluate, report) write nothing into kb.db: not counted."""
    root = Path(__file__).resolve().parents[1]
    tools = {"cli.py", "evaluate.py", "report.py", "__main__.py"}
    files = [
        p
        for p in root.rglob("*.py")
        if "web" not in p.relative_to(root).parts and p.relative_to(root).as_posix() not in tools
    ]
    h = hashlib.sha256()
    for path in sorted([*files, *(root / "data").glob("*.yml")]):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def is_stale(db_path: str | Path, corpus_dir: str | Path) -> bool:
    """True when kb.db is missing or was built from another corpus, other extraction rules or
    an older schema."""
    db_path = Path(db_path)
    if not db_path.exists():
        return True
    db = sqlite_utils.Database(db_path)
    try:
        if "build_info" not in db.table_names():
            return True
        info = {r["key"]: r["value"] for r in db["build_info"].rows}
    finally:
        db.close()
    return (
        info.get("corpus_digest") != corpus_digest(corpus_dir)
        or info.get("extractor_digest") != extractor_digest()
        or info.get("schema_version") != str(SCHEMA_VERSION)
    )


def _create_schema(db: sqlite_utils.Database) -> None:
    db["campaigns"].create({"id": str, "name_zh": str, "name_en": str}, pk="id")
    db["indicators"].create(_INDICATORS, pk="id", foreign_keys=[("campaign", "campaigns", "id")])
    db["documents"].create(_DOCUMENTS, pk="id", not_null={"text", "title"})
    db["sections"].create(
        _SECTIONS,
        pk="id",
        foreign_keys=[
            ("document_id", "documents", "id"),
            ("parent_id", "sections", "id"),
            ("campaign", "campaigns", "id"),
        ],
    )
    db["clauses"].create(
        _CLAUSES,
        pk="id",
        foreign_keys=[
            ("document_id", "documents", "id"),
            ("section_id", "sections", "id"),
            ("campaign", "campaigns", "id"),
        ],
    )
    db["targets"].create(
        _TARGETS,
        pk="id",
        foreign_keys=[
            ("document_id", "documents", "id"),
            ("clause_id", "clauses", "id"),
            ("indicator_id", "indicators", "id"),
            ("campaign", "campaigns", "id"),
        ],
    )
    db["document_campaigns"].create(
        _DOCUMENT_CAMPAIGNS,
        pk=("document_id", "campaign"),
        foreign_keys=[("document_id", "documents", "id"), ("campaign", "campaigns", "id")],
    )
    db["build_info"].create({"key": str, "value": str}, pk="key")
    duties.create_tables(db)


def _indicator_rows() -> list[dict]:
    from extractor.lexicon.cues import load_indicators

    return sorted((i.to_row() for i in load_indicators().indicators.values()), key=lambda r: r["id"])


# -- one document -> plain rows (the work a build does per document, in a worker) ------------


def document_rows(entry: CatalogEntry) -> dict:
    """Everything kb.db needs of one catalog entry, as plain JSON-able data (no dataclasses), so
    a worker process or a Dask worker can compute it and the cache can store it:

    ``tables``: the rows of documents, sections, clauses, targets, responsibilities, deadlines,
    document_campaigns and clause_citations, each row the list of its values in the order of
    :data:`COLUMNS` (what the main process inserts as it is); ``clause_tokens`` (one FTS column value per clause),
    ``target_tokens`` (per target: the index of its clause in ``clauses`` or None, and its own
    tokens, see :func:`extractor.kb.fts.join_tokens`), ``vocabulary`` (term -> FTS rows of this
    document) and ``summary`` (campaigns, clause and target counts).
    """
    from extractor.kb import fts
    from extractor.kb.citations import document_citation_rows
    from extractor.lexicon.cues import load_indicators

    doc = process_file(entry.path, entry)
    return processed_rows(doc, fts, document_citation_rows, load_indicators().indicators)


def processed_rows(doc: ProcessedDocument, fts, citation_rows_of, indicators) -> dict:
    """:func:`document_rows` of an already processed document (each dataclass converted once)."""
    document = {k: doc.document.get(k) for k in _DOCUMENTS}
    sections = [s.to_row() for s in doc.sections]
    clauses = []
    for c in doc.clauses:
        row = c.to_row()
        clauses.append({k: row[k] for k in _CLAUSES})
    targets = []
    for t in doc.targets:
        row = t.to_row()
        targets.append({k: row[k] for k in _TARGETS})
        for k, v in row.items():  # JSON has no Infinity/NaN; the grammar should never make one
            if isinstance(v, float) and not math.isfinite(v):
                raise SourceError(
                    f"target {row['id']} has a non-finite {k} ({v}) from {row.get('surface')!r}; not written",
                    path=doc.document.get("file"),
                )
    named = dict(doc.structure.campaigns())
    clause_counts = Counter(c["campaign"] for c in clauses)
    target_counts = Counter(t["campaign"] for t in targets)
    order = [x.id for x in campaigns()]
    document_campaigns = [
        {
            "document_id": document["id"],
            "campaign": cid,
            "label": named[cid],
            "clauses": clause_counts[cid],
            "targets": target_counts[cid],
        }
        for cid in sorted(named, key=order.index)
    ]
    clause_tokens = [fts.tokenize(c["text"]) for c in clauses]
    position = {c["id"]: i for i, c in enumerate(clauses)}
    target_tokens = []
    for t in targets:
        indicator = indicators.get(t["indicator_id"]) if t["indicator_id"] else None
        own = fts.tokenize(
            fts.own_text(t["indicator"], indicator.name_zh if indicator else None, t["surface"])
        )
        target_tokens.append([position.get(t["clause_id"]), own])
    tables = {
        "documents": [document],
        "sections": sections,
        "clauses": clauses,
        "targets": targets,
        "responsibilities": [r.to_row() for r in doc.responsibilities],
        "deadlines": [d.to_row() for d in doc.deadlines],
        "document_campaigns": document_campaigns,
        "clause_citations": citation_rows_of(document, sections, clauses),
    }
    return {
        "id": document["id"],
        "tables": {
            table: [[r.get(c) for c in COLUMNS[table]] for r in rows] for table, rows in tables.items()
        },
        "clause_tokens": clause_tokens,
        "target_tokens": target_tokens,
        "vocabulary": fts.vocabulary_counts(dict(enumerate(clause_tokens)), target_tokens),
        "summary": [list(named.items()), len(clauses), len(targets)],
    }


# -- kb.db from a stream of document rows -----------------------------------------------------

# -- where a document's rows live: a block of rowids of its own -------------------------------
#
# Every per-document table (documents, sections, clauses, targets, responsibilities, deadlines,
# document_campaigns, clause_citations, and the FTS tables, whose rowids are the clauses' and
# targets' rowids) gives the i-th row of a document (1-based) the rowid ``slot << ROW_BITS | i``.
# The slot comes from the document id alone (a hash; ties by linear probing in id order,
# :func:`assign_slots`), so a document's rows have the same rowids whatever the other documents
# are: a rebuild can delete a changed document's rows and insert its new ones in place and get
# the kb.db a fresh build writes, rowids included (FTS5 scans ties in rowid order, so search
# results agree too). Rows are written in slot order (FTS5 flushes its pending index on every
# rowid that goes down).

ROW_BITS = 20  # a document has at most 2**20 - 1 rows in one table
SLOT_BITS = 24  # slots 1 .. 2**24 - 1: rowids below 2**44 (small varints in the FTS doclists)
MAX_ROWS = (1 << ROW_BITS) - 1
_SLOTS = (1 << SLOT_BITS) - 1
INCREMENTAL_MAX_SHARE = 0.5  # above this share of documents changed, kb.db is written anew


def document_slot(doc_id: str) -> int:
    """The preferred slot of a document: from the sha256 of its id, 1 .. 2**24 - 1."""
    return int.from_bytes(hashlib.sha256(doc_id.encode()).digest()[:8], "big") % _SLOTS + 1


def assign_slots(doc_ids: Iterable[str]) -> dict[str, int]:
    """Each document's slot: its :func:`document_slot`, or the next free one (in id order) if
    an earlier id took it. Depends only on the set of ids."""
    used: set[int] = set()
    out: dict[str, int] = {}
    doc_ids = sorted(doc_ids)
    if len(doc_ids) > _SLOTS // 2:
        raise PolicyKBError(f"more than {_SLOTS // 2} documents in one catalog")
    for doc_id in doc_ids:
        slot = document_slot(doc_id)
        while slot in used:
            slot = slot % _SLOTS + 1
        used.add(slot)
        out[doc_id] = slot
    return out


def slot_rowids(slot: int) -> tuple[int, int]:
    """The first and last rowid of a slot's block."""
    base = slot << ROW_BITS
    return base + 1, base + MAX_ROWS


# -- kb.db from a stream of document rows -----------------------------------------------------

_STREAMED = (
    "documents",
    "sections",
    "clauses",
    "targets",
    "responsibilities",
    "deadlines",
    "document_campaigns",
    "clause_citations",
)
# each streamed table's columns, in the order of kb.db's schema (and of a row's values in
# document_rows); the writer checks them against the file it writes
COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": tuple(_DOCUMENTS),
    "sections": tuple(_SECTIONS),
    "clauses": tuple(_CLAUSES),
    "targets": tuple(_TARGETS),
    "responsibilities": tuple(duties.RESPONSIBILITIES),
    "deadlines": tuple(duties.DEADLINES),
    "document_campaigns": tuple(_DOCUMENT_CAMPAIGNS),
    "clause_citations": ("clause_id", "section_path", "label", "citation"),
}
_ID = 0  # the id column of documents, clauses and targets
_DOCUMENT = {c: i for i, c in enumerate(COLUMNS["documents"])}
# what a rebuild compares: a document's cache key and slot, and its summary for the report
_BUILD_DOCUMENTS = {"document_id": str, "cache_key": str, "slot": int, "summary": str}


def _check_size(rows: dict, path) -> None:
    for table in _STREAMED:
        if len(rows["tables"][table]) > MAX_ROWS:
            raise SourceError(f"more than {MAX_ROWS} rows in {table}; not written", path=path)


def _summary(document_id: str, file: str, summary) -> DocumentSummary:
    named, n_clauses, n_targets = summary
    return DocumentSummary(document_id, file, [tuple(x) for x in named], n_clauses, n_targets)


class _Writer:
    """Inserts one document's rows at a time (prepared statements, one executemany a table, on
    the rows' value lists as the worker made them) and its FTS rows, every row at its rowid in
    the document's slot."""

    def __init__(self, db: sqlite_utils.Database):
        from extractor.sqlite import sqlite3

        self.db = db
        self.sql: dict[str, str] = {}
        for table in _STREAMED:
            cols = tuple(db[table].columns_dict)
            if cols != COLUMNS[table]:  # an update falls back to a full write
                raise sqlite3.DatabaseError(f"the columns of {table} are not {', '.join(COLUMNS[table])}")
            names = ", ".join(f"[{c}]" for c in cols)
            marks = ", ".join("?" for _ in cols)
            self.sql[table] = f"insert into [{table}] (rowid, {names}) values (?, {marks})"
        self.vocabulary: Counter[str] = Counter()
        self.districts: set[tuple[str | None, str | None]] = set()  # (district, city) of the documents

    def add(self, rows: dict, key: str, slot: int) -> DocumentSummary:
        from extractor.kb import fts

        conn = self.db.conn
        tables = rows["tables"]
        base = slot << ROW_BITS
        for table in _STREAMED:
            conn.executemany(self.sql[table], [(base + i, *r) for i, r in enumerate(tables[table], 1)])
        clauses, targets = tables["clauses"], tables["targets"]
        tokens = rows["clause_tokens"]
        fts.insert_fts(
            self.db,
            "clauses_fts",
            [(base + i, c[_ID], tok) for i, (c, tok) in enumerate(zip(clauses, tokens), 1)],
        )
        join = fts.join_tokens
        fts.insert_fts(
            self.db,
            "targets_fts",
            [
                (base + i, t[_ID], join(tokens[k], own) if k is not None else own)
                for i, (t, (k, own)) in enumerate(zip(targets, rows["target_tokens"]), 1)
            ],
        )
        fts.insert_fts(
            self.db,
            "clause_targets_fts",
            [
                (base + k + 1, clauses[k][_ID], *tok)
                for k, tok in fts.clause_targets_tokens(tokens, rows["target_tokens"]).items()
            ],
        )
        self.vocabulary.update(rows["vocabulary"])
        document = tables["documents"][0]
        document_id = document[_DOCUMENT["id"]]
        self.districts.add((document[_DOCUMENT["district"]], document[_DOCUMENT["city"]]))
        conn.execute(
            "insert into build_documents (rowid, document_id, cache_key, slot, summary) values (?, ?, ?, ?, ?)",
            [slot, document_id, key, slot, json.dumps(rows["summary"], ensure_ascii=False)],
        )
        return _summary(document_id, document[_DOCUMENT["file"]], rows["summary"])

    def remove(self, document_id: str, slot: int, old_rows: dict | None) -> Counter[str]:
        """Delete a document's rows (and its FTS entries) from its slot; returns the vocabulary
        counts it had. ``old_rows`` (its cached rows, if the cache still has them) give its FTS
        tokens as they were inserted; else they are read back (clauses_fts keeps them) and
        recomputed (a target's own tokens: targets_fts is contentless, and deleting from it
        needs the tokens it was given)."""
        from extractor.kb import fts

        conn = self.db.conn
        lo, hi = slot_rowids(slot)
        self.districts.update(
            conn.execute("select district, city from documents where rowid between ? and ?", [lo, hi])
        )
        targets = conn.execute(
            "select rowid, id, clause_id, indicator, indicator_id, surface from targets"
            " where rowid between ? and ? order by rowid",
            [lo, hi],
        ).fetchall()
        clause_rows = conn.execute(
            "select c.rowid, c.id, f.tokens from clauses c join clauses_fts f on f.rowid = c.rowid"
            " where c.rowid between ? and ? order by c.rowid",
            [lo, hi],
        ).fetchall()
        if (
            old_rows is not None
            and [t[_ID] for t in old_rows["tables"]["targets"]] == [t[1] for t in targets]
            and old_rows["clause_tokens"] == [c[2] for c in clause_rows]
        ):
            clause_tokens = dict(enumerate(old_rows["clause_tokens"]))
            own = old_rows["target_tokens"]
            vocabulary = old_rows["vocabulary"]
        else:  # no cached rows (or not these): from kb.db
            names = dict(conn.execute("select id, name_zh from indicators"))
            position = {c[1]: i for i, c in enumerate(clause_rows)}
            clause_tokens = {i: c[2] for i, c in enumerate(clause_rows)}
            own = [
                [position.get(clause_id), fts.tokenize(fts.own_text(indicator, names.get(ind_id), surface))]
                for _, _, clause_id, indicator, ind_id, surface in targets
            ]
            vocabulary = fts.vocabulary_counts(clause_tokens, own)
        conn.executemany(
            "insert into targets_fts (targets_fts, rowid, tokens, target_id) values ('delete', ?, ?, ?)",
            (
                (t[0], fts.join_tokens(clause_tokens[k] if k is not None else "", o), t[1])
                for t, (k, o) in zip(targets, own)
            ),
        )
        by_clause = fts.clause_targets_tokens([c[2] for c in clause_rows], own)
        conn.executemany(
            "insert into clause_targets_fts (clause_targets_fts, rowid, tokens, target_tokens, clause_id)"
            " values ('delete', ?, ?, ?, ?)",
            ((clause_rows[k][0], *tok, clause_rows[k][1]) for k, tok in by_clause.items()),
        )
        conn.execute("delete from clauses_fts where rowid between ? and ?", [lo, hi])
        for table in _STREAMED:
            conn.execute(f"delete from [{table}] where rowid between ? and ?", [lo, hi])
        conn.execute("delete from build_documents where document_id = ?", [document_id])
        return Counter(vocabulary)


def _build_info(digest: str) -> list[dict]:
    return [
        {"key": "corpus_digest", "value": digest},
        {"key": "extractor_digest", "value": extractor_digest()},
        {"key": "schema_version", "value": str(SCHEMA_VERSION)},
        {"key": "versions", "value": library_versions()},
    ]


def library_versions() -> str:
    """What a kb.db's bytes depend on beyond the rules: jieba, OpenCC, rjieba, spaCy and SQLite (FTS5)."""
    from extractor.kb.cache import versions
    from extractor.sqlite import sqlite3

    return f"{versions()},sqlite={sqlite3.sqlite_version}"


def _timed(steps: dict[str, float], name: str, t0: float) -> float:
    now = time.perf_counter()
    steps[name] = steps.get(name, 0.0) + now - t0
    return now


def _corpus_tables(
    db: sqlite_utils.Database,
    steps: dict[str, float],
    districts: set | None = None,
    similar: dict | None = None,
) -> None:
    """The corpus-wide tables, from the per-document rows: trajectories, coverage_cells (with
    ``districts``, the (district, city) pairs of the documents a rebuild deleted or inserted:
    only the rows of those districts are recomputed, the rest cannot change; else created),
    compare_order and compare_districts (:mod:`extractor.kb.compare`), search_clauses
    (:mod:`extractor.kb.search_tables`; with ``districts``, those districts' rows)
    and similar_clauses. ``similar``: ``pairs`` (a cold build's :class:`extractor.kb.similar.PairsApart`,
    started on this database), ``index`` (where the similar-clauses index is kept, or
    None), ``digest`` (the new kb.db's), ``jobs`` (processes), and for a rebuild ``removed``,
    ``added`` (document ids) and ``old_digest``: the rows of the clauses a change touches are
    recomputed (:func:`extractor.kb.similar.update_similar`), or all of them if the index is
    missing."""
    from extractor.kb import trajectories
    from extractor.kb.similar import apply_update, build_similar, measure_clauses, update_similar

    similar = similar or {}
    index, digest = similar.get("index"), similar.get("digest")
    pairs = similar.get("pairs") if districts is None else None  # (started by write_db)
    t0 = time.perf_counter()
    if districts is None:
        trajectories.build_trajectories(db)
        db.conn.commit()
        t0 = _timed(steps, "trajectories", t0)
        coverage.build_coverage(db)
        db.conn.commit()
        t0 = _timed(steps, "coverage", t0)
        for name, build in (
            ("compare", compare.build_compare),
            ("search tables", search_tables.build_search),
        ):
            build(db)
            db.conn.commit()
            t0 = _timed(steps, name, t0)
    else:
        apart = similar.get("apart") if index is not None and "removed" in similar else None
        if apart is not None:  # its process computes the update meanwhile (it reads the old kb.db)
            apart.start(
                measure_clauses(db, documents=similar["added"]),
                similar["old_digest"],
                digest,
                similar.get("jobs", 1),
            )
        with db.conn:
            trajectories.fill_trajectories(db, sorted({d or c for d, c in districts if d or c}))
        t0 = _timed(steps, "trajectories", t0)
        with db.conn:
            coverage.fill_coverage(db, sorted({d for d, _ in districts if d}))
        t0 = _timed(steps, "coverage", t0)
        for name, update in (
            ("compare", compare.update_compare),
            ("search tables", search_tables.update_search),
        ):
            update(db, list({d for d, _ in districts}))
            t0 = _timed(steps, name, t0)
        if apart is not None:
            update = apart.result()
            if update is not None:
                apply_update(db, *update)
                _timed(steps, "similar (updated)", t0)
                return
        elif index is not None and "removed" in similar:
            args = (similar["removed"], similar["added"], index, similar["old_digest"], digest)
            if update_similar(db, *args, jobs=similar.get("jobs", 1)) is not None:
                _timed(steps, "similar (updated)", t0)
                return
        db["similar_clauses"].drop()
    build_similar(db, index, digest, jobs=similar.get("jobs", 1), apart=True, pairs=pairs)
    _timed(steps, "similar", t0)


def _temp_path(db_path: Path) -> Path:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
    os.close(fd)
    return Path(tmp_name)


def _discard(tmp: Path) -> None:
    tmp.unlink(missing_ok=True)
    for suffix in ("-journal", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def write_db(
    db_path: Path,
    docs: Iterable[tuple[dict, str, int]],
    digest: str,
    steps: dict[str, float] | None = None,
    similar_index: Path | None = None,
    jobs: int = 1,
) -> list[DocumentSummary]:
    """Write a complete kb.db at ``db_path`` atomically from ``(rows, cache key, slot)`` of
    :func:`document_rows` results, in the order given (the build gives them in slot order), one
    document at a time. Returns the documents' summaries in id order. ``similar_index``: where
    to keep the similar-clauses index for the next rebuild (None: not kept); ``jobs``: processes
    for the similar-clauses search."""
    from extractor.kb import fts
    from extractor.kb.similar import PairsApart

    steps = {} if steps is None else steps
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(db_path)
    compact: Path | None = None
    # similar clauses' process, started now: its imports and IDF table load while the documents
    # are extracted; it computes the pairs while the other corpus-wide tables are written
    pairs = PairsApart()
    try:
        db = sqlite_utils.Database(tmp, recreate=True)
        db.execute("pragma synchronous = off")  # a temporary file: replaced atomically when complete
        _create_schema(db)
        db["build_documents"].create(_BUILD_DOCUMENTS, pk="document_id")
        fts.create_citations_table(db)
        fts.create_fts_tables(db)
        db["campaigns"].insert_all(
            {"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en} for c in campaigns()
        )
        db["indicators"].insert_all(_indicator_rows())
        writer = _Writer(db)
        summaries = []
        t0 = time.perf_counter()
        with db.conn:
            for n, (rows, key, slot) in enumerate(docs, 1):
                summaries.append(writer.add(rows, key, slot))
                if n % 200 == 0:
                    db.conn.commit()
        t0 = _timed(steps, "documents", t0)  # reading, extracting and writing them
        # the similar clauses' process reads the clauses and searches while the indexes and the
        # corpus-wide tables are written: WAL, so that reader and this writer do not block
        db.execute("pragma journal_mode = wal")
        pairs.start(tmp, similar_index, digest, jobs)
        for table, cols in {
            # seq and start: the sort of the clauses and sections table pages (site.yml), so
            # their first page reads 51 index entries instead of sorting every row
            "sections": ["document_id", "parent_id", "campaign", "start"],
            "clauses": ["document_id", "section_id", "campaign", "seq"],
            "targets": ["document_id", "clause_id", "indicator_id", "campaign", "kind", "year"],
            "documents": ["district_slug"],
        }.items():
            for col in cols:
                db[table].create_index([col])
        duties.index_tables(db)
        fts.create_vocabulary(db, writer.vocabulary)
        fts.create_views(db)
        db.conn.commit()
        t0 = _timed(steps, "indexes", t0)
        _corpus_tables(
            db, steps, similar={"index": similar_index, "digest": digest, "jobs": jobs, "pairs": pairs}
        )
        t0 = time.perf_counter()
        db["build_info"].insert_all(_build_info(digest))
        db.conn.commit()
        # a compact copy (every table and index in order, full pages: the primary-key indexes,
        # filled in slot order, are a fifth sparser before) in a second temporary file. VACUUM
        # INTO writes it once; VACUUM wrote the copy back through a rollback journal of the
        # whole file (at 10,000 documents 3.8 s instead of 16.9 s, the same 1.76 GB)
        compact = _temp_path(db_path)
        compact.unlink()  # SQLite creates it, with the mode of any new file (mkstemp's is 0600)
        db.execute("vacuum into ?", [str(compact)])
        db.close()
        _discard(tmp)
        os.replace(compact, db_path)
        _timed(steps, "vacuum", t0)
    except BaseException:
        _discard(tmp)
        if compact is not None:
            _discard(compact)
        raise
    finally:
        pairs.close()
    return sorted(summaries, key=lambda s: s.id)


@dataclass
class _OldBuild:
    """What a rebuild reads of the kb.db it updates: each document's cache key and slot."""

    documents: dict[str, tuple[str, int]]


def _old_build(db_path: Path, digest_rules: str) -> tuple[_OldBuild | None, str]:
    """The previous build of ``db_path`` if it can be updated in place, else None and why not."""
    from extractor.sqlite import sqlite3

    if not db_path.is_file():
        return None, "no kb.db yet"
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            info = dict(conn.execute("select key, value from build_info"))
            if info.get("schema_version") != str(SCHEMA_VERSION):
                return None, f"schema version {info.get('schema_version')} -> {SCHEMA_VERSION}"
            if info.get("extractor_digest") != digest_rules:
                return None, "the extraction rules changed"
            if info.get("versions") != library_versions():
                return None, f"library versions changed ({info.get('versions')} -> {library_versions()})"
            docs = {
                d: (k, s)
                for d, k, s in conn.execute("select document_id, cache_key, slot from build_documents")
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return None, f"the old kb.db cannot be read ({exc})"
    return _OldBuild(docs), ""


def _update_db(
    db_path: Path,
    old: _OldBuild,
    docs: Iterable[tuple[dict, str, int]],
    remove: list[tuple[str, int, dict | None]],
    unchanged: list[str],
    digest: str,
    steps: dict[str, float],
    similar_index: Path | None = None,
    jobs: int = 1,
    workers: int = 0,
) -> list[DocumentSummary]:
    """Update a copy of kb.db in place and put it there atomically: delete the documents of
    ``remove`` (id, old slot, cached old rows or None), insert ``docs``, update the vocabulary,
    recompute the corpus-wide tables. Raises sqlite3.DatabaseError if the old file is bad."""
    from extractor.kb import fts

    tmp = _temp_path(db_path)
    preparer: threading.Thread | None = None
    prepared: list = []  # the similar-clauses update's process (similar.UpdateApart) or None
    try:
        t0 = time.perf_counter()
        copied: list[BaseException | None] = []

        def copy() -> None:  # in a thread, while the first changed document is extracted
            try:
                shutil.copyfile(db_path, tmp)
                copied.append(None)
            except BaseException as exc:
                copied.append(exc)

        copier = threading.Thread(target=copy, daemon=True)
        copier.start()
        # the similar-clauses update's process (prepared), started meanwhile too

        def prepare() -> None:
            import multiprocessing

            from extractor.kb.similar import UpdateApart

            # not while extraction workers are forked: a fork copies the locks this thread may
            # hold (a module being imported, a logging handler) into the worker, held forever.
            # (The update's process is spawned: fork and exec, nothing of this process in it.)
            waited = time.monotonic()
            while len(multiprocessing.active_children()) < workers and time.monotonic() - waited < 5:
                time.sleep(0.01)
            try:
                prepared.append(
                    UpdateApart(similar_index, db_path, {d for d, _, _ in remove}) if similar_index else None
                )
            except Exception:  # (then updated in this process)
                prepared.append(None)

        preparer = threading.Thread(target=prepare, daemon=True)
        preparer.start()
        docs = iter(docs)
        first = next(docs, None)
        t0 = _timed(steps, "extract (first document)", t0)
        copier.join()
        if copied[0] is not None:
            raise copied[0]
        t0 = _timed(steps, "copy (rest)", t0)
        docs = itertools.chain([first] if first is not None else [], docs)
        db = sqlite_utils.Database(tmp)
        db.execute("pragma synchronous = off")
        writer = _Writer(db)
        vocabulary: Counter[str] = Counter()
        summaries = []
        with db.conn:
            for document_id, slot, old_rows in remove:
                vocabulary.subtract(writer.remove(document_id, slot, old_rows))
            t0 = _timed(steps, "delete", t0)
            for rows, key, slot in docs:
                summaries.append(writer.add(rows, key, slot))
            t0 = _timed(steps, "documents", t0)
            vocabulary.update(writer.vocabulary)
            vocabulary.update(dict(db.execute(f"select term, n from [{fts.VOCABULARY}]")))
            # written again whole, sorted by term, as a full build writes it (same rowids)
            db.execute(f"delete from [{fts.VOCABULARY}]")
            db.conn.executemany(
                f"insert into [{fts.VOCABULARY}] (term, n) values (?, ?)",
                ((t, vocabulary[t]) for t in sorted(vocabulary) if vocabulary[t] > 0),
            )
            t0 = _timed(steps, "vocabulary", t0)
        for document_id, file, summary in db.execute(
            "select b.document_id, d.file, b.summary from build_documents b join documents d on d.id = b.document_id"
            " where b.document_id in (select value from json_each(?))",
            [json.dumps(unchanged)],
        ):
            summaries.append(_summary(document_id, file, json.loads(summary)))
        _timed(steps, "documents", t0)
        if writer.districts:  # else no row changed (the catalog's comments, say): nor can they
            old_digest = db.execute("select value from build_info where key = 'corpus_digest'").fetchone()
            preparer.join()
            similar = {
                "apart": prepared[0] if prepared else None,
                "index": similar_index,
                "digest": digest,
                "jobs": jobs,
                "removed": {d for d, _, _ in remove},
                "added": {s.id for s in summaries} - set(unchanged),
                "old_digest": old_digest[0] if old_digest else None,
            }
            _corpus_tables(db, steps, writer.districts, similar)
        t0 = time.perf_counter()
        db["build_info"].upsert({"key": "corpus_digest", "value": digest}, pk="key")
        db.conn.commit()
        db.close()
        os.replace(tmp, db_path)
        _timed(steps, "replace", t0)
    except BaseException:
        _discard(tmp)
        raise
    finally:
        if preparer is not None:
            preparer.join()
            if prepared and prepared[0] is not None:
                prepared[0].close()  # (done, or not needed: no row changed, or a failure)
    return sorted(summaries, key=lambda s: s.id)


def default_jobs() -> int:
    """The cores this process may run on (``sched_getaffinity``), else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def build_db(
    corpus_dir: str | Path,
    db_path: str | Path,
    on_document: Callable[[CatalogEntry], None] | None = None,
    *,
    jobs: int | None = None,
    cache: bool = True,
    doc_timeout: float | None = DOC_TIMEOUT,
    scheduler: str | None = None,
    entries: list[CatalogEntry] | None = None,
) -> BuildReport:
    """Build kb.db from ``corpus_dir/catalog.yml`` (``entries``: its entries if the caller
    loaded them already, :func:`extractor.read.catalog.load_catalog`).

    Catalog errors raise (nothing is written). A document that fails (or takes longer than
    ``doc_timeout`` seconds) is recorded in ``report.errors`` and left out; the rest is written.
    ``on_document`` is called per entry (for a progress bar). The documents are read and
    extracted by ``jobs`` worker processes (default: every core), or on the Dask cluster at
    ``scheduler``; kb.db is the same whatever ``jobs`` is. With ``cache``, a document unchanged
    since the last build (same bytes, catalog entry and extraction rules) is taken from the
    build cache instead (see :mod:`extractor.kb.cache`); ``report.extracted`` counts the
    documents extracted anew. With ``cache`` and a kb.db of the same schema, rules and library
    versions, kb.db is updated in place (a copy of it, then ``os.replace``): only the rows of
    changed, added and removed documents are deleted and inserted, and the corpus-wide tables
    recomputed; the result equals a full write. ``report.mode`` says which path was taken
    (``incremental`` or ``full``) and ``report.reason`` why a full write was needed.
    """
    from extractor.kb import parallel
    from extractor.kb.cache import (
        BuildCache,
        BuildLock,
        catalog_cache_path,
        remove_stale_files,
        similar_index_path,
    )
    from extractor.sqlite import sqlite3

    if Path(db_path).is_dir():  # found before the documents are read, not at the final os.replace
        raise PolicyKBError("is a directory: give the file to write (e.g. kb.db inside it)", path=db_path)
    if not Path(db_path).resolve().parent.is_dir():
        raise PolicyKBError("its folder does not exist", path=db_path)
    t_start = time.perf_counter()
    if entries is None:
        entries = load_catalog(corpus_dir, parsed_cache=catalog_cache_path(Path(db_path)) if cache else None)
    entries = sorted(entries, key=lambda e: e.id)
    report = BuildReport(Path(db_path), unlisted=unlisted_files(corpus_dir, entries))
    steps = report.steps
    with BuildLock(Path(db_path)):
        remove_stale_files(Path(db_path))
        store = BuildCache.beside(Path(db_path)) if cache else None
        similar_index = similar_index_path(Path(db_path)) if cache else None
        rules = extractor_digest()
        digest, keys = _digests(Path(corpus_dir), entries, rules)
        slots = assign_slots(keys)
        by_slot = sorted(entries, key=lambda e: slots[e.id])
        t0 = _timed(steps, "start", t_start)
        try:

            def documents(todo: list[CatalogEntry]):
                """``(rows, key, slot)`` of each entry of ``todo`` that did not fail, in order."""
                cached = {e.id for e in todo if store and store.has(keys[e.id])}
                missing = [e for e in todo if e.id not in cached]
                results = parallel.run(
                    missing, jobs=jobs or default_jobs(), doc_timeout=doc_timeout, scheduler=scheduler
                )
                for entry in todo:
                    key = keys[entry.id]
                    rows = store.get(key) if entry.id in cached else None
                    fresh = rows is None
                    if entry.id in cached and fresh:  # a corrupt cache entry: extract it again
                        rows = next(parallel.run([entry], jobs=1, doc_timeout=doc_timeout))[1]
                    elif fresh:
                        got, rows = next(results)
                        assert got.id == entry.id, (got.id, entry.id)
                    report.extracted += fresh
                    if not isinstance(rows, PolicyKBError):
                        try:
                            _check_size(rows, entry.path)
                        except SourceError as exc:
                            rows = exc
                    if isinstance(rows, PolicyKBError):
                        report.errors.append(rows)
                    else:
                        if store and fresh:
                            store.put(key, rows)
                        yield rows, key, slots[entry.id]
                    if on_document:
                        on_document(entry)
                # (the workers' generator run to its end: it closes the pool, whose idle workers
                # are stopped in a thread; left suspended, it would be stopped when collected,
                # and waited for: a second at 10,000 documents)
                next(results, None)

            old, report.reason = _old_build(Path(db_path), rules) if store else (None, "--no-cache")
            if old is not None:
                todo = [e for e in by_slot if old.documents.get(e.id) != (keys[e.id], slots[e.id])]
                gone = sorted(set(old.documents) - set(keys), key=lambda d: old.documents[d][1])
                report.changed = sum(e.id in old.documents for e in todo)
                report.added = len(todo) - report.changed
                report.removed = len(gone)
                if len(todo) + len(gone) > INCREMENTAL_MAX_SHARE * max(len(entries), len(old.documents)):
                    old, report.reason = None, f"{len(todo) + len(gone)} of {len(entries)} documents changed"
            if old is not None:
                remove = [
                    (d, old.documents[d][1], store.get(old.documents[d][0]))
                    for d in sorted(
                        [e.id for e in todo if e.id in old.documents] + gone,
                        key=lambda d: old.documents[d][1],
                    )
                ]
                extracted = {t.id for t in todo}
                unchanged = [e.id for e in entries if e.id not in extracted]
                for entry in entries:
                    if on_document and entry.id not in extracted:
                        on_document(entry)
                t0 = _timed(steps, "plan", t0)
                try:
                    report.documents = _update_db(
                        Path(db_path),
                        old,
                        documents(todo),
                        remove,
                        unchanged,
                        digest,
                        steps,
                        similar_index,
                        jobs or default_jobs(),
                        # (the worker processes the pool forks, all at its start, if a document is extracted)
                        workers=0
                        if scheduler or all(store and store.has(keys[e.id]) for e in todo)
                        else jobs or default_jobs(),
                    )
                    report.mode = "incremental"
                except sqlite3.DatabaseError as exc:
                    report.reason = f"the old kb.db could not be updated ({exc})"
                    report.errors.clear()
                    report.extracted = 0
                    old = None
            if old is None:
                report.mode = "full"
                report.documents = write_db(
                    Path(db_path), documents(by_slot), digest, steps, similar_index, jobs or default_jobs()
                )
            t0 = time.perf_counter()
            if store:
                store.keep(set(keys.values()))
            _timed(steps, "cache", t0)
        finally:
            if store:
                store.close()
            parallel.wait_closed()  # (the extraction workers, stopped meanwhile: none left running)
    return report
