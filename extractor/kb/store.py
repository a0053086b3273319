"""Write kb.db with sqlite-utils: schema, rows, indexes, search (see docs/ARCHITECTURE.md).

The build is atomic (a temporary file beside the target, then ``os.replace``) and deterministic
(documents in id order, rows in document order, no timestamps), so the same corpus gives the
same content. A document that cannot be read is reported and left out; the others still build.
"""

from __future__ import annotations

import hashlib
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


def _insert(db: sqlite_utils.Database, doc: ProcessedDocument) -> DocumentSummary:
    db["documents"].insert({k: doc.document.get(k) for k in _DOCUMENTS})
    db["sections"].insert_all(s.to_row() for s in doc.sections)
    db["clauses"].insert_all({k: c.to_row()[k] for k in _CLAUSES} for c in doc.clauses)
    db["targets"].insert_all({k: t.to_row()[k] for k in _TARGETS} for t in doc.targets)
    duties.insert_duties(db, doc)
    named = dict(doc.structure.campaigns())
    clause_counts = Counter(c.campaign for c in doc.clauses)
    target_counts = Counter(t.campaign for t in doc.targets)
    db["document_campaigns"].insert_all(
        {
            "document_id": doc.document["id"],
            "campaign": cid,
            "label": named[cid],
            "clauses": clause_counts[cid],
            "targets": target_counts[cid],
        }
        for cid in sorted(named, key=lambda c: [x.id for x in campaigns()].index(c))
    )
    return DocumentSummary(
        doc.document["id"], doc.document["file"], list(named.items()), len(doc.clauses), len(doc.targets)
    )


def write_db(db_path: Path, docs: Iterable[ProcessedDocument], digest: str) -> list[DocumentSummary]:
    """Write a complete kb.db at ``db_path`` atomically from processed documents."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        db = sqlite_utils.Database(tmp, recreate=True)
        _create_schema(db)
        db["campaigns"].insert_all(
            {"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en} for c in campaigns()
        )
        db["indicators"].insert_all(_indicator_rows())
        summaries = [_insert(db, doc) for doc in sorted(docs, key=lambda d: d.document["id"])]
        for table, cols in {
            "sections": ["document_id", "parent_id", "campaign"],
            "clauses": ["document_id", "section_id", "campaign"],
            "targets": ["document_id", "clause_id", "indicator_id", "campaign", "kind", "year"],
            "documents": ["district_slug"],
        }.items():
            for col in cols:
                db[table].create_index([col])
        duties.index_tables(db)
        from extractor.kb.fts import index_database

        index_database(db)
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
        raise
    return summaries


def build_db(
    corpus_dir: str | Path,
    db_path: str | Path,
    on_document: Callable[[CatalogEntry], None] | None = None,
) -> BuildReport:
    """Build kb.db from ``corpus_dir/catalog.yml``.

    Catalog errors raise (nothing is written). A document that fails is recorded in
    ``report.errors`` and left out; the rest is written. ``on_document`` is called per entry
    (for a progress bar).
    """
    if Path(db_path).is_dir():  # found before the documents are read, not at the final os.replace
        raise PolicyKBError("is a directory: give the file to write (e.g. kb.db inside it)", path=db_path)
    if not Path(db_path).resolve().parent.is_dir():
        raise PolicyKBError("its folder does not exist", path=db_path)
    entries = load_catalog(corpus_dir)
    digest = corpus_digest(corpus_dir)
    report = BuildReport(Path(db_path), unlisted=unlisted_files(corpus_dir, entries))
    processed = []
    for entry in entries:
        try:
            processed.append(process_file(entry.path, entry))
        except PolicyKBError as exc:
            report.errors.append(exc)
        except Exception as exc:  # a reader or parser bug must not sink the other documents
            report.errors.append(SourceError(f"unexpected {type(exc).__name__}: {exc}", path=entry.path))
        if on_document:
            on_document(entry)
    report.documents = write_db(Path(db_path), processed, digest)
    return report
