"""Goals stated without a number: qualitative targets (value NULL, ``value_text`` the wording).

A plan names a goal in words where it has no figure: a goal table's cell (细颗粒物年均浓度 ·
2025年规划值 · 达到市级要求) or a goal sentence (优良天数比例稳步提升; 基本消除重污染天气). Such a
statement is a target only where all three hold:

* a goal wording of ``indicators.yml`` ``qualitative``: after its subject (``after``: 达到市级要求,
  稳步提升, 持续改善…) ending a segment, or before its object (``before``: 消除劣V类水体), the object
  naming the indicator of its share or days (劣V类水体 -> 劣V类水体比例, 重污染天气 -> …天数);
* a known indicator as its subject (the span ruler, any unit: the value has none), not a
  whole domain (``broad``: 空气质量持续改善 is no PM2.5 goal);
* a goal context: a value column of a goal table (tables.py), or a sentence with a horizon
  (到2025年), in a clause that says 目标 or in a section whose title does (总体目标, 工作目标), never a
  review section (完成情况, 取得积极成效).

:func:`goal_phrases` finds them in one line of the analysis text; ``assemble`` makes the Targets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import regex

from extractor.lexicon.cues import Indicator, load_indicators
from extractor.lexicon.time import load_time
from extractor.quantities import find_quantities
from extractor.statements.context import SEGMENT_END, DocContext
from extractor.statements.indicators import indicator_for
from extractor.statements.subjects import clean_phrase, split_subjects

LEAD = regex.compile(
    r"(?:[一二三四五六七八九十]+是|\d{1,2}[.．、]|其中|同时|并|且|各镇街|各街镇)?[ \u3000]*"
    r"(?:实现|确保|力争|推动|推进|保持|促进|加快)?[ \u3000]*"
)
SAID = regex.compile(r"目标(?:是|为)[：:]?")
_SEGMENT_STOP = regex.compile("[" + regex.escape(SEGMENT_END) + "]")
OBJECT_HEADS = ("", "比例", "天数")  # 消除劣V类水体: the share of such water; 消除重污染天气: its days


@dataclass(frozen=True)
class Goal:
    """A qualitative goal in analysis offsets: its subject phrase and the wording."""

    phrase: str
    phrase_start: int
    phrase_end: int
    indicator: Indicator
    start: int  # the wording
    end: int


@functools.cache
def _wordings() -> tuple[regex.Pattern, regex.Pattern, frozenset[str]]:
    lex = load_indicators()
    after = "|".join(regex.escape(w) for w in sorted(lex.goal_after, key=len, reverse=True))
    before = "|".join(regex.escape(w) for w in sorted(lex.goal_before, key=len, reverse=True))
    return (
        regex.compile(rf"(?:{after})[ \u3000]*$"),
        regex.compile(rf"(?:{before})"),
        frozenset((*lex.goal_after, *lex.goal_before)),
    )


def is_goal_wording(cell: str) -> bool:
    """A table cell that is a goal wording alone (达到市级要求, 稳步提升, 基本消除)."""
    return cell.strip() in _wordings()[2]


def goal_context(ctx: DocContext, clause_text: str, section_id: str | None, sentence: str) -> bool:
    """A sentence where a plan states its goals (see the module doc)."""
    titles = []
    sid = section_id
    while sid and sid in ctx.sections:
        titles.append(ctx.sections[sid].title)
        sid = ctx.sections[sid].parent_id
    if any(any(w in t for w in ctx.cues.review_headings) for t in titles):
        return False
    if any(p.search(sentence) for p in load_time().horizon):
        return True
    return "目标" in clause_text[:12] or any("目标" in t for t in titles)


def goal_phrases(text: str, start: int, end: int) -> list[Goal]:
    """The qualitative goals of ``text[start:end]`` (a line of the analysis text), segment by
    segment; a segment with a number in it states a quantity, not a goal in words."""
    after, before, _ = _wordings()
    out: list[Goal] = []
    s = start
    while s < end:
        stop = _SEGMENT_STOP.search(text, s, end)
        e = stop.start() if stop else end
        # the goal wording first: most segments have none, and then the grammar need not run
        goals = _segment_goals(text, s, e, after, before)
        if goals and not find_quantities(text[s:e]):
            out.extend(goals)
        s = e + 1
    return out


def _segment_goals(text: str, s: int, e: int, after: regex.Pattern, before: regex.Pattern) -> list[Goal]:
    lead = LEAD.match(text, s, e)
    a = lead.end() if lead else s
    m = after.search(text, a, e)
    if m and m.start() - a >= 2:
        said = SAID.search(text, a, m.start())  # …主要目标是<subject>稳中向好
        a, b = clean_phrase(text, said.end() if said else a, m.start())
        while b > a and text[b - 1] in " \u3000的":
            b -= 1
        if b - a < 2:
            return []
        if b - a > 30:
            return []
        subjects = split_subjects(text, a, b) or [(text[a:b], a, b)]
        if any(p in load_indicators().goal_broad for p, _, _ in subjects):
            return []  # 空气质量持续改善: a domain, not its indicator
        found = [(p, x, y, indicator_for(p)) for p, x, y in subjects]
        if all(ind is not None for *_, ind in found):
            wend = m.end() - (len(m.group(0)) - len(m.group(0).rstrip()))
            return [Goal(p, x, y, ind, m.start(), wend) for p, x, y, ind in found]
        return []
    m = before.match(text, a, e)
    if m and e - m.end() >= 2 and e - m.end() <= 20:
        obj = text[m.end() : e].rstrip()
        for head in OBJECT_HEADS:
            ind = indicator_for(obj + head)
            if ind is not None:
                return [Goal(obj + head, m.end(), m.end() + len(obj), ind, m.start(), m.end())]
    return []
