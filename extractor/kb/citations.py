"""Citations of clauses: issuer, 《title》, document number, year, section path › clause label, page.

``citation_rows`` fills the ``clause_citations`` table that ``fts.index_database`` creates;
the web pages and the canned queries read the ready-made text from there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlite_utils

PATH_SEPARATOR = " › "


def issuing_place(document: dict) -> str | None:
    """Who to cite when the catalog names no issuer: the jurisdiction (北京市朝阳区)."""
    place = f"{document.get('city') or ''}{document.get('district') or ''}"
    return place or None


def citation_year(published: str | None, year: int | None) -> int | None:
    """The year to cite: the publication year if known (``2022-01-24`` -> 2022), else the
    document's first plan year."""
    m = re.match(r"\s*(\d{4})", str(published or ""))
    return int(m.group(1)) if m else year


def book_title(title: str) -> str:
    """A title in 书名号; titles quoted inside it take the inner marks 〈〉:
    ``关于《X》的说明`` -> ``《关于〈X〉的说明》``."""
    inner = title.replace("《", "〈").replace("》", "〉")
    return f"《{inner}》"


def format_citation(
    issuer: str | None,
    title: str | None,
    doc_number: str | None,
    year: int | None,
    section_path: str | None,
    label: str | None,
    page: int | None = None,
) -> str:
    """A ready-to-copy citation of one clause, parts joined by ``，``.

    >>> format_citation("北京市丰台区人民政府", "丰台区“十四五”时期生态环境保护规划",
    ...     "丰政发〔2022〕2号", 2022, "三、主要措施 › （一）蓝天保卫战", "三是")
    '北京市丰台区人民政府，《丰台区“十四五”时期生态环境保护规划》，丰政发〔2022〕2号，2022年，三、主要措施 › （一）蓝天保卫战 › 三是'
    """
    location = PATH_SEPARATOR.join(p for p in (section_path, label) if p)
    parts = [
        issuer,
        book_title(title) if title else None,
        doc_number,
        f"{year}年" if year else None,
        location or None,
        f"p. {page}" if page else None,
    ]
    return "，".join(p for p in parts if p)


def clause_labels(clauses: Iterable[dict]) -> dict[str, str | None]:
    """Label of each clause within its section: its ordinal (三是, （2）), else 第N段 counting
    the section's clauses in document order."""
    labels: dict[str, str | None] = {}
    counters: dict[tuple[str, str | None], int] = {}
    for c in sorted(clauses, key=lambda c: (c["document_id"], c["seq"])):
        key = (c["document_id"], c.get("section_id"))
        counters[key] = counters.get(key, 0) + 1
        labels[c["id"]] = c.get("ordinal") or f"第{counters[key]}段"
    return labels


def document_citation_rows(document: dict, sections: Iterable[dict], clauses: Iterable[dict]) -> list[dict]:
    """The ``clause_citations`` rows of one document's clauses (rows as in kb.db), in clause
    order (seq): what the build's workers compute per document."""
    paths = {s["id"]: s.get("path") or s.get("title") for s in sections}
    clauses = sorted(clauses, key=lambda c: c["seq"])
    labels = clause_labels(clauses)
    rows = []
    for c in clauses:
        path = paths.get(c["section_id"]) if c["section_id"] else None
        rows.append(
            {
                "clause_id": c["id"],
                "section_path": path,
                "label": labels[c["id"]],
                "citation": format_citation(
                    document.get("issuer") or issuing_place(document),
                    document.get("title"),
                    document.get("doc_number"),
                    citation_year(document.get("published"), document.get("year")),
                    path,
                    labels[c["id"]],
                    c["page"],
                ),
            }
        )
    return rows


def citation_rows(db: sqlite_utils.Database) -> list[dict]:
    """One ``clause_citations`` row per clause of kb.db, in document order."""
    meta = "id, issuer, city, district, title, doc_number, published, year"
    rows = []
    for d in db.query(f"select {meta} from documents order by id"):
        sections = db.query("select id, path, title from sections where document_id = ?", [d["id"]])
        clauses = db.query(
            "select id, document_id, section_id, seq, ordinal, kind, page from clauses where document_id = ?",
            [d["id"]],
        )
        rows += document_citation_rows(d, list(sections), list(clauses))
    return rows
