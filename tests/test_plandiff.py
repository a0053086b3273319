"""Plan-to-plan change (extractor/kb/plandiff.py, ``policykb diff``, /-/diff).

The synthetic corpus tests/plandiff/ (two annual plans of an invented district, 青溪区) is built
through the real pipeline into a temporary kb.db; 丰台's two documents are read from the
session's kb.db built from corpus/.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from extractor import routes
from extractor.cli import main
from extractor.kb import plandiff
from extractor.kb.plandiff import Side, compare, diff_documents
from extractor.sqlite import sqlite3
from extractor.web.serve import make_datasette
from tests.conftest_web import free_port, wait_for_server

SYNTHETIC = Path(__file__).parent / "plandiff"
Q24, Q25 = "qingxi-2024-action-plan", "qingxi-2025-action-plan"
FT_PLAN, FT_2024 = "fengtai-2021-2025-eco-plan", "fengtai-2024-action-plan-interpretation"


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory) -> Path:
    from extractor.kb.store import build_db

    path = tmp_path_factory.mktemp("plandiff") / "kb.db"
    report = build_db(SYNTHETIC, path)
    assert not report.errors, report.errors
    return path


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def side(value, comparator="=", value_max=None, text=None, unit="μg/m³") -> Side:
    return Side("t", "c", "clause", comparator, value, value_max, unit, text, 2025)


# -- unit: comparison in the indicator's direction -------------------------------------------


@pytest.mark.parametrize(
    "a, b, direction, expected",
    [
        (side(30, "<="), side(28, "<="), "lower", "tightened"),  # ≤ 30 -> ≤ 28
        (side(28, "<="), side(30, "<="), "lower", "loosened"),
        (side(28, "<="), side(28, "="), "lower", "unchanged"),  # = 28 asks what ≤ 28 asks
        (side(28, "<="), side(28, "<"), "lower", "tightened"),  # a strict bound is stricter
        (side(75, ">="), side(72, ">="), "higher", "loosened"),
        (side(75, ">="), side(80, "~"), "higher", "tightened"),
        (side(95, ">="), side(95, ">"), "higher", "tightened"),
        (side(30, "<="), side(28, "<="), None, "changed"),  # no known direction
        (side(20, value_max=30), side(20, value_max=25), "lower", "tightened"),  # a range's upper end
        (side(None, text="稳中向好"), side(None, text="稳中向好"), None, "unchanged"),
        (side(None, text="稳步提升"), side(None, text="稳中向好"), "higher", "changed"),
        (side(None, text="达到市级要求"), side(28, "<="), "lower", "changed"),
        (side(28, "<="), side(28, "<=", unit="%"), "lower", "changed"),  # no common unit
    ],
)
def test_compare(a, b, direction, expected):
    assert compare(a, b, direction) == expected


def test_direction_is_data():
    from extractor.lexicon.cues import load_indicators

    inds = load_indicators().indicators
    assert inds["pm25_annual_mean"].direction == "lower"
    assert inds["good_air_days_ratio"].direction == "higher"


# -- the synthetic annual plans, through the pipeline ------------------------------------------


def test_synthetic_plans(synthetic_db):
    with _connect(synthetic_db) as conn:
        diff = diff_documents(conn, Q24, Q25)
    status = {r.indicator_id: r.status for r in diff.rows}
    assert status == {
        "pm25_annual_mean": "tightened",  # ≤ 30 -> ≤ 28
        "good_air_days_ratio": "loosened",  # ≥ 75 % -> ≥ 72 %
        "dustfall": "unchanged",
        "eco_quality_index": "unchanged",  # 稳中向好 both years, no number
        "good_water_ratio": "new",
        "heavy_pollution_days": "dropped",
    }
    pm = next(r for r in diff.rows if r.indicator_id == "pm25_annual_mean")
    assert (pm.a.shown, pm.b.shown) == ("≤ 30 微克/立方米", "≤ 28 微克/立方米")
    assert "30微克" in pm.a.clause_text and "28微克" in pm.b.clause_text
    assert "30微克" in pm.a.excerpt and "28微克" in pm.b.excerpt and len(pm.a.excerpt) <= 72
    new = next(r for r in diff.rows if r.status == "new")
    assert new.a is None and "85%" in new.b.clause_text
    # the other way round, each change turns over
    with _connect(synthetic_db) as conn:
        back = {r.indicator_id: r.status for r in diff_documents(conn, Q25, Q24).rows}
    assert back["pm25_annual_mean"] == "loosened" and back["good_water_ratio"] == "dropped"


def test_unknown_and_foreign_documents(synthetic_db, kb_path):
    with _connect(synthetic_db) as conn, pytest.raises(plandiff.DiffError, match="nope, zilch"):
        diff_documents(conn, "nope", "zilch")
    with _connect(kb_path) as conn, pytest.raises(plandiff.DiffError, match="one district"):
        diff_documents(conn, FT_PLAN, "huairou-2024-action-plan-draft-explanation")


def test_fengtai(kb_path):
    with _connect(kb_path) as conn:
        diff = diff_documents(conn, FT_PLAN, FT_2024)
    rows = {r.indicator_id: r for r in diff.rows}
    # 降尘量 ≤ 5 (2025) and 约 5 (2024): the same bound
    assert rows["dustfall"].status == "unchanged"
    assert rows["dustfall"].a.year == 2025 and rows["dustfall"].b.year == 2024
    # the plan's 2020 column (a baseline) and its 2035 vision do not speak for it
    assert all(r.a is None or r.a.year == 2025 for r in diff.rows)
    # PM2.5 达到市级考核要求 -> 持续改善: two wordings
    assert rows["pm25_annual_mean"].status == "changed"
    assert rows["construction_land_safe_use"].status == "new"
    assert rows["forest_coverage"].status == "dropped"


# -- command line -----------------------------------------------------------------------------


def test_cli_diff(synthetic_db):
    result = CliRunner().invoke(main, ["diff", "--db", str(synthetic_db), Q24, Q25])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    pm = next(line for line in lines if "pm25_annual_mean" in line)
    assert pm.split()[0] == "tightened" and "≤ 30 微克/立方米" in pm and "≤ 28 微克/立方米" in pm
    assert "tightened 1, loosened 1, new 1, dropped 1, unchanged 2" in result.output


def test_cli_unknown_id(synthetic_db):
    result = CliRunner().invoke(main, ["diff", "--db", str(synthetic_db), Q24, "qingxi-2030-plan"])
    assert result.exit_code == 1
    assert "unknown document id(s): qingxi-2030-plan" in result.output


# -- HTTP -------------------------------------------------------------------------------------


@pytest.fixture
async def sds(synthetic_db):
    datasette = make_datasette(synthetic_db)
    await datasette.invoke_startup()
    return datasette


async def test_page(sds, synthetic_db):
    r = await sds.client.get(routes.diff_url(Q24, Q25))
    assert r.status_code == 200
    html = r.text
    assert 'data-indicator="pm25_annual_mean" data-status="tightened"' in html
    assert "收紧 tightened" in html and "新增 new" in html and "删除 dropped" in html
    # both clauses linked
    with _connect(synthetic_db) as conn:
        diff = diff_documents(conn, Q24, Q25)
    pm = next(r for r in diff.rows if r.indicator_id == "pm25_annual_mean")
    for s in (pm.a, pm.b):
        assert routes.clause_url(s.clause_id, s.target_id) in html
    assert "?a=" in html and "_format=csv" in html


async def test_form_only_and_errors(sds):
    r = await sds.client.get(routes.DIFF)
    assert r.status_code == 200 and f'<option value="{Q24}"' in r.text and "policykb-diff-table" not in r.text
    r = await sds.client.get(routes.diff_url(Q24, "qingxi-1999"))
    assert r.status_code == 404 and "qingxi-1999" in r.text


async def test_downloads(sds):
    r = await sds.client.get(routes.diff_url(Q24, Q25) + "&_format=csv")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == plandiff.EXPORT_HEADERS
    pm = next(row for row in rows if row[2] == "pm25_annual_mean")
    assert pm[0] == "收紧 tightened" and pm[5] == "≤ 30 微克/立方米" and pm[9] == "≤ 28 微克/立方米"
    assert pm[8].startswith("http://") and "/-/clause/" in pm[8]
    r = await sds.client.get(routes.diff_url(Q24, Q25) + "&_format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in sheet[1]] == plandiff.EXPORT_HEADERS and sheet.max_row == 7


# -- a browser at 1280 and 375 px -------------------------------------------------------------

from tests.conftest_web import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_browser(synthetic_db):
    from playwright.sync_api import sync_playwright

    port = free_port()
    code = f"from extractor.web.serve import serve; serve({str(synthetic_db)!r}, {str(SYNTHETIC)!r}, '127.0.0.1', {port}, build=False)"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parent.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(proc, url, 15)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for width in (1280, 375):
                page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
                page.goto(url + routes.DIFF)
                page.select_option("select[name=a]", Q24)
                page.select_option("select[name=b]", Q25)
                page.click("form.policykb-diff-form button")
                row = page.locator('tr[data-indicator="pm25_annual_mean"]')
                assert "收紧" in row.locator("td.status").inner_text()
                assert "≤ 30" in row.locator("td.side-a").inner_text()
                assert "≤ 28" in row.locator("td.side-b").inner_text()
                assert row.locator("td.side-b").is_visible()
                assert page.locator("#diff-counts").inner_text().count("·") == 4
                if width == 375:
                    assert page.evaluate("document.documentElement.scrollWidth") <= 375
                row.locator("td.side-b a").click()
                page.wait_for_url("**/-/clause/**")
                assert "28微克" in page.inner_text("body")
                page.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_readme_example(synthetic_db):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    command = f"$ policykb diff --db /tmp/qingxi.db {Q24} {Q25}\n"
    shown = readme.split(command, 1)[1].split("```", 1)[0].rstrip()
    result = CliRunner().invoke(main, ["diff", "--db", str(synthetic_db), Q24, Q25])
    assert shown == result.output.rstrip()


async def test_district_page_links_the_diff(sds):
    r = await sds.client.get(routes.district_url("青溪区"))
    assert r.status_code == 200
    assert routes.diff_url(Q24, Q25).replace("&", "&amp;") in r.text
