"""Plain functions behind the plugin's pages: SQL over kb.db -> template context.

Every function takes an open ``sqlite3.Connection`` to kb.db (the one Datasette hands to
``db.execute_fn``) and returns plain dicts, so they are unit-tested without HTTP. Links are
relative to the site root (:mod:`extractor.routes`); the views prefix Datasette's ``base_url``.
Values are written by :func:`extractor.format.format_value`, as on every other surface.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterable
from typing import Any

from extractor.format import format_value
from extractor.kb.citations import book_title
from extractor.routes import clause_url, compare_url
from extractor.web.search import match_spans

KIND_LABELS = {"target": "目标", "actual": "现状", "scope": "范围", "condition": "条件"}
KIND_COLORS = {"target": "#2f6f9f", "actual": "#a3a3a3", "scope": "#7fb07f", "condition": "#d9a441"}
HTML_TAGS_ALLOWED = re.compile(r"(</?mark(?: class=\"[\w -]*\")?>)")


# -- small formatting helpers ---------------------------------------------------------------


def _rows(conn: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> list[dict]:
    cur = conn.execute(sql, tuple(params))
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def safe_mark_html(value: str) -> str:
    """Re-escape a snippet so that only ``<mark>`` tags survive (cells must not carry HTML
    from arbitrary SQL)."""
    parts = HTML_TAGS_ALLOWED.split(value)
    return "".join(
        part if HTML_TAGS_ALLOWED.fullmatch(part) else html.escape(html.unescape(part)) for part in parts
    )


def mark_classed(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """HTML of ``text`` with ``<mark class=...>`` around spans; an overlapping later span is
    dropped, so list the most important spans first."""
    kept: list[tuple[int, int, str]] = []
    for s, e, cls in spans:
        s, e = max(0, s), min(len(text), e)
        if e > s and all(e <= ks or s >= ke for ks, ke, _ in kept):
            kept.append((s, e, cls))
    out, pos = [], 0
    for s, e, cls in sorted(kept):
        out.append(html.escape(text[pos:s]))
        out.append(f'<mark class="{html.escape(cls)}">{html.escape(text[s:e])}</mark>')
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out)


# -- comparison pages -----------------------------------------------------------------------


def indicator_index(conn: sqlite3.Connection) -> list[dict]:
    """Indicators with how many targets and districts state them, most covered first."""
    rows = _rows(
        conn,
        """
        select i.id, i.name_zh, i.name_en, i.campaign, i.canonical_unit,
          count(t.id) as n_targets,
          count(distinct case when t.kind = 'target' then d.district end) as n_districts,
          group_concat(distinct case when t.kind = 'target' then d.district end) as districts
        from indicators i
        left join targets t on t.indicator_id = i.id
        left join documents d on d.id = t.document_id
        group by i.id
        order by n_districts desc, n_targets desc, i.campaign, i.id
        """,
    )
    for r in rows:
        r["url"] = compare_url(r["id"])
    return rows


def compare_rows(conn: sqlite3.Connection, indicator_id: str) -> list[dict]:
    """All statements of one indicator, one per district, document and year (a target before
    an actual value), with display fields (``display``, ``kind_label``, ``url``,
    ``excerpt_html``)."""
    rows = _rows(
        conn,
        """
        select tc.*, c.start as clause_start from target_citations tc
        left join clauses c on c.id = tc.clause_id
        where tc.indicator_id = ?
        order by tc.district, coalesce(tc.year, tc.document_year), tc.document_id,
          case tc.kind when 'target' then 0 when 'actual' then 1 else 2 end, tc.start
        """,
        [indicator_id],
    )
    seen: set[tuple] = set()
    out = []
    for r in rows:  # one row per district, document and year (as compare_indicator)
        key = (r["district"], r["document_id"], r["year"])
        if key in seen:
            continue
        seen.add(key)
        r["display"] = format_value(r["value"], r["value_max"], r["comparator"], r["unit"])
        r["kind_label"] = KIND_LABELS.get(r["kind"], r["kind"])
        r["url"] = clause_url(r["clause_id"], r["target_id"]) if r["clause_id"] else None
        r["excerpt_html"] = quantity_excerpt(r)
        out.append(r)
    return out


def quantity_excerpt(row: dict, width: int = 90) -> str:
    """HTML excerpt of the row's clause around its quantity, the quantity in ``<mark>``."""
    text = row.get("clause") or ""
    span = None
    if row.get("clause_start") is not None and row.get("start") is not None:
        s, e = row["start"] - row["clause_start"], row["end"] - row["clause_start"]
        if 0 <= s < e <= len(text):
            span = (s, e)
    if span is None and row.get("surface") and row["surface"] in text:
        s = text.index(row["surface"])
        span = (s, s + len(row["surface"]))
    if span is None:
        return html.escape(text if len(text) <= width else text[:width] + "…")
    start = max(0, min(span[0] - width // 3, len(text) - width))
    end = min(len(text), max(start + width, span[1]))
    body = mark_classed(text[start:end], [(span[0] - start, span[1] - start, "quantity")])
    return ("…" if start else "") + body + ("…" if end < len(text) else "")


def chart_spec(indicator: dict, rows: list[dict], base_url: str = "/") -> dict:
    """A Vega-Lite bar chart of the rows' values: one bar per district/year/kind, coloured by
    kind, each bar linking to its clause."""
    values = [
        {
            "label": f"{r['district']} {r['year'] or ''}".strip(),
            "district": r["district"],
            "year": r["year"],
            "value": r["value"],
            "display": r["display"],
            "kind": r["kind_label"],
            "href": base_url.rstrip("/") + r["url"] if r["url"] else None,
        }
        for r in rows
        if r["value"] is not None
    ]
    unit = rows[0]["unit"] if rows else indicator.get("canonical_unit") or ""
    kinds = {r["kind"] for r in rows if r["value"] is not None}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": 260,
        "background": "transparent",
        "data": {"values": values},
        "encoding": {
            "x": {
                "field": "label",
                "type": "nominal",
                "sort": None,
                "title": None,
                "axis": {"labelAngle": 0, "labelFontSize": 13},
            },
            "y": {"field": "value", "type": "quantitative", "title": unit},
        },
        "layer": [
            {
                "mark": {"type": "bar", "cornerRadiusEnd": 3, "cursor": "pointer", "width": {"band": 0.6}},
                "encoding": {
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "title": None,
                        "scale": {
                            "domain": [KIND_LABELS[k] for k in KIND_LABELS if k in kinds],
                            "range": [KIND_COLORS[k] for k in KIND_LABELS if k in kinds],
                        },
                        "legend": {"orient": "top"},
                    },
                    "href": {"field": "href"},
                    "tooltip": [
                        {"field": "district", "title": "地区"},
                        {"field": "year", "title": "年份"},
                        {"field": "kind", "title": "类型"},
                        {"field": "display", "title": "数值"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "dy": -8, "fontSize": 13, "fontWeight": "bold"},
                "encoding": {"text": {"field": "display"}},
            },
        ],
        "config": {
            "font": "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif",
            "view": {"stroke": None},
        },
    }


def compare_context(conn: sqlite3.Connection, indicator_id: str, base_url: str = "/") -> dict | None:
    """Everything the comparison page shows for one indicator, or None if it is unknown."""
    found = _rows(conn, "select * from indicators where id = ?", [indicator_id])
    if not found:
        return None
    indicator = found[0]
    rows = compare_rows(conn, indicator_id)
    all_districts = [
        r["district"]
        for r in _rows(
            conn, "select distinct district from documents where district is not null order by district"
        )
    ]
    stating = {r["district"] for r in rows if r["kind"] == "target"}
    return {
        "indicator": indicator,
        "rows": rows,
        "districts_without": [d for d in all_districts if d not in stating],
        "chart": chart_spec(indicator, rows, base_url),
    }


# -- clause page ----------------------------------------------------------------------------


def _target_span(clause: dict, target: dict, doc_text: str | None) -> tuple[int, int] | None:
    """The target's quantity as offsets into ``clause['text']`` (documents.text[start:end])."""
    start, end = target["start"] - clause["start"], target["end"] - clause["start"]
    text = clause["text"]
    if 0 <= start < end <= len(text) and (
        doc_text is None or doc_text[target["start"] : target["end"]] == text[start:end]
    ):
        return start, end
    surface = target.get("surface") or ""
    pos = text.find(surface) if surface else -1
    return (pos, pos + len(surface)) if pos >= 0 else None


_PHRASE_END = re.compile(r"[，。；;：！!？?\n]|[,:](?!\d)")  # not the comma of 1,730


def quoted_phrase(text: str, span: tuple[int, int] | None, most: int = 120) -> str:
    """What a citation quotes: the phrase of ``text`` around ``span`` (between the
    punctuation before and after it, e.g. PM2.5年均浓度控制在28微克/立方米以内), else the
    whole text; longer than ``most`` characters, cut with …"""
    if span is None:
        phrase = text.strip()
        return phrase if len(phrase) <= most else phrase[: most - 1] + "…"
    s, e = span
    ends = [m.end() for m in _PHRASE_END.finditer(text, 0, s)]
    start = ends[-1] if ends else 0
    m = _PHRASE_END.search(text, e)
    phrase = text[start : m.start() if m else len(text)].strip()
    if len(phrase) > most:  # keep the quantity, cut both sides
        keep = max(0, (most - (e - s)) // 2)
        a, b = max(start, s - keep), min(len(text), e + keep)
        phrase = ("…" if a > start else "") + text[a:b].strip() + ("…" if m is None or b < m.start() else "")
    return phrase


def clause_context(
    conn: sqlite3.Connection,
    clause_id: str,
    target_id: str | None = None,
    q: str | None = None,
    neighbours: int = 2,
) -> dict | None:
    """The clause page: the clause (HTML, quantity in <mark>), its document, section path,
    citation, the clauses before and after, and the targets it states. None if unknown."""
    found = _rows(conn, "select * from clause_context where clause_id = ?", [clause_id])
    if not found:
        return None
    clause = found[0]
    raw = _rows(conn, "select * from clauses where id = ?", [clause_id])[0]
    clause.update(start=raw["start"], end=raw["end"], ordinal=raw["ordinal"])
    document = _rows(
        conn,
        "select id, district, title, issuer, doc_number, year, year_end, published, genre, file"
        " from documents where id = ?",
        [clause["document_id"]],
    )[0]
    document["book_title"] = book_title(document["title"] or "")
    doc_text = conn.execute("select text from documents where id = ?", [clause["document_id"]]).fetchone()[0]

    targets = _rows(
        conn, "select * from target_citations where clause_id = ? order by start, target_id", [clause_id]
    )
    selected = next((t for t in targets if t["target_id"] == target_id), None)
    spans: list[tuple[int, int, str]] = []
    for t in ([selected] if selected else []) + [t for t in targets if t is not selected]:
        span = _target_span(clause, t, doc_text)
        if span:
            cls = "quantity selected" if t is selected else "quantity"
            spans.append((span[0], span[1], cls))
        t["display"] = format_value(t["value"], t["value_max"], t["comparator"], t["unit"])
        t["kind_label"] = KIND_LABELS.get(t["kind"], t["kind"])
        t["url"] = clause_url(clause_id, t["target_id"])
        t["compare_url"] = compare_url(t["indicator_id"]) if t["indicator_id"] else None
        t["selected"] = t is selected
    selected_span = _target_span(clause, selected, doc_text) if selected else None
    if q:
        spans += [(s, e, "term") for s, e in match_spans(clause["text"], q)]
    date = document["published"] or (
        f"{document['year']}{'–' + str(document['year_end']) if document['year_end'] else ''}年"
        if document["year"]
        else None
    )
    # the header line: only the fields the catalog gives (never "丰台区 ·  · 2024年")
    document["meta"] = [
        v for v in (document["district"], document["issuer"], document["doc_number"], date) if v
    ]

    around = _rows(
        conn,
        """select clause_id, seq, kind, label, text, section_path from clause_context
           where document_id = ? and seq between ? and ? order by seq""",
        [clause["document_id"], clause["seq"] - neighbours, clause["seq"] + neighbours],
    )
    for a in around:
        a["url"] = clause_url(a["clause_id"])
    return {
        "clause": clause,
        "clause_html": mark_classed(clause["text"], spans),
        "document": document,
        "targets": targets,
        "selected": selected,
        # what Copy copies: the quoted words, then the citation
        "copy_text": f"“{quoted_phrase(clause['text'], selected_span)}”——{clause['citation']}",
        "before": [a for a in around if a["seq"] < clause["seq"]],
        "after": [a for a in around if a["seq"] > clause["seq"]],
        "q": q,
    }
