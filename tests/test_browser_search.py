"""A real browser on the search page /-/search: what a person sees after typing 揚塵, a typo,
a click on a campaign facet, the page on a phone, the CSV download.

Needs Debian's chromium at /usr/bin/chromium (never ``playwright install``); the server and the
browser are started as in tests/test_browser.py. Run alone with ``pytest -m browser``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.conftest_web import BROWSER_MARKS

pytestmark = BROWSER_MARKS

AIR = "大气（蓝天保卫战）"


def test_traditional_query_from_the_home_page_finds_fengtais_clause(server, page):
    page.goto(server + "/")
    page.fill("#policykb-q", "揚塵")
    page.locator("form.policykb-search button").click()
    page.wait_for_url("**/-/search?q=*")
    assert page.title() == "检索：揚塵 · policy-kb"
    assert page.locator("#policykb-q").input_value() == "揚塵"
    hits = page.locator("li.hit")
    assert hits.count() >= 10
    fengtai = hits.filter(has_text="丰台区").filter(
        has=page.locator("p.hit-text", has_text="三是提升城市环境")
    )
    assert fengtai.count() >= 1
    text = fengtai.first.locator("p.hit-text")
    assert text.inner_text().startswith("三是")
    marks = text.locator("mark")
    assert marks.count() >= 1 and {marks.nth(i).inner_text() for i in range(marks.count())} == {"扬尘"}
    assert "降尘量" in fengtai.first.locator("ul.hit-targets").inner_text()
    # no database tooling on the page
    body = page.locator("body").inner_text()
    for tool in ["Custom SQL", "Edit SQL", "Run SQL"]:
        assert tool not in body
    # the link leads to the clause, with the query's characters marked there
    fengtai.first.locator("p.hit-link a").click()
    page.wait_for_url("**/-/clause/**")
    assert page.locator("blockquote.policykb-clause-text mark.term", has_text="扬尘").count() >= 1


def test_a_typo_gets_a_working_did_you_mean(server, page):
    page.goto(server + "/-/search?q=杨尘")
    assert "没有找到" in page.locator("#summary").inner_text()
    hint = page.locator("p.policykb-suggest")
    assert hint.inner_text().startswith("您是不是要找：扬尘")
    hint.locator("a.did-you-mean").click()
    page.wait_for_url("**/-/search?q=*")
    assert page.title() == "检索：扬尘 · policy-kb"
    assert page.locator("li.hit").count() >= 10
    assert page.locator("li.hit mark", has_text="扬尘").count() >= 10


def test_campaign_facet_narrows_by_its_chinese_name(server, page):
    page.goto(server + "/-/search?q=宣传")
    total = int(page.locator("#summary strong").inner_text())
    facet = page.locator("section.facet-campaign li a", has_text="综合")
    facet.click()
    page.wait_for_url("**campaign=general**")
    narrowed = int(page.locator("#summary strong").inner_text())
    assert 0 < narrowed < total
    assert "领域：综合" in page.locator("p.policykb-filters").inner_text()

    page.goto(server + "/-/search?q=扬尘&campaign=蓝天保卫战")  # a name, as a reader writes it
    assert f"领域：{AIR}" in page.locator("p.policykb-filters").inner_text()
    campaigns = page.locator("li.hit .campaign")
    assert campaigns.count() >= 10
    assert {campaigns.nth(i).inner_text() for i in range(campaigns.count())} == {AIR}
    selected = page.locator("section.facet-campaign li.selected")
    assert selected.count() == 1 and AIR in selected.inner_text()


def test_the_results_fit_a_phone(server, page, tmp_path):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(server + "/-/search?q=揚塵")
    assert page.locator("li.hit").count() >= 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    box = page.locator("#policykb-q").bounding_box()
    assert box and box["x"] + box["width"] <= 375
    page.goto(server + "/-/search?q=环境&page=2")
    assert "第 2 /" in page.locator("nav.policykb-pages").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(tmp_path / "search-375.png"), full_page=True)


def test_csv_download_opens_with_chinese_headers(server, page):
    page.goto(server + "/-/search?q=扬尘")
    total = int(page.locator("#summary strong").inner_text())
    with page.expect_download() as info:
        page.locator(".policykb-downloads a", has_text="CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "地区 District" and "条款原文 Clause" in rows[0]
    assert len(rows) == total + 1
    assert any(r[0] == "丰台区" and r[7].startswith("三是") for r in rows[1:])
