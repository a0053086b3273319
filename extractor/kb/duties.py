"""The ``responsibilities`` and ``deadlines`` tables: who does each clause's task, by when
(rows from :mod:`extractor.statements.duties`, called by ``store.write_db``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlite_utils

if TYPE_CHECKING:
    from extractor.pipeline import ProcessedDocument

RESPONSIBILITIES = {
    "clause_id": str,
    "document_id": str,
    "role": str,  # lead | partner
    "unit": str,  # as written: text[start:end]
    "unit_normalized": str,  # 区生态环境局 -> 生态环境局, 各街乡镇 -> 街乡镇
    "start": int,
    "end": int,
}
DEADLINES = {
    "clause_id": str,
    "document_id": str,
    "date": str,  # 2024-06-30; NULL for 持续推进
    "precision": str,  # day | month | quarter | half | year | ongoing
    "surface": str,  # the words as written: text[start:end]
    "start": int,
    "end": int,
}
_KEYS = [("document_id", "documents", "id"), ("clause_id", "clauses", "id")]


def create_tables(db: sqlite_utils.Database) -> None:
    db["responsibilities"].create(RESPONSIBILITIES, pk=("clause_id", "start"), foreign_keys=_KEYS)
    db["deadlines"].create(DEADLINES, pk=("clause_id", "start"), foreign_keys=_KEYS)


def insert_duties(db: sqlite_utils.Database, doc: ProcessedDocument) -> None:
    db["responsibilities"].insert_all(r.to_row() for r in doc.responsibilities)
    db["deadlines"].insert_all(d.to_row() for d in doc.deadlines)


def index_tables(db: sqlite_utils.Database) -> None:
    for table in ("responsibilities", "deadlines"):
        db[table].create_index(["document_id"])
    db["responsibilities"].create_index(["unit_normalized"])
