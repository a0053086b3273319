"""A real browser on the comparison, coverage and district pages: what a researcher sees.

Needs Debian's chromium at /usr/bin/chromium (``apt-get install -y chromium fonts-noto-cjk``);
never ``playwright install``. Run alone with ``pytest -m browser``.
"""

from __future__ import annotations

import csv
from urllib.parse import unquote

import pytest

from extractor import format as fmt
from extractor import routes
from extractor.sqlite import sqlite3
from tests.conftest_web import BROWSER_MARKS

PM25 = "pm25_annual_mean"
DISTRICTS = ["丰台区", "怀柔区", "朝阳区", "门头沟区"]
CHART = "figure.policykb-chart svg"

pytestmark = BROWSER_MARKS


def table_rows(page, selector="table.policykb-compare-table tbody tr"):
    """(district, value, kind, year) of each row of the values table, as shown."""
    rows = page.locator(selector)
    out = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        out.append(
            (
                cells.nth(0).inner_text().strip(),
                cells.nth(1).inner_text().strip(),
                rows.nth(i).locator("span.kind").inner_text().strip(),
                cells.nth(3).inner_text().strip(),
            )
        )
    return out


def axis_titles(figure) -> list[str]:
    """The titles of a chart's axes (Vega draws them as role-axis-title groups)."""
    return [t.strip() for t in figure.locator("g.role-axis-title text").all_text_contents()]


def test_pm25_across_the_four_districts_on_one_page(server, page):
    page.goto(f"{server}{routes.compare_url(PM25)}")
    page.wait_for_selector(f"{CHART} .mark-rect path")
    rows = table_rows(page)
    assert {r[0] for r in rows} == set(DISTRICTS)
    assert ("怀柔区", fmt.format_value(28.0, None, "<=", "微克/立方米"), "目标", "2024") in rows
    assert ("门头沟区", fmt.format_value(30.0, None, "=", "微克/立方米"), "目标", "2024") in rows
    assert ("朝阳区", fmt.format_value(32.0, None, "=", "微克/立方米"), "目标", "2025") in rows
    figure = page.locator("figure.policykb-chart")
    assert figure.count() == 1 and axis_titles(figure.first) == ["微克/立方米"]
    labels = figure.first.locator("svg .mark-text.role-mark text").all_text_contents()
    assert all(any(label.startswith(d) for label in labels) for d in DISTRICTS), labels


def test_pm25_shows_huairous_2023_actual_and_2024_target(server, page):
    page.goto(f"{server}{routes.compare_url(PM25)}")
    rows = table_rows(page)
    assert ("怀柔区", fmt.format_value(29.0, None, "=", "微克/立方米"), "现状", "2023") in rows
    assert ("怀柔区", fmt.format_value(28.0, None, "<=", "微克/立方米"), "目标", "2024") in rows
    page.goto(f"{server}{routes.compare_url(PM25, '怀柔区')}")
    page.wait_for_selector(f"{CHART} .mark-symbol.role-mark path")
    assert page.locator(f"{CHART} .mark-symbol.role-mark path").count() >= 2  # 2023 and 2024 on one line


def test_fengtai_is_shown_with_its_qualitative_pm25_target(server, page):
    page.goto(f"{server}{routes.compare_url(PM25)}")
    items = page.locator('#qualitative li[data-district="丰台区"]').all_inner_texts()
    assert any("市级" in item and "要求" in item and "目标" in item for item in items), items
    assert "丰台区" not in page.locator("#without").inner_text().split("：")[-1].split("（")[0]


def nox_ids(kb_path) -> list[str]:
    """The NOx indicators (amounts and rates under one id or two: no axis may mix them)."""
    with sqlite3.connect(kb_path) as c:
        return [r[0] for r in c.execute("select id from indicators where id like 'nox%' order by id")]


def test_nox_is_never_on_one_axis_with_percent(server, page, kb_path):
    """25 % beside 1730, 320 and 430 吨: each chart has one unit, titled with it; % and 吨
    are never in one chart."""
    charts = []  # (axis title, the values' labels)
    for indicator_id in nox_ids(kb_path):
        page.goto(f"{server}{routes.compare_url(indicator_id)}")
        figures = page.locator("figure.policykb-chart")
        if not figures.count():
            continue
        page.wait_for_selector(f"{CHART} .mark-rect path")
        for i in range(figures.count()):
            titles = axis_titles(figures.nth(i))
            labels = figures.nth(i).locator("svg .mark-text.role-mark text").all_text_contents()
            assert len(titles) == 1 and labels, (indicator_id, titles)
            charts.append((titles[0], labels))
    for unit, labels in charts:
        assert all(label.endswith(" " + unit) for label in labels), (unit, labels)
    units = [unit for unit, _ in charts]
    assert "%" in units and "吨" in units
    amounts = " ".join(label for unit, labels in charts if unit == "吨" for label in labels)
    assert all(n in amounts for n in ("1730", "320", "430")), amounts
    rates = " ".join(label for unit, labels in charts if unit == "%" for label in labels)
    assert "25 %" in rates, rates


def test_chart_labels_do_not_overlap_on_a_phone(server, page):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{server}{routes.compare_url(PM25)}")
    page.wait_for_selector(f"{CHART} .mark-text.role-mark text")
    boxes = page.eval_on_selector_all(
        "figure.policykb-chart svg .mark-text.role-mark text, figure.policykb-chart svg .role-axis-label text",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom, e.closest('figure').dataset.unit, e.textContent]; })",
    )
    assert boxes
    for i, a in enumerate(boxes):
        assert a[2] <= 375, a  # inside the screen
        for b in boxes[i + 1 :]:
            if a[4] == b[4]:
                overlap = min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1
                assert not overlap, (a, b)


def test_a_point_over_time_opens_its_clause(server, page):
    """One district over time: targets and actuals on one line; a point opens its clause."""
    page.goto(f"{server}{routes.compare_url('forest_coverage', '丰台区')}")
    points = page.locator(f"{CHART} .mark-symbol.role-mark path")  # not the legend's
    page.wait_for_selector(f"{CHART} .mark-symbol.role-mark path")
    assert page.locator(f"{CHART} .mark-line path").count() == 1
    assert points.count() == len(table_rows(page)) >= 3
    points.last.click()
    page.wait_for_url("**/-/clause/**")
    assert page.locator("mark.quantity.selected").count() == 1


def test_coverage_cell_opens_its_values(server, page):
    page.goto(f"{server}{routes.COVERAGE}")
    row = page.locator(f'table.policykb-matrix tr[data-indicator="{PM25}"]')
    assert row.locator("th.indicator").inner_text() == "PM2.5年均浓度"
    cell = row.locator('td[data-district="怀柔区"]')
    assert (
        "目标" in cell.inner_text() and fmt.format_value(28.0, None, "<=", "微克/立方米") in cell.inner_text()
    )
    cell.locator("a").click()
    page.wait_for_url("**/-/compare/**")
    assert unquote(page.url).endswith(f"{routes.COMPARE}/{PM25}?district=怀柔区")
    rows = table_rows(page)
    assert rows and {r[0] for r in rows} == {"怀柔区"}
    assert ("怀柔区", fmt.format_value(28.0, None, "<=", "微克/立方米"), "目标", "2024") in rows
    assert "怀柔区历年" in page.locator("h1").inner_text()


def test_district_page_of_fengtai(server, page):
    page.goto(f"{server}{routes.DISTRICT}")
    page.locator('tr[data-district="丰台区"] a').click()
    page.wait_for_url("**/-/district/**")
    assert page.locator("h1").inner_text().startswith("丰台区")
    docs = page.locator("ul.policykb-documents li").all_text_contents()
    assert any("丰台区“十四五”时期生态环境保护规划" in d and "规划" in d for d in docs), docs
    assert "不计入目标" in page.locator("#summary").inner_text()
    air = page.locator("#campaign-air")
    assert air.get_attribute("open") is not None
    first = air.locator("tbody tr").first
    assert first.locator("td.value a").count() == 1 and "据“" in first.locator("td.evidence").inner_text()
    other = page.locator("#other")
    assert other.count() == 1
    other.locator("summary").click()
    kinds = set(other.locator("span.kind").all_text_contents())
    assert kinds <= {"范围", "条件"}
    forest = page.locator('#campaign-ecology tr[data-indicator="forest_coverage"] td.value a').first
    page.locator("#campaign-ecology summary").click()
    forest.click()
    page.wait_for_url("**/-/clause/**")
    assert page.locator("mark.quantity.selected").count() == 1


PAGES = [
    routes.COMPARE,
    routes.compare_url(PM25),
    routes.compare_url("nox_reduction"),
    routes.compare_url("dustfall"),
    routes.compare_url(PM25, "怀柔区"),
    routes.compare_url("forest_coverage", "丰台区"),
    routes.COVERAGE,
    routes.DISTRICT,
    routes.district_url("丰台区"),
    routes.district_url("怀柔区"),
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_fits_a_phone(server, page, path):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{server}{path}")
    if "/-/compare/" in path:
        page.wait_for_selector(f"{CHART}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for label in page.locator("form.policykb-filters label").all():
        box = label.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert box[0] <= box[1], label.inner_text()  # form labels are not clipped


def test_csv_download_opens_in_python(server, page, tmp_path):
    page.goto(f"{server}{routes.compare_url('forest_coverage')}")
    with page.expect_download() as info:
        page.locator("a.download-csv").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name.endswith(".csv")
    raw = path.read_bytes()
    assert raw[:3] == b"\xef\xbb\xbf"
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][0] == "地区 district" and "数值 value as shown" in rows[0]
    shown = rows[0].index("数值 value as shown")
    assert len(rows) == 1 + len(table_rows(page))
    assert ("丰台区", fmt.format_value(27.97, None, "=", "%")) in {(r[0], r[shown]) for r in rows[1:]}
