"""Each piece of the structure stage alone: line classes, section tree, enumerations, campaigns."""

from __future__ import annotations

import pytest

from extractor.normalize import normalize
from extractor.structure.campaigns import (
    campaign_by_keywords,
    campaign_by_label,
    campaigns_named,
    clause_campaign,
    section_campaign,
    title_campaign,
)
from extractor.structure.enumerations import find_markers, scan_blocks, table_row_ordinal, to_pieces
from extractor.structure.lines import classify_line, classify_lines
from extractor.structure.spans import Spans
from extractor.structure.tree import Block, build_tree, topic_cuts

# -- lines.py: one line -> what it is --------------------------------------------------------


@pytest.mark.parametrize(
    "line,kind,rank,number,title",
    [
        ("第四章 深入打好污染防治攻坚战", "heading", 1, "第四章", "深入打好污染防治攻坚战"),
        ("一、总体要求", "heading", 3, "一、", "总体要求"),
        ("（二）碧水保卫战", "heading", 4, "（二）", "碧水保卫战"),
        ("2. 推进河湖生态修复", "heading", 5, "2.", "推进河湖生态修复"),
        ("三、蓝天保卫战的主要措施是什么？", "heading", 3, "三、", "蓝天保卫战的主要措施是什么？"),
        ("1. 化学需氧量削减300吨。", "numbered", None, None, None),
        ("（1）加强饮用水水源保护，完成整治。", "numbered", None, None, None),
        ("蓝天保卫战方面：推广新能源车。", "lead", None, None, "蓝天保卫战方面"),
        ("推广新能源车1万辆。", "paragraph", None, None, None),
        ("序号\t指标\t目标值", "table_row", None, None, None),
    ],
    ids=[
        "chapter",
        "cn",
        "paren-cn",
        "arabic",
        "question",
        "numbered",
        "paren-numbered",
        "lead",
        "plain",
        "row",
    ],
)
def test_classify_line(line, kind, rank, number, title):
    cls = classify_line(line)
    assert (cls.kind, cls.rank, cls.number, cls.title) == (kind, rank, number, title)


def test_a_question_heading_has_kind_question():
    assert classify_line("三、蓝天保卫战的主要措施是什么？").section_kind == "question"


def test_a_heading_with_a_lead_colon_keeps_its_body():
    line = "  二、主要目标：PM2.5年均浓度控制在32微克/立方米。"
    cls = classify_line(line)
    assert (cls.kind, cls.title) == ("heading", "主要目标")
    assert line[cls.body :] == "PM2.5年均浓度控制在32微克/立方米。"


def test_a_long_heading_is_cut_at_its_first_sentence_stop():
    cls = classify_line("一、强化大气治理。推广新能源车1万辆，淘汰老旧车500辆，治理扬尘。")
    assert cls.title == "强化大气治理"
    assert cls.body == len("一、强化大气治理。")


def test_a_caption_needs_a_table_row_after_it():
    assert classify_line("表1 主要指标", next_line="序号\t指标\t目标").kind == "caption"
    assert classify_line("表1 主要指标", next_line="正文。").kind == "paragraph"


def test_arabic_3_after_cn_2_is_their_sibling():
    line = "3、加强监管，落实责任"
    assert classify_line(line).kind == "numbered"  # a numbered sentence on its own
    cls = classify_line(line, last_cn=2)
    assert (cls.kind, cls.rank, cls.title) == ("heading", 3, "加强监管，落实责任")


def test_classify_lines_carries_the_last_cn_heading():
    text = "一、总体要求\n二、重点任务\n\n3、加强监管，落实责任\n"
    lines = classify_lines(text)
    assert [(text[ln.start : ln.end], ln.cls.kind) for ln in lines] == [
        ("一、总体要求", "heading"),
        ("二、重点任务", "heading"),
        ("3、加强监管，落实责任", "heading"),
    ]


def test_classify_line_is_pure():
    line = "一、总体要求"
    assert classify_line(line) == classify_line(line)
    assert classify_line("3、加强监管，落实责任").kind == "numbered"  # no state left by 一、


# -- tree.py: classified lines -> sections ----------------------------------------------------


def tree_of(text: str):
    norm = normalize(text)
    spans = Spans(text, norm)
    return build_tree("t", classify_lines(norm.text), spans), spans


def test_tree_parents_levels_spans_paths():
    text = "第一章 总则\n一、目标\n推广新能源车。\n（一）大气\n治理扬尘。\n二、任务\n第二章 保障\n"
    tree, _ = tree_of(text)
    got = [(n.section.title, n.section.level, n.parent, n.section.path) for n in tree.nodes]
    assert got == [
        ("总则", 1, None, "第一章 总则"),
        ("目标", 2, 0, "第一章 总则 › 一、目标"),
        ("大气", 3, 1, "第一章 总则 › 一、目标 › （一）大气"),
        ("任务", 2, 0, "第一章 总则 › 二、任务"),
        ("保障", 1, None, "第二章 保障"),
    ]
    sections = [n.section for n in tree.nodes]
    assert text[sections[1].start : sections[1].end] == "一、目标\n推广新能源车。\n（一）大气\n治理扬尘。"
    assert sections[1].parent_id == sections[0].id == "t:s0"
    assert all(s.campaign == "general" for s in sections)  # campaigns come later


def test_tree_blocks_belong_to_the_innermost_section():
    text = "一、目标\n推广新能源车。\n（一）大气\n治理扬尘。\n"
    tree, _ = tree_of(text)
    assert [(text[b.start : b.end], b.owner) for b in tree.blocks] == [
        ("推广新能源车。", 0),
        ("治理扬尘。", 1),
    ]


def test_table_rows_form_a_section_named_by_the_caption():
    text = "一、指标\n表1 主要指标\n序号\t指标\t目标\n1\tPM2.5\t32\n正文。\n"
    tree, _ = tree_of(text)
    table = tree.nodes[1].section
    assert (table.kind, table.title, tree.nodes[1].parent) == ("table", "表1 主要指标", 0)
    assert [b.table_row for b in tree.blocks] == [True, True, False]
    assert tree.blocks[2].owner == 0  # the table ends at the first line that is not a row


def test_topic_cuts_inside_a_paragraph():
    text = "总体推进。水污染防治方面，新建管网。其他方面，略。土壤方面，调查。"
    assert topic_cuts(text, 0, len(text)) == [(5, "水污染防治方面"), (25, "土壤方面")]


# -- enumerations.py: blocks -> items -----------------------------------------------------------


def test_find_markers_continues_the_sections_sequence():
    text = "三是治理扬尘；四是推广新能源车。"
    found, after = find_markers(text, 0, len(text), {"shi": 3})
    assert found == {"shi": [(0, "三是"), (7, "四是")]} and after["shi"] == 5
    found, _ = find_markers(text, 0, len(text), {})
    assert found == {}  # 三是 without 一是 and 二是 before it is no list


def test_one_inline_number_is_not_a_list():
    text = "完成1、治理任务"
    assert find_markers(text, 0, len(text), {})[0] == {}


def test_scan_blocks_items_subitems_and_paragraphs():
    text = "要求如下：一是治理扬尘，一方面洒水，另一方面覆盖；二是推广新能源车。另起一段。"
    cut = text.index("另起")
    blocks = [Block(0, cut, 0), Block(cut, len(text), 0)]
    items = scan_blocks(text, blocks)
    got = [(text[i.start : i.end], i.kind, i.ordinal, i.parent) for i in items]
    assert got == [
        ("要求如下：", "paragraph", None, None),
        ("一是治理扬尘，一方面洒水，另一方面覆盖；", "item", "一是", None),
        ("一方面洒水，", "subitem", "一方面", 1),
        ("另一方面覆盖；", "subitem", "另一方面", 1),
        ("二是推广新能源车。", "item", "二是", None),
        ("另起一段。", "paragraph", "第1段", None),
    ]


def test_table_row_ordinal():
    assert table_row_ordinal("3\tPM2.5\t32") == "序号3"
    assert table_row_ordinal("序号\t指标\t目标") == "表头"


def test_to_pieces_drops_short_items_and_nests_ordinals():
    text = "一是治理扬尘，一方面洒水，另一方面覆盖；二是。"
    norm = normalize(text)
    tree = build_tree("t", classify_lines(norm.text), Spans(text, norm))
    items = scan_blocks(norm.text, tree.blocks)
    pieces = to_pieces("t", items, tree.nodes, Spans(text, norm))
    assert [(p.clause.ordinal, p.clause.text) for p in pieces] == [
        ("一是", "一是治理扬尘，一方面洒水，另一方面覆盖；"),
        ("一是 › 一方面", "一方面洒水，"),
        ("一是 › 另一方面", "另一方面覆盖；"),
        ("二是", "二是。"),
    ]


# -- campaigns.py: the campaign rules ------------------------------------------------------------


@pytest.mark.parametrize(
    "text,window,expected",
    [
        ("新建污水管网，新增绿地", None, "water"),  # the earliest keyword, not the last
        ("新增绿地，新建污水管网", None, "ecology"),
        ("空气质量优良天数", None, "air"),
        ("无关的句子", None, None),
        ("一二三四五六七八九十，新增绿地", 5, None),  # outside the window
        ("空气质量、污水、土壤都有改善", 40, None),  # an overview of three campaigns
        ("空气质量和污水都有改善", 40, "air"),
    ],
)
def test_campaign_by_keywords(text, window, expected):
    assert campaign_by_keywords(text, window) == expected


def test_campaign_by_label_and_campaigns_named():
    assert campaign_by_label("深入打好蓝天保卫战") == ("air", "蓝天保卫战", 4)
    assert campaign_by_label("碧水方面", lead=True)[0] == "water"
    assert campaigns_named("土壤和固体废物方面") == {"soil", "waste"}


def test_section_campaign():
    assert section_campaign("heading", "深入打好蓝天保卫战", "general")[0] == "air"
    assert section_campaign("heading", "推进交通运输绿色低碳转型", "air") == ("air", None)
    assert section_campaign("lead", "气候和生态方面", "general") == ("general", None)


def test_clause_campaign():
    assert clause_campaign("新建污水管网", "air") == "air"  # a named section decides
    assert clause_campaign("新建污水管网", "general") == "water"
    assert clause_campaign("1\t新增绿地\t100", "air", table_row=True) == "ecology"
    assert clause_campaign("1\t合计\t100", "air", table_row=True) == "air"


def test_title_campaign():
    assert title_campaign("某区2024年大气污染防治工作计划") == "air"
    assert title_campaign("某区生态环境保护规划") == "general"
    assert title_campaign(None) == "general"
