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
"""
from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field

import regex

from .indicators import indicator_for
from .lexicon import campaigns
from .lexicon_quantities import (CAMPAIGNS, StatementCues, load_comparators, load_indicators,
                                 load_statements, load_units)
from .model import Clause, Quantity, Section, Target
from .quantities import find_quantities
from .tables import is_table_line, table_targets

SENTENCE_END = "。！？；;!?\n"
SEGMENT_END = "，,。！？；;!?\n：:"
LIST_GAP = regex.compile(r"^[ \u3000]*(?:、|和|及|与|以及|或|,)[ \u3000]*$")
SPLIT_ITEMS = regex.compile(r"、|以及|和|及|与")
ORDINAL_LEAD = regex.compile(r"\s*(?:[一二三四五六七八九十]+是|\d{1,2}[.．、]|[（(]\d{1,2}[）)]|其中|同时|或者|并且|而且|以及|且|并|"
                             r"主要目标(?:为|是)?|(?:及)?以[上下内]的?|左右|较上年|比上年|同比|、)[，,：:]?")


@dataclass
class DocContext:
    """What every statement of one document needs to know."""

    document_id: str
    source: str
    norm: object  # extractor.normalize.Normalized
    clauses: list[Clause]
    sections: dict[str, Section]
    plan_year: int | None
    plan_year_end: int | None
    cues: StatementCues = field(default_factory=load_statements)
    _starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clauses = sorted(self.clauses, key=lambda c: (c.start, -c.end))
        self._starts = [c.start for c in self.clauses]

    @property
    def annual(self) -> bool:
        return self.plan_year is not None and self.plan_year_end in (None, self.plan_year)

    @property
    def default_year(self) -> int | None:
        return self.plan_year if self.annual else self.plan_year_end

    def clause_at(self, src: int) -> Clause | None:
        """The innermost clause holding source offset ``src``."""
        i = bisect.bisect_right(self._starts, src)
        best = None
        for c in reversed(self.clauses[max(0, i - 40):i]):
            if c.start <= src < c.end and (best is None or c.end - c.start < best.end - best.start):
                best = c
        return best

    def section_path(self, clause: Clause | None) -> str:
        section = self.sections.get(clause.section_id) if clause and clause.section_id else None
        return section.path + " › " + section.title if section else ""

    def section_campaign(self, clause: Clause | None) -> str:
        section = self.sections.get(clause.section_id) if clause and clause.section_id else None
        return section.campaign if section else "general"

    def src_span(self, s: int, e: int) -> tuple[int, int]:
        return self.norm.span_to_source(s, e)

    def src_text(self, s: int, e: int) -> str:
        a, b = self.src_span(s, e)
        return self.source[a:b]


@dataclass
class Mention:
    """A quantity in the analysis text with the sentence around it."""

    q: Quantity  # offsets into norm.text
    sent_start: int
    sent_end: int
    line_start: int


@dataclass
class Reading:
    """What a statement says, before it becomes one or more Targets."""

    indicators: list[tuple[str, int, int]]  # (phrase, norm start, norm end); several with 均
    comparator: str
    kind: str
    year: int | None
    base_year: int | None
    qualifiers: list[str]


def extract_targets(document_id: str, source_text: str, norm, structure, *, plan_year: int | None,
                    plan_year_end: int | None, genre: str | None = None) -> list[Target]:
    """All targets of one document, sorted by source offset, ids ``{doc}:t{start}`` (+ ``-n``)."""
    ctx = DocContext(document_id, source_text, norm, list(structure.clauses),
                     {s.id: s for s in structure.sections}, plan_year, plan_year_end)
    targets: list[Target] = []
    for line_start, line in _lines(norm.text):
        if any(p.search(line) for p in ctx.cues.skip_lines):
            continue
        if is_table_line(line):
            targets.extend(table_targets(ctx, line_start, line))
            continue
        mentions = [Mention(q, *_sentence(line, q.start), line_start)
                    for q in find_quantities(line)]
        for m in mentions:
            _shift(m, line_start)
        stmt_start = None
        for group in _groups(norm.text, mentions):
            if stmt_start is None or stmt_start < group[0].sent_start:
                stmt_start = group[0].sent_start
            targets.extend(_group_targets(ctx, group, stmt_start))
            stmt_start = group[-1].q.end
    return _assign_ids(document_id, targets)


# ------------------------------------------------------------------------------- text layout


def _lines(text: str):
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def _sentence(line: str, i: int) -> tuple[int, int]:
    s = i
    while s > 0 and line[s - 1] not in SENTENCE_END:
        s -= 1
    e = i
    while e < len(line) and line[e] not in SENTENCE_END:
        e += 1
    return s, e


def _shift(m: Mention, by: int) -> None:
    q = m.q
    q.start += by
    q.end += by
    if q.unit_start is not None:
        q.unit_start += by
        q.unit_end += by
    m.sent_start += by
    m.sent_end += by


def _groups(text: str, mentions: list[Mention]) -> list[list[Mention]]:
    """Quantities of one sentence joined only by 、/和/及: a list that shares words."""
    groups: list[list[Mention]] = []
    for m in mentions:
        prev = groups[-1][-1] if groups else None
        if prev and prev.sent_start == m.sent_start and LIST_GAP.match(text[prev.q.end:m.q.start]):
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def _segment_start(text: str, sent_start: int, pos: int) -> int:
    """Start of the comma-delimited segment that holds ``pos``."""
    s = pos
    while s > sent_start and text[s - 1] not in SEGMENT_END:
        s -= 1
    return s


# ---------------------------------------------------------------------------------- targets


def _group_targets(ctx: DocContext, group: list[Mention], stmt_start: int) -> list[Target]:
    """Targets of a list of quantities that share their words (or of a single quantity)."""
    text = ctx.norm.text
    first, last = group[0], group[-1]
    seg_start = max(_segment_start(text, first.sent_start, first.q.start), stmt_start)
    prefix = text[seg_start:first.q.start]
    after = text[last.q.end:last.sent_end]
    subjects = _distributed_subjects(ctx, group, seg_start)
    suffix = _indicator_suffix(after)
    out = []
    for n, m in enumerate(group):
        own_after = after if m is last else text[m.q.end:group[n + 1].q.start]
        reading = _read(ctx, m, prefix, own_after, after, seg_start, stmt_start)
        if subjects and len(subjects) == len(group):
            reading.indicators = [subjects[n]]
        elif len(group) > 1 and n > 0 and m.q.dimension != "count":
            reading.indicators = [(p, a, b) for p, a, b in _indicators(ctx, m, _after_previous(text, group[n - 1]))]
        if suffix:
            reading.indicators = [(p + suffix, a, b) if not p.endswith(suffix) else (p, a, b)
                                  for p, a, b in reading.indicators]
        out.extend(_to_targets(ctx, m, reading))
    return out


def _after_previous(text: str, prev: Mention) -> int:
    """Start of the words of a list member: after the previous member and the separator."""
    m = regex.match(r"[ \u3000]*(?:、|和|及|与|以及|或|,)[ \u3000]*", text[prev.q.end:])
    return prev.q.end + (m.end() if m else 0)


def _indicator_suffix(after: str) -> str:
    """'…220吨、320吨减排目标': the measure named after the list (减排) belongs to each item."""
    m = regex.match(r"[ \u3000]*的?(减排|削减|减少|下降)(?![至到为])", after)
    return m.group(1) if m else ""


def _read(ctx: DocContext, m: Mention, prefix: str, own_after: str, group_after: str,
          seg_start: int, stmt_start: int) -> Reading:
    text = ctx.norm.text
    clause = ctx.clause_at(ctx.src_span(m.q.start, m.q.end)[0])
    comparator = _comparator(m.q, prefix, own_after, group_after)
    kind = _local_kind(ctx, m, prefix, own_after)
    sentence_prefix = text[m.sent_start:m.q.start]
    base_year = _base_year(ctx.cues, text[stmt_start:m.q.start])
    kind, year = _time(ctx, m, clause, kind, sentence_prefix)
    if base_year is None:
        base_year = _relative_base(ctx.cues, text[stmt_start:m.q.start], year)
    indicators = _indicators(ctx, m, seg_start)
    if _is_definition(ctx, clause, "") and clause is not None:
        title = ctx.sections[clause.section_id].title if clause.section_id in ctx.sections else ""
        indicators = [(title + p, a, b) for p, a, b in indicators]
    quals = [w for w in ctx.cues.qualifiers if w in text[stmt_start:m.q.start]]
    return Reading(indicators, comparator, kind, year, base_year, quals)


# -------------------------------------------------------------------------------- comparator


def _comparator(q: Quantity, prefix: str, own_after: str, group_after: str) -> str:
    comps = load_comparators()
    if q.comparator_hint:
        return comps.symbols.get(q.comparator_hint, "=")
    if q.approx and q.approx in comps.approx and q.approx in ("左右", "上下"):
        return comps.approx[q.approx]
    for after in (own_after, group_after):
        word = _starting_word(after.lstrip(" \u3000"), comps.after)
        if word:
            return comps.after[word]
    if q.approx and q.approx in comps.approx:
        return comps.approx[q.approx]
    return _before_comparator(prefix)


def _starting_word(text: str, words: dict[str, str]) -> str | None:
    for word in sorted(words, key=len, reverse=True):
        if text.startswith(word):
            return word
    return None


def _before_comparator(prefix: str) -> str:
    """The comparator of the words before the number: the closest non-'=' word wins."""
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


# ------------------------------------------------------------------------------------- kind


def _local_kind(ctx: DocContext, m: Mention, prefix: str, after: str) -> str | None:
    """condition or scope from the words around the number; None if they do not say."""
    if _is_condition(ctx, m, prefix, after):
        return "condition"
    if _is_scope(ctx, m, prefix, after):
        return "scope"
    if _is_named_list(ctx, m, prefix):
        return "named_list"
    return None


def _is_condition(ctx: DocContext, m: Mention, prefix: str, after: str) -> bool:
    cues, q = ctx.cues, m.q
    rest = after.lstrip(" \u3000")
    if _bound_before_subject(ctx, m, prefix, rest) or _bound_in_brackets(ctx, m, rest):
        return True
    strict = _before_comparator(prefix) in ("<", ">", ">=", "<=") and prefix.rstrip()[-2:] not in ("控制", "在")
    if strict and regex.match(r"的\p{Han}", rest) and not any(rest[1:].startswith(s) for s in cues.condition_stop):
        return True  # 对日均用水量超过500立方米的单位
    if strict and regex.match(r"时[，,\p{Han}]", rest):
        return True  # 当AQI大于300时，启动红色预警
    if q.dimension == "length" and any(rest.startswith(w) for w in cues.condition_length_words):
        return True
    if q.dimension == "duration" and _window(cues, rest):
        return True
    if not q.unit and any(prefix.rstrip().endswith(w) for w in cues.condition_range_words):
        return True
    return q.value_max is not None and bool(regex.match(r"之间的?\p{Han}", rest))  # 在0—100之间的天数


BOUND_WORDS = {w: "" for w in ("及以下", "以下", "及以上", "以上", "以内")}


def _bound_before_subject(ctx: DocContext, m: Mention, prefix: str, rest: str) -> bool:
    """3吨以下燃油叉车, 2000平方米以上的工地: a bound written before the noun it qualifies. A count
    after a verb of doing is the object of the measure, not a bound (建设10个以上示范社区)."""
    word = _starting_word(rest, BOUND_WORDS)
    if not word:
        return False
    tail = rest[len(word):].lstrip(" \u3000")
    tail = tail[1:] if tail.startswith("的") else tail
    if not (tail and regex.match(r"\p{Han}", tail)) or any(tail.startswith(s) for s in ctx.cues.condition_stop):
        return False
    lead = prefix.rstrip(" \u3000")
    return not (m.q.dimension == "count" and any(lead.endswith(v) for v in ctx.cues.object_verbs))


def _bound_in_brackets(ctx: DocContext, m: Mention, rest: str) -> bool:
    """规模以上施工工地（建筑面积5000平方米以上）, 轻型货车（4.5吨以下）: a bound in brackets right
    after the noun it qualifies (not a goal: （目标值95%以上）)."""
    word = _starting_word(rest, BOUND_WORDS)
    if not word or rest[len(word):].lstrip(" \u3000")[:1] not in ("）", ")"):
        return False
    text, q = ctx.norm.text, m.q
    opened = max(text.rfind("（", m.sent_start, q.start), text.rfind("(", m.sent_start, q.start))
    if opened <= m.sent_start or regex.search(r"[）)]", text[opened:q.start]):
        return False
    inside = text[opened + 1:q.start]
    return (len(inside) <= 10 and bool(regex.fullmatch(r"[\p{Han} \u3000]*", inside))
            and bool(regex.match(r"\p{Han}", text[opened - 1]))
            and not any(w in inside for w in ctx.cues.target_cues)
            and _before_comparator(inside) == "=" and not any(w in inside for w in load_comparators().before))


def _window(cues: StatementCues, rest: str) -> bool:
    """A duration that opens a time window of a rule: 24小时内响应, 3个工作日内办结."""
    word = _starting_word(rest, {w: "" for w in cues.duration_window_words})
    if not word:
        return False
    tail = rest[len(word):].lstrip(" \u3000")
    return bool(regex.match(r"\p{Han}", tail)) and not any(tail.startswith(s) for s in cues.condition_stop)


def _is_scope(ctx: DocContext, m: Mention, prefix: str, after: str) -> bool:
    """Counts that describe the plan itself (see statements.yml ``scope_nouns``)."""
    cues, q, text = ctx.cues, m.q, ctx.norm.text
    sentence_prefix = text[m.sent_start:q.start]
    if (q.unit[-1:] if q.unit else "") in cues.scope_units and (
            _scope_noun_after(cues, after) or _scope_noun_before(cues, prefix)
            or _scope_change(cues, sentence_prefix)):
        return True
    if q.dimension == "ratio" and _scope_share(cues, prefix):
        return True
    if q.dimension in ("count", "area") and _plan_reach(ctx, m):
        return True
    return False


def _is_named_list(ctx: DocContext, m: Mention, prefix: str) -> bool:
    """园博湖、晓月湖等3处湖泊, 以…9条河道…为重点: the count of a list the plan names (scope, unless
    a dated sentence reports it: then it is an actual)."""
    q, text = m.q, ctx.norm.text
    if q.dimension == "count" and prefix.rstrip(" \u3000").endswith("等"):
        return True
    sentence = text[m.sent_start:m.sent_end]
    rel = q.start - m.sent_start
    return q.dimension == "count" and any(f.start() <= rel < f.end() for frame in ctx.cues.scope_frames
                                          for f in frame.finditer(sentence))


@functools.cache
def _scope_patterns() -> dict[str, regex.Pattern]:
    cues = load_statements()
    nouns = "|".join(map(regex.escape, cues.scope_nouns))
    shares = "|".join(map(regex.escape, cues.scope_share_words))
    year = r"(?:19|20)\d{2}[ \u3000]*年(?:底|末)?的?"
    return {
        "after": regex.compile(rf"[ \u3000]*[^，,。；;：:、（(\d]{{0,6}}?(?:{nouns})"),
        "before": regex.compile(rf"(?:{nouns})[ \u3000]*(?:(?:由|从)?[ \u3000]*{year})?[ \u3000]*$"),
        "change": regex.compile(rf"(?:{nouns})[ \u3000]*(?:由|从)[^，,。；;]*?\d[^，,。；;]*?"
                                rf"(?:增加|增至|提高|增长|减少|减至|下降|调整|扩大|压减|精简)?(?:到|至|为)"
                                rf"[ \u3000]*(?:{year})?[ \u3000]*$"),
        "share": regex.compile(rf"(?:{nouns})(?:{shares})[^，,。；;\d]{{0,6}}$"),
    }


def _scope_noun_after(cues: StatementCues, after: str) -> bool:
    """92项重点任务: a scope noun in the noun phrase right after the count."""
    return bool(_scope_patterns()["after"].match(after))


def _scope_noun_before(cues: StatementCues, prefix: str) -> bool:
    """重点任务76项, 、具体措施183项, 具体措施由2024年的161项: a scope noun right before the count."""
    return bool(_scope_patterns()["before"].search(prefix))


def _scope_change(cues: StatementCues, sentence_prefix: str) -> bool:
    """具体措施由161项增加至183项: the new count of a plan's tasks or measures."""
    return bool(_scope_patterns()["change"].search(sentence_prefix))


def _scope_share(cues: StatementCues, prefix: str) -> bool:
    """可考核的措施占比超过80%: the share of the plan's measures."""
    return bool(_scope_patterns()["share"].search(load_comparators().mask(prefix)))


def _plan_reach(ctx: DocContext, m: Mention) -> bool:
    """《行动计划》…涉及22个乡镇街道, 覆盖全区906平方公里: what the plan involves or covers, in a
    sentence about the plan; the clause starts with the verb."""
    text, cues = ctx.norm.text, ctx.cues
    if not cues.plan_subject.search(text, m.sent_start, m.q.start):
        return False
    clause = text[_segment_start(text, m.sent_start, m.q.start):m.q.start].lstrip(" \u3000")
    subject = cues.plan_subject.match(clause)
    clause = regex.sub(r"^[ \u3000]*(?:共|还|并|总共|合计|共计)?", "", clause[subject.end() if subject else 0:])
    return any(clause.startswith(v) for v in cues.plan_reach_verbs)


def _is_definition(ctx: DocContext, clause: Clause | None, prefix: str) -> bool:
    """A section of definitions (名词解释), a scale (数值范围0-100) or a defining sentence (…是指)."""
    path = ctx.section_path(clause)
    return any(w in path for w in ctx.cues.definition_headings) or any(
        prefix.rstrip().endswith(w) for w in ctx.cues.condition_range_words) or bool(
        ctx.cues.definition.search(prefix))


# ------------------------------------------------------------------------------------- time


def _years(pattern: regex.Pattern, text: str) -> list[tuple[int, int, int]]:
    return [(m.start(), m.end(), int(m.group("year"))) for m in pattern.finditer(text)]


def _base_year(cues: StatementCues, sentence_prefix: str) -> int | None:
    found = [y for p in cues.base_year_patterns for y in _years(p, sentence_prefix)]
    return max(found)[2] if found else None


def _relative_base(cues: StatementCues, sentence_prefix: str, year: int | None) -> int | None:
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


def _time(ctx: DocContext, m: Mention, clause: Clause | None, kind: str | None,
          sentence_prefix: str) -> tuple[str, int | None]:
    """(kind, year): a target year, a dated sentence or paragraph, a past period or word, an
    achievement cue, a dated or review heading; else a target of the plan's year. A named list
    (kind "named_list") is scope unless a past date makes it an actual."""
    kind, year = _kind_year(ctx, m, clause, kind, sentence_prefix)
    return ("scope" if kind == "named_list" else kind), year


def _kind_year(ctx: DocContext, m: Mention, clause: Clause | None, kind: str | None,
               sentence_prefix: str) -> tuple[str, int | None]:
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
        if kind == "condition" and _is_definition(ctx, clause, sentence_prefix):
            return kind, None
        return kind, (ctx.plan_year if ctx.annual else None)
    if past_heading is not None:
        return "actual", past_heading
    segment = text[_segment_start(text, m.sent_start, m.q.start):m.q.start]
    if ctx.plan_year is not None and (_achieved(cues, segment) or _stock(cues, segment)):
        return "actual", ctx.plan_year - 1
    return "target", ctx.default_year


def _observation_year(ctx: DocContext, m: Mention, sentence_prefix: str) -> int | None:
    """The year a sentence is dated by: 2023年，…; “十三五”期间…; 去年…; or its paragraph's 2023年，."""
    cues, text = ctx.cues, ctx.norm.text
    dated = [d for d in _dated_years(cues, sentence_prefix) if not _earlier_value_year(sentence_prefix, *d[:2])]
    if dated:
        return dated[-1][2]
    ended = _ended_period(cues, sentence_prefix, ctx.plan_year)
    if ended is not None:
        return ended
    if ctx.plan_year is not None and any(
            regex.search(rf"(?<![较比同于]){w}", sentence_prefix) for w in cues.past_words):
        return ctx.plan_year - 1
    lead = text[m.line_start:m.sent_start] + text[m.sent_start:m.sent_start + 12]
    lead_m = regex.match(r"\s*(?:[一二三四五六七八九十]+是)?\s*((?:19|20)\d{2})\s*年[，,]", lead)
    return int(lead_m.group(1)) if lead_m else None


FROM_END = regex.compile(r"(?:由|从)[ \u3000]*(?:(?:19|20)\d{2}[ \u3000]*年(?:底|末)?的?)?[ \u3000]*$")
FROM_YEAR = regex.compile(r"(?:由|从)[ \u3000]*$")
TO_WORD = regex.compile(r"\d[^，,。；;]*?(?:到|至|为)")


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
        if pos >= 0 and not segment.startswith("的", pos + len(verb)) and \
                not any(w in segment[:pos] for w in cues.stock_not_after):
            return True
    return False


def _achieved(cues: StatementCues, segment: str) -> bool:
    """An achievement cue (已建成…) and no goal word in the clause before the number."""
    return any(w in segment for w in cues.actual_cues) and not any(w in segment for w in cues.target_cues)


# ------------------------------------------------------------------------------- indicators


@functools.cache
def _trimmers() -> tuple[tuple[str, ...], tuple[regex.Pattern, ...]]:
    """Words trimmed off the end of an indicator phrase, and base-year phrases at its end."""
    comps, cues = load_comparators(), load_statements()
    words = sorted({*comps.before, *cues.qualifiers, "分别", "均", "合计", "共计", "共", "累计完成",
                    "完成", "实现", "持续", "进一步", "全部", "都", "在"}, key=len, reverse=True)
    ends = tuple(regex.compile(p.pattern + r"\s*$") for p in cues.base_year_patterns)
    return tuple(words), ends


def _clean_indicator(text: str, s: int, e: int) -> tuple[int, int]:
    """Trim lead words, time phrases, comparators and qualifiers off an indicator span."""
    cues, comps = load_statements(), load_comparators()
    trail_words, base_ends = _trimmers()
    defined = list(cues.definition.finditer(text, s, e))
    if defined:  # 重污染天数指空气质量指数（AQI）大于200 -> 空气质量指数（AQI）
        s = defined[-1].end()
    changed = True
    while changed and s < e:
        changed = False
        lead = ORDINAL_LEAD.match(text, s, e)
        if lead and lead.end() > s:
            s, changed = lead.end(), True
        for pat in (*cues.target_year_patterns, *cues.base_year_patterns, cues.dated_year):
            mm = pat.match(text, s, e)
            if mm:
                s, changed = mm.end(), True
        while s < e and text[s] in " \u3000，,":
            s, changed = s + 1, True
        for word in trail_words:
            if text.endswith(word, s, e) and not comps.ends_word(text, e, word):
                e, changed = e - len(word), True
                break
        mm = FROM_END.search(text, s, e)
        if mm and mm.start() > s:  # 污水处理率由2015年的 -> 污水处理率
            e, changed = mm.start(), True
        for pat in base_ends:
            mm = pat.search(text[s:e])
            if mm:
                e, changed = s + mm.start(), True
        while e > s and text[e - 1] in " \u3000，,（(":
            e, changed = e - 1, True
    return s, e


def _indicators(ctx: DocContext, m: Mention, seg_start: int) -> list[tuple[str, int, int]]:
    """The indicator phrase(s) of a quantity: the counted noun after a count (7 条黑臭水体), the
    bounded subject after a condition (3吨以下燃油叉车), else the words before the comparator."""
    text = ctx.norm.text
    following = _following_noun(text, m)
    if following:
        return [following]
    s, e = _clean_indicator(text, seg_start, m.q.start)
    if CHANGE_TO.fullmatch(text, s, e):  # 由2015年的80.5%提高到95.2%: the subject before 由
        full = _segment_start(text, m.sent_start, m.q.start)
        cut = max(text.rfind("由", full, s), text.rfind("从", full, s))
        if cut > full:
            s, e = _clean_indicator(text, full, cut)
    verb = regex.fullmatch(r"[\p{Han}]{0,2}?(下降|减少|增加|提高|削减|降低|上升)了?", text[s:e])
    if e - s < 2 or verb or text[s:e] in ("目标", "目标值", "指标", "要求", "任务"):
        prev_end = seg_start - 1
        if prev_end > m.sent_start:  # 重污染天数降至12天，较2015年减少46天 -> 重污染天数减少
            ps = _segment_start(text, m.sent_start, prev_end)
            earlier = find_quantities(text[ps:prev_end])
            s2, e2 = _clean_indicator(text, ps, ps + earlier[0].start if earlier else prev_end)
            if e2 - s2 >= 2:
                phrase = text[s2:e2] + (verb.group(1) if verb else "")
                return [(phrase, s2, e2)]
    s, e = _chop_verbs(text, s, e)
    cut = text.rfind("的", s, e)
    if cut >= 0 and e - cut - 1 >= 4:
        s = cut + 1
    subjects = _shared_subjects(text, s, e)
    return subjects or [(text[s:e], s, e)]


FOLLOWING_STOP = regex.compile(r"[，,。；;：:、！？\n（(\d]|以及|和[ \u3000]*\d|及[ \u3000]*\d|的|等|为重点|开展|实施|推进|"
                               r"不少于|不低于|不超过|不高于|达到|超过")


CHANGE_TO = regex.compile(r"[ \u3000]*(?:增加|增至|提高|提升|增长|减少|减至|下降|降低|调整|扩大|压减|上升|降)"
                          r"[ \u3000]*(?:到|至|为)?[ \u3000]*(?:(?:19|20)\d{2}[ \u3000]*年(?:底|末)?的?)?[ \u3000]*")
CHANGE_VERB = regex.compile(r"[ \u3000]*(?:增加|增至|提高|提升|增长|减少|减至|下降|降低|调整|扩大|压减|上升)")


def _following_noun(text: str, m: Mention) -> tuple[str, int, int] | None:
    """The noun a count counts or a condition bounds, written after it (88项重点任务)."""
    q = m.q
    start = q.end
    cond = regex.match(r"[ \u3000]*(?:及以下|以下|及以上|以上)的?", text[start:m.sent_end])
    if q.dimension != "count" and (not cond or q.dimension in ("ratio", "number")):
        return None
    start += cond.end() if cond else 0
    if CHANGE_VERB.match(text, start):  # 由161项增加至183项: no noun follows
        return None
    stop = FOLLOWING_STOP.search(text, start, m.sent_end)
    end = stop.start() if stop else m.sent_end
    end = min(end, start + 24)
    if end - start < 2 or not regex.match(r"[\p{Han}“《A-Za-z]", text[start]):
        return None
    return text[start:end], start, end


def _chop_verbs(text: str, s: int, e: int) -> tuple[int, int]:
    """Drop a leading clause before the last verb of a long phrase (推进3吨以下 -> '')."""
    phrase = text[s:e]
    m = regex.search(r"(?:推进|推动|实施|完成|开展|建立|实现|保障|确保|提高|提升|解决|增加)(?=[^推实完开建保确提解增]{2,}$)", phrase)
    if m and len(phrase) > 14:
        return s + m.end(), e
    return s, e


def _shared_subjects(text: str, s: int, e: int) -> list[tuple[str, int, int]]:
    """'A和B均…': one indicator per subject (the phrase ends with 均 in the source)."""
    if not text.startswith("均", e) and not regex.match(r"\s*均", text[e:e + 3]):
        return []
    return _split_subjects(text, s, e)


def _split_subjects(text: str, s: int, e: int) -> list[tuple[str, int, int]]:
    """Split a subject list on 、/和/及/与 outside parentheses; share a trailing head noun."""
    items, depth, start = [], 0, s
    i = s
    while i < e:
        ch = text[i]
        depth += ch in "（(" and 1 or 0
        depth -= ch in "）)" and 1 or 0
        sep = SPLIT_ITEMS.match(text, i, e) if depth == 0 else None
        if sep:
            items.append((start, i))
            start = i = sep.end()
            continue
        i += 1
    items.append((start, e))
    items = [(a, b) for a, b in items if b > a]
    if len(items) < 2:
        return []
    return _share_head(text, items)


def _share_head(text: str, items: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    heads = load_indicators().heads
    a, b = items[-1]
    last = text[a:b]
    head = ""
    if "的" in last:
        cut = last.rindex("的")
        head, items[-1] = last[cut + 1:], (a, a + cut)
    else:
        for h in sorted(heads, key=len, reverse=True):
            if last.endswith(h) and not any(text[x:y].endswith(h) for x, y in items[:-1]):
                head, items[-1] = h, (a, b - len(h))
                break
    return [(text[x:y] + head, x, y) for x, y in items]


def _distributed_subjects(ctx: DocContext, group: list[Mention], seg_start: int) -> list[tuple[str, int, int]]:
    """For a 分别 list, the subjects in order (from this segment or the sentence's earlier list)."""
    text = ctx.norm.text
    first = group[0]
    if len(group) < 2:
        return []
    before = text[first.sent_start:first.q.start]
    if "分别" not in before:
        return []
    cut = first.sent_start + before.rindex("分别")
    verb = _change_verb(text[cut + 2:first.q.start])
    starts = [seg_start]
    s = seg_start
    while s > first.sent_start:  # walk back over earlier segments of the sentence
        s = _segment_start(text, first.sent_start, s - 1)
        starts.append(s)
    for start in starts:
        end = cut if start == seg_start else _list_end(text, start, cut)
        a, b = _clean_indicator(text, start, end)
        subjects = _split_subjects(text, a, b)
        if len(subjects) == len(group):
            return [(p + verb, x, y) for p, x, y in subjects]
    return []


def _list_end(text: str, start: int, limit: int) -> int:
    """End of a subject list in an earlier segment: before its own 分别 or comparator."""
    seg = text[start:limit]
    pos = seg.find("分别")
    return start + pos if pos >= 0 else _segment_start(text, start, limit) - 1


def _change_verb(text: str) -> str:
    m = regex.search(r"(下降|减少|增加|提高|削减|降低|上升|增长)", text)
    return m.group(1) if m else ""


# --------------------------------------------------------------------------------- building


def _to_targets(ctx: DocContext, m: Mention, reading: Reading) -> list[Target]:
    q = m.q
    src_start, src_end = ctx.src_span(q.start, q.end)
    clause = ctx.clause_at(src_start)
    out = []
    for phrase, s, e in reading.indicators:
        written = ctx.src_text(s, e).strip() if e > s else phrase
        if phrase != ctx.norm.text[s:e]:
            written = phrase
        indicator = indicator_for(phrase) if phrase else None
        if indicator and not _unit_fits(indicator.canonical_unit, q.canonical_unit):
            indicator = None
        out.append(Target(
            id="", document_id=ctx.document_id, clause_id=clause.id if clause else None,
            indicator=written, indicator_id=indicator.id if indicator else None,
            value=q.value, value_max=q.value_max, unit=_unit_written(ctx, q),
            canonical_unit=q.canonical_unit, value_canonical=q.value * q.factor,
            comparator=reading.comparator, kind=reading.kind, year=reading.year,
            base_year=reading.base_year, campaign=_campaign(ctx, clause, indicator, phrase, m),
            qualifiers=list(reading.qualifiers), attribute=None,
            surface=ctx.source[src_start:src_end], start=src_start, end=src_end))
    return out


def _unit_fits(indicator_unit: str | None, unit: str) -> bool:
    """An indicator measured in μg/m³ is not what a number in % states; a bare number (unit "")
    fits an index or a ratio written without %."""
    if not indicator_unit:
        return True
    if not unit:
        return indicator_unit == "%"
    return indicator_unit == unit


def _unit_written(ctx: DocContext, q: Quantity) -> str:
    if q.unit_start is None:
        return q.unit
    text = ctx.src_text(q.unit_start, q.unit_end)
    lex = load_units()
    for word in lex.approx_middle:
        text = text.replace(word, "")
    return regex.sub(r"[ \u3000]", "", text)


def _campaign(ctx: DocContext, clause: Clause | None, indicator, phrase: str, m: Mention) -> str:
    """The section's campaign when the section names one; else the indicator's, else keywords
    of the phrase, the sentence before the number (closest first), the section title."""
    section_campaign = ctx.section_campaign(clause)
    if section_campaign != "general":
        return section_campaign
    if indicator is not None:
        return indicator.campaign
    text = ctx.norm.text
    section = ctx.sections.get(clause.section_id) if clause and clause.section_id else None
    seg_end = m.q.end
    while seg_end < m.sent_end and text[seg_end] not in SEGMENT_END:
        seg_end += 1
    contexts = [phrase, text[m.q.end:seg_end]]
    head = phrase.strip()
    bare_head = head in load_indicators().heads or len(head) < 3 or bool(
        _starting_word(head, load_comparators().before) or regex.match(r"(?:下降|减少|增加|提高|削减|降低|上升)", head))
    if bare_head and not _following_noun(text, m):  # 年均浓度29: the subject is further back
        contexts.append(text[m.sent_start:m.q.end])
    contexts.append(section.title if section else "")
    for context in contexts:
        context = regex.sub(r"《[^》]*》", "", context)
        found = _campaign_by_keywords(context)
        if found:
            return found
    return "general"


def _campaign_by_keywords(text: str) -> str | None:
    best = None
    for campaign in campaigns():
        for word in campaign.keywords:
            pos = text.rfind(word)
            if pos >= 0 and (best is None or (pos + len(word), len(word)) > best[:2]):
                best = (pos + len(word), len(word), campaign.id)
    return best[2] if best else None


def _assign_ids(document_id: str, targets: list[Target]) -> list[Target]:
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
