"""The analysis text is a view of the source: every character maps back to it."""

from __future__ import annotations

import pytest

from extractor.normalize import normalize

from .conftest import read_doc


@pytest.mark.parametrize(
    "source,expected",
    [
        ("细颗粒物（PM_{2.5}）年均浓度", "细颗粒物（PM2.5）年均浓度"),
        ("可吸入颗粒物（PM₁₀）、二氧化硫（SO₂）、NO₂和O₃", "可吸入颗粒物（PM10）、二氧化硫（SO2）、NO2和O3"),
        ("PM２.５浓度３０微克", "PM2.5浓度30微克"),
        ("ＰＭ２．５", "PM2.5"),
        ("細顆粒物年均濃度下降率", "细颗粒物年均浓度下降率"),
        ("[bookmark: _GoBack]关于《计划》的问答解读", "关于《计划》的问答解读"),
        ("　　三、蓝天保卫战", "  三、蓝天保卫战"),
        ("正文。\n- 12 -\n下一页", "正文。\n下一页"),
        ("目录\n序言\t- 1 -\n第一章 总则\t- 2 -\n一、目标\t12 -\n\n序言\n正文", "\n序言\n正文"),
    ],
)
def test_normalization_cases(source, expected):
    norm = normalize(source)
    assert norm.text == expected


def test_page_break_inside_a_paragraph_is_rejoined():
    source = "加快推进垃圾分类工作，充分调动辖区群众开展垃圾分类的积极\n\n性、主动性，形成良好氛围。\n\n（二）生态环境质量全面改善"
    norm = normalize(source)
    assert "积极性、主动性" in norm.text
    assert "。\n\n（二）" in norm.text  # a real paragraph break survives
    # a heading followed by a blank line is not joined either
    assert normalize("（一）生态文明建设全面推进\n\n全面加强党的领导。").text.count("\n") == 2


@pytest.mark.parametrize("key", ["fengtai5y", "mentougou", "huairou"])
def test_offsets_map_back_to_the_source(key):
    source = read_doc(key)
    norm = normalize(source)
    for needle in ("PM2.5", "吨/平方公里", "年均浓度", "细颗粒物"):
        start = norm.text.find(needle)
        if start < 0:
            continue
        s, e = norm.span_to_source(start, start + len(needle))
        assert normalize(source[s:e]).text.replace("\n", "") == needle
    # every analysis character comes from a source character that folds to it (or to its t2s form)
    assert all(0 <= norm.to_source(i) < len(source) for i in range(0, len(norm.text), 97))


def test_fengtai_traditional_stretch_is_simplified_in_analysis_only():
    source = read_doc("fengtai5y")
    norm = normalize(source)
    assert "細顆粒物年均濃度下降率" in source
    assert "细颗粒物年均浓度下降率" in norm.text
    assert "目录" not in norm.text[:2000] and "- 14 -" not in norm.text
