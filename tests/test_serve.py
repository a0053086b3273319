"""Serving safely at scale (issue 12, item 5): the plugin's SQL functions bound their input, a
write attempt is a 405, the jieba dictionary is loaded at start, the coverage table is built,
and `policykb serve --locked` / `--setting` turn off arbitrary SQL and the kb.db download.

Speed is measured by bench/bench_serve.py, not here: these tests assert on results only.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from extractor import routes
from extractor.cli import main
from extractor.errors import ServeError
from extractor.kb import coverage, fts
from extractor.sqlite import sqlite3
from extractor.web import pages, search, serve
from extractor.web.serve import LOCKED_SETTINGS, make_datasette, parse_settings

# 2,000,000 characters made by SQLite itself: a Python function given all of it ran for 25 s
LONG = "replace(hex(zeroblob(250000)), '0', '扬尘管控')"


async def sql(ds, query: str):
    return await ds.client.get("/kb.json", params={"sql": query, "_shape": "array"})


async def test_tokens_of_a_long_text_are_those_of_its_first_characters(ds):
    r = await sql(ds, f"select length({LONG}) as n, policykb_tokens({LONG}) as tokens")
    assert r.status_code == 200, r.text
    row = r.json()[0]
    assert row["n"] == 2_000_000
    assert row["tokens"] == fts.tokenize("扬尘管控" * (search.SQL_MAX_TEXT_CHARS // 4))
    assert len(row["tokens"].split()) <= search.SQL_MAX_TEXT_CHARS


@pytest.mark.parametrize(
    "call, most",
    [
        (f"policykb_snippet({LONG}, '扬尘')", 1_000),
        (f"policykb_highlight({LONG}, '扬尘')", 6 * search.SQL_MAX_TEXT_CHARS),
        (f"policykb_fts({LONG})", 4 * search.SQL_MAX_QUERY_CHARS),
        (f"escape_fts({LONG})", 4 * search.SQL_MAX_QUERY_CHARS),
        (f"policykb_clause_url('c', null, {LONG})", 40 * search.SQL_MAX_QUERY_CHARS),
        (f"policykb_snippet('扬尘管控', {LONG})", 1_000),
    ],
)
async def test_every_sql_function_bounds_its_input(ds, call, most):
    r = await sql(ds, f"select length({call}) as n")
    assert r.status_code == 200, r.text
    assert 0 < r.json()[0]["n"] <= most


def test_highlight_of_a_cut_text_says_so():
    out = search.sql_highlight("扬尘" * search.SQL_MAX_TEXT_CHARS, "扬尘")
    assert out.endswith("…") and out.count("<mark") <= search.SQL_MAX_TEXT_CHARS
    assert not search.sql_highlight("扬尘管控", "扬尘").endswith("…")


@pytest.mark.parametrize(
    "path",
    ["/kb/search_measures?q=扬尘", "/kb/coverage", "/kb/clauses", "/kb", "/-/search?q=扬尘", "/"],
)
async def test_a_post_is_405_not_500(ds, path):
    for body in ({}, {"q": "扬尘", "csrftoken": "x"}):
        r = await ds.client.post(path, data=body)
        assert r.status_code == 405, (path, r.status_code)
        assert r.headers["allow"] == "GET, HEAD"
    assert (await ds.client.get(path)).status_code == 200


async def test_head_is_allowed(ds):
    r = await ds.client.request("HEAD", "/kb/search_measures?q=扬尘")
    assert r.status_code != 405


async def test_jieba_is_loaded_when_the_server_starts(kb_path, monkeypatch):
    import jieba

    monkeypatch.setattr(fts, "_JIEBA", jieba.Tokenizer())  # as in a fresh server process
    assert not fts._JIEBA.initialized
    datasette = make_datasette(kb_path)
    await datasette.invoke_startup()
    assert fts._JIEBA.initialized  # the first search does not load the dictionary


def test_coverage_cells_are_built_with_kb(kb_path):
    c = sqlite3.connect(f"file:{kb_path}?mode=ro", uri=True)
    built = c.execute(
        "select indicator_id, district, n_targets, n_actuals, states_target, n_districts"
        " from coverage_cells order by 1, 2"
    ).fetchall()
    computed = [
        (
            r["indicator_id"],
            r["district"],
            r["n_targets"],
            r["n_actuals"],
            r["states_target"],
            r["n_districts"],
        )
        for r in sorted(coverage.coverage_rows(c), key=lambda r: (r["indicator_id"], r["district"]))
    ]
    assert built == computed and built
    assert all(n_t + n_a > 0 for _, _, n_t, n_a, _, _ in built)  # only the non-empty cells
    # the pages read it by index, never by a scan sorted per request
    plan = " ".join(
        str(r)
        for r in c.execute(
            "explain query plan select * from coverage_cells order by n_districts desc, campaign,"
            " indicator_id, district"
        )
    )
    assert "TEMP B-TREE" not in plan.upper()


# -- a site that turns off arbitrary SQL and the download ---------------------------------------


async def test_counts_and_version_are_known_at_start_and_the_sha256_follows(kb_path, tmp_path):
    # Datasette would count each table on the first index page (10 ms each, then no counts)
    # and read the whole file for its sha256 in the event loop; both are known at start
    import hashlib
    import shutil
    import time

    path = tmp_path / "kb.db"
    shutil.copy(kb_path, path)
    inspected = serve.inspect_data(path)
    conn = sqlite3.connect(path)
    names = [n for (n,) in conn.execute("select name from sqlite_master where type = 'table'")]
    counts = {n: conn.execute(f"select count(*) from [{n}]").fetchone()[0] for n in names}
    conn.close()
    assert inspected["kb"]["tables"] == {n: {"count": c} for n, c in counts.items()}
    assert inspected["kb"]["size"] == path.stat().st_size and inspected["kb"]["file"] == "kb.db"
    ds = make_datasette(path)
    await ds.invoke_startup()
    db = ds.get_database("kb")
    assert (await db.table_counts())["targets"] == counts["targets"]
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    deadline = time.monotonic() + 20
    while db.hash != sha and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.hash == sha  # what sha256sum kb.db prints, once the thread has read the file
    r = await ds.client.get("/")
    assert r.status_code == 200 and " rows" in r.text  # the tables it lists, with their counts
    # another file, another version key; a file that is not SQLite, none (check_knowledge_base reports it)
    path.write_bytes(path.read_bytes() + b"\0" * 4096)
    assert serve.inspect_data(path)["kb"]["hash"] != inspected["kb"]["hash"]
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not sqlite" * 100)
    assert serve.inspect_data(bad) is None


async def test_views_are_counted_once_after_start(kb_path, monkeypatch):
    import time

    from datasette.database import Database

    ds = make_datasette(kb_path)
    await ds.invoke_startup()
    conn = sqlite3.connect(f"file:{kb_path}?mode=ro", uri=True)
    views = [n for (n,) in conn.execute("select name from sqlite_master where type = 'view'")]
    expected = {v: conn.execute(f"select count(*) from [{v}]").fetchone()[0] for v in views}
    conn.close()
    assert {"target_citations", "clause_context", "indicator_coverage"} <= set(views)
    deadline = time.monotonic() + 30
    while not set(views) <= set(ds.inspect_data["kb"]["tables"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    tables = ds.inspect_data["kb"]["tables"]  # (a new dict once the views are counted)
    assert {v: tables[v]["count"] for v in views} == expected
    db = ds.get_database("kb")
    assert set(await db.table_counts()) == set(await db.table_names())  # the views kept out
    for page in ("/", "/kb", "/kb.json"):  # the pages that list every table with its count
        assert (await ds.client.get(page)).status_code == 200, page
    sql: list[str] = []
    run = Database.execute

    async def logged(self, query, *args, **kwargs):
        sql.append(query)
        return await run(self, query, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", logged)
    for view in views:
        r = await ds.client.get(f"/kb/{view}.json", params={"_size": 1})
        assert r.status_code == 200 and r.json()["filtered_table_rows_count"] == expected[view]
    assert not [q for q in sql if q.startswith("select count(*)")]  # the page took the kept count
    filtered = await ds.client.get("/kb/target_citations.json", params={"kind": "target", "_size": 1})
    assert any(q.startswith("select count(*)") for q in sql)  # a filtered view is still counted
    assert filtered.json()["filtered_table_rows_count"] <= expected["target_citations"]


@pytest.fixture
async def locked(kb_path):
    datasette = make_datasette(kb_path, settings=LOCKED_SETTINGS)
    await datasette.invoke_startup()
    return datasette


async def test_locked_site_refuses_sql_and_the_download(locked, ds):
    assert (await locked.client.get("/kb.json", params={"sql": "select 1"})).status_code == 403
    assert (await locked.client.get("/kb.db")).status_code == 403
    # the open site answers both
    assert (await ds.client.get("/kb.json", params={"sql": "select 1"})).status_code == 200
    assert (await ds.client.get("/kb.db")).status_code == 200
    for path in (
        "/kb/search_measures.json?q=扬尘",
        "/kb/coverage.json",
        "/kb/clauses.json?_search=扬尘管控",
        "/-/search?q=扬尘",
        "/-/compare/pm25_annual_mean",
        "/-/coverage",
        "/",
    ):
        assert (await locked.client.get(path)).status_code == 200, path


def test_parse_settings():
    assert parse_settings([("default_allow_sql", "off"), ("sql_time_limit_ms", "800")]) == {
        "default_allow_sql": False,
        "sql_time_limit_ms": 800,
    }
    assert parse_settings([("allow_download", "ON")]) == {"allow_download": True}
    for bad in [("no_such_setting", "1"), ("allow_download", "maybe"), ("sql_time_limit_ms", "fast")]:
        with pytest.raises(ServeError, match=bad[0]):
            parse_settings([bad])


def test_serve_passes_locked_and_settings_through(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(serve, "serve", lambda *a, **kw: seen.update(kw))
    r = CliRunner().invoke(main, ["serve", "--locked", "--setting", "sql_time_limit_ms", "900"])
    assert r.exit_code == 0, r.output
    assert seen["settings"] == {**LOCKED_SETTINGS, "sql_time_limit_ms": 900}
    r = CliRunner().invoke(main, ["serve", "--locked", "--setting", "allow_download", "on"])
    assert seen["settings"] == {"default_allow_sql": False, "allow_download": True}  # the setting wins
    r = CliRunner().invoke(main, ["serve", "--setting", "allow_sql", "off"])
    assert r.exit_code != 0 and "E040" in r.output and "default_allow_sql" in r.output


async def test_metadata_allow_sql_false_turns_off_sql(kb_path, tmp_path):
    site = tmp_path / "metadata.yml"
    site.write_text("title: a locked site\nallow_sql: false\n", encoding="utf-8")
    datasette = make_datasette(kb_path, site)
    await datasette.invoke_startup()
    assert (await datasette.client.get("/kb.json", params={"sql": "select 1"})).status_code == 403
    assert (await datasette.client.get("/kb/search_measures.json?q=扬尘")).status_code == 200


# -- pages bounded by a page, whatever the corpus ----------------------------------------------


def _key(r):
    return r["target_id"]


def test_compare_pages_hold_every_value_once(conn):
    every = pages.compare_rows(conn, "pm25_annual_mean")
    first = pages.compare_context(conn, "pm25_annual_mean", per_page=3)
    assert first["n_selected"] == len(every) and first["n_pages"] == -(-len(every) // 3) > 1
    assert first["next_url"].endswith("?page=2") and first["prev_url"] is None
    seen = []
    for n in range(1, first["n_pages"] + 1):
        context = pages.compare_context(conn, "pm25_annual_mean", per_page=3, page=n)
        assert len(context["rows"]) <= 3 and context["page"] == n
        seen += [_key(r) for r in context["rows"]]
    assert seen == [_key(r) for r in every]  # the same order as the download, none twice
    last = pages.compare_context(conn, "pm25_annual_mean", per_page=3, page=999)
    assert last["page"] == first["n_pages"] and last["next_url"] is None
    filtered = pages.compare_context(conn, "pm25_annual_mean", per_page=2, kind="target", page=2)
    assert all(r["kind"] == "target" for r in filtered["rows"])
    assert "kind=target" in filtered["prev_url"]


def test_compare_district_filter_is_bounded(conn):
    few = pages.compare_context(conn, "pm25_annual_mean")
    assert not few["filters"]["district_input"]  # four districts: a list of all of them
    every = [d["value"] for d in few["filters"]["districts"]]
    many = pages.compare_context(conn, "pm25_annual_mean", names_shown=2)
    offered = many["filters"]["districts"]
    assert many["filters"]["district_input"] and len(offered) == 2  # a text box offering the top two
    assert many["filters"]["n_districts"] == len(every)
    counts = {d["value"]: d["n"] for d in few["filters"]["districts"]}
    assert [d["n"] for d in offered] == sorted(counts.values(), reverse=True)[:2]
    assert [r["target_id"] for r in many["rows"]] == [r["target_id"] for r in few["rows"]]
    assert len(many["district_urls"]) == len(many["over_time"]) == 2
    chosen = pages.compare_context(conn, "pm25_annual_mean", district=every[-1], names_shown=2)
    assert chosen["filters"]["district"] == every[-1]  # any district works, offered or not


def test_coverage_pages_split_the_districts(conn):
    whole = pages.coverage_context(conn, page=None)
    first = pages.coverage_context(conn, per_page=3)
    second = pages.coverage_context(conn, per_page=3, page=2)
    assert first["districts"] + second["districts"] == whole["districts"]
    assert first["n_pages"] == 2 and first["next_url"] == routes.COVERAGE + "?page=2"
    assert [r["id"] for g in first["groups"] for r in g["rows"]] == [
        r["id"] for g in whole["groups"] for r in g["rows"]
    ]  # the same indicator rows on every page
    cells = {(r["id"], c["district"]): c for g in whole["groups"] for r in g["rows"] for c in r["cells"]}
    for g in second["groups"]:
        for r in g["rows"]:
            for c in r["cells"]:
                assert c == cells[(r["id"], c["district"])]


def test_district_pages_hold_every_district_once(conn):
    whole = pages.district_index(conn)
    first = pages.district_index_context(conn, per_page=3)
    assert first["n_districts"] == len(whole) > 3 and first["n_pages"] == -(-len(whole) // 3)
    assert first["next_url"] == routes.DISTRICT + "?page=2" and first["prev_url"] is None
    seen = []
    for n in range(1, first["n_pages"] + 1):
        context = pages.district_index_context(conn, page=n, per_page=3)
        assert len(context["districts"]) <= 3 and context["page"] == n
        seen += context["districts"]
    assert seen == whole  # the same rows, counts and order as the unpaginated index
    last = pages.district_index_context(conn, page="999", per_page=3)
    assert last["page"] == first["n_pages"] and last["next_url"] is None
    assert pages.district_index_context(conn, page="x", per_page=3)["page"] == 1


async def test_district_page_and_its_download(ds):
    r = await ds.client.get(routes.DISTRICT)
    assert r.status_code == 200 and r.text.count('<tr data-district="') == 4  # one page of four
    csv = await ds.client.get(routes.DISTRICT + "?_format=csv&page=2")
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 1 + 4  # every district


async def test_coverage_query_pages_hold_every_cell_once(ds, conn):
    every = conn.execute(
        "select indicator_id, district from coverage_cells"
        " order by n_districts desc, campaign, indicator_id, district"
    ).fetchall()
    seen, n = [], 1
    while True:
        r = await ds.client.get("/kb/coverage.json", params={"_shape": "array", "page": str(n)})
        assert r.status_code == 200, r.text
        rows = r.json()
        assert len(rows) <= 100
        if not rows:
            break
        seen += [(row["indicator_id"], row["district"]) for row in rows]
        n += 1
    assert seen == [tuple(x) for x in every] and seen
    r = await ds.client.get("/kb/coverage.json", params={"_shape": "array"})  # no page: the first
    assert [(row["indicator_id"], row["district"]) for row in r.json()] == seen[:100]


def test_search_pages_hold_every_hit_once(conn):
    from extractor.web import search_page

    req = search_page.SearchRequest("扬尘")
    first = search_page.search_context(conn, req, per_page=4)
    assert first["n_pages"] > 1 and len(first["hits"]) == 4
    ids = []
    for n in range(1, first["n_pages"] + 1):
        context = search_page.search_context(conn, search_page.SearchRequest("扬尘", page=n), per_page=4)
        assert all(h["snippet_html"] for h in context["hits"])
        ids += [h["clause_id"] for h in context["hits"]]
    assert len(ids) == len(set(ids)) == first["total"]


@pytest.mark.parametrize("q", ["PM2.5浓度", "细颗粒物", "扬尘", "森林覆盖率", "降尘量"])
def test_search_lists_text_matches_then_clauses_found_only_by_a_target(conn, q):
    from extractor.web import search_page

    match = fts.fts_query(q)
    by_text = {
        r[0] for r in conn.execute("select clause_id from clauses_fts where clauses_fts match ?", [match])
    }
    by_target = {
        r[0]
        for r in conn.execute(
            "select t.clause_id from targets_fts f join targets t on t.rowid = f.rowid"
            " where targets_fts match ? and t.clause_id is not null",
            [match],
        )
    }
    ids = [r["clause_id"] for r in search_page.selection(conn, q)]
    assert len(ids) == len(set(ids))
    n = len(by_text)
    assert set(ids[:n]) == by_text  # every text match first (fewer than MAX_HITS here)
    assert set(ids[n:]) == by_target - by_text  # then every clause found only by a target


def test_every_table_page_s_default_sort_reads_an_index(conn):
    # a table page's first rows in its default order (site.yml sort / sort_desc) must not sort
    # the whole table: at 10,000 documents /kb/clauses sorted 411,348 rows for 51 (127-199 ms)
    from extractor.web import site

    tables = site.database_metadata()["tables"]
    sorted_by = {t: m.get("sort") or m.get("sort_desc") for t, m in tables.items()}
    sorted_by = {t: c for t, c in sorted_by.items() if c}
    names = {n for (n,) in conn.execute("select name from sqlite_master where type in ('table', 'view')")}
    assert {"clauses", "sections", "targets", "documents"} <= set(sorted_by)
    for table, column in sorted_by.items():
        if table not in names or table in fts.VIEWS:  # (a view's order is its query's)
            continue
        plan = " | ".join(
            r[3]
            for r in conn.execute(f"explain query plan select * from [{table}] order by [{column}] limit 51")
        )
        assert "TEMP B-TREE" not in plan, (table, column, plan)


# -- the schema read once (kb.db is immutable) ---------------------------------------------------


async def test_schema_answers_are_datasette_s_own_and_asked_once(kb_path):
    from datasette.database import Database

    from extractor.web.immutable import ImmutableDatabase

    ds = make_datasette(kb_path)
    await ds.invoke_startup()
    kept = ds.get_database("kb")
    assert isinstance(kept, ImmutableDatabase) and kept.name == "kb" and not kept.is_mutable
    plain = Database(ds, path=str(kb_path), is_mutable=False)
    plain.name = "kb"
    calls = []
    ask = kept.execute_fn

    async def counted(fn):
        calls.append(fn)
        return await ask(fn)

    kept.execute_fn = counted
    tables = await plain.table_names()

    async def answers(db) -> list:
        out = [await db.table_names(), await db.view_names(), await db.hidden_table_names()]
        out.append(await db.get_all_foreign_keys())
        for table in tables:
            out += [await db.table_columns(table), await db.table_column_details(table)]
            out += [await db.primary_keys(table), await db.fts_table(table), await db.table_exists(table)]
            out += [await db.label_column_for_table(table), await db.foreign_keys_for_table(table)]
            out.append(await db.get_table_definition(table))
        return out

    first = await answers(kept)
    asked, calls[:] = len(calls), []
    assert await answers(kept) == first == await answers(plain)
    assert asked > 3 * len(tables) and calls == []  # the second time, from memory
    # what a caller does to its answer does not reach the next caller
    (await kept.table_columns("clauses")).append("spoiled")
    assert await kept.table_columns("clauses") == await plain.table_columns("clauses")
    assert await kept.table_exists("no_such_table") is False


async def test_plain_datasette_gets_it_too_and_a_mutable_file_does_not(kb_path, tmp_path):
    import shutil

    from datasette.app import Datasette

    from extractor.web.immutable import ImmutableDatabase

    copy = tmp_path / "copy.db"
    shutil.copy(kb_path, copy)
    ds = Datasette(immutables=[str(kb_path)], files=[str(copy)])  # datasette -i kb.db copy.db
    await ds.invoke_startup()
    assert isinstance(ds.get_database("kb"), ImmutableDatabase)
    assert not isinstance(ds.get_database("copy"), ImmutableDatabase)  # it may change: asked each time
    assert (await ds.client.get("/")).status_code == 200
    assert (await ds.client.get("/kb/clauses?_search=扬尘")).status_code == 200


async def test_pages_ask_no_schema_question_twice(ds, monkeypatch):
    from datasette.database import Database

    sql: list[str] = []  # the statements that reach SQLite (past what ImmutableDatabase keeps)
    run = Database.execute

    async def logged(self, query, *args, **kwargs):
        sql.append(query)
        return await run(self, query, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", logged)
    for path in ("/", "/kb", "/kb/clauses?_search=扬尘", "/kb/targets"):
        first = await ds.client.get(path, params={"_x": 1})  # (a new URL: not a kept whole answer)
        sql.clear()
        again = await ds.client.get(path, params={"_x": 2})
        assert first.status_code == again.status_code == 200
        # Datasette asks sqlite_master once per table and page (76 times on the index page)
        assert [q for q in sql if "sqlite_master" in q] == [], path
    # a query a visitor writes or a canned query (run with truncate=True) is run each time
    kept = ds.get_database("kb")
    q = "select count(*) as n from sqlite_master where type = 'table'"
    sql.clear()
    for _ in range(2):
        assert (await kept.execute(q, truncate=True)).first()["n"] > 10
    assert sql == [q, q]
    assert (await kept.execute(q)).first()["n"] == (await kept.execute(q)).first()["n"]
    assert sql == [q, q, q]  # (Datasette's own kind of question: asked once)


# -- whole answers from memory (kb.db is immutable) --------------------------------------------


async def test_a_page_asked_twice_is_answered_from_memory(ds):
    first = await ds.client.get("/-/search?q=扬尘")
    again = await ds.client.get("/-/search?q=扬尘")
    assert (first.headers["x-policykb-cache"], again.headers["x-policykb-cache"]) == ("miss", "hit")
    assert again.text == first.text and again.status_code == 200
    other = await ds.client.get("/-/search?q=扬尘&page=2")
    assert other.headers["x-policykb-cache"] == "miss"
    with_cookie = await ds.client.get("/-/search?q=扬尘", cookies={"ds_actor": "x"})
    assert "x-policykb-cache" not in with_cookie.headers  # never shared across visitors
    missing = await ds.client.get("/-/compare/no_such_indicator")
    assert missing.status_code == 404
    assert (await ds.client.get("/-/compare/no_such_indicator")).headers["x-policykb-cache"] == "miss"


async def test_concurrent_requests_for_a_new_page_compute_it_once(ds):
    import asyncio

    path = "/-/search?q=扬尘&page=2"
    answers = await asyncio.gather(*(ds.client.get(path) for _ in range(6)))
    assert all(r.status_code == 200 for r in answers)
    assert sorted(r.headers["x-policykb-cache"] for r in answers) == ["hit"] * 5 + ["miss"]
    assert len({r.text for r in answers}) == 1
    assert ds._policykb_responses.misses == 1 and not ds._policykb_responses._computing
    missing = await asyncio.gather(*(ds.client.get("/-/compare/no_such_indicator") for _ in range(3)))
    assert [r.status_code for r in missing] == [404] * 3  # not kept: each computes its own


def test_the_response_cache_is_bounded():
    from extractor.web.responses import ResponseCache

    cache = ResponseCache(max_bytes=10, max_item_bytes=6)
    cache.put(("a",), 200, [], b"12345")
    cache.put(("b",), 200, [], b"12345")
    cache.put(("big",), 200, [], b"1234567")  # more than one item may hold
    cache.put(("c",), 200, [(b"set-cookie", b"x=1")], b"1")  # never shared
    cache.put(("d",), 500, [], b"1")
    assert cache.get(("a",)) and cache.get(("b",)) and cache.size == 10
    assert cache.get(("big",)) is None and cache.get(("c",)) is None and cache.get(("d",)) is None
    cache.get(("a",))  # a is now the most recently used: b goes first
    cache.put(("e",), 200, [], b"123")
    assert cache.get(("b",)) is None and cache.get(("a",)) and cache.get(("e",)) and cache.size == 8


# -- several server processes over one kb.db (policykb serve --workers N) ---------------------


def _get(url: str, path: str = "/kb/search_measures.json?q=%E6%89%AC%E5%B0%98&_shape=array"):
    """(status, answering worker's pid, body) of one request on a fresh connection."""
    import urllib.request

    with urllib.request.urlopen(url + path, timeout=30) as r:
        return r.status, r.headers.get(serve.WORKER_HEADER.decode()), r.read()


def _until(predicate, seconds: float):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_two_workers_answer_alike_and_a_killed_one_is_replaced(kb_path):
    import os
    import signal

    from tests.conftest_web import serving

    with serving(kb_path, "/nonexistent-corpus", timeout=90, workers=2) as url:
        answers: dict[str, bytes] = {}

        def both_answered() -> bool:
            status, pid, body = _get(url)
            assert status == 200 and pid
            answers[pid] = body
            return len(answers) == 2

        assert _until(both_answered, 90), f"only {sorted(answers)} answered"
        first, second = answers.values()
        assert first == second and b"<mark>" in first  # each process answers the same
        victim = min(answers)
        os.kill(int(victim), signal.SIGKILL)
        after: dict[str, bytes] = {}

        def replaced() -> bool:
            status, pid, body = _get(url)  # the site answers all along
            assert status == 200 and pid != victim
            after[pid] = body
            return len(after) == 2

        assert _until(replaced, 90), f"after the kill only {sorted(after)} answered"
        assert set(after) - set(answers)  # a new process took the killed one's place
        assert all(body == first for body in after.values())


def test_a_worker_that_cannot_start_stops_the_server_with_an_error(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from tests.conftest_web import ROOT, free_port

    config = {"db_path": str(tmp_path / "gone" / "kb.db"), "metadata_path": None, "settings": {}}
    code = f"from extractor.web.serve import run_workers; run_workers('127.0.0.1', {free_port()}, 2)"
    env = {**os.environ, serve.WORKER_CONFIG: json.dumps(config)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "failed to start" in done.stderr and "unable to open database file" in done.stderr
