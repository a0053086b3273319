"""The ambition page /-/ambition/<indicator>: every district's targets of one indicator that have
an earlier actual, ranked by the change they ask (:mod:`extractor.kb.trajectories`), with their
attainment; the context and the CSV/XLSX rows (plain functions over an open connection)."""

from __future__ import annotations

from extractor.kb.trajectories import ranking
from extractor.routes import compare_url
from extractor.sqlite import sqlite3

EXPORT_HEADERS = [
    "排名 rank",
    "地区 district",
    "指标标识 indicator_id",
    "目标年份 target year",
    "目标 target",
    "基准年份 baseline year",
    "基准现状 baseline actual",
    "改善幅度 ambition (absolute, + = better)",
    "相对幅度 ambition (relative)",
    "标准单位 canonical_unit",
    "方向 direction",
    "实际年份 outcome year",
    "实际值 outcome",
    "是否达标 attainment",
    "差距 missed by",
    "引用 citation",
    "链接 clause_url",
]


def ambition_context(conn: sqlite3.Connection, indicator_id: str) -> dict | None:
    """The indicator and its ranked targets (None if the indicator is unknown)."""
    cur = conn.execute(
        "select id, name_zh, name_en, canonical_unit from indicators where id = ?", [indicator_id]
    )
    found = cur.fetchone()
    if not found:
        return None
    indicator = dict(zip(["id", "name_zh", "name_en", "canonical_unit"], found))
    rows = ranking(conn, indicator_id)
    for r in rows:
        r["compare_url"] = compare_url(indicator_id, r["district"])
    return {"indicator": indicator, "rows": rows, "compare_url": compare_url(indicator_id)}


def export_rows(rows: list[dict], base_url: str = "") -> list[list]:
    """One line per ranked target, in EXPORT_HEADERS order."""
    return [
        [
            r["rank"],
            r["district"],
            r["indicator_id"],
            r["year"],
            r["display"],
            r["baseline_year"],
            r["baseline_value"],
            r["ambition_abs"],
            r["ambition_rel"],
            r["canonical_unit"],
            r["direction"] or "",
            r["outcome_year"],
            r["outcome_value"],
            r["attainment"] or "",
            r["missed_by"],
            r["citation"],
            base_url + r["url"] if r["url"] else "",
        ]
        for r in rows
    ]
