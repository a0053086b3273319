"""One document through the whole pipeline: source -> normalize -> structure -> targets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.lexicon.cues import load_statements
from extractor.model import Clause, Section, SourceText, Target
from extractor.normalize import Normalized, normalize
from extractor.read.catalog import CatalogEntry
from extractor.read.metadata import (
    AHEAD_IN_TITLE,
    guess_genre,
    guess_plan_years,
    guess_title,
    plan_years_named,
    report_year,
    slugify,
)
from extractor.read.text import read_source
from extractor.structure import Structure, parse_structure

if TYPE_CHECKING:
    from extractor.statements.duties import Deadline, Responsibility


@dataclass
class ProcessedDocument:
    document: dict[str, Any]  # the ``documents`` row, ``text`` included
    source: SourceText
    norm: Normalized
    structure: Structure
    targets: list[Target] = field(default_factory=list)
    responsibilities: list[Responsibility] = field(
        default_factory=list
    )  # who does what (statements/duties.py)
    deadlines: list[Deadline] = field(default_factory=list)  # by when

    @property
    def sections(self) -> list[Section]:
        return self.structure.sections

    @property
    def clauses(self) -> list[Clause]:
        return self.structure.clauses


def statement_years(row: dict[str, Any]) -> tuple[int | None, int | None]:
    """The plan year(s) statements are read against. A report of results on year Y (its
    catalog year) looks ahead to Y+1: its numbers of Y are actuals."""
    year, year_end = row["year"], row["year_end"]
    if (
        year is not None
        and year_end is None
        and row.get("genre") in load_statements().report_genres
        and not AHEAD_IN_TITLE.search(row.get("title") or "")
    ):
        return year + 1, None
    return year, year_end


def _document_row(entry: CatalogEntry | None, doc_id: str, path: Path, source: SourceText) -> dict[str, Any]:
    text = source.text
    first_line = guess_title(text) or path.stem
    row: dict[str, Any] = {
        "id": doc_id,
        "file": path.name,
        "format": source.format,
        "encoding": source.encoding,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "district": None,
        "district_slug": None,
        "city": None,
        "year": None,
        "year_end": None,
        "genre": None,
        "title": first_line[:200],
        "plan_title": None,
        "issuer": None,
        "doc_number": None,
        "published": None,
        "source_url": None,
        "notes": None,
    }
    if entry is not None:
        row.update(entry.meta())
        row["id"] = doc_id
    else:
        row["genre"] = guess_genre(row["title"])
        row["year"], row["year_end"] = guess_plan_years(row["title"], text, path.stem)
        if row["genre"] in load_statements().report_genres and row["year_end"] is not None:
            row["year"], row["year_end"] = report_year(text, row["year_end"]), None
    row.update({"n_chars": len(text), "n_pages": len(source.pages) or None, "text": text})
    return row


def process_file(path: str | Path, entry: CatalogEntry | None = None) -> ProcessedDocument:
    """Run the pipeline on one file; ``entry`` (from the catalog) supplies its metadata."""
    from extractor.statements.assemble import extract_targets
    from extractor.statements.duties import extract_duties

    path = Path(path)
    source = read_source(path)
    doc_id = entry.id if entry is not None else slugify(path.name)
    row = _document_row(entry, doc_id, path, source)
    norm = normalize(source.text)
    structure = parse_structure(doc_id, source.text, norm, title=row.get("plan_title") or row["title"])
    if source.pages:
        for clause in structure.clauses:
            clause.page = source.page_at(clause.start)
    plan_year, plan_year_end = statement_years(row)
    targets = extract_targets(
        doc_id,
        source.text,
        norm,
        structure,
        plan_year=plan_year,
        plan_year_end=plan_year_end,
        genre=row["genre"],
        title=row.get("plan_title") or row["title"],
        published=row.get("published"),
        plan_year_known=entry is not None or plan_years_named(row["title"] or "", source.text, path.name),
    )
    if source.pages:
        for target in targets:
            target.page = source.page_at(target.start)
    duties, deadlines = extract_duties(doc_id, source.text, structure.clauses, plan_year=plan_year)
    return ProcessedDocument(row, source, norm, structure, targets, duties, deadlines)
