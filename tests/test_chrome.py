"""The site's chrome over HTTP (the browser half is tests/test_browser_chrome.py): the footer
on every page, a canned query's tab title, a quiet 404."""

from __future__ import annotations

import re


async def test_footer_names_datasette_with_its_version_on_every_page(ds, conn):
    from datasette.version import __version__

    clause_id = conn.execute("select id from clauses limit 1").fetchone()[0]
    for path in ["/", "/kb/targets", f"/-/clause/{clause_id}", "/-/compare", "/kb/no_such_table"]:
        html = (await ds.client.get(path)).text
        footer = re.search(r'<footer class="ft">(.*?)</footer>', html, re.S).group(1)
        text = re.sub(r"<[^>]+>", "", footer)
        assert f"Powered by Datasette {__version__}" in text, (path, text)
        assert "Datasette v" not in text
        assert "MIT" in text and "许可" in text, (path, text)  # the licence, also on the plugin's pages


async def test_a_canned_query_tab_is_titled_with_its_title_not_its_sql(ds):
    html = (await ds.client.get("/kb/search_measures", params={"q": "扬尘"})).text
    assert re.search(r"<title>(.*?)</title>", html).group(1) == "检索措施 Search measures · kb"


async def test_a_404_is_the_error_page_without_a_traceback(ds, capsys):
    r = await ds.client.get("/kb/no_such_table")
    assert r.status_code == 404 and "Table not found" in r.text
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
