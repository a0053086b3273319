"""The subject of a statement: the indicator phrase(s) of a quantity.

* the words before the comparator, trimmed of ordinals, time phrases, comparator words and
  qualifiers (PM2.5年均浓度达到32 -> PM2.5年均浓度);
* the noun a count counts or a condition bounds, written after it (88项重点任务, 3吨以下燃油叉车);
* a 分别 list: the matching item of a subject list (PM10、SO2和NO2的年均浓度分别为52、3和17 ->
  SO2年均浓度), from the same segment or an earlier one of the sentence;
* a subject list before 均: one indicator per subject, sharing a trailing head noun.

Phrases are ``(phrase, start, end)`` with analysis offsets.
"""

from __future__ import annotations

import functools

import regex

from extractor.lexicon.cues import (
    StatementCues,
    load_comparators,
    load_indicators,
    load_statements,
    to_simplified,
)
from extractor.lexicon.time import load_time
from extractor.quantities import find_quantities
from extractor.statements.context import DocContext, Mention, segment_start

SPLIT_ITEMS = regex.compile(r"、|以及|和|(?<![普涉波危顾])及(?![时早])|与")  # not the 及 of 普及率, 及时
ORDINAL_LEAD = regex.compile(
    r"\s*(?:[一二三四五六七八九十]+是|\d{1,2}[.．、]|[（(]\d{1,2}[）)]|其中|同时|或者|并且|而且|以及|且|并|"
    r"主要目标(?:为|是)?|(?:及)?以[上下内]的?|左右|较上年|比上年|同比|(?:累计)?完成(?=\p{Han}{2})|、)[，,：:]?"
)
FROM_END = regex.compile(r"(?:由|从)[ \u3000]*(?:(?:19|20)\d{2}[ \u3000]*年(?:底|末)?的?)?[ \u3000]*$")
FOLLOWING_STOP = regex.compile(
    r"[，,。；;：:、！？\n（(\d]|以及|和[ \u3000]*\d|及[ \u3000]*\d|的|等|为重点|开展|实施|推进|"
    r"不少于|不低于|不超过|不高于|达到|超过|高于|低于|大于|小于"
)
CHANGE_TO = regex.compile(
    r"[ \u3000]*(?:增加|增至|提高|提升|增长|减少|减至|下降|降低|调整|扩大|压减|上升|降)"
    r"[ \u3000]*(?:到|至|为)?[ \u3000]*(?:(?:19|20)\d{2}[ \u3000]*年(?:底|末)?的?)?[ \u3000]*"
)
COUNT_LEAD = regex.compile(r"\s*\p{Han}{0,3}?\d+(?:\.\d+)?\s*[个家座条处项类]")
ENDING_CHANGE = regex.compile(
    r"(?:同比|持续|稳步|逐步|进一步|有所|大幅|明显)*(?:增加|提高|提升|增长|减少|下降|降低|削减|上升|压减)了?$"
)

_CHANGE_ONLY = regex.compile(r"[\p{Han}]{0,2}?(下降|减少|增加|提高|削减|降低|上升)了?")
_BOUND_WORD = regex.compile(r"及以[上下]|以上|以下")
_PUNCT = regex.compile(r"[，,。；：:（(]")
_OPEN_PAREN = regex.compile(r"[（(][^）)]*$")
_BOUND_AFTER = regex.compile(r"[ \u3000]*(?:及以下|以下|及以上|以上)的?")
_NOUN_START = regex.compile(r"[\p{Han}“《A-Za-z]")
_DOING_VERB = regex.compile(
    r"(?:推进|推动|实施|完成|开展|建立|实现|保障|确保|提高|提升|解决|增加)(?=[^推实完开建保确提解增]{2,}$)"
)
_EACH = regex.compile(r"\s*均")
_AND = regex.compile(r"和|及|与|或")
_SHARE_WITHIN = regex.compile(r"\p{Han}中\p{Han}{2,}(?:比例|比重|占比|率)$")
_CHANGE_VERB = regex.compile(r"(下降|减少|增加|提高|削减|降低|上升|增长)")
_DIGIT = regex.compile(r"\d")
_PERIODS_EACH = regex.compile(
    r"(?:[“\"]?十[一二三四五六七八九]五[”\"]?[、和及与]?){2,}(?:期间|时期)?[^，。；]{0,4}?分别"
)
_PERIOD_NAME = regex.compile(r"十[一二三四五六七八九]五")
CHANGE_VERB = regex.compile(r"[ \u3000]*(?:增加|增至|提高|提升|增长|减少|减至|下降|降低|调整|扩大|压减|上升)")


@functools.cache
def _trimmers() -> tuple[tuple[str, ...], tuple[regex.Pattern, ...]]:
    """Words trimmed off the end of an indicator phrase, and base-year phrases at its end."""
    comps, cues = load_comparators(), load_statements()
    words = sorted(
        {
            *comps.before,
            *cues.qualifiers,
            "分别",
            "均",
            "合计",
            "共计",
            "共",
            "累计完成",
            "完成",
            "实现",
            "持续",
            "进一步",
            "全部",
            "都",
            "在",
            "仅有",
            "只有",
            "仅为",
            "做到",
        },
        key=len,
        reverse=True,
    )
    ends = tuple(regex.compile(p.pattern + r"\s*$") for p in cues.base_year_patterns)
    return tuple(words), ends


@functools.cache
def _trail_words_by_last_char() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for word in _trimmers()[0]:
        if word:
            index.setdefault(word[-1], []).append(word)
    return {k: tuple(v) for k, v in index.items()}


def clean_phrase(text: str, s: int, e: int) -> tuple[int, int]:
    """The indicator span of ``text[s:e]``: lead words, time phrases, comparators and qualifiers
    trimmed (力争…, …同比)."""
    return _clean_indicator(text, s, e)


def _clean_indicator(text: str, s: int, e: int) -> tuple[int, int]:
    """Trim lead words, time phrases, comparators and qualifiers off an indicator span."""
    cues = load_statements()
    defined = list(cues.definition.finditer(text, s, e))
    if defined:  # 重污染天数指空气质量指数（AQI）大于200 -> 空气质量指数（AQI）
        s = defined[-1].end()
    changed = True
    while changed and s < e:
        s, lead_changed = _trim_lead(cues, text, s, e)
        e, tail_changed = _trim_tail(text, s, e)
        changed = lead_changed or tail_changed
    return s, e


def _trim_lead(cues: StatementCues, text: str, s: int, e: int) -> tuple[int, bool]:
    """One pass over the start of ``s:e``: ordinals and linking words, year phrases, blanks."""
    changed = False
    lead = ORDINAL_LEAD.match(text, s, e)
    if lead and lead.end() > s:
        s, changed = lead.end(), True
    time = load_time()
    years = _DIGIT.search(text, s, e) is not None  # each of these phrases names a year in digits
    for pat in (*time.horizon, *time.since, *cues.base_year_patterns, cues.dated_year) if years else ():
        mm = pat.match(text, s, e)
        if mm:
            s, changed = mm.end(), True
    while s < e and text[s] in " \u3000，,":
        s, changed = s + 1, True
    qualifier = next((q for q in cues.qualifiers if text.startswith(q, s) and s + len(q) < e), None)
    if qualifier:  # 力争臭氧…浓度: 力争 is kept as a qualifier, not in the indicator
        s, changed = s + len(qualifier), True
    return s, changed


def _trim_tail(text: str, s: int, e: int) -> tuple[int, bool]:
    """One pass over the end of ``s:e``: a comparator or qualifier word, 由 + year, a base-year
    phrase, trailing blanks, commas and an opening bracket."""
    comps = load_comparators()
    _, base_ends = _trimmers()
    changed = False
    # the trail words ending in the span's last character, longest first (one of each length
    # can end the span: the first that is no tail of a not-comparator word is cut)
    for word in _trail_words_by_last_char().get(text[e - 1], ()) if e > s else ():
        if text.endswith(word, s, e) and not comps.ends_word(text, e, word):
            e, changed = e - len(word), True
            break
    mm = FROM_END.search(text, s, e) if text.find("由", s, e) >= 0 or text.find("从", s, e) >= 0 else None
    if mm and mm.start() > s:  # 污水处理率由2015年的 -> 污水处理率
        e, changed = mm.start(), True
    for pat in base_ends if _DIGIT.search(text, s, e) else ():  # base years are digits
        mm = pat.search(text[s:e])
        if mm:
            e, changed = s + mm.start(), True
    while e > s and text[e - 1] in " \u3000，,（(":
        e, changed = e - 1, True
    return e, changed


def indicator_phrases(ctx: DocContext, m: Mention, seg_start: int) -> list[tuple[str, int, int]]:
    """The indicator phrase(s) of a quantity: the counted noun after a count (7 条黑臭水体), the
    bounded subject after a condition (3吨以下燃油叉车), else the words before the comparator."""
    text = ctx.norm.text
    following = following_noun(text, m)
    if following:
        return [following]
    s, e = _clean_indicator(text, seg_start, m.q.start)
    if CHANGE_TO.fullmatch(text, s, e):  # 由2015年的80.5%提高到95.2%: the subject before 由
        full = segment_start(text, m.sent_start, m.q.start)
        cut = max(text.rfind("由", full, s), text.rfind("从", full, s))
        if cut > full:
            s, e = _clean_indicator(text, full, cut)
    if text[s:e] in load_indicators().heads:  # PM2.5实现连续五年稳定达标，年均浓度29: PM2.5年均浓度
        subject = _head_subject(text, m.sent_start, s)
        if subject:
            return [(subject + text[s:e], s, e)]
    verb = _CHANGE_ONLY.fullmatch(text[s:e])
    if e - s < 2 or verb or text[s:e] in ("目标", "目标值", "指标", "要求", "任务"):
        earlier = _earlier_subject(text, m, seg_start, verb.group(1) if verb else "")
        if earlier:
            return [earlier]
    s, e = _chop_verbs(text, s, e)
    cut = text.rfind("的", s, e)
    if cut >= 0 and e - cut - 1 >= 4:
        s = cut + 1
    subjects = _shared_subjects(text, s, e) or _counted_subjects(text, m, s, e) or _coordinated(text, s, e)
    return subjects or [(text[s:e], s, e)]


COORDINATED_HEAD = regex.compile(r"(?:率|量|度|比例|比重|比率|浓度|总量|指数|面积|天数|强度|能耗)$")


def _coordinated(text: str, s: int, e: int) -> list[tuple[str, int, int]]:
    """A率和B率达到100%: two coordinated indicators, each naming its own measure (…率, …量,
    浓度…), share the number: one target each. A list that shares one head (公交、出租车中新能源
    车辆比例) is one indicator, and 及以上 / 及以下 join no items."""
    phrase = text[s:e]
    if e - s > 40 or phrase.count("和") + phrase.count("与") != 1 or "、" in phrase:
        return []
    if _BOUND_WORD.search(phrase):
        return []
    cut = s + max(phrase.find("和"), phrase.find("与"))
    subjects = [(text[s:cut], s, cut), (text[cut + 1 : e], cut + 1, e)]
    if not all(len(p) >= 4 and COORDINATED_HEAD.search(p) for p, _, _ in subjects):
        return []
    if any(_PUNCT.search(p) for p, _, _ in subjects):
        return []
    return subjects


def _counted_subjects(text: str, m: Mention, s: int, e: int) -> list[tuple[str, int, int]]:
    """3个国控断面和8个省控断面水质达标率均为100%: the subjects carry counts of their own, which
    cut the phrase short; the 均 value applies to each counted subject."""
    full = segment_start(text, m.sent_start, m.q.start)
    if full >= s or not COUNT_LEAD.match(text, full):
        return []
    return [(COUNT_LEAD.sub("", p, count=1), x, y) for p, x, y in _shared_subjects(text, full, e)]


def _earlier_subject(text: str, m: Mention, seg_start: int, verb: str) -> tuple[str, int, int] | None:
    """A bare verb or 目标 before the number: the subject of the sentence's previous segment,
    with the verb (重污染天数降至12天，较2015年减少46天 -> 重污染天数减少)."""
    prev_end = seg_start - 1
    if prev_end <= m.sent_start:
        return None
    ps = segment_start(text, m.sent_start, prev_end)
    earlier = find_quantities(text[ps:prev_end])
    s2, e2 = _clean_indicator(text, ps, ps + earlier[0].start if earlier else prev_end)
    # the earlier segment states the change itself (碳排放强度持续下降，较2020年累计下降15%; 比2019年
    # 下降约1.0%，比2015年下降18.8%): its verb and base year go, the number's own verb is kept
    while verb and (ending := ENDING_CHANGE.search(text, s2, e2)) and ending.start() - s2 >= 2:
        s2, e2 = _clean_indicator(text, s2, ending.start())
    if e2 - s2 < 2:
        return None
    return text[s2:e2] + verb, s2, e2


@functools.cache
def _subjects() -> regex.Pattern:
    """The subjects indicators are named by: each term that ends with a head noun (年均浓度, 排放总量,
    利用率…), without it (PM2.5年均浓度 -> PM2.5, 化学需氧量排放总量 -> 化学需氧量)."""
    lex = load_indicators()
    heads = sorted(lex.heads, key=len, reverse=True)
    found = set()
    for ind in lex.indicators.values():
        for term in (ind.name_zh, *ind.terms):
            head = next((h for h in heads if term.endswith(h) and len(term) > len(h) + 1), None)
            if head:
                found.add(term[: -len(head)])
    return regex.compile("|".join(regex.escape(x) for x in sorted(found, key=len, reverse=True)))


def _head_subject(text: str, sent_start: int, end: int) -> str | None:
    """A head noun alone before a number names the measure of the subject the sentence named last:
    the last subject of an indicator term in the sentence before ``end`` (traditional forms read
    as simplified; a subject inside brackets is an abbreviation of the one before it)."""
    window = to_simplified(text[sent_start:end])
    hits = [h for h in _subjects().finditer(window) if not _OPEN_PAREN.search(window[: h.start()])]
    return hits[-1].group(0) if hits else None


def following_noun(text: str, m: Mention) -> tuple[str, int, int] | None:
    """The noun a count counts or a condition bounds, written after it (88项重点任务)."""
    q = m.q
    start = q.end
    cond = _BOUND_AFTER.match(text[start : m.sent_end])
    if q.dimension != "count" and (not cond or q.dimension in ("ratio", "number")):
        return None
    start += cond.end() if cond else 0
    if CHANGE_VERB.match(text, start):  # 由161项增加至183项: no noun follows
        return None
    stop = FOLLOWING_STOP.search(text, start, m.sent_end)
    end = stop.start() if stop else m.sent_end
    end = min(end, start + 24)
    if end - start < 2 or not _NOUN_START.match(text[start]):
        return None
    return text[start:end], start, end


def _chop_verbs(text: str, s: int, e: int) -> tuple[int, int]:
    """Drop a leading clause before the last verb of a long phrase (推进3吨以下 -> '')."""
    phrase = text[s:e]
    m = _DOING_VERB.search(
        phrase,
    )
    if m and len(phrase) > 14:
        return s + m.end(), e
    return s, e


def _shared_subjects(text: str, s: int, e: int) -> list[tuple[str, int, int]]:
    """'A和B均…': one indicator per subject (the phrase ends with 均 in the source)."""
    if not text.startswith("均", e) and not _EACH.match(text[e : e + 3]):
        return []
    return _split_subjects(text, s, e)


def split_subjects(text: str, s: int, e: int) -> list[tuple[str, int, int]]:
    """A subject list (A、B和C浓度) as one phrase per subject, the shared head given to each; []
    when ``text[s:e]`` is one subject."""
    return _split_subjects(text, s, e)


def _split_subjects(text: str, s: int, e: int) -> list[tuple[str, int, int]]:
    """Split a subject list on 、/和/及/与 outside parentheses; share a trailing head noun and a
    leading modifier. With 、 in the list, 和/及/与 join items only after the last 、 (A、B和C):
    before it they join words of one item (新增和更新公交车、出租车)."""
    items, depth, start = [], 0, s
    last_comma = text.rfind("、", s, e)
    i = s
    while i < e:
        ch = text[i]
        depth += (ch in "（(" and 1) or 0
        depth -= (ch in "）)" and 1) or 0
        sep = SPLIT_ITEMS.match(text, i, e) if depth == 0 else None
        if sep and sep.group() != "、" and i < last_comma:
            sep = None
        if sep:
            items.append((start, i))
            start = i = sep.end()
            continue
        i += 1
    items.append((start, e))
    items = [(a, b) for a, b in items if b > a]
    if len(items) < 2:
        return []
    return _share_lead(text, _share_head(text, items))


def _share_lead(text: str, subjects: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """新增和更新公交车、出租车: a modifier before the first item's noun belongs to every item (the
    nouns are parallel: the first ends like the others, and is longer by the modifier)."""
    _first, a, b = subjects[0]
    others = [text[x:y] for _, x, y in subjects[1:]]
    n = len(others[0])
    if not all(len(o) == n for o in others) or b - a <= n + 1 or text[b - 1] != others[0][-1:]:
        return subjects
    lead = text[a : b - n]
    if not _AND.search(lead):
        return subjects
    return [subjects[0]] + [(lead + p, x, y) for p, x, y in subjects[1:]]


def _share_head(text: str, items: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    """Give every item the head noun the last item ends with (after 的, or a known head)."""
    heads = load_indicators().heads
    a, b = items[-1]
    last = text[a:b]
    head = ""
    if "的" in last:
        cut = last.rindex("的")
        head, items[-1] = last[cut + 1 :], (a, a + cut)
    elif _SHARE_WITHIN.search(last):  # 出租车中新能源车比例
        cut = last.rindex("中", 0, len(last) - 2)
        head, items[-1] = last[cut:], (a, a + cut)
    else:
        for h in sorted(heads, key=len, reverse=True):
            if last.endswith(h) and not any(text[x:y].endswith(h) for x, y in items[:-1]):
                head, items[-1] = h, (a, b - len(h))
                break
    return [(text[x:y] + head, x, y) for x, y in items]


def distributed_subjects(ctx: DocContext, group: list[Mention], seg_start: int) -> list[tuple[str, int, int]]:
    """For a 分别 list, the subjects in order (from this segment or the sentence's earlier list)."""
    text = ctx.norm.text
    first = group[0]
    if len(group) < 2:
        return []
    before = text[first.sent_start : first.q.start]
    if "分别" not in before:
        return []
    cut = first.sent_start + before.rindex("分别")
    verb = change_verb(text[cut + 2 : first.q.start])
    starts = [seg_start]
    s = seg_start
    while s > first.sent_start:  # walk back over earlier segments of the sentence
        s = segment_start(text, first.sent_start, s - 1)
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
    return start + pos if pos >= 0 else segment_start(text, start, limit) - 1


def change_verb(text: str) -> str:
    """The first verb of change in ``text`` (下降, 提高, …), or ""."""
    m = _CHANGE_VERB.search(text)
    return m.group(1) if m else ""


def repeated_subjects(
    ctx: DocContext, m: Mention, seg_start: int, earlier: tuple[int, list[tuple[str, int, int]], str] | None
) -> list[tuple[str, int, int]]:
    """A single value after a second 分别 of the sentence applies to each subject of the sentence's
    earlier 分别 list: A和B分别控制在x、y，分别比2010年下降8% -> A下降 8%, B下降 8%. ``earlier`` is
    (sentence start, its subjects, the verb they were given)."""
    text = ctx.norm.text
    if earlier is None or earlier[0] != m.sent_start or "分别" not in text[seg_start : m.q.start]:
        return []
    if _DIGIT.search(text[m.q.end : m.sent_end]):
        return []  # 分别下降5.6%、下降8.8%…: a list of its own, item by item
    cut = seg_start + text[seg_start : m.q.start].rindex("分别")
    verb = change_verb(text[cut + 2 : m.q.start])
    _, subjects, old_verb = earlier
    bare = [
        (p[: len(p) - len(old_verb)] if old_verb and p.endswith(old_verb) else p, a, b)
        for p, a, b in subjects
    ]
    return [(p + verb, a, b) for p, a, b in bare]


def period_list(text: str, m: Mention) -> list[str]:
    """The plan periods a single value is given for: “十四五”、“十五五”期间分别新增… (one each)."""
    hits = list(
        _PERIODS_EACH.finditer(
            text[m.sent_start : m.q.start],
        )
    )
    if not hits:
        return []
    hit = hits[-1]
    return _PERIOD_NAME.findall(hit.group(0))
