"""The ``coverage_cells`` table of kb.db: indicators x districts, precomputed at build time.

One row per indicator and district that has a value of it (a target or an actual: the matrix's
non-empty cells; an empty cell is no row, so the table grows with the values, not with
indicators x districts), so the served site's coverage page and the ``coverage`` canned query
read a table instead of grouping every target of the corpus per request (at 1,600 documents the
old query, sorted by a correlated subquery over a view, ran past the SQL time limit). Only
``target`` and ``actual`` values count; scope and condition statements are not values of the
indicator. (Not named ``coverage``: that is the canned query's name, which would hide the
table's own page.)

Columns: ``indicator_id``, ``indicator_name``, ``campaign``, ``district``, ``states_target``
(1 when the district states a target, numeric or qualitative; 0 when it has actual values
only), ``n_targets``, ``n_actuals``, ``latest_target_year``, ``latest_target`` (the latest
target as the pages write it, :func:`extractor.format.format_value`), ``latest_qualitative``
(1 when that target is stated in words), ``values`` (every target in short: ``≤ 28 微克/立方米
(2024); …``), ``n_districts`` (districts stating a target for the indicator: the order of the
matrix's rows).

:func:`coverage_rows` computes the rows from any kb.db (the web layer falls back on it for a
kb.db built before the table existed); :func:`build_coverage` writes them (called by
:func:`extractor.kb.store.write_db`) with the indexes the pages read them by, and indexes
``documents.district``, which the served pages filter on.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils
from sqlite_utils.db import DescIndex

from extractor.format import format_value

TABLE = "coverage_cells"
COLUMNS: dict[str, Any] = {
    "indicator_id": str,
    "indicator_name": str,
    "campaign": str,
    "district": str,
    "states_target": int,
    "n_targets": int,
    "n_actuals": int,
    "latest_target_year": int,
    "latest_target": str,
    "latest_qualitative": int,
    "values": str,
    "n_districts": int,
}

# targets and actuals of known indicators, in the order the comparison pages list them
_VALUES = """
select t.indicator_id, d.district, t.kind, t.year, t.value, t.value_max, t.comparator, t.unit,
  t.value_text
from targets t join documents d on d.id = t.document_id
where t.indicator_id is not null and t.kind in ('target', 'actual') and d.district is not null
order by d.district, coalesce(t.year, d.year),
  case t.kind when 'target' then 0 else 1 end, t.document_id, t.start, t.id
"""


def _display(value, value_max, comparator, unit, value_text) -> str:
    if value is None and value_text:
        return value_text
    return format_value(value, value_max, comparator, unit)


def coverage_rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every non-empty indicator x district cell (see the module's docstring), ordered as the
    canned query lists them: most districts stating a target first, then campaign, indicator,
    district."""
    districts = [
        r[0]
        for r in conn.execute(
            "select distinct district from documents where district is not null order by district"
        )
    ]
    indicators = conn.execute("select id, name_zh, campaign from indicators order by id").fetchall()
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for indicator_id, district, kind, year, value, value_max, comparator, unit, value_text in conn.execute(
        _VALUES
    ):
        cell = cells.setdefault(
            (indicator_id, district),
            {"n_targets": 0, "n_actuals": 0, "latest": None, "values": []},
        )
        if kind != "target":
            cell["n_actuals"] += 1
            continue
        cell["n_targets"] += 1
        shown = _display(value, value_max, comparator, unit, value_text)
        cell["values"].append(shown + (f" ({year})" if year else ""))
        if cell["latest"] is None or (year or 0) >= (cell["latest"][0] or 0):
            cell["latest"] = (year, shown, int(value is None and bool(value_text)))
    stating: dict[str, int] = {}
    for (indicator_id, _district), cell in cells.items():
        if cell["n_targets"]:
            stating[indicator_id] = stating.get(indicator_id, 0) + 1
    rows = []
    for indicator_id, name_zh, campaign in indicators:
        for district in districts:
            cell = cells.get((indicator_id, district))
            if cell is None:
                continue
            latest = cell["latest"]
            rows.append(
                {
                    "indicator_id": indicator_id,
                    "indicator_name": name_zh,
                    "campaign": campaign,
                    "district": district,
                    "states_target": 1 if cell["n_targets"] else 0,
                    "n_targets": cell["n_targets"],
                    "n_actuals": cell["n_actuals"],
                    "latest_target_year": latest[0] if latest else None,
                    "latest_target": latest[1] if latest else None,
                    "latest_qualitative": latest[2] if latest else None,
                    "values": "; ".join(cell["values"]) if cell["values"] else None,
                    "n_districts": stating.get(indicator_id, 0),
                }
            )
    rows.sort(key=lambda r: (-r["n_districts"], r["campaign"] or "", r["indicator_id"], r["district"]))
    return rows


def build_coverage(db: sqlite_utils.Database) -> int:
    """Write the ``coverage`` table (and an index on ``documents.district``); returns its rows."""
    rows = coverage_rows(db.conn)
    db[TABLE].create(COLUMNS, pk=("indicator_id", "district"))
    db[TABLE].insert_all(rows)
    # the canned query's order, read from the index instead of sorted per request
    db[TABLE].create_index([DescIndex("n_districts"), "campaign", "indicator_id", "district"])
    db[TABLE].create_index(["district", "indicator_id"])  # the coverage page: a page of districts
    db["documents"].create_index(["district"], if_not_exists=True)
    return len(rows)
