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
    """Indicator terms in ``phrase`` (t2s applied; parenthesised abbreviations ignored)."""
    text = to_simplified(phrase)
    keep = [i for i in range(len(text))]
    stripped = text
    for m in reversed(list(_PARENS.finditer(text))):
        stripped = stripped[: m.start()] + stripped[m.end() :]
        del keep[m.start() : m.end()]
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


@functools.lru_cache(maxsize=8192)
def indicator_for(phrase: str) -> Indicator | None:
    """The indicator a phrase names: its longest mention, the last one on a tie."""
    mentions = find_mentions(phrase)
    if not mentions:
        return None
    best = max(mentions, key=lambda m: (m.end - m.start, m.start))
    return load_indicators().indicators[best.indicator_id]
