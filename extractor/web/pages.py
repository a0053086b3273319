"""Plain functions behind the plugin's pages: SQL over kb.db -> template context.

Every function takes an open ``sqlite3.Connection`` to kb.db (the one Datasette hands to
``db.execute_fn``) and returns plain dicts, so they are unit-tested without HTTP. Links are
relative to the site root (:mod:`extractor.routes`); the views prefix Datasette's ``base_url``.
Values are written by :func:`extractor.format.format_value`, as on every other surface.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from extractor.format import format_value
from extractor.kb import compare as compare_tables
from extractor.kb import coverage
from extractor.kb.citations import book_title
from extractor.kb.trajectories import line as trajectory_points
from extractor.routes import COVERAGE, DISTRICT, clause_url, compare_url, district_url
from extractor.sqlite import sqlite3
from extractor.web.diffusion import same_measure_elsewhere
from extractor.web.duties import clause_duties, units_context
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


# -- values of targets (every page below shows them the same way) --------------------------

KIND_ORDER = ("target", "actual", "scope", "condition")
TARGET_KINDS = ("target", "actual")  # what the coverage and district tables count as values
DIMENSION_LABELS = {
    "concentration": "浓度 concentration",
    "deposition": "降尘 deposition",
    "ratio": "比例 ratio",
    "percentage_point": "百分点 percentage points",
    "mass": "质量 mass",
    "count": "数量 count",
    "area": "面积 area",
    "area_per_capita": "人均面积 area per person",
    "length": "长度 length",
    "volume": "体积 volume",
    "flow": "流量 flow",
    "duration": "天数 duration",
    "rank": "排名 rank",
    "sound_level": "声级 sound level",
    "number": "数值 number",
    "": "无单位 no unit",
}

VALUES_SQL = """
select t.id as target_id, d.district as district, d.id as document_id, d.title as title,
  d.genre as genre, d.year as document_year, t.indicator_id as indicator_id,
  coalesce(i.name_zh, t.indicator) as indicator_name, t.indicator as indicator,
  t.value as value, t.value_max as value_max, t.unit as unit, t.canonical_unit as canonical_unit,
  t.value_canonical as value_canonical, t.comparator as comparator, t.kind as kind,
  t.kind_evidence as kind_evidence, t.dimension as dimension, t.value_text as value_text,
  t.year as year, t.base_year as base_year, t.campaign as campaign, t.qualifiers as qualifiers,
  t.attribute as attribute, t.surface as surface, t.clause_id as clause_id, t.start as start,
  t."end" as "end", t.page as page, c.text as clause, c.start as clause_start,
  cc.citation as citation, cc.section_path as section_path, cc.label as label
from targets t
join documents d on d.id = t.document_id
left join clauses c on c.id = t.clause_id
left join clause_citations cc on cc.clause_id = t.clause_id
left join indicators i on i.id = t.indicator_id
"""
VALUES_ORDER = """
order by d.district, coalesce(t.year, d.year),
  case t.kind when 'target' then 0 when 'actual' then 1 when 'scope' then 2 else 3 end,
  t.document_id, t.start, t.id
"""


def display_value(row: dict) -> str:
    """The value as people read it: :func:`format_value`, or a qualitative target's wording."""
    if row.get("value") is None and row.get("value_text"):
        return row["value_text"]
    return format_value(row.get("value"), row.get("value_max"), row.get("comparator"), row.get("unit"))


def is_qualitative(row: dict) -> bool:
    """A target stated in words (达到市级要求, 稳步提升): no number, its wording in value_text."""
    return row.get("value") is None and bool(row.get("value_text"))


def decorate(row: dict) -> dict:
    """Display fields of one value row: ``display``, ``kind_label``, ``url``, ``excerpt_html``,
    ``qualitative``."""
    row["display"] = display_value(row)
    row["kind_label"] = KIND_LABELS.get(row["kind"], row["kind"] or "")
    row["url"] = clause_url(row["clause_id"], row["target_id"]) if row.get("clause_id") else None
    row["excerpt_html"] = quantity_excerpt(row)
    row["qualitative"] = is_qualitative(row)
    return row


def value_rows(
    conn: sqlite3.Connection,
    *,
    indicator_id: str | None = None,
    district: str | None = None,
    kind: str | None = None,
    year: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict]:
    """Every target row matching the filters (none dropped), in district, year, kind order;
    ``limit`` rows from ``offset`` (ordered and cut on the keys first: the joins and the display
    fields are made for those rows only)."""
    where, params = [], []
    for column, value in (("t.indicator_id", indicator_id), ("d.district", district), ("t.kind", kind)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if year is not None:
        where.append("t.year = ?")
        params.append(year)
    condition = " where " + " and ".join(where) if where else ""
    if limit is None:
        return [decorate(r) for r in _rows(conn, VALUES_SQL + condition + VALUES_ORDER, params)]
    page = (
        "with page_ids as (select t.id from targets t join documents d on d.id = t.document_id"
        f"{condition} {VALUES_ORDER} limit ? offset ?)"
    )
    sql = page + VALUES_SQL + " where t.id in (select id from page_ids)" + VALUES_ORDER
    return [decorate(r) for r in _rows(conn, sql, [*params, limit, max(0, offset)])]


def districts(conn: sqlite3.Connection) -> list[str]:
    return [
        r["district"]
        for r in _rows(
            conn, "select distinct district from documents where district is not null order by district"
        )
    ]


# -- comparison pages -----------------------------------------------------------------------


def indicator_index(conn: sqlite3.Connection) -> list[dict]:
    """Indicators with how many values (all kinds: what the comparison page shows), targets
    (numeric or qualitative) and districts stating a target, most covered first."""
    rows = _rows(
        conn,
        """
        select i.id, i.name_zh, i.name_en, i.campaign, i.canonical_unit, cp.name_zh as campaign_name,
          count(t.id) as n_values,
          count(case when t.kind = 'target' then 1 end) as n_targets,
          count(case when t.kind = 'actual' then 1 end) as n_actuals,
          count(distinct case when t.kind = 'target' then d.district end) as n_districts,
          group_concat(distinct case when t.kind = 'target' then d.district end) as districts,
          count(distinct t.dimension || '|' || coalesce(t.canonical_unit, t.unit, '')) as n_units
        from indicators i
        left join campaigns cp on cp.id = i.campaign
        left join targets t on t.indicator_id = i.id
        left join documents d on d.id = t.document_id
        group by i.id
        order by n_districts desc, n_values desc, i.campaign, i.id
        """,
    )
    for r in rows:
        r["url"] = compare_url(r["id"])
        r["districts"] = "、".join(sorted((r["districts"] or "").split(","))) if r["districts"] else ""
    return rows


def compare_rows(
    conn: sqlite3.Connection,
    indicator_id: str,
    *,
    kind: str | None = None,
    year: int | None = None,
    district: str | None = None,
) -> list[dict]:
    """Every statement of one indicator (no de-duplication), optionally of one kind, year or
    district, with display fields (``display``, ``kind_label``, ``url``, ``excerpt_html``)."""
    return value_rows(conn, indicator_id=indicator_id, kind=kind, year=year, district=district)


def _unit_key(row: dict) -> tuple[str, str]:
    """Values are comparable only within one dimension and one canonical unit (辆 and 户 are
    both counts, never on one axis)."""
    dimension = row.get("dimension") or ""
    return dimension, row.get("canonical_unit") or row.get("unit") or ""


def unit_groups(rows: list[dict]) -> list[dict]:
    """The numeric rows split by unit dimension, each group converted to one unit: the unit
    most of its values are written in (吨 for 吨 and 万吨), through ``value_canonical``.
    Each row gets ``chart_value`` / ``chart_value_max`` in the group's ``unit``."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        if r.get("value") is not None:
            groups.setdefault(_unit_key(r), []).append(r)
    out = []
    for (dimension, canonical), members in groups.items():
        factors: dict[str, float] = {}  # unit as written -> canonical value of one of it
        counts: dict[str, int] = {}
        for r in members:
            unit = r.get("unit") or ""
            counts[unit] = counts.get(unit, 0) + 1
            if r.get("value_canonical") is not None and r["value"]:
                factors.setdefault(unit, r["value_canonical"] / r["value"])
        usable = [u for u in counts if u in factors]
        if usable:
            unit = max(usable, key=lambda u: (counts[u], -abs(factors[u] - 1), len(u)))
            factor = factors[unit]
        else:
            unit, factor = (next(iter(counts)) if len(counts) == 1 else canonical), None
        converted = False
        for r in members:
            if factor and r.get("value_canonical") is not None and (r.get("unit") or "") != unit:
                scale = r["value_canonical"] / r["value"] if r["value"] else None
                r["chart_value"] = r["value_canonical"] / factor
                r["chart_value_max"] = (
                    r["value_max"] * scale / factor if r.get("value_max") is not None and scale else None
                )
                converted = True
            else:
                r["chart_value"], r["chart_value_max"] = r["value"], r.get("value_max")
        out.append(
            {
                "key": f"{dimension or 'none'}-{canonical}",
                "dimension": dimension,
                "dimension_label": DIMENSION_LABELS.get(dimension, dimension),
                "unit": unit,
                "canonical_unit": canonical,
                "converted": converted,
                "units_written": sorted(counts),
                "rows": members,
            }
        )
    out.sort(key=lambda g: -len(g["rows"]))
    return out


VEGA_FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"


def _chart_values(group: dict, base_url: str) -> list[dict]:
    return [
        {
            "key": f"{i:03d}",
            "label": " ".join(str(x) for x in (r["district"], r["year"] or "", r["kind_label"]) if x),
            "district": r["district"],
            "year": str(r["year"]) if r["year"] else "",
            "value": r["chart_value"],
            "value_max": r["chart_value_max"],
            "display": r["display"],
            "kind": r["kind_label"],
            "document": r["title"],
            "href": base_url.rstrip("/") + r["url"] if r["url"] else None,
        }
        for i, r in enumerate(group["rows"])
    ]


def _kind_scale(group: dict) -> dict:
    kinds = {r["kind"] for r in group["rows"]}
    return {
        "domain": [KIND_LABELS[k] for k in KIND_LABELS if k in kinds],
        "range": [KIND_COLORS[k] for k in KIND_LABELS if k in kinds],
    }


def chart_spec(group: dict, base_url: str = "/") -> dict:
    """A Vega-Lite chart of one unit group across districts: one band per value, its label
    (district, year, kind, value as written) on a line of its own above the bar, so labels
    never overlap at any width; the axis titled with the group's unit; each bar links to its
    clause."""
    values = _chart_values(group, base_url)
    numbers = [v for r in values for v in (r["value"], r["value_max"]) if v is not None]
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    tooltip = [
        {"field": "district", "title": "地区"},
        {"field": "year", "title": "年份"},
        {"field": "kind", "title": "类型"},
        {"field": "display", "title": "数值"},
        {"field": "document", "title": "文件"},
    ]
    x = {
        "field": "value",
        "type": "quantitative",
        "title": group["unit"] or "（无单位）",
        "scale": {"domain": [low, high or 1], "nice": True},
        "axis": {
            "labelOverlap": "greedy",
            "labelFontSize": 12,
            "titleFontSize": 13,
            "titlePadding": 8,
            "tickCount": 5,
        },
    }
    y = {"field": "key", "type": "nominal", "sort": None, "axis": None}
    layers: list[dict] = [
        {
            "mark": {"type": "bar", "height": 14, "yOffset": 9, "cornerRadiusEnd": 3, "cursor": "pointer"},
            "encoding": {
                "x": x,
                "y": y,
                "color": {
                    "field": "kind",
                    "type": "nominal",
                    "title": None,
                    "scale": _kind_scale(group),
                    "legend": {"orient": "top", "labelFontSize": 12},
                },
                "href": {"field": "href"},
                "tooltip": tooltip,
            },
        },
        {
            "mark": {
                "type": "text",
                "align": "left",
                "baseline": "bottom",
                "dy": -2,
                "fontSize": 13,
                "cursor": "pointer",
            },
            "encoding": {
                "x": {"value": 0},
                "y": y,
                "text": {"field": "line"},
                "href": {"field": "href"},
                "tooltip": tooltip,
            },
        },
    ]
    if any(v["value_max"] is not None for v in values):
        layers.append(
            {
                "transform": [{"filter": "datum.value_max != null"}],
                "mark": {"type": "rule", "strokeWidth": 3, "yOffset": 9, "strokeDash": [4, 2]},
                "encoding": {"x": {**x, "title": None}, "x2": {"field": "value_max"}, "y": y},
            }
        )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": {"step": 44},
        "autosize": {"type": "fit-x", "contains": "padding"},
        "background": "transparent",
        "data": {"values": values},
        "transform": [{"calculate": "datum.label + ' · ' + datum.display", "as": "line"}],
        "layer": layers,
        "config": {"font": VEGA_FONT, "view": {"stroke": None}, "axisY": {"grid": False}},
    }


def time_chart_spec(group: dict, base_url: str = "/") -> dict:
    """One district's values of one unit group over the years: one line through actuals and
    targets, actuals solid dots, targets hollow diamonds; each point links to its clause."""
    values = _chart_values(group, base_url)
    years = sorted({v["year"] for v in values if v["year"]})
    values = [v for v in values if v["year"]]
    tooltip = [
        {"field": "year", "title": "年份"},
        {"field": "kind", "title": "类型"},
        {"field": "display", "title": "数值"},
        {"field": "document", "title": "文件"},
    ]
    x = {
        "field": "year",
        "type": "ordinal",
        "title": "年份 year",
        "sort": years,
        "scale": {"domain": years},
        "axis": {"labelAngle": 0, "labelFontSize": 12, "labelOverlap": "greedy"},
    }
    y = {
        "field": "value",
        "type": "quantitative",
        "title": group["unit"] or "（无单位）",
        "scale": {"zero": False, "nice": True},
        "axis": {"labelFontSize": 12, "titleFontSize": 13, "tickCount": 5},
    }
    kinds = _kind_scale(group)
    shapes = {"目标": "diamond", "现状": "circle", "范围": "square", "条件": "triangle-up"}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": 240,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "background": "transparent",
        "data": {"values": values},
        "encoding": {"x": x, "y": y},
        "layer": [
            {"mark": {"type": "line", "color": "#8aa4b8", "strokeWidth": 2}},
            {
                "transform": [{"filter": "datum.kind != '目标'"}],
                "mark": {"type": "point", "filled": True, "size": 90, "cursor": "pointer", "opacity": 1},
                "encoding": {
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "title": None,
                        "scale": kinds,
                        "legend": {"orient": "top"},
                    },
                    "shape": {
                        "field": "kind",
                        "type": "nominal",
                        "scale": {"domain": kinds["domain"], "range": [shapes[k] for k in kinds["domain"]]},
                        "legend": None,
                    },
                    "href": {"field": "href"},
                    "tooltip": tooltip,
                },
            },
            {
                "transform": [{"filter": "datum.kind == '目标'"}],
                "mark": {
                    "type": "point",
                    "filled": False,
                    "size": 160,
                    "strokeWidth": 2.5,
                    "cursor": "pointer",
                    "opacity": 1,
                },
                "encoding": {
                    "color": {"field": "kind", "type": "nominal", "title": None, "scale": kinds},
                    "shape": {
                        "field": "kind",
                        "type": "nominal",
                        "scale": {"domain": kinds["domain"], "range": [shapes[k] for k in kinds["domain"]]},
                        "legend": None,
                    },
                    "href": {"field": "href"},
                    "tooltip": tooltip,
                },
            },
        ],
        "config": {"font": VEGA_FONT, "view": {"stroke": None}},
    }


def pagination(page_number: int, n_pages: int, per_page: int, n_shown: int, page_url) -> dict[str, Any]:
    """The pager of a paginated page: its number, the count of pages, the 1-based positions of
    the first and last rows shown and the links to the pages before and after (``page_url(n)``)."""
    first = (page_number - 1) * per_page + 1 if n_shown else 0
    return {
        "page": page_number,
        "n_pages": n_pages,
        "first": first,
        "last": (page_number - 1) * per_page + n_shown,
        "prev_url": page_url(page_number - 1) if page_number > 1 else None,
        "next_url": page_url(page_number + 1) if page_number < n_pages else None,
    }


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


COMPARE_PER_PAGE = 100  # values a comparison page shows (and charts); the download has them all
NAMES_SHOWN = 50  # districts named in a list ("districts without a target", "over time" links)


def _statement_counts(conn: sqlite3.Connection, indicator_id: str) -> list[dict]:
    """The indicator's values counted by district, kind, year and qualitative, from the targets
    (for a kb.db built without the ``compare_order`` table; 18,205 rows for pm25_annual_mean at
    10,000 documents)."""
    return _rows(
        conn,
        """
        select d.district as district, t.kind as kind, t.year as year,
          (t.value is null and coalesce(t.value_text, '') != '') as qualitative, count(*) as n
        from targets t join documents d on d.id = t.document_id
        where t.indicator_id = ?
        group by 1, 2, 3, 4
        """,
        [indicator_id],
    )


def _summary_from_counts(
    conn: sqlite3.Connection,
    indicator_id: str,
    kind: str | None,
    year: int | None,
    district: str | None,
    names_shown: int,
) -> dict[str, Any]:
    """The comparison page's counts and lists of districts (see :func:`_compare_summary`),
    computed from every value of the indicator: a kb.db built before :mod:`extractor.kb.compare`."""
    counts = _statement_counts(conn, indicator_id)
    known = districts(conn)
    if district and district not in known:
        district = None
    selected = sum(
        c["n"]
        for c in counts
        if (kind is None or c["kind"] == kind)
        and (year is None or c["year"] == year)
        and (district is None or c["district"] == district)
    )
    stating = {c["district"] for c in counts if c["kind"] == "target"}
    stating_numbers = {c["district"] for c in counts if c["kind"] == "target" and not c["qualitative"]}
    without = [d for d in known if d not in stating]
    by_district: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for c in counts:
        by_district[c["district"]] = by_district.get(c["district"], 0) + c["n"]
        by_kind[c["kind"]] = by_kind.get(c["kind"], 0) + c["n"]
    with_values = [d for d in known if by_district.get(d)]
    if district and district not in with_values:
        with_values.append(district)
    district_input = len(with_values) > names_shown
    offered = (
        sorted(with_values, key=lambda d: (-by_district.get(d, 0), d))[:names_shown]
        if district_input
        else with_values
    )
    qualitative_only = sorted(stating - stating_numbers)
    return {
        "district": district,
        "n_all": sum(c["n"] for c in counts),
        "n_selected": selected,
        "by_kind": by_kind,
        "years": sorted({c["year"] for c in counts if c["year"]}),
        "without": without[:names_shown],
        "n_without": len(without),
        "qualitative_only": qualitative_only[:names_shown],
        "n_qualitative_only": len(qualitative_only),
        "offered": [{"value": d, "n": by_district.get(d, 0)} for d in offered],
        "district_input": district_input,
        "with_values": with_values[:names_shown],
        "n_with_values": len(with_values),
    }


def _summary_from_tables(
    conn: sqlite3.Connection,
    indicator_id: str,
    kind: str | None,
    year: int | None,
    district: str | None,
    names_shown: int,
) -> dict[str, Any]:
    """What :func:`_summary_from_counts` gives, read from ``compare_order`` and
    ``compare_districts`` (:mod:`extractor.kb.compare`): index ranges and counts over one
    indicator's index entries, each list cut at ``names_shown`` in SQL."""
    one = lambda sql, params: conn.execute(sql, params).fetchone()[0]  # noqa: E731
    column = lambda sql, params: [r[0] for r in conn.execute(sql, params)]  # noqa: E731
    if district and not one("select exists (select 1 from documents where district = ?)", [district]):
        district = None
    by_kind = dict(
        conn.execute(
            "select kind, count(*) from compare_order where indicator_id = ? group by kind", [indicator_id]
        )
    )
    where, params = ["indicator_id = ?"], [indicator_id]
    for name, value in (("district_key", district), ("kind", kind), ("year", year)):
        if value is not None:
            where.append(f"{name} = ?")
            params.append(value)
    selected = (
        one(f"select count(*) from compare_order where {' and '.join(where)}", params)
        if len(where) > 1
        else sum(by_kind.values())
    )
    years = column(
        "select distinct year from compare_order where indicator_id = ? and year is not null order by year",
        [indicator_id],
    )
    n_known = one("select count(distinct district) from documents where district is not null", [])
    n_stating = one(
        "select count(*) from compare_districts where indicator_id = ? and n_targets > 0", [indicator_id]
    )
    without = column(
        "select distinct district from documents where district is not null and district not in"
        " (select district from compare_districts where indicator_id = ? and n_targets > 0)"
        " order by district limit ?",
        [indicator_id, names_shown],
    )
    qualitative = "from compare_districts where indicator_id = ? and n_targets > 0 and n_numeric_targets = 0"
    qualitative_only = column(
        f"select district {qualitative} order by district limit ?", [indicator_id, names_shown]
    )
    with_values = column(
        "select district from compare_districts where indicator_id = ? order by district limit ?",
        [indicator_id, names_shown + 1],
    )
    n_with_values = one("select count(*) from compare_districts where indicator_id = ?", [indicator_id])
    found = conn.execute(
        "select n from compare_districts where indicator_id = ? and district = ?", [indicator_id, district]
    ).fetchone()
    n_district = found[0] if found else None
    if district and n_district is None:  # a district without a value of it, listed last
        n_with_values += 1
        if len(with_values) < names_shown + 1:
            with_values.append(district)
    district_input = n_with_values > names_shown
    if district_input:
        offered = [
            {"value": d, "n": n}
            for d, n in conn.execute(
                "select district, n from compare_districts where indicator_id = ?"
                " order by n desc, district limit ?",
                [indicator_id, names_shown],
            )
        ]
        if district and n_district is None and len(offered) < names_shown:
            offered.append({"value": district, "n": 0})
    else:
        n_of = dict(
            conn.execute("select district, n from compare_districts where indicator_id = ?", [indicator_id])
        )
        offered = [{"value": d, "n": n_of.get(d, 0)} for d in with_values]
    return {
        "district": district,
        "n_all": sum(by_kind.values()),
        "n_selected": selected,
        "by_kind": by_kind,
        "years": [y for y in years if y],
        "without": without,
        "n_without": n_known - n_stating,
        "qualitative_only": qualitative_only,
        "n_qualitative_only": one(f"select count(*) {qualitative}", [indicator_id]),
        "offered": offered,
        "district_input": district_input,
        "with_values": with_values[:names_shown],
        "n_with_values": n_with_values,
    }


def _page_from_table(
    conn: sqlite3.Connection,
    indicator_id: str,
    kind: str | None,
    year: int | None,
    district: str | None,
    limit: int,
    offset: int,
) -> list[dict]:
    """One page of :func:`value_rows` for one indicator: its target ids an index range of
    ``compare_order``, then the display rows of those ids alone."""
    where, params = ["indicator_id = ?"], [indicator_id]
    for name, value in (("district_key", district), ("kind", kind), ("year", year)):
        if value is not None:
            where.append(f"{name} = ?")
            params.append(value)
    ids = [
        r[0]
        for r in conn.execute(
            f"select target_id from compare_order where {' and '.join(where)}"
            f" order by {compare_tables.KEY} limit ? offset ?",
            [*params, limit, max(0, offset)],
        )
    ]
    sql = VALUES_SQL + " where t.id in (select value from json_each(?))" + VALUES_ORDER
    return [decorate(r) for r in _rows(conn, sql, [json.dumps(ids)])]


def compare_context(
    conn: sqlite3.Connection,
    indicator_id: str,
    base_url: str = "/",
    *,
    kind: str | None = None,
    year: int | str | None = None,
    district: str | None = None,
    page: int | str | None = 1,
    per_page: int = COMPARE_PER_PAGE,
    names_shown: int = NAMES_SHOWN,
    tables: bool | None = None,
) -> dict | None:
    """Everything the comparison page shows for one indicator (None if it is unknown): one page
    of the values matching the filters (``per_page`` of them; :func:`compare_rows` gives them
    all, for the download), one chart per unit group of those (over the years when
    ``district`` is given), the qualitative targets among them, the districts without any
    target, the filter choices with counts. Its cost is bounded by the page, not the corpus:
    the page is an index range of ``compare_order`` and the counts come from it and
    ``compare_districts`` (:mod:`extractor.kb.compare`, built with kb.db; ``tables=False``, or a
    kb.db without them, computes the same from the targets); lists of districts name at most
    ``names_shown`` of them (the district filter, past that many, is a text box offering those
    with the most values)."""
    found = _rows(
        conn,
        "select i.*, c.name_zh as campaign_name from indicators i"
        " left join campaigns c on c.id = i.campaign where i.id = ?",
        [indicator_id],
    )
    if not found:
        return None
    indicator = found[0]
    kind = kind if kind in KIND_LABELS else None
    year = _int_or_none(year)
    if tables is None:
        tables = compare_tables.has_tables(conn)
    summary = (_summary_from_tables if tables else _summary_from_counts)(
        conn, indicator_id, kind, year, district, names_shown
    )
    district = summary["district"]
    selected = summary["n_selected"]
    n_pages = max(1, -(-selected // per_page))
    page_number = min(max(1, _int_or_none(page) or 1), n_pages)
    offset = (page_number - 1) * per_page
    if tables:
        rows = _page_from_table(conn, indicator_id, kind, year, district, per_page, offset)
    else:
        rows = value_rows(
            conn,
            indicator_id=indicator_id,
            kind=kind,
            year=year,
            district=district,
            limit=per_page,
            offset=offset,
        )
    groups = unit_groups(rows)
    for g in groups:
        g["spec"] = time_chart_spec(g, base_url) if district else chart_spec(g, base_url)
    by_kind = summary["by_kind"]

    def page_url(n: int) -> str:
        params = {k: v for k, v in (("district", district), ("kind", kind), ("year", year)) if v}
        if n > 1:
            params["page"] = n
        return compare_url(indicator_id) + ("?" + urlencode(params) if params else "")

    return {
        "indicator": indicator,
        "rows": rows,
        "n_all": summary["n_all"],
        "n_selected": selected,
        **pagination(page_number, n_pages, per_page, len(rows), page_url),
        "groups": groups,
        "qualitative": [r for r in rows if r["qualitative"]],
        "without_value": [r for r in rows if r["value"] is None and not r["qualitative"]],
        "districts_without": summary["without"],
        "n_districts_without": summary["n_without"],
        "districts_qualitative": summary["qualitative_only"],
        "n_districts_qualitative": summary["n_qualitative_only"],
        "filters": {
            "kind": kind,
            "year": year,
            "district": district,
            "active": bool(kind or year or district),
            "kinds": [
                {"value": k, "label": KIND_LABELS[k], "n": by_kind[k]} for k in KIND_ORDER if by_kind.get(k)
            ],
            "years": summary["years"],
            "districts": summary["offered"],
            "district_input": summary["district_input"],
            "n_districts": summary["n_with_values"],
        },
        "over_time": summary["with_values"],
        "n_over_time": summary["n_with_values"],
        "district_urls": {d: compare_url(indicator_id, d) for d in summary["with_values"]},
        "trajectory": trajectory_points(conn, district, indicator_id) if district else [],
    }


EXPORT_HEADERS = [
    "地区 district",
    "指标 indicator",
    "指标标识 indicator_id",
    "类型 kind",
    "年份 year",
    "数值 value as shown",
    "比较 comparator",
    "数值 value",
    "上限 value_max",
    "单位 unit",
    "标准单位数值 value_canonical",
    "标准单位 canonical_unit",
    "量纲 dimension",
    "定性表述 value_text",
    "判定依据 kind_evidence",
    "原文数值 surface",
    "文件 document",
    "文件标识 document_id",
    "引用 citation",
    "原文条款 clause",
    "链接 clause_url",
]


def export_rows(rows: list[dict], base_url: str = "") -> list[list]:
    """The value rows as the columns of :data:`EXPORT_HEADERS` (links absolute to ``base_url``)."""
    return [
        [
            r["district"],
            r["indicator_name"],
            r["indicator_id"],
            r["kind_label"],
            r["year"],
            r["display"],
            r["comparator"],
            r["value"],
            r["value_max"],
            r["unit"],
            r["value_canonical"],
            r["canonical_unit"],
            r["dimension"],
            r["value_text"],
            r["kind_evidence"],
            r["surface"],
            r["title"],
            r["document_id"],
            r["citation"],
            r["clause"],
            (base_url.rstrip("/") + r["url"]) if r["url"] else None,
        ]
        for r in rows
    ]


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


# -- coverage: indicator x district ---------------------------------------------------------


COVERAGE_DISTRICTS_PER_PAGE = 20  # the matrix's district columns per page


def _coverage_cells(conn: sqlite3.Connection, district_names: list[str] | None) -> list[dict]:
    """The ``coverage_cells`` rows of these districts (all with None), built with kb.db
    (:mod:`extractor.kb.coverage`); for a kb.db built before the table existed, the same rows
    computed now."""
    try:
        if district_names is None:
            return _rows(conn, f"select * from [{coverage.TABLE}]")
        marks = ", ".join("?" for _ in district_names)
        return _rows(conn, f"select * from [{coverage.TABLE}] where district in ({marks})", district_names)
    except sqlite3.OperationalError:
        every = coverage.coverage_rows(conn)
        return every if district_names is None else [r for r in every if r["district"] in district_names]


def _coverage_indicators(conn: sqlite3.Connection) -> dict[str, int]:
    """indicator id -> districts stating a target, for the indicators with any value (every
    cell of an indicator holds the same ``n_districts``: one cell each, by the primary key's
    index, instead of grouping every cell)."""
    try:
        return dict(
            conn.execute(
                f"select id, n from (select i.id, (select c.n_districts from [{coverage.TABLE}] c"
                " where c.indicator_id = i.id limit 1) as n from indicators i) where n is not null"
            )
        )
    except sqlite3.OperationalError:
        return {r["indicator_id"]: r["n_districts"] for r in coverage.coverage_rows(conn)}


def _unassigned_values(conn: sqlite3.Connection) -> int:
    """Targets and actual values without an indicator: all of them (the index on targets.kind)
    less those with one (compare_order holds one row per target with an indicator; no index
    counts the targets without one by kind, and scanning them was 116 ms at 10,000 documents)."""
    kinds = "kind in ('target', 'actual')"
    if compare_tables.has_tables(conn):
        return (
            conn.execute(f"select count(*) from targets where {kinds}").fetchone()[0]
            - conn.execute(f"select count(*) from compare_order where {kinds}").fetchone()[0]
        )
    return conn.execute(f"select count(*) from targets where indicator_id is null and {kinds}").fetchone()[0]


def coverage_context(
    conn: sqlite3.Connection,
    page: int | str | None = 1,
    per_page: int = COVERAGE_DISTRICTS_PER_PAGE,
) -> dict:
    """The indicator x district matrix: rows are the indicators with a target or an actual
    value (grouped by campaign, in campaigns order, most districts stating a target first),
    columns one page of the districts (``per_page`` of them; ``page=None``: all of them, for
    the download); each cell counts targets and actuals (scope and condition are not values of
    the indicator), names the latest target and links to the comparison page filtered to that
    district. Read from the ``coverage_cells`` table computed at build time: no target is read
    per request, and a page reads the cells of its districts only."""
    every_district = districts(conn)
    if page is None:
        cols, page_number, n_pages = every_district, 1, 1
    else:
        n_pages = max(1, -(-len(every_district) // per_page))
        page_number = min(max(1, _int_or_none(page) or 1), n_pages)
        cols = every_district[(page_number - 1) * per_page : page_number * per_page]
    campaigns = _rows(conn, "select id, name_zh, name_en from campaigns order by rowid")
    indicators = _rows(
        conn, "select id, name_zh, name_en, campaign, canonical_unit from indicators order by id"
    )
    stating = _coverage_indicators(conn)
    cells = {(r["indicator_id"], r["district"]): r for r in _coverage_cells(conn, cols)}
    by_campaign: dict[str, list[dict]] = {}
    empty = []
    for ind in indicators:
        if ind["id"] not in stating:
            empty.append(ind)
            continue
        row_cells = []
        for d in cols:
            cell = cells.get((ind["id"], d)) or {}
            row_cells.append(
                {
                    "district": d,
                    "n_targets": cell.get("n_targets") or 0,
                    "n_actuals": cell.get("n_actuals") or 0,
                    "latest": (
                        {
                            "display": cell["latest_target"],
                            "year": cell["latest_target_year"],
                            "qualitative": bool(cell["latest_qualitative"]),
                        }
                        if cell.get("latest_target") is not None
                        else None
                    ),
                    "targets": cell.get("values") or "",
                    "url": compare_url(ind["id"], d),
                }
            )
        by_campaign.setdefault(ind["campaign"] or "general", []).append(
            {**ind, "url": compare_url(ind["id"]), "cells": row_cells, "n_districts": stating[ind["id"]]}
        )
    groups = []
    for c in campaigns:
        rows = by_campaign.get(c["id"])
        if rows:
            rows.sort(key=lambda r: (-r["n_districts"], r["id"]))
            groups.append({"campaign": c, "rows": rows})
    unassigned = _unassigned_values(conn)

    def page_url(n: int) -> str:
        return COVERAGE + (f"?page={n}" if n > 1 else "")

    return {
        "districts": cols,
        "n_districts": len(every_district),
        **pagination(page_number, n_pages, per_page, len(cols), page_url),
        "groups": groups,
        "empty": empty,
        "n_unassigned": unassigned,
        "n_indicators": sum(len(g["rows"]) for g in groups),
    }


COVERAGE_HEADERS = [
    "领域 campaign",
    "指标 indicator",
    "指标标识 indicator_id",
    "地区 district",
    "目标数 targets",
    "现状数 actuals",
    "最新目标 latest target",
    "最新目标年份 latest target year",
    "全部目标 all targets",
    "链接 url",
]


def coverage_export_rows(context: dict, base_url: str = "") -> list[list]:
    out = []
    for g in context["groups"]:
        for r in g["rows"]:
            for c in r["cells"]:
                out.append(
                    [
                        g["campaign"]["name_zh"],
                        r["name_zh"],
                        r["id"],
                        c["district"],
                        c["n_targets"],
                        c["n_actuals"],
                        c["latest"]["display"] if c["latest"] else None,
                        c["latest"]["year"] if c["latest"] else None,
                        c["targets"],
                        base_url.rstrip("/") + c["url"],
                    ]
                )
    return out


# -- districts ------------------------------------------------------------------------------


DISTRICTS_PER_PAGE = 50  # rows of the districts page; the download has every district


def district_index(conn: sqlite3.Connection, *, limit: int | None = None, offset: int = 0) -> list[dict]:
    """Each district with its documents, targets, actual values, scope/condition statements
    (counted apart from targets), indicators and campaigns, in name order; ``limit`` districts
    from ``offset`` (None: all of them). The districts of the page are chosen first (by the
    index on ``documents.district``), then one aggregate pass over their targets and
    document_campaigns (a subquery per district took 75 s at 1,000 districts), so a page reads
    the rows of its own districts only."""
    if limit is None:
        chosen = "select distinct district from documents where district is not null"
        params: list = []
    else:
        chosen = (
            "select distinct district from documents where district is not null"
            " order by district limit ? offset ?"
        )
        params = [limit, max(0, offset)]
    rows = _rows(
        conn,
        f"""
        with chosen as ({chosen}),
        per_target as (
          select d.district,
            sum(t.kind = 'target') as n_targets,
            sum(t.kind = 'actual') as n_actuals,
            sum(t.kind in ('scope', 'condition')) as n_scope,
            count(distinct case when t.kind in ('target', 'actual') then t.indicator_id end) as n_indicators
          from targets t join documents d on d.id = t.document_id
          where d.district in (select district from chosen) group by d.district
        ),
        per_campaign as (
          select d.district, count(distinct dc.campaign) as n_campaigns
          from document_campaigns dc join documents d on d.id = dc.document_id
          where d.district in (select district from chosen) group by d.district
        )
        select d.district,
          count(distinct d.id) as n_documents,
          min(d.year) as first_year,
          max(coalesce(d.year_end, d.year)) as last_year,
          coalesce(pt.n_targets, 0) as n_targets,
          coalesce(pt.n_actuals, 0) as n_actuals,
          coalesce(pt.n_scope, 0) as n_scope,
          coalesce(pt.n_indicators, 0) as n_indicators,
          coalesce(pc.n_campaigns, 0) as n_campaigns
        from documents d
        left join per_target pt on pt.district = d.district
        left join per_campaign pc on pc.district = d.district
        where d.district in (select district from chosen)
        group by d.district order by d.district
        """,
        params,
    )
    for r in rows:
        r["url"] = district_url(r["district"])
    return rows


def district_index_context(
    conn: sqlite3.Connection, page: int | str | None = 1, per_page: int = DISTRICTS_PER_PAGE
) -> dict:
    """The districts page: one page of :func:`district_index` (``per_page`` districts, in
    name order) and the pager; a page number past the end is the last page."""
    (n_districts,) = conn.execute(
        "select count(distinct district) from documents where district is not null"
    ).fetchone()
    n_pages = max(1, -(-n_districts // per_page))
    page_number = min(max(1, _int_or_none(page) or 1), n_pages)
    rows = district_index(conn, limit=per_page, offset=(page_number - 1) * per_page)

    def page_url(n: int) -> str:
        return DISTRICT + (f"?page={n}" if n > 1 else "")

    return {
        "districts": rows,
        "n_districts": n_districts,
        **pagination(page_number, n_pages, per_page, len(rows), page_url),
    }


def district_context(conn: sqlite3.Connection, district: str) -> dict | None:
    """A district's page: its documents, its campaigns, its targets and actual values grouped
    by campaign (indicator, value, kind, year, evidence, clause), and apart from them the
    scope and condition statements. None if no document is from that district."""
    documents = _rows(
        conn,
        """
        select d.id, d.title, d.genre, d.year, d.year_end, d.published, d.issuer, d.doc_number,
          (select count(*) from clauses c where c.document_id = d.id) as n_clauses,
          (select count(*) from targets t where t.document_id = d.id and t.kind = 'target') as n_targets,
          (select count(*) from targets t where t.document_id = d.id and t.kind = 'actual') as n_actuals
        from documents d where d.district = ? order by d.year, d.id
        """,
        [district],
    )
    if not documents:
        return None
    for doc in documents:
        doc["book_title"] = book_title(doc["title"] or "")
    campaigns = _rows(
        conn,
        """
        select c.id, c.name_zh, c.name_en, group_concat(distinct dc.label) as labels,
          sum(dc.clauses) as n_clauses
        from document_campaigns dc
        join documents d on d.id = dc.document_id
        join campaigns c on c.id = dc.campaign
        where d.district = ?
        group by c.id order by c.rowid
        """,
        [district],
    )
    rows = value_rows(conn, district=district)
    for r in rows:
        r["compare_url"] = compare_url(r["indicator_id"], district) if r["indicator_id"] else None
    values = [r for r in rows if r["kind"] in TARGET_KINDS]
    other = [r for r in rows if r["kind"] not in TARGET_KINDS]
    names = {c["id"]: c for c in _rows(conn, "select id, name_zh, name_en from campaigns order by rowid")}
    order = list(names)
    by_campaign: dict[str, list[dict]] = {}
    for r in values:
        by_campaign.setdefault(r["campaign"] or "general", []).append(r)
    for group in by_campaign.values():
        group.sort(key=lambda r: (r["indicator_name"] or "", r["year"] or 0, KIND_ORDER.index(r["kind"])))
    for c in campaigns:
        c["n_targets"] = sum(1 for r in by_campaign.get(c["id"], []) if r["kind"] == "target")
        c["n_actuals"] = sum(1 for r in by_campaign.get(c["id"], []) if r["kind"] == "actual")
        c["labels"] = "、".join(sorted(set((c["labels"] or "").split(",")) - {""}))
    groups = [
        {
            "campaign": names.get(cid, {"id": cid, "name_zh": cid, "name_en": ""}),
            "rows": by_campaign[cid],
            "n_targets": sum(1 for r in by_campaign[cid] if r["kind"] == "target"),
            "n_actuals": sum(1 for r in by_campaign[cid] if r["kind"] == "actual"),
        }
        for cid in sorted(by_campaign, key=lambda c: order.index(c) if c in order else len(order))
    ]
    return {
        "district": district,
        "documents": documents,
        "campaigns": campaigns,
        "groups": groups,
        "other": other,
        "rows": rows,
        "n_targets": sum(1 for r in values if r["kind"] == "target"),
        "n_actuals": sum(1 for r in values if r["kind"] == "actual"),
        "n_scope": sum(1 for r in other if r["kind"] == "scope"),
        "n_condition": sum(1 for r in other if r["kind"] == "condition"),
        "duties": district_duties(conn, district),
    }


def district_duties(conn: sqlite3.Connection, district: str, top: int = 5) -> dict:
    """Who does what by when, in short, for the district page: how many tasks name their units,
    the units leading most of them, and how many tasks carry a deadline."""
    context = units_context(conn, district) or {"matrix": [], "n_tasks": 0, "task_groups": []}
    return {
        "n_tasks": context["n_tasks"],
        "n_deadlines": sum(1 for g in context["task_groups"] if g["deadline_text"]),
        "leads": [
            {"unit": m["unit"], "n_lead": m["n_lead"], "n_partner": m["n_partner"], "url": m["url"]}
            for m in context["matrix"][:top]
        ],
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
        t["display"] = format_value(
            t["value"], t["value_max"], t["comparator"], t["unit"], t.get("value_text")
        )
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
        "duties": clause_duties(conn, clause_id),  # 责任单位 / 完成时限 (web/duties.py)
        "elsewhere": same_measure_elsewhere(conn, clause_id),  # other documents, same measure
    }
