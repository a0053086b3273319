"""The kind a statement's own words give a quantity: condition, scope or a named list.

* condition: 3吨以下燃油叉车, 工地（建筑面积5000平方米以上）, 30米范围内, 24小时内响应, a defined
  scale (数值范围0-100), 对日均用水量超过500立方米的单位, 当AQI大于300时.
* scope: the plan's own counts (92项重点任务, 重点任务76项, 由161项增加至183项, 措施占比,
  《计划》涉及22个乡镇).
* named_list: the count of a list the plan names (等3处, 以…为重点); ``years.kind_and_year``
  turns it into scope, or actual when a past date reports it.

``local_kind`` returns None when the words do not say; ``years.kind_and_year`` decides then.
The cue words are data (``statements.yml``).
"""

from __future__ import annotations

import functools

import regex

from extractor.lexicon.cues import StatementCues, load_comparators, load_statements, load_units
from extractor.model import Clause
from extractor.quantities import unit_lookup
from extractor.statements.comparators import before_comparator, starting_word
from extractor.statements.context import DocContext, Mention, segment_start
from extractor.statements.dating import modality

_OF_HAN = regex.compile(r"的\p{Han}")
_WHEN = regex.compile(r"时[，,\p{Han}]")
_BETWEEN = regex.compile(r"之间的?\p{Han}")
_HAN = regex.compile(r"\p{Han}")
_CLOSE_PAREN = regex.compile(r"[）)]")
_HAN_RUN = regex.compile(r"[\p{Han} \u3000]*")
_TOTAL_LEAD = regex.compile(r"^[ \u3000]*(?:共|还|并|总共|合计|共计)?")

BOUND_WORDS = {w: "" for w in ("及以下", "以下", "及以上", "以上", "以内")}


def local_kind(ctx: DocContext, m: Mention, prefix: str, after: str) -> str | None:
    """condition or scope from the words around the number; None if they do not say."""
    if _is_condition(ctx, m, prefix, after):
        return "condition"
    if _is_scope(ctx, m, prefix, after):
        return "scope"
    if _is_named_list(ctx, m, prefix):
        return "named_list"
    return None


def _is_condition(ctx: DocContext, m: Mention, prefix: str, after: str) -> bool:
    """A bound on what a rule applies to, not a goal: a bound before or in brackets after its
    noun, a strict comparison before 的/时, a distance or time window, a range or a scale."""
    cues, q = ctx.cues, m.q
    rest = after.lstrip(" \u3000")
    if _bound_before_subject(ctx, m, prefix, rest) or _bound_in_brackets(ctx, m, rest):
        return True
    strict = before_comparator(prefix) in ("<", ">", ">=", "<=") and prefix.rstrip()[-2:] not in (
        "控制",
        "在",
    )
    if strict and _OF_HAN.match(rest) and not any(rest[1:].startswith(s) for s in cues.condition_stop):
        return True  # 对日均用水量超过500立方米的单位
    if strict and _WHEN.match(rest):
        return True  # 当AQI大于300时，启动红色预警
    if q.dimension == "length" and any(rest.startswith(w) for w in cues.condition_length_words):
        return True
    if q.dimension == "duration" and _window(cues, rest) and not _goal_window(cues, prefix):
        return True
    if _is_period(q) or _bound_of_counted(ctx, m, prefix):
        return True
    if not q.unit and any(prefix.rstrip().endswith(w) for w in cues.condition_range_words):
        return True
    return q.value_max is not None and bool(_BETWEEN.match(rest))  # 在0—100之间的天数


def _bound_before_subject(ctx: DocContext, m: Mention, prefix: str, rest: str) -> bool:
    """3吨以下燃油叉车, 2000平方米以上的工地: a bound written before the noun it qualifies. A count
    after a verb of doing is the object of the measure, not a bound (建设10个以上示范社区)."""
    word = starting_word(rest, BOUND_WORDS)
    if not word:
        return False
    tail = rest[len(word) :].lstrip(" \u3000")
    tail = tail[1:] if tail.startswith("的") else tail
    if not (tail and _HAN.match(tail)) or any(tail.startswith(s) for s in ctx.cues.condition_stop):
        return False
    lead = prefix.rstrip(" \u3000")
    if any(lead.endswith(v) for v in ctx.cues.attain_verbs):
        return False  # 具备5%以上的响应能力: what is to be reached
    return not (m.q.dimension == "count" and any(lead.endswith(v) for v in ctx.cues.object_verbs))


def _bound_in_brackets(ctx: DocContext, m: Mention, rest: str) -> bool:
    """规模以上施工工地（建筑面积5000平方米以上）, 轻型货车（4.5吨以下）: a bound in brackets right
    after the noun it qualifies (not a goal: （目标值95%以上）)."""
    word = starting_word(rest, BOUND_WORDS)
    if not word or rest[len(word) :].lstrip(" \u3000")[:1] not in ("）", ")"):
        return False
    text, q = ctx.norm.text, m.q
    opened = max(text.rfind("（", m.sent_start, q.start), text.rfind("(", m.sent_start, q.start))
    if opened <= m.sent_start or _CLOSE_PAREN.search(text[opened : q.start]):
        return False
    inside = text[opened + 1 : q.start]
    return (
        len(inside) <= 10
        and bool(_HAN_RUN.fullmatch(inside))
        and bool(_HAN.match(text[opened - 1]))
        and not any(w in inside for w in ctx.cues.target_cues)
        and before_comparator(inside) == "="
        and not any(w in inside for w in load_comparators().before)
    )


def _is_period(q) -> bool:
    """试点创建期为2至3年: a period read only after its head (units.yml contextual) bounds a measure."""
    found = unit_lookup(load_units(), q.unit) if q.unit else None
    return bool(found and found[0].contextual)


def _bound_of_counted(ctx: DocContext, m: Mention, prefix: str) -> bool:
    """全县有9座乡镇污水处理设施负荷率低于60%: a strict bound on what an earlier count counts."""
    if before_comparator(prefix) not in ("<", ">"):
        return False
    text = ctx.norm.text
    clause = text[segment_start(text, m.sent_start, m.q.start) : m.q.start]
    units = "".join(u for u in (*ctx.cues.scope_units, "座", "家", "辆", "台", "所", "户", "条"))
    return bool(_counted_pattern(units).search(clause))


@functools.cache
def _counted_pattern(units: str) -> regex.Pattern:
    """有9座…: a count of units before a noun (one pattern per unit set, compiled once)."""
    return regex.compile(rf"有[ \u3000]*\d+(?:\.\d+)?[ \u3000]*[{units}]\p{{Han}}")


def _goal_window(cues: StatementCues, prefix: str) -> bool:
    """做到24小时内响应: a time window that is itself the goal of the measure (a target, ≤)."""
    return any(prefix.rstrip(" \u3000").endswith(w) for w in cues.window_goal_verbs)


@functools.cache
def _as_words(words: tuple[str, ...]) -> dict[str, str]:
    return {w: "" for w in words}


def _window(cues: StatementCues, rest: str) -> bool:
    """A duration that opens a time window of a rule: 24小时内响应, 3个工作日内办结."""
    word = starting_word(rest, _as_words(cues.duration_window_words))
    if not word:
        return False
    tail = rest[len(word) :].lstrip(" \u3000")
    return bool(_HAN.match(tail)) and not any(tail.startswith(s) for s in cues.condition_stop)


def _is_scope(ctx: DocContext, m: Mention, prefix: str, after: str) -> bool:
    """Counts that describe the plan itself (see statements.yml ``scope_nouns``)."""
    cues, q, text = ctx.cues, m.q, ctx.norm.text
    sentence_prefix = text[m.sent_start : q.start]
    if (q.unit[-1:] if q.unit else "") in cues.scope_units and (
        _scope_noun_after(cues, after)
        or _scope_noun_before(cues, prefix)
        or _scope_change(cues, sentence_prefix)
    ):
        return True
    if q.dimension == "ratio" and _scope_share(cues, prefix):
        return True
    if q.dimension in ("count", "area") and _plan_reach(ctx, m):
        return True
    if q.dimension == "count" and _coverage(ctx, m):
        return True
    return _listed_works(ctx, m, prefix, after)


def _coverage(ctx: DocContext, m: Mention) -> bool:
    """A count of what a programme takes in (statements.yml ``coverage_pattern``), in its clause,
    when the clause sets no goal (将18家企业纳入…, 纳入清单企业不少于1200家 are targets) and the
    text is no report of results (a bulletin's 纳入名录的地块共7块 is an actual)."""
    if ctx.report:
        return False
    text = ctx.norm.text
    start = segment_start(text, m.sent_start, m.q.start)
    end = m.q.end
    while end < m.sent_end and text[end] not in "，,。；;":
        end += 1
    if not ctx.cues.coverage.search(text, start, end):
        return False
    return modality(text[start:end]).kind != "target"


def _listed_works(ctx: DocContext, m: Mention, prefix: str, after: str) -> bool:
    """实施重点工程项目4个，…详见下表: the number of projects of the plan's own table or annex."""
    cues, q, text = ctx.cues, m.q, ctx.norm.text
    if (q.unit[-1:] if q.unit else "") not in cues.scope_units or not cues.list_reference.search(
        text, m.sent_start, m.sent_end
    ):
        return False
    before, after_noun = _list_noun_patterns(tuple(cues.list_nouns))
    return bool(before.search(prefix) or after_noun.match(after))


@functools.cache
def _list_noun_patterns(list_nouns: tuple[str, ...]) -> tuple[regex.Pattern, regex.Pattern]:
    """A list noun (项目, 工程) ending the prefix, or just after the number (compiled once)."""
    nouns = "|".join(map(regex.escape, list_nouns))
    return (
        regex.compile(rf"(?:{nouns})[ \u3000]*$"),
        regex.compile(rf"[ \u3000]*[^，,。；;：:、（(\d]{{0,6}}?(?:{nouns})"),
    )


def _is_named_list(ctx: DocContext, m: Mention, prefix: str) -> bool:
    """园博湖、晓月湖等3处湖泊, 以…9条河道…为重点: the count of a list the plan names (scope, unless
    a dated sentence reports it: then it is an actual)."""
    q, text = m.q, ctx.norm.text
    if q.dimension == "count" and prefix.rstrip(" \u3000").endswith("等"):
        return True
    sentence = text[m.sent_start : m.sent_end]
    rel = q.start - m.sent_start
    return q.dimension == "count" and any(
        f.start() <= rel < f.end() for frame in ctx.cues.scope_frames for f in frame.finditer(sentence)
    )


@functools.cache
def _scope_patterns() -> dict[str, regex.Pattern]:
    """The scope noun patterns of statements.yml: after, before, change and share."""
    cues = load_statements()
    nouns = "|".join(map(regex.escape, cues.scope_nouns))
    shares = "|".join(map(regex.escape, cues.scope_share_words))
    year = r"(?:19|20)\d{2}[ \u3000]*年(?:底|末)?的?"
    return {
        "after": regex.compile(rf"[ \u3000]*[^，,。；;：:、（(\d]{{0,6}}?(?:{nouns})"),
        "before": regex.compile(
            rf"(?:{nouns})[ \u3000]*(?:(?:由|从)?[ \u3000]*{year})?[ \u3000]*"
            rf"(?:共计|合计|总计|共)?[ \u3000]*$"
        ),
        "change": regex.compile(
            rf"(?:{nouns})[ \u3000]*(?:由|从)[^，,。；;]*?\d[^，,。；;]*?"
            rf"(?:增加|增至|提高|增长|减少|减至|下降|调整|扩大|压减|精简)?(?:到|至|为)"
            rf"[ \u3000]*(?:{year})?[ \u3000]*$"
        ),
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
    clause = text[segment_start(text, m.sent_start, m.q.start) : m.q.start].lstrip(" \u3000")
    subject = cues.plan_subject.match(clause)
    clause = _TOTAL_LEAD.sub("", clause[subject.end() if subject else 0 :])
    return any(clause.startswith(v) for v in cues.plan_reach_verbs)


def is_definition(ctx: DocContext, clause: Clause | None, prefix: str) -> bool:
    """A section of definitions (名词解释), a scale (数值范围0-100) or a defining sentence (…是指)."""
    path = ctx.section_path(clause)
    return (
        any(w in path for w in ctx.cues.definition_headings)
        or any(prefix.rstrip().endswith(w) for w in ctx.cues.condition_range_words)
        or bool(ctx.cues.definition.search(prefix))
    )
