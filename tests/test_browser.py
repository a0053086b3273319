"""A real browser on the served site: the PM2.5 comparison page, its chart, a click to a clause.

Needs Debian's chromium at /usr/bin/chromium (``apt-get install -y chromium fonts-noto-cjk``);
never ``playwright install``. Run alone with ``pytest -m browser``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest_web import BROWSER_MARKS

LEAD_SCREENSHOT = Path("/tmp/policykb-compare.png")

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield page
    page.close()


def test_compare_page_then_click_to_the_clause(server, page, tmp_path):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{server}/-/compare/pm25_annual_mean")
    page.wait_for_selector("#chart svg .mark-rect path", timeout=10_000)  # Vega-Lite drew the bars
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    rows = page.locator("table.policykb-compare-table tbody tr")
    seen = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        seen.setdefault(row.locator("td.district").inner_text(), []).append(
            (row.locator("td.value").inner_text(), row.locator("td").nth(3).inner_text())
        )
    assert ("≤ 28 微克/立方米", "2024") in seen.get("怀柔区", []), seen
    assert ("= 30 微克/立方米", "2024") in seen.get("门头沟区", []), seen
    assert ("= 32 微克/立方米", "2025") in seen.get("朝阳区", []), seen
    assert page.locator("#chart svg .mark-rect path").count() >= 3

    shot = tmp_path / "policykb-compare.png"
    page.screenshot(path=str(shot), full_page=True)
    shutil.copy(shot, LEAD_SCREENSHOT)

    page.locator('tr[data-district="怀柔区"] a.value-link', has_text="28").first.click()
    page.wait_for_url("**/-/clause/**")
    assert "target=" in page.url
    marked = page.locator("blockquote.policykb-clause-text mark.quantity.selected")
    assert marked.count() == 1
    assert marked.inner_text() == "28微克/立方米"
    assert "北京市怀柔区生态环境局" in page.locator("#citation").inner_text()
    page.screenshot(path=str(tmp_path / "policykb-clause.png"), full_page=True)
    assert not errors, errors


@pytest.mark.parametrize("width", [1280, 375])
def test_clause_page_fits_the_screen_and_shows_the_evidence(server, page, width, kb_path):
    """At desktop and phone width the clause page needs no sideways scrolling (its table scrolls in
    its own box), and each quantity says which words decided target or actual."""
    from extractor.sqlite import sqlite3

    clause_id, target_id = (
        sqlite3.connect(kb_path)
        .execute("select clause_id, id from targets where indicator_id = 'dustfall' order by id limit 1")
        .fetchone()
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server}/-/clause/{clause_id}?target={target_id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator(".kind-evidence").count() >= 1
    assert "据“" in page.locator(".kind-evidence").first.inner_text()
    page.set_viewport_size({"width": 1280, "height": 900})
