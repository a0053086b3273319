"""Indicator tables: one target per numeric value cell of a tab-separated table row.

A table is a run of lines with two or more tabs. The nearest header row above a data row (a
table row without numbers) says what each column holds: a value column of a kind and year
(``2020年现状值`` -> actual 2020, ``2025年规划值`` -> target 2025, a bare ``2025年`` -> by the plan
year), the indicator name (with its unit in brackets: ``细颗粒物年均浓度（微克/立方米）``), a unit
column (``单位``) or the attribute (``指标属性``: 约束性/预期性).

Called by :func:`extractor.statements.assemble.extract_targets` with its ``DocContext``; offsets are
analysis offsets mapped back to the source through ``ctx``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import regex

from extractor.lexicon.cues import Indicator, load_comparators, load_units, to_simplified
from extractor.model import Clause, Target
from extractor.statements.indicators import indicator_for
from extractor.statements.qualitative import is_goal_wording
from extractor.statements.time import find_base_year

if TYPE_CHECKING:  # pragma: no cover
    from extractor.statements.context import DocContext

TABLE_CELL = regex.compile(
    r"^[ \u3000]*(?P<sym>[≤≥<>＜＞≦≧])?[ \u3000]*(?P<open>[\[［〔【])?[ \u3000]*"
    r"(?P<num>\d+(?:\.\d+)?)(?:[ \u3000]*(?:-|－|—|–|~|～|至)[ \u3000]*(?P<num2>\d+(?:\.\d+)?))?"
    r"[ \u3000]*(?P<pct>%|％)?[ \u3000]*(?(open)[\]］〕】])[ \u3000]*(?:左右)?[ \u3000]*$"
)

_CELL_YEAR = regex.compile(r"((?:19|20)\d{2})\s*年?")
_YEAR_HEADER = regex.compile(r"\s*(?:19|20)\d{2}\s*年?\s*(?:值|数值)?\s*")
_ROW_NUMBER = regex.compile(r"\s*\d{1,3}[.．、]?\s*")
HEADER_UNIT = regex.compile(r"[（(](?P<unit>[^（）()]{1,12})[）)][ \u3000]*$")
ATTRIBUTES = ("约束性", "预期性")


@dataclass
class TableColumn:
    """What a header cell says about its column: a value column (kind, year) or a role."""

    role: str  # "value" | "indicator" | "unit" | "attribute" | "other"
    kind: str | None = None  # None for a value column headed by a bare year (2020年)
    year: int | None = None
    header: str = ""  # the header cell as written (the evidence of its values' kind)


@dataclass
class RowLabels:
    """What the non-value cells of a data row say about its values."""

    indicator_text: str  # verbatim source text of the name cell, without its bracketed unit
    indicator: Indicator | None
    unit: str  # verbatim source text of the unit ("" if none)
    attribute: str | None
    clause: Clause | None


def is_table_line(line: str) -> bool:
    """A line of a tab-separated table (two tabs or more)."""
    return line.count("\t") >= 2


def table_targets(ctx: DocContext, line_start: int, line: str) -> list[Target] | None:
    """One target per numeric value cell of an indicator table row (none for its other rows);
    None when the line is not in an indicator table (no header names a value column)."""
    cells = _cells(line, line_start)
    header = _table_header(ctx, line_start)
    if not header:
        return None
    texts = [c for c, _, _ in cells]
    if not _is_data_row(texts) and not any(is_goal_wording(c) for c in texts[1:]):
        return []
    labels = _row_labels(ctx, cells, header)
    if labels is None:
        return []
    out = []
    for col, (cell, cs, ce) in enumerate(cells):
        if col >= len(header) or header[col].role != "value":
            continue
        m = TABLE_CELL.match(cell)
        if m:
            out.append(_table_target(ctx, m, cs, ce, header[col], labels))
        elif header[col].kind == "target" and labels.indicator and is_goal_wording(cell):
            out.append(_goal_cell_target(ctx, cell, cs, ce, header[col], labels))
    return out


def _goal_cell_target(
    ctx: DocContext, cell: str, cs: int, ce: int, column: TableColumn, labels: RowLabels
) -> Target:
    """A goal column's cell that states the goal in words (达到市级要求, 稳步提升): a qualitative
    target, value NULL, the cell's wording as its ``value_text`` and span."""
    lead = len(cell) - len(cell.lstrip(" \u3000"))
    trail = len(cell) - len(cell.rstrip(" \u3000"))
    src_start, src_end = ctx.src_span(cs + lead, ce - trail)
    indicator, clause = labels.indicator, labels.clause
    surface = ctx.source[src_start:src_end]
    return Target(
        id="",
        document_id=ctx.document_id,
        clause_id=clause.id if clause else None,
        indicator=labels.indicator_text,
        indicator_id=indicator.id if indicator else None,
        value=None,
        value_max=None,
        unit="",
        canonical_unit="",
        value_canonical=None,
        comparator="=",
        kind="target",
        year=column.year if column.year is not None else ctx.default_year,
        campaign=indicator.campaign if indicator else (clause.campaign if clause else "general"),
        kind_evidence=column.header,
        dimension="",
        value_text=surface,
        base_year=None,
        qualifiers=[],
        attribute=labels.attribute if labels.attribute in ATTRIBUTES else None,
        surface=surface,
        start=src_start,
        end=src_end,
    )


# ------------------------------------------------------------------------------------ rows


def _cells(line: str, offset: int) -> list[tuple[str, int, int]]:
    out, pos = [], offset
    for cell in line.split("\t"):
        out.append((cell, pos, pos + len(cell)))
        pos += len(cell) + 1
    return out


def _is_data_row(cells: list[str]) -> bool:
    """A row with a numeric cell beyond its first (row number) cell."""
    return any(TABLE_CELL.match(c) for c in cells[1:])


def _row_labels(
    ctx: DocContext, cells: list[tuple[str, int, int]], header: list[TableColumn]
) -> RowLabels | None:
    """Indicator, unit and attribute of a data row, from the columns the header names."""
    ind_col = _indicator_column(header)
    if ind_col >= len(cells):
        return None
    name, ns, ne = cells[ind_col]
    unit_m = HEADER_UNIT.search(name)
    name_end = ns + unit_m.start() if unit_m else ne
    unit = ctx.src_text(ns + unit_m.start("unit"), ns + unit_m.end("unit")) if unit_m else ""
    unit_col = _column_of(header, "unit")
    if unit_col is not None and unit_col < len(cells) and cells[unit_col][0].strip():
        unit = ctx.src_text(cells[unit_col][1], cells[unit_col][2]).strip()
    attr_col = _column_of(header, "attribute")
    attribute = cells[attr_col][0].strip() if attr_col is not None and attr_col < len(cells) else None
    return RowLabels(
        indicator_text=ctx.src_text(ns, name_end).strip(),
        indicator=indicator_for(ctx.norm.text[ns:name_end], _dimension(unit) if unit else None),
        unit=unit,
        attribute=attribute or None,
        clause=ctx.clause_at(ctx.src_span(ns, ne)[0]),
    )


# --------------------------------------------------------------------------------- headers


def _lines_above(text: str, line_start: int):
    """``(start, line)`` of each line above ``line_start``, nearest first."""
    pos = line_start
    while pos > 0:
        pos = text.rfind("\n", 0, pos - 1) + 1
        end = text.find("\n", pos)
        yield pos, text[pos : end if end >= 0 else len(text)]


def _table_header(ctx: DocContext, line_start: int) -> list[TableColumn] | None:
    """The columns of the nearest header row above ``line_start`` (a table row without numbers)."""
    for _, line in _lines_above(ctx.norm.text, line_start):
        if line.strip() and not is_table_line(line):
            return None
        cells = [c.strip() for c in line.split("\t")]
        if is_table_line(line) and not _is_data_row(cells) and not cells[0][:1].isdigit():
            columns = [_column(c) for c in cells]
            if any(c.role == "value" for c in columns):
                return columns
    return None


def _column(cell: str) -> TableColumn:
    year_m = _CELL_YEAR.search(cell)
    year = int(year_m.group(1)) if year_m else None
    if any(w in cell for w in ("现状", "基数", "基准", "完成值", "实际", "现值")):
        return TableColumn("value", "actual", year, cell.strip())
    if any(w in cell for w in ("目标", "规划", "预期值")):
        return TableColumn("value", "target", year, cell.strip())
    if "属性" in cell:
        return TableColumn("attribute")
    if cell in ("单位", "计量单位", "指标单位"):
        return TableColumn("unit")
    if "名称" in cell or cell in ("指标", "项目", "主要指标", "指标内容"):
        return TableColumn("indicator")
    if year is not None and _YEAR_HEADER.fullmatch(cell):
        return TableColumn("value", None, year, cell.strip())
    return TableColumn("other")


def _column_of(header: list[TableColumn], role: str) -> int | None:
    return next((i for i, c in enumerate(header) if c.role == role), None)


def _indicator_column(header: list[TableColumn]) -> int:
    named = [i for i, c in enumerate(header) if c.role == "indicator"]
    if named:
        return named[-1]
    first_value = next(i for i, c in enumerate(header) if c.role == "value")
    others = [i for i, c in enumerate(header[:first_value]) if c.role == "other"]
    return others[-1] if others else 0


# ----------------------------------------------------------------------------------- cells


def _cell_kind_year(ctx: DocContext, column: TableColumn) -> tuple[str, int | None]:
    """A value column's kind and year; a bare year column before the plan is observed."""
    kind, year = column.kind, column.year
    present = ctx.time.present if ctx.time.present is not None else ctx.plan_year
    if kind is None:
        kind = "actual" if present is not None and year < present else "target"
    if year is None:
        year = ctx.default_year if kind == "target" else (ctx.plan_year - 1 if ctx.plan_year else None)
    return kind, year


def _dimension(unit: str) -> str:
    found = load_units().lookup(unit) if unit else None
    return found[0].dimension if found else ""


def _table_target(
    ctx: DocContext, m: regex.Match, cs: int, ce: int, column: TableColumn, labels: RowLabels
) -> Target:
    unit = "%" if m.group("pct") else labels.unit
    canonical, factor = load_units().canonical_of(unit) or ("", 1.0)
    value = float(m.group("num"))
    value_max = float(m.group("num2")) if m.group("num2") else None
    comp = load_comparators().symbols.get(m.group("sym"), "=") if m.group("sym") else "="
    if m.group(0).rstrip().endswith("左右"):
        comp = "~"
    kind, year = _cell_kind_year(ctx, column)
    lead = len(m.string) - len(m.string.lstrip(" \u3000"))
    trail = len(m.string) - len(m.string.rstrip(" \u3000"))
    src_start, src_end = ctx.src_span(cs + lead, ce - trail)
    indicator, clause = labels.indicator, labels.clause
    campaign = indicator.campaign if indicator else (clause.campaign if clause else "general")
    return Target(
        id="",
        document_id=ctx.document_id,
        clause_id=clause.id if clause else None,
        indicator=labels.indicator_text,
        indicator_id=indicator.id if indicator else None,
        value=value,
        value_max=value_max,
        unit=unit,
        canonical_unit=canonical,
        value_canonical=value * factor,
        comparator=comp,
        kind=kind,
        year=year,
        campaign=campaign,
        kind_evidence=column.header,
        dimension=_dimension(unit),
        base_year=find_base_year(ctx.cues, to_simplified(labels.indicator_text)),  # 较2020年降低（%）
        qualifiers=["累计"] if m.group("open") else [],
        attribute=labels.attribute if labels.attribute in ATTRIBUTES else None,
        surface=ctx.source[src_start:src_end],
        start=src_start,
        end=src_end,
    )


# --------------------------------------------------------------------------- other tables

SKIPPED_COLUMNS = regex.compile(
    r"序号|编号|时限|时间|日期|年份|年度|期限|进度|责任单位|牵头单位|配合单位|备注"
)


@dataclass
class ListCell:
    """A cell of a table that is not an indicator table (a project or task list) to read."""

    text: str
    start: int  # analysis offsets of the cell
    end: int
    label: str = ""  # the header of its column without the bracketed unit (投资)
    unit_span: tuple[int, int] | None = None  # analysis span of the header's unit (万元)
    number: regex.Match | None = None  # a bare number cell (TABLE_CELL match)


def list_row(ctx: DocContext, line_start: int, line: str) -> tuple[str, list[ListCell]]:
    """The row name (its 名称 column) and the cells to read of a row of a project or task table:
    text cells (read as prose), and bare numbers in a column whose header gives a unit in brackets
    (投资（万元）, 规模（公里））. Row numbers (序号), dates and responsibility columns are skipped."""
    cells = _cells(line, line_start)
    header = _list_header(ctx, line_start) or []
    name_col = next((i for i, (h, _, _) in enumerate(header) if "名称" in h), None)
    out = []
    for col, (cell, cs, ce) in enumerate(cells):
        head = header[col] if col < len(header) else None
        if (
            not cell.strip()
            or (head and SKIPPED_COLUMNS.search(head[0]))
            or (col == 0 and _ROW_NUMBER.fullmatch(cell))
        ):
            continue
        m = TABLE_CELL.match(cell)
        if m is None:
            out.append(ListCell(cell, cs, ce))
            continue
        unit_m = HEADER_UNIT.search(head[0]) if head else None
        if unit_m and not m.group("pct") and load_units().lookup(unit_m.group("unit")):
            label = head[0][: unit_m.start()].strip()
            out.append(
                ListCell(
                    cell, cs, ce, label, (head[1] + unit_m.start("unit"), head[1] + unit_m.end("unit")), m
                )
            )
    name = cells[name_col][0].strip() if name_col is not None and name_col < len(cells) else ""
    return name, out


def _list_header(ctx: DocContext, line_start: int) -> list[tuple[str, int, int]] | None:
    """The cells of the nearest header row above ``line_start`` in the same table (a table row
    that does not start with a row number and has no numeric cell)."""
    for pos, line in _lines_above(ctx.norm.text, line_start):
        if not is_table_line(line):
            return None
        cells = _cells(line, pos)
        if not cells[0][0].strip()[:1].isdigit() and not _is_data_row([c for c, _, _ in cells]):
            return cells
    return None
