"""Quantities understood as statements: ``extract_targets(...) -> list[Target]``.

For every quantity of the analysis text (``find_quantities`` on ``norm.text``) and every value cell
of an indicator table (``tables.py``), decide what it says:

* ``indicator``: the phrase before the comparator (PM2.5年均浓度达到32 -> PM2.5年均浓度); in a list
  distributed by 分别 the matching item (PM10、SO2和NO2的年均浓度分别为52、3和17 -> SO2年均浓度); a
  subject list before 均 gives one target per subject. ``indicator_id`` from the span ruler.
* ``comparator``: symbols (≤55), words after the unit (以上, 以内, 左右), approximation words
  (余, 近), comparator words before the number (不高于, 控制在, 约, 达到); a list shares them.
* ``kind``: condition (3吨以下燃油叉车, 工地（建筑面积5000平方米以上）, 30米范围内, 24小时内响应, a
  defined scale), scope (the plan's own counts: 92项重点任务, 重点任务76项, 由161项增加至183项, 措施占比,
  《计划》涉及22个乡镇; named lists: 等3处, 以…为重点), actual (an observation year before the plan,
  a review section, a present stock 全区现有…120座, a 现状 column) or target.
* Footer and header lines (共印50份, 抄送, 联系电话, 附件2：…; statements.yml ``skip_lines``) give none.
* ``year`` / ``base_year``: 到2025年, a dated sentence or paragraph (2023年，…), the plan year;
  较/比/相较 20XX年 before the number.
* ``campaign``: the section's campaign when the section names one, else by content.

Offsets are source offsets; ``surface`` and ``unit`` are verbatim source text.

This module reads each line and assembles the Target records; the statement logic lives in
``mentions`` (DocContext, sentences, lists), ``comparators``, ``kinds`` (condition, scope),
``years`` (kind, year, base year), ``subjects`` (indicator phrases, 分别/均 lists) and ``tables``.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import regex

from extractor.lexicon.cues import Indicator, load_units, to_simplified
from extractor.lexicon.time import load_time
from extractor.model import Clause, Quantity, Section, Target
from extractor.quantities import find_quantities
from extractor.read.metadata import guess_title
from extractor.statements.comparators import marks_each_item, read_comparator
from extractor.statements.context import (
    SEGMENT_END,
    SENTENCE_WINDOW,
    DocContext,
    Mention,
    Reading,
    list_groups,
    segment_start,
    sentence_bounds,
    shift_mention,
    text_lines,
)
from extractor.statements.dating import cue_totals, names_plan_year, text_time
from extractor.statements.indicators import indicator_for
from extractor.statements.kinds import is_definition, local_kind
from extractor.statements.qualitative import goal_context, goal_phrases
from extractor.statements.subjects import (
    change_verb,
    distributed_subjects,
    indicator_phrases,
    period_list,
    repeated_subjects,
)
from extractor.statements.tables import ListCell, is_table_line, list_row, table_targets
from extractor.statements.time import (
    base_level_year,
    find_base_year,
    from_value_year,
    is_from_value,
    kind_and_year,
    list_base_year,
    period_base_year,
    relative_base_year,
    sentence_base_year,
)
from extractor.structure.campaigns import campaign_by_keywords, campaign_by_label, title_campaign

if TYPE_CHECKING:  # pragma: no cover
    from extractor.normalize import Normalized
    from extractor.structure import Structure

__all__ = ["extract_targets"]

_SPACE = regex.compile(r"\s")
_LIST_SEPARATOR = regex.compile(r"[ \u3000]*(?:、|和|及|与|以及|或|,)[ \u3000]*")
_BLANK = regex.compile(r"[ \u3000]")
_BOOK_TITLE = regex.compile(r"《[^》]*》")
_BOOK_MARKS = regex.compile(r"[《》]")
_SEGMENT_STOP = regex.compile("[" + regex.escape(SEGMENT_END) + "]")


def extract_targets(
    document_id: str,
    source_text: str,
    norm: Normalized,
    structure: Structure,
    *,
    plan_year: int | None,
    plan_year_end: int | None,
    genre: str | None = None,
    title: str | None = None,
    published: str | None = None,
    plan_year_known: bool = True,
) -> list[Target]:
    """All targets of one document, sorted by source offset, ids ``{doc}:t{start}`` (+ ``-n``).

    ``plan_year``/``plan_year_end`` give the default year of a target that names none; the text's
    present (:func:`extractor.statements.dating.text_time`: ``published``, a date line, what a
    report reports on, else ``plan_year``) decides whether a year lies ahead or behind."""
    ctx = DocContext(
        document_id,
        source_text,
        norm,
        list(structure.clauses),
        {s.id: s for s in structure.sections},
        plan_year,
        plan_year_end,
    )
    ctx.time = text_time(
        norm.text,
        title=title,
        published=published,
        plan_year=plan_year,
        genre=genre,
        plan_year_known=plan_year_known,
    )
    ctx.genre = genre
    ctx.title = title
    ctx.plan_known = (
        plan_year_known
        or genre is not None
        or (plan_year is not None and names_plan_year(title or "", plan_year, load_time()))
    )
    ctx.report = genre in ctx.cues.report_genres or (genre is None and ctx.time.report_on is not None)
    ctx.prior = "actual" if ctx.report or (genre is None and _reads_as_report(norm.text)) else "target"
    targets: list[Target] = []
    for line_start, line in text_lines(norm.text):
        if any(p.search(line) for p in ctx.cues.skip_lines):
            continue
        if is_table_line(line):
            found = table_targets(ctx, line_start, line)
            targets.extend(found if found is not None else _list_row_targets(ctx, line_start, line))
            continue
        found = _line_targets(ctx, line_start, line)
        targets.extend(found)
        targets.extend(_goal_targets(ctx, line_start, line, found))
    return _assign_ids(document_id, [t for t in targets if _finite(t)])


def _goal_targets(ctx: DocContext, line_start: int, line: str, numeric: list[Target]) -> list[Target]:
    """The qualitative goals of a prose line (:mod:`extractor.statements.qualitative`): value
    NULL, ``value_text`` the wording as written, its span the wording's; the year of the
    sentence's horizon, else of the clause's numeric targets, else the plan's."""
    out = []
    text = ctx.norm.text
    clause_year: dict[str | None, int | None] = {}  # the first numeric target's year per clause
    for t in numeric:
        if t.kind == "target":
            clause_year.setdefault(t.clause_id, t.year)
    for g in goal_phrases(text, line_start, line_start + len(line)):
        src_start, src_end = ctx.src_span(g.start, g.end)
        clause = ctx.clause_at(src_start)
        a, b = sentence_bounds(line, g.start - line_start)
        a = max(a, g.start - line_start - SENTENCE_WINDOW)
        b = min(b, g.end - line_start + SENTENCE_WINDOW)
        sentence = line[a:b]
        if not goal_context(
            ctx, clause.text if clause else "", clause.section_id if clause else None, sentence
        ):
            continue
        horizon = next((m for p in load_time().horizon if (m := p.search(sentence))), None)
        if horizon:
            year, evidence = int(horizon.group("year")), horizon.group(0)
        elif clause is not None and clause.id in clause_year:
            year, evidence = clause_year[clause.id], "目标"
        else:
            year, evidence = ctx.default_year, "目标"
        section = ctx.sections.get(clause.section_id) if clause and clause.section_id else None
        written = ctx.src_text(g.phrase_start, g.phrase_end).strip()
        if to_simplified(_SPACE.sub("", written)) != _SPACE.sub("", g.phrase):
            written = g.phrase  # 消除劣V类水体: the share the goal is about (劣V类水体比例)
        surface = ctx.source[src_start:src_end]
        out.append(
            Target(
                id="",
                document_id=ctx.document_id,
                clause_id=clause.id if clause else None,
                indicator=written,
                indicator_id=g.indicator.id,
                value=None,
                value_max=None,
                unit="",
                canonical_unit="",
                value_canonical=None,
                comparator="=",
                kind="target",
                year=year,
                base_year=None,
                kind_evidence=evidence,
                dimension="",
                value_text=surface,
                campaign=_named_campaign(ctx, section) or g.indicator.campaign,
                qualifiers=[],
                attribute=None,
                surface=surface,
                start=src_start,
                end=src_end,
            )
        )
    return out


def _finite(t: Target) -> bool:
    """A value of hundreds of digits (a table cell, a garbled line) is no value: never inf/NaN."""
    return all(v is None or math.isfinite(v) for v in (t.value, t.value_max, t.value_canonical))


def _reads_as_report(text: str) -> bool:
    """A text with no genre whose cues state results far more than they look ahead."""
    totals = cue_totals(text)
    return totals["actual"] >= 6 and totals["actual"] > 2 * totals["target"]


def _line_targets(ctx: DocContext, line_start: int, line: str) -> list[Target]:
    """Targets of one prose line: its quantities, grouped into lists that share their words."""
    mentions = []
    for q in find_quantities(line):
        s, e = sentence_bounds(line, q.start)
        window = (max(s, q.start - SENTENCE_WINDOW), min(e, q.end + SENTENCE_WINDOW))
        mentions.append(Mention(q, *window, line_start, sentence=s))
    for m in mentions:
        shift_mention(m, line_start)
    targets: list[Target] = []
    stmt_start = None
    for group in list_groups(ctx.norm.text, mentions):
        if stmt_start is None or stmt_start < group[0].sent_start:
            stmt_start = group[0].sent_start
        targets.extend(_group_targets(ctx, group, stmt_start))
        stmt_start = group[-1].q.end
    return targets


def _list_row_targets(ctx: DocContext, line_start: int, line: str) -> list[Target]:
    """Targets of a row of a project or task table: its text cells read as prose, its bare
    numbers with the unit their column's header gives (投资（万元）); the row name (项目名称) leads
    each indicator."""
    name, cells = list_row(ctx, line_start, line)
    out = []
    for cell in cells:
        found = (
            _header_unit_targets(ctx, cell, name)
            if cell.number
            else _line_targets(ctx, cell.start, cell.text)
        )
        for t in found:
            if name and not t.indicator.startswith(name):
                t.indicator = name + t.indicator
        out.extend(found)
    return out


def _header_unit_targets(ctx: DocContext, cell: ListCell, name: str) -> list[Target]:
    """A bare number cell in a column headed with a unit: 1200 under 投资（万元）."""
    num = cell.number
    unit_written = ctx.norm.text[cell.unit_span[0] : cell.unit_span[1]]
    unit, mag = load_units().lookup(unit_written)
    start = cell.start + num.start("num")
    end = cell.start + (num.end("num2") if num.group("num2") else num.end("num"))
    q = Quantity(
        value=float(num.group("num")),
        value_max=float(num.group("num2")) if num.group("num2") else None,
        unit=unit_written,
        canonical_unit=unit.canonical,
        dimension=unit.dimension,
        factor=unit.factor * mag,
        surface=ctx.norm.text[start:end],
        start=start,
        end=end,
        unit_start=cell.unit_span[0],
        unit_end=cell.unit_span[1],
    )
    m = Mention(q, cell.start, cell.end, cell.start)
    reading = _read(ctx, m, "", "", "", cell.start, cell.start)
    reading.indicators = [(name + cell.label, 0, 0)]
    return _to_targets(ctx, m, reading)


# ---------------------------------------------------------------------------------- reading


def _group_targets(ctx: DocContext, group: list[Mention], stmt_start: int) -> list[Target]:
    """Targets of a list of quantities that share their words (or of a single quantity)."""
    text = ctx.norm.text
    first, last = group[0], group[-1]
    seg_start = max(segment_start(text, first.sent_start, first.q.start), stmt_start)
    prefix = text[seg_start : first.q.start]
    after = text[last.q.end : last.sent_end]
    subjects = distributed_subjects(ctx, group, seg_start)
    if subjects and len(subjects) == len(group):
        cut = text.rindex("分别", first.sent_start, first.q.start)
        ctx.sentence_list = (first.sent_start, subjects, change_verb(text[cut + 2 : first.q.start]))
    elif len(group) == 1:
        subjects = repeated_subjects(ctx, first, seg_start, ctx.sentence_list)
    suffix = _indicator_suffix(after)
    own_afters = [text[m.q.end : group[n + 1].q.start] for n, m in enumerate(group[:-1])] + [after]
    shared_after = "" if marks_each_item(own_afters) else after
    out = []
    for n, m in enumerate(group):
        reading = _read(ctx, m, prefix, own_afters[n], shared_after, seg_start, stmt_start)
        if len(group) == 1 and len(subjects) > 1:
            reading.indicators = subjects  # one value for each subject of the sentence's list
        elif subjects and len(subjects) == len(group):
            reading.indicators = [subjects[n]]
        elif len(group) > 1 and n > 0 and m.q.dimension != "count":
            own_start = _after_previous(text, group[n - 1])
            reading.indicators = [(p, a, b) for p, a, b in indicator_phrases(ctx, m, own_start)]
        if suffix:
            reading.indicators = [
                (p + suffix, a, b) if not p.endswith(suffix) else (p, a, b) for p, a, b in reading.indicators
            ]
        periods = period_list(text, m) if len(group) == 1 else []
        if len(periods) > 1 and reading.kind in ("target", "actual"):
            out.extend(_period_targets(ctx, m, reading, periods))
            continue
        out.extend(_to_targets(ctx, m, reading))
    return out


PERIOD_HEAD = regex.compile(r"^.*?(?:期间|时期)?分别")


def _period_targets(ctx: DocContext, m: Mention, reading: Reading, periods: list[str]) -> list[Target]:
    """One target per plan period of “十四五”、“十五五”期间分别新增X: each of that period's last year."""
    lex = load_time()
    out = []
    for name in periods:
        if name not in lex.periods:
            continue
        year = lex.periods[name][1]
        kind = "actual" if ctx.before_present(year) else "target"
        one = Reading(**{**reading.__dict__, "year": year, "kind": kind, "kind_evidence": f"“{name}”"})
        one.indicators = [(f"“{name}”期间" + PERIOD_HEAD.sub("", p), a, b) for p, a, b in reading.indicators]
        out.extend(_to_targets(ctx, m, one))
    return out


def _after_previous(text: str, prev: Mention) -> int:
    """Start of the words of a list member: after the previous member and the separator."""
    m = _LIST_SEPARATOR.match(text[prev.q.end :])
    return prev.q.end + (m.end() if m else 0)


LIST_ITEM = r"[ \u3000]*(?:、|和|及|以及)[^，。；;、]{1,20}?\d+(?:\.\d+)?\p{Han}{0,4}?"
# The reference pattern (its nested quantifiers backtrack exponentially on a long list that ends
# in no such word: 和11111和11111…); _indicator_suffix computes what its match would give.
SUFFIX = regex.compile(rf"(?:{LIST_ITEM})*[ \u3000]*的?(减排|削减|减少|下降)(?![至到为])")
_SUFFIX_WORDS = ("减排", "削减", "减少", "下降")
_SUFFIX_STOP = regex.compile(r"[，。；;]")
_HAN = regex.compile(r"\p{Han}")


def _indicator_suffix(after: str) -> str:
    """'…220吨、320吨减排目标': the measure named after the list (减排) belongs to each item, also
    when each item names its own subject (挥发性有机物220吨、氮氧化物320吨减排目标).

    ``SUFFIX.match(after).group(1)``, in time linear in ``after``: what the match finds from a
    position depends on the position only, so it is worked out once per position, from the end
    (a dynamic programme following the pattern's backtracking order). A digit run is taken whole:
    a shorter one leaves a digit next, which nothing after it accepts."""
    stop = _SUFFIX_STOP.search(after)
    text = after[: stop.start()] if stop else after  # no part of the pattern crosses ，。；;
    n = len(text)
    run = [0] * (n + 1)  # length of the digit run starting at each position
    for i in range(n - 1, -1, -1):
        run[i] = run[i + 1] + 1 if text[i].isdecimal() else 0
    found: list[str | None] = [None] * (n + 1)
    for p in range(n, -1, -1):
        found[p] = next((found[q] for q in _item_ends(text, p, run) if found[q] is not None), None)
        if found[p] is None:
            found[p] = _suffix_tail(text, p)
    return found[0] or ""


def _skip_blanks(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \u3000":
        i += 1
    return i


def _suffix_word(text: str, j: int) -> str | None:
    """The reduction word at ``j`` not followed by 至/到/为."""
    for word in _SUFFIX_WORDS:
        if text.startswith(word, j) and text[j + len(word) : j + len(word) + 1] not in ("至", "到", "为"):
            return word
    return None


def _suffix_tail(text: str, p: int) -> str | None:
    """``[ \u3000]*的?(减排|削减|减少|下降)(?![至到为])`` at ``p``."""
    i = _skip_blanks(text, p)
    if text.startswith("的", i) and (word := _suffix_word(text, i + 1)):
        return word
    return _suffix_word(text, i)


def _item_ends(text: str, p: int, run: list[int]):
    """The ends of a LIST_ITEM matched at ``p``, in the order the pattern tries them."""
    i = _skip_blanks(text, p)
    if text.startswith("以及", i):
        s = i + 2
    elif text[i : i + 1] in ("、", "和", "及"):
        s = i + 1
    else:
        return
    for width in range(1, 21):  # [^，。；;、]{1,20}? (lazy)
        if s + width > len(text) or text[s + width - 1] in "，。；;、":
            return
        x_end = s + width
        if not run[x_end]:
            continue
        after_digits = x_end + run[x_end]
        bases = [after_digits]
        if text[after_digits : after_digits + 1] == "." and run[after_digits + 1]:
            bases.insert(0, after_digits + 1 + run[after_digits + 1])  # (?:\.\d+)? (greedy)
        for base in bases:
            yield base
            for h in range(1, 5):  # \p{Han}{0,4}? (lazy)
                if base + h > len(text) or not _HAN.match(text, base + h - 1):
                    break
                yield base + h


def _read(
    ctx: DocContext,
    m: Mention,
    prefix: str,
    own_after: str,
    group_after: str,
    seg_start: int,
    stmt_start: int,
) -> Reading:
    """What one quantity of a statement says: its indicators, comparator, kind, years, qualifiers."""
    text = ctx.norm.text
    # a member of a long list reads its own window of the sentence, not all the list before it
    seg_start, stmt_start = max(seg_start, m.sent_start), max(stmt_start, m.sent_start)
    clause = ctx.clause_at(ctx.src_span(m.q.start, m.q.end)[0])
    comparator = read_comparator(m.q, prefix, own_after, group_after)
    kind = local_kind(ctx, m, prefix, own_after)
    sentence_prefix = text[m.sent_start : m.q.start]
    base_year = find_base_year(ctx.cues, text[stmt_start : m.q.start])
    kind, year, evidence = kind_and_year(ctx, m, clause, kind, sentence_prefix)
    if base_year is None:
        base_year = relative_base_year(ctx.cues, text[stmt_start : m.q.start], year)
    if base_year is None:
        base_year = sentence_base_year(text, m, text[seg_start : m.q.start])
    if base_year is None and kind in ("target", "actual"):
        base_year = list_base_year(ctx.cues, text, m, seg_start)
    if base_year is None and kind in ("target", "actual"):
        base_year = period_base_year(ctx, prefix, year, evidence)
    if kind in ("target", "actual") and is_from_value(text, m, seg_start):
        year, base_year = from_value_year(ctx, m, year, evidence), None
        kind = "actual"  # where a change started was observed
    level = base_level_year(text, m, seg_start) if kind in ("target", "actual") else None
    if level is not None:
        kind, year, base_year, evidence = "actual", level, None, text[seg_start : m.q.start].strip()
    if kind in ("condition", "scope"):
        base_year = None  # a bound or a count of the plan compares nothing
    indicators = indicator_phrases(ctx, m, seg_start)
    if is_definition(ctx, clause, "") and clause is not None:
        title = ctx.sections[clause.section_id].title if clause.section_id in ctx.sections else ""
        indicators = [(title + p, a, b) for p, a, b in indicators]
    quals = [w for w in ctx.cues.qualifiers if w in text[stmt_start : m.q.start]]
    return Reading(indicators, comparator, kind, year, base_year, quals, evidence)


# --------------------------------------------------------------------------------- building


def _to_targets(ctx: DocContext, m: Mention, reading: Reading) -> list[Target]:
    """One Target per indicator of the reading, in source offsets with verbatim source text."""
    q = m.q
    src_start, src_end = ctx.src_span(q.start, q.end)
    clause = ctx.clause_at(src_start)
    out = []
    for phrase, s, e in reading.indicators:
        written = ctx.src_text(s, e).strip() if e > s else phrase
        if phrase != ctx.norm.text[s:e]:
            written = phrase
        indicator = indicator_for(phrase, q.dimension) if phrase else None
        out.append(
            Target(
                id="",
                document_id=ctx.document_id,
                clause_id=clause.id if clause else None,
                indicator=written,
                indicator_id=indicator.id if indicator else None,
                value=q.value,
                value_max=q.value_max,
                unit=_unit_written(ctx, q),
                canonical_unit=q.canonical_unit,
                value_canonical=q.value * q.factor,
                comparator=reading.comparator,
                kind=reading.kind,
                year=reading.year,
                base_year=reading.base_year,
                kind_evidence=reading.kind_evidence,
                dimension=q.dimension,
                campaign=_campaign(ctx, clause, indicator, phrase, m),
                qualifiers=list(reading.qualifiers),
                attribute=None,
                surface=ctx.source[src_start:src_end],
                start=src_start,
                end=src_end,
            )
        )
    return out


def _unit_written(ctx: DocContext, q: Quantity) -> str:
    """The unit as the source writes it, without approximation words and blanks."""
    if q.unit_start is None:
        return q.unit
    text = ctx.src_text(q.unit_start, q.unit_end)
    lex = load_units()
    for word in lex.approx_middle:
        text = text.replace(word, "")
    return _BLANK.sub("", text) + (q.per or "")  # 每月…吨/平方公里 -> 吨/平方公里·月


def _campaign(
    ctx: DocContext, clause: Clause | None, indicator: Indicator | None, phrase: str, m: Mention
) -> str:
    """The campaign of a target: the campaign its section names, if any (a document with
    campaign sections follows them; see :func:`_named_campaign`); else the topic of its
    indicator: the indicator's campaign, else keywords of the phrase, the rest of its segment,
    its sentence (unless it names three campaigns or more), the section title; else the topic of
    the document (:func:`_document_topic`)."""
    section = ctx.sections.get(clause.section_id) if clause and clause.section_id else None
    named = _named_campaign(ctx, section)
    if named:
        return named
    if indicator is not None:
        return indicator.campaign
    for context, overview in _campaign_contexts(ctx, clause, phrase, m):
        context = _BOOK_TITLE.sub("", context)
        found = campaign_by_keywords(context, window=len(context) + 1 if overview else None)
        if found:
            return found
    return _document_topic(ctx, section)


def _named_campaign(ctx: DocContext, section: Section | None) -> str | None:
    """The campaign a section names: its own or an ancestor's label (蓝天保卫战, 碧水方面), a lead's
    topic words (在能源消费方面), or the campaign label of the document's title (…大气污染防治工作计划:
    the whole plan is one campaign's section). A campaign a section only inherits from topic
    words of the title (…碳达峰行动方案, …水环境治理实施方案) is no campaign section: its
    quantities take the topic of their indicators, and the title's topic only when they name none."""
    node = section
    while node is not None and node.campaign != "general":
        if node.campaign_label or (node.kind == "lead" and campaign_by_keywords(node.title) == node.campaign):
            return section.campaign if section else None
        node = ctx.sections.get(node.parent_id) if node.parent_id else None
    if node is not None:  # a general section (or one under it) names none
        return None
    label = _title_label(_title(ctx))
    return label if section is None or label == section.campaign else None


def _document_topic(ctx: DocContext, section: Section | None) -> str:
    """The topic of the document, for a quantity whose words name none: the campaign its
    section inherits from the title's topic words (a carbon plan's counts are climate), else
    the campaign the title's labels, topic labels or keywords name (重金属 → soil)."""
    if section is not None and section.campaign != "general":
        return section.campaign
    return _title_topic(_title(ctx))


def _title(ctx: DocContext) -> str:
    """The document's title (the catalog's, else the one read from its first lines), 《》 dropped."""
    return _BOOK_MARKS.sub("", ctx.title or _guessed_title(ctx.source) or "")


@functools.lru_cache(maxsize=4)
def _guessed_title(source: str) -> str | None:
    """The title read from the first lines, once per document (not once per quantity)."""
    return guess_title(source)


@functools.lru_cache(maxsize=16)
def _title_topic(title: str) -> str:
    found = title_campaign(title)
    return found if found != "general" else campaign_by_keywords(title) or "general"


@functools.lru_cache(maxsize=16)
def _title_label(title: str) -> str | None:
    """The campaign the title names by a campaign label (大气污染防治, 无废城市), not a topic word."""
    label = campaign_by_label(title, topics=False)
    return label[0] if label and title_campaign(title) == label[0] else None


def _campaign_contexts(
    ctx: DocContext, clause: Clause | None, phrase: str, m: Mention
) -> list[tuple[str, bool]]:
    """Texts to look for campaign keywords in, in order, each with whether naming three
    campaigns makes it an overview that decides none: the phrase, the rest of the segment, the
    sentence through the number (an overview), the section title."""
    text = ctx.norm.text
    section = ctx.sections.get(clause.section_id) if clause and clause.section_id else None
    stop = _SEGMENT_STOP.search(text, m.q.end, m.sent_end) if m.q.end < m.sent_end else None
    seg_end = stop.start() if stop else max(m.q.end, m.sent_end)
    return [
        (phrase, False),
        (text[m.q.end : seg_end], False),
        (text[m.sent_start : m.q.end], True),
        (section.title if section else "", False),
    ]


def _assign_ids(document_id: str, targets: list[Target]) -> list[Target]:
    """Sort by source offset; ids ``{doc}:t{start}``, with ``-n`` when a start repeats."""
    targets.sort(key=lambda t: (t.start, t.end))
    counts: dict[int, int] = {}
    for t in targets:
        counts[t.start] = counts.get(t.start, 0) + 1
    seen: dict[int, int] = {}
    for t in targets:
        base = f"{document_id}:t{t.start}"
        if counts[t.start] > 1:
            seen[t.start] = seen.get(t.start, 0) + 1
            t.id = f"{base}-{seen[t.start]}"
        else:
            t.id = base
    return targets
