"""Write kb.db with sqlite-utils: schema, rows, indexes, search (see docs/ARCHITECTURE.md).

The build is atomic (a temporary file beside the target, then ``os.replace``) and deterministic
(documents in id order, rows in document order, no timestamps), so the same corpus gives the
same content. A document that cannot be read is reported and left out; the others still build.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from extractor.errors import PolicyKBError, SourceError
from extractor.kb import coverage, duties
from extractor.lexicon.base import campaigns
from extractor.pipeline import ProcessedDocument, process_file
from extractor.read.catalog import CatalogEntry, load_catalog, unlisted_files

DOC_TIMEOUT = 120.0  # seconds one document may take (build --doc-timeout)
SCHEMA_VERSION = (
    4  # 2: targets.kind_evidence; 3: targets.dimension, targets.value_text; 4: responsibilities, deadlines
)

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


def corpus_digest(corpus_dir: str | Path) -> str:
    """A digest of the catalog and every file it names: kb.db is stale when this changes."""
    corpus_dir = Path(corpus_dir)
    h = hashlib.sha256((corpus_dir / "catalog.yml").read_bytes())
    for entry in load_catalog(corpus_dir):
        h.update(entry.file.encode() + b"\0" + entry.path.read_bytes())
    return h.hexdigest()


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
        {"document_id": str, "campaign": str, "label": str, "clauses": int, "targets": int},
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
    document_campaigns and clause_citations; ``clause_tokens`` (one FTS column value per clause),
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
    return {
        "id": document["id"],
        "tables": {
            "documents": [document],
            "sections": sections,
            "clauses": clauses,
            "targets": targets,
            "responsibilities": [r.to_row() for r in doc.responsibilities],
            "deadlines": [d.to_row() for d in doc.deadlines],
            "document_campaigns": document_campaigns,
            "clause_citations": citation_rows_of(document, sections, clauses),
        },
        "clause_tokens": clause_tokens,
        "target_tokens": target_tokens,
        "vocabulary": fts.vocabulary_counts(dict(enumerate(clause_tokens)), target_tokens),
        "summary": [list(named.items()), len(clauses), len(targets)],
    }


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


class _Writer:
    """Inserts one document's rows at a time (prepared statements, one executemany a table) and
    its FTS rows (rowids = the clauses' and targets' rowids, counted here)."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.sql: dict[str, tuple[str, list[str]]] = {}
        for table in _STREAMED:
            cols = list(db[table].columns_dict)
            names = ", ".join(f"[{c}]" for c in cols)
            marks = ", ".join("?" for _ in cols)
            self.sql[table] = (f"insert into [{table}] ({names}) values ({marks})", cols)
        self.clause_rowid = 0
        self.target_rowid = 0
        self.vocabulary: Counter[str] = Counter()

    def add(self, rows: dict) -> DocumentSummary:
        conn = self.db.conn
        tables = rows["tables"]
        for table in _STREAMED:
            sql, cols = self.sql[table]
            conn.executemany(sql, ([r.get(c) for c in cols] for r in tables[table]))
        first_clause = self.clause_rowid + 1
        clauses, targets = tables["clauses"], tables["targets"]
        from extractor.kb import fts

        fts.insert_fts(
            self.db,
            "clauses_fts",
            (
                (first_clause + i, c["id"], tok)
                for i, (c, tok) in enumerate(zip(clauses, rows["clause_tokens"]))
            ),
        )
        tokens = rows["clause_tokens"]
        fts.insert_fts(
            self.db,
            "targets_fts",
            (
                (self.target_rowid + 1 + i, t["id"], fts.join_tokens(tokens[k] if k is not None else "", own))
                for i, (t, (k, own)) in enumerate(zip(targets, rows["target_tokens"]))
            ),
        )
        self.clause_rowid += len(clauses)
        self.target_rowid += len(targets)
        self.vocabulary.update(rows["vocabulary"])
        document = tables["documents"][0]
        named, n_clauses, n_targets = rows["summary"]
        return DocumentSummary(
            document["id"], document["file"], [tuple(x) for x in named], n_clauses, n_targets
        )


def write_db(db_path: Path, docs: Iterable[dict], digest: str) -> list[DocumentSummary]:
    """Write a complete kb.db at ``db_path`` atomically from :func:`document_rows` results, in
    the order given (the build gives them in document id order), one document at a time."""
    from extractor.kb import fts

    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        db = sqlite_utils.Database(tmp, recreate=True)
        db.execute("pragma synchronous = off")  # a temporary file: replaced atomically when complete
        _create_schema(db)
        fts.create_citations_table(db)
        fts.create_fts_tables(db)
        db["campaigns"].insert_all(
            {"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en} for c in campaigns()
        )
        db["indicators"].insert_all(_indicator_rows())
        writer = _Writer(db)
        summaries = []
        with db.conn:
            for n, rows in enumerate(docs, 1):
                summaries.append(writer.add(rows))
                if n % 200 == 0:
                    db.conn.commit()
        for table, cols in {
            "sections": ["document_id", "parent_id", "campaign"],
            "clauses": ["document_id", "section_id", "campaign"],
            "targets": ["document_id", "clause_id", "indicator_id", "campaign", "kind", "year"],
            "documents": ["district_slug"],
        }.items():
            for col in cols:
                db[table].create_index([col])
        duties.index_tables(db)
        fts.create_vocabulary(db, writer.vocabulary)
        fts.create_views(db)
        db.conn.commit()
        from extractor.kb.trajectories import build_trajectories

        build_trajectories(db)
        coverage.build_coverage(db)
        from extractor.kb.similar import build_similar

        build_similar(db)
        db["build_info"].insert_all(
            [
                {"key": "corpus_digest", "value": digest},
                {"key": "extractor_digest", "value": extractor_digest()},
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
            ]
        )
        db.vacuum()
        db.close()
        os.replace(tmp, db_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}-journal").unlink(missing_ok=True)
        raise
    return summaries


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
) -> BuildReport:
    """Build kb.db from ``corpus_dir/catalog.yml``.

    Catalog errors raise (nothing is written). A document that fails (or takes longer than
    ``doc_timeout`` seconds) is recorded in ``report.errors`` and left out; the rest is written.
    ``on_document`` is called per entry (for a progress bar). The documents are read and
    extracted by ``jobs`` worker processes (default: every core), or on the Dask cluster at
    ``scheduler``; the results are written in document id order, so kb.db is the same whatever
    ``jobs`` is. With ``cache``, a document unchanged since the last build (same bytes, catalog
    entry and extraction rules) is taken from the build cache instead (see
    :mod:`extractor.kb.cache`); ``report.extracted`` counts the documents extracted anew.
    """
    from extractor.kb import parallel
    from extractor.kb.cache import BuildCache, BuildLock, cache_key, remove_stale_files

    if Path(db_path).is_dir():  # found before the documents are read, not at the final os.replace
        raise PolicyKBError("is a directory: give the file to write (e.g. kb.db inside it)", path=db_path)
    if not Path(db_path).resolve().parent.is_dir():
        raise PolicyKBError("its folder does not exist", path=db_path)
    entries = sorted(load_catalog(corpus_dir), key=lambda e: e.id)
    digest = corpus_digest(corpus_dir)
    report = BuildReport(Path(db_path), unlisted=unlisted_files(corpus_dir, entries))
    with BuildLock(Path(db_path)):
        remove_stale_files(Path(db_path))
        store = BuildCache.beside(Path(db_path)) if cache else None
        rules = extractor_digest()
        keys = [cache_key(entry, rules) for entry in entries]
        try:

            def documents():
                cached = {key for key in keys if store and store.has(key)}
                missing = [entry for entry, key in zip(entries, keys) if key not in cached]
                results = parallel.run(
                    missing, jobs=jobs or default_jobs(), doc_timeout=doc_timeout, scheduler=scheduler
                )
                for entry, key in zip(entries, keys):
                    rows = store.get(key) if key in cached else None
                    fresh = rows is None
                    if key in cached and fresh:  # a corrupt cache entry: extract it again
                        rows = next(parallel.run([entry], jobs=1, doc_timeout=doc_timeout))[1]
                    elif fresh:
                        got, rows = next(results)
                        assert got.id == entry.id, (got.id, entry.id)
                    report.extracted += fresh
                    if isinstance(rows, PolicyKBError):
                        report.errors.append(rows)
                    else:
                        if store and fresh:
                            store.put(key, rows)
                        yield rows
                    if on_document:
                        on_document(entry)

            report.documents = write_db(Path(db_path), documents(), digest)
            if store:
                store.keep(set(keys))
        finally:
            if store:
                store.close()
    return report
