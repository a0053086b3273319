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


def database_metadata() -> dict[str, Any]:
    """The metadata of the kb.db database: description and tables (without the queries)."""
    return copy.deepcopy(_site()["database"])


def canned_queries() -> dict[str, dict[str, Any]]:
    """The canned queries, ``{name: {"sql": ..., "title": ..., ...}}``."""
    return copy.deepcopy(_site()["queries"])
