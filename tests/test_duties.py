"""Who does what by when: the rules (brackets, tables, deadlines of each precision), the two
made-up 行动计划 of tests/duties through build_db, and the pages over HTTP."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from extractor import routes
from extractor.sqlite import sqlite3
from extractor.statements.duties import find_deadlines, inline_units, normalize_unit, table_duties

DUTIES = Path(__file__).parent / "duties"
DISTRICT = "东湖区"


# -- units ---------------------------------------------------------------------------------------


def _units(text):
    found = inline_units(text)
    for _, unit, s, e in found:
        assert text[s:e] == unit
    return [(role, unit) for role, unit, _, _ in found]


def test_labelled_bracket_lead_and_partners():
    text = "完成划定工作。（牵头单位：区水务局；配合单位：区生态环境局、各街乡镇）"
    assert _units(text) == [("lead", "区水务局"), ("partner", "区生态环境局"), ("partner", "各街乡镇")]


def test_responsible_units_are_leads_unless_one_is_marked():
    assert _units("（责任单位：区水务局、区城管委）") == [("lead", "区水务局"), ("lead", "区城管委")]
    assert _units("（责任单位：区住房城乡建设委（牵头）、区城管委、各街镇）") == [
        ("lead", "区住房城乡建设委"),
        ("partner", "区城管委"),
        ("partner", "各街镇"),
    ]


def test_verbs_inside_a_bracket():
    assert _units("淘汰300辆。（区生态环境局牵头，区交通局、区公安分局配合）") == [
        ("lead", "区生态环境局"),
        ("partner", "区交通局"),
        ("partner", "区公安分局"),
    ]


def test_a_sentence_that_merely_says_someone_leads_names_no_unit():
    # the corpus says 区生态环境局牵头组织相关部门开展… : a report of what was done, no bracket
    assert _units("区生态环境局牵头组织相关部门开展了大气相关工作。") == []
    assert _units("（以下简称2024年行动计划）") == []


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("区生态环境局", "生态环境局"),
        ("各街乡镇", "街乡镇"),
        ("各街镇", "街乡镇"),
        ("区城管委", "城管委"),
        ("区委区政府", "区委区政府"),
        ("市生态环境局", "生态环境局"),
    ],
)
def test_normalize_unit(written, normal):
    assert normalize_unit(written) == normal


def test_table_columns():
    text = (
        "表1  任务分工\n"
        "序号\t任务\t牵头单位\t配合单位\t完成时限\n"
        "1\t叉车电动化\t区生态环境局\t区经济和信息化局、各街乡镇\t2024年6月底前\n"
        "2\t扬尘管控\t区城管委\t区交通局\t持续推进\n"
        "不是表格的一行，年底前完成。\n"
    )
    units, deadlines = table_duties(text, 2024)
    assert [(r, text[s:e]) for r, _, s, e in units] == [
        ("lead", "区生态环境局"),
        ("partner", "区经济和信息化局"),
        ("partner", "各街乡镇"),
        ("lead", "区城管委"),
        ("partner", "区交通局"),
    ]
    assert [(d, p, text[s:e]) for d, p, s, e in deadlines] == [
        ("2024-06-30", "month", "2024年6月底前"),
        (None, "ongoing", "持续推进"),
    ]


def test_a_table_without_unit_or_deadline_columns_names_nobody():
    text = "指标\t2020年\t2025年\nPM2.5浓度\t40\t35\n"
    assert table_duties(text, 2024) == ([], [])


# -- deadlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date", "precision", "written"),
    [
        ("2024年6月30日前完成改造", "2024-06-30", "day", "2024年6月30日前"),
        ("2024年6月底前完成", "2024-06-30", "month", "2024年6月底前"),
        ("9月底前完成安装", "2024-09-30", "month", "9月底前"),
        ("2月底前完成", "2024-02-29", "month", "2月底前"),
        ("第三季度完成排查", "2024-09-30", "quarter", "第三季度"),
        ("第一季度末前完成", "2024-03-31", "quarter", "第一季度末前"),
        ("上半年完成3座提标改造", "2024-06-30", "half", "上半年"),
        ("下半年完成", "2024-12-31", "half", "下半年"),
        ("年底前淘汰300辆", "2024-12-31", "year", "年底前"),
        ("2025年底前完成", "2025-12-31", "year", "2025年底前"),
        ("2025年前完成", "2025-12-31", "year", "2025年前"),
    ],
)
def test_deadline_precisions(text, date, precision, written):
    found = find_deadlines(text, 2024)
    assert len(found) == 1, found
    d, p, s, e = found[0]
    assert (d, p, text[s:e]) == (date, precision, written)


@pytest.mark.parametrize(
    "text",
    [
        "结合对2000年底前建成的老旧小区改造",  # history, years before the plan
        "上半年PM2.5浓度为30微克/立方米",  # a period reported, not a deadline
        "2023年6月，全区完成了检查",  # a date, no 前 / 完成 after it
        "按季度开展土壤污染治理效果评价",  # a frequency
    ],
)
def test_dates_that_are_no_deadline(text):
    assert find_deadlines(text, 2024) == []


# -- end to end: tests/duties through build_db ---------------------------------------------------


@pytest.fixture(scope="module")
def duties_db(tmp_path_factory) -> Path:
    from extractor.kb.store import build_db

    path = tmp_path_factory.mktemp("duties") / "kb.db"
    report = build_db(DUTIES, path)
    assert not report.errors
    return path


@pytest.fixture
def db(duties_db):
    c = sqlite3.connect(duties_db)
    yield c
    c.close()


def test_offsets_point_at_the_words_as_written(db):
    rows = db.execute(
        "select r.unit, r.start, r.end, d.text from responsibilities r join documents d on d.id = r.document_id"
    ).fetchall()
    assert len(rows) == 25
    assert all(text[s:e] == unit for unit, s, e, text in rows)
    rows = db.execute(
        "select l.surface, l.start, l.end, d.text from deadlines l join documents d on d.id = l.document_id"
    ).fetchall()
    assert len(rows) == 10
    assert all(text[s:e] == surface for surface, s, e, text in rows)


def test_every_task_of_the_made_up_plans(db):
    rows = db.execute(
        """select c.text, group_concat(r.role || ':' || r.unit_normalized, ' ')
           from responsibilities r join clauses c on c.id = r.clause_id group by c.id order by c.document_id, c.start"""
    ).fetchall()
    got = {text.split("\t")[1] if "\t" in text else text[:8]: units for text, units in rows}
    assert got["完成燃油叉车电动化替代200辆"] == "lead:生态环境局 partner:经济和信息化局 partner:街乡镇"
    assert got["建成5个空气质量微型监测站"] == "lead:生态环境局 partner:街乡镇"
    assert got["2024年底前完"] == "lead:水务局 partner:生态环境局 partner:街乡镇"
    assert got["上半年完成3座再"] == "lead:水务局 lead:城管委"
    assert got["1.推进重型柴油"] == "lead:生态环境局 partner:交通局 partner:公安分局"
    assert got["2.加强施工扬尘"] == "lead:住房城乡建设委 partner:城管委 partner:街乡镇"
    assert len(got) == 10
    deadlines = db.execute(
        "select document_id, date, precision from deadlines order by document_id, start"
    ).fetchall()
    assert deadlines == [
        ("donghu-2024-action-plan", "2024-06-30", "month"),
        ("donghu-2024-action-plan", None, "ongoing"),
        ("donghu-2024-action-plan", "2024-09-30", "quarter"),
        ("donghu-2024-action-plan", "2024-12-31", "day"),
        ("donghu-2024-action-plan", "2024-12-31", "year"),
        ("donghu-2024-action-plan", "2024-06-30", "half"),
        ("donghu-2025-action-plan", "2025-12-31", "year"),
        ("donghu-2025-action-plan", "2025-09-30", "month"),
        ("donghu-2025-action-plan", "2025-06-30", "quarter"),
        ("donghu-2025-action-plan", "2025-03-15", "day"),
    ]


def test_the_corpus_kb_names_no_unit_it_does_not_state(kb_path):
    """corpus/ holds explanations and a 规划, no task brackets: no unit; one deadline (怀柔)."""
    c = sqlite3.connect(kb_path)
    assert c.execute("select count(*) from responsibilities").fetchone()[0] == 0
    assert c.execute("select surface, date from deadlines").fetchall() == [("2024年底前", "2024-12-31")]
    c.close()


# -- pages over HTTP -----------------------------------------------------------------------------


@pytest.fixture
async def duties_ds(duties_db):
    from extractor.web.serve import make_datasette

    datasette = make_datasette(duties_db)
    await datasette.invoke_startup()
    return datasette


def _tree(html):
    import lxml.html

    return lxml.html.fromstring(html)


def _text(el) -> str:
    return " ".join(el.text_content().split())


async def test_units_page_matrix(duties_ds):
    r = await duties_ds.client.get(routes.units_url(DISTRICT))
    assert r.status_code == 200
    tree = _tree(r.text)
    units = [_text(th) for th in tree.xpath("//table[contains(@class,'policykb-units-matrix')]/tbody/tr/th")]
    assert units[0] == "生态环境局"  # the unit that leads most tasks first
    assert {"街乡镇", "水务局", "城管委", "住房城乡建设委"} <= set(units)
    assert "区生态环境局" not in units and "各街镇" not in units  # normalized
    (row,) = tree.xpath("//tr[@data-unit='生态环境局']")
    cells = {td.get("data-campaign"): _text(td) for td in row.xpath("td")}
    assert cells == {"air": "牵头 4", "water": "配合 1", "soil": "牵头 2"}
    (row,) = tree.xpath("//tr[@data-unit='街乡镇']")
    assert {td.get("data-campaign"): _text(td) for td in row.xpath("td")}["air"] == "配合 4"
    link = row.xpath("td[@data-campaign='air']/a")[0].get("href")
    assert "unit=%E8%A1%97%E4%B9%A1%E9%95%87" in link and "role=partner" in link


async def test_units_page_filters_the_task_list(duties_ds):
    r = await duties_ds.client.get(routes.units_url(DISTRICT, unit="街乡镇", role="partner"))
    assert r.status_code == 200
    rows = _tree(r.text).xpath("//table[contains(@class,'policykb-tasks')]/tbody/tr")
    assert len(rows) == 5
    assert all("配合" in _text(tr) for tr in rows)


async def test_units_downloads(duties_ds):
    r = await duties_ds.client.get(routes.units_url(DISTRICT) + "&_format=csv")
    assert r.status_code == 200
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0][0] == "地区 district" and len(lines) == 26
    assert lines[1][6:11] == ["区生态环境局", "生态环境局", "2024-06-30", "month", "2024年6月底前"]
    r = await duties_ds.client.get(routes.units_url(DISTRICT) + "&_format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet.max_row == 26


async def test_units_index_and_unknown_district(duties_ds):
    r = await duties_ds.client.get(routes.UNITS)
    assert r.status_code == 200 and "东湖区" in r.text and "2 项任务" not in r.text
    r = await duties_ds.client.get(routes.units_url("无此区"))
    assert r.status_code == 404


async def test_clause_page_block(duties_ds, duties_db):
    c = sqlite3.connect(duties_db)
    (clause_id,) = c.execute("select clause_id from deadlines where precision = 'half'").fetchone()
    c.close()
    r = await duties_ds.client.get(routes.clause_url(clause_id))
    (block,) = _tree(r.text).xpath("//section[contains(@class,'policykb-duties')]")
    assert _text(block.xpath(".//dd[@class='lead']")[0]) == "区水务局、区城管委"
    assert block.xpath(".//dd[@class='partner']") == []
    assert _text(block.xpath(".//dd[@class='deadline']")[0]) == "上半年 2024-06-30 （半年 half）"


async def test_a_clause_without_duties_has_no_block(duties_ds):
    r = await duties_ds.client.get(routes.clause_url("donghu-2025-action-plan:c0"))
    assert r.status_code == 200 and "policykb-duties" not in r.text


async def test_district_page_links_to_units(duties_ds):
    r = await duties_ds.client.get(routes.district_url(DISTRICT))
    links = [a.get("href") for a in _tree(r.text).xpath("//p[@class='policykb-units-link']/a")]
    assert links[-1] == routes.units_url(DISTRICT)
    assert routes.units_url(DISTRICT, unit="生态环境局") + "#tasks" in links  # the unit leading most tasks


def test_units_command_prints_the_matrix_and_tasks(duties_db, kb_path):
    from click.testing import CliRunner

    from extractor.cli import main

    out = CliRunner().invoke(main, ["units", "东湖区", "--db", str(duties_db)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "东湖区: 10 tasks name their units"
    assert lines[1].startswith("  生态环境局: 大气（蓝天保卫战） 牵头4/配合0")
    assert "    牵头 区水务局；配合 区生态环境局、各街乡镇  · 完成时限 2024年底前" in lines
    none = CliRunner().invoke(main, ["units", "丰台区", "--db", str(kb_path)])
    assert none.exit_code == 0 and "no task in its plans names a responsible unit" in none.output
    unknown = CliRunner().invoke(main, ["units", "火星区", "--db", str(kb_path)])
    assert unknown.exit_code != 0 and "unknown district '火星区'" in unknown.output


def test_district_page_summarises_who_does_what(duties_db, conn):
    from extractor.web import pages

    c = sqlite3.connect(duties_db)
    try:
        duties = pages.district_context(c, "东湖区")["duties"]
    finally:
        c.close()
    assert duties["n_tasks"] == 10 and duties["n_deadlines"] == 10
    assert duties["leads"][0]["unit"] == "生态环境局" and duties["leads"][0]["n_lead"] == 6
    assert pages.district_context(conn, "丰台区")["duties"] == {"n_tasks": 0, "n_deadlines": 0, "leads": []}
