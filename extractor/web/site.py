"""What the plugin ships for kb.db, read from the package data file ``site.yml``.

``site.yml`` holds the plugin's default settings, the metadata of every kb.db table and view
(descriptions, column descriptions, facets, sort, label and FTS settings) and the canned
queries (search_measures, compare_indicator, coverage, targets_by_district). The plugin serves
them through Datasette's ``get_metadata`` and ``canned_queries`` hooks, so any Datasette with
the package installed shows them; a site's own metadata.yml only adds or overrides (title,
description, licence, or a table's or query's keys).
"""

from __future__ import annotations

import copy
import functools
import pickle
from importlib import resources
from typing import Any

import yaml

PACKAGE = "extractor.web"
SITE_FILE = "site.yml"


@functools.cache
def _site() -> dict[str, Any]:
    text = resources.files(PACKAGE).joinpath(SITE_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def site() -> dict[str, Any]:
    """The whole of site.yml (a fresh copy: callers, and Datasette, may change it)."""
    return copy.deepcopy(_site())


def plugin_defaults() -> dict[str, Any]:
    """The plugin's default settings (``plugins: policykb:`` in site.yml)."""
    return copy.deepcopy(_site()["plugins"]["policykb"])


@functools.cache
def _pickled(table: str | None) -> bytes:
    database = _site()["database"]
    if table is not None:  # only what a table page needs: the database description, the table
        tables = database.get("tables", {})
        database = {k: v for k, v in database.items() if k != "tables"}
        database["tables"] = {table: tables[table]} if table in tables else {}
    return pickle.dumps(database)


def database_metadata(table: str | None = None) -> dict[str, Any]:
    """The metadata of the kb.db database: description and tables (without the queries); with
    ``table``, of that table only. A fresh copy (Datasette merges into what it is given)."""
    return pickle.loads(_pickled(table))


# what Datasette reads from ``metadata("tables", database=...)``, its one lookup of every
# table's metadata at once: each table's permission (allow, checked for every table the index
# page lists) and facet size (facets.py); nothing else of a table is read that way
TABLE_RULES = ("allow", "facet_size")


def rules_of(tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``{"tables": {table: its TABLE_RULES keys}}`` of the tables that have any."""
    rules = {name: {k: t[k] for k in TABLE_RULES if k in t} for name, t in tables.items()}
    return {"tables": {name: r for name, r in rules.items() if r}}


@functools.cache
def _pickled_rules() -> bytes:
    return pickle.dumps(rules_of(_site()["database"].get("tables", {})))


def table_rules() -> dict[str, Any]:
    """The answer to Datasette's ``tables`` lookup: ``{"tables": {table: {allow, facet_size}}}``
    for the tables site.yml gives either (none today). Datasette deep-copies what a plugin
    returns for every table it checks, so the index page's check of each of its 38 tables copied
    every table's descriptions 38 times (most of the page's time); a fresh copy."""
    return pickle.loads(_pickled_rules())


@functools.cache
def metadata_keys() -> frozenset[str]:
    """Every key the database metadata holds, at the database and the table level: Datasette
    asks the plugin for one key at a time, and the others are none of its business."""
    database = _site()["database"]
    keys = set(database)
    for table in database.get("tables", {}).values():
        keys |= set(table)
    return frozenset(keys | {"databases"})


def canned_queries() -> dict[str, dict[str, Any]]:
    """The canned queries, ``{name: {"sql": ..., "title": ..., ...}}``."""
    return copy.deepcopy(_site()["queries"])


@functools.cache
def _export_headers() -> dict[str, str]:
    return dict(_site().get("export_headers") or {})


def export_headers() -> dict[str, str]:
    """``{column: 中文名}``: the Chinese headers of the downloads (``export_headers``)."""
    return dict(_export_headers())
