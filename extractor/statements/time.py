"""The time of a statement: its kind (target or actual) and year, and its base year.

* ``year``: 到2025年 (a target year), a dated sentence or paragraph (2023年，…), an ended
  five-year period (“十三五”期间), a past word (去年), a dated or review heading; else the plan
  year (annual plans) or the last year of the plan period.
* ``kind``: actual for an observation before the plan, a review section, an achievement
  (已建成…) or a present stock (全区现有…120座); else target. A condition or scope from
  :func:`extractor.statements.kinds.local_kind` keeps its kind; a named list becomes scope.
* ``base_year``: 较/比/相较 20XX年 before the number, or a relative word (较上年).

The cue words and patterns are data (``statements.yml``).
"""

from __future__ import annotations

import regex

from extractor.lexicon.cues import StatementCues
from extractor.model import Clause
from extractor.statements.context import DocContext, Mention, segment_start
from extractor.statements.kinds import is_definition

FROM_YEAR = regex.compile(r"(?:由|从)[ \u3000]*$")
TO_WORD = regex.compile(r"\d[^，,。；;]*?(?:到|至|为)")


def _years(pattern: regex.Pattern, text: str) -> list[tuple[int, int, int]]:
    """``(start, end, year)`` of each match of ``pattern`` (a named group ``year``) in ``text``."""
    return [(m.start(), m.end(), int(m.group("year"))) for m in pattern.finditer(text)]


def find_base_year(cues: StatementCues, sentence_prefix: str) -> int | None:
    """The base year named closest before the number (较2020年, 比2015年), or None."""
    found = [y for p in cues.base_year_patterns for y in _years(p, sentence_prefix)]
    return max(found)[2] if found else None


def relative_base_year(cues: StatementCues, sentence_prefix: str, year: int | None) -> int | None:
    """A base year relative to ``year`` (较上年 -> year - 1), or None."""
    if year is None:
        return None
    for word, offset in cues.relative_base_years.items():
        if word in sentence_prefix:
            return year + offset
    return None


def _dated_years(cues: StatementCues, text: str) -> list[tuple[int, int, int]]:
    """Years used as time adverbials: not base years, not titles (《…2024年行动计划》)."""
    excluded = [(s, e) for p in cues.base_year_patterns for s, e, _ in _years(p, text)]
    out = []
    for s, e, y in _years(cues.dated_year, text):
        if any(a <= s < b for a, b in excluded):
            continue
        if text.rfind("《", 0, s) > text.rfind("》", 0, s):
            continue
        if regex.match(r"\s*(?:度|行动计划|工作计划|计划|实施方案|年度)", text[e:]):
            continue
        out.append((s, e, y))
    return out


def kind_and_year(
    ctx: DocContext, m: Mention, clause: Clause | None, kind: str | None, sentence_prefix: str
) -> tuple[str, int | None]:
    """(kind, year): a target year, a dated sentence or paragraph, a past period or word, an
    achievement cue, a dated or review heading; else a target of the plan's year. A named list
    (kind "named_list") is scope unless a past date makes it an actual."""
    kind, year = _kind_year(ctx, m, clause, kind, sentence_prefix)
    return ("scope" if kind == "named_list" else kind), year


def _kind_year(
    ctx: DocContext, m: Mention, clause: Clause | None, kind: str | None, sentence_prefix: str
) -> tuple[str, int | None]:
    """(kind, year) in order: a target year, an observation year, a condition or scope, a past
    heading, an achievement or a present stock, else a target of the default year."""
    cues, text = ctx.cues, ctx.norm.text
    targets = [y for p in cues.target_year_patterns for y in _years(p, sentence_prefix)]
    if targets:
        year = max(targets)[2]
        if kind is None and ctx.plan_year is not None and year < ctx.plan_year:
            return "actual", year
        return kind or "target", year
    observed = _observation_year(ctx, m, sentence_prefix)
    if observed is not None and ctx.plan_year is not None:
        if kind in ("condition", "scope") or (kind == "named_list" and observed >= ctx.plan_year):
            return kind, observed
        return ("actual" if observed < ctx.plan_year else "target"), observed
    path = ctx.section_path(clause)
    past_heading = _past_heading_year(ctx, path)
    if kind == "condition" or (kind in ("scope", "named_list") and past_heading is None):
        if kind == "condition" and is_definition(ctx, clause, sentence_prefix):
            return kind, None
        if kind == "condition" and past_heading is not None:
            return kind, past_heading  # a bound in a review of the past (存在的主要问题)
        return kind, (ctx.plan_year if ctx.annual else None)
    if past_heading is not None:
        return "actual", past_heading
    segment = text[segment_start(text, m.sent_start, m.q.start) : m.q.start]
    if ctx.plan_year is not None and (_achieved(cues, segment) or _stock(cues, segment)):
        return "actual", ctx.plan_year - 1
    if ctx.report and ctx.plan_year is not None and not _looks_ahead(ctx, path, sentence_prefix):
        return "actual", ctx.plan_year - 1  # a report states results unless it says otherwise
    if not ctx.annual and EVERY_YEAR.search(segment):
        return "target", None  # 每年创建10-15个: a target for every year of the period, not one
    return "target", ctx.default_year


def _looks_ahead(ctx: DocContext, path: str, sentence_prefix: str) -> bool:
    """In a report: a goal word before the number, or a heading about the plan year or the future."""
    if any(w in sentence_prefix for w in ctx.cues.future_cues):
        return True
    if any(y >= ctx.plan_year for _, _, y in _dated_years(ctx.cues, path)):
        return True
    return any(w in path for w in ctx.cues.future_cues)


def _observation_year(ctx: DocContext, m: Mention, sentence_prefix: str) -> int | None:
    """The year a sentence is dated by: 2023年，…; “十三五”期间…; 去年…; or its paragraph's 2023年，."""
    cues, text = ctx.cues, ctx.norm.text
    dated = [
        d for d in _dated_years(cues, sentence_prefix) if not _earlier_value_year(sentence_prefix, *d[:2])
    ]
    if dated:
        return dated[-1][2]
    ended = _ended_period(cues, sentence_prefix, ctx.plan_year)
    if ended is not None:
        return ended
    if ctx.plan_year is not None and any(
        regex.search(rf"(?<![较比同于]){w}", sentence_prefix) for w in cues.past_words
    ):
        return ctx.plan_year - 1
    return _lead_year(text, m)


LEAD_YEAR = regex.compile(r"\s*(?:[一二三四五六七八九十]+是)?\s*((?:19|20)\d{2})\s*年[，,]")


def _lead_year(text: str, m: Mention) -> int | None:
    """2023年， leading the paragraph, or the full sentence (to 。) whose ；-clauses hold the number."""
    lead_m = LEAD_YEAR.match(text[m.line_start : m.sent_start] + text[m.sent_start : m.sent_start + 12])
    if lead_m:
        return int(lead_m.group(1))
    full = max(text.rfind(c, m.line_start, m.sent_start) for c in "。！？") + 1
    if m.line_start < full < m.sent_start:
        lead_m = LEAD_YEAR.match(text, full, m.sent_start)
    return int(lead_m.group(1)) if lead_m else None


def _earlier_value_year(text: str, s: int, e: int) -> bool:
    """由2024年的161项增加至183项: 2024 dates the value it introduces, not the one after 至."""
    return bool(FROM_YEAR.search(text, 0, s)) and bool(TO_WORD.search(text, e))


def _ended_period(cues: StatementCues, text: str, plan_year: int | None) -> int | None:
    """The last year of a five-year period named in ``text`` that ended before the plan."""
    if plan_year is None:
        return None
    ends = [end for name, (_, end) in cues.five_year_periods.items() if name in text and end < plan_year]
    return max(ends) if ends else None


def _past_heading_year(ctx: DocContext, path: str) -> int | None:
    """A heading path about the past: a review heading, a past year, an ended period."""
    if ctx.plan_year is None or not path:
        return None
    years = [y for _, _, y in _dated_years(ctx.cues, path) if y < ctx.plan_year]
    if years:
        return years[-1]
    ended = _ended_period(ctx.cues, path, ctx.plan_year)
    if ended is not None:
        return ended
    if any(w in path for w in ctx.cues.review_headings):
        return ctx.plan_year - 1
    return None


def _stock(cues: StatementCues, segment: str) -> bool:
    """A present stock (全区共有加油站120座): a verb of having is the predicate of the clause, and
    no goal word says otherwise (对现有120座加油站开展治理 is a measure, not a stock)."""
    if any(w in segment for w in cues.target_cues):
        return False
    for verb in cues.stock_verbs:
        pos = segment.find(verb)
        if (
            pos >= 0
            and not segment.startswith("的", pos + len(verb))
            and not any(w in segment[:pos] for w in cues.stock_not_after)
        ):
            return True
    return False


def _achieved(cues: StatementCues, segment: str) -> bool:
    """An achievement cue (已建成…) and no goal word in the clause before the number."""
    return any(w in segment for w in cues.actual_cues) and not any(w in segment for w in cues.target_cues)


EVERY_YEAR = regex.compile(r"每年|逐年|年年")
LEAD_BASE = regex.compile(r"\s*(?:与|同|和)\s*((?:19|20)\d{2})\s*年(?:相比|比较)\s*[，,]")
FROM_BASE = regex.compile(
    r"由\s*((?:19|20)\d{2})\s*年的?[^，。；]*?(?:下降|降低|减少|提高|提升|增加|增长|上升)(?:到|至)"
)
CHANGE_BEFORE = regex.compile(r"(?:下降|降低|减少|削减|提高|提升|增加|增长|上升)了?\s*$")


def sentence_base_year(text: str, m: Mention, segment_prefix: str) -> int | None:
    """A base year stated for the whole sentence: 与2022年相比，…O3浓度上升1.3% (a leading
    comparison), or 由2015年的52…下降到2020年的37…，累计下降28.8% (the change from the 由-year)."""
    if not CHANGE_BEFORE.search(segment_prefix):
        return None
    lead = LEAD_BASE.match(text, m.sent_start, m.q.start)
    if lead:
        return int(lead.group(1))
    change = FROM_BASE.search(text, m.sent_start, m.q.start)
    return int(change.group(1)) if change else None
