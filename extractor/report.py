"""Targets as records for people: the ``policykb extract`` JSON lines and terminal table."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from extractor.format import format_value
from extractor.pipeline import ProcessedDocument


def target_records(doc: ProcessedDocument) -> list[dict[str, Any]]:
    """One record per target: citation fields first (document, section path, clause), then values."""
    sections = {s.id: s for s in doc.sections}
    clauses = {c.id: c for c in doc.clauses}
    records = []
    for t in doc.targets:
        clause = clauses.get(t.clause_id)
        section = sections.get(clause.section_id) if clause else None
        records.append(
            {
                "doc": doc.document["id"],
                "file": doc.document["file"],
                "campaign": t.campaign,
                "section": section.path if section else None,
                "clause_id": t.clause_id,
                "clause_ordinal": clause.ordinal if clause else None,
                "clause": clause.text if clause else None,
                "indicator": t.indicator,
                "indicator_id": t.indicator_id,
                "value": t.value,
                "value_max": t.value_max,
                "value_text": t.value_text,
                "unit": t.unit,
                "dimension": t.dimension,
                "canonical_unit": t.canonical_unit,
                "value_canonical": t.value_canonical,
                "comparator": t.comparator,
                "kind": t.kind,
                "kind_evidence": t.kind_evidence,
                "year": t.year,
                "base_year": t.base_year,
                "qualifiers": t.qualifiers,
                "attribute": t.attribute,
                "surface": t.surface,
                "start": t.start,
                "end": t.end,
                "page": t.page,
            }
        )
    return records


def format_table(records: list[dict[str, Any]]) -> str:
    """A readable table: campaign, indicator, value with comparator and unit (written as on the
    site's pages, see :mod:`extractor.format`), kind, years, page, surface."""
    if not records:
        return "(no targets found)"
    rows = [
        [
            r["campaign"],
            r["indicator"],
            format_value(r["value"], r["value_max"], r["comparator"], r["unit"], r.get("value_text")),
            r["kind"],
            r["year"] or "",
            r["base_year"] or "",
            r["page"] or "",
            r["surface"],
        ]
        for r in records
    ]
    return tabulate(
        rows, headers=["campaign", "indicator", "value", "kind", "year", "base", "page", "surface"]
    )
