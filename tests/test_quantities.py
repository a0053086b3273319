"""Golden cases for find_quantities (tests/cases/quantities.json) and the data-file loaders."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from extractor.errors import DataFileError
from extractor.lexicon.cues import load_comparators, load_indicators, load_statements, load_units
from extractor.quantities import find_quantities

CASES = Path(__file__).parent / "cases"
QUANTITY_CASES = json.loads((CASES / "quantities.json").read_text(encoding="utf-8"))
ERROR_INPUTS = json.loads((CASES / "errors.json").read_text(encoding="utf-8"))
FIELDS = ("value", "value_max", "unit", "canonical_unit", "surface")


@pytest.mark.parametrize("case", QUANTITY_CASES, ids=[c["req"][:24] for c in QUANTITY_CASES])
def test_golden_quantities(case):
    got = [{k: q.to_json()[k] for k in FIELDS} for q in find_quantities(case["req"])]
    assert got == case["res"]


@pytest.mark.parametrize("text", ERROR_INPUTS, ids=[repr(t)[:20] for t in ERROR_INPUTS])
def test_bad_input_does_not_crash(text):
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.surface


def test_offsets_point_into_the_text():
    text = "累计淘汰高排放车14万余辆，降尘量降至每月5.2吨/平方公里，劣Ⅴ类水体比例为0。"
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.surface
        assert q.unit_start is None or text[q.unit_start : q.unit_end].replace("余", "") == q.unit


def test_percentage_point_is_not_percent():
    pp, pct = find_quantities("提高2个百分点，提高2%")
    assert pp.canonical_unit == "百分点" and pp.dimension == "percentage_point"
    assert pct.canonical_unit == "%" and pct.dimension == "ratio"


def test_magnitudes_compare_in_canonical_units():
    (wan,), (dun,) = find_quantities("4.2 万吨"), find_quantities("42000噸")
    assert wan.canonical_unit == dun.canonical_unit == "t"
    assert wan.value * wan.factor == dun.value * dun.factor == 42000


def test_traditional_text_is_read():
    (q,) = find_quantities("化學需氧量減排量 19003 噸")
    assert (q.value, q.unit, q.canonical_unit) == (19003, "噸", "t")


def test_approximation_and_symbols_are_kept():
    (a,), (b,), (c,) = (find_quantities(t) for t in ("近 20 次", "15%左右", "≤55。"))
    assert (a.approx, b.approx, c.comparator_hint) == ("近", "左右", "≤")


def test_data_files_load():
    assert load_units().lookup("万吨标准煤")[1] == 1e4
    assert load_comparators().after["以上"] == ">="
    assert load_statements().qualifiers
    ids = set(load_indicators().indicators)
    for required in (
        "pm25_annual_mean",
        "pm10_annual_mean",
        "so2_annual_mean",
        "no2_annual_mean",
        "dustfall",
        "good_air_days_ratio",
        "heavy_pollution_days",
        "vocs_reduction",
        "nox_reduction",
        "cod_reduction",
        "nh3n_reduction",
        "carbon_intensity_reduction",
        "forest_coverage",
        "contaminated_farmland_safe_use",
        "construction_land_safe_use",
        "sewage_treatment_rate",
    ):
        assert required in ids


@pytest.mark.parametrize(
    "name,content,loader,message",
    [
        ("units.yml", "magnitudes:\n  万: 10000\n  万: 10000\nunits: []\n", load_units, "duplicate key"),
        (
            "units.yml",
            "units:\n  - {id: a, forms: [吨], canonical: t, dimension: mass, factor: 1}\n"
            "  - {id: b, forms: [吨], canonical: t, dimension: mass, factor: 1}\n",
            load_units,
            "already belongs",
        ),
        ("comparators.yml", "before:\n  不高于: '=<'\n", load_comparators, "unknown comparator"),
        (
            "indicators.yml",
            "indicators:\n  - {id: x, name_zh: 某指标, campaign: sky}\n",
            load_indicators,
            "unknown campaign",
        ),
    ],
    ids=["duplicate-key", "duplicate-form", "unknown-comparator", "unknown-campaign"],
)
def test_a_malformed_data_file_is_a_data_file_error(tmp_path, name, content, loader, message):
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        loader(bad)


def test_words_that_hold_a_comparator_do_not_compare():
    comps = load_comparators()
    assert comps.mask("履约率达到") == "□□率达到"
    (saved,), (near,) = find_quantities("年节约1.5万吨标准煤"), find_quantities("学校附近300米")
    assert (saved.approx, saved.surface) == (None, "1.5万吨标准煤")
    assert (near.approx, near.surface) == (None, "300米")
    (approx,) = find_quantities("年节约用水量约50万立方米")
    assert approx.approx == "约"


def test_a_per_period_prefix_without_a_rate_unit_keeps_the_quantity():
    (q,) = find_quantities("每月3台")
    assert (q.value, q.unit, q.surface) == (3, "台", "3台")


# Pieces hostile strings are built from: digits of other scripts (Arabic-Indic, Devanagari,
# mathematical bold, full-width), signs, dashes, approximation words, magnitudes and units.
_PIECES = (
    "9" * 40,
    "0",
    "٣",
    "٥٫",
    "३",
    "𝟑",
    "𝟗" * 30,
    "３",
    "．",
    ".",
    ",",
    "-",
    "－",
    "−",
    "负",
    "正",
    "多",
    "余",
    "半",
    "万",
    "亿",
    "万亿",
    "千",
    "九",
    "十",
    "百",
    "吨",
    "千克",
    "%",
    "个百分点",
    "省（区、市）",
    "番",
    "翻",
    "以上",
    "、",
    "分别为",
    "不足",
    "近",
    "约",
    "至",
    "年",
    "第",
    "“",
    "》",
    "每月",
    "吨/平方千米·月",
    "\t",
)


def _hostile_strings(n: int, seed: int = 20261201):
    rng = random.Random(seed)
    for _ in range(n):
        yield "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 14)))


@pytest.mark.parametrize("text", [*ERROR_INPUTS, *_hostile_strings(400)], ids=lambda t: repr(t)[:20])
def test_every_value_is_finite_and_valid_json(text):
    """A property over hostile strings: no quantity is inf or NaN, and each serializes as JSON."""
    for q in find_quantities(text):
        values = (q.value, q.value_max, q.factor, q.value * q.factor)
        assert all(v is None or math.isfinite(v) for v in values), (text, q)
        json.dumps(q.to_json(), allow_nan=False)
        assert text[q.start : q.end] == q.surface
