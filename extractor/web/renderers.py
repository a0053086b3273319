"""Datasette output renderers: every table, view, row and (canned) query page of kb.db as a
download a researcher opens in Excel.

Two formats (Datasette's ``register_output_renderer``; a format name is the path's suffix and
must be ``\\w+``):

- ``.excelcsv`` -> ``policykb-<name>.csv``: CSV for Excel (UTF-8 with a byte-order mark,
  one line per row, headers "地区 district").
- ``.xlsx`` -> ``policykb-<name>.xlsx``: an Excel workbook (openpyxl).

Datasette's own ``.csv`` and ``.json`` stay as they are (programs and the tests read them).
Both are sent as attachments (:func:`extractor.web.export.download`). The headers come from
``export_headers`` in site.yml (data: one short Chinese name per column, the English column
name beside it). ``snippet`` HTML loses its ``<mark>`` tags; link columns (``clause_url``…)
become absolute URLs so that they are clickable in Excel.

Rows: a table or view exports every row its filters select, not only the page shown (the
page's SQL is run again without its ``limit``); a query exports what it returns, run again
without Datasette's ``max_returned_rows`` cut. Either stops at ``export_max_rows`` (site.yml,
plugin settings): more rows than that is a 400 error that says so, never a silently cut file.
The file is built in memory (kb.db's largest table has a few hundred rows; the bound keeps a
big custom query from exhausting memory).
"""

from __future__ import annotations

import re
from typing import Any

from datasette.utils.asgi import Response

from extractor.web import export, site

FORMATS = {"excelcsv": "csv", "xlsx": "xlsx"}  # Datasette format name -> file type
LABELS = {"excelcsv": "下载 CSV（Excel）", "xlsx": "下载 Excel"}
# Datasette's view names: a table or view page ("table", also a canned query's), a row, a
# custom SQL query ("database" with ?sql=; "query" in later versions)
VIEWS = ("table", "row", "database", "query")
_TAIL_LIMIT = re.compile(r"\s+limit\s+\d+(?:\s+offset\s+\d+)?\s*$", re.IGNORECASE)


def register(plugin_config) -> list[dict[str, Any]]:
    """The renderer definitions for ``register_output_renderer``."""

    def make(fmt: str):
        async def render(
            datasette, request, columns, rows, sql, query_name, database, table, view_name, data
        ):
            return await render_download(
                datasette,
                request,
                fmt,
                columns,
                rows,
                sql,
                query_name,
                database,
                table,
                view_name,
                data,
                plugin_config(datasette),
            )

        return {"extension": fmt, "render": render, "can_render": can_render}

    return [make(fmt) for fmt in FORMATS]


def can_render(view_name, columns) -> bool:
    return view_name in VIEWS and bool(columns)


def header(column: str) -> str:
    """The export header of a column: "地区 district", or the column name when site.yml has
    no Chinese name for it."""
    zh = site.export_headers().get(column)
    return f"{zh} {column}" if zh and zh != column else column


def stem(table: str | None, query_name: str | None, args) -> str:
    """The download's name: the table or query, then the values of its parameters
    (``targets_by_district-怀柔``); a custom SQL query is ``query``."""
    name = table or query_name or "query"
    if query_name:
        values = [args.get(k) for k in args if not k.startswith("_") and k != "sql" and args.get(k)]
        name = "-".join([name, *values])
    return name


class TooManyRows(Exception):
    pass


async def all_rows(datasette, database, view_name, sql, params, rows, data, limit: int):
    """The rows to export: the page's rows when they are all of them, else the page's SQL run
    again without the page's limit (at most ``limit`` rows; :class:`TooManyRows` past it)."""
    table_page = view_name == "table" and data.get("table") and not data.get("query_name")
    complete = not (data.get("next") if table_page else data.get("truncated"))
    if complete or not sql:
        if len(rows) > limit:
            raise TooManyRows(len(rows))
        return columns_of(data, rows), list(rows)
    if table_page:
        full_sql = _TAIL_LIMIT.sub("", sql) + f" limit {limit + 1}"
    else:
        full_sql = f"select * from ({sql}) limit {limit + 1}"
    results = await datasette.get_database(database).execute(full_sql, params or {})
    if len(results.rows) > limit:
        raise TooManyRows(len(results.rows))
    return results.columns, list(results.rows)


def columns_of(data, rows) -> list[str]:
    return list(data.get("columns") or (rows[0].keys() if rows else []))


def cell(value, column: str, config: dict, absolute) -> Any:
    """One cell as the file holds it: a label's value, plain text for snippet HTML,
    absolute links, a note for binary values."""
    if isinstance(value, dict) and "value" in value:  # an expanded foreign key (?_labels=on)
        value = value["value"]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        if column in config["html_columns"]:
            return export.plain_text(value)
        if column in config["link_columns"] and value.startswith("/-/"):
            return absolute(value)
    return value


async def render_download(
    datasette, request, fmt, columns, rows, sql, query_name, database, table, view_name, data, config
):
    if view_name not in VIEWS or not columns:
        return None  # Datasette answers 404 "No data"
    limit = int(config.get("export_max_rows") or 20000)
    params = (data.get("query") or {}).get("params") or {}
    try:
        columns, rows = await all_rows(datasette, database, view_name, sql, params, rows, data, limit)
    except TooManyRows as e:
        return Response.text(
            f"导出上限为 {limit} 行，该结果有 {e.args[0]} 行以上：请加筛选条件。"
            f"An export holds at most {limit} rows; this result has more. Filter it, or use .csv?_stream=on.",
            status=400,
        )

    def absolute(path: str) -> str:
        return datasette.absolute_url(request, datasette.urls.path(path))

    body = ([cell(v, c, config, absolute) for v, c in zip(_values(row, columns), columns)] for row in rows)
    name = stem(table, query_name, request.args)
    if view_name == "row" and rows:
        name = f"{name}-{_values(rows[0], columns)[0]}"
    return export.download(FORMATS[fmt], name, [header(c) for c in columns], body)


def _values(row, columns) -> list:
    if isinstance(row, dict):
        return [row.get(c) for c in columns]
    return list(row)


def download_links(datasette, request, view_name: str) -> list[dict[str, str]]:
    """The download links shown on a table, row or query page: the page's own URL with the
    format's suffix, without ``_next`` (a download holds every row, not the rest from here)
    and without ``_labels`` (cells hold values)."""
    from datasette.utils import path_with_format, path_with_removed_args

    if request is None or view_name not in VIEWS:
        return []
    path = path_with_removed_args(request, {"_next", "_labels", "_size", "_format"})
    out = []
    for fmt in FORMATS:
        url = path_with_format(path=path.split("?")[0], format=fmt)
        query = path.partition("?")[2]
        if query:
            url += ("&" if "?" in url else "?") + query
        out.append({"format": fmt, "label": LABELS[fmt], "href": datasette.urls.path(url)})
    return out
