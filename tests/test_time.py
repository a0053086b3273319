"""The time of a statement: the text's present, time expressions, modality cues, and the kind,
year, base year and evidence they give a number. Sentences written for these tests (in the
patterns real plans and reports use); none is copied from a third-party text."""

from __future__ import annotations

import pytest

from extractor.errors import DataFileError
from extractor.lexicon.time import load_time
from extractor.normalize import normalize
from extractor.statements.assemble import extract_targets
from extractor.statements.dating import modality, report_subject, text_time, time_expressions
from extractor.structure import parse_structure


def targets(text: str, **kw):
    kw.setdefault("plan_year", None)
    kw.setdefault("plan_year_end", None)
    norm = normalize(text)
    return extract_targets("doc", text, norm, parse_structure("doc", text, norm), **kw)


def rows(text: str, **kw):
    return [(t.surface, t.kind, t.year, t.base_year, t.comparator) for t in targets(text, **kw)]


# ------------------------------------------------------------------------------ the present


@pytest.mark.parametrize(
    "text,kw,present,source",
    [
        ("正文。", {"published": "2022-01-24", "plan_year": 2021}, 2022, "published"),
        ("某省人民政府\n2021年10月24日\n到2025年，…", {}, 2021, "date line"),
        ("（2021年9月22日）\n正文", {}, 2021, "date line"),
        ("《2020年某省生态环境状况公报》显示，…", {}, 2021, "report on 2020"),
        ("正文", {"title": "“十一五”某省节能减排成效"}, 2011, "report on 十一五"),
        ("原标题：某事\n2021年11月，某部门印发了…", {}, 2021, "opening date"),
        ("正文", {"plan_year": 2024, "title": "某区2024年行动计划"}, 2024, "plan year"),
        ("正文提到2019年的情况。", {}, None, "unknown"),  # never a year that merely occurs
    ],
)
def test_present_of_a_text(text, kw, present, source):
    t = text_time(text, **kw)
    assert (t.present, t.source) == (present, source)


def test_a_plan_and_a_report_in_one_title_is_no_report():
    assert report_subject("关于2023年工作总结及2024年工作安排的报告", "") is None


def test_a_sentence_that_looks_ahead_reports_on_nothing():
    assert report_subject(None, "“十二五”期间，全省将把减排目标完成情况纳入考核。") is None


def test_a_guessed_plan_year_is_no_present_unless_the_title_names_it():
    assert text_time("正文", plan_year=2015, plan_year_known=False).present is None
    assert (
        text_time("正文", plan_year=2015, plan_year_known=False, title="某市2015年工作计划").present == 2015
    )


# ------------------------------------------------------------------------ time expressions


def test_time_expressions_with_their_years():
    found = time_expressions("到2025年…“十四五”期间…去年…推广前…截至2023年", present=2022)
    assert [(t.role, t.year) for t in found] == [
        ("horizon", 2025),
        ("period", 2025),
        ("relative", 2021),
        ("before", None),
        ("since", 2023),
    ]


def test_relative_word_after_a_comparison_word_is_a_base_not_a_time():
    assert time_expressions("较去年下降5%", present=2022) == []


def test_a_bare_fifteen_is_no_period():
    assert [t.written for t in time_expressions("建成十五个站点，“十五”期间", present=2011)] == ["“十五”"]


@pytest.mark.parametrize(
    "segment,after,kind",
    [
        ("力争全市森林覆盖率达到", "", "target"),
        ("全省将新增污水处理能力", "", "target"),
        ("全市PM2.5浓度下降了", "", "actual"),
        ("已建成充电桩", "", "actual"),
        ("超额完成“十三五”下降", "的目标", "target"),
        ("全市PM2.5年均浓度为", "", None),  # no cue: the sentence or the document decides
    ],
)
def test_modality_of_a_clause(segment, after, kind):
    assert modality(segment, after).kind == kind


def test_time_data_file_errors_name_the_problem(tmp_path):
    bad = tmp_path / "time.yml"
    bad.write_text("pieces: {year: '\\d{4}'}\nhorizon: ['到{yaer}年']\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="unknown pattern piece"):
        load_time.__wrapped__(bad)


# ------------------------------------------------------------------------------ statements


def test_two_horizons_after_a_date_line_are_both_targets():
    text = (
        "某省关于印发碳排放控制方案的通知\n2022年3月8日\n"
        "到2025年，全省非化石能源消费比重达到22%左右，单位地区生产总值能耗比2020年下降14%。"
        "到2030年，非化石能源消费比重达到28%左右。"
    )
    assert rows(text, title="某省关于印发碳排放控制方案的通知", plan_year_known=False) == [
        ("22%左右", "target", 2025, None, "~"),
        ("14%", "target", 2025, 2020, "="),
        ("28%左右", "target", 2030, None, "~"),
    ]


def test_a_time_after_a_frame_dates_every_semicolon_clause_of_its_sentence():
    # 《方案》提出，2020年，A；B: the time after the reported frame is the whole sentence's, so B
    # is a 2020 target too, not an actual of the period the review is about
    text = (
        "“十二五”某市节水工作回顾与展望\n“十二五”期间，全市用水总量下降了8.5%。"
        "在节水方面，《实施方案》提出，2020年，全市用水总量控制在12.5亿立方米以内；"
        "万元地区生产总值用水量控制在20立方米以内。"
    )
    assert rows(text, title="“十二五”某市节水工作回顾与展望", plan_year_known=False) == [
        ("8.5%", "actual", 2015, 2010, "="),
        ("12.5亿立方米", "target", 2020, None, "<="),
        ("20立方米", "target", 2020, None, "<="),
    ]
    # a paragraph's opening frame and time stay in its first sentence
    text = (
        "某区2024年水污染防治行动计划\n水方面，2023年，全区断面水质达标率100%。"
        "主要措施：一是完成5个片区雨污分流改造；二是新建污水管网不少于8公里。"
    )
    assert rows(text, title="某区2024年水污染防治行动计划", plan_year=2024) == [
        ("100%", "actual", 2023, None, "="),
        ("5个", "target", 2024, None, "="),
        ("8公里", "target", 2024, None, ">="),
    ]


def test_a_bound_after_a_verb_of_reaching_is_what_is_reached():
    # N以上的… after 具备/形成 is the capacity to be reached (a target); after 对 it bounds the
    # units a rule applies to (a condition)
    text = (
        "到2025年，全市电网基本具备5%以上的尖峰负荷响应能力，形成20万吨以上的再生资源处理能力，"
        "对年用水量1万立方米以上的单位实施计量。"
    )
    assert rows(text, plan_year=2025) == [
        ("5%", "target", 2025, None, ">="),
        ("20万吨", "target", 2025, None, ">="),
        ("1万立方米", "condition", 2025, None, ">="),
    ]


def test_a_list_goes_on_after_a_value_with_a_comparator_word():
    # 6%、6%以上、9%以上: 以上 ends a value, not the list, so each value has its own subject
    text = "到2025年，全市化学需氧量、氨氮、氮氧化物排放总量比2020年分别下降6%、6%以上、9%以上。"
    assert [
        (t.surface, t.indicator_id, t.campaign, t.base_year, t.comparator)
        for t in targets(text, plan_year=2025)
    ] == [
        ("6%", "cod_reduction_rate", "water", 2020, "="),
        ("6%", "nh3n_reduction_rate", "water", 2020, ">="),
        ("9%", "nox_reduction_rate", "air", 2020, ">="),
    ]


def test_a_report_on_an_ended_period_states_actuals_with_the_period_base():
    text = (
        "“十二五”某市节能工作成效回顾\n“十二五”期间，全市单位生产总值能耗累计下降18.2%，"
        "化学需氧量排放总量减少了11.5%。\n同期，全市新增污水日处理能力25万吨。"
    )
    assert rows(text, title="“十二五”某市节能工作成效回顾", plan_year_known=False) == [
        ("18.2%", "actual", 2015, 2010, "="),
        ("11.5%", "actual", 2015, 2010, "="),
        ("25万吨", "actual", 2015, None, "="),
    ]


@pytest.mark.parametrize("joined", ["和", "、"])
def test_every_value_of_a_change_list_in_a_period_counts_from_the_year_before_it(joined):
    title = "“十一五”某省节能减排成效"
    text = f"{title}\n“十一五”期间，全省二氧化硫和化学需氧量排放总量分别下降14.29%{joined}12.45%。"
    assert rows(text, title=title, plan_year_known=False) == [
        ("14.29%", "actual", 2010, 2005, "="),
        ("12.45%", "actual", 2010, 2005, "="),
    ]


def test_a_change_from_a_to_b_dates_a_by_the_comparison_year():
    text = "某县工业结构持续优化\n2015年与2010年相比，全县规模以上工业中高耗能行业比重由46%下降到38%。"
    assert rows(text, title="某县工业结构持续优化", plan_year_known=False) == [
        ("46%", "actual", 2010, None, "="),
        ("38%", "actual", 2015, None, "="),
    ]


def test_the_level_of_a_base_year_is_an_actual_and_the_change_takes_its_base():
    text = "到2025年，全市万元生产总值能耗要下降到0.52吨标准煤，比2020年的0.61吨标准煤下降14.8%。"
    assert rows(text, plan_year=2021, plan_year_end=2025) == [
        ("0.52吨标准煤", "target", 2025, None, "="),
        ("0.61吨标准煤", "actual", 2020, None, "="),
        ("14.8%", "target", 2025, 2020, "="),
    ]


def test_the_count_a_programme_takes_in_is_scope():
    text = "某市重点行业整治方案出台\n全市共有35家企业被纳入重点监管名单，将推动重点企业完成深度治理。"
    assert rows(text, title="某市重点行业整治方案出台", plan_year_known=False) == [
        ("35家", "scope", None, None, "=")
    ]


def test_a_bulletin_states_actuals_of_its_year():
    text = "《2023年某市环境状况公报》发布。2023年，全市PM2.5年均浓度为31微克/立方米，同比下降6.1%。全市优良天数比率为82.5%。"
    assert rows(text, title="某市环境状况公报发布", plan_year_known=False) == [
        ("31微克/立方米", "actual", 2023, None, "="),
        ("6.1%", "actual", 2023, 2022, "="),
        ("82.5%", "actual", 2023, None, "="),
    ]


def test_a_registration_year_bound_is_no_horizon():
    text = "全省将淘汰2005年前注册的营运黄标车，2011年完成30%的淘汰任务。"
    assert rows(text, plan_year=2011) == [("30%", "target", 2011, None, "=")]


def test_every_target_and_actual_names_its_evidence():
    text = "2023年，全区PM2.5年均浓度29微克/立方米。\n主要目标：PM2.5年均浓度不高于28微克/立方米。"
    got = targets(text, plan_year=2024)
    assert [(t.kind, t.kind_evidence) for t in got] == [("actual", "2023年"), ("target", "不高于")]
