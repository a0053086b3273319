"""Find quantities (number + unit) in any string: ``find_quantities(text) -> list[Quantity]``.

The grammar is built once from named pieces (Recognizers-Text style) and compiled with the
``regex`` module; units, magnitude words and approximation words come from ``data/units.yml``.

What is a quantity here:

* an Arabic number (decimals, thousands separators, full-width digits, digits of any script by
  their Unicode digit value; a minus sign 负3.9%, -3.9%, －3.9%) or a range (5-10, 5至10, 5～10)
  with a unit of measure, optionally a magnitude word (4 万户) and approximation words (近 20 次,
  多/余 after the number or the magnitude: 160多亿元, 14万余辆, 3.6亿多只; 15%左右), a comparison
  symbol (≤55), a per-period prefix (每月5.2吨/平方公里) or a half (一吨半, 一成半 = 1.5);
* every value is finite: a run of hundreds of digits is no number;
* a Chinese numeral only where it states a measure: with a unit that is not a count or rank
  classifier (两千吨, 三个百分点), in 百分之X form, or counting a hundred or more (五百家, 二十三万辆).
  六个方面, 五项措施, 第三名, 连续五年 are counts
  or ordinals the plans use as words, not as statistics; a bare magnitude word without a digit
  (百万亩造林, 万人千吨) names a programme;
* bare numbers in a list that shares the unit of its last member (分别为52、3和17微克/立方米);
* a bare number (unit "") only where it is stated as a value: after 为/达到/范围/≤… and before
  punctuation (劣Ⅴ类水体比例为0；, 数值范围0-100).

Never a quantity: years and dates, document numbers (〔2024〕4号), list numbers, ordinals
(第73次会议; but 第4名 is a rank), numbers glued to Latin letters (PM2.5, SO2, NH3-N, DB11),
names in quotation marks or book-title marks (“一微克”行动, 《…100项…》).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import unicodedata
from dataclasses import dataclass

import regex

from extractor.lexicon.cues import UnitLexicon, load_comparators, load_units, to_simplified
from extractor.model import Quantity

# Every piece below runs in time linear in the text (tests/test_properties.py counts the work):
# spaces are read possessively (no unit starts with a space, so giving one back never helps), a
# digit run is read once from its first digit (a number starting inside a run of digits is a code
# and refused anyway), a Chinese numeral likewise from its first character and at most
# MAX_NUMERAL characters long, thousands groups at most MAX_GROUPS, and a number of more than
# MAX_DIGITS digits is no number (parse_arabic).
SPACE = r"[ \u3000]*+"
SLOGAN_COUNT = regex.compile(r"[一二两三四五六七八九十]个$")
MAX_DIGITS = 30
MAX_GROUPS = 10
MAX_NUMERAL = 30
# The plain number (list members, percent form): matched where it is anchored by what precedes it.
ARABIC = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.．]\d+)?"
# The number where a match may start: \G is where this search started (the end of the previous
# match); elsewhere a digit run is entered only at its first digit (or at the last three digits
# before a comma, 1234,567, where a thousands group may begin), and a group not right after a
# complete thousands group (the 567 of 1,234,567 is read with the 1,234 before it).
ARABIC_START = (
    rf"(?:(?:\G|(?<!\d{{3}},)(?:(?<!\d)|(?=\d{{3}},)))\d{{1,3}}(?:,\d{{3}}){{1,{MAX_GROUPS}}}"
    r"|(?:\G|(?<!\d))\d++)(?:[.．]\d++)?"
)
_CN_FIRST = "一二两三四五六七八九十零〇壹贰叁肆伍陆柒捌玖拾兩貳陸"
_CN_NEXT = "零〇一二两三四五六七八九十百千万亿点兩萬億"
_CN_BOTH = "".join(c for c in _CN_FIRST if c in _CN_NEXT)
CHINESE = rf"[{_CN_FIRST}][{_CN_NEXT}]{{0,{MAX_NUMERAL}}}"
# A numeral is entered at its first character: a start inside it reaches fewer ends than the
# start before it, which was tried and failed.
CHINESE_START = rf"(?:\G|(?<![{_CN_BOTH}])|(?![{_CN_BOTH}])){CHINESE}"
RANGE_SEP = r"(?:——|[-－—–~～〜至到])"
# A minus sign: 负3.9%, -3.9%, －3.9%, −3.9%. A dash is a sign only where no number, letter,
# closing bracket or unit ends right before it (5-10 and 2024-03 are ranges and dates; the
# range 5吨-8吨 is told apart in find_quantities); 负 only written before a digit, not in 正负.
SIGN = r"(?:(?<!正)负|(?<![\d.．%％‰A-Za-z)）\]】〕\-－−])[-－−](?=\d))"
SYMBOLS = r"[≤≥<>＜＞≦≧]"
LIST_SEP = r"(?:、|和|及|与|以及|或|,)"
CODE_BEFORE = regex.compile(r"[A-Za-z_{}.\d]")
DOUBLING_VERB = regex.compile(r"翻[了]?[ \u3000]*$")


@dataclass(frozen=True)
class Grammar:
    """The compiled patterns and the lexicon they were built from."""

    lexicon: UnitLexicon
    united: regex.Pattern
    percent_form: regex.Pattern
    bare: regex.Pattern
    list_tail: regex.Pattern
    stating_words: tuple[str, ...]
    periods: regex.Pattern  # a contextual unit after its head: 创建期为2至3年


def _alternation(words) -> str:
    """A regex alternation, longest first; '/' and '·' match their full-width look-alikes."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        esc = regex.escape(word).replace("/", "[/／]").replace("·", "[·・•‧]")
        parts.append(esc)
    return "(?:" + "|".join(parts) + ")"


def _united_pattern(lex: UnitLexicon, forms) -> str:
    """Number (or range), magnitude, approximation words and one of ``forms``."""
    number = rf"(?:(?P<neg>{SIGN})?(?P<ar>{ARABIC_START})|(?P<cn>{CHINESE_START}))"
    number2 = rf"(?:(?P<neg2>{SIGN})?(?P<ar2>{ARABIC_START})|(?P<cn2>{CHINESE_START}))"
    # a unit that starts with a magnitude word (千克, 千瓦, 千伏安) is read whole, not as 千 x 克
    compound = [f for f in forms if any(f.startswith(m) and len(f) > len(m) for m in lex.magnitudes)]
    no_compound = rf"(?!{_alternation(compound)})" if compound else ""
    approx = _alternation(lex.approx_middle)
    return (
        rf"(?:(?P<per>{_alternation(lex.per_prefixes)}){SPACE})?"
        rf"(?:(?P<sym>{SYMBOLS}){SPACE})?"
        rf"(?:(?P<apre>{_alternation(lex.approx_before)}){SPACE})?"
        rf"{number}(?:{SPACE}(?P<sep>{RANGE_SEP}){SPACE}{number2})?{SPACE}"
        # 多/余 after the number (160多亿元, 20余场) or after the magnitude (14万余辆, 3.6亿多只)
        rf"(?:(?P<amid>{approx}){SPACE}(?P<mag>{no_compound}{_alternation(lex.magnitudes)})?"
        rf"|(?P<mag>{no_compound}{_alternation(lex.magnitudes)})?(?P<amid>{approx})?){SPACE}"
        rf"(?P<unit>{_alternation(forms)})"
        rf"(?P<half>半(?![导岛径数球山壁边程场日夜天月年小个价身拉]))?"  # 一吨半, 一成半: and a half
        rf"(?:{SPACE}(?P<apost>{_alternation(lex.approx_after)}))?"
    )


@functools.cache
def grammar() -> Grammar:
    """Build the quantity grammar from units.yml once."""
    lex = load_units()
    plain = [f for f, u in lex.forms.items() if not u.contextual and f not in ("百分之", "千分之")]
    contextual = [f for f, u in lex.forms.items() if u.contextual] or ["(?!)"]
    united = _united_pattern(lex, plain)
    heads = _alternation(lex.contextual_heads) if lex.contextual_heads else "(?!)"
    periods = rf"(?<={heads}{SPACE})" + _united_pattern(lex, contextual)
    percent = rf"(?P<unit>百分之|千分之)(?:(?P<ar>{ARABIC})|(?P<cn>{CHINESE}(?![{_CN_NEXT}])|百(?!分)))"
    bare = (
        rf"(?:(?P<sym>{SYMBOLS}){SPACE})?(?P<neg>{SIGN})?(?P<ar>{ARABIC_START})"
        rf"(?:{SPACE}(?P<sep>{RANGE_SEP}){SPACE}(?P<neg2>{SIGN})?(?P<ar2>{ARABIC_START}))?"
        rf"(?=[ \u3000]*+(?:[，。；;,、）)\t\n：:！？]|$|(?P<after>{_alternation(lex.bare_after)})))"
    )
    list_tail = rf"(?:(?<![\d.])(?:{ARABIC}){SPACE}{LIST_SEP}{SPACE})+$"
    comps = load_comparators()
    stating = tuple(sorted(set(comps.before) | set(lex.bare_heads), key=len, reverse=True))
    return Grammar(
        lexicon=lex,
        united=regex.compile(united),
        percent_form=regex.compile(percent),
        bare=regex.compile(bare),
        list_tail=regex.compile(list_tail),
        stating_words=stating,
        periods=regex.compile(periods),
    )


# ------------------------------------------------------------------------------ number values


@functools.lru_cache(maxsize=8192)
def parse_arabic(text: str) -> float | None:
    """'1,234.5' / '３０' / '2．5' / '٣٠' -> float; None for a run of more than MAX_DIGITS digits
    (no number: a value is always finite). Digits of any script are read by their Unicode digit value."""
    if len(text) > 2 * MAX_DIGITS or sum(ch not in ".．," for ch in text) > MAX_DIGITS:
        return None
    digits = []
    for ch in text:
        if ch in ".．":
            digits.append(".")
        elif ch != ",":
            d = unicodedata.digit(ch, None)
            if d is None:
                return None
            digits.append(str(d))
    try:
        value = float("".join(digits))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _finite(*values: float | None) -> bool:
    return all(v is None or math.isfinite(v) for v in values)


def _signed(m: regex.Match, value: float | None, sign_group: str) -> float | None:
    """The value with its minus sign (负3.9%, -3.9%)."""
    if value is not None and m.group(sign_group):
        return -value
    return value


@functools.lru_cache(maxsize=4096)
def parse_chinese(text: str) -> float | None:
    """Chinese numeral -> float with cn2an; None if it is not a well-formed number (cached: the
    same numerals recur and cn2an is slow)."""
    text = to_simplified(text)
    if text[:1] in ("百", "千"):  # 百分之百: a bare 百 is one hundred
        text = "一" + text
    import cn2an  # imported on first use: its import costs more than the grammar's

    try:
        value = float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, TypeError, IndexError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _split_chinese_magnitude(cn: str) -> tuple[str, str | None]:
    """五万 -> (五, 万): a trailing 万/亿 after a digit is a magnitude, like 4 万户."""
    for mag in ("万", "亿", "萬", "億"):
        if len(cn) > 1 and cn.endswith(mag) and cn[-2] not in "万亿萬億":
            return cn[:-1], mag
    return cn, None


# ----------------------------------------------------------------------------------- filters


def _before(text: str, pos: int) -> str:
    """The character before ``pos`` skipping spaces ('' at the start)."""
    i = pos - 1
    while i >= 0 and text[i] in " \u3000":
        i -= 1
    return text[i] if i >= 0 else ""


_CLOSE_QUOTE = regex.compile(r"[”’」』\"]")


def _in_name(text: str, start: int, end: int) -> bool:
    """Inside a short quoted name (“一微克”行动), a book title 《…》 or a bracket 〔2024〕."""
    if start > 0 and text[start - 1] in '“‘「『"':
        close = _CLOSE_QUOTE.search(text, end, end + 12)
        if close:
            return True
    if SLOGAN_COUNT.search(text, max(0, start - 3), start) and _CLOSE_QUOTE.search(text, end, end + 2):
        return True  # “八个100%”: a slogan counting its rules
    opened = text.rfind("《", max(0, start - 80), start)
    if opened >= 0 and "》" not in text[opened:start]:
        return True
    return start > 0 and text[start - 1] in "〔[【"


ORDINAL_LIST = regex.compile(
    r"第[ \u3000]*\d+(?:[ \u3000]*[、和及至,-][ \u3000]*\d+)*[ \u3000]*[、和及至,-][ \u3000]*$"
)


def _in_ordinal_list(text: str, num_start: int) -> bool:
    """The later members of an ordinal list: the 2 of 第1、2项."""
    return bool(ORDINAL_LIST.search(text, max(0, num_start - 24), num_start))


def _is_code(text: str, num_start: int) -> bool:
    """A number glued to a Latin letter or another number: PM2.5, SO2, DB11, NH3-N."""
    return num_start > 0 and bool(CODE_BEFORE.match(text[num_start - 1]))


def _blocked(text: str, unit_start: int, unit: str, lex: UnitLexicon) -> bool:
    """A unit that starts a longer word (3部门, 8小时滑动平均浓度) is no unit."""
    words = _blocked_index(lex).get(text[unit_start : unit_start + 1], ())
    return any(len(w) > len(unit) and text.startswith(w, unit_start) for w in words)


def _blocked_index(lex: UnitLexicon) -> dict[str, tuple[str, ...]]:
    """:func:`_blocked_by_first` of the lexicon's blocked words, found by the lexicon's identity
    (hashing the long tuple of words on every unit cost more than the lookup)."""
    found = _BLOCKED.get(id(lex))
    if found is None or found[0] is not lex:
        found = _BLOCKED[id(lex)] = (lex, _blocked_by_first(lex.blocked_words))
    return found[1]


_BLOCKED: dict[int, tuple[UnitLexicon, dict[str, tuple[str, ...]]]] = {}


@functools.cache
def _blocked_by_first(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The blocked words by their first character (looked up once per unit, not scanned)."""
    index: dict[str, list[str]] = {}
    for w in words:
        index.setdefault(w[:1], []).append(w)
    return {k: tuple(v) for k, v in index.items()}


# -------------------------------------------------------------------------------- matching


def _value(m: regex.Match, ar: str, cn: str) -> float | None:
    if m.group(ar):
        return parse_arabic(m.group(ar))
    if m.group(cn):
        return parse_chinese(m.group(cn))
    return None


def _from_united(text: str, m: regex.Match, lex: UnitLexicon) -> Quantity | None:
    """Turn a match of the united pattern into a Quantity, or None if a filter refuses it."""
    unit_written = m.group("unit")
    found = unit_lookup(lex, unit_written)
    if found is None:
        return None
    unit, _ = found
    num_start = m.start("ar") if m.group("ar") else m.start("cn")
    if m.group("neg"):
        num_start = m.start("neg")
    if (
        _is_code(text, num_start)
        or _blocked(text, m.start("unit"), unit_written, lex)
        or _in_ordinal_list(text, num_start)
    ):
        return None
    if unit.dimension == "doubling" and not DOUBLING_VERB.search(text, max(0, num_start - 4), num_start):
        return None  # 番 counts doublings only after 翻 (翻了一番); 一番努力 is no quantity
    value, mag = _united_value(text, m, unit, num_start)
    if value is None or (mag and not unit.magnitude):
        return None
    value_max = _signed(m, _value(m, "ar2", "cn2"), "neg2") if m.group("sep") else None
    if m.group("sep") and value_max is None:
        return None
    if m.group("half"):  # 一吨半 = 1.5 吨
        if value_max is not None:
            return None
        value += 0.5
    if _in_name(text, m.start(), m.end()):
        return None
    canonical, dimension, factor = unit.canonical, unit.dimension, unit.factor
    start, apre = m.start(), _approx_before(text, m)
    per_unit, per = (
        _per_unit(unit_written, lex.per_prefixes[m.group("per")], lex) if m.group("per") else (None, None)
    )
    if per_unit is not None:
        canonical, dimension, factor = per_unit.canonical, per_unit.dimension, per_unit.factor
    elif m.group("per"):  # 每年5万吨: no per-year unit of 吨, so the quantity is 5万吨
        start = m.start("sym") if m.group("sym") else m.start("apre") if apre else num_start
    if m.group("apre") and not apre:  # 节约5万吨: the 约 of 节约 is no approximation
        start = num_start
    mag_factor = lex.magnitudes.get(mag, 1.0) if mag else 1.0
    if not _finite(value * factor * mag_factor, (value_max or 0) * factor * mag_factor):
        return None
    unit_start = m.start("mag") if mag and m.group("mag") else m.start("unit")
    approx = apre or m.group("amid") or m.group("apost")
    return Quantity(
        value=value,
        value_max=value_max,
        unit=(mag or "") + unit_written,
        canonical_unit=canonical,
        dimension=dimension,
        factor=factor * mag_factor,
        surface=text[start : m.end()],
        start=start,
        end=m.end(),
        unit_start=unit_start,
        unit_end=m.end("unit"),
        approx=approx,
        comparator_hint=m.group("sym") if m.group("sym") and m.start("sym") >= start else None,
        per=per if per_unit is not None else None,
    )


def _united_value(text: str, m: regex.Match, unit, num_start: int) -> tuple[float | None, str | None]:
    """(value, magnitude word) of a united match; (None, None) for a count in Chinese numerals
    (六个方面) or an ordinal (第三项; 第4名 is a rank)."""
    mag = m.group("mag")
    if m.group("cn"):
        if _before(text, num_start) == "第":
            return None, None
        cn, cn_mag = _split_chinese_magnitude(m.group("cn"))
        value = parse_chinese(cn)
        scale = (value or 0) * (load_units().magnitudes.get(mag or cn_mag or "", 1.0))
        if unit.dimension in ("count", "rank") and scale < 100:  # 六个方面, 五项措施: not 五百家
            return None, None
        if unit.dimension == "duration" and not unit.contextual and scale < 100:
            return None, None  # 两个月前, 三天内: durations in words are no statistics
        return value, mag or cn_mag
    if _before(text, num_start) == "第" and unit.dimension != "rank":
        return None, None
    return _signed(m, parse_arabic(m.group("ar")), "neg"), mag


def _approx_before(text: str, m: regex.Match) -> str | None:
    """The approximation word before the number, unless it ends a word (节约, 附近, 最近)."""
    word = m.group("apre")
    if word and load_comparators().ends_word(text, m.end("apre"), word):
        return None
    return word


def _per_unit(unit_written: str, period: str, lex: UnitLexicon):
    """吨/平方公里 + 月 -> (the unit 吨/平方公里·月, "·月"); (None, None) if there is none."""
    base = _simplified_unit(unit_written)
    for joined in (f"·{period}", f"/{period}"):
        if base + joined in lex.forms:
            return lex.forms[base + joined], joined
    return None, None


def _from_percent(text: str, m: regex.Match, lex: UnitLexicon) -> Quantity | None:
    value = _value(m, "ar", "cn")
    if (
        value is None
        or _in_name(text, m.start(), m.end())
        or SLOGAN_COUNT.search(text, max(0, m.start() - 3), m.start())
    ):
        return None  # “六个百分之百”: a slogan counting its rules, not a value
    unit = lex.forms[m.group("unit")]
    return Quantity(
        value=value,
        value_max=None,
        unit=m.group("unit"),
        canonical_unit=unit.canonical,
        dimension=unit.dimension,
        factor=unit.factor,
        surface=m.group(0),
        start=m.start(),
        end=m.end(),
        unit_start=m.start("unit"),
        unit_end=m.end("unit"),
    )


def _inherited(text: str, q: Quantity, g: Grammar) -> list[Quantity]:
    """Bare numbers listed before ``q`` that share its unit: 52、3和17微克/立方米."""
    if q.surface[:1] in "每≤≥<>＜＞" or (q.approx and q.surface.startswith(q.approx)):
        return []
    window_start = max(0, q.start - 80)
    m = g.list_tail.search(text, window_start, q.start)
    if not m:
        return []
    out = []
    for num in _ARABIC.finditer(text[m.start() : m.end()]):
        start = m.start() + num.start()
        value = parse_arabic(num.group())
        if _is_code(text, start) or _before(text, start) == "第" or value is None:
            return []
        out.append(
            Quantity(
                value=value,
                value_max=None,
                unit=q.unit,
                canonical_unit=q.canonical_unit,
                dimension=q.dimension,
                factor=q.factor,
                surface=num.group(),
                start=start,
                end=start + len(num.group()),
                unit_start=q.unit_start,
                unit_end=q.unit_end,
            )
        )
    return out


def _bare(text: str, m: regex.Match, g: Grammar) -> Quantity | None:
    """A bare number stated as a value (比例为0；, 数值范围0-100, ≤55 in a table cell)."""
    num_start = m.start("neg") if m.group("neg") else m.start("ar")
    if _is_code(text, num_start) or _in_name(text, m.start(), m.end()):
        return None
    value = _signed(m, parse_arabic(m.group("ar")), "neg")
    if value is None:
        return None
    if value.is_integer() and 1900 <= value <= 2100 and not m.group("sym"):
        return None
    if not m.group("sym") and not _stated(text, m, g):
        return None
    value_max = _signed(m, parse_arabic(m.group("ar2")), "neg2") if m.group("sep") else None
    if m.group("sep") and value_max is None:
        return None
    return Quantity(
        value=value,
        value_max=value_max,
        unit="",
        canonical_unit="",
        dimension="number",
        factor=1.0,
        surface=m.group(0),
        start=m.start(),
        end=m.end(),
        comparator_hint=m.group("sym"),
    )


def _stated(text: str, m: regex.Match, g: Grammar) -> bool:
    """A bare number after a stating word (达到65, AQI大于200的), or a range 在0—100之间."""
    head = load_comparators().mask(text[max(0, m.start() - 4) : m.start()]).rstrip(" \u3000")
    if m.group("sep") and m.group("after") == "之间":
        return head.endswith((*g.stating_words, *g.lexicon.bare_range_heads))
    return head.endswith(g.stating_words)


_ARABIC = regex.compile(ARABIC)
_BLANKS = regex.compile(r"[ \u3000]*")
RANGE_GAP = regex.compile(r"[ \u3000]*(?:——|[-－—–~～〜至])[ \u3000]*")
FROM_BEFORE = regex.compile(r"(?:由|从)[ \u3000]*$")


def _unsigned(text: str, q: Quantity, prev: Quantity | None) -> Quantity:
    """5吨-8吨: a dash right after a quantity is a range mark, not the sign of the next one."""
    if (
        prev is None
        or q.value >= 0
        or q.surface[:1] not in "-－"
        or not _BLANKS.fullmatch(text[prev.end : q.start])
    ):
        return q
    return dataclasses.replace(q, value=-q.value, start=q.start + 1, surface=q.surface[1:])


def _ends_with(pattern: regex.Pattern, text: str, end: int, longest: int = 2) -> bool:
    """``pattern.search(text, 0, end)`` for a pattern ending in spaces and ``$``, looking back only
    over the blanks before ``end`` and ``longest`` characters (not the whole text before it)."""
    i = end
    while i > 0 and text[i - 1] in " \u3000\n":
        i -= 1
    return bool(pattern.search(text, max(0, i - longest), end))


def _merge_ranges(text: str, found: list[Quantity]) -> list[Quantity]:
    """20%-30%, 5万吨～8万吨, 20%至30%: a range written with its unit on both ends is one
    quantity (not after 由/从: 由20%至30% is a change)."""
    out: list[Quantity] = []
    for q in found:
        prev = out[-1] if out else None
        q = _unsigned(text, q, prev)
        if (
            prev is not None
            and prev.value_max is None
            and q.value_max is None
            and _simplified_unit(prev.unit) == _simplified_unit(q.unit)
            and not q.comparator_hint
            and RANGE_GAP.fullmatch(text, prev.end, q.start)
            and q.surface[:1] not in "每约近"
            and prev.approx in (None, *load_units().approx_before)
            and not _ends_with(FROM_BEFORE, text, prev.start)
        ):
            out[-1] = dataclasses.replace(
                q,
                value=prev.value,
                value_max=q.value,
                start=prev.start,
                surface=text[prev.start : q.end],
                comparator_hint=prev.comparator_hint,
                approx=prev.approx or q.approx,
            )
            continue
        out.append(q)
    return out


class _Taken:
    """The characters already covered by a quantity: a check and a mark cost the quantity's
    length, not the number of quantities found (spans are never empty)."""

    def __init__(self, n: int, found: list[Quantity] = ()):
        self.chars = bytearray(n)
        for q in found:
            self.add(q)

    def overlaps(self, q: Quantity) -> bool:
        return self.chars.find(1, q.start, q.end) >= 0

    def add(self, q: Quantity) -> None:
        self.chars[q.start : q.end] = b"\x01" * (q.end - q.start)


# Every quantity has a digit, a Chinese numeral's first character or 百分之/千分之 (the number
# of each pattern above); a text without any has none, and the patterns need not run.
_NUMBER_CHAR = regex.compile(rf"[\d{_CN_FIRST}]|[百千]分之")


def unit_lookup(lex: UnitLexicon, written: str):
    """``lex.lookup(written)``, cached (a few hundred units are written over and over)."""
    key = (id(lex), written)
    found = _UNIT_CACHE.get(key)
    if found is None:
        if len(_UNIT_CACHE) > 16384:
            _UNIT_CACHE.clear()
        found = _UNIT_CACHE[key] = (lex, lex.lookup(written))  # lex kept alive: its id stays its own
    return found[1]


_UNIT_CACHE: dict[tuple[int, str], tuple[UnitLexicon, object]] = {}


@functools.lru_cache(maxsize=4096)
def _simplified_unit(unit: str) -> str:
    return to_simplified(unit)


def find_quantities(text: str) -> list[Quantity]:
    """All quantities of ``text`` in order, offsets into ``text``. Works on raw and t2s text."""
    if not _NUMBER_CHAR.search(text):
        return []
    g = grammar()
    found: list[Quantity] = []
    for m in g.percent_form.finditer(text):
        q = _from_percent(text, m, g.lexicon)
        if q:
            found.append(q)
    taken = _Taken(len(text), found)
    heads = g.lexicon.literal_heads
    periods = heads is None or any(h in text for h in heads)  # periods follow a head (为期3年)
    for pattern in (g.united, g.periods) if periods else (g.united,):
        for m in pattern.finditer(text):
            q = _from_united(text, m, g.lexicon)
            if q and not taken.overlaps(q):
                found.append(q)
                taken.add(q)
    found = _merge_ranges(text, sorted(found, key=lambda q: q.start))
    taken = _Taken(len(text), found)
    for q in list(found):
        for inh in _inherited(text, q, g):
            if not taken.overlaps(inh):
                found.append(inh)
                taken.add(inh)
    for m in g.bare.finditer(text):
        q = _bare(text, m, g)
        if q and not taken.overlaps(q):
            found.append(q)
            taken.add(q)
    return sorted(found, key=lambda q: q.start)
