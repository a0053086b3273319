"""Who does what by when, as pages: the 责任单位 / 完成时限 block of a clause page and the units
page ``/-/units?district=`` (a unit x campaign matrix of lead / partner counts, the task list
under it, CSV / XLSX downloads). Plain functions: SQL over kb.db -> a page's context."""

from __future__ import annotations

from typing import Any

from extractor.routes import clause_url, district_url, units_url
from extractor.sqlite import sqlite3

ROLE_LABELS = {"lead": "牵头 lead", "partner": "配合 partner"}
PRECISION_LABELS = {
    "day": "日 day",
    "month": "月 month",
    "quarter": "季度 quarter",
    "half": "半年 half",
    "year": "年 year",
    "ongoing": "持续 ongoing",
}
EXPORT_HEADERS = [
    "地区 district",
    "文件 document",
    "条款 clause_id",
    "领域 campaign",
    "任务 task",
    "角色 role",
    "单位（原文） unit as written",
    "单位（归一） unit",
    "完成时限 deadline",
    "精度 precision",
    "时限原文 deadline as written",
    "链接 link",
]


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def has_duties(conn: sqlite3.Connection) -> bool:
    """kb.db of schema 4 or later (an older kb.db has no responsibilities table)."""
    return bool(conn.execute("select 1 from sqlite_master where name = 'responsibilities'").fetchone())


def clause_duties(conn: sqlite3.Connection, clause_id: str) -> dict[str, list[dict]]:
    """The clause page's block: its lead and partner units and its deadlines."""
    if not has_duties(conn):
        return {"lead": [], "partner": [], "deadlines": []}
    units = _rows(
        conn,
        "select role, unit, unit_normalized from responsibilities where clause_id = ? order by start",
        [clause_id],
    )
    deadlines = _rows(
        conn, "select date, precision, surface from deadlines where clause_id = ? order by start", [clause_id]
    )
    for d in deadlines:
        d["precision_label"] = PRECISION_LABELS.get(d["precision"], d["precision"])
    return {
        "lead": [u for u in units if u["role"] == "lead"],
        "partner": [u for u in units if u["role"] == "partner"],
        "deadlines": deadlines,
    }


def _task_rows(conn: sqlite3.Connection, district: str) -> list[dict]:
    """One row per (clause, unit) of the district's documents, with the clause's deadlines."""
    rows = _rows(
        conn,
        """select r.clause_id, r.role, r.unit, r.unit_normalized, c.text, c.campaign, c.seq,
                  cp.name_zh as campaign_name, d.id as document_id, d.title, d.year, d.district,
                  (select group_concat(coalesce(dl.date, ''), '；') from deadlines dl
                     where dl.clause_id = r.clause_id) as dates,
                  (select group_concat(dl.precision, '；') from deadlines dl
                     where dl.clause_id = r.clause_id) as precisions,
                  (select group_concat(dl.surface, '；') from deadlines dl
                     where dl.clause_id = r.clause_id) as deadline_text
           from responsibilities r
           join clauses c on c.id = r.clause_id
           join documents d on d.id = r.document_id
           left join campaigns cp on cp.id = c.campaign
           where d.district = ?
           order by d.year, d.id, c.seq, r.start""",
        [district],
    )
    for r in rows:
        r["url"] = clause_url(r["clause_id"])
        r["role_label"] = ROLE_LABELS.get(r["role"], r["role"])
    return rows


def units_index(conn: sqlite3.Connection) -> list[dict]:
    """Districts with responsibilities: how many units, lead and partner mentions."""
    if not has_duties(conn):
        return []
    rows = _rows(
        conn,
        """select d.district, count(distinct r.unit_normalized) as n_units,
                  sum(r.role = 'lead') as n_lead, sum(r.role = 'partner') as n_partner,
                  count(distinct r.clause_id) as n_clauses
           from responsibilities r join documents d on d.id = r.document_id
           group by d.district order by d.district""",
    )
    for r in rows:
        r["url"] = units_url(r["district"])
    return rows


def units_context(
    conn: sqlite3.Connection,
    district: str,
    unit: str | None = None,
    campaign: str | None = None,
    role: str | None = None,
) -> dict[str, Any] | None:
    """The units page of a district: the matrix (units as rows, campaigns as columns, lead and
    partner counts linking to the tasks) and the task list, narrowed by unit / campaign / role.
    None if the district is unknown."""
    if not conn.execute("select 1 from documents where district = ?", [district]).fetchone():
        return None
    rows = _task_rows(conn, district) if has_duties(conn) else []
    order = [c for (c,) in conn.execute("select id from campaigns order by rowid")]
    names = dict(conn.execute("select id, name_zh from campaigns").fetchall())
    present = sorted({r["campaign"] for r in rows}, key=order.index)
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        cell = counts.setdefault(r["unit_normalized"], {}).setdefault(
            r["campaign"], {"lead": 0, "partner": 0}
        )
        cell[r["role"]] += 1
    units = sorted(
        counts,
        key=lambda u: (
            -sum(c["lead"] for c in counts[u].values()),
            -sum(c["lead"] + c["partner"] for c in counts[u].values()),
            u,
        ),
    )
    matrix = []
    for u in units:
        cells = []
        for c in present:
            cell = counts[u].get(c, {"lead": 0, "partner": 0})
            cells.append(
                {
                    "campaign": c,
                    "lead": cell["lead"],
                    "partner": cell["partner"],
                    "lead_url": units_url(district, unit=u, campaign=c, role="lead") + "#tasks",
                    "partner_url": units_url(district, unit=u, campaign=c, role="partner") + "#tasks",
                }
            )
        matrix.append(
            {
                "unit": u,
                "url": units_url(district, unit=u) + "#tasks",
                "written": sorted({r["unit"] for r in rows if r["unit_normalized"] == u}),
                "n_lead": sum(c["lead"] for c in cells),
                "n_partner": sum(c["partner"] for c in cells),
                "cells": cells,
            }
        )
    shown = [
        r
        for r in rows
        if (not unit or r["unit_normalized"] == unit)
        and (not campaign or r["campaign"] == campaign)
        and (not role or r["role"] == role)
    ]
    return {
        "district": district,
        "task_groups": _group_by_clause(rows, shown),
        "district_url": district_url(district),
        "campaigns": [{"id": c, "name_zh": names.get(c, c)} for c in present],
        "matrix": matrix,
        "tasks": shown,
        "n_tasks": len({r["clause_id"] for r in rows}),
        "filters": {k: v for k, v in (("unit", unit), ("campaign", campaign), ("role", role)) if v},
        "filter_labels": [
            v
            for v in (unit, names.get(campaign, campaign) if campaign else None, ROLE_LABELS.get(role or ""))
            if v
        ],
        "all_url": units_url(district) + "#tasks",
    }


def _group_by_clause(rows: list[dict], shown: list[dict]) -> list[dict]:
    """One entry per task shown (a clause), with all its lead and partner units."""
    wanted = {r["clause_id"] for r in shown}
    groups: dict[str, dict] = {}
    for r in rows:
        if r["clause_id"] not in wanted:
            continue
        g = groups.setdefault(
            r["clause_id"],
            {
                "clause_id": r["clause_id"],
                "url": r["url"],
                "text": " · ".join(p.strip() for p in r["text"].split("\t") if p.strip()),
                "campaign_name": r["campaign_name"],
                "year": r["year"],
                "deadline_text": r["deadline_text"],
                "dates": r["dates"],
                "lead": [],
                "partner": [],
            },
        )
        g[r["role"]].append(r["unit"])
    return list(groups.values())


def export_rows(context: dict[str, Any], site_root: str) -> list[list[Any]]:
    """The task list as download rows (EXPORT_HEADERS)."""
    root = site_root.rstrip("/")
    return [
        [
            r["district"],
            r["title"],
            r["clause_id"],
            r["campaign_name"],
            r["text"],
            r["role"],
            r["unit"],
            r["unit_normalized"],
            r["dates"] or "",
            r["precisions"] or "",
            r["deadline_text"] or "",
            root + r["url"],
        ]
        for r in context["tasks"]
    ]
