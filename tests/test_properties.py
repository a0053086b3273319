"""Property tests of the quantity grammar (hypothesis, bounded: a few seconds in all).

* offsets are verbatim: ``text[q.start:q.end] == q.surface`` for every quantity;
* values are finite (never inf or nan, so never ``Infinity`` in JSON);
* inputs that were quadratic before issue 12 (long digit runs, long Chinese numerals, lines of
  thousands of quantities) give the right answer; their time per character is measured in
  bench/, not here (no timed tests).
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor.lexicon.cues import load_units
from extractor.quantities import find_quantities

UNITS = sorted(load_units().forms)
PIECES = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.text(alphabet="0123456789", min_size=1, max_size=400),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=10**5).map(str),
    st.sampled_from(UNITS),
    st.sampled_from(list("，。；、：（）“”《》%％-～至到约近每≤≥ \u3000\n")),
    st.sampled_from(
        ["万", "亿", "百分之", "左右", "以上", "达到", "控制在", "为期", "分别为", "和", "十", "三", "五千"]
    ),
    st.text(min_size=1, max_size=5),
)
TEXT = st.lists(PIECES, max_size=40).map("".join)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(TEXT)
def test_quantities_verbatim_and_finite(text):
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.surface
        assert math.isfinite(q.value)
        assert q.value_max is None or math.isfinite(q.value_max)


def test_long_digit_runs_are_no_number():
    text = "1" * 10_000 + "吨，" + "9" * 400 + "%"
    assert find_quantities(text) == []


def test_every_quantity_of_a_long_line_is_found():
    found = find_quantities("5吨、" * 3000)
    assert len(found) == 3000
    assert [q.start for q in found] == list(range(0, 9000, 3))


# ------------------------------------------------------------- whole documents (issue 12, item 7)
#
# Generated policy-like documents: headings (第一章, 一、, （一）), 一是/二是 items, 一方面/另一方面,
# numbered paragraphs, quantities with comparators and years, written with the forms normalize
# folds (traditional characters, full-width digits, ideographic spaces, PM_{2.5}) and the lines it
# drops (page numbers, blank lines that split a paragraph). Every record of the extraction must
# point verbatim into the document text and lie inside its clause.

HEADINGS = st.sampled_from(
    [
        "第一章 总体要求",
        "第二章　主要任务",
        "一、打好蓝天保卫战",
        "二、碧水保衛戰",
        "（一）强化扬尘管控",
        "（二）深化工業污染治理",
        "1.推进移动源治理",
        "主要目标：",
        "水污染防治方面：",
    ]
)
INDICATORS = st.sampled_from(
    [
        "PM2.5年均浓度",
        "PM_{2.5}年均濃度",
        "ＰＭ２．５浓度",
        "降尘量",
        "优良天数比例",
        "重污染天数",
        "地表水优良水体比例",
        "化学需氧量排放量",
        "单位地区生产总值二氧化碳排放",
        "挥发性有机物",
        "万元GDP能耗",
    ]
)
VALUES = st.one_of(
    st.integers(min_value=0, max_value=5000).map(str),
    st.decimals(min_value=0, max_value=500, places=1, allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["３５", "五", "二十", "1,200", "30-35", "百分之五"]),
)
UNIT_WORDS = st.sampled_from(["微克/立方米", "吨/平方公里·月", "%", "天", "万吨", "吨", "个", "家", "公里"])
VERBS = st.sampled_from(["控制在", "降至", "下降", "达到", "不高于", "较2020年下降", "累计完成", "为", ""])
TAILS = st.sampled_from(
    ["", "以内", "以上", "左右", "（区生态环境局牵头）", "（牵头单位：区生态环境局）", "，2024年6月底前完成"]
)
YEARS = st.sampled_from(["", "到2025年，", "2023年，", "“十四五”期间，", "力争", "全年"])


@st.composite
def statements(draw) -> str:
    value = draw(VALUES)
    return f"{draw(YEARS)}{draw(INDICATORS)}{draw(VERBS)}{value}{draw(UNIT_WORDS)}{draw(TAILS)}"


@st.composite
def paragraphs(draw) -> str:
    shape = draw(st.sampled_from(["plain", "shi", "fangmian", "list", "goal"]))
    said = [draw(statements()) for _ in range(draw(st.integers(1, 3)))]
    if shape == "shi":
        numerals = "一二三四五"
        return "".join(f"{numerals[i]}是{s}。" for i, s in enumerate(said))
    if shape == "fangmian":
        return f"一是加强监管。一方面，{said[0]}；另一方面，{said[-1]}。"
    if shape == "list":
        return "、".join(f"{draw(INDICATORS)}{draw(VALUES)}{draw(UNIT_WORDS)}" for _ in range(3)) + "。"
    if shape == "goal":
        return f"到2025年，{draw(INDICATORS)}稳步提升，{said[0]}。"
    return "，".join(said) + "。"


@st.composite
def documents(draw) -> str:
    lines = ["关于印发《某区2024年生态环境保护工作计划》的通知"]
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            lines.append(draw(HEADINGS))
        for _ in range(draw(st.integers(1, 2))):
            indent = draw(st.sampled_from(["", "\u3000\u3000", "  "]))
            lines.append(indent + draw(paragraphs()))
            lines.append(draw(st.sampled_from(["", "", "- 3 -", "\n"])))
    return "\n".join(lines)


def extract_text(text: str):
    from extractor.normalize import normalize
    from extractor.statements.assemble import extract_targets
    from extractor.statements.duties import extract_duties
    from extractor.structure import parse_structure

    norm = normalize(text)
    structure = parse_structure("doc", text, norm, title="某区2024年生态环境保护工作计划")
    targets = extract_targets(
        "doc", text, norm, structure, plan_year=2024, plan_year_end=None, genre="工作计划"
    )
    duties, deadlines = extract_duties("doc", text, structure.clauses, plan_year=2024)
    return norm, structure, targets, duties, deadlines


DOC_SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@DOC_SETTINGS
@given(documents())
def test_every_record_lies_verbatim_inside_its_clause(text):
    norm, structure, targets, duties, deadlines = extract_text(text)
    clauses = {c.id: c for c in structure.clauses}
    for c in structure.clauses:
        assert 0 <= c.start < c.end <= len(text)
        assert c.text == text[c.start : c.end]
    for s in structure.sections:
        assert 0 <= s.start <= s.end <= len(text)
    for t in targets:
        assert t.surface == text[t.start : t.end]
        assert t.value is None or math.isfinite(t.value)
        assert t.clause_id in clauses, (t.surface, t.clause_id)
        c = clauses[t.clause_id]
        assert c.start <= t.start < t.end <= c.end, (t.surface, c.text)
        assert text[c.start : c.end] == c.text
    for r in [*duties, *deadlines]:
        c = clauses[r.clause_id]
        assert c.start <= r.start < r.end <= c.end
    for q in find_quantities(norm.text):
        s, e = norm.span_to_source(q.start, q.end)
        assert 0 <= s < e <= len(text)
        # the source span holds the quantity: it folds to the analysis surface (dropped characters
        # such as the braces of PM_{2.5} or a rejoined page break aside)
        assert normalize_text(text[s:e]).replace("\n", "") == q.surface.replace("\n", "")


def normalize_text(text: str) -> str:
    from extractor.normalize import normalize

    return normalize(text).text


def test_a_number_before_a_duty_bracket_has_a_clause():
    """Found by the property above: a short line whose only colon was inside a duty bracket read
    as an inline lead (主要目标：…), so the number fell in the lead's title and in no clause."""
    text = "关于印发《某区2024年生态环境保护工作计划》的通知\nPM2.5年均浓度控制在30%（牵头单位：区生态环境局）。\n"
    _, _, targets, _, _ = extract_text(text)
    assert targets and all(t.clause_id is not None for t in targets)


def test_a_lead_title_may_hold_a_closed_bracket():
    from extractor.structure.lines import classify_line

    line = classify_line("细颗粒物（PM2.5）：年均浓度控制在30微克/立方米。")
    assert (line.kind, line.title) == ("lead", "细颗粒物（PM2.5）")
    assert classify_line("年均浓度控制在30%（牵头单位：区生态环境局）。").kind == "paragraph"
