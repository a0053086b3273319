"""Chinese full-text search in the served site, the request-time half: highlighting, snippets,
campaign names, "did you mean" and the SQL functions ``prepare_connection`` registers.

Highlighting (:func:`highlight`, :func:`snippet`) works on the *original* clause text: the query
terms (:func:`extractor.kb.fts.query_groups`, the same analysis as the index, t2s included) are
found in a normalized copy whose every character maps back to the original, so 揚塵 in a
traditional-character paragraph is marked where a reader typed 扬尘, and the other way round.

:func:`campaign_id` reads a campaign as a reader names it (air, Air, 大气, 蓝天保卫战, 藍天保衛戰 ->
``air``; names and labels from ``extractor/data/campaigns.yml``); :func:`suggest` proposes a
query from the index vocabulary (``search_vocabulary``, built by :mod:`extractor.kb.fts`) for a
query that finds nothing: a term one character off, a character of the same pinyin first
(杨尘 -> 扬尘), else the most frequent term one edit away.
"""

from __future__ import annotations

import functools
import html
import unicodedata
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

from extractor import routes
from extractor.kb.fts import (
    _JIEBA,
    VOCABULARY,
    fts_query,
    is_vocabulary_term,
    normalize_for_search,
    query_groups,
    tokenize,
)
from extractor.lexicon import base as lexicon
from extractor.sqlite import sqlite3

# Bounds of the "did you mean" work (it runs in Python, which sql_time_limit_ms cannot stop).
SUGGEST_MAX_CHARS = 40  # a longer query gets no suggestion
SUGGEST_MAX_CHUNKS = 6  # words corrected per query

# -- highlighting -------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _needles(q: str) -> frozenset[str]:
    """What :func:`match_spans` looks for in a text: each part of ``q`` as typed and each of
    its terms of two or more characters. Kept per query (a page or a query of 100 rows marks
    every row for the same ``q``; jieba need not cut it 100 times)."""
    groups = query_groups(q)
    return frozenset({"".join(g) for g in groups} | {t for g in groups for t in g if len(t) > 1})


def match_spans(text: str, q: str) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` spans of the original ``text`` where the query occurs: each
    part as typed (细颗粒物) and each of its terms of two or more characters (颗粒物)."""
    if not text or not q:
        return []
    needles = _needles(q)
    if not needles:
        return []
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
    # from the clause's start (三是…) when the first match is near it, else a little before it
    start = 0 if first <= width // 2 else max(0, min(first - width // 4, len(text) - width))
    end = min(len(text), start + width)
    inside = [(max(s, start) - start, min(e, end) - start) for s, e in spans if e > start and s < end]
    body = mark_spans(text[start:end], inside)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


# -- campaign names -----------------------------------------------------------------------


def _key(text: str) -> str:
    return "".join(normalize_for_search(text).text.split())


@functools.cache
def campaign_aliases() -> dict[str, str]:
    """Every way a reader names a campaign -> its id: the id, the English and Chinese names
    (大气（蓝天保卫战）, and each of 大气 and 蓝天保卫战), the labels plans use (大气污染防治) and the
    lead words (蓝天). Keys are normalized (t2s, lower case); the first campaign to claim a name
    keeps it, names before labels before lead words."""
    aliases: dict[str, str] = {}
    groups: list[list[tuple[str, str]]] = [[], [], []]
    for c in lexicon.campaigns():
        parts = [c.name_zh, *c.name_zh.replace("（", "(").replace("）", ")").replace(")", "(").split("(")]
        groups[0] += [(c.id, c.id), (c.name_en, c.id)] + [(p, c.id) for p in parts if p.strip()]
        groups[1] += [(label, c.id) for label in c.labels]
        groups[2] += [(word, c.id) for word in c.lead_words]
    for group in groups:
        for name, cid in group:
            key = _key(name)
            if key:
                aliases.setdefault(key, cid)
    return aliases


def campaign_id(name: str | None) -> str | None:
    """The campaign id a reader means (``air``, ``大气``, ``蓝天保卫战``, ``藍天保衛戰`` -> ``air``),
    None for a blank or unknown name. This is the SQL function ``policykb_campaign(name)``."""
    if not name or not isinstance(name, str) or len(name) > 50:
        return None
    key = _key(name)
    aliases = campaign_aliases()
    if key in aliases:
        return aliases[key]
    for suffix in ("领域", "方面", "类"):  # 大气领域, 水方面
        if key.endswith(suffix) and key[: -len(suffix)] in aliases:
            return aliases[key[: -len(suffix)]]
    return None


CAMPAIGN_PARAMETERS = ("campaign", "campaign__exact", "campaign__not")


def campaign_query_string(query_string: bytes) -> bytes:
    """A request's query string with campaign names as ids (``campaign=蓝天保卫战`` ->
    ``campaign=air``), so a table's or view's filter (``/kb/clauses?campaign=大气``) and a canned
    query's ``:campaign`` take names too; unchanged (the same bytes) when there is nothing to do."""
    if b"campaign" not in query_string:
        return query_string
    try:
        pairs = parse_qsl(query_string.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return query_string
    changed = False
    out = []
    for key, value in pairs:
        if key in CAMPAIGN_PARAMETERS and (cid := campaign_id(value)) and cid != value:
            value, changed = cid, True
        out.append((key, value))
    return urlencode(out).encode("ascii") if changed else query_string


# -- did you mean -------------------------------------------------------------------------


@functools.cache
def _readings(ch: str) -> frozenset[str]:
    """Toneless pinyin readings of a character (杨, 扬 -> {"yang"}); empty for a non-Han one."""
    from pypinyin.pinyin_dict import pinyin_dict

    found = pinyin_dict.get(ord(ch))
    if not found:
        return frozenset()
    out = set()
    for reading in found.split(","):
        plain = "".join(c for c in unicodedata.normalize("NFKD", reading) if not unicodedata.combining(c))
        out.add(plain.replace("v", "u"))
    return frozenset(out)


def _same_sound(a: str, b: str) -> bool:
    return bool(_readings(a) & _readings(b))


def _one_edit(a: str, b: str) -> bool:
    """``b`` is ``a`` with one character inserted or deleted."""
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) != 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _distance(word: str, term: str) -> int | None:
    """How far ``term`` is from ``word``: 0 = one character replaced by one of the same sound,
    1 = one character replaced, 2 = one inserted or deleted; None = further."""
    if len(word) == len(term):
        diff = [i for i in range(len(word)) if word[i] != term[i]]
        if len(diff) != 1:
            return None
        return 0 if _same_sound(word[diff[0]], term[diff[0]]) else 1
    return 2 if _one_edit(word, term) else None


def _chunks(part: str) -> list[str]:
    """The words of one query part as jieba cuts them, runs of single characters rejoined
    (杨尘 may come out as 杨|尘: a word jieba does not know)."""
    out: list[str] = []
    single = False
    for word in _JIEBA.cut(part):
        if not word.strip():
            single = False
            continue
        if len(word) == 1 and out and single:
            out[-1] += word
        else:
            out.append(word)
        single = len(word) == 1
    return out


def _vocabulary(conn: sqlite3.Connection, lengths: set[int]) -> dict[str, int]:
    if not lengths:
        return {}
    marks = ",".join("?" * len(lengths))
    try:
        rows = conn.execute(
            f"select term, n from [{VOCABULARY}] where length(term) in ({marks})", sorted(lengths)
        ).fetchall()
    except sqlite3.Error:  # a kb.db built before the vocabulary existed
        return {}
    return dict(rows)


def correction(word: str, vocabulary: dict[str, int]) -> str | None:
    """The vocabulary term a mistyped ``word`` most likely means: the nearest by
    :func:`_distance` (same sound first), then the most frequent, then the first in order."""
    best: tuple[int, int, str] | None = None
    for term, n in vocabulary.items():
        d = _distance(word, term)
        if d is not None and (best is None or (d, -n, term) < best):
            best = (d, -n, term)
    return best[2] if best else None


def suggest(conn: sqlite3.Connection, q: str | None) -> str | None:
    """A query to propose for ``q`` (which found nothing): each word not in the index
    vocabulary replaced by its :func:`correction` (杨尘 -> 扬尘, 燃油义车 -> 燃油叉车), in the
    normalized spelling; None when nothing would change. Bounded: at most
    :data:`SUGGEST_MAX_CHARS` characters and :data:`SUGGEST_MAX_CHUNKS` words are looked at,
    against the vocabulary terms of their lengths (one query)."""
    text = normalize_for_search(q or "").text
    if not text.strip() or len(text) > SUGGEST_MAX_CHARS:
        return None
    parts = [_chunks(part) for part in text.split()]
    todo = [w for chunks in parts for w in chunks if is_vocabulary_term(w)][:SUGGEST_MAX_CHUNKS]
    vocabulary = _vocabulary(conn, {n for w in todo for n in (len(w) - 1, len(w), len(w) + 1)})
    fixes = {w: fixed for w in todo if w not in vocabulary and (fixed := correction(w, vocabulary))}
    if not fixes:
        return None
    return " ".join("".join(fixes.get(w, w) for w in chunks) for chunks in parts)


# -- SQL functions ------------------------------------------------------------------------

# Bounds of the SQL functions' input. They run in Python, which Datasette's sql_time_limit_ms
# cannot interrupt (SQLite's progress handler only runs between VM steps, not inside a call), so
# each call must be short by construction; a query calling them on many rows is still stopped
# between calls.
SQL_MAX_QUERY_CHARS = 200  # a query argument (escape_fts, policykb_fts, the q of snippets): cut to this
SQL_MAX_TEXT_CHARS = 20_000  # a text (policykb_tokens, policykb_snippet, policykb_highlight): cut to this
# (a clause is a few hundred characters; 20,000 is about 0.1 s of jieba, and ~40 times the longest clause)


def _cut(value, most: int):
    return value[:most] if isinstance(value, str) and len(value) > most else value


def sql_fts_query(q):
    """``escape_fts(q)`` / ``policykb_fts(q)``: :func:`extractor.kb.fts.fts_query` of the first
    :data:`SQL_MAX_QUERY_CHARS` characters of ``q``."""
    return fts_query(_cut(q if q is None or isinstance(q, str) else str(q), SQL_MAX_QUERY_CHARS))


def sql_tokens(text):
    """``policykb_tokens(text)``: the search tokens of the first :data:`SQL_MAX_TEXT_CHARS`
    characters of ``text`` (a clause is far shorter; a longer text is cut, not refused, so a
    query over many rows still answers)."""
    return tokenize(_cut("" if text is None else str(text), SQL_MAX_TEXT_CHARS))


def _text_and_query(text, q) -> tuple[str | None, str | None]:
    text = text if text is None or isinstance(text, str) else str(text)
    q = q if q is None or isinstance(q, str) else str(q)
    return _cut(text, SQL_MAX_TEXT_CHARS), _cut(q, SQL_MAX_QUERY_CHARS)


def sql_snippet(text, q):
    """``policykb_snippet(text, q)``: :func:`snippet` of the first :data:`SQL_MAX_TEXT_CHARS`
    characters of ``text`` for the first :data:`SQL_MAX_QUERY_CHARS` of ``q``."""
    return snippet(*_text_and_query(text, q))


def sql_highlight(text, q):
    """``policykb_highlight(text, q)``: :func:`highlight` within the same bounds as
    :func:`sql_snippet` (a longer text ends with "…")."""
    cut, query = _text_and_query(text, q)
    out = highlight(cut, query)
    return out + "…" if isinstance(text, str) and cut is not None and len(cut) < len(text) else out


def sql_clause_url(clause_id, target_id, q):
    """``policykb_clause_url(clause_id, target_id, q)``, ``q`` cut to :data:`SQL_MAX_QUERY_CHARS`."""
    return routes.clause_url(
        _cut(clause_id, SQL_MAX_QUERY_CHARS),
        _cut(target_id, SQL_MAX_QUERY_CHARS),
        _cut(q, SQL_MAX_QUERY_CHARS),
    )


def register_functions(conn: sqlite3.Connection) -> None:
    """Register the search SQL functions on a connection: ``escape_fts(q)`` (jieba-aware,
    replaces Datasette's), ``policykb_fts(q)`` (same), ``policykb_tokens(text)``,
    ``policykb_snippet(text, q)`` and ``policykb_highlight(text, q)`` (HTML with <mark>),
    ``policykb_clause_url(clause_id, target_id, q)``, ``policykb_campaign(name)`` (蓝天保卫战,
    大气 or air -> air; see :func:`campaign_id`). Each bounds its input (``SQL_MAX_*`` above)."""
    conn.create_function("escape_fts", 1, sql_fts_query, deterministic=True)
    conn.create_function("policykb_fts", 1, sql_fts_query, deterministic=True)
    conn.create_function("policykb_tokens", 1, sql_tokens, deterministic=True)
    conn.create_function("policykb_snippet", 2, sql_snippet, deterministic=True)
    conn.create_function("policykb_highlight", 2, sql_highlight, deterministic=True)
    conn.create_function("policykb_clause_url", 3, sql_clause_url, deterministic=True)
    conn.create_function("policykb_campaign", 1, campaign_id, deterministic=True)
