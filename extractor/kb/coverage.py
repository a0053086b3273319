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

import json
from typing import Any

import sqlite_utils
from sqlite_utils.db import DescIndex

from extractor.format import format_value
from extractor.sqlite import sqlite3

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
where t.indicator_id is not null and t.kind in ('target', 'actual') and d.district is not null{where}
order by d.district, coalesce(t.year, d.year),
  case t.kind when 'target' then 0 else 1 end, t.document_id, t.start, t.id
"""


def _display(value, value_max, comparator, unit, value_text) -> str:
    if value is None and value_text:
        return value_text
    return format_value(value, value_max, comparator, unit)


def coverage_rows(conn: sqlite3.Connection, districts: list[str] | None = None) -> list[dict[str, Any]]:
    """Every non-empty indicator x district cell (see the module's docstring), ordered as the
    canned query lists them: most districts stating a target first, then campaign, indicator,
    district. With ``districts``, only their cells (a cell depends on its district's values
    only; ``n_districts`` then counts those districts alone: :func:`fill_coverage` sets it)."""
    some = "" if districts is None else " and district in (select value from json_each(?))"
    params = [] if districts is None else [json.dumps(districts)]
    districts = [
        r[0]
        for r in conn.execute(
            f"select distinct district from documents where district is not null{some} order by district",
            params,
        )
    ]
    indicators = conn.execute("select id, name_zh, campaign from indicators order by id").fetchall()
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    values = _VALUES.format(where=some.replace("district", "d.district", 1))
    for indicator_id, district, kind, year, value, value_max, comparator, unit, value_text in conn.execute(
        values, params
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


INDICATOR_BITS = 12  # a cell's rowid: its district's first document rowid << 12 | its indicator's position


def fill_coverage(db: sqlite_utils.Database, districts: list[str] | None = None) -> int:
    """Write the cells of ``districts`` (all with None) anew and then every indicator's
    ``n_districts``; returns the cells written. A cell's rowid depends on its district's
    documents and its indicator only (the smallest rowid of the district's documents, shifted,
    plus the indicator's position in id order), so a rebuild that recomputes a few districts
    writes the table a full build writes, rowids included."""
    rows = coverage_rows(db.conn, districts)
    position = {i: n for n, (i,) in enumerate(db.execute("select id from indicators order by id"))}
    if len(position) >= 1 << INDICATOR_BITS:
        raise ValueError(f"more than {1 << INDICATOR_BITS} indicators")
    first = dict(
        db.execute("select district, min(rowid) from documents where district is not null group by district")
    )
    if districts is None:
        db.execute(f"delete from [{TABLE}]")
    else:
        db.execute(
            f"delete from [{TABLE}] where district in (select value from json_each(?))",
            [json.dumps(districts)],
        )
    cols = list(COLUMNS)
    sql = f"insert into [{TABLE}] (rowid, {', '.join(f'[{c}]' for c in cols)}) values (?{', ?' * len(cols)})"
    keyed = sorted(((first[r["district"]] << INDICATOR_BITS) | position[r["indicator_id"]], r) for r in rows)
    db.conn.executemany(sql, ([k, *(r[c] for c in cols)] for k, r in keyed))
    if districts is not None:  # how many districts state a target, for every indicator
        stating = dict(
            db.execute(f"select indicator_id, count(*) from [{TABLE}] where states_target = 1 group by 1")
        )
        db.conn.executemany(
            f"update [{TABLE}] set n_districts = ? where indicator_id = ? and n_districts != ?",
            ((stating.get(i, 0), i, stating.get(i, 0)) for i in position),
        )
    return len(rows)


def build_coverage(db: sqlite_utils.Database) -> int:
    """Write the ``coverage`` table (and an index on ``documents.district``); returns its rows."""
    db[TABLE].create(COLUMNS, pk=("indicator_id", "district"))
    n = fill_coverage(db)
    # the canned query's order, read from the index instead of sorted per request
    db[TABLE].create_index([DescIndex("n_districts"), "campaign", "indicator_id", "district"])
    db[TABLE].create_index(["district", "indicator_id"])  # the coverage page: a page of districts
    db["documents"].create_index(["district"], if_not_exists=True)
    return n
