"""The site's chrome in a real browser: every page fits a 375 px phone (no sideways scrolling,
form labels not cut), the clause page's header and its Copy button, at 1280 and 375 px.

Needs Debian's chromium at /usr/bin/chromium (never ``playwright install``). Set
``POLICYKB_SHOTS=/some/dir`` to keep a screenshot of every page swept.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extractor import routes
from extractor.sqlite import sqlite3
from tests.conftest_web import BROWSER_MARKS

pytestmark = BROWSER_MARKS
ROOT = Path(__file__).resolve().parent.parent
PHONE = 375

# Datasette's own pages: index, database, tables, views, rows, a custom query, canned queries,
# a table search, an error page
DATASETTE_PAGES = [
    "/",
    "/kb",
    "/kb/targets",
    "/kb/clauses",
    "/kb/documents",
    "/kb/sections",
    "/kb/indicators",
    "/kb/campaigns",
    "/kb/document_campaigns",
    "/kb/target_citations",
    "/kb/clause_context",
    "/kb/clause_citations",
    "/kb/indicator_coverage",
    "/kb/documents/fengtai-2021-2025-eco-plan",
    "{target_row}",
    "{clause_row}",
    "/kb?sql=select+*+from+target_citations+limit+20",
    "/kb/search_measures?q=扬尘",
    "/kb/compare_indicator?indicator=pm25_annual_mean",
    "/kb/coverage",
    "/kb/targets_by_district?district=怀柔",
    "/kb/clauses?_search=扬尘管控",
    "/kb/no_such_table",
]
SITE_PAGES = [
    routes.COMPARE,
    routes.compare_url("pm25_annual_mean"),
    routes.compare_url("nox_reduction"),
    "{clause_page}",
]
# pages other helpers of issue 10 are building: swept as soon as they answer
NEW_PAGES = [
    routes.search_url("扬尘"),
    routes.COVERAGE,
    routes.DISTRICT,
    routes.district_url("丰台区"),
]


@pytest.fixture(scope="module")
def ids(kb_path) -> dict[str, str]:
    c = sqlite3.connect(kb_path)
    target_id, clause_id = c.execute(
        "select id, clause_id from targets where indicator_id = 'pm25_annual_mean'"
        " and document_id like 'huairou%' order by id limit 1"
    ).fetchone()
    bare_clause = c.execute(  # a clause of a document without issuer and number
        "select c.id from clauses c join documents d on d.id = c.document_id"
        " where d.issuer is null and d.doc_number is null and d.published is null"
        " and d.id like 'fengtai-2024%' order by c.seq limit 1"
    ).fetchone()[0]
    return {
        "target_row": f"/kb/targets/{target_id.replace(':', '~3A')}",
        "clause_row": f"/kb/clauses/{clause_id.replace(':', '~3A')}",
        "clause_page": routes.clause_url(clause_id, target_id),
        "target_id": target_id,
        "clause_id": clause_id,
        "bare_clause": bare_clause,
    }


@pytest.fixture(scope="module")
def phone(browser):
    context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def _shot(page, name: str) -> None:
    folder = os.environ.get("POLICYKB_SHOTS")
    if folder:
        safe = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")[:80] or "home"
        page.screenshot(path=str(Path(folder) / f"chrome-{safe}-{page.viewport_size['width']}.png"))


# what sticks out of the screen, outside any box that scrolls by itself (for the failure message)
WIDE = """() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.right <= window.innerWidth + 1 || r.width === 0) continue;
    let scrolls = false;
    for (let a = e.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') { scrolls = true; break; }
    }
    if (!scrolls) out.push(`${e.tagName.toLowerCase()}.${e.className} right=${Math.round(r.right)}`);
  }
  return out.slice(0, 5);
}"""
# form labels whose text is wider than the label, or covered by the field it labels
CLIPPED_LABELS = """() => [...document.querySelectorAll('label')].filter(l => {
  if (l.offsetParent === null) return false;
  const range = document.createRange();
  range.selectNodeContents(l);
  const text = range.getBoundingClientRect(), box = l.getBoundingClientRect();
  if (text.width > box.width + 1) return true;
  const field = l.htmlFor && document.getElementById(l.htmlFor);
  if (!field || field.closest('label') === l) return false;
  const f = field.getBoundingClientRect();
  return f.left < text.right - 1 && f.right > text.left && f.top < text.bottom && f.bottom > text.top;
}).map(l => l.textContent.trim())"""


def _sweep(phone, server, path: str, *, new: bool = False) -> None:
    response = phone.goto(server + path)
    if new and response.status == 404:
        pytest.skip(f"{path} answers 404 on this branch (another helper's page, not merged yet)")
    assert response.status == (404 if path == "/kb/no_such_table" else 200), path
    _shot(phone, path)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE, f"{path} is {width} px wide at {PHONE} px: {phone.evaluate(WIDE)}"
    assert phone.evaluate(CLIPPED_LABELS) == [], path


@pytest.mark.parametrize("path", DATASETTE_PAGES + SITE_PAGES)
def test_every_page_fits_a_phone(server, phone, ids, path):
    _sweep(phone, server, path.format(**ids))


@pytest.mark.parametrize("path", NEW_PAGES)
def test_the_new_pages_fit_a_phone(server, phone, path):
    _sweep(phone, server, path, new=True)


def test_wide_tables_scroll_in_their_own_box(server, phone):
    phone.goto(server + routes.compare_url("pm25_annual_mean"))
    table = phone.locator("table.policykb-table").first
    box = table.evaluate("t => ({sw: t.scrollWidth, cw: t.clientWidth, o: getComputedStyle(t).overflowX})")
    assert (
        box["o"] == "auto" or table.evaluate("t => getComputedStyle(t.parentElement).overflowX") == "auto"
    ), box


@pytest.mark.parametrize("width", [1280, PHONE])
def test_clause_page_header_and_copy(server, browser, ids, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    try:
        page.goto(server + ids["clause_page"])
        _shot(page, "clause")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        meta = page.locator(".policykb-doc-meta").inner_text()
        assert meta == "怀柔区 · 北京市怀柔区生态环境局 · 2024年", meta
        # what Copy copies: the quoted words around the value, then the citation
        shown = page.locator("#citation").inner_text()
        page.locator("button.copy").click()
        page.wait_for_function("document.querySelector('button.copy').textContent.includes('已复制')")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == shown
        assert copied.startswith("“空气质量不高于28微克/立方米”——北京市怀柔区生态环境局，《"), copied
        assert copied.endswith("主要目标 › 第1段"), copied
        assert "2024年" in copied

        page.goto(server + routes.clause_url(ids["bare_clause"]))  # no issuer, number or date
        meta = page.locator(".policykb-doc-meta").inner_text()
        assert meta == "丰台区 · 2024年", meta
        assert "·  ·" not in page.locator("body").inner_text()
    finally:
        context.close()
