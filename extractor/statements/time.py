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

import functools

import regex

from extractor.lexicon.cues import StatementCues
from extractor.lexicon.time import load_time
from extractor.model import Clause
from extractor.statements.context import DocContext, Mention, last_stop, segment_start
from extractor.statements.dating import Modality, modality, time_expressions
from extractor.statements.kinds import is_definition

_TITLE_AFTER_YEAR = regex.compile(r"\s*(?:度|行动计划|工作计划|计划|实施方案|年度)")
_SHORT_TO_COMMA = regex.compile(r"[^，,。；]{0,4}[，,]")
_PERIOD_COMMA = regex.compile(r"(?:期间|时期|末|期末)?[，,]")
_COMPARED_YEAR = regex.compile(r"(?:比|较|相比|与)\s*((?:19|20)\d{2})\s*年")
_NAMED_YEAR = regex.compile(r"((?:19|20)\d{2})\s*年")
_COMPARED_WITH_YEAR = regex.compile(r"与\s*((?:19|20)\d{2})\s*年(?:相比|比较)")

FROM_YEAR = regex.compile(r"(?:由|从)[ \u3000]*$")
_DIGIT = regex.compile(r"\d")
TO_WORD = regex.compile(r"\d[^，,。；;]*?(?:到|至|为)")


def _years(pattern: regex.Pattern, text: str) -> list[tuple[int, int, int]]:
    """``(start, end, year)`` of each match of ``pattern`` (a named group ``year``) in ``text``
    (none in a text without a digit: a year is digits)."""
    if not _DIGIT.search(text):
        return []
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
        if _TITLE_AFTER_YEAR.match(text[e:]):
            continue
        out.append((s, e, y))
    return out


def kind_and_year(
    ctx: DocContext, m: Mention, clause: Clause | None, kind: str | None, sentence_prefix: str
) -> tuple[str, int | None, str]:
    """(kind, year, evidence): the evidence is the words that decided the kind (到2025年, 同比,
    “十一五”期间, a heading, the document's genre). A named list (kind "named_list") is scope
    unless a past date makes it an actual. See :func:`_kind_year` for the order of evidence."""
    kind, year, evidence = _kind_year(ctx, m, clause, kind, sentence_prefix)
    return ("scope" if kind == "named_list" else kind), year, evidence


def _kind_year(
    ctx: DocContext, m: Mention, clause: Clause | None, kind: str | None, sentence_prefix: str
) -> tuple[str, int | None, str]:
    """(kind, year, evidence), from the statement outwards:

    1. a horizon in the sentence before the number (到2025年, 2024年底前);
    2. a time the sentence is about (2023年，…; “十一五”期间; 去年; 推广前), or the time that opens
       its paragraph (2023年，… / 到2030年，… / “十四五”期间，…): ahead of the text's present a
       target, behind it an actual, at it what the clause's cues say;
    3. a condition or scope from the words around the number keeps its kind;
    4. a heading about the past (回顾, 存在的问题, a past year);
    5. the clause's cues: an achievement or a present stock, or weighted modality and aspect
       cues (力争, 将, 目标 / 已, 下降了, 同比);
    6. the document: a report states actuals unless it looks ahead; else a target of the plan's
       default year.
    """
    text = ctx.norm.text
    seg_start = segment_start(text, m.sent_start, m.q.start)
    segment = text[seg_start : m.q.start]
    mod = modality(segment, text[m.q.end : m.sent_end])
    horizon = _horizon(sentence_prefix, ctx.time.present)
    if horizon is not None:
        year, written = horizon
        if kind is None and ctx.before_present(year):
            return "actual", year, written
        return kind or "target", year, written
    observed = _observation(ctx, m, sentence_prefix)
    if observed is not None and observed[2].startswith("lead ") and kind is not None:
        observed = None  # a paragraph's time does not date a condition or a scope of its own
    if observed is not None:
        year, written, role = observed
        role = role.removeprefix("lead ")
        if role == "horizon":
            if kind is None and ctx.before_present(year):
                return "actual", year, written
            return kind or "target", year, written
        if kind in ("condition", "scope") or (
            kind == "named_list" and (year is None or not ctx.before_present(year))
        ):
            return kind, year, written
        return _kind_at(ctx, year, mod, role), year, written
    path = ctx.section_path(clause)
    past_heading = _past_heading_year(ctx, path)
    if kind == "condition" or (kind in ("scope", "named_list") and past_heading is None):
        if kind == "condition" and is_definition(ctx, clause, sentence_prefix):
            return kind, None, ""
        if kind == "condition" and past_heading is not None:
            return kind, past_heading, path  # a bound in a review of the past (存在的主要问题)
        return kind, (ctx.plan_year if ctx.annual and ctx.plan_known else None), ""
    if past_heading is not None:
        return "actual", past_heading, path.rsplit(" › ", 1)[-1]
    cues = ctx.cues
    segment_cue = _achieved(cues, segment) or _stock(cues, segment)
    if ctx.time.present is not None and segment_cue:
        return "actual", ctx.actual_year(m), segment_cue
    if ctx.report:
        ahead = _looks_ahead(ctx, path, sentence_prefix)
        if not ahead:
            return "actual", ctx.actual_year(m), ctx.report_evidence  # a report states results
        return "target", ctx.default_year, ahead
    if mod.kind == "actual" and mod.strength >= 2:
        return "actual", ctx.actual_year(m), mod.evidence
    every = EVERY_YEAR.search(segment)
    if not ctx.annual and every:
        return "target", None, every.group(0)  # 每年创建10-15个: a target for every year of the period
    if mod.kind == "target":
        return "target", ctx.default_year, mod.evidence
    if ctx.prior == "actual":
        return "actual", ctx.actual_year(m), ctx.report_evidence
    return "target", ctx.default_year, ctx.plan_evidence


def _kind_at(ctx: DocContext, year: int | None, mod: Modality, role: str) -> str:
    """The kind of a statement about ``year``: ahead of the text's present a target, behind it an
    actual (unless the clause names it a goal: 提出“十一五”…降低20%左右的约束性指标), at it or with
    no present what the clause's cues say, else the document's prior."""
    present = ctx.time.present
    if role == "before":
        return "actual"
    if year is not None and present is not None:
        if year < present:
            return "target" if mod.kind == "target" and mod.evidence in GOAL_WORDS else "actual"
        if year > present:
            return "target"
        if mod.kind == "actual" and mod.strength >= 3:
            return "actual"
        return "target"
    return mod.kind or ctx.prior


GOAL_WORDS = (
    "目标",
    "指标",
    "任务",
    "约束性指标",
    "的目标",
    "的约束性指标",
    "的指标",
    "的任务",
    "提出",
    "要求",
    "确定",
)


def _horizon(sentence_prefix: str, present: int | None = None) -> tuple[int, str] | None:
    """The horizon closest before the number in its sentence (到2025年, 2024年底前, 截至2023年).
    ``present`` only dates relative words (去年), never a horizon: the expressions are found once
    for this and :func:`_observation`."""
    found = [t for t in _expressions(sentence_prefix, present) if t.role in ("horizon", "since")]
    return (found[-1].year, found[-1].written.strip()) if found else None


@functools.lru_cache(maxsize=64)
def _expressions(text: str, present: int | None) -> tuple:
    """:func:`time_expressions` of a sentence prefix, kept for the next question about it."""
    return tuple(time_expressions(text, present, load_time()))


def _looks_ahead(ctx: DocContext, path: str, sentence_prefix: str) -> str:
    """In a report: a goal word before the number, or a heading about the plan year or the
    future; the word or heading, else ""."""
    word = next((w for w in ctx.cues.future_cues if w in sentence_prefix), None)
    if word:
        return word
    present = ctx.time.present
    heading = path.rsplit(" › ", 1)[-1]
    if present is not None and any(y >= present for _, _, y in _dated_years(ctx.cues, path)):
        return heading
    return heading if any(w in path for w in ctx.cues.future_cues) else ""


def _observation(ctx: DocContext, m: Mention, sentence_prefix: str) -> tuple[int | None, str, str] | None:
    """(year, words, role) of the time a sentence is about: a dated year (2023年，…), a plan period
    (“十一五”期间 → its last year), a relative word (去年 → present − 1; 目前), a before-word
    (推广前: no year), or the time that opens its paragraph or full sentence."""
    cues = ctx.cues
    dated = [
        d for d in _dated_years(cues, sentence_prefix) if not _earlier_value_year(sentence_prefix, *d[:2])
    ]
    lex = load_time()
    periods = [
        (p.start(), lex.periods[p.group("period")][1], p.group(0), sentence_prefix[p.end() : p.end() + 2])
        for p in lex.period.finditer(sentence_prefix)
        if p.group("period") in lex.periods and not _in_title(sentence_prefix, p.start())
    ]
    candidates = [(s, y, sentence_prefix[s:e], "dated") for s, e, y in dated]
    candidates += [(s, y, w + ("以来" if tail == "以来" else ""), "period") for s, y, w, tail in periods]
    if candidates:
        _, year, written, role = max(candidates)
        if written.endswith("以来"):  # “十四五”以来: from the period's start up to the text's present
            return ctx.actual_year(m), written.strip(), "before"
        return year, written.strip(), role
    for t in _expressions(sentence_prefix, ctx.time.present):
        if t.role == "relative" and t.year is not None:
            return t.year, t.written, "relative"
        if t.role == "before":
            return None, t.written, "before"
    return _lead(ctx, m)


def _in_title(text: str, pos: int) -> bool:
    """``pos`` lies inside a 《…》 title."""
    return text.rfind("《", 0, pos) > text.rfind("》", 0, pos)


LEAD_YEAR = regex.compile(r"\s*(?:[一二三四五六七八九十]+是)?\s*((?:19|20)\d{2})\s*年[，,]")
LEAD_PREFIX = regex.compile(r"\s*(?:[一二三四五六七八九十]+是)?\s*")


def _lead(ctx: DocContext, m: Mention) -> tuple[int | None, str, str] | None:
    """The time that opens the paragraph, or the full sentence (to 。) whose ；-clauses hold the
    number: 2023年， / 到2030年， / “十四五”期间，."""
    text = ctx.norm.text
    starts = [m.line_start]
    full = last_stop(text, "。！？", m.line_start, m.sent_start) + 1
    if m.line_start < full < m.sent_start:
        starts.append(full)
    sentence = max(full, m.line_start)  # the start of the full sentence that holds the number
    for start in reversed(starts):
        found = _lead_at(text, start, m.q.start, framed=start == sentence)
        if found is not None:
            return found
    return None


def _lead_at(text: str, start: int, limit: int, framed: bool = False) -> tuple[int | None, str, str] | None:
    """A time expression opening ``text[start:]`` and followed by a comma; ``framed``: or opening
    one of its first comma segments after a frame without a number: 《方案》提出，2015年，… /
    在减排方面，到2025年，… (a reported or topical frame, then the time the whole sentence is
    about; only for the number's own sentence: a paragraph's opening frame and time do not reach
    its later sentences)."""
    found = _lead_in(text[start : min(limit, start + 24)])
    if found is not None or not framed:
        return found
    head = text[start : min(limit, start + LEAD_FRAME_CHARS)]
    frame = LEAD_FRAME.match(head)
    while frame is not None and frame.end() < len(head):
        found = _lead_in(head[frame.end() : frame.end() + 24])
        if found is not None:
            return found
        frame = LEAD_FRAME.match(head, frame.end())
    return None


# a frame before a sentence's time: comma segments of at most 16 characters, no number, no
# sentence end (a bounded scan: at most LEAD_FRAME_CHARS characters of the sentence)
LEAD_FRAME = regex.compile(r"[^，,。；;！？!?\d\n]{1,16}[，,]")  # \d: full-width digits too
LEAD_FRAME_CHARS = 60


@functools.lru_cache(maxsize=1024)
def _lead_in(window: str) -> tuple[int | None, str, str] | None:
    """:func:`_lead_at` of the first 24 characters (the numbers of a line share them)."""
    hit = LEAD_YEAR.match(window)
    if hit:
        return int(hit.group(1)), hit.group(0).strip(" ，,"), "lead dated"
    lex = load_time()
    lead = LEAD_PREFIX.match(window).end()
    for p in (*lex.horizon, *lex.since):
        hit = p.match(window, lead)
        if hit and _SHORT_TO_COMMA.match(window[hit.end() :]):
            return int(hit.group("year")), hit.group(0).strip(), "lead horizon"
    hit = lex.period.match(window, lead)
    if hit and hit.group("period") in lex.periods and _PERIOD_COMMA.match(window[hit.end() :]):
        return lex.periods[hit.group("period")][1], hit.group(0), "lead period"
    return None


def _earlier_value_year(text: str, s: int, e: int) -> bool:
    """由2024年的161项增加至183项: 2024 dates the value it introduces, not the one after 至."""
    return bool(FROM_YEAR.search(text, 0, s)) and bool(TO_WORD.search(text, e))


def _ended_period(text: str, present: int | None) -> int | None:
    """The last year of a plan period named in ``text`` that ended before the text's present."""
    if present is None:
        return None
    lex = load_time()
    ends = [end for name, (_, end) in lex.periods.items() if name in text and end < present]
    return max(ends) if ends else None


def _past_heading_year(ctx: DocContext, path: str) -> int | None:
    """A heading path about the past: a review heading, a past year, an ended period (worked
    out once per heading path: every number of a section asks it)."""
    present = ctx.time.present
    if present is None or not path:
        return None
    key = (id(ctx.cues), path, present)
    found = _PAST_HEADINGS.get(key)
    if found is None:
        if len(_PAST_HEADINGS) > 4096:
            _PAST_HEADINGS.clear()
        found = _PAST_HEADINGS[key] = (ctx.cues, _past_path_year(ctx.cues, path, present))
    return found[1]


_PAST_HEADINGS: dict[tuple[int, str, int], tuple[StatementCues, int | None]] = {}


def _past_path_year(cues: StatementCues, path: str, present: int) -> int | None:
    years = [y for _, _, y in _dated_years(cues, path) if y < present]
    if years:
        return years[-1]
    ended = _ended_period(path, present)
    if ended is not None:
        return ended
    if any(w in path for w in cues.review_headings):
        return present - 1
    return None


def _stock(cues: StatementCues, segment: str) -> str:
    """A present stock (全区共有加油站120座): a verb of having is the predicate of the clause, and
    no goal word says otherwise (对现有120座加油站开展治理 is a measure, not a stock)."""
    if any(w in segment for w in cues.target_cues):
        return ""
    for verb in cues.stock_verbs:
        pos = segment.find(verb)
        if (
            pos >= 0
            and not segment.startswith("的", pos + len(verb))
            and not any(w in segment[:pos] for w in cues.stock_not_after)
        ):
            return verb
    return ""


def _achieved(cues: StatementCues, segment: str) -> str:
    """An achievement cue (已建成…) and no goal word in the clause before the number: the cue."""
    if any(w in segment for w in cues.target_cues):
        return ""
    return next((w for w in cues.actual_cues if w in segment), "")


EVERY_YEAR = regex.compile(r"每年|逐年|年年")
LEAD_BASE = regex.compile(
    r"\s*(?:(?:19|20)\d{2}\s*年\s*)?(?:与|同|和)\s*((?:19|20)\d{2})\s*年(?:相比|比较)\s*[，,]"
)
FROM_BASE = regex.compile(load_time().expand(r"由\s*((?:19|20)\d{2})\s*年的?[^，。；]*?{change}(?:到|至)"))
CHANGE_BEFORE = regex.compile(load_time().expand(r"{change}了?\s*$"))


BASE_PERIOD = regex.compile(r"以\s*((?:19|20)\d{2})\s*年[^，,。；;]{0,30}?为(?:基数|基准|基期|基年)")
LIST_LEAD = regex.compile(r"\s*(?:其中|分别|具体而言|具体来看)[，,：:]?")


def sentence_base_year(text: str, m: Mention, segment_prefix: str) -> int | None:
    """A base year stated for the whole sentence: 与2022年相比，…O3浓度上升1.3% (a leading
    comparison), 以2010年…为基数，… (a base named for the sentence), 由2015年的52…下降到2020年的
    37…，累计下降28.8% (the change from the 由-year); in a sentence that opens with 其中, the base
    year of the sentence before it (比2019年增长2.2%。其中，煤炭消费量增长0.6%)."""
    if not CHANGE_BEFORE.search(segment_prefix):
        return None
    lead = LEAD_BASE.match(text, m.sent_start, m.q.start)
    if lead:
        return int(lead.group(1))
    full = last_stop(text, "。！？", m.line_start, m.q.start) + 1
    full = max(full, m.line_start)
    named = BASE_PERIOD.search(text, full, m.q.start)
    if named:
        return int(named.group(1))
    change = FROM_BASE.search(text, m.sent_start, m.q.start)
    if change:
        return int(change.group(1))
    if LIST_LEAD.match(text, m.sent_start) and full > m.line_start:
        previous = last_stop(text, "。！？", m.line_start, full - 1) + 1
        found = _COMPARED_YEAR.findall(text[max(previous, m.line_start) : full])
        return int(found[-1]) if found else None
    return None


# ------------------------------------------------------------------ value pairs and base years

CHANGE = load_time().expand("{change_to}")
ANNUAL_CHANGE = regex.compile(r"年均\s*" + CHANGE + r"了?\s*$")
FROM_VALUE_BEFORE = regex.compile(r"(?:由|从)(?P<phrase>[^，。；;由从]{0,16}?)(?:的)?[ \u3000]*$")
FROM_VALUE_AFTER = regex.compile(rf"^[^，。；;]{{0,10}}?{CHANGE}了?(?:到|至|为)")


def is_from_value(text: str, m: Mention, seg_start: int) -> bool:
    """The first value of a change written 由A…到B / 从A…上升到B (A is where it started)."""
    before = FROM_VALUE_BEFORE.search(text, seg_start, m.q.start)
    return bool(before) and bool(FROM_VALUE_AFTER.match(text[m.q.end : m.sent_end]))


def from_value_year(ctx: DocContext, m: Mention, year: int | None, evidence: str) -> int | None:
    """The year of a 由A…到B start value: 由2015年的A; the sentence's comparison year
    (2010年与2005年相比); a plan period in its phrase (由“十五”时期的A); the year before the
    period the statement is about (“十一五”期间…由A到B → 2005); else none."""
    text = ctx.norm.text
    before = FROM_VALUE_BEFORE.search(text, m.sent_start, m.q.start)
    phrase = before.group("phrase") if before else ""
    lex = load_time()
    named = _NAMED_YEAR.search(phrase)
    if named:
        return int(named.group(1))
    period = lex.period.search(phrase)
    if period and period.group("period") in lex.periods:
        return lex.periods[period.group("period")][1]
    if any(w in phrase for w in lex.before):
        return None
    base = find_base_year(ctx.cues, text[m.sent_start : m.q.start])
    if base is None:
        lead = LEAD_BASE.search(text, m.sent_start, m.q.start) or _COMPARED_WITH_YEAR.search(
            text[m.line_start : m.q.start]
        )
        base = int(lead.group(1)) if lead else None
    if base is not None:
        return base
    start = period_start(evidence)
    return start - 1 if start is not None else None


def period_start(evidence: str) -> int | None:
    """The first year of the plan period an evidence string names (“十一五”期间 → 2006)."""
    lex = load_time()
    period = lex.period.search(evidence)
    if period and period.group("period") in lex.periods:
        return lex.periods[period.group("period")][0]
    return None


def period_base_year(ctx: DocContext, prefix: str, year: int | None, evidence: str) -> int | None:
    """A change stated for a plan period is counted from the year before it (“十一五”期间…下降19.1%
    → 2005; “十四五”时期…下降13.5% → 2020), as is a change in a report on a period; an annual
    rate (年均增长15%) has no base year. ``prefix``: the segment's words before the number, or
    before the first value of its list (分别下降14.29%和12.45%: both are changes)."""
    if not CHANGE_BEFORE.search(prefix) or ANNUAL_CHANGE.search(prefix):
        return None
    start = period_start(evidence)
    if start is None and ctx.time.report_period is not None and year == ctx.time.report_on:
        start = load_time().periods[ctx.time.report_period][0]
    return start - 1 if start is not None else None


BASE_LEVEL = regex.compile(r"(?:比|较|与|相比|相较)\s*(?P<year>(?:19|20)\d{2})\s*年(?:底|末)?的[ \u3000]*$")


def base_level_year(text: str, m: Mention, seg_start: int) -> int | None:
    """比2010年的1.034吨标准煤下降16%: 1.034 is the level of the base year (an actual of 2010)."""
    hit = BASE_LEVEL.search(text, seg_start, m.q.start)
    return int(hit.group("year")) if hit else None


def list_base_year(cues: StatementCues, text: str, m: Mention, seg_start: int) -> int | None:
    """A base year that governs a list or the values after a base level: 比2020年分别下降8%、…、10%以上;
    比2010年的1.034吨下降16%."""
    if not CHANGE_BEFORE.search(text[seg_start : m.q.start]):
        return None
    sentence = text[m.sent_start : m.q.start]
    if "分别" in sentence or BASE_LEVEL.search(
        sentence[: sentence.rfind("的") + 1] if "的" in sentence else ""
    ):
        return find_base_year(cues, sentence)
    return None
