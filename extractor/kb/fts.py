"""Chinese full-text search in kb.db, the build-time half: jieba tokens, FTS5 tables, views.

SQLite's FTS5 tokenizers do not segment Chinese, so every searchable text is converted to
simplified characters (OpenCC ``t2s``, one character for one: 揚塵 -> 扬尘, so traditional and
simplified find each other and offsets survive) and segmented with
jieba (a private ``jieba.Tokenizer`` on the default dictionary, see ``_JIEBA``) in *search mode* (``jieba.cut_for_search``: a word and its dictionary sub-words, e.g.
精细化 -> 精细 细化 精细化) and stored as space-separated tokens in an FTS5 table whose
``unicode61`` tokenizer then only has to split on spaces. A query goes through the same
normalization (:func:`fts_query`, :func:`query_groups`), so the index and the query always
agree; the web layer (:mod:`extractor.web.search`) calls them at request time.

What :func:`index_database` adds to a built kb.db (after documents ... targets are inserted):

- ``clauses_fts(tokens, clause_id)``: FTS5, ``rowid`` = ``clauses.rowid``, tokens of
  ``clauses.text``.
- ``targets_fts(tokens, target_id)``: FTS5, ``rowid`` = ``targets.rowid``, tokens of the
  target's clause text, the indicator (as written and its dictionary name) and the surface.
- ``clause_targets_fts(tokens, target_tokens, clause_id)``: FTS5, ``rowid`` = ``clauses.rowid``,
  one row per clause that states a target: ``tokens`` the clause's tokens, ``target_tokens``
  each target's own tokens (what a target adds in ``targets_fts``), in the targets' order. The
  search page finds a clause by its targets here (one row a clause, keyed by its rowid: no
  lookup per matching target), and the clauses whose text alone does not match with one FTS5
  ``NOT`` (:func:`targets_only_query`), so no set of text matches is built to test them against.
- ``search_vocabulary(term, n)``: every search term of the index (two characters or more, not
  a bare number) and the number of FTS rows (clauses and targets) that contain it: what the
  served site's "did you mean" (:func:`extractor.web.search.suggest`) chooses from.
- ``clause_citations``: one row per clause: section path, clause label (ordinal, or 第N段) and
  the ready-to-copy ``citation`` (see :mod:`extractor.kb.citations`).
- views ``target_citations`` (every target with its document, clause and citation),
  ``clause_context`` (every clause with its document, section path and citation) and
  ``indicator_coverage`` (indicators x districts: which district states a target, the values
  as ``coverage_cells`` of :mod:`extractor.kb.coverage` writes them, by
  :func:`extractor.format.format_value`). Their link columns come from
  :mod:`extractor.routes`.

Highlighting, snippets and the SQL functions of the served site are request-time code:
:mod:`extractor.web.search`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from math import log

import jieba
import jieba.finalseg as finalseg
import sqlite_utils

from extractor import routes
from extractor.kb.citations import citation_rows
from extractor.lexicon.base import share_jieba_dictionary, t2s_converter

jieba.setLogLevel(60)

# Our own tokenizer on jieba's default dictionary: other modules add domain words to jieba's
# global tokenizer (jieba.add_word), which would make the index (built in one process) and the
# queries (tokenized in the server) disagree. This instance is never modified.
_JIEBA = jieba.Tokenizer()
share_jieba_dictionary(_JIEBA, copy=False)  # the dictionary read once a process (lexicon.base)
_DEFAULT_DICTIONARY = _JIEBA  # the tokenizer whose plain blocks rjieba may cut (_block_tokens)

FTS_TOKENIZE = "unicode61"
NO_MATCH = '"\u2400"'  # an FTS5 phrase no document contains: a blank query matches nothing

_PM_SUBSCRIPT = re.compile(r"(?i)(?<=pm)_\{(\d+(?:\.\d+)?)\}")
_WORDLIKE = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
_NUMBER = re.compile(r"[\d.,%]+")
VOCABULARY = "search_vocabulary"
VOCABULARY_MAX_CHARS = 12


# -- normalization and tokens -------------------------------------------------------------


@dataclass(frozen=True)
class SearchText:
    """A normalized copy of a text for matching, with ``origin[i]`` = the original offset of
    ``text[i]`` (t2s, NFKC per character, lower case, PM_{2.5} -> pm2.5)."""

    text: str
    origin: tuple[int, ...]


def to_simplified(text: str) -> str:
    """OpenCC ``t2s`` of ``text``, one character for one (加強環境宣傳 -> 加强环境宣传); should a
    phrase rule ever change the length, each character is converted on its own instead."""
    converter = t2s_converter()
    converted = converter.convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(c if len(c := converter.convert(ch)) == 1 else ch for ch in text)


def normalize_for_search(text: str) -> SearchText:
    """Normalize ``text`` for matching: traditional -> simplified characters (OpenCC t2s),
    full-width -> half-width and other NFKC folds, lower case, the LaTeX-ish ``PM_{2.5}`` of
    some sources -> ``pm2.5``. Keeps an offset map to the original characters."""
    text = text or ""
    simplified = to_simplified(text) if text else text
    skip: set[int] = set()
    for m in _PM_SUBSCRIPT.finditer(text):
        skip.update((m.start(), m.start() + 1, m.end() - 1))  # "_", "{", "}"
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(simplified):
        if i in skip:
            continue
        folded = unicodedata.normalize("NFKC", ch).lower()
        for c in folded:
            chars.append(c)
            origin.append(i)
    return SearchText("".join(chars), tuple(origin))


def _is_word(token: str) -> bool:
    return bool(_WORDLIKE.search(token))


def search_tokens(text: str) -> list[str]:
    """jieba search-mode tokens of the normalized ``text``, without punctuation/space tokens:
    ``[t.strip() for t in _JIEBA.cut_for_search(normalize_for_search(text).text) if
    _is_word(t)]``, computed by :func:`_search_text` and :func:`_cut_for_search` (the same
    tokens, about twice as fast; tests/test_fts_tokens.py compares them)."""
    if not text:
        return []
    if len(text) > SHORT_TEXT or _BLOCKS_OF is not _JIEBA:
        return _cut_for_search(_search_text(text))
    found = _SHORT.get(text)  # a target's indicator, dictionary name and surface recur
    if found is None:
        if len(_SHORT) >= BLOCK_CACHE_SIZE:
            _SHORT.clear()
        found = _SHORT[text] = tuple(_cut_for_search(_search_text(text)))
    return list(found)


SHORT_TEXT = 64
_SHORT: dict[str, tuple[str, ...]] = {}


# -- the same normalization and search-mode cut, faster ---------------------------------------
#
# The build tokenizes every clause and every target (a third of the time per document went to
# jieba's cut_for_search and the per-character fold of normalize_for_search). The functions below
# give exactly what those give: the fold is a translate table filled per new character, the cut
# is rjieba's for the plain blocks (_PLAIN_BLOCK) and for the others jieba's algorithm
# (Tokenizer.cut with HMM: blocks, DAG, route, finalseg for unknown runs; then cut_for_search's
# 2- and 3-grams) in one pass per block, without generators.


class _Folds(dict):
    """ord -> the character's NFKC + lower case, filled on first sight (a translate table)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = unicodedata.normalize("NFKC", chr(code)).lower()
        return folded


_FOLDED = _Folds()
_RE_HAN = jieba.re_han_default
_RE_SKIP = jieba.re_skip_default


def _search_text(text: str) -> str:
    """``normalize_for_search(text).text``, without the offset map."""
    simplified = to_simplified(text)
    if "_" in text and "{" in text:
        skip: set[int] = set()
        for m in _PM_SUBSCRIPT.finditer(text):
            skip.update((m.start(), m.start() + 1, m.end() - 1))
        if skip:
            simplified = "".join(ch for i, ch in enumerate(simplified) if i not in skip)
    return simplified.translate(_FOLDED)


def _cut_for_search(sentence: str) -> list[str]:
    """``[t.strip() for t in _JIEBA.cut_for_search(sentence) if _is_word(t)]``."""
    tok = _JIEBA
    tok.check_initialized()
    global _BLOCKS_OF
    if _BLOCKS_OF is not tok:  # the caches hold one tokenizer's tokens
        _BLOCKS.clear()
        _SHORT.clear()
        _BLOCKS_OF = tok
    out: list[str] = []
    for blk in _RE_HAN.split(sentence):
        if not blk:
            continue
        tokens = _BLOCKS.get(blk)
        if tokens is None:
            if len(_BLOCKS) >= BLOCK_CACHE_SIZE:
                _BLOCKS.clear()
            tokens = _BLOCKS[blk] = _block_tokens(tok, blk)
        out.extend(tokens)
    return out


# The tokens of a block (a run of Han characters, letters and digits, or the text between two
# such runs) depend on the block alone, so each distinct block is cut once per process (headings,
# list leads, indicator names and units recur within and across documents). Bounded: emptied
# when full.
BLOCK_CACHE_SIZE = 100_000
_BLOCKS: dict[str, tuple[str, ...]] = {}
_BLOCKS_OF: jieba.Tokenizer | None = None


# A block of Han characters, lower-case letters, digits and % only (after the fold, about
# 80 % of a plan's characters): rjieba (jieba-rs: jieba's dictionary, HMM and search mode in
# Rust) cuts it into the same tokens as jieba, about five times faster. The other blocks take
# the Python cut below: jieba-rs keeps 2013-2019 whole (jieba: 2013, 2019) and adds the
# search-mode gram pm2 to pm2.5. tests/test_fts_tokens.py compares both with jieba.
_PLAIN_BLOCK = re.compile(r"[\u4e00-\u9fd5a-z0-9%]+")


@functools.cache
def _rust_cut_for_search():
    """``rjieba.cut_for_search``, imported on first use: the import loads its dictionary (about
    0.2 s and 30 MB), which only the processes that cut blocks need."""
    import rjieba

    return rjieba.cut_for_search


def _block_tokens(tok: jieba.Tokenizer, blk: str) -> tuple[str, ...]:
    """The search tokens of one block of :data:`jieba.re_han_default`'s split."""
    if tok is _DEFAULT_DICTIONARY and _PLAIN_BLOCK.fullmatch(blk):
        return tuple(w for w in _rust_cut_for_search()(blk, True) if _is_word(w))
    freq = tok.FREQ
    if _RE_HAN.match(blk):
        words = _cut_block(tok, blk)
    else:
        words = []
        for x in _RE_SKIP.split(blk):
            if _RE_SKIP.match(x):
                words.append(x)
            else:
                words.extend(x)
    out: list[str] = []
    add = out.append
    for w in words:
        n = len(w)
        if n > 2:
            for i in range(n - 1):
                gram = w[i : i + 2]
                if freq.get(gram) and _is_word(gram):
                    add(gram.strip())
            if n > 3:
                for i in range(n - 2):
                    gram = w[i : i + 3]
                    if freq.get(gram) and _is_word(gram):
                        add(gram.strip())
        if _is_word(w):
            add(w.strip())
    return tuple(out)


def _cut_block(tok: jieba.Tokenizer, blk: str) -> list[str]:
    """``list(tok._Tokenizer__cut_DAG(blk))``: the most probable path through the block's DAG of
    dictionary words (ties to the longer last word, as jieba's ``max`` over ``(score, end)``),
    runs of single characters that are no word cut by the HMM (finalseg)."""
    freq = tok.FREQ
    n = len(blk)
    logtotal = log(tok.total)
    score = [0.0] * (n + 1)
    nxt = [0] * (n + 1)
    for k in range(n - 1, -1, -1):
        best = None
        end = k
        i = k
        frag = blk[k]
        f = freq.get(frag)
        while f is not None:
            if f:
                v = log(f) - logtotal + score[i + 1]
                if best is None or v >= best:
                    best, end = v, i
            i += 1
            if i >= n:
                break
            frag = blk[k : i + 1]
            f = freq.get(frag)
        if best is None:  # no dictionary word starts here: the character alone (frequency 1)
            best = 0.0 - logtotal + score[k + 1]
        score[k] = best
        nxt[k] = end + 1
    words: list[str] = []
    x = 0
    buf = ""
    while x < n:
        y = nxt[x]
        if y - x == 1:
            buf += blk[x]
        else:
            if buf:
                _flush(freq, buf, words)
                buf = ""
            words.append(blk[x:y])
        x = y
    if buf:
        _flush(freq, buf, words)
    return words


def _flush(freq: dict, buf: str, words: list[str]) -> None:
    if len(buf) == 1:
        words.append(buf)
    elif not freq.get(buf):
        words.extend(finalseg.cut(buf))
    else:
        words.extend(buf)


def tokenize(text: str) -> str:
    """The FTS column value for ``text``: its search tokens joined by single spaces."""
    return " ".join(search_tokens(text))


def _cover(word: str) -> list[str]:
    """The smallest dictionary words that tile ``word`` (环境质量 -> 环境, 质量), else [word].

    A document segments 生态环境质量 as 生态环境|质量, so it never has the token 环境质量; but
    search mode emits the two-character dictionary words inside every word (生态, 环境), so a
    query made of those short words matches however the document was segmented.
    """
    if len(word) <= 2:
        return [word]
    freq = _JIEBA.FREQ
    parts, i = [], 0
    while i < len(word):
        for n in (2, 3):
            piece = word[i : i + n]
            if len(piece) == n and len(piece) < len(word) and freq.get(piece):
                parts.append(piece)
                i += n
                break
        else:
            return [word]
    return parts


def query_groups(q: str | None) -> list[list[str]]:
    """The query as groups of terms: one group per space-separated part, in order.

    ``扬尘管控`` -> ``[["扬尘", "管控"]]``; ``环境质量 PM2.5`` -> ``[["环境", "质量"], ["pm2.5"]]``.
    """
    _JIEBA.check_initialized()
    groups: list[list[str]] = []
    for part in normalize_for_search(q or "").text.split():
        terms: list[str] = []
        for word in _JIEBA.cut(part):
            word = word.strip()
            if _is_word(word):
                terms.extend(t for t in _cover(word) if t not in terms)
        if terms and terms not in groups:
            groups.append(terms)
    return groups


def query_terms(q: str | None) -> list[str]:
    """The distinct terms of a reader's query, in order (扬尘管控 -> 扬尘, 管控)."""
    seen: dict[str, None] = {}
    for group in query_groups(q):
        for t in group:
            seen.setdefault(t, None)
    return list(seen)


def _fts_term(term: str) -> str:
    quoted = '"' + term.replace('"', '""') + '"'
    # A lone Han character is rarely a jieba word of its own: match it as a token prefix
    # (水 -> 水质, 水环境 ...).
    if len(term) == 1 and "\u3400" <= term <= "\u9fff":
        return quoted + "*"
    return quoted


def fts_query(q: str | None) -> str:
    """An FTS5 MATCH expression for a reader's query.

    The terms of one space-separated part must occur close together (``NEAR``, allowing for
    the sub-words search mode inserts); separate parts must all occur (AND).
    ``扬尘`` -> ``"扬尘"``; ``扬尘管控`` -> ``NEAR("扬尘" "管控", 6)``;
    ``PM2.5浓度`` -> ``NEAR("pm2.5" "浓度", 6)``. A query without any word (blank, punctuation
    only) gives an expression that matches nothing, never an error.
    """
    groups = query_groups(q)
    if not groups:
        return NO_MATCH
    exprs = []
    for group in groups:
        terms = " ".join(_fts_term(t) for t in group)
        exprs.append(terms if len(group) == 1 else f"NEAR({terms}, {3 * len(group)})")
    return " AND ".join(exprs)


# -- building the index -------------------------------------------------------------------

VIEWS: dict[str, str] = {
    "clause_context": f"""
select
  c.id as clause_id,
  d.district as district,
  c.campaign as campaign,
  d.id as document_id,
  d.title as title,
  cc.section_path as section_path,
  cc.label as label,
  c.seq as seq,
  c.kind as kind,
  c.text as text,
  c.page as page,
  cc.citation as citation,
  {routes.sql_clause_url("c.id")} as clause_url
from clauses c
join documents d on d.id = c.document_id
left join clause_citations cc on cc.clause_id = c.id
""",
    "target_citations": f"""
select
  t.id as target_id,
  d.district as district,
  d.district_slug as district_slug,
  t.indicator_id as indicator_id,
  coalesce(i.name_zh, t.indicator) as indicator_name,
  t.indicator as indicator,
  t.value as value,
  t.value_max as value_max,
  t.unit as unit,
  t.canonical_unit as canonical_unit,
  t.value_canonical as value_canonical,
  t.comparator as comparator,
  t.value_text as value_text,
  t.dimension as dimension,
  t.kind as kind,
  t.kind_evidence as kind_evidence,
  t.year as year,
  t.base_year as base_year,
  t.campaign as campaign,
  t.qualifiers as qualifiers,
  t.attribute as attribute,
  t.surface as surface,
  d.id as document_id,
  d.title as title,
  d.issuer as issuer,
  d.doc_number as doc_number,
  d.year as document_year,
  t.clause_id as clause_id,
  cc.section_path as section_path,
  cc.label as label,
  c.text as clause,
  t.page as page,
  t.start as start,
  t."end" as "end",
  cc.citation as citation,
  {routes.sql_clause_url("t.clause_id", "t.id")} as clause_url
from targets t
join documents d on d.id = t.document_id
left join clauses c on c.id = t.clause_id
left join clause_citations cc on cc.clause_id = t.clause_id
left join indicators i on i.id = t.indicator_id
""",
    # the cells are those of coverage_cells (extractor.kb.coverage, built with kb.db), so a page of
    # the view reads its rows by key instead of grouping every target of the corpus per visit;
    # the casts give the counts integer affinity, so a filter from the page (?states_target=1,
    # a text parameter) compares as a number, as it does on a table's INTEGER column
    "indicator_coverage": f"""
with districts as (select distinct district from documents where district is not null)
select
  i.id as indicator_id,
  i.name_zh as indicator_name,
  i.campaign as campaign,
  districts.district as district,
  cast(coalesce(c.states_target, 0) as integer) as states_target,
  cast(coalesce(c.n_targets, 0) as integer) as n_targets,
  case when c.n_targets > 0 then c."values" end as "values",
  {routes.sql_compare_url("i.id")} as compare_url
from indicators i
cross join districts
left join coverage_cells c on c.indicator_id = i.id and c.district = districts.district
""",
}


FTS_TABLES = {"clauses_fts": "clause_id", "targets_fts": "target_id", "clause_targets_fts": "clause_id"}
FTS_COLUMNS = {
    "clauses_fts": ("tokens",),
    "targets_fts": ("tokens",),
    "clause_targets_fts": ("tokens", "target_tokens"),
}
CONTENTLESS = ("targets_fts", "clause_targets_fts")


def targets_only_query(match: str) -> str:
    """The MATCH expression (for ``clause_targets_fts``) of the rows that ``match`` (an
    :func:`fts_query`) finds in the clause's tokens and its targets' together but not in the
    clause's tokens alone: the clauses a query finds only by their targets."""
    return f"({match}) NOT (tokens : ({match}))"


def create_fts_tables(db: sqlite_utils.Database) -> None:
    """The FTS5 tables ``clauses_fts(tokens, clause_id UNINDEXED)``, ``targets_fts(tokens,
    target_id UNINDEXED)`` and ``clause_targets_fts(tokens, target_tokens, clause_id UNINDEXED)``
    (columns: :data:`FTS_COLUMNS`), empty; rows are inserted with :func:`insert_fts`.

    ``rowid`` equals the indexed row's rowid (what Datasette's ``?_search=`` and the search page
    join on). ``targets_fts`` and ``clause_targets_fts`` are *contentless* (``content=''``): a
    target's tokens are its clause's tokens plus its own (indicator, dictionary name, surface),
    so storing them again per target would copy every clause once per target; the index is the
    same, its columns read as NULL (join ``targets`` or ``clauses`` on rowid instead).
    """
    for name, key in FTS_TABLES.items():
        db.execute(f"drop table if exists [{name}]")
        content = ", content=''" if name in CONTENTLESS else ""
        db.execute(
            f"create virtual table [{name}] using fts5({', '.join(FTS_COLUMNS[name])}, [{key}] unindexed,"
            f" tokenize='{FTS_TOKENIZE}'{content})"
        )


def insert_fts(db: sqlite_utils.Database, name: str, rows: Iterable[tuple]) -> None:
    """Rows ``(rowid, key, tokens...)`` (one string per column of :data:`FTS_COLUMNS`) into the
    FTS table ``name``."""
    key, columns = FTS_TABLES[name], FTS_COLUMNS[name]
    marks = ", ".join("?" * (len(columns) + 2))
    db.conn.executemany(f"insert into [{name}] (rowid, [{key}], {', '.join(columns)}) values ({marks})", rows)


def own_text(indicator: str | None, indicator_name: str | None, surface: str | None) -> str:
    """What a target adds to its clause's text in ``targets_fts``: the indicator as written,
    its dictionary name and the surface."""
    return " ".join([indicator or "", indicator_name or "", surface or ""])


def join_tokens(clause_tokens: str, own_tokens: str) -> str:
    """A target's FTS tokens: its clause's, then its own. jieba never segments across a blank,
    so this is ``tokenize(clause_text + " " + own_text(...))`` without cutting the clause again."""
    return f"{clause_tokens} {own_tokens}" if clause_tokens and own_tokens else clause_tokens or own_tokens


def clause_targets_tokens(
    clause_tokens: list[str], targets: Iterable[tuple[int | None, str]]
) -> dict[int, tuple[str, str]]:
    """The ``clause_targets_fts`` columns ``(tokens, target_tokens)`` of one document's clauses
    that state a target, by the clause's index: ``clause_tokens`` (one per clause, in order) and
    ``targets`` (per target, in order: the index of its clause or None, and its own tokens, as
    ``target_tokens`` of :func:`extractor.kb.store.document_rows`). The clause's tokens, and its
    targets' own joined by blanks, which jieba never segments across, so the second is the
    tokens of the targets' own texts joined by blanks."""
    own: dict[int, list[str]] = {}
    for k, tokens in targets:
        if k is not None:
            own.setdefault(k, []).append(tokens)
    return {k: (clause_tokens[k], " ".join(t for t in own[k] if t)) for k in sorted(own)}


def vocabulary_counts(
    clause_tokens: dict[object, str], targets: Iterable[tuple[object, str]]
) -> dict[str, int]:
    """In how many FTS rows each vocabulary term occurs, for one document: ``clause_tokens`` maps
    a clause key to its tokens, ``targets`` are ``(clause key or None, own tokens)``. A term of a
    clause counts once for the clause and once per target of it (as the rows of ``targets_fts``
    hold the clause's tokens), without building those rows."""
    known = _TERMS
    terms = {
        k: {t for t in set(v.split()) if known.get(t) or (t not in known and is_vocabulary_term(t))}
        for k, v in clause_tokens.items()
    }
    per_clause: dict[object, int] = dict.fromkeys(terms, 1)
    counts: dict[str, int] = {}
    for key, own in targets:
        base = terms.get(key, set())
        if key in per_clause:
            per_clause[key] += 1
        for t in set(own.split()):
            if t not in base and is_vocabulary_term(t):
                counts[t] = counts.get(t, 0) + 1
    for key, n in per_clause.items():
        for t in terms[key]:
            counts[t] = counts.get(t, 0) + n
    return counts


def is_vocabulary_term(token: str) -> bool:
    """A token worth suggesting: two to 12 characters, a word (not a bare number)."""
    found = _TERMS.get(token)
    if found is None:
        if len(_TERMS) >= BLOCK_CACHE_SIZE:
            _TERMS.clear()
        found = _TERMS[token] = (
            2 <= len(token) <= VOCABULARY_MAX_CHARS and _is_word(token) and not _NUMBER.fullmatch(token)
        )
    return found


_TERMS: dict[str, bool] = {}  # is_vocabulary_term of the tokens seen (a vocabulary recurs)


def vocabulary_rows(token_columns: Iterable[str]) -> list[dict]:
    """``search_vocabulary`` rows from FTS token columns: each term and in how many of the
    columns it occurs, sorted by term."""
    counts: dict[str, int] = {}
    for tokens in token_columns:
        for term in set(tokens.split()):
            if is_vocabulary_term(term):
                counts[term] = counts.get(term, 0) + 1
    return [{"term": t, "n": counts[t]} for t in sorted(counts)]


def create_vocabulary(db: sqlite_utils.Database, counts: dict[str, int]) -> None:
    """The ``search_vocabulary`` table from term counts, sorted by term, with an index on ``n``."""
    if VOCABULARY in db.table_names():
        db[VOCABULARY].drop()
    db[VOCABULARY].create({"term": str, "n": int}, pk="term")
    db.conn.executemany(
        f"insert into [{VOCABULARY}] (term, n) values (?, ?)", ((t, counts[t]) for t in sorted(counts))
    )
    db[VOCABULARY].create_index(["n"])  # its table page's order (site.yml sort_desc: n)


def create_views(db: sqlite_utils.Database) -> None:
    for view, sql in VIEWS.items():
        db.execute(f"drop view if exists [{view}]")
        db.create_view(view, sql.strip())


def create_citations_table(db: sqlite_utils.Database) -> None:
    if "clause_citations" in db.table_names():
        db["clause_citations"].drop()
    db["clause_citations"].create(
        {"clause_id": str, "section_path": str, "label": str, "citation": str},
        pk="clause_id",
        foreign_keys=[("clause_id", "clauses", "id")],
    )


def index_database(db: sqlite_utils.Database) -> None:
    """Add search and citation structures to a kb.db from its rows (deterministic).

    Creates ``clause_citations``, the FTS5 tables ``clauses_fts``, ``targets_fts`` and
    ``clause_targets_fts`` (rowids equal to the indexed rows' rowids), ``search_vocabulary`` and the views in :data:`VIEWS`.
    Safe to call again. The build (``store.write_db``) makes the same tables from the rows and
    tokens the workers computed per document, without cutting any text here.
    """
    for view in VIEWS:
        db.execute(f"drop view if exists [{view}]")
    create_citations_table(db)
    db["clause_citations"].insert_all(citation_rows(db))
    create_fts_tables(db)
    clause_tokens: dict[object, str] = {}
    rows = []
    for r, cid, text in db.execute("select rowid, id, text from clauses order by rowid").fetchall():
        clause_tokens[cid] = tokenize(text)
        rows.append((r, cid, clause_tokens[cid]))
    insert_fts(db, "clauses_fts", rows)
    position = {cid: i for i, (_, cid, _) in enumerate(rows)}
    target_rows = db.execute(
        """select t.rowid, t.id, t.clause_id, t.indicator, i.name_zh, t.surface
           from targets t left join indicators i on i.id = t.indicator_id order by t.rowid"""
    ).fetchall()
    own = [(r[2] if r[2] in clause_tokens else None, tokenize(own_text(*r[3:]))) for r in target_rows]
    insert_fts(
        db,
        "targets_fts",
        ((r[0], r[1], join_tokens(clause_tokens.get(k, ""), o)) for r, (k, o) in zip(target_rows, own)),
    )
    by_clause = clause_targets_tokens([r[2] for r in rows], [(position.get(k), o) for k, o in own])
    insert_fts(db, "clause_targets_fts", [(rows[i][0], rows[i][1], *tok) for i, tok in by_clause.items()])
    create_vocabulary(db, vocabulary_counts(clause_tokens, own))
    create_views(db)
    db.conn.commit()
