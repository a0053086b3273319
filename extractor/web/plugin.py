"""The hooks of the Datasette plugin ``policykb`` (the package :mod:`extractor.web` is the entry
point, see pyproject.toml; it imports these). Thin hooks only:

- ``prepare_connection``: jieba-aware ``escape_fts`` (so a table's ``?_search=`` box works for
  Chinese) and the ``policykb_*`` SQL functions from :mod:`extractor.web.search`.
- ``startup``: loads jieba's dictionary and the t2s converter when the server starts (a search
  then never pays 1.4-2.3 s for it: :func:`warm_up`).
- ``asgi_wrapper``: the server is read-only: any method but GET and HEAD is answered 405 (a POST
  to a canned query would otherwise try a write and fail with a 500); campaign names in a query
  string become ids (``?campaign=蓝天保卫战`` -> ``air``) for every table, view and canned query.
- ``get_metadata`` / ``canned_queries``: what the package ships in ``site.yml`` (see
  :mod:`extractor.web.site`): table and column descriptions, facets, the canned queries.
- ``register_routes``: ``/-/compare``, ``/-/compare/<indicator_id>`` (``?kind=&year=&district=``),
  ``/-/coverage``, ``/-/district``, ``/-/district/<district>``, ``/-/clause/<clause_id>``,
  ``/-/search``, ``/-/diff?a=&b=`` (plan-to-plan change, :mod:`extractor.kb.plandiff`) (paths from :mod:`extractor.routes`); the search page's context is built by
  :mod:`extractor.web.search_page`; the comparison, coverage, district and search pages
  download as CSV or Excel with ``?_format=csv|xlsx`` (:func:`extractor.web.export.download`).
- ``render_cell``: ``<mark>`` snippets and ``*_url`` link columns as HTML.
- ``menu_links`` / ``extra_template_vars``: links to the pages from every page and the index,
  and the download links of table, row and query pages.
- ``register_output_renderer``: the ``.excelcsv`` and ``.xlsx`` downloads
  (:mod:`extractor.web.renderers`).
- ``prepare_jinja2_environment``: ``policykb_footer()`` for templates/_footer.html (licence,
  source, Datasette's version) on every page, error pages included.

Datasette itself finds the package's ``templates/`` (pages, index.html with links, base.html
with lang="zh-CN") and serves its ``static/`` (CSS, vendored Vega) under
``/-/static-plugins/<plugin name>/``.

Configuration (``plugins: policykb:`` in metadata.yml), all optional, defaults in site.yml::

    database: kb                       # the kb.db database name
    html_columns: [snippet]            # columns holding policykb_snippet() HTML
    link_columns: {clause_url: 原文条款, compare_url: 地区对比}
"""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from extractor import routes
from extractor.web import ambition, diffusion, duties, export, pages, renderers, search, search_page, site
from extractor.web.responses import ResponseCache

PLUGIN = "policykb"
STATIC_DIR = Path(__file__).parent / "static"


def plugin_config(datasette) -> dict[str, Any]:
    """The plugin's settings from metadata.yml, over the defaults of site.yml (read once per
    Datasette instance: render_cell asks for every cell, and the metadata of a served site does
    not change while it runs; read again if ``site.plugin_defaults`` is replaced, as tests do)."""
    cached = getattr(datasette, "_policykb_config", None)
    if cached is None or cached[0] is not site.plugin_defaults:
        config = {**site.plugin_defaults(), **(datasette.plugin_config(PLUGIN) or {})}
        cached = datasette._policykb_config = (site.plugin_defaults, config)
    return cached[1]


def _database_name(datasette, config: dict[str, Any]) -> str:
    name = config["database"]
    if name in datasette.databases:
        return name
    return datasette.get_database().name


def kb_database(datasette):
    """The kb.db Database object: the configured name, else the first database."""
    return datasette.get_database(_database_name(datasette, plugin_config(datasette)))


def _local_metadata(datasette) -> dict[str, Any]:
    """The site's own metadata (metadata.yml), without what plugins add."""
    return getattr(datasette, "_metadata_local", None) or {}


def _kb_name_for_metadata(datasette) -> str:
    # get_metadata runs inside datasette.metadata(), which plugin_config() calls: read the
    # site's own settings directly, or this would recurse.
    owner = (_local_metadata(datasette).get("plugins") or {}).get(PLUGIN) or {}
    return _database_name(datasette, {**site.plugin_defaults(), **owner})


@functools.cache
def static_plugin_name() -> str:
    """The name Datasette mounts our static/ under (``/-/static-plugins/<name>/``): the
    distribution's name (policy-kb) when installed, else the package's."""
    from datasette.plugins import get_plugins

    for plugin in get_plugins():
        if plugin["static_path"] and Path(plugin["static_path"]) == STATIC_DIR:
            return plugin["name"]
    return "policy-kb"


def static_url(datasette, path: str) -> str:
    """URL of a file in the package's static/ (``policykb.css``, ``vendor/vega.min.js``)."""
    return datasette.urls.static_plugins(static_plugin_name(), path)


def nav_links(datasette) -> list[dict[str, str]]:
    """Links to the researcher's pages (menu, index page, page headers)."""
    return [
        {"href": datasette.urls.path(routes.SEARCH), "label": "检索 Search"},
        {"href": datasette.urls.path(routes.COMPARE), "label": "指标对比 Compare"},
        {"href": datasette.urls.path(routes.COVERAGE), "label": "指标覆盖 Coverage"},
        {"href": datasette.urls.path(routes.DISTRICT), "label": "各区 Districts"},
        {"href": datasette.urls.path(routes.DIFFUSION), "label": "措施扩散 Diffusion"},
        {"href": datasette.urls.path(routes.UNITS), "label": "责任单位 Units"},
    ]


# -- hooks ----------------------------------------------------------------------------------


@hookimpl(trylast=True, specname="prepare_connection")
def prepare_connection(conn):
    # trylast: Datasette's own prepare_connection registers escape_fts; ours must come after.
    search.register_functions(conn)


def warm_up() -> None:
    """Load what the first search would otherwise load: jieba's dictionary (our tokenizer's),
    the t2s converter, the campaign names."""
    from extractor.kb.fts import query_groups

    query_groups("扬尘管控 PM2.5浓度")
    search.campaign_aliases()


@hookimpl
def startup(datasette):
    from extractor.web.immutable import make_database

    for name in list(datasette.databases):  # each immutable file's schema read once
        make_database(datasette, name)
    warm_up()


READ_METHODS = ("GET", "HEAD")


async def _method_not_allowed(scope, send) -> None:
    body = b"405 Method Not Allowed: this site is read-only (GET and HEAD only).\n"
    await send(
        {
            "type": "http.response.start",
            "status": 405,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"allow", b"GET, HEAD"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body if scope.get("method") != "HEAD" else b""})


@hookimpl
def asgi_wrapper(datasette):
    # Read-only: a write attempt (POST to a canned query, PUT, DELETE ...) is a 405, never a 500.
    # Campaign names wherever an id goes: ?campaign=蓝天保卫战 on a table, a view or a canned
    # query reaches Datasette as ?campaign=air (search.campaign_query_string).
    # Whole answers are kept in memory (extractor.web.responses): kb.db is immutable.
    def wrap(app):
        async def campaign_names(scope, receive, send):
            if scope.get("type") == "http":
                query_string = scope.get("query_string") or b""
                rewritten = search.campaign_query_string(query_string)
                if rewritten is not query_string:
                    scope = {**scope, "query_string": rewritten}
            await app(scope, receive, send)

        megabytes = float(plugin_config(datasette).get("response_cache_mb") or 0)
        inner = campaign_names
        if megabytes > 0:
            datasette._policykb_responses = ResponseCache(int(megabytes * 1024 * 1024))
            inner = datasette._policykb_responses.wrap(campaign_names)

        async def read_only(scope, receive, send):
            if scope.get("type") == "http" and scope.get("method", "GET").upper() not in READ_METHODS:
                await _method_not_allowed(scope, send)
                return
            await inner(scope, receive, send)

        return read_only

    return wrap


@hookimpl
def get_metadata(datasette, key, database, table):
    # Called for every metadata lookup (plugin settings, each cell's render_cell ...): answer
    # only for keys site.yml holds, and for one table when Datasette asks about one.
    if key is not None and key not in site.metadata_keys():
        return None
    name = _kb_name_for_metadata(datasette)
    if database is not None and database != name:
        return None
    if key == "tables" and table is None:  # every table at once: only the rules Datasette reads so
        return {"databases": {name: site.table_rules()}}
    return {"databases": {name: site.database_metadata(table)}}


@hookimpl
def canned_queries(datasette, database):
    if database != kb_database(datasette).name:
        return None
    # Datasette adds these over the site's metadata.yml queries: let a query defined there win.
    own = ((_local_metadata(datasette).get("databases") or {}).get(database) or {}).get("queries") or {}
    return {name: q for name, q in site.canned_queries().items() if name not in own}


@hookimpl
def render_cell(value, column, datasette):
    if not isinstance(value, str):
        return None
    config = plugin_config(datasette)
    if column in config["html_columns"]:
        return Markup(pages.safe_mark_html(value))
    links = config["link_columns"]
    if column in links and value.startswith("/-/"):
        href = datasette.urls.path(value)
        return Markup(f'<a href="{escape(href)}">{escape(links[column])}</a>')
    return None


@hookimpl
def menu_links(datasette):
    return nav_links(datasette)


@hookimpl
def extra_template_vars(datasette, request, view_name):
    return {
        "policykb_links": nav_links(datasette),
        "policykb_static": lambda path: static_url(datasette, path),
        "policykb_routes": routes,
        "policykb_db": kb_database(datasette).name,
        "policykb_downloads": renderers.download_links(datasette, request, view_name),
    }


def footer(datasette) -> dict[str, Any]:
    """What the site's footer (templates/_footer.html) shows on every page, Datasette's and
    ours: the licences and source from metadata.yml and the Datasette version."""
    from datasette.version import __version__

    keys = ("license", "license_url", "source", "source_url", "about", "about_url")
    return {"datasette_version": __version__, **{k: datasette.metadata(k) for k in keys}}


@hookimpl
def prepare_jinja2_environment(env, datasette):
    # a global, not an extra template variable: Datasette's error pages get no extra variables
    env.globals["policykb_footer"] = lambda: footer(datasette)


@hookimpl
def register_output_renderer(datasette):
    # .excelcsv and .xlsx downloads of every table, view, row and query (renderers.py)
    return renderers.register(plugin_config)


@hookimpl
def register_routes():
    return [
        (routes.COMPARE_INDEX_PATTERN, compare_index_view),
        (routes.COMPARE_PATTERN, compare_view),
        (routes.COVERAGE_PATTERN, coverage_view),
        (routes.DISTRICT_INDEX_PATTERN, district_index_view),
        (routes.DISTRICT_PATTERN, district_view),
        (routes.CLAUSE_PATTERN, clause_view),
        (routes.SEARCH_PATTERN, search_view),
        (routes.AMBITION_PATTERN, ambition_view),
        (routes.DIFF_PATTERN, diff_view),
        (routes.UNITS_PATTERN, units_view),
        (routes.DIFFUSION_PATTERN, diffusion_view),
    ]


# -- views: fetch with the plain functions, render a template -------------------------------


def _query(request, **changes) -> str:
    """The request's query string with ``changes`` applied (None removes a parameter)."""
    params = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=False) if k not in changes]
    params += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(params)


def _downloads(request) -> list[dict[str, str]]:
    """下载 CSV / 下载 Excel links to the page itself with ``_format``."""
    return [
        {"href": request.path + "?" + _query(request, _format=fmt, page=None), "label": label, "format": fmt}
        for fmt, label in (("csv", "下载 CSV"), ("xlsx", "下载 Excel"))
    ]


def _wanted_format(request) -> str | None:
    fmt = request.args.get("_format")
    return fmt if fmt in export.FORMATS else None


def _site_root(datasette, request) -> str:
    """Absolute URL of the site root, for links in downloads."""
    return f"{request.scheme}://{request.host}" + datasette.urls.path("/")


def _json(spec) -> Markup:
    return Markup(json.dumps(spec, ensure_ascii=False).replace("</", "<\\/"))


COMPARE_INDEX_HEADERS = [
    "指标 indicator",
    "英文名 name_en",
    "指标标识 indicator_id",
    "领域 campaign",
    "标准单位 canonical_unit",
    "单位种数 units",
    "提出目标的地区数 districts with a target",
    "提出目标的地区 districts",
    "数值数 values",
    "目标数 targets",
    "现状数 actuals",
    "链接 url",
]


async def compare_index_view(datasette, request):
    db = kb_database(datasette)
    indicators = await db.execute_fn(pages.indicator_index)
    fmt = _wanted_format(request)
    if fmt:
        root = _site_root(datasette, request).rstrip("/")
        data = [
            [
                i["name_zh"],
                i["name_en"],
                i["id"],
                i["campaign_name"] or i["campaign"],
                i["canonical_unit"],
                i["n_units"],
                i["n_districts"],
                i["districts"],
                i["n_values"],
                i["n_targets"],
                i["n_actuals"],
                root + i["url"],
            ]
            for i in indicators
        ]
        return export.download(fmt, "indicators", COMPARE_INDEX_HEADERS, data)
    context = {"indicators": indicators, "downloads": _downloads(request)}
    return await _render(datasette, request, "policykb_compare_index.html", context)


async def compare_view(datasette, request):
    indicator_id = request.url_vars["indicator_id"]
    db = kb_database(datasette)
    base = datasette.urls.path("/")
    filters = {k: request.args.get(k) or None for k in ("kind", "year", "district")}
    page = request.args.get("page")
    config = plugin_config(datasette)
    per_page, names = int(config["compare_per_page"]), int(config["compare_districts_listed"])
    context = await db.execute_fn(
        lambda conn: pages.compare_context(
            conn, indicator_id, base, **filters, page=page, per_page=per_page, names_shown=names
        )
    )
    if context is None:
        return await _not_found(datasette, request, f"未知指标 Unknown indicator: {indicator_id}")
    fmt = _wanted_format(request)
    if fmt:  # the download holds every value the filters select, not one page
        f = context["filters"]
        stem = "-".join(str(x) for x in (indicator_id, f["district"], f["kind"], f["year"]) if x)
        every = await db.execute_fn(
            lambda conn: pages.compare_rows(
                conn, indicator_id, kind=f["kind"], year=f["year"], district=f["district"]
            )
        )
        rows = pages.export_rows(every, _site_root(datasette, request))
        return export.download(fmt, stem, pages.EXPORT_HEADERS, rows)
    for group in context["groups"]:
        group["spec_json"] = _json(group["spec"])
    context["downloads"] = _downloads(request)
    context["sql_url"] = datasette.urls.path(
        f"/{db.name}/compare_indicator?" + urlencode({"indicator": indicator_id})
    )
    return await _render(datasette, request, "policykb_compare.html", context)


async def coverage_view(datasette, request):
    db = kb_database(datasette)
    fmt = _wanted_format(request)
    page = None if fmt else (request.args.get("page") or 1)  # the download holds every district
    per_page = int(plugin_config(datasette)["coverage_districts_per_page"])
    context = await db.execute_fn(lambda conn: pages.coverage_context(conn, page=page, per_page=per_page))
    if fmt:
        rows = pages.coverage_export_rows(context, _site_root(datasette, request))
        return export.download(fmt, "coverage", pages.COVERAGE_HEADERS, rows)
    context["downloads"] = _downloads(request)
    context["sql_url"] = datasette.urls.path(f"/{db.name}/coverage")
    return await _render(datasette, request, "policykb_coverage.html", context)


DISTRICT_INDEX_HEADERS = [
    "地区 district",
    "文件数 documents",
    "目标数 targets",
    "现状数 actuals",
    "范围/条件数 scope and conditions",
    "指标数 indicators",
    "领域数 campaigns",
    "起始年份 first year",
    "截止年份 last year",
]


async def district_index_view(datasette, request):
    db = kb_database(datasette)
    fmt = _wanted_format(request)
    if fmt:  # the download holds every district, not one page
        rows = await db.execute_fn(pages.district_index)
        data = [
            [
                r["district"],
                r["n_documents"],
                r["n_targets"],
                r["n_actuals"],
                r["n_scope"],
                r["n_indicators"],
                r["n_campaigns"],
                r["first_year"],
                r["last_year"],
            ]
            for r in rows
        ]
        return export.download(fmt, "districts", DISTRICT_INDEX_HEADERS, data)
    page = request.args.get("page") or 1
    per_page = int(plugin_config(datasette)["districts_per_page"])
    context = await db.execute_fn(lambda conn: pages.district_index_context(conn, page, per_page))
    context["downloads"] = _downloads(request)
    return await _render(datasette, request, "policykb_district_index.html", context)


async def district_view(datasette, request):
    district = unquote(request.url_vars["district"])
    db = kb_database(datasette)
    context = await db.execute_fn(lambda conn: pages.district_context(conn, district))
    if context is None:
        return await _not_found(datasette, request, f"未知地区 Unknown district: {district}")
    fmt = _wanted_format(request)
    if fmt:
        rows = pages.export_rows(context["rows"], _site_root(datasette, request))
        return export.download(fmt, f"district-{district}", pages.EXPORT_HEADERS, rows)
    for doc in context["documents"]:
        doc["row_url"] = datasette.urls.row(db.name, "documents", tilde_encode(doc["id"]))
    context["open_campaign"] = request.args.get("campaign")
    context["downloads"] = _downloads(request)
    context["sql_url"] = datasette.urls.path(
        f"/{db.name}/targets_by_district?" + urlencode({"district": district})
    )
    return await _render(datasette, request, "policykb_district.html", context)


async def clause_view(datasette, request):
    clause_id = request.url_vars["clause_id"]
    target_id = request.args.get("target")
    q = request.args.get("q")
    db = kb_database(datasette)
    context = await db.execute_fn(lambda conn: pages.clause_context(conn, clause_id, target_id, q))
    if context is None:
        return await _not_found(datasette, request, f"未知条款 Unknown clause: {clause_id}")
    context["clause_html"] = Markup(context["clause_html"])
    for e in context["elsewhere"]:
        e["mine_html"], e["theirs_html"] = Markup(e["mine_html"]), Markup(e["theirs_html"])
    context["clause_row_url"] = datasette.urls.row(db.name, "clauses", tilde_encode(clause_id))
    context["document_row_url"] = datasette.urls.row(
        db.name, "documents", tilde_encode(context["document"]["id"])
    )
    return await _render(datasette, request, "policykb_clause.html", context)


async def units_view(datasette, request):
    """/-/units: the districts; ?district=: its unit x campaign matrix and task list."""
    db = kb_database(datasette)
    district = request.args.get("district")
    if not district:
        rows = await db.execute_fn(duties.units_index)
        return await _render(datasette, request, "policykb_units.html", {"districts": rows})
    args = {k: request.args.get(k) for k in ("unit", "campaign", "role")}
    context = await db.execute_fn(lambda conn: duties.units_context(conn, district, **args))
    if context is None:
        return await _not_found(datasette, request, f"未知地区 Unknown district: {district}")
    fmt = _wanted_format(request)
    if fmt:
        rows = duties.export_rows(context, _site_root(datasette, request))
        return export.download(fmt, f"units-{district}", duties.EXPORT_HEADERS, rows)
    context["downloads"] = _downloads(request)
    return await _render(datasette, request, "policykb_units.html", context)


async def diffusion_view(datasette, request):
    db = kb_database(datasette)
    context = await db.execute_fn(diffusion.diffusion_context)
    fmt = _wanted_format(request)
    if fmt:
        rows = diffusion.diffusion_panel_rows(context, _site_root(datasette, request))
        return export.download(fmt, "diffusion-panel", diffusion.PANEL_HEADERS, rows)
    context["downloads"] = _downloads(request)
    context["sql_url"] = datasette.urls.table(db.name, "similar_clauses")
    return await _render(datasette, request, "policykb_diffusion.html", context)


async def search_view(datasette, request):
    req = search_page.parse_request(request.args)
    db = kb_database(datasette)
    if req.fmt:
        prefix = f"{request.scheme}://{request.host}" + datasette.urls.path("/").rstrip("/")
        headers, rows = await db.execute_fn(lambda conn: search_page.export_table(conn, req, prefix))
        return export.download(req.fmt, search_page.export_stem(req), headers, rows)
    per_page = int(plugin_config(datasette)["search_per_page"])
    found = await _search_selection(db, req.q)
    context = await db.execute_fn(lambda conn: search_page.search_context(conn, req, per_page, found))
    return await _render(datasette, request, "policykb_search.html", context)


async def _search_selection(db, q: str) -> list[dict] | None:
    """The search page's hits for ``q`` read on two SQL threads at once, one statement a tier
    (:func:`extractor.web.search_page.tier_statements`: the two share nothing, and each is
    mostly bm25 in SQLite, which runs without the GIL), or None where
    :func:`~extractor.web.search_page.search_context` reads them itself: a query without a word,
    or a kb.db without the search tables (:func:`extractor.kb.search_tables.has_tables`)."""
    from extractor.kb import fts, search_tables

    if not (q and fts.query_groups(q)) or not await db.execute_fn(search_tables.has_tables):
        return None
    parts = await asyncio.gather(
        *(
            db.execute_fn(functools.partial(search_page.tier_rows, sql=sql, params=params))
            for sql, params in search_page.tier_statements(q)
        )
    )
    return [row for part in parts for row in part]


async def ambition_view(datasette, request):
    indicator_id = request.url_vars["indicator_id"]
    db = kb_database(datasette)
    context = await db.execute_fn(lambda conn: ambition.ambition_context(conn, indicator_id))
    if context is None:
        return await _not_found(datasette, request, f"未知指标 Unknown indicator: {indicator_id}")
    fmt = _wanted_format(request)
    if fmt:
        rows = ambition.export_rows(context["rows"], _site_root(datasette, request).rstrip("/"))
        return export.download(fmt, f"ambition-{indicator_id}", ambition.EXPORT_HEADERS, rows)
    context["downloads"] = _downloads(request)
    return await _render(datasette, request, "policykb_ambition.html", context)


async def diff_view(datasette, request):
    # plan-to-plan change (extractor.kb.plandiff); without ?a=&b= only the form
    from extractor.kb import plandiff

    db = kb_database(datasette)
    a, b = request.args.get("a") or "", request.args.get("b") or ""
    context: dict[str, Any] = {"a": a, "b": b, "diff": None, "error": None, "labels": plandiff.STATUS_LABELS}
    context["districts"] = await db.execute_fn(plandiff.documents_by_district)
    if a and b:
        try:
            diff = await db.execute_fn(lambda conn: plandiff.diff_documents(conn, a, b))
        except plandiff.DiffError as exc:
            context["error"] = str(exc)
            html = await datasette.render_template("policykb_diff.html", context, request=request)
            return Response.html(html, status=404 if "unknown" in str(exc) else 400)
        fmt = _wanted_format(request)
        if fmt:
            root = _site_root(datasette, request).rstrip("/")
            rows = plandiff.export_rows(diff, lambda c, t: root + routes.clause_url(c, t))
            return export.download(fmt, f"diff-{a}-{b}", plandiff.EXPORT_HEADERS, rows)
        context["diff"] = diff
        context["downloads"] = _downloads(request)
    return await _render(datasette, request, "policykb_diff.html", context)


async def _render(datasette, request, template: str, context: dict):
    context = {**context, "policykb_db": kb_database(datasette).name}
    return Response.html(await datasette.render_template(template, context, request=request))


async def _not_found(datasette, request, message: str):
    html = await datasette.render_template(
        "error.html", {"ok": False, "error": message, "title": "Error 404", "status": 404}, request=request
    )
    return Response.html(html, status=404)
