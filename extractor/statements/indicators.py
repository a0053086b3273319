"""Indicator mentions with a spaCy ``span_ruler`` built from ``data/indicators.yml``.

The pipeline is ``spacy.blank("zh")`` with the jieba segmenter; every indicator term is added to
jieba's dictionary (``jieba.add_word``) so that a term is one token and the ruler, which only
matches on token edges, sees it. Patterns are ``{"label": "INDICATOR", "pattern": term, "id":
indicator_id}`` records, so they round-trip to disk with ``ruler.to_disk``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import regex

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
    patterns = ruler_patterns()
    for pat in patterns:
        jieba.add_word(pat["pattern"], freq=2000)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("span_ruler", config={"spans_key": "indicators", "overwrite": False})
    ruler.add_patterns(patterns)
    return nlp


def find_mentions(phrase: str) -> list[IndicatorMention]:
    """Indicator terms in ``phrase`` (t2s applied; parenthesised abbreviations and blanks
    ignored: 劣 V 類水體下降比例 is 劣V类水体下降比例)."""
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
    doc = indicator_nlp()(stripped)
    out = []
    for span in doc.spans["indicators"]:
        s, e = span.start_char, span.end_char
        out.append(IndicatorMention(span.id_, keep[s], keep[e - 1] + 1, span.text))
    if not out:  # a term that jieba split differently: fall back to the longest substring
        out = _substring_mentions(stripped, keep)
    return out


def _substring_mentions(text: str, keep: list[int]) -> list[IndicatorMention]:
    best = None
    for pat in ruler_patterns():
        term = pat["pattern"]
        pos = text.rfind(term)
        if pos >= 0 and (best is None or len(term) > len(best[2])):
            best = (pat["id"], pos, term)
    if best is None:
        return []
    ind_id, pos, term = best
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
