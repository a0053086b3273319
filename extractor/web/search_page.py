"""The search page ``/-/search`` as plain functions: a request's arguments -> the page's context
(or the rows of its CSV/XLSX export).

One search over clauses and targets: a clause is a hit when its text matches (``clauses_fts``)
or its text and its targets' words do together (``clause_targets_fts``: the clause, then each
target's indicator as written, its dictionary name and its quantity).
Facets with counts narrow the hits: 地区 (district), 领域 (campaign, by its Chinese name; any
name :func:`extractor.web.search.campaign_id` knows is accepted), 文件类型 (genre), 年份 (the
document's first plan year) and 类型 (the kinds of the targets the clause states). Each facet's
counts are those of the hits under the *other* facets' choices, so a count is what a click
gives. A query without results gets a "did you mean" (:func:`extractor.web.search.suggest`)
that is only offered when it finds something.

Every function takes an open ``sqlite3.Connection`` to kb.db (what ``db.execute_fn`` hands
over) and returns plain data; links are root-relative (:mod:`extractor.routes`).
Hostile input is cut down, never an error: a query longer than :data:`MAX_QUERY_CHARS` is
shortened, FTS syntax is quoted by :func:`extractor.kb.fts.fts_query`, a page number that is
not one is page 1, one past the end is the last page.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from extractor import routes
from extractor.format import format_value
from extractor.kb import fts, search_tables
from extractor.kb.citations import book_title
from extractor.kb.fts import fts_query, query_groups
from extractor.sqlite import sqlite3
from extractor.web.pages import pagination
from extractor.web.search import campaign_id, highlight, snippet, suggest

PER_PAGE = 20
MAX_QUERY_CHARS = 100
MAX_HITS = 2000  # the most clauses a query finds by text (and as many by a target): bounds a page's work
FACET_VALUES = 30  # the most values a facet lists (the most frequent; the chosen one always)
SNIPPET_CHARS = 140
FACETS = ("district", "campaign", "genre", "year", "kind")
FACET_LABELS = {
    "district": "地区 District",
    "campaign": "领域 Campaign",
    "genre": "文件类型 Genre",
    "year": "年份 Year",
    "kind": "类型 Kind",
}
KIND_LABELS = {"target": "目标", "actual": "现状", "scope": "范围", "condition": "条件"}
EXPORT_HEADERS = [
    "地区 District",
    "领域 Campaign",
    "文件 Document",
    "文件类型 Genre",
    "年份 Year",
    "章节 Section",
    "条目 Item",
    "条款原文 Clause",
    "数值 Quantities",
    "引用 Citation",
    "条款链接 Link",
]
EXAMPLES = ["扬尘", "燃油叉车", "PM2.5浓度", "宣传", "降尘量"]


@dataclass(frozen=True)
class SearchRequest:
    """What the reader asked for, cleaned: ``q`` (at most MAX_QUERY_CHARS), facet choices
    (campaign as an id when the name is known), the page (>= 1) and the export format."""

    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    page: int = 1
    fmt: str | None = None
    shortened: bool = False
    unknown_campaign: str | None = None


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1)) if len(value or "") <= 9 else 1
    except ValueError:
        return 1


def parse_request(args: Mapping[str, Any]) -> SearchRequest:
    """A :class:`SearchRequest` from the query string (a mapping with ``.get``)."""
    raw = str(args.get("q") or "")
    q = " ".join(raw.split())
    shortened = len(q) > MAX_QUERY_CHARS
    q = q[:MAX_QUERY_CHARS]
    filters: dict[str, str] = {}
    unknown = None
    for name in FACETS:
        value = " ".join(str(args.get(name) or "").split())[:50]
        if not value:
            continue
        if name == "campaign":
            cid = campaign_id(value)
            if cid is None:
                unknown = value
            value = cid or value
        filters[name] = value
    fmt = str(args.get("_format") or "").lower() or None
    return SearchRequest(
        q,
        filters,
        _page_number(args.get("page")),
        fmt if fmt in ("csv", "xlsx") else None,
        shortened,
        unknown,
    )


def url(req: SearchRequest, **changes: Any) -> str:
    """Root-relative link to the search page for ``req`` with facets changed (a value of None
    removes the facet; ``page`` and ``_format`` may be given)."""
    filters = {**req.filters}
    extra: dict[str, str] = {}
    for key, value in changes.items():
        if key in FACETS:
            if value is None:
                filters.pop(key, None)
            else:
                filters[key] = str(value)
        elif value is not None and not (key == "page" and value == 1):
            extra[key] = str(value)
    ordered = {k: filters[k] for k in FACETS if k in filters}
    return routes.search_url(req.q or None, **ordered, **extra)


# -- the hits -------------------------------------------------------------------------------


def _rows(conn: sqlite3.Connection, sql: str, params: list | tuple = ()) -> list[dict]:
    cur = conn.execute(sql, tuple(params))
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def load_hits(conn: sqlite3.Connection, matches: list[tuple[str, float]]) -> list[dict]:
    """The hits in ``matches`` order with their document, section path, campaign name and the
    kinds of their targets (``kinds``)."""
    if not matches:
        return []
    ids = json.dumps([cid for cid, _ in matches], ensure_ascii=False)
    rows = _rows(
        conn,
        """
        select c.id as clause_id, c.text, c.campaign, c.seq, c.page, c.document_id,
          d.district, d.title, d.genre, d.year, d.year_end,
          cc.section_path, cc.label, cc.citation,
          coalesce(k.name_zh, c.campaign) as campaign_name
        from json_each(?) j
        join clauses c on c.id = j.value
        join documents d on d.id = c.document_id
        left join clause_citations cc on cc.clause_id = c.id
        left join campaigns k on k.id = c.campaign
        order by j.key
        """,
        [ids],
    )
    kinds: dict[str, set[str]] = {}
    for cid, kind in conn.execute(
        "select clause_id, kind from targets where clause_id in (select value from json_each(?))", [ids]
    ):
        kinds.setdefault(cid, set()).add(kind)
    for r in rows:
        r["kinds"] = kinds.get(r["clause_id"], set())
    return rows


def _facet_values(hit: dict, name: str) -> list[str]:
    if name == "kind":
        return sorted(hit["kinds"])
    value = hit.get(name)
    return [] if value is None or value == "" else [str(value)]


def _passes(hit: dict, filters: Mapping[str, str], skip: str | None = None) -> bool:
    return all(name == skip or value in _facet_values(hit, name) for name, value in filters.items())


def filter_hits(hits: list[dict], filters: Mapping[str, str]) -> list[dict]:
    """The hits every facet choice keeps (kind: the clause states a target of that kind)."""
    return [h for h in hits if _passes(h, filters)]


def facet_counts(hits: list[dict], req: SearchRequest) -> dict[str, dict[str, int]]:
    """Each facet's value counts over ``hits`` (dicts with the facet values) under the other
    facets' choices: a hit that every choice keeps counts in every facet, one that a single
    choice drops counts in that choice's facet only, one that two drop in none."""
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    filters = list(req.filters.items())
    if not filters:  # every hit counts in every facet (counted in C: Counter over the column)
        for name in FACETS:
            if name == "kind":
                column = Counter(v for h in hits for v in h["kinds"])
            else:
                column = Counter([h.get(name) for h in hits])
            counts[name] = {str(v): n for v, n in column.items() if v is not None and v != ""}
        return counts
    for h in hits:
        values = {name: _facet_values(h, name) for name in FACETS}
        failed = [name for name, value in filters if value not in values[name]]
        if len(failed) > 1:
            continue
        for name in failed or FACETS:
            counted = counts[name]
            for v in values[name]:
                counted[v] = counted.get(v, 0) + 1
    return counts


def facets(hits: list[dict], req: SearchRequest, campaign_names: Mapping[str, str]) -> list[dict]:
    """Each facet: its label and values with counts (under the other facets' choices), the
    link a click follows and whether it is chosen; the chosen one first, then by count."""
    return facet_list(facet_counts(hits, req), req, campaign_names)


def facet_list(
    all_counts: Mapping[str, Mapping[str, int]], req: SearchRequest, campaign_names: Mapping[str, str]
) -> list[dict]:
    """The facets of the page from each facet's value counts (at most :data:`FACET_VALUES`
    values each, the most frequent; the chosen value always)."""
    out = []
    for name in FACETS:
        counts = dict(all_counts.get(name) or {})
        chosen = req.filters.get(name)
        if chosen is not None:
            counts.setdefault(chosen, 0)
        if name == "year":
            order = sorted(counts, key=lambda v: v, reverse=True)
        else:
            order = sorted(counts, key=lambda v: (-counts[v], v))
        n_values = len(order)
        order = order[:FACET_VALUES]
        if chosen is not None and chosen not in order:
            order.append(chosen)
        values = []
        for v in order:
            if name == "campaign":
                label = campaign_names.get(v, v)
            elif name == "kind":
                label = KIND_LABELS.get(v, v)
            elif name == "year":
                label = f"{v}年"
            else:
                label = v
            selected = v == chosen
            values.append(
                {
                    "value": v,
                    "label": label,
                    "count": counts[v],
                    "selected": selected,
                    "url": url(req, **{name: None if selected else v}),
                }
            )
        out.append(
            {
                "name": name,
                "label": FACET_LABELS[name],
                "values": values,
                "n_more": max(0, n_values - len(values)),
                "chosen": chosen,
                "clear_url": url(req, **{name: None}),
            }
        )
    return out


# -- the hits in SQL: ranked, filtered, counted and paged without loading every match -----------


def _hits_cte(q: str) -> tuple[str, list] | None:
    """``with ... sel as (...)``: every clause the query finds (the queries of a kb.db built
    before ``search_clauses`` and ``clause_targets_fts``), one row each with ``tier`` (0:
    its text matches, the :data:`MAX_HITS` best by bm25; 1: its text does not match at all, but
    one of its targets does, by the indicator's name or the quantity: at most :data:`MAX_HITS`
    of them), ``rank`` (bm25 of the text, else of its best target) and the facet columns; None
    when the query has no word. Only the text matches are ranked as a whole (FTS5, in C, with
    the limit); the targets' bm25 is computed only for the targets of tier-1 clauses (the rank
    column is read after the ``not in`` test), so the work grows with the matches at a small
    constant, not with sorting every matching target."""
    if not query_groups(q):
        if q.strip():
            return None  # only punctuation or FTS syntax: nothing to look for
        found = """
          select id as clause_id, 0 as tier, 0.0 as rank, campaign, document_id, seq
          from clauses order by document_id, seq limit ?"""
        params: list = [MAX_HITS]
        head = ""
    else:
        match = fts_query(q)
        # the text matches are joined to clauses by rowid (no lookup by id), once
        head = """
      text_hits as materialized (
        select rowid as clause_rowid, rank from clauses_fts where clauses_fts match ? order by rank limit ?
      ),
      text_ids as materialized (
        select c.id as clause_id, 0 as tier, h.rank, c.campaign, c.document_id, c.seq
        from text_hits h join clauses c on c.rowid = h.clause_rowid
      ),
      text_all as materialized (
        select id from clauses where rowid in (select rowid from clauses_fts where clauses_fts match ?)
      ),
      by_target as (
        select t.clause_id, min(f.rank) as rank from targets_fts f join targets t on t.rowid = f.rowid
        where targets_fts match ? and t.clause_id is not null
          and t.clause_id not in (select id from text_all)
        group by t.clause_id order by 2 limit ?
      ),"""
        found = """
          select * from text_ids
          union all
          select b.clause_id, 1 as tier, b.rank, c.campaign, c.document_id, c.seq
          from by_target b join clauses c on c.id = b.clause_id"""
        params = [match, MAX_HITS, match, match, MAX_HITS]
    sql = f"""
      with {head}
      found as ({found}),
      sel as materialized (
        select found.clause_id, found.tier, found.rank, found.campaign, found.document_id, found.seq,
          d.district, d.genre, d.year
        from found join documents d on d.id = found.document_id
      )"""
    return sql, params


# the hits of _hits_cte read by rowid from the build's tables (extractor.kb.search_tables and
# fts.clause_targets_fts), in two statements, one a tier, that share nothing, so the served page
# runs them on two SQL threads at once (plugin._search_selection). The text matches are ranked in one
# pass (each match's bm25 once, sorted by SQLite). The clauses found by their targets are the
# clause_targets_fts rows the query finds in the clause's and its targets' tokens but not in the
# clause's alone (one FTS5 NOT, fts.targets_only_query: no set of text matches to test them
# against), ranked by bm25 of the query on their row (``+rowid``: tested against that set,
# never looked up one by one; the rank is read after the test).
_TEXT_HITS = f"""
select s.clause_id, 0 as tier, f.rank, s.district, s.campaign, s.genre, s.year, s.kinds
from (select rowid as clause_rowid, rank from clauses_fts where clauses_fts match ? order by rank, rowid limit ?) f
join [{search_tables.CLAUSES_TABLE}] s on s.clause_rowid = f.clause_rowid
order by f.rank, s.document_id, s.seq
"""
_TARGET_HITS = f"""
with only_targets as materialized (
  select rowid as clause_rowid from clause_targets_fts where clause_targets_fts match ?
)
select s.clause_id, 1 as tier, f.rank, s.district, s.campaign, s.genre, s.year, s.kinds
from (
  select rowid as clause_rowid, rank from clause_targets_fts
  where clause_targets_fts match ? and +rowid in (select clause_rowid from only_targets)
  order by rank, rowid limit ?
) f
join [{search_tables.CLAUSES_TABLE}] s on s.clause_rowid = f.clause_rowid
order by f.rank, s.document_id, s.seq
"""


def tier_statements(q: str) -> list[tuple[str, list]]:
    """The two statements of :func:`selection` with the build's tables, in tier order (text
    matches, then the clauses found by their targets): each gives its tier's rows, best first;
    their rows one after the other are the selection. ``q`` must have a word (:func:`query_groups`)."""
    match = fts_query(q)
    return [
        (_TEXT_HITS, [match, MAX_HITS]),
        (_TARGET_HITS, [fts.targets_only_query(match), match, MAX_HITS]),
    ]


def tier_rows(conn: sqlite3.Connection, sql: str, params: list) -> list[dict]:
    """The rows of one of :func:`tier_statements` (``kinds`` as a set)."""
    rows = _rows(conn, sql, params)
    for r in rows:
        r["kinds"] = set(r["kinds"].split(",")) if r["kinds"] else set()
    return rows


def selection(conn: sqlite3.Connection, q: str, tables: bool | None = None) -> list[dict]:
    """Every clause ``q`` finds (see :func:`_hits_cte`) as light rows, best first (text matches
    by bm25, then clauses found by a target; ties in document order): ``clause_id``, ``tier``
    (0: a text match, 1: found by its targets), ``rank``
    and the facet values (``district``, ``campaign``, ``genre``, ``year``, ``kinds`` of its
    targets), no text. The page, the counts and the facets are made from it, and
    the snippets only for the page's rows. With a query and the build's ``search_clauses`` and
    ``clause_targets_fts``, every join is by rowid, and a clause is found by its targets when
    the query occurs in its text and its targets' words together (one FTS row a clause), in two
    statements (:func:`tier_statements`);
    ``tables=False``, or a kb.db without them: the older queries, from ``clauses``,
    ``documents``, ``targets`` and ``targets_fts`` (one target's words at a time, the clause
    ranked by its best target)."""
    if q and query_groups(q) and (search_tables.has_tables(conn) if tables is None else tables):
        return [r for sql, params in tier_statements(q) for r in tier_rows(conn, sql, params)]
    cte = _hits_cte(q)
    if cte is None:
        return []
    sql, params = cte
    rows = _rows(
        conn,
        sql
        + """
        select sel.clause_id, sel.tier, sel.rank, sel.district, sel.campaign, sel.genre, sel.year,
          (select group_concat(distinct t.kind) from targets t where t.clause_id = sel.clause_id) as kinds
        from sel order by sel.tier, sel.rank, sel.document_id, sel.seq""",
        params,
    )
    for r in rows:
        r["kinds"] = set(r["kinds"].split(",")) if r["kinds"] else set()
    return rows


def sql_facet_counts(
    conn: sqlite3.Connection, req: SearchRequest, found: list[dict] | None = None
) -> tuple[int, int, dict[str, dict[str, int]]]:
    """``(hits, hits under the filters, facet counts)`` of ``req`` (``found``: its
    :func:`selection`, read if not given)."""
    found = selection(conn, req.q) if found is None else found
    total = sum(1 for h in found if _passes(h, req.filters)) if req.filters else len(found)
    return len(found), total, facet_counts(found, req)


def page_matches(
    conn: sqlite3.Connection, req: SearchRequest, offset: int, limit: int, found: list[dict] | None = None
) -> list[tuple[str, float]]:
    """``(clause_id, rank)`` of the hits ``offset`` .. ``offset + limit`` under the filters,
    best first (``found``: the :func:`selection` of ``req.q``, read if not given)."""
    found = selection(conn, req.q) if found is None else found
    kept = [h for h in found if _passes(h, req.filters)] if req.filters else found
    return [(h["clause_id"], h["rank"]) for h in kept[offset : offset + limit]]


def _targets(conn: sqlite3.Connection, clause_ids: list[str], q: str) -> dict[str, list[dict]]:
    """The targets each clause states, as the pages write them."""
    if not clause_ids:
        return {}
    rows = _rows(
        conn,
        """
        select t.id as target_id, t.clause_id, t.value, t.value_max, t.comparator, t.unit,
          t.value_text, t.kind, t.year, t.surface, t.indicator_id,
          coalesce(i.name_zh, t.indicator) as indicator_name
        from targets t left join indicators i on i.id = t.indicator_id
        where t.clause_id in (select value from json_each(?))
        order by t.clause_id, t.start, t.id
        """,
        [json.dumps(clause_ids, ensure_ascii=False)],
    )
    out: dict[str, list[dict]] = {}
    for t in rows:
        if t["value"] is None and t["value_text"]:
            t["display"] = t["value_text"]
        else:
            t["display"] = format_value(t["value"], t["value_max"], t["comparator"], t["unit"])
        t["kind_label"] = KIND_LABELS.get(t["kind"], t["kind"])
        t["indicator_html"] = highlight(t["indicator_name"] or "", q)
        t["url"] = routes.clause_url(t["clause_id"], t["target_id"], q=q or None)
        out.setdefault(t["clause_id"], []).append(t)
    return out


def _present(conn: sqlite3.Connection, hits: list[dict], q: str, snippets: bool = True) -> list[dict]:
    targets = _targets(conn, [h["clause_id"] for h in hits], q)
    for h in hits:
        if snippets:  # only for the rows shown (the export writes the whole clause)
            h["snippet_html"] = snippet(h["text"], q, width=SNIPPET_CHARS)
        h["book_title"] = book_title(h["title"] or "")
        h["targets"] = targets.get(h["clause_id"], [])
        h["url"] = routes.clause_url(h["clause_id"], q=q or None)
    return hits


def capped(found: list[dict]) -> bool:
    """Whether a :func:`selection` holds the most it may: :data:`MAX_HITS` text matches, or as
    many clauses found by their targets (so the query finds more than the page counts)."""
    by_tier = [0, 0]
    for h in found:
        by_tier[h["tier"]] += 1
    return max(by_tier) >= MAX_HITS


def count_matches(conn: sqlite3.Connection, q: str) -> int:
    """How many clauses a query finds (clauses or their targets; at most :data:`MAX_HITS` of each)."""
    return len(selection(conn, q)) if query_groups(q) else 0


def _campaign_names(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("select id, name_zh from campaigns").fetchall())


def search_context(
    conn: sqlite3.Connection, req: SearchRequest, per_page: int = PER_PAGE, found: list[dict] | None = None
) -> dict:
    """Everything the search page shows for ``req`` (``per_page`` hits a page: their snippets
    are the only ones made); ``found``: its :func:`selection`, if already read."""
    campaign_names = _campaign_names(conn)
    browsing = not req.q and bool(req.filters)
    if found is None:
        found = selection(conn, req.q) if (req.q or browsing) else []
    total_unfiltered, total, counts = sql_facet_counts(conn, req, found)
    n_pages = max(1, -(-total // per_page))
    page = min(req.page, n_pages)
    matches = page_matches(conn, req, (page - 1) * per_page, per_page, found) if total else []
    shown = _present(conn, load_hits(conn, matches), req.q)

    did_you_mean = None
    parts: list[dict] = []
    if req.q and not total_unfiltered:
        guess = suggest(conn, req.q)
        if guess and guess != req.q and count_matches(conn, guess):
            did_you_mean = {"q": guess, "url": routes.search_url(guess, **req.filters)}
        words = req.q.split()
        if len(words) > 1:  # 扬尘 燃油叉车: every word must occur; offer each alone
            for w in words[:6]:
                n = count_matches(conn, w)
                if n:
                    parts.append({"q": w, "count": n, "url": routes.search_url(w, **req.filters)})
    return {
        "q": req.q,
        "search": req,
        "title": f"检索：{req.q} · policy-kb" if req.q else "检索 Search · policy-kb",
        "hits": shown,
        "total": total,
        "total_unfiltered": total_unfiltered,
        "capped": capped(found),
        "per_page": per_page,
        **pagination(page, n_pages, per_page, len(matches), lambda n: url(req, page=n)),
        "facets": facet_list(counts, req, campaign_names) if total_unfiltered else [],
        "filters": [
            {
                "name": name,
                "label": FACET_LABELS[name],
                "value": _filter_label(name, value, campaign_names),
                "url": url(req, **{name: None}),
            }
            for name, value in req.filters.items()
        ],
        "clear_filters_url": routes.search_url(req.q or None),
        "did_you_mean": did_you_mean,
        "parts": parts,
        "csv_url": url(req, _format="csv"),
        "xlsx_url": url(req, _format="xlsx"),
        "examples": [{"q": e, "url": routes.search_url(e)} for e in EXAMPLES],
        "searched": bool(req.q) or browsing,
    }


def _filter_label(name: str, value: str, campaign_names: Mapping[str, str]) -> str:
    if name == "campaign":
        return campaign_names.get(value, value)
    if name == "kind":
        return KIND_LABELS.get(value, value)
    return f"{value}年" if name == "year" else value


# -- the export -----------------------------------------------------------------------------


def export_table(conn: sqlite3.Connection, req: SearchRequest, link_prefix: str = "") -> tuple[list, list]:
    """``(headers, rows)`` of every hit of ``req`` (all pages), Chinese headers, for
    :func:`extractor.web.export.download`. Links are ``link_prefix`` + the clause page."""
    browsing = not req.q and bool(req.filters)
    matches = page_matches(conn, req, 0, MAX_HITS) if (req.q or browsing) else []
    selected = _present(conn, load_hits(conn, matches), req.q, snippets=False)
    rows = []
    for h in selected:
        quantities = "; ".join(
            f"{t['indicator_name'] or ''} {t['display']}（{t['kind_label']}{'，' + str(t['year']) + '年' if t['year'] else ''}）".strip()
            for t in h["targets"]
        )
        year = f"{h['year']}–{h['year_end']}" if h["year"] and h["year_end"] else h["year"]
        rows.append(
            [
                h["district"],
                h["campaign_name"],
                h["book_title"],
                h["genre"],
                year,
                h["section_path"],
                h["label"],
                h["text"],
                quantities,
                h["citation"],
                link_prefix.rstrip("/") + (h["url"] or ""),
            ]
        )
    return list(EXPORT_HEADERS), rows


def export_stem(req: SearchRequest) -> str:
    """The download's name stem: ``search-<query>``."""
    return "search-" + (req.q[:30] if req.q else "all")
