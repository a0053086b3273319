"""The statement context of one document and the layout of its analysis text.

``DocContext`` holds what every statement of a document needs (clauses, sections, plan years,
the statement cues, offset mapping); ``Mention`` is a quantity with its sentence; ``Reading``
is what a statement says before it becomes Targets. The layout helpers cut the analysis text
into lines, sentences, comma-delimited segments and lists of quantities that share their words.

Used by :mod:`extractor.statements.assemble` and the modules it delegates to (``comparators``,
``kinds``, ``time``, ``subjects``, ``tables``).
"""

from __future__ import annotations

import bisect
import functools
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import regex

from extractor.lexicon.cues import StatementCues, load_comparators, load_statements
from extractor.model import Clause, Quantity, Section
from extractor.statements.dating import TextTime

if TYPE_CHECKING:  # pragma: no cover
    from extractor.normalize import Normalized

SENTENCE_END = "。！？；;!?\n"
# What a number's statement reads of its sentence: at most this many characters before and after
# it (the longest sentence part of the corpora is under 200), so that a sentence of thousands of
# quantities costs each of them a bounded window, not the whole sentence.
SENTENCE_WINDOW = 300
SEGMENT_END = "，,。！？；;!?\n：:"
SINCE = regex.compile(r"(?:以来|(?<=[年月])半?来)[，,]")  # 政策实施以来，… / 一年半来，…
LIST_GAP = regex.compile(r"^[ \u3000]*(?:、|和|及|与|以及|或|,)[ \u3000]*$")


@dataclass
class DocContext:
    """What every statement of one document needs to know."""

    document_id: str
    source: str
    norm: Normalized
    clauses: list[Clause]
    sections: dict[str, Section]
    plan_year: int | None
    plan_year_end: int | None
    report: bool = False  # a report of results (工作总结, 公报): unmarked numbers are actuals
    time: TextTime = field(default_factory=lambda: TextTime(None, "unknown"))
    prior: str = "target"  # the kind of a statement nothing else decides (the document's genre)
    plan_known: bool = True  # the plan years come from a catalog, a genre or the title, not a guess
    # the last 分别 list read: (sentence start, its subjects, the verb they were given)
    sentence_list: tuple[int, list[tuple[str, int, int]], str] | None = None
    genre: str | None = None
    title: str | None = None
    cues: StatementCues = field(default_factory=load_statements)
    _starts: list[int] = field(default_factory=list)
    _at: dict[int, Clause | None] = field(default_factory=dict)
    _since: float | None = None

    def __post_init__(self) -> None:
        self.clauses = sorted(self.clauses, key=lambda c: (c.start, -c.end))
        self._starts = [c.start for c in self.clauses]

    @property
    def annual(self) -> bool:
        """An annual plan: a single plan year."""
        return self.plan_year is not None and self.plan_year_end in (None, self.plan_year)

    @property
    def default_year(self) -> int | None:
        """The year of a target that names none: the plan year, or the last year of the period."""
        if not self.plan_known:
            return None  # a news text about a plan: a goal that names no year has none
        return self.plan_year if self.annual else self.plan_year_end

    def before_present(self, year: int | None) -> bool:
        """``year`` lies before the year the text speaks from."""
        return year is not None and self.time.present is not None and year < self.time.present

    def actual_year(self, m: Mention) -> int | None:
        """The year of an actual whose sentence names none: the year a report reports on (for a
        report on a plan period, none once the text has counted from a start of its own:
        一年半来，…; 政策实施以来), else the year before the text's present."""
        t = self.time
        if t.report_on is not None:
            if t.report_period is not None and self._since_end() <= m.q.start:
                return None
            return t.report_on
        return t.present - 1 if t.present is not None else None

    def _since_end(self) -> float:
        """Where the first 以来， of the text ends (``SINCE.search(text, 0, pos)`` finds one iff
        it is at most ``pos``), found once per document, not once per quantity."""
        if self._since is None:
            ends = [m.end() for m in SINCE.finditer(self.norm.text, overlapped=True)]
            self._since = min(ends) if ends else math.inf
        return self._since

    @property
    def report_evidence(self) -> str:
        """The evidence of a kind decided by the document: its genre or what it reports on."""
        if self.time.report_on is not None:
            return f"报告{self.time.report_period or self.time.report_on}"
        return self.genre or "文体"

    @property
    def plan_evidence(self) -> str:
        """The evidence of a target decided by the document: its plan year(s)."""
        if self.plan_year is None:
            return self.genre or "文体"
        if self.annual:
            return f"{self.plan_year}年计划"
        return f"{self.plan_year}—{self.plan_year_end}年规划"

    def clause_at(self, src: int) -> Clause | None:
        """The innermost clause holding source offset ``src`` (looked up once per offset: the
        rules ask it of one quantity several times)."""
        try:
            return self._at[src]
        except KeyError:
            pass
        i = bisect.bisect_right(self._starts, src)
        best = None
        for c in reversed(self.clauses[max(0, i - 40) : i]):
            if c.start <= src < c.end and (best is None or c.end - c.start < best.end - best.start):
                best = c
        self._at[src] = best
        return best

    def section_path(self, clause: Clause | None) -> str:
        """The heading path of the clause's section, ending with its title ("" if none)."""
        section = self.sections.get(clause.section_id) if clause and clause.section_id else None
        return section.path + " › " + section.title if section else ""

    def section_campaign(self, clause: Clause | None) -> str:
        """The campaign of the clause's section ("general" if none)."""
        section = self.sections.get(clause.section_id) if clause and clause.section_id else None
        return section.campaign if section else "general"

    def src_span(self, s: int, e: int) -> tuple[int, int]:
        """The source span of the analysis span ``s:e``."""
        return self.norm.span_to_source(s, e)

    def src_text(self, s: int, e: int) -> str:
        """The verbatim source text of the analysis span ``s:e``."""
        a, b = self.src_span(s, e)
        return self.source[a:b]


@dataclass
class Mention:
    """A quantity in the analysis text with the sentence around it."""

    q: Quantity  # offsets into norm.text
    sent_start: int  # the sentence, at most SENTENCE_WINDOW characters on each side of the number
    sent_end: int
    line_start: int
    sentence: int | None = None  # where the sentence really starts (lists are read per sentence)

    @property
    def sentence_key(self) -> int:
        return self.sentence if self.sentence is not None else self.sent_start


@dataclass
class Reading:
    """What a statement says, before it becomes one or more Targets."""

    indicators: list[tuple[str, int, int]]  # (phrase, norm start, norm end); several with 均
    comparator: str
    kind: str
    year: int | None
    base_year: int | None
    qualifiers: list[str]
    kind_evidence: str = ""  # the words that decided the kind (到2025年, 同比, a heading)


def text_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(offset, line)`` for each line of ``text``."""
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def sentence_bounds(line: str, i: int) -> tuple[int, int]:
    """Start and end (offsets into ``line``) of the sentence that holds ``i``: after the last
    sentence stop before ``i``, up to the first at or after it (a lookup in the line's stops,
    found once per line: a line of many quantities is not rescanned for each)."""
    stops = _line_stops(line, SENTENCE_END)
    k = bisect.bisect_left(stops, i)
    s = stops[k - 1] + 1 if k > 0 else 0
    e = stops[k] if k < len(stops) else len(line)
    return min(s, i), max(e, i)


def _find_stops(text: str, chars: str) -> array:
    """The offsets of ``chars`` in ``text``, in order."""
    return array("q", (m.start() for m in _stop_pattern(chars).finditer(text)))


# Cached apart (a str keeps its hash, so a lookup is cheap): the stops of the lines being read,
# and those of the whole analysis text, which the lines' entries must not push out.
_line_stops = functools.lru_cache(maxsize=4)(_find_stops)
_stops = functools.lru_cache(maxsize=8)(_find_stops)


@functools.cache
def _stop_pattern(chars: str) -> regex.Pattern:
    return regex.compile("[" + regex.escape(chars) + "]")


def shift_mention(m: Mention, by: int) -> None:
    """Move a mention found in a line to offsets into the whole text."""
    q = m.q
    q.start += by
    q.end += by
    if q.unit_start is not None:
        q.unit_start += by
        q.unit_end += by
    m.sent_start += by
    m.sent_end += by
    if m.sentence is not None:
        m.sentence += by


def list_groups(text: str, mentions: list[Mention]) -> list[list[Mention]]:
    """Quantities of one sentence joined only by 、/和/及: a list that shares words."""
    groups: list[list[Mention]] = []
    for m in mentions:
        prev = groups[-1][-1] if groups else None
        if (
            prev
            and prev.sentence_key == m.sentence_key
            and LIST_GAP.match(_after_tail(text, prev.q.end, m.q.start))
        ):
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def _after_tail(text: str, end: int, limit: int) -> str:
    """``text[end:limit]`` without a comparator word that follows the number there (8%、10%以上、
    10%以上: the list goes on after 以上)."""
    gap = text[end:limit]
    for word in _after_words():
        if gap.startswith(word):
            return gap[len(word) :]
    return gap


@functools.cache
def _after_words() -> tuple[str, ...]:
    return tuple(sorted(load_comparators().after, key=len, reverse=True))


def last_stop(text: str, chars: str, lo: int, hi: int) -> int:
    """``max(text.rfind(c, lo, hi) for c in chars)`` for single characters ``chars``, by a lookup
    in the text's stops (found once per text) instead of a scan back to ``lo``."""
    stops = _stops(text, chars)
    k = bisect.bisect_left(stops, hi) - 1
    return stops[k] if k >= 0 and stops[k] >= lo else -1


def segment_start(text: str, sent_start: int, pos: int) -> int:
    """Start of the comma-delimited segment that holds ``pos`` (not before ``sent_start``)."""
    if pos <= sent_start:
        return pos
    stops = _stops(text, SEGMENT_END)
    k = bisect.bisect_left(stops, pos)
    return max(sent_start, stops[k - 1] + 1) if k > 0 else sent_start
