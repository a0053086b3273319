"""Golden cases for extract_targets (tests/cases/targets.json) on sentences, plus tables and ids."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from extractor.normalize import normalize
from extractor.statements.assemble import extract_targets
from extractor.statements.indicators import find_mentions, indicator_for, ruler_patterns
from extractor.structure import parse_structure

CASES = Path(__file__).parent / "cases"
TARGET_CASES = json.loads((CASES / "targets.json").read_text(encoding="utf-8"))
ERROR_INPUTS = json.loads((CASES / "errors.json").read_text(encoding="utf-8"))


def targets_of(text: str, plan_year: int | None = 2024, plan_year_end: int | None = None):
    norm = normalize(text)
    structure = parse_structure("doc", text, norm)
    return extract_targets(
        "doc", text, norm, structure, plan_year=plan_year, plan_year_end=plan_year_end, genre=None
    )


# Every expected record states all of these; ``indicator`` (the phrase as written) and
# ``qualifiers`` are checked too where a case states them. ``res`` holds the correct values (per
# ../shared/gold/SCHEMA.md). A case whose correct values the extractor does not give yet carries
# ``"xfail": "<why>"`` (strict: fixing it fails the test until the mark is removed) and
# ``"today"``: per record, the fields the extractor gets wrong and what it gives instead, so that
# the rest of the case still guards against regressions (test_golden_targets_as_today).
GOLDEN_FIELDS = (
    "indicator_id",
    "value",
    "value_max",
    "unit",
    "comparator",
    "kind",
    "year",
    "base_year",
    "campaign",
)


def _golden_param(case):
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if "xfail" in case else []
    return pytest.param(case, id=case["req"][:20], marks=marks)


def test_golden_cases_state_every_field():
    for case in TARGET_CASES:
        for record in case["res"]:
            missing = [k for k in GOLDEN_FIELDS if k not in record]
            assert not missing, f"{case['req'][:30]}: expected record {record} lacks {missing}"


@pytest.mark.parametrize("case", [_golden_param(c) for c in TARGET_CASES])
def test_golden_targets(case):
    got = targets_of(case["req"], case["plan_year"], case["plan_year_end"])
    assert len(got) == len(case["res"]), [t.surface for t in got]
    for target, expected in zip(got, case["res"]):
        assert {k: getattr(target, k) for k in expected} == expected


XFAIL_CASES = [c for c in TARGET_CASES if "xfail" in c]


@pytest.mark.parametrize("case", XFAIL_CASES, ids=[c["req"][:20] for c in XFAIL_CASES])
def test_golden_targets_as_today(case):
    """An xfailed case gives its correct values except the known-wrong fields in ``today``."""
    assert len(case["today"]) == len(case["res"]) and any(case["today"])
    got = targets_of(case["req"], case["plan_year"], case["plan_year_end"])
    assert len(got) == len(case["res"]), [t.surface for t in got]
    for target, expected, wrong in zip(got, case["res"], case["today"]):
        assert set(wrong) <= set(expected)
        assert {k: getattr(target, k) for k in expected} == {**expected, **wrong}


@pytest.mark.parametrize("text", ERROR_INPUTS, ids=[repr(t)[:20] for t in ERROR_INPUTS])
def test_bad_input_does_not_crash(text):
    for t in targets_of(text):
        assert text[t.start : t.end] == t.surface


@pytest.mark.parametrize(
    "text",
    [
        "序号\t指标\t2025年目标\n1\tPM2.5年均浓度（微克/立方米）\t" + "9" * 400 + "\n",
        "项目名称\t投资（万元）\n污水处理厂\t" + "9" * 400 + "\n",
        "投资达到" + "9" * 400 + "万亿元，增长" + "9" * 400 + "%。",
    ],
    ids=["table-cell", "header-unit-cell", "prose"],
)
def test_no_value_is_infinite(text):
    for t in targets_of(text):
        assert all(v is None or math.isfinite(v) for v in (t.value, t.value_max, t.value_canonical))
        json.dumps(t.to_json() if hasattr(t, "to_json") else vars(t), allow_nan=False, default=str)


def test_surface_and_unit_are_verbatim_source_text():
    text = "累計发放宣传材料 10 萬余份，降塵量降至每月5.2噸/平方公里。"
    got = targets_of(text)
    assert [t.surface for t in got] == ["10 萬余份", "每月5.2噸/平方公里"]
    # the unit is the source's, with the period of its 每月 joined as the other dustfall figures
    # write it (吨/平方公里·月): 吨/平方公里 alone would read as an area density
    assert [t.unit for t in got] == ["萬份", "噸/平方公里·月"]
    assert got[1].canonical_unit == "t/(km²·month)"


def test_shared_subjects_give_one_target_each_with_suffixed_ids():
    got = targets_of("受污染耕地安全利用率和污染地块安全利用率均达到95%以上。", 2021, 2025)
    assert [t.id for t in got] == [f"doc:t{got[0].start}-1", f"doc:t{got[0].start}-2"]
    assert [t.indicator for t in got] == ["受污染耕地安全利用率", "污染地块安全利用率"]


def test_actual_beside_target_is_not_confused():
    text = "2023年，全区PM2.5年均浓度29微克/立方米。\n主要目标：PM2.5年均浓度不高于28微克/立方米。"
    actual, target = targets_of(text)
    assert (actual.value, actual.kind, actual.year) == (29, "actual", 2023)
    assert (target.value, target.kind, target.year, target.comparator) == (28, "target", 2024, "<=")


TABLE = (
    "表 2 规划指标\n"
    "序号\t指标类别\t指标名称\t2020年现状值\t2025年规划值\t指标属性\n"
    "1\t环境质量\t细颗粒物年均浓度（微克/立方米）\t36\t达到市级要求\t约束性\n"
    "2\t\t受污染耕地安全利用率（%）\t>90\t>95\t约束性\n"
    "3\t污染排放\t氮氧化物重点工程减排量（噸）\t/\t≥1730\t预期性\n"
)


def test_table_cells_take_unit_year_kind_and_attribute_from_headers():
    got = targets_of(TABLE, 2021, 2025)
    rows = [(t.value, t.unit, t.comparator, t.kind, t.year, t.attribute, t.indicator_id) for t in got]
    goals = [
        (t.value_text, t.kind, t.year, t.indicator_id, TABLE[t.start : t.end]) for t in got if t.value is None
    ]
    assert goals == [("达到市级要求", "target", 2025, "pm25_annual_mean", "达到市级要求")]  # a goal in words
    rows = [r for r in rows if r[0] is not None]
    assert rows == [
        (36, "微克/立方米", "=", "actual", 2020, "约束性", "pm25_annual_mean"),
        (90, "%", ">", "actual", 2020, "约束性", "contaminated_farmland_safe_use"),
        (95, "%", ">", "target", 2025, "约束性", "contaminated_farmland_safe_use"),
        (1730, "噸", ">=", "target", 2025, "预期性", "nox_reduction"),
    ]
    assert all(TABLE[t.start : t.end] == t.surface for t in got)


def test_review_section_reports_actuals_of_the_previous_period():
    text = "一、“十三五”生态环境保护取得积极成效\n全区污水处理率达到 98%。\n二、主要目标\n全区污水处理率达到 99.7%。\n"
    got = targets_of(text, 2021, 2025)
    assert [(t.value, t.kind, t.year) for t in got] == [(98, "actual", 2020), (99.7, "target", 2025)]


def test_span_ruler_finds_indicators():
    assert {"label", "pattern", "id"} <= set(ruler_patterns()[0])
    assert indicator_for("可吸入颗粒物（PM10）年均浓度").id == "pm10_annual_mean"
    assert indicator_for("優良天數比率（扣除沙塵）").id == "good_air_days_ratio"
    assert indicator_for("第三产业比重").id == "tertiary_industry_share"
    assert find_mentions("没有指标的一句话") == []


def test_table_with_a_unit_column_and_bare_year_headers():
    text = (
        "指标\t单位\t2020年\t2025年\t属性\n"
        "PM2.5年均浓度\t微克/立方米\t38\t35左右\t约束性\n"
        "森林覆盖率\t%\t44.6\t≥45\t预期性\n"
    )
    got = targets_of(text, 2021, 2025)
    rows = [(t.value, t.unit, t.comparator, t.kind, t.year, t.indicator_id) for t in got]
    assert rows == [
        (38, "微克/立方米", "=", "actual", 2020, "pm25_annual_mean"),
        (35, "微克/立方米", "~", "target", 2025, "pm25_annual_mean"),
        (44.6, "%", "=", "actual", 2020, "forest_coverage"),
        (45, "%", ">=", "target", 2025, "forest_coverage"),
    ]


def test_a_report_states_results_unless_it_looks_ahead():
    """工作总结/公报: unmarked numbers are actuals of the year reported on; goals stay targets."""
    text = (
        "一、环境空气质量\n全县优良天数比率为85.2%，PM2.5年均浓度为26微克/立方米，同比下降7.1%。\n"
        "二、下一步工作\n力争PM2.5年均浓度控制在25微克/立方米以内。\n"
    )
    norm = normalize(text)
    structure = parse_structure("doc", text, norm)
    got = extract_targets("doc", text, norm, structure, plan_year=2024, plan_year_end=None, genre="公报")
    assert [(t.value, t.kind, t.year) for t in got] == [
        (85.2, "actual", 2023),
        (26, "actual", 2023),
        (7.1, "actual", 2023),
        (25, "target", 2024),
    ]
    as_plan = extract_targets(
        "doc", text, norm, structure, plan_year=2024, plan_year_end=None, genre="行动计划"
    )
    assert [t.kind for t in as_plan][:2] == ["target", "target"]


def test_qualitative_goals_are_targets_without_a_value():
    text = (
        "二、主要目标\n"
        "空气质量全面改善。细颗粒物（PM2.5）年均浓度达到市级考核要求，优良天数比例稳步提升，基本消除重污染天气。\n"
        "三、主要措施\n"
        "优良天数比例稳步提升。\n"
    )
    got = [t for t in targets_of(text, 2021, 2025) if t.value is None]
    assert [(t.indicator_id, t.value_text, t.kind, t.year) for t in got] == [
        ("pm25_annual_mean", "达到市级考核要求", "target", 2025),
        ("good_air_days_ratio", "稳步提升", "target", 2025),
        ("heavy_pollution_days", "基本消除", "target", 2025),
    ]  # 空气质量 names a domain, not PM2.5; the measures section states no goal: its 稳步提升 is none
    assert all(text[t.start : t.end] == t.surface == t.value_text for t in got)
    assert all(t.dimension == "" and t.value_canonical is None for t in got)


def test_the_unit_picks_the_indicator_of_a_family():
    assert indicator_for("化学需氧量排放总量下降", "ratio").id == "cod_reduction_rate"
    assert indicator_for("化学需氧量排放总量", "mass").id == "cod_emissions"
    assert indicator_for("氮氧化物（NOx）减排", "mass").id == "nox_reduction"
    assert indicator_for("氮氧化物（NOx）减排", "ratio").id == "nox_reduction_rate"
    assert indicator_for("细颗粒物浓度下降", "ratio").id == "pm25_reduction"
    assert indicator_for("森林覆盖率", "mass") is None  # no member of its unit: no id
    assert indicator_for("单位GDP能耗", "energy_intensity").id == "energy_intensity"  # 0.66吨标准煤/万元
    assert indicator_for("单位GDP能耗", "ratio").id == "energy_intensity_reduction"  # 下降13.5%
    assert indicator_for("医疗废水排放达标率", "ratio").id == "medical_wastewater_compliance"
    assert indicator_for("医疗废水排放达标率", "ratio").id != indicator_for("工业废水排放达标率", "ratio").id
    assert indicator_for("劣 V 類水體下降比例", "ratio").id == "inferior_v_ratio"


def test_head_noun_alone_takes_the_sentence_subject_and_list_suffix_reaches_each_item():
    text = (
        "其中，PM2.5实现连续五年稳定达标，年均浓度29微克/立方米。"
        "累计完成挥发性有机物（VOCs）220吨、氮氧化物（NOx）320吨减排目标要求。"
    )
    got = targets_of(text, 2024, None)
    assert [(t.value, t.indicator_id) for t in got] == [
        (29, "pm25_annual_mean"),
        (220, "vocs_reduction"),
        (320, "nox_reduction"),
    ]
