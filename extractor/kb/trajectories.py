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


_ORDER = "district, t.indicator_id, t.year, t.kind, published, t.document_id, t.start, t.id"
_DISTRICT = "coalesce(d.district, d.city)"
_FROM = "from targets t join documents d on d.id = t.document_id"
# (``+``: no index of these columns; a rebuild's points are found by their documents)
_POINT = "+t.indicator_id is not null and +t.kind in ('actual', 'target') and +t.year is not null"
# a point's canonical maximum: value_max in the canonical unit (its value's factor), as
# value_max * (value_canonical / value) in Python floats
_VALUE_MAX_CANONICAL = """
    case when t.value_max is null then null
         when t.value <> 0 and t.value_canonical is not null then t.value_max * (t.value_canonical / t.value)
         else t.value_max * 1.0 end
"""
# what a target's baseline and outcome write (the rest of a row is its target's, copied in SQL)
_COMPUTED = (
    "baseline_target_id",
    "baseline_year",
    "baseline_value",
    "ambition_abs",
    "ambition_rel",
    "outcome_target_id",
    "outcome_year",
    "outcome_value",
    "attainment",
    "missed_by",
)

# each column of a row, in SQL (the computed ones from the temporary table of them)
_SELECTED = {
    "id": "t.id",
    "district": _DISTRICT,
    "indicator_id": "t.indicator_id",
    "year": "t.year",
    "kind": "t.kind",
    "value": "t.value",
    "value_max": "t.value_max",
    "comparator": "t.comparator",
    "canonical_unit": "coalesce(t.canonical_unit, '')",
    "value_canonical": "t.value_canonical",
    "value_max_canonical": _VALUE_MAX_CANONICAL,
    "direction": "dir.direction",
    "target_id": "t.id",
    "clause_id": "t.clause_id",
    "document_id": "t.document_id",
    **{c: f"c.{c}" for c in _COMPUTED},
}


def _where(districts: list[str] | None) -> tuple[str, list]:
    if districts is None:
        return "", []
    # (their documents first: each one's targets by the document_id index, not every target)
    return (
        "and t.document_id in (select id from documents where coalesce(district, city) in"
        " (select value from json_each(?)))",
        [json.dumps(districts)],
    )


def _compared_points(conn, districts: list[str] | None = None) -> list[dict]:
    """The points with a canonical value (what baselines and outcomes are computed from), in
    the order of ``district, indicator, year, kind, published, document, start``."""
    where, params = _where(districts)
    sql = f"""
        select t.rowid as _rowid, t.id as target_id, {_DISTRICT} as district, t.indicator_id, t.year,
               t.kind, t.value, t.comparator, coalesce(t.canonical_unit, '') as canonical_unit,
               t.value_canonical, {_VALUE_MAX_CANONICAL} as value_max_canonical, t.surface,
               t.document_id, coalesce(d.published, '') as published
        {_FROM} where {_POINT} and t.value_canonical is not null {where}
        order by {_ORDER}
    """
    return _query(conn, sql, params)


def computed_rows(conn, districts: list[str] | None = None) -> dict[int, dict[str, Any]]:
    """Each target's baseline, ambition, outcome and attainment (the columns of
    :data:`_COMPUTED` it has), by its rowid; only targets with a baseline or an outcome (only
    those of ``districts`` if given: a district's rows depend on its own points only)."""
    directions = load_indicators().directions
    points = _compared_points(conn, districts)
    actuals: dict[tuple, list[dict]] = {}  # (district, indicator, unit) -> actuals, in point order
    for a in points:
        if a["kind"] == "actual":
            actuals.setdefault((a["district"], a["indicator_id"], a["canonical_unit"]), []).append(a)
    out: dict[int, dict[str, Any]] = {}
    for t in points:
        if t["kind"] != "target":
            continue
        same = actuals.get((t["district"], t["indicator_id"], t["canonical_unit"]))
        if not same:
            continue
        row: dict[str, Any] = {}
        direction = directions.get(t["indicator_id"])
        before = [a for a in same if a["year"] < t["year"]]
        if before:
            base = max(before, key=lambda a: (a["year"], a["published"], a["document_id"]))
            asked = t["value_canonical"]
            if t["value_max_canonical"] is not None and direction == "lower":
                asked = max(asked, t["value_max_canonical"])
            row["baseline_target_id"], row["baseline_year"] = base["target_id"], base["year"]
            row["baseline_value"] = base["value_canonical"]
            row["ambition_abs"], row["ambition_rel"] = ambition(asked, base["value_canonical"], direction)
        after = [a for a in same if a["year"] >= t["year"]]
        if after:
            outcome = min(after, key=lambda a: (a["year"], a["published"], a["document_id"]))
            row["outcome_target_id"], row["outcome_year"] = outcome["target_id"], outcome["year"]
            row["outcome_value"] = outcome["value_canonical"]
            row["attainment"], row["missed_by"] = attainment(
                t["comparator"] or "=",
                t["value_canonical"],
                outcome["value_canonical"],
                direction,
                t["value_max_canonical"],
                precision(t["value"], t["surface"]) if t["value"] is not None else 0,
            )
        if row:
            out[t["_rowid"]] = row
    return out


def fill_trajectories(db: sqlite_utils.Database, districts: list[str] | None = None) -> int:
    """Write the ``trajectories`` rows of ``districts`` (all with None) anew, each at its target's
    rowid (so a rebuild that recomputes a few districts writes the table a full build writes,
    rowids included); returns the rows written. A row is its target's columns, copied in SQL,
    plus what :func:`computed_rows` computes for it (bound from Python: about a fifth of the
    rows and 10 of the 25 columns; binding every value of 250,000 rows took 6–8 s at 10,000
    documents)."""
    conn = db.conn
    computed = computed_rows(conn, districts)
    where, params = _where(districts)
    if districts is None:
        conn.execute("delete from trajectories")
    else:
        conn.execute("delete from trajectories where district in (select value from json_each(?))", params)
    conn.execute(
        f"create temp table _trajectory_computed (target_rowid integer primary key, {', '.join(_COMPUTED)})"
    )
    conn.execute("create temp table _trajectory_direction (indicator_id text primary key, direction text)")
    try:
        values = operator.itemgetter(*_COMPUTED)
        conn.executemany(
            f"insert into temp._trajectory_computed values (?{', ?' * len(_COMPUTED)})",
            ((rowid, *values(dict.fromkeys(_COMPUTED) | row)) for rowid, row in computed.items()),
        )
        conn.executemany(
            "insert into temp._trajectory_direction values (?, ?)", load_indicators().directions.items()
        )
        cur = conn.execute(
            f"""insert into trajectories (rowid, {", ".join(f"[{c}]" for c in COLUMNS)})
            select t.rowid, {", ".join(_SELECTED[c] for c in COLUMNS)}
            {_FROM}
            left join temp._trajectory_computed c on c.target_rowid = t.rowid
            left join temp._trajectory_direction dir on dir.indicator_id = t.indicator_id
            where {_POINT} {where}
            order by t.rowid""",
            params,
        )
        return cur.rowcount
    finally:
        conn.execute("drop table temp._trajectory_computed")
        conn.execute("drop table temp._trajectory_direction")


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
