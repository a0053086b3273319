"""A real browser on "the same measure elsewhere" (clause page) and the diffusion page, at
1280 and 375 px. Needs /usr/bin/chromium; never ``playwright install``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extractor import routes
from tests.conftest_web import BROWSER_MARKS

MTG_UNUSED_LAND = "mentougou-2024-action-plan-qa:c1773"
SHOTS = os.environ.get("POLICYKB_SHOTS")  # a folder: save screenshots there (to look at the pages)

pytestmark = BROWSER_MARKS


@pytest.mark.parametrize("width", [1280, 375])
def test_same_measure_elsewhere_and_diffusion_page(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server + routes.clause_url(MTG_UNUSED_LAND))
        section = page.locator("section.policykb-elsewhere")
        section.scroll_into_view_if_needed()
        assert "其他文件中的相同措施" in section.locator("h2").inner_text()
        first = section.locator("li.elsewhere").first
        assert first.is_visible()
        assert "朝阳区" in first.locator(".elsewhere-meta").inner_text()
        assert "相似度" in first.locator(".similarity").inner_text()
        # the shared wording is marked, visibly, on both sides
        for side in ("blockquote.mine", "blockquote.theirs"):
            marks = first.locator(f"{side} mark.shared")
            assert "未利用地保护" in marks.all_inner_texts()
            assert marks.first.evaluate("m => getComputedStyle(m).backgroundColor") != "rgba(0, 0, 0, 0)"
        mine, theirs = (first.locator(s).bounding_box() for s in ("blockquote.mine", "blockquote.theirs"))
        if width >= 1280:
            assert abs(mine["y"] - theirs["y"]) < 1 and theirs["x"] > mine["x"]  # side by side
        else:
            assert theirs["y"] > mine["y"]  # one above the other on a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if SHOTS:
            first.screenshot(path=str(Path(SHOTS) / f"diffusion-clause-{width}.png"))

        page.goto(server + routes.DIFFUSION)
        assert "措施扩散" in page.locator("h1").inner_text()
        clusters = page.locator("li.cluster")
        assert clusters.count() >= 10
        top = clusters.first
        assert "4 个地区" in top.locator("h2").inner_text() and "首次出现" in top.locator("h2").inner_text()
        assert top.locator("table.cluster-members tbody tr").count() >= 4
        assert page.locator("a.download-csv").is_visible() and page.locator("a.download-xlsx").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / f"diffusion-page-{width}.png"))
        top.locator("td.text a").first.click()
        page.wait_for_url("**/-/clause/**")
        assert page.locator("section.policykb-elsewhere li.elsewhere").count() >= 1
    finally:
        context.close()
    assert not errors, errors
