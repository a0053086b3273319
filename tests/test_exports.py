"""Downloads a researcher opens in Excel, from Datasette's own pages (extractor/web/renderers.py):
``.excelcsv`` (CSV for Excel: a BOM, Chinese headers, one line per row) and ``.xlsx``, both
attachments, from tables, views, rows, canned and custom queries; the links on those pages.
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

import openpyxl
import pytest

from extractor.sqlite import sqlite3
from extractor.web import export, renderers, site

BOM = b"\xef\xbb\xbf"
PM25 = "pm25_annual_mean"


def read_csv(body: bytes) -> list[list[str]]:
    assert body[:3] == BOM, body[:20]
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))
    # one line per row: as many line breaks in the file as rows, none inside a cell
    assert body.count(b"\n") == len(rows)
    assert not any("\n" in c or "\r" in c for row in rows for c in row)
    return rows


def read_xlsx(body: bytes) -> list[tuple]:
    assert body[:2] == b"PK"  # a zip: an Office Open XML workbook
    return list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))


def disposition_name(r) -> str:
    value = r.headers["content-disposition"]
    assert value.startswith("attachment;"), value
    return unquote(re.search(r"filename\*=UTF-8''(\S+)", value).group(1))


@pytest.mark.parametrize(
    "path, params, name, n_rows, header",
    [
        ("/kb/targets.excelcsv", {}, "policykb-targets.csv", "targets", "数值 value"),
        ("/kb/clauses.excelcsv", {"_size": "10"}, "policykb-clauses.csv", "clauses", "原文 text"),
        ("/kb/target_citations.excelcsv", {}, "policykb-target_citations.csv", "targets", "引用 citation"),
        (
            "/kb/targets_by_district.excelcsv",
            {"district": "怀柔"},
            "policykb-targets_by_district-怀柔.csv",
            None,
            "地区 district",
        ),
        (
            "/kb/compare_indicator.excelcsv",
            {"indicator": PM25},
            f"policykb-compare_indicator-{PM25}.csv",
            None,
            "数值 value",
        ),
        (
            "/kb/search_measures.excelcsv",
            {"q": "扬尘"},
            "policykb-search_measures-扬尘.csv",
            None,
            "摘录 snippet",
        ),
        (
            "/kb.excelcsv",
            {"sql": "select id, district from documents"},
            "policykb-query.csv",
            5,
            "地区 district",
        ),
    ],
)
async def test_csv_for_excel(ds, conn, path, params, name, n_rows, header):
    r = await ds.client.get(path, params=params)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/csv")
    assert disposition_name(r) == name
    rows = read_csv(r.content)
    assert header in rows[0], rows[0]
    if isinstance(n_rows, str):  # every row of the table, not only the page shown
        n_rows = conn.execute(f"select count(*) from {n_rows}").fetchone()[0]
    if n_rows is not None:
        assert len(rows) - 1 == n_rows
    assert len(rows) > 1
    assert all(len(row) == len(rows[0]) for row in rows)


async def test_csv_cells_hold_chinese_one_line_text_and_no_html(ds, conn):
    rows = read_csv((await ds.client.get("/kb/search_measures.excelcsv", params={"q": "扬尘"})).content)
    header = rows[0]
    snippets = [row[header.index("摘录 snippet")] for row in rows[1:]]
    assert all("扬尘" in s and "<mark>" not in s for s in snippets), snippets[:3]
    urls = [row[header.index("条款链接 clause_url")] for row in rows[1:]]
    assert all(u.startswith("http://localhost/-/clause/") for u in urls), urls[:2]  # clickable in Excel
    # the documents' texts hold line breaks: the export keeps each on one line
    rows = read_csv((await ds.client.get("/kb/documents.excelcsv")).content)
    texts = [row[rows[0].index("原文 text")] for row in rows[1:]]
    assert len(texts) == 5 and all(len(t) > 1000 for t in texts)
    assert "丰台区" in [row[rows[0].index("地区 district")] for row in rows[1:]]


async def test_xlsx_download(ds, conn):
    r = await ds.client.get("/kb/compare_indicator.xlsx", params={"indicator": PM25})
    assert r.status_code == 200
    assert r.headers["content-type"] == export.XLSX_TYPE
    assert disposition_name(r) == f"policykb-compare_indicator-{PM25}.xlsx"
    rows = read_xlsx(r.content)
    header = rows[0]
    assert header[0] == "地区 district" and "数值 value" in header
    value = header.index("数值 value")
    districts = {row[0] for row in rows[1:]}
    assert {"怀柔区", "朝阳区"} <= districts
    huairou = [row for row in rows[1:] if row[0] == "怀柔区"]
    assert any(row[value] == 28 for row in huairou)  # numbers stay numbers

    rows = read_xlsx((await ds.client.get("/kb/clauses.xlsx", params={"_size": "5"})).content)
    assert len(rows) - 1 == conn.execute("select count(*) from clauses").fetchone()[0]


async def test_row_page_download(ds, conn):
    target_id = conn.execute("select id from targets order by id limit 1").fetchone()[0]
    r = await ds.client.get(f"/kb/targets/{target_id.replace(':', '~3A')}.excelcsv")
    assert r.status_code == 200
    rows = read_csv(r.content)
    assert len(rows) == 2 and rows[1][0] == target_id


async def test_datasette_own_csv_and_json_stay(ds):
    r = await ds.client.get("/kb/targets.csv")
    assert r.status_code == 200 and r.content[:3] != BOM and r.text.startswith("id,")
    r = await ds.client.get("/kb/targets.json", params={"_size": 1})
    assert r.status_code == 200 and r.json()["rows"]


async def test_a_download_that_would_exceed_the_bound_says_so(ds, monkeypatch):
    defaults = {**site.plugin_defaults(), "export_max_rows": 10}
    monkeypatch.setattr(site, "plugin_defaults", lambda: dict(defaults))
    r = await ds.client.get("/kb/targets.excelcsv")
    assert r.status_code == 400 and "10" in r.text
    r = await ds.client.get("/kb/campaigns.excelcsv")  # 9 rows: within the bound
    assert r.status_code == 200


async def test_no_download_where_there_is_no_table(ds):
    assert (await ds.client.get("/kb.excelcsv")).status_code == 404


async def test_every_column_has_a_chinese_header(kb_path):
    """site.yml's export_headers names every column of kb.db's tables and views and of the
    canned queries (FTS shadow tables aside)."""
    from extractor.web.search import register_functions

    c = sqlite3.connect(f"file:{kb_path}?mode=ro", uri=True)
    register_functions(c)
    columns = set()
    names = c.execute(
        "select name from sqlite_master where type in ('table', 'view') and name not like '%fts%'"
    ).fetchall()
    for (name,) in names:
        columns |= {d[0] for d in c.execute(f"select * from [{name}] limit 0").description}
    for query in site.canned_queries().values():
        params = {p: "" for p in re.findall(r":(\w+)", query["sql"])}
        columns |= {d[0] for d in c.execute(query["sql"], {**params, "q": "扬尘"}).description}
    missing = sorted(col for col in columns if col not in site.export_headers())
    assert not missing, f"add these to export_headers in extractor/web/site.yml: {missing}"
    assert renderers.header("district") == "地区 district"
    assert renderers.header("no_such_column") == "no_such_column"


@pytest.mark.parametrize(
    "path",
    [
        "/kb/targets",
        "/kb/targets_by_district?district=怀柔",
        "/kb?sql=select+id+from+documents",
        "/kb/documents/fengtai-2021-2025-eco-plan",
    ],
)
async def test_pages_show_the_download_links(ds, path):
    html = (await ds.client.get(path)).text
    links = dict(
        (label, href)
        for href, label in re.findall(r'<a class="download download-\w+" href="([^"]+)">([^<]+)</a>', html)
    )
    assert set(links) == {"下载 CSV（Excel）", "下载 Excel"}, html[:200]
    for href in links.values():
        r = await ds.client.get(href.replace("&amp;", "&"))
        assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")


async def test_download_links_leave_out_the_page_position(ds):
    html = (await ds.client.get("/kb/clauses", params={"_size": 5, "_next": "5"})).text
    href = re.search(r'class="download download-excelcsv" href="([^"]+)"', html).group(1)
    assert "_next" not in href and "_size" not in href
