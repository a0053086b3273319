"""A real browser on the paginated pages (issue 12, item 5): the comparison, search, coverage and
districts pages at 1280 and 375 px fit the screen and their next link works.

The site runs on the session's kb.db with a metadata.yml that makes pages small (3 values, 3
hits, 2 districts a page), so the five-document corpus has several pages of each. Needs
/usr/bin/chromium; never ``playwright install``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from extractor import routes
from tests.conftest_web import BROWSER_MARKS, serving

pytestmark = BROWSER_MARKS

SMALL_PAGES = """\
title: small pages
plugins:
  policykb:
    search_per_page: 3
    compare_per_page: 3
    compare_districts_listed: 2
    coverage_districts_per_page: 2
    districts_per_page: 2
"""

PAGES = {
    "compare": (routes.compare_url("pm25_annual_mean"), "table.policykb-compare-table tbody tr"),
    "search": (routes.search_url("扬尘"), "ol.policykb-hits > li.hit"),
    "coverage": (routes.COVERAGE, "table.policykb-matrix thead th:not(.corner)"),
    "districts": (routes.DISTRICT, "table.policykb-districts tbody td.district"),
}


@pytest.fixture(scope="module")
def small_server(kb_path, tmp_path_factory):
    metadata = tmp_path_factory.mktemp("site") / "metadata.yml"
    metadata.write_text(SMALL_PAGES, encoding="utf-8")
    with serving(kb_path, "corpus", metadata_path=metadata, timeout=30) as url:
        yield url


def _fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: {scroll} px wide on a {width} px screen"


def _shown(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_paginated_page_fits_and_its_next_link_works(small_server, page, name, width):
    path, rows = PAGES[name]
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(small_server + path)
    _fits(page, width)
    first = _shown(page, rows)
    assert first, f"{name}: nothing shown"
    assert len(first) <= 3
    next_link = page.locator("a[rel=next]").first
    assert next_link.count() == 1 and next_link.is_visible()
    next_link.click()
    page.wait_for_url("**page=2**")
    assert parse_qs(urlsplit(page.url).query)["page"] == ["2"]
    _fits(page, width)
    second = _shown(page, rows)
    assert second and second != first  # the next page shows the next rows
    assert page.locator("a[rel=prev]").count() >= 1


@pytest.mark.parametrize("width", [1280, 375])
def test_compare_district_box_fits_and_filters(small_server, page, width):
    # past compare_districts_listed districts, the filter is a text box with suggestions
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(small_server + routes.compare_url("pm25_annual_mean"))
    box = page.locator("input#f-district")
    assert box.count() == 1 and box.is_visible()
    assert page.locator("datalist#f-district-list option").count() == 2
    _fits(page, width)
    box.fill("朝阳区")
    page.locator("form.policykb-filters button[type=submit]").click()
    page.wait_for_url("**district=**")
    _fits(page, width)
    districts = set(_shown(page, "table.policykb-compare-table tbody td.district"))
    assert districts == {"朝阳区"}
