"""Sections, campaigns and task clauses on the real corpus."""

from __future__ import annotations

import pytest


def campaign_ids(structure) -> set[str]:
    return {cid for cid, _ in structure.campaigns()}


@pytest.mark.parametrize(
    "key,expected",
    [
        (
            "fengtai2024",
            {
                "air": "蓝天保卫战",
                "water": "碧水保卫战",
                "soil": "净土保卫战",
                "climate": "应对气候变化",
                "ecology": "生态保护",
            },
        ),
        (
            "huairou",
            {
                "air": "大气污染防治",
                "water": "水污染防治",
                "soil": "土壤污染防治",
                "climate": "应对气候变化",
                "ecology": "生态保护",
            },
        ),
        (
            "mentougou",
            {
                "air": "蓝天保卫战",
                "water": "碧水保卫战",
                "soil": "净土保卫战",
                "climate": "应对气候变化",
                "ecology": "生态保护",
            },
        ),
        (
            "chaoyang",
            {
                "air": "蓝天保卫战",
                "water": "碧水保卫战",
                "soil": "净土保卫战",
                "climate": "应对气候变化",
                "ecology": "生态保护",
                "noise": "静音保卫战",
            },
        ),
    ],
)
def test_campaign_sections_per_document(structures, key, expected):
    _, st = structures[key]
    # each expected campaign has a section whose title carries that label
    for cid, label in expected.items():
        assert any(s.campaign == cid and label in s.title for s in st.sections), (cid, label)
    assert set(expected) <= campaign_ids(st)


def test_fengtai_plan_chapters_map_to_campaigns(structures):
    _, st = structures["fengtai5y"]
    by_title = {s.title: s.campaign for s in st.sections}
    assert by_title["加快形成绿色低碳发展新格局"] == "climate"
    assert by_title["稳步改善空气质量"] == "air"
    assert by_title["统筹推进水生态环境改善"] == "water"
    assert by_title["全力保障土壤环境安全"] == "soil"
    assert by_title["优化生态空间格局和品质"] == "ecology"
    assert by_title["推进固体废物减量化和资源化"] == "waste"
    assert by_title["保障辐射环境安全"] == "radiation"
    assert by_title["努力降低噪声环境影响"] == "noise"
    assert by_title["推进生态环境治理体系和治理能力现代化"] == "general"
    # a subsection inherits its chapter's campaign
    assert by_title["强化扬尘精细化管控"] == "air"
    assert campaign_ids(st) == {"climate", "air", "water", "soil", "ecology", "waste", "radiation", "noise"}


def items(st, section_title_part, kind="item"):
    section_ids = {s.id for s in st.sections if section_title_part in s.title}
    assert section_ids, section_title_part
    return [c for c in st.clauses if c.section_id in section_ids and c.kind == kind]


def test_fengtai2024_blue_sky_has_five_items(structures):
    _, st = structures["fengtai2024"]
    got = items(st, "蓝天保卫战")
    assert [c.ordinal for c in got] == ["一是", "二是", "三是", "四是", "五是"]
    assert all(c.campaign == "air" for c in got)
    assert got[2].text.startswith("三是提升城市环境精细化管控水平。降尘量控制在5吨/平方公里·月左右。")


def test_huairou_inline_items_under_main_content(structures):
    _, st = structures["huairou"]
    air = next(s for s in st.sections if s.title == "大气污染防治")
    content = next(s for s in st.sections if s.parent_id == air.id and s.title == "主要内容")
    got = [c for c in st.clauses if c.section_id == content.id and c.kind == "item"]
    assert [c.ordinal for c in got] == ["一是", "二是", "三是", "四是", "五是"]
    assert "降尘量控制在4.5吨/平方公里·月" in got[2].text
    assert content.path == "二、2024年污染防治措施 › （一）大气污染防治 › 主要内容"


def test_mentougou_one_hand_other_hand_inside_first_item(structures):
    _, st = structures["mentougou"]
    got = items(st, "蓝天保卫战")
    assert [c.ordinal for c in got] == ["一是", "二是", "三是", "四是", "五是"]
    subs = items(st, "蓝天保卫战", kind="subitem")
    assert [c.ordinal for c in subs] == ["一是 › 一方面", "一是 › 另一方面"]
    first = got[0]
    assert all(first.start <= c.start and c.end <= first.end for c in subs)
    assert subs[0].text.startswith("一方面，聚焦移动源")


def test_chaoyang_goal_items_get_campaign_by_content(structures):
    _, st = structures["chaoyang"]
    got = items(st, "目标任务")
    assert [c.campaign for c in got] == ["air", "water", "soil", "climate", "ecology", "noise"]


def test_question_headings(structures):
    _, st = structures["mentougou"]
    q = [s for s in st.sections if s.kind == "question"]
    assert [s.number for s in q][:3] == ["一、", "二、", "三、"]
    assert q[2].title == "蓝天保卫战的主要措施是什么？" and q[2].campaign == "air"


def test_plain_paragraph_measures_in_the_five_year_plan(structures):
    _, st = structures["fengtai5y"]
    sec = next(s for s in st.sections if s.title == "加快可再生能源开发利用")
    paras = [c for c in st.clauses if c.section_id == sec.id]
    assert [c.ordinal for c in paras] == ["第1段", "第2段", "第3段"]
    assert paras[0].text.startswith("全方位拓展可再生能源利用。")
    assert paras[2].campaign == "climate"


def test_tables_become_table_sections_with_rows(structures):
    _, st = structures["fengtai5y"]
    tables = [s for s in st.sections if s.kind == "table"]
    assert [t.title[:3] for t in tables] == ["表 1", "表 2"]
    rows = [c for c in st.clauses if c.kind == "table_row" and c.section_id == tables[1].id]
    assert len(rows) == 17  # header + 16 indicators
    assert rows[11].ordinal == "序号11" and "森林覆盖率" in rows[11].text and rows[11].campaign == "ecology"


def test_every_clause_and_section_round_trips(structures):
    for key, (text, st) in structures.items():
        for c in st.clauses:
            assert text[c.start : c.end] == c.text, (key, c.id)
            assert c.text == c.text.strip()
        for s in st.sections:
            assert 0 <= s.start < s.end <= len(text), (key, s.id)
        ids = [c.id for c in st.clauses]
        assert len(ids) == len(set(ids)), key


def test_page_break_split_paragraph_is_one_clause(structures):
    _text, st = structures["fengtai5y"]
    clause = next(c for c in st.clauses if "充分调动辖区群众开展垃圾分类的积极" in c.text)
    assert "积极\n\n性、主动性" in clause.text  # verbatim source, one clause across the break


# -- layouts of other plans (sentences written for these tests) ---------------------------------


def parse(text: str):
    from extractor.normalize import normalize
    from extractor.structure import parse_structure

    return parse_structure("t", text, normalize(text))


def test_inline_topic_leads_split_a_paragraph_into_campaign_sections():
    text = (
        "二、重点任务\n大气污染防治方面，推广新能源汽车1万辆。水污染防治方面，新建污水管网20公里。"
        "土壤污染防治方面，完成5个地块调查。\n"
    )
    st = parse(text)
    leads = [s for s in st.sections if s.kind == "lead"]
    assert [(s.title, s.campaign) for s in leads] == [
        ("大气污染防治方面", "air"),
        ("水污染防治方面", "water"),
        ("土壤污染防治方面", "soil"),
    ]
    for clause in st.clauses:
        section = st.section(clause.section_id)
        assert section.start <= clause.start and clause.end <= section.end


def test_a_lead_naming_two_campaigns_leaves_the_choice_to_content():
    st = parse(
        "（一）工作成效\n土壤和固体废物方面。受污染耕地安全利用率达到95%以上。\n"
        "答：碧水方面，污水处理率达到98%。净土方面，完成第三次土壤普查。\n"
    )
    by_title = {s.title: s.campaign for s in st.sections}
    assert by_title["土壤和固体废物方面"] == "general"
    assert by_title["碧水方面"] == "water" and by_title["净土方面"] == "soil"


def test_question_headings_numbered_with_wen():
    st = parse(
        "问一：《行动计划》出台的背景是什么？\n答：略。\n问四：蓝天行动有哪些重点举措？\n答：一是推广新能源车；二是治理扬尘。\n"
    )
    questions = [s for s in st.sections if s.kind == "question"]
    assert [s.number for s in questions] == ["问一：", "问四："]
    assert questions[1].campaign == "air"
    assert [c.ordinal for c in st.clauses if c.kind == "item"] == ["一是", "二是"]


def test_numbered_sentences_are_clauses_not_headings():
    st = parse(
        "（二）碧水保卫战\n1. 化学需氧量、氨氮排放量分别削减300吨、30吨。\n2. 加强饮用水水源保护。\n"
        "3. 推进河湖生态修复\n"
    )
    assert [c.ordinal for c in st.clauses if c.kind == "item"] == ["1.", "2."]
    assert [s.title for s in st.sections] == ["碧水保卫战", "推进河湖生态修复"]


def test_a_topic_word_in_a_subsection_does_not_override_its_campaign():
    st = parse(
        "第三章 深入打好蓝天保卫战\n（一）推进交通运输绿色低碳转型\n推广新能源车。\n"
        "第四章 应对气候变化\n（一）推进低碳发展\n"
    )
    by_title = {s.title: s.campaign for s in st.sections}
    assert by_title["推进交通运输绿色低碳转型"] == "air"
    assert by_title["推进低碳发展"] == "climate"
