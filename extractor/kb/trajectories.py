"""Target trajectories: every actual and target of a district and indicator, across documents and
years, with each target's ambition and attainment (the ``trajectories`` table of kb.db).

A point is a ``targets`` row of kind ``actual`` or ``target`` with an indicator. Points are
compared only within one district, indicator and canonical unit (a % and a 万吨 never meet).

- **ambition** of a target: the change it asks from the latest earlier actual (year < target
  year; ties: the latest document), in the indicator's direction (data/indicators.yml
  ``direction``): ``ambition_abs`` > 0 asks an improvement, < 0 allows a worsening;
  ``ambition_rel`` is it over the actual. Without a direction the change is target − actual.
- **attainment**: against the first actual of a year >= the target year (``met``/``missed``),
  honouring the comparator: ``<=``/``<``/``>=``/``>`` are bounds (≤ 28: 28.0 met, 28.5 missed by
  0.5); ``=`` is met within rounding of the stated precision (= 5 holds 4.5 ≤ x < 5.5, = 5.2
  holds 5.15…5.25), and ``exceeded`` beyond that on the better side (达到30% against 58.6%, in a
  higher-is-better indicator); a range (value … value_max) is met inside it. ``~`` (约, 左右) is read as the
  bound in the indicator's direction with the rounding of ``=`` as slack (约 5, lower: met up
  to 5.5); without a direction it is ``=``. ``missed_by`` is how far past the bound (or off the
  stated value) the actual is, 0 when met.

Qualitative targets (value NULL) are points without ambition or attainment.
"""

from __future__ import annotations

import json
import operator
import re
from typing import Any

import sqlite_utils

from extractor.format import format_number, format_value
from extractor.lexicon.cues import load_indicators
from extractor.routes import clause_url

COLUMNS = {
    "id": str,
    "district": str,
    "indicator_id": str,
    "year": int,
    "kind": str,
    "value": float,
    "value_max": float,
    "comparator": str,
    "canonical_unit": str,
    "value_canonical": float,
    "value_max_canonical": float,
    "direction": str,
    "target_id": str,
    "clause_id": str,
    "document_id": str,
    "baseline_target_id": str,
    "baseline_year": int,
    "baseline_value": float,
    "ambition_abs": float,
    "ambition_rel": float,
    "outcome_target_id": str,
    "outcome_year": int,
    "outcome_value": float,
    "attainment": str,
    "missed_by": float,
}

_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def precision(value: float, surface: str | None = None) -> int:
    """Decimals stated for ``value``: from the number as written in ``surface`` when found there
    (5.0 -> 1), else from the value itself (28.0 -> 0, 5.25 -> 2)."""
    for m in _NUMBER.finditer(surface or ""):
        if abs(float(m.group()) - value) < 1e-9:
            return len(m.group().partition(".")[2])
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return len(text.partition(".")[2])


def ambition(target: float, actual: float, direction: str | None) -> tuple[float, float | None]:
    """(absolute, relative) change a target asks from an actual; positive = better."""
    change = target - actual
    if direction == "lower":
        change = -change
    rel = change / abs(actual) if actual else None
    return round(change, 6), (round(rel, 6) if rel is not None else None)


def attainment(
    comparator: str,
    target: float,
    actual: float,
    direction: str | None = None,
    value_max: float | None = None,
    decimals: int = 0,
) -> tuple[str, float]:
    """("met" | "exceeded" | "missed", missed_by) of an actual against a target (see the module doc)."""
    slack = 0.5 * 10**-decimals
    if value_max is not None:
        lo, hi = min(target, value_max), max(target, value_max)
        gap = lo - actual if actual < lo else actual - hi if actual > hi else 0.0
        return ("met" if gap <= 0 else "missed"), round(max(gap, 0.0), 6)
    if comparator == "~" and direction:
        comparator = "<=" if direction == "lower" else ">="
        target = target + slack if direction == "lower" else target - slack
        gap = actual - target if comparator == "<=" else target - actual
        return ("met" if gap <= 1e-9 else "missed"), round(max(gap, 0.0), 6)
    if comparator in ("<=", "<"):
        gap = actual - target
        met = gap <= 1e-9 if comparator == "<=" else gap < -1e-9
    elif comparator in (">=", ">"):
        gap = target - actual
        met = gap <= 1e-9 if comparator == ">=" else gap < -1e-9
    else:  # "=", "~" without a direction: within rounding of the stated precision
        gap = abs(actual - target)
        met = gap < slack - 1e-9 or (abs(gap - slack) < 1e-9 and actual < target)
        better = (direction == "lower" and actual < target) or (direction == "higher" and actual > target)
        if not met and better:
            return "exceeded", 0.0
        return ("met" if met else "missed"), (0.0 if met else round(gap, 6))
    return ("met" if met else "missed"), (0.0 if met else round(max(gap, 0.0), 6))


def _points(db: sqlite_utils.Database, districts: list[str] | None = None) -> list[dict]:
    where = (
        "" if districts is None else "and coalesce(d.district, d.city) in (select value from json_each(?))"
    )
    sql = f"""
        select t.id as target_id, coalesce(d.district, d.city) as district, t.indicator_id, t.year,
               t.kind, t.value, t.value_max, t.comparator, t.canonical_unit, t.value_canonical,
               t.surface, t.clause_id, t.document_id, coalesce(d.published, '') as published,
               t.rowid as _rowid
        from targets t join documents d on d.id = t.document_id
        where t.indicator_id is not null and t.kind in ('actual', 'target') and t.year is not null {where}
        order by district, t.indicator_id, t.year, t.kind, published, t.document_id, t.start, t.id
    """
    return list(db.query(sql, [] if districts is None else [json.dumps(districts)]))  # fresh dicts


def trajectory_rows(db: sqlite_utils.Database, districts: list[str] | None = None) -> list[dict[str, Any]]:
    """The rows of the ``trajectories`` table, ordered by district, indicator, year (only those
    of ``districts`` if given: a district's rows depend on its own points only). Each row's
    ``_rowid`` is its target's rowid."""
    directions = load_indicators().directions
    rows = []
    points = _points(db, districts)
    empty = dict.fromkeys(COLUMNS)
    shared = [k for k in COLUMNS if points and k in points[0]]  # every point has the same keys
    shared_values = operator.itemgetter(*shared) if len(shared) > 1 else None
    for p in points:
        factor = (
            (p["value_canonical"] / p["value"]) if p["value"] and p["value_canonical"] is not None else 1.0
        )
        row = empty.copy()  # {k: p.get(k) for k in COLUMNS}, in C
        if shared_values is not None:
            row.update(zip(shared, shared_values(p)))
        else:
            row.update((k, p[k]) for k in shared)
        row["id"] = p["target_id"]
        row["canonical_unit"] = p["canonical_unit"] or ""
        row["direction"] = directions.get(p["indicator_id"])
        row["value_max_canonical"] = p["value_max"] * factor if p["value_max"] is not None else None
        row["_decimals"] = precision(p["value"], p["surface"]) if p["value"] is not None else 0
        row["_published"] = p["published"]
        row["_rowid"] = p["_rowid"]
        rows.append(row)
    actuals: dict[tuple, list[dict]] = {}  # (district, indicator, unit) -> actuals, in row order
    for a in rows:
        if a["kind"] == "actual" and a["value_canonical"] is not None:
            actuals.setdefault((a["district"], a["indicator_id"], a["canonical_unit"]), []).append(a)
    for t in rows:
        if t["kind"] != "target" or t["value_canonical"] is None:
            continue
        same = actuals.get((t["district"], t["indicator_id"], t["canonical_unit"]), [])
        before = [a for a in same if a["year"] < t["year"]]
        if before:
            base = max(before, key=lambda a: (a["year"], a["_published"], a["document_id"]))
            asked = t["value_canonical"]
            if t["value_max_canonical"] is not None and t["direction"] == "lower":
                asked = max(asked, t["value_max_canonical"])
            t["baseline_target_id"], t["baseline_year"] = base["target_id"], base["year"]
            t["baseline_value"] = base["value_canonical"]
            t["ambition_abs"], t["ambition_rel"] = ambition(asked, base["value_canonical"], t["direction"])
        after = [a for a in same if a["year"] >= t["year"]]
        if after:
            out = min(after, key=lambda a: (a["year"], a["_published"], a["document_id"]))
            t["outcome_target_id"], t["outcome_year"] = out["target_id"], out["year"]
            t["outcome_value"] = out["value_canonical"]
            t["attainment"], t["missed_by"] = attainment(
                t["comparator"] or "=",
                t["value_canonical"],
                out["value_canonical"],
                t["direction"],
                t["value_max_canonical"],
                t["_decimals"],
            )
    for r in rows:
        del r["_decimals"], r["_published"]
    return rows


def fill_trajectories(db: sqlite_utils.Database, districts: list[str] | None = None) -> int:
    """Write the ``trajectories`` rows of ``districts`` (all with None) anew, each at its target's
    rowid (so a rebuild that recomputes a few districts writes the table a full build writes,
    rowids included); returns the rows written."""
    rows = trajectory_rows(db, districts)
    if districts is None:
        db.execute("delete from trajectories")
    else:
        db.execute(
            "delete from trajectories where district in (select value from json_each(?))",
            [json.dumps(districts)],
        )
    cols = list(COLUMNS)
    sql = (
        f"insert into trajectories (rowid, {', '.join(f'[{c}]' for c in cols)}) values (?{', ?' * len(cols)})"
    )
    rows.sort(key=lambda r: r["_rowid"])
    values = operator.itemgetter("_rowid", *cols)  # one C call a row (250,000 rows at 10,000 documents)
    db.conn.executemany(sql, map(values, rows))
    return len(rows)


def build_trajectories(db: sqlite_utils.Database) -> int:
    """Create and fill the ``trajectories`` table (called by store.write_db); returns its rows."""
    db["trajectories"].create(
        COLUMNS,
        pk="id",
        foreign_keys=[
            ("target_id", "targets", "id"),
            ("clause_id", "clauses", "id"),
            ("document_id", "documents", "id"),
            ("indicator_id", "indicators", "id"),
        ],
    )
    n = fill_trajectories(db)
    db["trajectories"].create_index(["district", "indicator_id"])
    return n


# -- reading the table (the CLI and the web pages) ------------------------------------------


def _query(conn, sql: str, params) -> list[dict]:
    cur = conn.execute(sql, list(params))
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


_LINE_SQL = """
    select tr.*, t.unit, t.value_text, t.surface, d.title, coalesce(cc.citation, d.title) as citation
    from trajectories tr
    join targets t on t.id = tr.target_id
    join documents d on d.id = tr.document_id
    left join clause_citations cc on cc.clause_id = tr.clause_id
"""


def _decorate(r: dict) -> dict:
    unit = r["canonical_unit"] or r.get("unit") or ""
    if r["value_canonical"] is None:
        r["display"] = (r.get("value_text") or "").strip() or "—"
    else:
        r["display"] = format_value(r["value_canonical"], r["value_max_canonical"], r["comparator"], unit)
    r["ambition_display"] = ambition_text(r)
    r["attainment_display"] = attainment_text(r)
    r["url"] = clause_url(r["clause_id"], r["target_id"])
    r["baseline_display"] = (
        f"{format_number(r['baseline_value'])} {unit}".strip() if r.get("baseline_value") is not None else ""
    )
    return r


def line(conn, district: str, indicator_id: str) -> list[dict]:
    """A district's points of one indicator, by year (actuals before targets of a year)."""
    rows = _query(
        conn,
        _LINE_SQL + " where tr.district = ? and tr.indicator_id = ?"
        " order by tr.canonical_unit, tr.year, tr.kind, tr.document_id, t.start",
        [district, indicator_id],
    )
    return [_decorate(r) for r in rows]


def ranking(conn, indicator_id: str) -> list[dict]:
    """Targets of one indicator with an ambition, most ambitious (relative, then absolute) first."""
    rows = _query(
        conn,
        _LINE_SQL + " where tr.indicator_id = ? and tr.ambition_abs is not null"
        " order by tr.canonical_unit, coalesce(tr.ambition_rel, tr.ambition_abs) desc,"
        " tr.ambition_abs desc, tr.district, tr.year",
        [indicator_id],
    )
    for n, r in enumerate(rows, 1):
        r["rank"] = n
    return [_decorate(r) for r in rows]


def ambition_text(r: dict) -> str:
    """``较2023年现状 29 改善 1（3.4%）`` — the change a target asks, or "" for none."""
    if r.get("ambition_abs") is None:
        return ""
    base = f"较{r['baseline_year']}年现状 {format_number(r['baseline_value'])}"
    amount = format_number(abs(r["ambition_abs"]))
    rel = f"（{abs(r['ambition_rel']) * 100:.1f}%）" if r.get("ambition_rel") is not None else ""
    if not r.get("direction"):
        return f"{base} 变化 {format_number(r['ambition_abs'])}{rel}"
    if r["ambition_abs"] > 0:
        return f"{base} 改善 {amount}{rel}"
    if r["ambition_abs"] < 0:
        return f"{base} 放宽 {amount}{rel}"
    return f"{base} 持平"


def attainment_text(r: dict) -> str:
    """``2024年实际 28.5：未达标，差 0.5`` / ``…：达标`` — or "" without a later actual."""
    if not r.get("attainment"):
        return ""
    head = f"{r['outcome_year']}年实际 {format_number(r['outcome_value'])}："
    if r["attainment"] == "met":
        return head + "达标 met"
    if r["attainment"] == "exceeded":
        return head + "超额完成 exceeded"
    return head + f"未达标 missed，差 {format_number(r['missed_by'])}"
