"""The comparator of a quantity: ``=``, ``<``, ``<=``, ``>``, ``>=`` or ``~``.

Symbols (≤55), words after the unit (以上, 以内, 左右), approximation words (余, 近) and
comparator words before the number (不高于, 控制在, 约, 达到); a list shares them. The words
are data (``comparators.yml``, loaded by :func:`extractor.lexicon.cues.load_comparators`).
"""

from __future__ import annotations

import functools

import regex

from extractor.lexicon.cues import load_comparators
from extractor.model import Quantity


def read_comparator(q: Quantity, prefix: str, own_after: str, group_after: str) -> str:
    """The comparator of ``q`` from its symbol, approximation word, the words after it (its own,
    then the list's) or the words before it."""
    comps = load_comparators()
    if q.comparator_hint:
        return comps.symbols.get(q.comparator_hint, "=")
    if q.approx and q.approx in comps.approx and q.approx in ("左右", "上下"):
        return comps.approx[q.approx]
    if q.dimension in ("duration", "length") and own_after.lstrip(" \u3000")[:1] == "内":
        return "<="  # 24小时内响应, 500米内
    for after in (own_after, group_after):
        word = starting_word(after.lstrip(" \u3000"), comps.after)
        if word:
            return comps.after[word]
    if q.approx and q.approx in comps.approx:
        return comps.approx[q.approx]
    if q.dimension == "rank" and RANK_TOP.search(comps.mask(prefix)):
        return "<="  # 前18名, 排名前10位: within the first N
    return before_comparator(prefix)


RANK_TOP = regex.compile(r"前[ \u3000]*$")


def marks_each_item(own_afters: list[str]) -> bool:
    """Whether a list writes its comparator words item by item: in 下降8%、8%、10%以上、10%以上 the
    以上 belongs to the items it follows, so the last item's words are not shared with the
    others; in 分别达到10%、20%和30%以上 only the last item has them and they hold for all."""
    comps = load_comparators()
    if any(starting_word(a.lstrip(" \u3000"), comps.after) for a in own_afters[:-1]):
        return True
    last = own_afters[-1].lstrip(" \u3000")
    word = starting_word(last, comps.after)  # 10%以上、10%以上: the list goes on after the word
    return bool(word and NEXT_ITEM.match(last, len(word)))


NEXT_ITEM = regex.compile(r"[ \u3000]*(?:、|和|及|与|以及|或|,)[ \u3000]*(?:[-－−负]|约|近)?\d")


def starting_word(text: str, words: dict[str, str]) -> str | None:
    """The longest of ``words`` that ``text`` starts with, or None."""
    if not text:
        return "" if "" in words else None
    for word in _by_first_char(words).get(text[0], ()):
        if text.startswith(word):
            return word
    return "" if "" in words else None


def _by_first_char(words: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """``words`` by their first character, longest first (two words of one length cannot both
    start a text, so this finds what the longest-first scan of all of them finds)."""
    key = id(words)
    found = _FIRST_CHAR.get(key)
    if found is None or found[0] is not words or found[1] != len(words):
        index: dict[str, list[str]] = {}
        for word in sorted(words, key=len, reverse=True):
            if word:
                index.setdefault(word[0], []).append(word)
        if len(_FIRST_CHAR) > 256:
            _FIRST_CHAR.clear()
        found = _FIRST_CHAR[key] = (words, len(words), {k: tuple(v) for k, v in index.items()})
    return found[2]


_FIRST_CHAR: dict[int, tuple[dict, int, dict[str, tuple[str, ...]]]] = {}


@functools.lru_cache(maxsize=16384)
def before_comparator(prefix: str) -> str:
    """The comparator of the words before the number: the closest non-'=' word wins (cached:
    the rules ask it of one prefix several times)."""
    comps = load_comparators()
    prefix = comps.mask(prefix)
    for pattern, comp in comps.before_patterns:
        if pattern.search(prefix):
            return comp
    found: list[tuple[int, int, str]] = []
    for word, comp in comps.before.items():
        pos = prefix.rfind(word)
        if pos >= 0:
            found.append((pos + len(word), len(word), comp))
    strict = [f for f in found if f[2] != "="]
    if strict:
        return max(strict)[2]
    return "="
