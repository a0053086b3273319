"""How a value, its comparator and its unit are written for people, on every surface.

One rendering with the comparator always visible: ``= 32 微克/立方米``, ``≤ 28 微克/立方米``,
``约 5 吨/平方公里·月``, ``≥ 40–50 %``; a range stated as such has no ``=`` (``5–10 %``); a
qualitative target (value NULL) is its wording, ``达到市级要求``. Used by the web pages
(:mod:`extractor.web.pages`), the ``values`` of ``coverage_cells`` and of the
``indicator_coverage`` view over it (:mod:`extractor.kb.coverage`) and ``policykb extract
--format table`` (:mod:`extractor.report`). A leaf module: no imports from the rest of the
package, so any layer may use it.
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
