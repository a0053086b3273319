"""How a value, its comparator and its unit are written for people, on every surface.

One rendering with the comparator always visible: ``= 32 微克/立方米``, ``≤ 28 微克/立方米``,
``约 5 吨/平方公里·月``, ``≥ 40–50 %``; a range stated as such has no ``=`` (``5–10 %``); a
qualitative target (value NULL) is its wording, ``达到市级要求``. Used by the web pages
(:mod:`extractor.web.pages`), the ``values`` column of the ``indicator_coverage`` view (SQL
built by :func:`sql_value`, so CSV/JSON exports agree) and ``policykb extract --format table``
(:mod:`extractor.report`). A leaf module: no imports from the rest of the package, so any layer
may use it.
"""

from __future__ import annotations

COMPARATOR_SYMBOLS: dict[str, str] = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "=": "=", "~": "约"}
RANGE_DASH = "–"  # between value and value_max


def format_number(value: float | int | None) -> str:
    """``28.0`` -> ``28``, ``4.5`` -> ``4.5``, ``None`` -> ``""`` (``%g``, as SQLite's printf)."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def comparator_symbol(comparator: str | None) -> str:
    """``<=`` -> ``≤``, ``~`` -> ``约``, ``=`` or none -> ``=``; an unknown one as written."""
    return COMPARATOR_SYMBOLS.get(comparator or "=", comparator or "")


def format_value(
    value: float | None,
    value_max: float | None,
    comparator: str | None,
    unit: str | None,
    value_text: str | None = None,
) -> str:
    """A target as a reader writes it: ``= 32 微克/立方米``, ``≤ 28 微克/立方米``, ``约 5 吨/平方公里·月``,
    ``5–10 %`` (a range: no ``=``), ``≥ 40–50 %``; a qualitative target (``value`` None) is its
    ``value_text`` (达到市级要求)."""
    if value is None:
        return (value_text or "").strip()
    number = format_number(value)
    symbol = comparator_symbol(comparator)
    if value_max is not None:
        number = f"{number}{RANGE_DASH}{format_number(value_max)}"
        if symbol == "=":
            symbol = ""
    return f"{symbol} {number} {unit or ''}".strip()


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


def sql_value(value: str, value_max: str, comparator: str, unit: str, value_text: str | None = None) -> str:
    """SQL for :func:`format_value` over column expressions (``t.value``, ..., ``t.value_text``)."""
    number = (
        f"{sql_number(value)} || case when {value_max} is null then ''"
        f" else {_sql_string(RANGE_DASH)} || {sql_number(value_max)} end"
    )
    symbol = (
        f"case when {value_max} is not null and coalesce({comparator}, '=') = '=' then ''"
        f" else {sql_comparator(comparator)} end"
    )
    quantity = f"trim({symbol} || ' ' || {number} || ' ' || coalesce({unit}, ''))"
    qualitative = f"trim(coalesce({value_text}, ''))" if value_text else "''"
    return f"case when {value} is null then {qualitative} else {quantity} end"
