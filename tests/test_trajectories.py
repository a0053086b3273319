"""Target trajectories (extractor/kb/trajectories.py): direction, comparators, units; the
table through the pipeline on synthetic successive annual plans (tests/trajectories_corpus)
and on corpus/; the command, the compare page's table, the ambition page and its downloads,
and a browser at 1280 and 375 px."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor import routes
from extractor.cli import main
from extractor.kb.trajectories import ambition, attainment, precision
from extractor.lexicon.cues import load_indicators
from extractor.sqlite import sqlite3
from tests.conftest_web import CHROMIUM, CHROMIUM_ARGS

SYNTHETIC = Path(__file__).parent / "trajectories_corpus"

SHOTS = Path(os.environ.get("POLICYKB_SHOTS") or "/nonexistent")  # as tests/test_browser_chrome.py


# -- direction, ambition, comparators --------------------------------------------------------


def test_directions_are_data():
    directions = load_indicators().directions
    assert directions["pm25_annual_mean"] == "lower"
    assert directions["dustfall"] == "lower"
    assert directions["heavy_pollution_days"] == "lower"
    assert directions["nox_emissions"] == "lower"
    assert directions["good_air_days_ratio"] == "higher"
    assert directions["forest_coverage"] == "higher"
    assert directions["water_section_compliance"] == "higher"
    assert directions["pm25_reduction"] == "higher"  # a reduction rate: more is better
    assert "key_tasks" not in directions


def test_ambition_in_the_indicators_direction():
    assert ambition(28, 29, "lower") == (1, pytest.approx(1 / 29, abs=1e-6))
    assert ambition(5, 5.2, "lower")[0] == pytest.approx(0.2)
    assert ambition(78, 79.1, "higher")[0] == pytest.approx(-1.1)  # asks less than achieved
    assert ambition(30, 29, "lower")[0] == -1
    assert ambition(30, 29, None) == (1, pytest.approx(1 / 29, abs=1e-6))  # no direction: target − actual


@pytest.mark.parametrize(
    ("comparator", "target", "actual", "direction", "decimals", "expected"),
    [
        ("<=", 28, 29, "lower", 0, ("missed", 1)),
        ("<=", 28, 28.0, "lower", 0, ("met", 0)),
        ("<=", 28, 28.5, "lower", 0, ("missed", 0.5)),
        ("<=", 28, 27, "lower", 0, ("met", 0)),
        ("<", 28, 28, "lower", 0, ("missed", 0)),
        (">=", 75, 74, "higher", 0, ("missed", 1)),
        (">=", 75, 75, "higher", 0, ("met", 0)),
        (">=", 75, 80, "higher", 0, ("met", 0)),
        ("=", 5, 5.4, None, 0, ("met", 0)),
        ("=", 5, 5.6, None, 0, ("missed", 0.6)),
        ("=", 5.2, 5.24, None, 1, ("met", 0)),
        ("=", 5.2, 5.3, None, 1, ("missed", 0.1)),
        ("=", 27.9, 27.83, "higher", 1, ("missed", 0.07)),
        ("=", 30, 58.6, "higher", 0, ("exceeded", 0)),  # 达到30% against 58.6%: beyond, on the better side
        ("=", 60, 20, "lower", 0, ("exceeded", 0)),
        ("~", 5, 5.5, "lower", 0, ("met", 0)),  # 约5, lower is better: slack of the stated precision
        ("~", 5, 5.6, "lower", 0, ("missed", 0.1)),
        ("~", 5, 3, "lower", 0, ("met", 0)),
        ("~", 78, 77.6, "higher", 0, ("met", 0)),
        ("~", 5, 4.4, None, 0, ("missed", 0.6)),  # no direction: as "="
    ],
)
def test_attainment_honours_the_comparator(comparator, target, actual, direction, decimals, expected):
    status, missed_by = attainment(comparator, target, actual, direction, decimals=decimals)
    assert (status, missed_by) == (expected[0], pytest.approx(expected[1]))


def test_a_range_is_met_inside_it():
    assert attainment("=", 5, 7, "higher", value_max=10) == ("met", 0)
    assert attainment("=", 5, 11, "higher", value_max=10) == ("missed", 1)


def test_stated_precision():
    assert precision(5.0, "5.0吨/平方公里·月") == 1
    assert precision(28.0, "28微克/立方米") == 0
    assert precision(28.0) == 0
    assert precision(5.25) == 2


# -- the table through the pipeline ----------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory) -> Path:
    from extractor.kb.store import build_db

    path = tmp_path_factory.mktemp("traj") / "kb.db"
    report = build_db(SYNTHETIC, path)
    assert not report.errors, report.errors
    return path


def _rows(db: Path, where: str, params=()) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [
            dict(r)
            for r in conn.execute(f"select * from trajectories where {where} order by year, kind", params)
        ]
    finally:
        conn.close()


def test_synthetic_plans_end_to_end(synthetic_db):
    pm = _rows(synthetic_db, "district = '示例区' and indicator_id = 'pm25_annual_mean'")
    assert [(r["year"], r["kind"], r["value_canonical"]) for r in pm] == [
        (2023, "actual", 29),
        (2024, "actual", 28.5),
        (2024, "target", 28),
        (2025, "target", 27),
    ]
    t2024, t2025 = pm[2], pm[3]
    assert t2024["comparator"] == "<=" and t2024["canonical_unit"] == "μg/m³"
    assert (t2024["baseline_year"], t2024["baseline_value"], t2024["ambition_abs"]) == (2023, 29, 1)
    assert (t2024["outcome_year"], t2024["attainment"], t2024["missed_by"]) == (2024, "missed", 0.5)
    # the 2025 target is measured against the 2024 actual (the latest earlier), not 2023's
    assert (t2025["baseline_year"], t2025["ambition_abs"], t2025["attainment"]) == (2024, 1.5, None)
    dust = _rows(synthetic_db, "district = '示例区' and indicator_id = 'dustfall' and kind = 'target'")
    assert [(r["ambition_abs"], r["attainment"]) for r in dust] == [(pytest.approx(0.2), "met")]
    days = _rows(
        synthetic_db, "district = '示例区' and indicator_id = 'good_air_days_ratio' and kind = 'target'"
    )
    assert [(r["year"], r["ambition_abs"], r["attainment"]) for r in days] == [
        (2024, 1, "exceeded"),
        (2025, 1, None),
    ]
    other = _rows(
        synthetic_db, "district = '样本区' and kind = 'target' and indicator_id = 'pm25_annual_mean'"
    )
    assert [(r["ambition_abs"], round(r["ambition_rel"], 4)) for r in other] == [(3, 0.0857)]
    # a range in another unit (0.025至0.03毫克/立方米): asked is its upper end in μg/m³
    no2 = _rows(synthetic_db, "district = '样本区' and kind = 'target' and indicator_id = 'no2_annual_mean'")
    assert [(r["value_canonical"], r["value_max_canonical"]) for r in no2] == [(25, pytest.approx(30))]
    assert no2[0]["ambition_abs"] == pytest.approx(3) and no2[0]["baseline_value"] == 33


def test_corpus_trajectories(built_db):
    huairou = _rows(built_db, "district = '怀柔区' and indicator_id = 'pm25_annual_mean'")
    assert [(r["year"], r["kind"], r["comparator"], r["value_canonical"]) for r in huairou] == [
        (2023, "actual", "=", 29),
        (2024, "target", "<=", 28),
    ]
    assert huairou[1]["ambition_abs"] == 1 and huairou[1]["attainment"] is None
    fengtai = _rows(built_db, "district = '丰台区' and indicator_id = 'dustfall'")
    assert [(r["year"], r["value_canonical"]) for r in fengtai] == [(2020, 5.2), (2024, 5), (2025, 5)]
    assert [r["baseline_year"] for r in fengtai] == [None, 2020, 2020]


@pytest.mark.parametrize("db", ["built_db", "synthetic_db"])
def test_each_row_is_its_targets_point(db, request):
    """The columns a row copies in SQL are its target's, as the Python of a point reads them:
    the district of its document (else the city), the canonical unit or "", the maximum in
    the canonical unit (value_max times value_canonical / value, in Python floats), the
    indicator's direction; one row per point (an actual or target with indicator and year)."""
    from extractor.lexicon.cues import load_indicators

    conn = sqlite3.connect(request.getfixturevalue(db))
    conn.row_factory = sqlite3.Row
    points = conn.execute(
        "select t.*, coalesce(d.district, d.city) as place from targets t join documents d"
        " on d.id = t.document_id where t.indicator_id is not null and t.kind in ('actual', 'target')"
        " and t.year is not null"
    ).fetchall()
    rows = {r["id"]: r for r in conn.execute("select * from trajectories")}
    conn.close()
    directions = load_indicators().directions
    assert len(rows) == len(points)
    assert db == "built_db" or any(
        p["value_max"] is not None and p["value"] != p["value_canonical"] for p in points
    )
    for p in points:
        r = rows[p["id"]]
        factor = p["value_canonical"] / p["value"] if p["value"] and p["value_canonical"] is not None else 1.0
        assert (r["district"], r["canonical_unit"], r["direction"]) == (
            p["place"],
            p["canonical_unit"] or "",
            directions.get(p["indicator_id"]),
        )
        assert r["value_max_canonical"] == (p["value_max"] * factor if p["value_max"] is not None else None)
        for column in ("indicator_id", "year", "kind", "value", "value_max", "comparator", "clause_id"):
            assert r[column] == p[column]


def test_units_never_mix(built_db):
    conn = sqlite3.connect(built_db)
    mixed = conn.execute(
        "select count(*) from trajectories t join trajectories b on b.target_id = t.baseline_target_id"
        " where t.canonical_unit != b.canonical_unit or t.indicator_id != b.indicator_id"
        " or t.district != b.district"
    ).fetchone()[0]
    qualitative = conn.execute(
        "select count(*) from trajectories where value is null and ambition_abs is not null"
    ).fetchone()[0]
    n_qualitative = conn.execute("select count(*) from trajectories where value is null").fetchone()[0]
    conn.close()
    assert mixed == 0 and qualitative == 0 and n_qualitative > 0


def test_command_prints_the_line(synthetic_db):
    r = CliRunner().invoke(main, ["trajectory", "示例区", "pm25_annual_mean", "--db", str(synthetic_db)])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("2023  现状 actual  = 29 μg/m³")
    target = next(x for x in lines if x.startswith("2024  目标 target"))
    assert "≤ 28 μg/m³" in target and "较2023年现状 29 改善 1（3.4%）" in target
    assert "2024年实际 28.5：未达标 missed，差 0.5" in target
    assert "示例区2024年生态环境保护行动计划" in r.output  # the citation
    bad = CliRunner().invoke(main, ["trajectory", "示例区", "forest_coverage", "--db", str(synthetic_db)])
    assert bad.exit_code != 0 and "no actual or target" in bad.output


# -- the pages -------------------------------------------------------------------------------


@pytest.fixture
async def synthetic_ds(synthetic_db):
    from extractor.web.serve import make_datasette

    datasette = make_datasette(synthetic_db)
    await datasette.invoke_startup()
    return datasette


async def test_compare_page_shows_ambition_and_attainment(synthetic_ds):
    r = await synthetic_ds.client.get(routes.compare_url("pm25_annual_mean", "示例区"))
    assert r.status_code == 200
    assert 'id="trajectory"' in r.text
    assert "较2023年现状 29 改善 1（3.4%）" in r.text
    assert "未达标 missed，差 0.5" in r.text
    assert "/-/clause/shiyan-2024-action-plan:c" in r.text
    assert routes.ambition_url("pm25_annual_mean") in r.text
    everyone = await synthetic_ds.client.get(routes.compare_url("pm25_annual_mean"))
    assert 'id="trajectory"' not in everyone.text


async def test_ambition_page_ranks_and_downloads(synthetic_ds):
    r = await synthetic_ds.client.get(routes.ambition_url("pm25_annual_mean"))
    assert r.status_code == 200
    assert r.text.index('data-district="样本区"') < r.text.index(
        'data-district="示例区"'
    )  # 8.6% > 5.3% > 3.4%
    csv_r = await synthetic_ds.client.get(routes.ambition_url("pm25_annual_mean") + "?_format=csv")
    assert csv_r.status_code == 200 and "attachment" in csv_r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(csv_r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "排名 rank"
    assert [(x[0], x[1], x[3], x[13]) for x in rows[1:]] == [
        ("1", "样本区", "2024", ""),
        ("2", "示例区", "2025", ""),
        ("3", "示例区", "2024", "missed"),
    ]
    xlsx = await synthetic_ds.client.get(routes.ambition_url("pm25_annual_mean") + "?_format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    missing = await synthetic_ds.client.get(routes.ambition_url("no_such_indicator"))
    assert missing.status_code == 404


# -- a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_server(synthetic_db):
    from tests.conftest_web import serving

    with serving(synthetic_db) as url:
        yield url


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
@pytest.mark.parametrize("width", [1280, 375])
def test_browser_trajectory_and_ranking(synthetic_server, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(synthetic_server + routes.compare_url("pm25_annual_mean", "示例区"))
        table = page.locator("#trajectory")
        assert table.is_visible()
        missed = page.locator("#trajectory tr.attainment-missed")
        assert missed.count() == 1
        assert "未达标 missed，差 0.5" in missed.inner_text()
        assert "改善 1" in missed.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if SHOTS.is_dir():
            page.screenshot(path=str(SHOTS / f"trajectories-compare-{width}.png"), full_page=True)
        missed.locator("a.value-link").click()
        page.wait_for_url("**/-/clause/**")
        assert "28微克/立方米" in page.inner_text("body")
        page.goto(synthetic_server + routes.ambition_url("pm25_annual_mean"))
        first = page.locator(".policykb-ambition-table tbody tr").first
        assert "样本区" in first.inner_text() and "改善 3" in first.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if SHOTS.is_dir():
            page.screenshot(path=str(SHOTS / f"trajectories-ambition-{width}.png"), full_page=True)
        browser.close()
        assert not errors, errors
