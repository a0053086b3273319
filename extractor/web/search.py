"""Chinese full-text search in the served site, the request-time half: highlighting, snippets
and the SQL functions ``prepare_connection`` registers.

Highlighting (:func:`highlight`, :func:`snippet`) works on the *original* clause text: the query
terms (:func:`extractor.kb.fts.query_groups`, the same analysis as the index) are found in a
normalized copy whose every character maps back to the original.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterable

from extractor import routes
from extractor.kb.fts import fts_query, normalize_for_search, query_groups, tokenize

# -- highlighting -------------------------------------------------------------------------


def match_spans(text: str, q: str) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` spans of the original ``text`` where the query occurs: each
    part as typed (细颗粒物) and each of its terms of two or more characters (颗粒物)."""
    groups = query_groups(q)
    if not text or not groups:
        return []
    needles = {"".join(g) for g in groups} | {t for g in groups for t in g if len(t) > 1}
    norm = normalize_for_search(text)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        start = norm.text.find(needle)
        while start != -1:
            end = start + len(needle)
            # up to the next kept character, so skipped ones (the "}" of PM_{2.5}) are inside
            stop = norm.origin[end] if end < len(norm.text) else len(text)
            spans.append((norm.origin[start], max(stop, norm.origin[end - 1] + 1)))
            start = norm.text.find(needle, end)
    return _merge(spans)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def mark_spans(text: str, spans: Iterable[tuple[int, int]], css_class: str | None = None) -> str:
    """HTML of ``text`` (escaped) with ``<mark>`` around each span (spans may overlap)."""
    open_tag = f'<mark class="{html.escape(css_class)}">' if css_class else "<mark>"
    out: list[str] = []
    pos = 0
    for s, e in _merge((max(0, s), min(len(text), e)) for s, e in spans if e > s):
        out.append(html.escape(text[pos:s]))
        out.append(open_tag + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    return "".join(out)


def highlight(text: str | None, q: str | None) -> str:
    """The whole ``text`` as HTML with the query terms in ``<mark>``."""
    return mark_spans(text or "", match_spans(text or "", q or ""))


def snippet(text: str | None, q: str | None, width: int = 80) -> str:
    """HTML excerpt of about ``width`` characters around the first match, terms in ``<mark>``.

    This is what the registered SQL function ``policykb_snippet(text, q)`` returns.
    """
    text = text or ""
    spans = match_spans(text, q or "")
    if len(text) <= width:
        return mark_spans(text, spans)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 4, len(text) - width))
    end = min(len(text), start + width)
    inside = [(max(s, start) - start, min(e, end) - start) for s, e in spans if e > start and s < end]
    body = mark_spans(text[start:end], inside)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


# -- SQL functions ------------------------------------------------------------------------


def register_functions(conn: sqlite3.Connection) -> None:
    """Register the search SQL functions on a connection: ``escape_fts(q)`` (jieba-aware,
    replaces Datasette's), ``policykb_fts(q)`` (same), ``policykb_tokens(text)``,
    ``policykb_snippet(text, q)`` and ``policykb_highlight(text, q)`` (HTML with <mark>),
    ``policykb_clause_url(clause_id, target_id, q)``."""
    conn.create_function("escape_fts", 1, fts_query, deterministic=True)
    conn.create_function("policykb_fts", 1, fts_query, deterministic=True)
    conn.create_function("policykb_tokens", 1, tokenize, deterministic=True)
    conn.create_function("policykb_snippet", 2, snippet, deterministic=True)
    conn.create_function("policykb_highlight", 2, highlight, deterministic=True)
    conn.create_function("policykb_clause_url", 3, routes.clause_url, deterministic=True)
