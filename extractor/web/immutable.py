"""A Datasette database whose schema is read once: kb.db is served immutable, so it cannot change.

Datasette 0.65 reads a table's columns, primary keys, FTS table, foreign keys and the hidden
tables from ``sqlite_master`` and ``pragma`` calls each time a page asks, each call a hop to a
SQL thread and back: the index page makes 272 of them for kb.db's tables (about 0.5 ms each,
most of the page's time), a table page about 40. For a file opened immutable (``datasette
-i``), whose schema is fixed while it is served, :class:`ImmutableDatabase` answers each such
question from the first answer. Queries and row counts are untouched. ``make_database`` swaps
it in for the database Datasette made (``Datasette.remove_database`` / ``add_database``):
``serve.make_datasette`` does it, and the plugin's ``startup`` hook, so a plain ``datasette -i
kb.db`` with this package installed has it too.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from datasette.database import Database, Results

# a query of sqlite_master alone (its from clause names nothing else, and no from or join
# follows): on an immutable file its answer for the same parameters never changes. Datasette
# runs one per table and page to check the "view-table" permission (the table's name as SQLite
# spells it): 76 on the index page. A query a visitor writes (/kb?sql=...) or a canned query is
# run with truncate=True and never kept.
_SCHEMA_QUERY = re.compile(
    r"\s*select\s(?:(?!\b(?:from|select)\b)[^;])*\bfrom\s+sqlite_master(?:\s+(?:where|order|limit)\b(?:(?!\b(?:from|join|select)\b)[^;])*)?;?\s*",
    re.IGNORECASE,
)
MAX_KEPT = 4_000  # answers kept at most (every page of kb.db: about 500; the rest, names a visitor made up)


def _params_key(params) -> tuple | None:
    if params is None:
        return ()
    if isinstance(params, dict):
        return tuple(sorted(params.items()))
    if isinstance(params, (list, tuple)):
        return tuple(params)
    return None


class ImmutableDatabase(Database):
    """:class:`datasette.database.Database` for an immutable file, its schema answers kept.

    Every answer kept is handed out as a deep copy, so a caller that changes the list or dict
    it got does not change the next caller's. The hidden tables and a table's label column also
    depend on the metadata, which :mod:`extractor.web.plugin` gives from files read at start."""

    def __init__(self, ds, path: str) -> None:
        super().__init__(ds, path=path, is_mutable=False)
        self._schema: dict[tuple, Any] = {}

    async def _kept(self, name: str, *args):
        """The parent's answer to ``name(*args)``, asked once."""
        key = (name, *args)
        if key not in self._schema:
            answer = await getattr(super(), name)(*args)
            if len(self._schema) >= MAX_KEPT:  # (tables a visitor named that do not exist)
                return answer
            self._schema[key] = answer
        return copy.deepcopy(self._schema[key])

    async def execute(
        self, sql, params=None, truncate=False, custom_time_limit=None, page_size=None, log_sql_errors=True
    ):
        key = _params_key(params) if isinstance(sql, str) and _SCHEMA_QUERY.fullmatch(sql) else None
        if key is None or truncate or custom_time_limit is not None or page_size is not None:
            return await super().execute(sql, params, truncate, custom_time_limit, page_size, log_sql_errors)
        key = ("execute", sql, key)
        kept = self._schema.get(key)
        if kept is None:
            kept = await super().execute(sql, params, log_sql_errors=log_sql_errors)
            if len(self._schema) < MAX_KEPT:
                self._schema[key] = kept
        return Results(list(kept.rows), kept.truncated, kept.description)

    async def table_counts(self, limit=10):
        # tables only, as Datasette's own: the inspect data also holds the views' counts
        # (serve.count_views), and the index and database pages list every key as a table
        counts = await super().table_counts(limit)
        tables = set(await self.table_names())
        return {t: n for t, n in counts.items() if t in tables}

    async def table_exists(self, table):
        return await self._kept("table_exists", table)

    async def table_names(self):
        return await self._kept("table_names")

    async def view_names(self):
        return await self._kept("view_names")

    async def hidden_table_names(self):
        return await self._kept("hidden_table_names")

    async def table_columns(self, table):
        return await self._kept("table_columns", table)

    async def table_column_details(self, table):
        return await self._kept("table_column_details", table)

    async def primary_keys(self, table):
        return await self._kept("primary_keys", table)

    async def fts_table(self, table):
        return await self._kept("fts_table", table)

    async def label_column_for_table(self, table):
        return await self._kept("label_column_for_table", table)

    async def foreign_keys_for_table(self, table):
        return await self._kept("foreign_keys_for_table", table)

    async def get_all_foreign_keys(self):
        return await self._kept("get_all_foreign_keys")

    async def get_table_definition(self, table, type_="table"):
        return await self._kept("get_table_definition", table, type_)


def make_database(ds, name: str) -> Database:
    """Replace the immutable database ``name`` of ``ds`` by an :class:`ImmutableDatabase` of the
    same file, under the same name and route (before the first request); returns it. A
    database that is mutable, in memory, absent or already one is left as it is and returned
    (or None). What the old one knew of the file (its sha256, its size) goes with it."""
    db = ds.databases.get(name)
    if db is None or isinstance(db, ImmutableDatabase) or db.is_mutable or db.is_memory or not db.path:
        return db
    kept = ImmutableDatabase(ds, db.path)
    kept.cached_hash, kept.cached_size = db.cached_hash, db.cached_size
    route = db.route
    ds.remove_database(name)
    ds.add_database(kept, name=name, route=route)
    return kept
