"""Policy diffusion at request time: "the same measure elsewhere" on a clause page and the
diffusion page ``/-/diffusion`` (measure clusters by the number of districts that state them).

Plain functions over an open ``sqlite3.Connection`` to kb.db (``similar_clauses`` is built by
:mod:`extractor.kb.similar`). The shared wording of two clauses is marked on both sides with
``difflib.SequenceMatcher`` on characters: ``<mark>`` goes on the *common* blocks (the wording
that travelled); what is left unmarked is what the other document changed.
"""

from __future__ import annotations

import html
from difflib import SequenceMatcher

from extractor.kb.similar import cluster_edges, clusters
from extractor.routes import clause_url, district_url
from extractor.sqlite import sqlite3

MIN_BLOCK = 2  # a common run of one character (的, 和) is no shared wording

PANEL_HEADERS = [
    "措施簇 cluster",
    "簇内地区数 districts in cluster",
    "首次出现 first appearance",
    "地区 district",
    "文件 document",
    "日期 date",
    "年份 year",
    "条款 clause",
    "条款原文 clause text",
    "链接 link",
]


def _has_table(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute("select 1 from sqlite_master where name = 'similar_clauses'").fetchone())


def shared_blocks(a: str, b: str, min_len: int = MIN_BLOCK) -> list[tuple[int, int, int]]:
    """Common blocks (start in a, start in b, length) of at least ``min_len`` characters."""
    sm = SequenceMatcher(None, a, b, autojunk=False)
    return [(m.a, m.b, m.size) for m in sm.get_matching_blocks() if m.size >= min_len]


def mark_shared(a: str, b: str) -> tuple[str, str]:
    """HTML of both texts with their shared wording in ``<mark class="shared">``."""
    blocks = shared_blocks(a, b)

    def render(text: str, spans: list[tuple[int, int]]) -> str:
        out, pos = [], 0
        for s, e in spans:
            out.append(html.escape(text[pos:s]))
            out.append(f'<mark class="shared">{html.escape(text[s:e])}</mark>')
            pos = e
        return "".join(out) + html.escape(text[pos:])

    return (
        render(a, [(x, x + n) for x, _, n in blocks]),
        render(b, [(y, y + n) for _, y, n in blocks]),
    )


def _doc_date(published: str | None, year: int | None) -> str:
    return published or (f"{year}年" if year else "")


def same_measure_elsewhere(conn: sqlite3.Connection, clause_id: str) -> list[dict]:
    """The clause's similar clauses of other documents, best first, both sides marked."""
    if not _has_table(conn):
        return []
    rows = conn.execute(
        """select s.other_clause_id, s.score, s.method, c.text, o.text, d.id, d.district, d.title,
                  d.published, d.year
           from similar_clauses s join clauses c on c.id = s.clause_id
           join clauses o on o.id = s.other_clause_id join documents d on d.id = o.document_id
           where s.clause_id = ? order by s.score desc, s.other_clause_id""",
        [clause_id],
    ).fetchall()
    out = []
    for other, score, method, text, other_text, doc_id, district, title, published, year in rows:
        mine, theirs = mark_shared(text, other_text)
        out.append(
            {
                "clause_id": other,
                "url": clause_url(other),
                "score": score,
                "score_pct": f"{score * 100:.0f}%",
                "method": method,
                "district": district,
                "district_url": district_url(district) if district else None,
                "document_id": doc_id,
                "title": title or doc_id,
                "date": _doc_date(published, year),
                "mine_html": mine,
                "theirs_html": theirs,
            }
        )
    return out


def diffusion_context(conn: sqlite3.Connection) -> dict:
    """Measure clusters (connected components of mutually most similar pairs), most districts first; each
    with its members (district, document, date, clause) and first appearance."""
    if not _has_table(conn):
        return {"clusters": [], "n_pairs": 0}
    rows = conn.execute("select clause_id, other_clause_id, score from similar_clauses").fetchall()
    pairs = cluster_edges(rows)
    info = {
        r[0]: r
        for r in conn.execute(
            """select c.id, c.text, d.id, d.district, d.title, d.published, d.year
               from clauses c join documents d on d.id = c.document_id
               where c.id in (select clause_id from similar_clauses)"""
        )
    }
    out = []
    for members in clusters(pairs):
        items = []
        for cid in members:
            _, text, doc_id, district, title, published, year = info[cid]
            items.append(
                {
                    "clause_id": cid,
                    "url": clause_url(cid),
                    "text": text,
                    "document_id": doc_id,
                    "title": title or doc_id,
                    "district": district or "",
                    "district_url": district_url(district) if district else None,
                    "date": _doc_date(published, year),
                    "sort_date": published or (f"{year:04d}" if year else "9999"),
                    "year": int(published[:4]) if published else year,
                }
            )
        items.sort(key=lambda i: (i["sort_date"], i["district"], i["clause_id"]))
        districts = sorted({i["district"] for i in items})
        out.append(
            {
                "members": items,
                "districts": districts,
                "n_districts": len(districts),
                "first": items[0],
                "label": min((i["text"] for i in items), key=len),
            }
        )
    out.sort(
        key=lambda c: (
            -c["n_districts"],
            -len(c["members"]),
            c["first"]["sort_date"],
            c["members"][0]["clause_id"],
        )
    )
    for n, c in enumerate(out, 1):
        c["id"] = f"M{n:03d}"
    return {"clusters": out, "n_pairs": len(rows) // 2}


def diffusion_panel_rows(context: dict, site_root: str) -> list[list]:
    """One row per cluster member: the panel for an event-history model."""
    rows = []
    for c in context["clusters"]:
        first = c["first"]["date"]
        for m in c["members"]:
            rows.append(
                [
                    c["id"],
                    c["n_districts"],
                    first,
                    m["district"],
                    m["title"],
                    m["date"],
                    m["year"],
                    m["clause_id"],
                    m["text"],
                    site_root.rstrip("/") + m["url"],
                ]
            )
    return rows
