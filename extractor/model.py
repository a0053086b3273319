"""Records that flow through the pipeline (sources -> normalize -> structure -> quantities -> targets -> store).

Every ``start``/``end`` pair is a character offset into ``Document.text`` (the decoded source
text, stored unchanged in ``documents.text``) unless a docstring says otherwise, so that
``document.text[start:end]`` is always the verbatim citation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Page:
    """A page of a paginated source (PDF, DOCX page breaks): 1-based ``number``, text span."""

    number: int
    start: int
    end: int


@dataclass
class SourceText:
    """What a reader produced from one file: the decoded text and where its pages are."""

    path: Path
    text: str
    format: str  # "txt" | "pdf" | "docx"
    encoding: str | None = None  # for txt: "utf-8", "utf-8-sig", "gb18030"
    pages: list[Page] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        """The page number that holds ``offset``, or None for an unpaginated source."""
        for page in self.pages:
            if page.start <= offset < page.end:
                return page.number
        if self.pages and offset >= self.pages[-1].end:
            return self.pages[-1].number
        return None


def _flat_row(obj) -> dict[str, Any]:
    """The fields of a dataclass whose values are plain (str, int, float, None) as a dict:
    what ``asdict`` gives, without its recursive deep copy (a kb.db row per clause and target)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass
class Section:
    id: str
    document_id: str
    level: int  # 1 = outermost
    number: str | None  # "第四章", "一、", "（一）", "1.", "（1）"; None for leads without a number
    title: str
    kind: str  # "chapter" | "heading" | "question" | "lead" | "table"
    start: int
    end: int
    parent_id: str | None
    campaign: str  # canonical campaign id (air, water, ..., general)
    campaign_label: str | None  # the label the document uses (蓝天保卫战), if the section names one
    path: str = ""  # "二、主要措施 › （一）蓝天保卫战2024年行动计划"

    def to_row(self) -> dict[str, Any]:
        return _flat_row(self)


@dataclass
class Clause:
    id: str
    document_id: str
    section_id: str | None
    campaign: str
    seq: int  # order within the document, from 1
    ordinal: str | None  # "一是", "另一方面", "1.", "（2）"; None for a plain paragraph
    kind: str  # "item" | "subitem" (一方面… inside an item) | "paragraph" | "table_row"
    text: str
    start: int
    end: int
    page: int | None = None

    def to_row(self) -> dict[str, Any]:
        return _flat_row(self)


@dataclass
class Quantity:
    """A number with its unit, found in some text.

    Offsets are into the string that was searched (``find_quantities(text)``); the pipeline maps
    them back to ``Document.text``.
    """

    value: float
    value_max: float | None
    unit: str  # as written, with its magnitude ("万吨", "微克/立方米", "%", "" for a bare number)
    canonical_unit: str  # canonical form from data/units.yml ("吨", "%", "μg/m³"...)
    dimension: str  # "mass", "ratio", "percentage_point", "count", "concentration", ...
    factor: float  # value * factor = value in canonical_unit (万吨 -> 1e4)
    surface: str  # the matched text, number through unit (and approximation words)
    start: int
    end: int
    unit_start: int | None = None
    unit_end: int | None = None
    approx: str | None = None  # "余", "多", "近", "约", "左右"... as written
    comparator_hint: str | None = None  # from symbols inside the surface: "≤", ">"...
    per: str | None = None  # 每月5.2吨/平方公里: the period of the per prefix, as its unit joins it ("·月")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Target:
    """A quantity understood as a statement: indicator, comparator, kind, year, citation."""

    id: str
    document_id: str
    clause_id: str | None
    indicator: str
    indicator_id: str | None
    value: float
    value_max: float | None
    unit: str  # as written in the source, with magnitude
    canonical_unit: str
    value_canonical: float | None
    comparator: str  # "<=", ">=", "~", "=", "<", ">"
    kind: str  # "target" | "actual" | "scope" | "condition"
    year: int | None
    base_year: int | None
    campaign: str
    qualifiers: list[str]
    attribute: str | None  # 约束性 / 预期性 (tables)
    surface: str
    start: int
    end: int
    page: int | None = None
    kind_evidence: str = ""  # the words that decided the kind: 到2025年, 同比, “十一五”期间, a heading
    dimension: str = ""  # the unit's dimension (units.yml): mass, concentration, ratio... "" bare
    value_text: str | None = None  # a qualitative target (value None): 达到市级要求, 稳步提升

    def to_row(self) -> dict[str, Any]:
        row = _flat_row(self)
        row["qualifiers"] = ",".join(self.qualifiers)  # the one list field, as kb.db stores it
        return row
