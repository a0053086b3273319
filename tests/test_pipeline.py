"""Metadata of files outside the catalog: title and plan years read from the text."""

from __future__ import annotations

import pytest

from extractor.read.metadata import guess_plan_years, guess_title


@pytest.mark.parametrize(
    "title,text,expected",
    [
        ("推进美丽怀柔建设 持续深入打好污染防治攻坚战2024年行动计划", "", (2024, None)),
        ("北京市延庆区生态环境局2023年工作总结和2024年工作计划", "2023年，全区…", (2024, None)),
        ("丰台区“十四五”时期生态环境保护规划", "", (2021, 2025)),
        ("某区生态环境保护规划（2021—2025年）", "", (2021, 2025)),
        (
            "关于《某市减污降碳实施方案》的政策解读",
            "发布时间：2023-08-21\n2022年，全市…。到2025年，…",
            (2023, 2025),
        ),
        ("关于某方案的解读", "2022年，全市…。到2025年，全市…", (2025, None)),
        ("政策问答", "为贯彻落实《2025年行动计划》，…", (2025, None)),
        ("说明", "没有年份", (None, None)),
    ],
)
def test_plan_years(title, text, expected):
    assert guess_plan_years(title, text) == expected


def test_title_is_the_first_title_like_line():
    text = "附件2\n\n[bookmark: _GoBack]《推进美丽怀柔建设2024年行动计划》的起草说明\n\n正文"
    assert guess_title(text) == "《推进美丽怀柔建设2024年行动计划》的起草说明"
    assert (
        guess_title("营山县生态环境局\n关于2023年水污染防治工作总结的报告\n")
        == "关于2023年水污染防治工作总结的报告"
    )
    assert guess_title("第一行\n第二行") == "第一行"


@pytest.mark.parametrize(
    "title,genre",
    [
        ("德清县2023年环境质量状况公报", "公报"),
        ("河南省2023年度污染防治攻坚战成效考核新闻发布会实录", "新闻发布"),
        ("北京市延庆区生态环境局2023年工作总结和2024年工作计划", "行动计划"),
        ("关于《某区2024年行动计划》的问答解读", "问答解读"),
        ("丰台区“十四五”时期生态环境保护规划", "规划"),
    ],
)
def test_genre_of_an_uncatalogued_file(title, genre):
    from extractor.read.metadata import guess_genre

    assert guess_genre(title) == genre


def test_a_report_looks_ahead_to_the_next_year():
    from extractor.pipeline import statement_years

    assert statement_years(
        {"year": 2023, "year_end": None, "genre": "公报", "title": "某县2023年环境质量状况公报"}
    ) == (2024, None)
    assert statement_years({"year": 2024, "year_end": None, "genre": "行动计划", "title": "x"}) == (
        2024,
        None,
    )
    assert statement_years({"year": 2021, "year_end": 2025, "genre": "规划", "title": "x"}) == (2021, 2025)


def test_a_report_on_a_plan_period_reports_on_its_latest_year(tmp_path):
    from extractor.pipeline import process_file

    path = tmp_path / "midterm.txt"
    path.write_text(
        "某市“十四五”生态环境保护规划中期评估报告\n一、总体进展\n2020年全市PM2.5年均浓度为40微克/立方米。"
        "2023年，全市PM2.5年均浓度为34微克/立方米，优良天数比率为86.3%，到2025年目标为33微克/立方米。\n",
        encoding="utf-8",
    )
    doc = process_file(path)
    assert (doc.document["genre"], doc.document["year"], doc.document["year_end"]) == ("工作总结", 2023, None)
    assert [(t.value, t.kind, t.year) for t in doc.targets] == [
        (40, "actual", 2020),
        (34, "actual", 2023),
        (86.3, "actual", 2023),
        (33, "target", 2025),
    ]
