"""How a value, its comparator and its unit are written for people, on every surface.

One rendering, the one the site's pages have always shown: ``≤28 微克/立方米``,
``约5 吨/平方公里·月``, ``32 微克/立方米`` (``=`` is not written), ``≥40–50 %``.
Used by the web pages (:mod:`extractor.web.pages`), the ``values`` column of the
``indicator_coverage`` view (SQL built by :func:`sql_value`, so CSV/JSON exports agree) and
``policykb extract --format table`` (:mod:`extractor.report`). A leaf module: no imports
from the rest of the package, so any layer may use it.
"""

from __future__ import annotations

COMPARATOR_SYMBOLS: dict[str, str] = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "=": "", "~": "约"}
RANGE_DASH = "–"  # between value and value_max


def format_number(value: float | int | None) -> str:
    """``28.0`` -> ``28``, ``4.5`` -> ``4.5``, ``None`` -> ``""`` (``%g``, as SQLite's printf)."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def comparator_symbol(comparator: str | None) -> str:
    """``<=`` -> ``≤``, ``~`` -> ``约``, ``=`` or none -> ``""``; an unknown one as written."""
    return COMPARATOR_SYMBOLS.get(comparator or "=", comparator or "")


def format_value(
    value: float | None, value_max: float | None, comparator: str | None, unit: str | None
) -> str:
    """A target as a reader writes it: ``≤28 微克/立方米``, ``约5 吨/平方公里·月``, ``≥40–50 %``."""
    number = format_number(value)
    if value_max is not None:
        number = f"{number}{RANGE_DASH}{format_number(value_max)}"
    return f"{comparator_symbol(comparator)}{number} {unit or ''}".strip()


# -- the same rendering as SQL (for views and queries) -------------------------------------


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_comparator(column: str) -> str:
    """SQL for :func:`comparator_symbol` of ``column`` (a ``case`` built from the symbols)."""
    whens = " ".join(f"when {_sql_string(c)} then {_sql_string(s)}" for c, s in COMPARATOR_SYMBOLS.items())
    return f"case coalesce({column}, '=') {whens} else {column} end"


def sql_number(column: str) -> str:
    """SQL for :func:`format_number` of a REAL ``column``."""
    return f"case when {column} is null then '' else printf('%g', {column}) end"


def sql_value(value: str, value_max: str, comparator: str, unit: str) -> str:
    """SQL for :func:`format_value` over four column expressions (``t.value``, ...)."""
    number = (
        f"{sql_number(value)} || case when {value_max} is null then ''"
        f" else {_sql_string(RANGE_DASH)} || {sql_number(value_max)} end"
    )
    return f"trim({sql_comparator(comparator)} || {number} || ' ' || coalesce({unit}, ''))"
