"""A real browser on the units page and a clause page's 责任单位 / 完成时限 block, over the two
made-up 行动计划 of tests/duties, at 1280 and 375 px. Needs /usr/bin/chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor import routes
from tests.conftest_web import BROWSER_MARKS, serving

DUTIES = Path(__file__).parent / "duties"
DISTRICT = "东湖区"

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from extractor.kb.store import build_db

    db = tmp_path_factory.mktemp("duties-web") / "kb.db"
    assert not build_db(DUTIES, db).errors
    with serving(db) as url:
        yield url


def _page(browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


@pytest.mark.parametrize("width", [1280, 375])
def test_units_matrix_and_a_click_to_the_tasks(server, browser, width):
    context, page, errors = _page(browser, width)
    page.goto(server + routes.units_url(DISTRICT))
    heading = page.locator("table.policykb-units-matrix thead th")
    assert heading.all_inner_texts()[0] == "单位 Unit"
    first = page.locator("table.policykb-units-matrix tbody tr").first
    assert first.locator("th").inner_text() == "生态环境局"
    assert page.locator("table.policykb-tasks tbody tr").count() == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # 街乡镇 supports 4 air tasks: the count opens those tasks
    page.locator("tr[data-unit='街乡镇'] td[data-campaign='air'] a.n-partner").click()
    page.wait_for_url("**role=partner**")
    tasks = page.locator("table.policykb-tasks tbody tr")
    assert tasks.count() == 4
    assert all("各街" in t.split("配合")[1] for t in tasks.all_inner_texts())
    assert "街乡镇" in page.locator("#tasks").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("width", [1280, 375])
def test_clause_page_says_who_and_by_when(server, browser, width):
    context, page, errors = _page(browser, width)
    page.goto(server + routes.units_url(DISTRICT, unit="住房城乡建设委"))
    page.locator("table.policykb-tasks tbody tr a").first.click()
    page.wait_for_url("**/-/clause/**")
    block = page.locator("section.policykb-duties")
    assert block.is_visible()
    assert block.locator("dd.lead").inner_text() == "区住房城乡建设委"
    assert block.locator("dd.partner").inner_text() == "区城管委、各街镇"
    assert "9月底前" in block.locator("dd.deadline").inner_text()
    assert "2025-09-30" in block.locator("dd.deadline").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # a unit links back to its row of tasks
    block.locator("dd.partner a").first.click()
    page.wait_for_url("**/-/units**")
    assert (
        page.locator("table.policykb-tasks tbody tr").count() == 3
    )  # 城管委: leads 2 tasks in 2024, supports 1 in 2025
    context.close()
    assert not errors, errors
