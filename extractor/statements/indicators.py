"""Indicator mentions with a spaCy ``span_ruler`` built from ``data/indicators.yml``.

The pipeline is ``spacy.blank("zh")`` with the jieba segmenter; every indicator term is added to
jieba's dictionary (``jieba.add_word``) so that a term is one token and the ruler, which only
matches on token edges, sees it. Patterns are ``{"label": "INDICATOR", "pattern": term, "id":
indicator_id}`` records, so they round-trip to disk with ``ruler.to_disk``.

Reading a phrase does not make a spaCy ``Doc`` for it: :func:`find_mentions` cuts the phrase with
the pipeline's own tokenizer segmenter (jieba, the same call and whitespace alignment the
tokenizer makes) and looks the token runs up in a table of the ruler's patterns, each tokenized by
the pipeline once (:func:`_phrase_table`). That is what the ruler's phrase matcher does on a Doc of
the phrase, without building the Doc: ``ruler_mentions`` (the Doc and the ruler) gives the same
mentions and ``tests/test_startup.py`` checks that it does. Results are cached per phrase.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import regex

from extractor.lexicon.base import share_jieba_dictionary
from extractor.lexicon.cues import Indicator, load_indicators, to_simplified

LABEL = "INDICATOR"
_PARENS = regex.compile(r"[（(][^（）()]{0,20}[）)]")
_BLANKS = regex.compile(r"[ \u3000\t\n]+")


@dataclass(frozen=True)
class IndicatorMention:
    """An indicator term found in a phrase: offsets into the phrase given to ``find_mentions``."""

    indicator_id: str
    start: int
    end: int
    text: str


def ruler_patterns() -> list[dict[str, str]]:
    """The span ruler patterns: one per term (name_zh and terms) of each indicator."""
    patterns = []
    for ind in load_indicators().indicators.values():
        for term in dict.fromkeys((ind.name_zh, *ind.terms)):
            patterns.append({"label": LABEL, "pattern": term, "id": ind.id})
    return patterns


@functools.cache
def indicator_nlp():
    """The spaCy pipeline (blank zh + jieba + span_ruler), built once."""
    import jieba
    import spacy

    jieba.setLogLevel(60)
    share_jieba_dictionary(jieba.dt, copy=True)  # not read again if the search index's tokenizer did
    patterns = ruler_patterns()
    for pat in patterns:
        jieba.add_word(pat["pattern"], freq=2000)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("span_ruler", config={"spans_key": "indicators", "overwrite": False})
    ruler.add_patterns(patterns)
    return nlp


def _strip(phrase: str) -> tuple[str, list[int]]:
    """``phrase`` after t2s without parenthesised abbreviations and blanks, and for each of its
    characters the offset in ``phrase``."""
    text = to_simplified(phrase)
    keep = [i for i in range(len(text))]
    stripped = text
    for m in reversed([*_PARENS.finditer(text), *_BLANKS.finditer(text)]):
        if keep.count(m.start()) == 0:
            continue
        a, b = keep.index(m.start()), keep.index(m.end() - 1) + 1 if (m.end() - 1) in keep else None
        if b is None:
            continue
        stripped = stripped[:a] + stripped[b:]
        del keep[a:b]
    return stripped, keep


def find_mentions(phrase: str) -> list[IndicatorMention]:
    """Indicator terms in ``phrase`` (t2s applied; parenthesised abbreviations and blanks
    ignored: 劣 V 類水體下降比例 is 劣V类水体下降比例)."""
    return list(_mentions(phrase))


@functools.lru_cache(maxsize=65536)
def _mentions(phrase: str) -> tuple[IndicatorMention, ...]:
    stripped, keep = _strip(phrase)
    out = [IndicatorMention(i, keep[s], keep[e - 1] + 1, t) for i, s, e, t in _ruler_spans(stripped)]
    if not out:  # a term that jieba split differently: fall back to the longest substring
        out = _substring_mentions(stripped, keep)
    return tuple(out)


def ruler_mentions(phrase: str) -> list[IndicatorMention]:
    """:func:`find_mentions` the slow way: a spaCy Doc of the phrase through the span ruler (the
    reference the token table must agree with; tests compare the two)."""
    stripped, keep = _strip(phrase)
    doc = indicator_nlp()(stripped)
    out = []
    for span in doc.spans["indicators"]:
        s, e = span.start_char, span.end_char
        out.append(IndicatorMention(span.id_, keep[s], keep[e - 1] + 1, span.text))
    if not out:
        out = _substring_mentions(stripped, keep)
    return out


@functools.cache
def _phrase_table():
    """The ruler's phrase matcher as a table, built once: each pattern's tokens (the pipeline's
    tokenization, as ``span_ruler.add_patterns`` makes them) -> indicator id, the longest pattern
    in tokens, the segmenter the pipeline's tokenizer cuts with and spaCy's whitespace alignment."""
    from spacy.util import get_words_and_spaces

    nlp = indicator_nlp()
    table: dict[tuple[str, ...], str] = {}
    for pat in ruler_patterns():
        table.setdefault(tuple(t.text for t in nlp.make_doc(pat["pattern"])), pat["id"])
    return table, max(map(len, table)), nlp.tokenizer.jieba_seg, get_words_and_spaces


def _ruler_spans(text: str) -> list[tuple[str, int, int, str]]:
    """(indicator id, start, end, text) of each ruler match in ``text``, in the ruler's order
    (by start, then end): the tokens of ``text`` as the pipeline's tokenizer makes them, each run
    of tokens looked up in the pattern table."""
    table, longest, segmenter, align = _phrase_table()
    if not text:
        return []
    words, spaces = align([w for w in segmenter.cut(text, cut_all=False) if w], text)
    starts = []
    pos = 0
    for w, sp in zip(words, spaces):
        starts.append(pos)
        pos += len(w) + sp
    found = []
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + longest) + 1):
            ind_id = table.get(tuple(words[i:j]))
            if ind_id is not None:
                s, e = starts[i], starts[j - 1] + len(words[j - 1])
                found.append((s, e, ind_id))
    return [(ind_id, s, e, text[s:e]) for s, e, ind_id in sorted(found)]


@functools.cache
def _terms_by_first_char() -> dict[str, list[tuple[int, str, str]]]:
    """The ruler's terms by their first character: (pattern order, term, indicator id)."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    for n, pat in enumerate(ruler_patterns()):
        out.setdefault(pat["pattern"][:1], []).append((n, pat["pattern"], pat["id"]))
    return out


def _substring_mentions(text: str, keep: list[int]) -> list[IndicatorMention]:
    """The longest term anywhere in ``text`` (the first in pattern order on a tie), at its last
    occurrence."""
    by_first = _terms_by_first_char()
    best = None  # (length, -order, id, term)
    for ch in set(text):
        for n, term, ind_id in by_first.get(ch, ()):
            if (best is None or (len(term), -n) > best[:2]) and term in text:
                best = (len(term), -n, ind_id, term)
    if best is None:
        return []
    _, _, ind_id, term = best
    pos = text.rfind(term)
    return [IndicatorMention(ind_id, keep[pos], keep[pos + len(term) - 1] + 1, term)]


def fits(indicator: Indicator, dimension: str | None) -> bool:
    """Whether a value of unit ``dimension`` can be a value of ``indicator``: the same dimension;
    a change in 百分点 of a share (优良天数比例上升5个百分点); a bare number (dimension "") only of a
    ratio or an index written without a unit; anything for an indicator of no one dimension, or
    when the dimension is not known (None)."""
    if dimension is None or not indicator.dimension:
        return True
    if dimension in ("", "number"):
        return indicator.canonical_unit in (None, "", "%")
    if indicator.dimension == "ratio" and dimension == "percentage_point":
        return True
    return indicator.dimension == dimension


@functools.lru_cache(maxsize=8192)
def indicator_for(phrase: str, dimension: str | None = None) -> Indicator | None:
    """The indicator a phrase names whose unit fits a value of ``dimension``: the longest mention
    (the last one on a tie) whose indicator fits, or a member of that indicator's family that does
    (化学需氧量排放总量 names cod_emissions in 万吨 and cod_emissions_reduction_rate in %: the
    value's unit decides which one a number states); None when none fits."""
    lexicon = load_indicators()
    mentions = sorted(find_mentions(phrase), key=lambda m: (m.end - m.start, m.start), reverse=True)
    for mention in mentions:
        indicator = lexicon.indicators[mention.indicator_id]
        if fits(indicator, dimension):
            return indicator
        for member in lexicon.families.get(indicator.family or "", ()):
            if fits(lexicon.indicators[member], dimension):
                return lexicon.indicators[member]
    return None
