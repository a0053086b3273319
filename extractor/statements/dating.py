"""The time a text speaks from, and the time expressions of its sentences.

``text_time(...) -> TextTime``: the text's *present* (the year it was written), from, in order:
the catalog's ``published`` date; a date line of the text (the signature of a 公文, 发布时间：…);
the year or plan period a report reports on (《2020中国生态环境状况公报》 → 2021, “十一五”节能减排
八大成效 → 2011); the plan year the catalog or the file's metadata gives; else unknown. It is never
guessed from a year that merely occurs in the text.

``time_expressions(text)``: horizons (到2025年), observations (截至2023年), plan periods
(“十四五”期间 → 2021–2025), relative words (去年 → present − 1) and before-words (推广前), each
with its span, so the statement reader takes the one closest to a number.

``modality(segment, after)``: the weighted target/actual cues of a clause (data/time.yml).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import regex

from extractor.lexicon.time import TimeLexicon, load_time
from extractor.read.metadata import AHEAD_IN_TITLE

_PUBLISHED_YEAR = regex.compile(r"\s*((?:19|20)\d{2})")
_REPORTED_YEAR = regex.compile(r"(?<![\d到至])((?:19|20)\d{2})\s*年?(?:度)?(?![\d月])")

_SENTENCE = regex.compile(r"[^。！？!?\n]+")


@dataclass(frozen=True)
class TextTime:
    """When a text was written, and what a report reports on."""

    present: int | None  # the year the text speaks from
    source: str  # how ``present`` was found: "published", "date line", "report on …", "plan year", "unknown"
    report_on: int | None = None  # the (last) year a report of results reports on
    report_period: str | None = None  # the plan period it reports on (十一五)


@dataclass(frozen=True)
class TimeExpression:
    """A time named in a text: its span, the year it points to and what kind of time it is."""

    start: int
    end: int
    year: int | None
    role: str  # "horizon" | "since" | "period" | "relative" | "before"
    written: str
    first_year: int | None = None  # a period's first year

    @property
    def evidence(self) -> str:
        return self.written


def _published_year(published: str | None) -> int | None:
    m = _PUBLISHED_YEAR.match(published or "")
    return int(m.group(1)) if m else None


def date_line_year(text: str, lex: TimeLexicon | None = None) -> int | None:
    """The year of a date line among the first or last 15 lines of ``text`` (2021年10月24日 on a
    line of its own, （2021年9月22日）, 发布时间：2024-01-05), or None."""
    lex = lex or load_time()
    lines = text.splitlines()
    for line in [*lines[:15], *lines[-15:]]:
        for pattern in lex.date_lines:
            m = pattern.search(line)
            if m:
                return int(m.group("year"))
    return None


def report_subject(
    title: str | None, text: str, lex: TimeLexicon | None = None
) -> tuple[int, str | None] | None:
    """(last year reported on, period) when the title or an opening sentence reports on a year or a
    plan period: 《2020中国生态环境状况公报》 → (2020, None), “十一五”…成效 → (2010, "十一五"). The
    report word must stand near the year or period, and the sentence must not look ahead."""
    lex = lex or load_time()
    sentences = [title or "", *_SENTENCE.findall(text)[: lex.report_scope + 1]]
    for sentence in sentences:
        if AHEAD_IN_TITLE.search(sentence) or _looks_ahead(sentence, lex):
            continue  # (2023年工作总结及2024年工作安排: a plan as much as a report)
        for time in _report_times(sentence, lex):
            start, end, year, period = time
            near = sentence[max(0, start - lex.report_window // 2) : end + lex.report_window]
            if lex.report_words.search(near):
                return year, period
    return None


def _report_times(sentence: str, lex: TimeLexicon) -> list[tuple[int, int, int, str | None]]:
    found = [
        (p.start(), p.end(), lex.periods[p.group("period")][1], p.group("period"))
        for p in lex.period.finditer(sentence)
        if p.group("period") in lex.periods
    ]
    found += [(y.start(), y.end(), int(y.group(1)), None) for y in _REPORTED_YEAR.finditer(sentence)]
    return sorted(found)


def _looks_ahead(sentence: str, lex: TimeLexicon) -> bool:
    """The sentence's target cues outweigh its actual cues."""
    totals = cue_totals(sentence, lex)
    return totals["target"] > totals["actual"]


def opening_date_year(text: str, lex: TimeLexicon | None = None) -> int | None:
    """The first year with a month in the opening lines of a news text (2021年11月，…)."""
    lex = lex or load_time()
    for line in text.splitlines()[: lex.opening_lines]:
        m = lex.opening_date.search(line)
        if m:
            return int(m.group("year"))
    return None


def text_time(
    text: str,
    *,
    title: str | None = None,
    published: str | None = None,
    plan_year: int | None = None,
    genre: str | None = None,
    plan_year_known: bool = True,
) -> TextTime:
    """The text's present and what it reports on (see the module docstring for the order). A text
    whose genre is known (catalog, or a title such as …公报) is not searched for a report subject:
    its plan year already says what it reports on. ``plan_year_known`` is False when the plan year
    was guessed from a year in the text: it is the present then only if the title names it."""
    lex = load_time()
    subject = report_subject(title, text, lex) if genre is None else None
    report_on, period = subject if subject else (None, None)
    year = _published_year(published)
    if year is not None:
        return TextTime(year, "published", report_on, period)
    if report_on is not None:  # before a date line: a report signed in December looks back on its year
        return TextTime(report_on + 1, f"report on {period or report_on}", report_on, period)
    year = date_line_year(text, lex)
    if year is not None:
        return TextTime(year, "date line", report_on, period)
    if plan_year is not None and (plan_year_known or genre is not None):
        return TextTime(plan_year, "plan year", None, None)
    year = opening_date_year(text, lex)
    if year is not None:  # a news text: 2021年11月，…
        return TextTime(year, "opening date", report_on, period)
    if plan_year is not None and names_plan_year(title or "", plan_year, lex):
        return TextTime(plan_year, "plan year", None, None)
    return TextTime(None, "unknown", None, None)


def names_plan_year(title: str, plan_year: int, lex: TimeLexicon) -> bool:
    """The title names the plan year, or a plan period that starts with it."""
    if str(plan_year) in title:
        return True
    return any(
        lex.periods.get(p.group("period"), (None,))[0] == plan_year for p in lex.period.finditer(title)
    )


_DIGIT = regex.compile(r"\d")


@functools.cache
def _before_words(words: tuple[str, ...]) -> regex.Pattern:
    return regex.compile("|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True)) or "$^")


def time_expressions(text: str, present: int | None, lex: TimeLexicon | None = None) -> list[TimeExpression]:
    """Every time expression of ``text`` in order of position (see the module docstring)."""
    lex = lex or load_time()
    found: list[TimeExpression] = []
    digits = _DIGIT.search(text) is not None  # the horizons and since-words name a year in digits
    for role, patterns in (("horizon", lex.horizon), ("since", lex.since)) if digits else ():
        for pattern in patterns:
            for m in pattern.finditer(text):
                found.append(TimeExpression(m.start(), m.end(), int(m.group("year")), role, m.group(0)))
    for m in lex.period.finditer(text):
        name = m.group("period")
        if name in lex.periods:
            first, last = lex.periods[name]
            found.append(TimeExpression(m.start(), m.end(), last, "period", m.group(0), first))
    for m in lex.relative_pattern.finditer(text):
        if m.start() > 0 and text[m.start() - 1] in "较比同于":
            continue  # 较去年: a base year, not the time of the sentence
        offset = lex.relative[m.group("word")]
        year = present + offset if present is not None else None
        found.append(TimeExpression(m.start(), m.end(), year, "relative", m.group(0)))
    for m in _before_words(lex.before).finditer(text):
        found.append(TimeExpression(m.start(), m.end(), None, "before", m.group(0)))
    found.sort(key=lambda t: (t.start, -t.end))
    out: list[TimeExpression] = []
    for t in found:  # overlapping matches: the first (longest) one
        if out and t.start < out[-1].end:
            continue
        out.append(t)
    return out


@dataclass(frozen=True)
class Modality:
    """What a clause's cues say of its number: target or actual, and the cue that decided."""

    kind: str | None
    evidence: str
    strength: int


def cue_totals(text: str, lex: TimeLexicon | None = None) -> dict[str, int]:
    """The summed weights of the target and the actual cues in ``text``."""
    lex = lex or load_time()
    totals = {"target": 0, "actual": 0}
    for cue in lex.cues:
        totals[cue.kind] += cue.weight * sum(1 for _ in cue.pattern.finditer(text))
    return totals


def modality(segment: str, after: str = "", lex: TimeLexicon | None = None) -> Modality:
    """The weighted cues of a clause (``segment`` up to the number, ``after`` right after it): the
    kind with the larger total, and its strongest cue; a tie or no cue is ``Modality(None, "", 0)``."""
    lex = lex or load_time()
    totals = {"target": 0, "actual": 0}
    best: dict[str, tuple[int, int, str]] = {}
    for cue in lex.cues:
        for m in cue.pattern.finditer(segment):
            totals[cue.kind] += cue.weight
            key = (cue.weight, m.end(), m.group(0))
            if cue.kind not in best or key > best[cue.kind]:
                best[cue.kind] = key
    goal = lex.target_after.match(after)
    if goal:
        totals["target"] += 3
        best["target"] = (3, len(segment) + goal.end(), goal.group(0).strip())
    if totals["target"] == totals["actual"]:
        return Modality(None, "", 0)
    kind = max(totals, key=totals.get)
    return Modality(kind, best[kind][2], totals[kind] - totals[("actual" if kind == "target" else "target")])
