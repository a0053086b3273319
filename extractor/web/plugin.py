"""Datasette plugin ``policykb`` (entry point in pyproject.toml): thin hooks only.

- ``prepare_connection``: jieba-aware ``escape_fts`` (so a table's ``?_search=`` box works for
  Chinese) and the ``policykb_*`` SQL functions from :mod:`extractor.search`.
- ``prepare_jinja2_environment``: our templates (pages, index.html with links, base.html with lang="zh-CN").
- ``register_routes``: ``/-/compare``, ``/-/compare/<indicator_id>``, ``/-/clause/<clause_id>``
  and the vendored Vega files under ``/-/policykb/static/``.
- ``render_cell``: ``<mark>`` snippets and ``*_url`` link columns as HTML.
- ``menu_links`` / ``extra_template_vars``: links to the pages from every page and the index.

Configuration (``plugins: policykb:`` in metadata.yml), all optional::

    database: kb                       # the kb.db database name
    html_columns: [snippet]            # columns holding policykb_snippet() HTML
    link_columns: {clause_url: 原文条款, compare_url: 地区对比}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import Response, asgi_static
from markupsafe import Markup, escape

from extractor.kb import search
from extractor.web import pages

PLUGIN = "policykb"
STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_ROUTE = "/-/policykb/static/"
DEFAULT_CONFIG: dict[str, Any] = {
    "database": "kb",
    "html_columns": ["snippet"],
    "link_columns": {"clause_url": "原文条款", "compare_url": "地区对比"},
}


def plugin_config(datasette) -> dict[str, Any]:
    """The plugin's settings from metadata.yml, over :data:`DEFAULT_CONFIG`."""
    return {**DEFAULT_CONFIG, **(datasette.plugin_config(PLUGIN) or {})}


def kb_database(datasette):
    """The kb.db Database object: the configured name, else the first database."""
    name = plugin_config(datasette)["database"]
    if name in datasette.databases:
        return datasette.get_database(name)
    return datasette.get_database()


def nav_links(datasette) -> list[dict[str, str]]:
    """Links to the researcher's pages (menu, index page, page headers)."""
    db_name = kb_database(datasette).name
    return [
        {"href": datasette.urls.path("/-/compare"), "label": "指标对比 Compare indicators"},
        {
            "href": datasette.urls.path(f"/{db_name}/search_measures"),
            "label": "检索措施 Search measures",
        },
        {"href": datasette.urls.path(f"/{db_name}/coverage"), "label": "指标覆盖 Coverage"},
        {
            "href": datasette.urls.path(f"/{db_name}/targets_by_district"),
            "label": "各区目标 Targets by district",
        },
    ]


def add_templates(env) -> None:
    """Put our templates before Datasette's defaults (after any --template-dir).

    Datasette only finds a plugin's templates/ beside a *package* entry point; ours is the
    module ``extractor.web.plugin``, so the directory is added to the Jinja search path here.
    """
    loader = env.loader.loaders[0]  # FileSystemLoader([--template-dir, ..., default])
    path = str(TEMPLATES_DIR)
    if path not in loader.searchpath:
        loader.searchpath.insert(len(loader.searchpath) - 1, path)


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
def prepare_jinja2_environment(env):
    add_templates(env)


@hookimpl(trylast=True, specname="prepare_connection")
def prepare_connection(conn):
    # trylast: Datasette's own prepare_connection registers escape_fts; ours must come after.
    search.register_functions(conn)


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
def extra_template_vars(datasette):
    return {
        "policykb_links": nav_links(datasette),
        "policykb_static": lambda path: datasette.urls.path(STATIC_ROUTE + path),
        "policykb_db": kb_database(datasette).name,
    }


@hookimpl
def register_routes():
    return [
        (r"^/-/compare/?$", compare_index_view),
        (r"^/-/compare/(?P<indicator_id>[^/]+)$", compare_view),
        (r"^/-/clause/(?P<clause_id>[^/]+)$", clause_view),
        (r"^/-/policykb/static/(?P<path>.*)$", asgi_static(STATIC_DIR)),
    ]


# -- views: fetch with the plain functions, render a template -------------------------------


async def compare_index_view(datasette, request):
    db = kb_database(datasette)
    indicators = await db.execute_fn(pages.indicator_index)
    return await _render(datasette, request, "policykb_compare_index.html", {"indicators": indicators})


async def compare_view(datasette, request):
    indicator_id = request.url_vars["indicator_id"]
    db = kb_database(datasette)
    base = datasette.urls.path("/")
    context = await db.execute_fn(lambda conn: pages.compare_context(conn, indicator_id, base))
    if context is None:
        return await _not_found(datasette, request, f"未知指标 Unknown indicator: {indicator_id}")
    context["chart_json"] = Markup(json.dumps(context["chart"], ensure_ascii=False).replace("</", "<\\/"))
    return await _render(datasette, request, "policykb_compare.html", context)


async def clause_view(datasette, request):
    clause_id = request.url_vars["clause_id"]
    target_id = request.args.get("target")
    q = request.args.get("q")
    db = kb_database(datasette)
    context = await db.execute_fn(lambda conn: pages.clause_context(conn, clause_id, target_id, q))
    if context is None:
        return await _not_found(datasette, request, f"未知条款 Unknown clause: {clause_id}")
    context["clause_html"] = Markup(context["clause_html"])
    context["clause_row_url"] = datasette.urls.row(db.name, "clauses", tilde_encode(clause_id))
    context["document_row_url"] = datasette.urls.row(
        db.name, "documents", tilde_encode(context["document"]["id"])
    )
    return await _render(datasette, request, "policykb_clause.html", context)


async def _render(datasette, request, template: str, context: dict):
    context = {**context, "policykb_db": kb_database(datasette).name}
    return Response.html(await datasette.render_template(template, context, request=request))


async def _not_found(datasette, request, message: str):
    html = await datasette.render_template(
        "error.html", {"ok": False, "error": message, "title": "Error 404", "status": 404}, request=request
    )
    return Response.html(html, status=404)
