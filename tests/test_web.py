"""The Datasette publication: Chinese search, citations, canned queries, pages, exports.

Plain functions (extractor/kb/fts.py, extractor/kb/citations.py, extractor/web/search.py,
extractor/web/pages.py, extractor/format.py, extractor/routes.py) are tested without HTTP; the
rest goes through Datasette's test client against kb.db built from the corpus.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest
import sqlite_utils

from extractor import format as fmt
from extractor import routes
from extractor.kb import citations, compare, coverage, fts
from extractor.sqlite import sqlite3
from extractor.web import pages, plugin, search, site

PM25 = "pm25_annual_mean"
# The contract of the issue: district -> (value, year) of the targets a reader must find.
PM25_TARGETS = {"怀柔区": (28, 2024), "门头沟区": (30, 2024), "朝阳区": (32, 2025)}
DUSTFALL_TARGETS = {"丰台区": 5, "怀柔区": 4.5, "门头沟区": 5}
SEARCHES = ["扬尘", "扬尘管控", "燃油叉车", "PM2.5浓度"]


# -- tokens, queries, snippets (no database) ------------------------------------------------


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("扬尘管控", ["扬尘", "管控"]),
        ("燃油叉车", ["燃油", "叉车"]),
        ("PM2.5浓度", ["pm2.5", "浓度"]),
        ("协同控制 PM_{2.5} 和臭氧", ["协同", "控制", "pm2.5", "和", "臭氧"]),
        ("ＰＭ２．５年均浓度", ["pm2.5", "年均", "浓度"]),
        (
            "降尘量控制在5吨/平方公里·月",
            ["降尘", "量", "控制", "在", "5", "吨", "平方", "公里", "方公里", "平方公里", "月"],
        ),
        ("", []),
        ("，。！", []),
    ],
    ids=["扬尘管控", "燃油叉车", "PM2.5浓度", "PM_{2.5}", "full-width", "unit", "empty", "punctuation"],
)
def test_search_tokens(text, tokens):
    assert fts.search_tokens(text) == tokens
    assert fts.tokenize(text) == " ".join(tokens)


def test_tokens_ignore_words_added_to_jiebas_global_dictionary():
    import jieba

    before = fts.tokenize("细颗粒物年均浓度持续下降")
    jieba.add_word("细颗粒物年均浓度持续下降")
    try:
        assert fts.tokenize("细颗粒物年均浓度持续下降") == before
    finally:
        jieba.del_word("细颗粒物年均浓度持续下降")


@pytest.mark.parametrize(
    "q, expected",
    [
        ("扬尘", '"扬尘"'),
        ("扬尘管控", 'NEAR("扬尘" "管控", 6)'),
        ("PM2.5浓度", 'NEAR("pm2.5" "浓度", 6)'),
        ("环境质量", 'NEAR("环境" "质量", 6)'),  # 生态环境质量 is segmented 生态环境|质量
        ('a"b', 'NEAR("a" "b", 6)'),
        ("水", '"水"*'),
        ("扬尘 扬尘", '"扬尘"'),
        ("扬尘 燃油叉车", '"扬尘" AND NEAR("燃油" "叉车", 6)'),
        ("", fts.NO_MATCH),
        (None, fts.NO_MATCH),
        ("（）", fts.NO_MATCH),
    ],
)
def test_fts_query(q, expected):
    assert fts.fts_query(q) == expected


def test_fts_queries_never_raise_in_sqlite():
    db = sqlite3.connect(":memory:")
    search.register_functions(db)
    db.execute("create virtual table t using fts5(tokens)")
    db.execute("insert into t values (?)", [fts.tokenize("强化扬尘精细化管控")])
    for q in ["", "（", '"', "AND", "OR NOT", "扬尘 OR", "*", "扬尘管控", "NEAR(", "水", "水 质量", "a AND"]:
        db.execute("select count(*) from t where t match escape_fts(?)", [q]).fetchone()
    assert db.execute("select count(*) from t where t match escape_fts('扬尘管控')").fetchone() == (1,)


def test_snippet_marks_terms_in_the_original_text():
    text = "一是全力巩固空气质量改善成效，PM2.5年均浓度达到32微克/立方米，优良天数比率达到78%。"
    html = search.snippet(text, "PM2.5浓度")
    assert "<mark>PM2.5</mark>年均<mark>浓度</mark>" in html
    assert search.highlight("控制 PM_{2.5} 浓度", "pm2.5") == "控制 <mark>PM_{2.5}</mark> 浓度"
    assert search.highlight("ＰＭ２．５", "PM2.5") == "<mark>ＰＭ２．５</mark>"
    assert search.highlight("a<b>扬尘</b>", "扬尘") == "a&lt;b&gt;<mark>扬尘</mark>&lt;/b&gt;"
    long = "甲" * 200 + "扬尘管控" + "乙" * 200
    short = search.snippet(long, "扬尘管控")
    assert short.startswith("…") and short.endswith("…")
    assert "<mark>扬尘管控</mark>" in short and len(short) < 120


def test_citation_format():
    assert citations.format_citation(
        "北京市丰台区人民政府",
        "丰台区“十四五”时期生态环境保护规划",
        "丰政发〔2022〕2号",
        2022,
        "三、主要措施 › （一）蓝天保卫战",
        "三是",
    ) == (
        "北京市丰台区人民政府，《丰台区“十四五”时期生态环境保护规划》，丰政发〔2022〕2号，2022年，"
        "三、主要措施 › （一）蓝天保卫战 › 三是"
    )
    assert citations.format_citation(None, "关于《X计划》的起草说明", None, 2025, None, "第1段", page=3) == (
        "《关于〈X计划〉的起草说明》，2025年，第1段，p. 3"
    )
    assert citations.citation_year("2022-01-24", 2021) == 2022
    assert citations.citation_year(None, 2024) == 2024


def test_clause_labels():
    rows = [
        {
            "id": "d:c2",
            "document_id": "d",
            "section_id": "s1",
            "seq": 2,
            "ordinal": None,
            "kind": "paragraph",
        },
        {"id": "d:c3", "document_id": "d", "section_id": "s1", "seq": 3, "ordinal": "一是", "kind": "item"},
        {
            "id": "d:c4",
            "document_id": "d",
            "section_id": "s1",
            "seq": 4,
            "ordinal": None,
            "kind": "paragraph",
        },
        {
            "id": "d:c5",
            "document_id": "d",
            "section_id": "s2",
            "seq": 5,
            "ordinal": None,
            "kind": "paragraph",
        },
    ]
    assert citations.clause_labels(rows) == {
        "d:c2": "第1段",
        "d:c3": "一是",
        "d:c4": "第3段",
        "d:c5": "第1段",
    }


def test_cell_html_is_sanitized():
    assert pages.safe_mark_html("<mark>扬尘</mark><script>x</script>") == (
        "<mark>扬尘</mark>&lt;script&gt;x&lt;/script&gt;"
    )
    assert pages.safe_mark_html("a &lt; b") == "a &lt; b"


@pytest.mark.parametrize(
    "args, shown",
    [
        ((28.0, None, "<=", "微克/立方米"), "≤ 28 微克/立方米"),
        ((4.5, None, "<=", "吨/平方公里·月"), "≤ 4.5 吨/平方公里·月"),
        ((5.0, None, "~", "吨/平方公里·月"), "约 5 吨/平方公里·月"),
        ((32.0, None, "=", "微克/立方米"), "= 32 微克/立方米"),
        ((40.0, 50.0, ">=", "%"), "≥ 40–50 %"),
        ((5.0, 10.0, "=", "%"), "5–10 %"),
        ((None, None, "=", "", "达到市级要求"), "达到市级要求"),
    ],
)
def test_format_value(args, shown):
    assert fmt.format_value(*args) == shown
    assert pages.format_value is fmt.format_value  # the pages show the same


def test_routes():
    assert routes.clause_url("a:c1", "a:t2", "扬尘") == "/-/clause/a:c1?target=a:t2&q=%E6%89%AC%E5%B0%98"
    assert routes.clause_url(None) is None
    assert routes.compare_url("pm25_annual_mean") == "/-/compare/pm25_annual_mean"
    assert re.match(routes.CLAUSE_PATTERN, "/-/clause/a:c1").group("clause_id") == "a:c1"
    assert re.match(routes.COMPARE_PATTERN, "/-/compare/dustfall").group("indicator_id") == "dustfall"
    assert re.match(routes.COMPARE_INDEX_PATTERN, "/-/compare/")


# -- the built kb.db ----------------------------------------------------------------------


def test_index_structures_exist_and_fts_rowids_match(kb_path):
    db = sqlite_utils.Database(kb_path)
    names = set(db.table_names())
    assert {"clauses_fts", "targets_fts", "clause_targets_fts", "clause_citations"} <= names
    assert {"target_citations", "clause_context", "indicator_coverage"} <= set(db.view_names())
    assert db.execute(
        "select count(*) from clauses_fts f join clauses c on c.rowid = f.rowid where c.id != f.clause_id"
    ).fetchone() == (0,)
    assert db["clauses_fts"].count == db["clauses"].count
    assert db["targets_fts"].count == db["targets"].count
    assert db["clause_citations"].count == db["clauses"].count
    assert db.execute(
        "select count(*) from target_citations where citation is null or citation = ''"
    ).fetchone() == (0,)


def test_index_database_is_deterministic(kb_path, tmp_path):
    copy = tmp_path / "kb.db"
    shutil.copy(kb_path, copy)
    db = sqlite_utils.Database(copy)

    def dump():
        for name in ("targets_fts", "clause_targets_fts"):  # contentless: their index, token for token
            db.execute(
                f"create virtual table if not exists temp.v_{name} using fts5vocab(main, {name}, 'instance')"
            )
        return (
            list(db.execute("select rowid, clause_id, tokens from clauses_fts order by rowid")),
            list(db.execute("select * from temp.v_targets_fts order by 1, 2, 3, 4")),
            list(db.execute("select * from temp.v_clause_targets_fts order by 1, 2, 3, 4")),
            list(db.execute("select * from clause_citations order by clause_id")),
            list(db.execute("select * from target_citations order by target_id")),
        )

    before = dump()
    fts.index_database(db)
    assert dump() == before


@pytest.mark.parametrize("q", ["扬尘", "燃油叉车", "扬尘管控", "环境质量", "PM2.5"])
def test_fts_finds_every_clause_containing_the_word(conn, q):
    expected = {
        r[0]
        for r in conn.execute("select id, text from clauses")
        if fts.normalize_for_search(r[1]).text.find(fts.normalize_for_search(q).text) >= 0
    }
    found = {
        r[0]
        for r in conn.execute(
            "select clause_id from clauses_fts where clauses_fts match policykb_fts(?)", [q]
        )
    }
    assert expected and expected <= found


def test_views_write_values_and_links_as_the_pages_do(conn):
    rows = conn.execute(
        """select t.value, t.value_max, t.comparator, t.unit, t.value_text, t.year, t.indicator_id, d.district
           from targets t join documents d on d.id = t.document_id
           where t.kind = 'target' and t.indicator_id is not null order by t.rowid"""
    ).fetchall()
    expected: dict[tuple, list[str]] = {}
    for value, value_max, comparator, unit, value_text, year, indicator_id, district in rows:
        shown = fmt.format_value(value, value_max, comparator, unit, value_text) + (
            f" ({year})" if year else ""
        )
        expected.setdefault((indicator_id, district), []).append(shown)
    coverage = {
        (i, d): (v, url)
        for i, d, v, url in conn.execute(
            'select indicator_id, district, "values", compare_url from indicator_coverage'
        )
    }
    for key, values in expected.items():
        assert sorted(coverage[key][0].split("; ")) == sorted(values), key
    assert all(url == routes.compare_url(i) for (i, _), (_, url) in coverage.items())
    # every indicator x district, a target count and flag that are the targets', NULL values for none
    indicators = [i for (i,) in conn.execute("select id from indicators")]
    districts = [
        d for (d,) in conn.execute("select distinct district from documents where district is not null")
    ]
    cells = {
        (i, d): (states, n, v)
        for i, d, states, n, v in conn.execute(
            'select indicator_id, district, states_target, n_targets, "values" from indicator_coverage'
        )
    }
    assert sorted(cells) == sorted((i, d) for i in indicators for d in districts)
    for key, (states, n, v) in cells.items():
        assert n == len(expected.get(key, [])) and states == (1 if n else 0), key
        assert (v is None) == (n == 0), key
    plan = " ".join(
        r[-1]
        for r in conn.execute("explain query plan select * from indicator_coverage where district = '丰台区'")
    )
    # the cells read by key (the view's alias c for coverage_cells), no target read
    assert re.search(r"SEARCH c USING (COVERING )?INDEX \S+ \(indicator_id=\? AND district=\?\)", plan), plan
    assert "targets" not in plan
    for target_id, clause_id, url in conn.execute(
        "select target_id, clause_id, clause_url from target_citations limit 50"
    ):
        assert url == routes.clause_url(clause_id, target_id)


def test_citations_in_the_built_db(conn):
    row = conn.execute(
        "select citation from clause_citations where clause_id in "
        "(select id from clauses where document_id = 'fengtai-2021-2025-eco-plan') limit 1"
    ).fetchone()
    assert row[0].startswith(
        "北京市丰台区人民政府，《丰台区“十四五”时期生态环境保护规划》，丰政发〔2022〕2号，2022年"
    )


# -- pages as plain functions ---------------------------------------------------------------


def _values(rows, kind="target"):
    """district -> the (value, year) pairs of its numeric values of ``kind``."""
    out: dict[str, set] = {}
    for r in rows:
        if r["kind"] == kind and r["value"] is not None:
            out.setdefault(r["district"], set()).add((r["value"], r["year"]))
    return out


def test_compare_context_pm25(conn):
    context = pages.compare_context(conn, PM25)
    values = _values(context["rows"])
    for district, (value, year) in PM25_TARGETS.items():
        assert (value, year) in values.get(district, ()), (district, values)
    huairou = next(r for r in context["rows"] if r["district"] == "怀柔区" and r["kind"] == "target")
    assert huairou["display"].startswith("≤ 28")
    assert '<mark class="quantity">28微克/立方米</mark>' in huairou["excerpt_html"]
    assert huairou["url"].startswith("/-/clause/huairou-2024-action-plan-draft-explanation:c")
    assert [g["unit"] for g in context["groups"]] == ["微克/立方米"]
    spec = context["groups"][0]["spec"]
    assert spec["$schema"].endswith("vega-lite/v5.json")
    assert {v["district"] for v in spec["data"]["values"]} >= set(PM25_TARGETS)
    assert all(v["href"].startswith("/-/clause/") for v in spec["data"]["values"])
    assert spec["layer"][0]["encoding"]["x"]["title"] == "微克/立方米"


def test_compare_context_dustfall_and_unknown(conn):
    context = pages.compare_context(conn, "dustfall")
    values = {d: {v for v, _ in pairs} for d, pairs in _values(context["rows"]).items()}
    for district, value in DUSTFALL_TARGETS.items():
        assert value in values.get(district, ()), (district, values)
    # one deposition chart, its axis the unit as the plans write it, ·月 intact
    assert [g["spec"]["layer"][0]["encoding"]["x"]["title"] for g in context["groups"]] == ["吨/平方公里·月"]
    assert pages.compare_context(conn, "no_such_indicator") is None


def nox_ids(conn) -> list[str]:
    """The NOx indicators (one id for amounts and rates, or one each: either way no axis mixes them)."""
    return [r[0] for r in conn.execute("select id from indicators where id like 'nox%' order by id")]


def test_compare_never_puts_two_dimensions_on_one_axis(conn):
    """NOx: 25 % (a reduction rate) and 1730/320/430 吨 (amounts) are never on one axis; every
    chart of every indicator holds one dimension and unit and is titled with it."""
    by_unit: dict[str, set[float]] = {}
    for indicator_id in nox_ids(conn):
        for g in pages.compare_context(conn, indicator_id)["groups"]:
            by_unit.setdefault(g["unit"], set()).update(r["value"] for r in g["rows"])
    assert by_unit["吨"] >= {1730.0, 320.0, 430.0} and 25.0 in by_unit["%"]
    assert 25.0 not in by_unit["吨"] and not {1730.0, 320.0, 430.0} & by_unit["%"]
    for (indicator_id,) in conn.execute(
        "select distinct indicator_id from targets where indicator_id is not null"
    ):
        for g in pages.compare_context(conn, indicator_id)["groups"]:
            assert len({(r["dimension"], r["canonical_unit"]) for r in g["rows"]}) == 1, indicator_id
            assert g["spec"]["layer"][0]["encoding"]["x"]["title"] == (g["unit"] or "（无单位）"), (
                indicator_id
            )


def test_unit_groups_convert_within_a_dimension_never_across():
    def row(value, unit, canonical, dimension, value_canonical):
        return {
            "value": value,
            "value_max": None,
            "unit": unit,
            "canonical_unit": canonical,
            "dimension": dimension,
            "value_canonical": value_canonical,
        }

    rows = [
        row(1.5, "万吨", "t", "mass", 15000.0),
        row(320.0, "吨", "t", "mass", 320.0),
        row(430.0, "吨", "t", "mass", 430.0),
        row(25.0, "%", "%", "ratio", 25.0),
        row(3.0, "万户", "户", "count", 30000.0),
        row(12.0, "辆", "辆", "count", 12.0),
        {**row(None, None, None, "", None), "value_text": "稳步提升"},
    ]
    groups = {(g["dimension"], g["unit"]): g for g in pages.unit_groups(rows)}
    assert set(groups) == {("mass", "吨"), ("ratio", "%"), ("count", "万户"), ("count", "辆")}
    mass = groups[("mass", "吨")]
    assert mass["converted"] and [r["chart_value"] for r in mass["rows"]] == [15000.0, 320.0, 430.0]
    assert not groups[("ratio", "%")]["converted"]
    assert sum(len(g["rows"]) for g in groups.values()) == 6  # the qualitative one is not plotted


def test_compare_shows_every_value_and_filters(conn):
    every = conn.execute("select count(*) from targets where indicator_id = 'forest_coverage'").fetchone()[0]
    context = pages.compare_context(conn, "forest_coverage")
    assert len(context["rows"]) == context["n_all"] == every >= 5
    index = {r["id"]: r for r in pages.indicator_index(conn)}
    assert index["forest_coverage"]["n_values"] == len(
        context["rows"]
    )  # the index counts what the page shows
    fengtai = [(r["kind"], r["year"], r["value"]) for r in context["rows"] if r["district"] == "丰台区"]
    assert ("actual", 2020, 27.97) in fengtai and ("target", 2020, 27.9) in fengtai
    actual = pages.compare_context(conn, "forest_coverage", kind="actual", year="2020")
    assert actual["rows"] and {(r["kind"], r["year"]) for r in actual["rows"]} == {("actual", 2020)}
    assert actual["filters"]["active"] and actual["n_all"] == every
    nonsense = pages.compare_context(conn, "forest_coverage", kind="<script>", year="x", district="火星区")
    assert len(nonsense["rows"]) == every and not nonsense["filters"]["active"]
    nox = [r for i in nox_ids(conn) for r in pages.compare_context(conn, i)["rows"]]
    assert ("丰台区", "actual", 45.0) in {(r["district"], r["kind"], r["value"]) for r in nox}


def _same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _compare_cases(conn, indicator_id: str) -> list[dict]:
    """Filters and pages of one indicator's comparison page: none, each kind, each year, each
    district with a value, one without, an unknown one, pages past the first and past the last,
    and lists cut short (``names_shown``) so the text box and the cut lists are reached."""
    kinds = [
        k for (k,) in conn.execute("select distinct kind from targets where indicator_id = ?", [indicator_id])
    ]
    years = [
        y for (y,) in conn.execute("select distinct year from targets where indicator_id = ?", [indicator_id])
    ]
    with_values = [
        d
        for (d,) in conn.execute(
            "select distinct d.district from targets t join documents d on d.id = t.document_id"
            " where t.indicator_id = ?",
            [indicator_id],
        )
    ]
    other = [d for d in pages.districts(conn) if d not in with_values]
    cases: list[dict] = [{}, {"page": 2}, {"page": 10**6}, {"district": "火星区"}, {"names_shown": 1}]
    cases += [{"kind": k} for k in kinds] + [{"year": y} for y in years if y]
    cases += [{"kind": "target", "year": y, "page": 2, "per_page": 1} for y in years if y]
    for d in [*with_values, *other[:1]]:
        cases += [{"district": d}, {"district": d, "names_shown": 1}, {"district": d, "kind": "target"}]
    cases += [{"per_page": 2, "page": p, "names_shown": 2} for p in (1, 2, 3)]
    return cases


def test_the_comparison_tables_give_the_pages_the_targets_give(conn):
    """The comparison page read from compare_order and compare_districts (built with kb.db) is
    the page computed from every target: the same rows in the same order, counts and lists, for
    every indicator, filter and page."""
    assert compare.has_tables(conn)
    indicators = [
        i for (i,) in conn.execute("select distinct indicator_id from targets where indicator_id is not null")
    ]
    n = 0
    for indicator_id in indicators:
        for case in _compare_cases(conn, indicator_id):
            new = pages.compare_context(conn, indicator_id, tables=True, **case)
            old = pages.compare_context(conn, indicator_id, tables=False, **case)
            assert _same(new, old), (indicator_id, case)
            n += 1
    assert n > 500 and len(indicators) > 20
    # one row per value of an indicator, its key the pages' order
    counted = "select indicator_id, count(*) from {} where indicator_id is not null group by 1 order by 1"
    assert (
        conn.execute(counted.format("compare_order")).fetchall()
        == conn.execute(counted.format("targets")).fetchall()
    )
    for indicator_id in indicators:
        ids = conn.execute(
            f"select target_id from compare_order where indicator_id = ? order by {compare.KEY}",
            [indicator_id],
        ).fetchall()
        assert [i for (i,) in ids] == [
            r["target_id"] for r in pages.value_rows(conn, indicator_id=indicator_id)
        ]


def test_a_kb_db_without_the_comparison_tables_is_served(kb_path, tmp_path):
    copy = tmp_path / "kb.db"
    shutil.copy(kb_path, copy)
    c = sqlite3.connect(copy)
    before = pages.compare_context(c, PM25, kind="target")
    unassigned = pages._unassigned_values(c)  # from compare_order
    c.execute("drop table compare_order")
    c.execute("drop table compare_districts")
    assert not compare.has_tables(c)
    assert _same(pages.compare_context(c, PM25, kind="target"), before)
    assert pages._unassigned_values(c) == unassigned > 0  # from the targets
    c.close()


def test_one_district_over_time(conn):
    context = pages.compare_context(conn, "forest_coverage", district="丰台区")
    assert {r["district"] for r in context["rows"]} == {"丰台区"}
    (group,) = context["groups"]
    spec = group["spec"]
    assert spec["encoding"]["x"]["field"] == "year" and spec["encoding"]["y"]["title"] == "%"
    marks = [layer["mark"] for layer in spec["layer"]]
    assert marks[0]["type"] == "line"  # actuals and targets on one line
    assert {m["type"] for m in marks[1:]} == {"point"} and {m["filled"] for m in marks[1:]} == {True, False}
    assert {v["year"] for v in spec["data"]["values"]} == {"2020", "2025"}
    assert all(v["href"].startswith("/-/clause/") for v in spec["data"]["values"])


def _with_qualitative_target(kb_path, tmp_path):
    """A copy of kb.db with 丰台's qualitative PM2.5 target of its plan table (达到市级要求)."""
    copy = tmp_path / "kb.db"
    shutil.copy(kb_path, copy)
    c = sqlite3.connect(copy)
    doc, clause = c.execute(
        "select document_id, id from clauses where document_id = 'fengtai-2021-2025-eco-plan' limit 1"
    ).fetchone()
    c.execute(
        "insert into targets (id, document_id, clause_id, indicator, indicator_id, kind, year, dimension,"
        " value_text, campaign, start, \"end\") values (?, ?, ?, 'PM2.5', ?, 'target', 2025, '', ?, 'air', 0, 1)",
        [doc + ":t999999", doc, clause, PM25, "达到市级要求"],
    )
    c.execute("drop table coverage_cells")  # the build's coverage table, made again with the new target
    coverage.build_coverage(sqlite_utils.Database(c))
    compare.fill_compare(sqlite_utils.Database(c), ["丰台区"])  # as a rebuild of 丰台区 does
    c.commit()
    search.register_functions(c)
    return c


def test_a_qualitative_target_is_a_target(kb_path, tmp_path):
    c = _with_qualitative_target(kb_path, tmp_path)
    context = pages.compare_context(c, PM25)
    assert _same(context, pages.compare_context(c, PM25, tables=False))
    dump = "select * from compare_order", "select * from compare_districts"  # in primary key order
    written = [c.execute(q).fetchall() for q in dump]  # by the update of 丰台区's indicators
    compare.fill_compare(sqlite_utils.Database(c))
    assert [c.execute(q).fetchall() for q in dump] == written  # what a full build writes
    assert "丰台区" not in context["districts_without"]
    assert context["districts_qualitative"] == ["丰台区"]
    q = next(r for r in context["qualitative"] if r["target_id"].endswith(":t999999"))
    assert q["display"] == "达到市级要求" and q["kind_label"] == "目标" and q["url"]
    assert all(r["value"] is not None for g in context["groups"] for r in g["rows"])  # not plotted
    cell = next(
        cell
        for g in pages.coverage_context(c)["groups"]
        for r in g["rows"]
        if r["id"] == PM25
        for cell in r["cells"]
        if cell["district"] == "丰台区"
    )
    assert (
        cell["n_targets"] >= 1 and cell["latest"]["qualitative"] and "市级要求" in cell["latest"]["display"]
    )
    c.close()


def test_pm25_page_has_huairous_2023_actual_and_fengtais_qualitative_target(conn):
    context = pages.compare_context(conn, PM25)
    shown = {(r["district"], r["kind"], r["year"], r["value"]) for r in context["rows"]}
    assert ("怀柔区", "actual", 2023, 29.0) in shown and ("怀柔区", "target", 2024, 28.0) in shown
    assert any(r["district"] == "丰台区" and "市级要求" in r["display"] for r in context["qualitative"])
    assert "丰台区" not in context["districts_without"]


def test_coverage_context(conn):
    context = pages.coverage_context(conn)
    assert context["districts"] == ["丰台区", "怀柔区", "朝阳区", "门头沟区"]
    rows = {r["id"]: r for g in context["groups"] for r in g["rows"]}
    campaign_of = {r["id"]: g["campaign"]["id"] for g in context["groups"] for r in g["rows"]}
    assert campaign_of[PM25] == "air" and rows[PM25]["name_zh"] == "PM2.5年均浓度"
    cells = {c["district"]: c for c in rows[PM25]["cells"]}
    for district, (_value, year) in PM25_TARGETS.items():
        assert cells[district]["n_targets"] >= 1 and cells[district]["latest"]["year"] == year
        assert cells[district]["url"] == routes.compare_url(PM25, district)
    assert cells["丰台区"]["n_actuals"] >= 2  # its 2020 values, shown beside the others' targets
    # counts of the cells are targets and actuals of the indicator only, never scope or condition
    counted = sum(c["n_targets"] + c["n_actuals"] for r in rows.values() for c in r["cells"])
    expected = conn.execute(
        "select count(*) from targets where indicator_id is not null and kind in ('target', 'actual')"
    ).fetchone()[0]
    assert counted == expected
    assert all(
        any(c["n_targets"] or c["n_actuals"] for c in r["cells"]) for r in rows.values()
    )  # rows without a value are listed apart
    assert {i["id"] for i in context["empty"]}.isdisjoint(rows)


def test_district_context(conn):
    assert pages.district_context(conn, "火星区") is None
    context = pages.district_context(conn, "丰台区")
    assert [d["id"] for d in context["documents"]] == [
        "fengtai-2021-2025-eco-plan",
        "fengtai-2024-action-plan-interpretation",
    ]
    kinds = {r["kind"] for g in context["groups"] for r in g["rows"]}
    assert kinds <= {"target", "actual"} and {r["kind"] for r in context["other"]} <= {"scope", "condition"}
    n = conn.execute(
        "select kind, count(*) from targets t join documents d on d.id = t.document_id"
        " where d.district = '丰台区' group by kind"
    ).fetchall()
    n = dict(n)
    assert context["n_targets"] == n["target"] and context["n_actuals"] == n["actual"]
    assert len(context["other"]) == n.get("scope", 0) + n.get("condition", 0)
    assert context["groups"][0]["campaign"]["id"] == "air"
    forest = next(r for g in context["groups"] for r in g["rows"] if r["indicator_id"] == "forest_coverage")
    assert forest["kind_evidence"] and forest["url"].startswith("/-/clause/")
    assert forest["compare_url"] == routes.compare_url("forest_coverage", "丰台区")
    index = {r["district"]: r for r in pages.district_index(conn)}
    assert index["丰台区"]["n_targets"] == n["target"] and index["丰台区"]["n_documents"] == 2
    assert index["丰台区"]["n_scope"] == n.get("scope", 0) + n.get("condition", 0)


def test_clause_context_highlights_the_target_quantity(conn):
    target = conn.execute(
        'select id, clause_id, start, "end", document_id from targets where indicator_id = ? and value = 28',
        [PM25],
    ).fetchone()
    assert target, "the Huairou PM2.5 target (28) is missing from kb.db"
    target_id, clause_id, start, end, doc_id = target
    quantity = conn.execute(
        "select substr(text, ?, ?) from documents where id = ?", [start + 1, end - start, doc_id]
    ).fetchone()[0]
    context = pages.clause_context(conn, clause_id, target_id)
    assert f'<mark class="quantity selected">{quantity}</mark>' in context["clause_html"]
    assert context["selected"]["target_id"] == target_id
    assert context["clause"]["citation"].startswith("北京市怀柔区生态环境局，《")
    assert any(t["compare_url"] == f"/-/compare/{PM25}" for t in context["targets"])
    assert context["before"] or context["after"]
    assert pages.clause_context(conn, "no:c1") is None


def test_indicator_index(conn):
    ids = [r["id"] for r in pages.indicator_index(conn)]
    assert PM25 in ids and "dustfall" in ids
    assert ids.index(PM25) < 10 and ids.index("dustfall") < 10  # the covered ones come first


# -- Datasette: search box, canned queries, exports, pages ---------------------------------


async def get_json(ds, path, **params):
    r = await ds.client.get(path, params={**params, "_shape": "array"} if params is not None else None)
    assert r.status_code == 200, (path, r.status_code, r.text[:500])
    return r.json()


@pytest.mark.parametrize("q", SEARCHES)
async def test_search_box_on_clauses_table(ds, q):
    rows = await get_json(ds, "/kb/clauses.json", _search=q, _size="max")
    assert rows, f"?_search={q} found nothing"
    normalized = [fts.normalize_for_search(r["text"]).text for r in rows]
    for term in fts.query_terms(q):
        assert all(term in t for t in normalized), (q, term)
    if q == "PM2.5浓度":
        assert any("PM2.5年均浓度达到32" in r["text"] for r in rows)
    if q == "燃油叉车":
        assert {r["document_id"] for r in rows} >= {
            "mentougou-2024-action-plan-qa",
            "fengtai-2024-action-plan-interpretation",
        }


async def test_the_coverage_view_filters_and_facets_by_its_counts(ds, conn):
    """A filter or facet link of the indicator_coverage page (?states_target=1, a text parameter)
    finds the districts that state a target, as on a table's INTEGER column."""
    stated = conn.execute("select count(*) from indicator_coverage where states_target = 1").fetchone()[0]
    assert stated > 0
    data = (
        await ds.client.get("/kb/indicator_coverage.json?states_target=1&_shape=objects&_size=max")
    ).json()
    assert len(data["rows"]) == stated and all(r["states_target"] == 1 for r in data["rows"])
    data = (
        await ds.client.get("/kb/indicator_coverage.json?n_targets__gte=2&_shape=objects&_size=max")
    ).json()
    assert data["rows"] and all(r["n_targets"] >= 2 for r in data["rows"])


async def test_search_box_html_page(ds):
    r = await ds.client.get("/kb/clauses", params={"_search": "扬尘管控"})
    assert r.status_code == 200
    assert 'name="_search"' in r.text and "扬尘管控" in r.text
    assert '<html lang="zh-CN">' in r.text


async def test_search_box_on_targets_table(ds):
    rows = await get_json(ds, "/kb/targets.json", _search="降尘", _size="max")
    assert {r["value"] for r in rows if r["indicator_id"] == "dustfall"} >= {5.0, 4.5}


async def test_canned_query_search_measures(ds):
    rows = await get_json(ds, "/kb/search_measures.json", q="扬尘")
    assert rows
    assert set(rows[0]) >= {"district", "campaign", "title", "section", "snippet", "citation", "clause_url"}
    assert all("<mark>扬尘</mark>" in r["snippet"] for r in rows)
    assert {r["district"] for r in rows} >= {"丰台区", "怀柔区", "门头沟区"}
    for district in ("怀柔", "怀柔区", "huairou"):
        only = await get_json(ds, "/kb/search_measures.json", q="扬尘", district=district)
        assert only and {r["district"] for r in only} == {"怀柔区"}
    air = await get_json(ds, "/kb/search_measures.json", q="扬尘", campaign="air")
    assert air and {r["campaign"] for r in air} == {"air"}
    assert await get_json(ds, "/kb/search_measures.json", q="") == []


async def test_canned_query_search_measures_html_renders_marks_and_links(ds):
    r = await ds.client.get("/kb/search_measures", params={"q": "燃油叉车"})
    assert r.status_code == 200
    assert "<mark>燃油</mark>" in r.text or "<mark>燃油叉车</mark>" in r.text
    assert re.search(r'<a href="/-/clause/[^"]+\?q=%E7%87%83', r.text)


async def test_canned_query_compare_indicator(ds):
    rows = await get_json(ds, "/kb/compare_indicator.json", indicator=PM25)
    assert set(rows[0]) >= {
        "district",
        "value",
        "value_max",
        "unit",
        "comparator",
        "kind",
        "year",
        "clause",
        "citation",
    }
    targets = {r["district"]: (r["value"], r["year"]) for r in rows if r["kind"] == "target"}
    for district, expected in PM25_TARGETS.items():
        assert targets.get(district) == expected
    every = {
        r[0]
        for r in sqlite3.connect(ds.databases["kb"].path).execute(
            "select id from targets where indicator_id = ?", [PM25]
        )
    }
    assert {r["target_id"] for r in rows} == every, "every value, none dropped"
    assert {"dimension", "value_text", "kind_evidence"} <= set(rows[0])
    huairou = next(r for r in rows if r["district"] == "怀柔区" and r["year"] == 2024)
    assert huairou["comparator"] == "<=" and "28微克/立方米" in huairou["clause"]
    dust = await get_json(ds, "/kb/compare_indicator.json", indicator="dustfall")
    values = {r["district"]: r["value"] for r in dust if r["kind"] == "target"}
    for district, value in DUSTFALL_TARGETS.items():
        assert values.get(district) == value


async def test_canned_query_coverage(ds):
    rows = await get_json(ds, "/kb/coverage.json", _size="max")
    cell = {(r["indicator_id"], r["district"]): r["states_target"] for r in rows}
    for district in PM25_TARGETS:
        assert cell[(PM25, district)] == 1
    for district in DUSTFALL_TARGETS:
        assert cell[("dustfall", district)] == 1
    assert not cell.get(("dustfall", "朝阳区"))  # Chaoyang's 2025 plan states no dustfall target
    # the non-empty cells of the matrix: each has a target or an actual value, once
    assert all(r["n_targets"] + r["n_actuals"] > 0 for r in rows) and len(cell) == len(rows)
    assert all(r["states_target"] == (r["n_targets"] > 0) for r in rows)
    assert [r["n_districts"] for r in rows] == sorted((r["n_districts"] for r in rows), reverse=True)
    forest = {r["district"]: r for r in rows if r["indicator_id"] == "forest_coverage"}
    assert (forest["丰台区"]["n_targets"], forest["丰台区"]["n_actuals"]) == (3, 2)  # counted apart
    assert forest["丰台区"]["compare_url"] == "/-/compare/forest_coverage?district=丰台区"
    scope_only = sqlite3.connect(ds.databases["kb"].path).execute(
        "select t.indicator_id, d.district, count(*) from targets t join documents d on d.id = t.document_id"
        " where t.kind in ('scope', 'condition') and t.indicator_id is not null group by 1, 2"
    )
    for indicator_id, district, n in scope_only:
        stated = (
            sqlite3.connect(ds.databases["kb"].path)
            .execute(
                "select count(*) from targets t join documents d on d.id = t.document_id where t.indicator_id = ?"
                " and d.district = ? and t.kind in ('target', 'actual')",
                [indicator_id, district],
            )
            .fetchone()[0]
        )
        row = next((r for r in rows if r["indicator_id"] == indicator_id and r["district"] == district), None)
        assert (row["n_targets"] + row["n_actuals"] if row else 0) == stated, (indicator_id, district, n)


async def test_canned_query_targets_by_district(ds):
    rows = await get_json(ds, "/kb/targets_by_district.json", district="门头沟", _size="max")
    assert rows and {r["district"] for r in rows} == {"门头沟区"}
    assert {(r["indicator_id"], r["value"]) for r in rows} >= {(PM25, 30.0), ("dustfall", 5.0)}
    assert all(r["citation"] for r in rows)
    assert {r["kind"] for r in rows} <= {"target", "actual"}  # scope and conditions are not targets
    everyone = await get_json(ds, "/kb/targets_by_district.json", district="", _size="max")
    assert {r["district"] for r in everyone} >= set(PM25_TARGETS) | set(DUSTFALL_TARGETS)


@pytest.mark.parametrize(
    "path, params",
    [
        ("/kb/compare_indicator.csv", {"indicator": PM25}),
        ("/kb/targets_by_district.csv", {"district": "怀柔"}),
        ("/kb/search_measures.csv", {"q": "扬尘"}),
        ("/kb/target_citations.csv", {"_size": "max"}),
    ],
)
async def test_csv_export_includes_citation(ds, path, params):
    r = await ds.client.get(path, params=params)
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and "citation" in rows[0]
    assert all(row["citation"] for row in rows)


async def test_json_export_of_tables_and_views(ds):
    for table in [
        "documents",
        "clauses",
        "targets",
        "indicators",
        "campaigns",
        "sections",
        "clause_citations",
        "target_citations",
        "indicator_coverage",
    ]:
        r = await ds.client.get(f"/kb/{table}.json", params={"_size": "1"})
        assert r.status_code == 200, table
    rows = await get_json(ds, "/kb/target_citations.json", indicator_id="dustfall")
    assert rows and all("citation" in r and r["citation"] for r in rows)


async def test_metadata_describes_every_column(ds, kb_path):
    db = sqlite_utils.Database(kb_path)
    tables = site.database_metadata()["tables"]  # shipped with the package (extractor/web/site.yml)
    for name in [
        "documents",
        "campaigns",
        "sections",
        "clauses",
        "indicators",
        "targets",
        "clause_citations",
        "target_citations",
        "clause_context",
        "indicator_coverage",
    ]:
        table = db[name] if name in db.table_names() else db.view(name) if hasattr(db, "view") else db[name]
        columns = {c.name for c in table.columns}
        described = set(tables[name].get("columns", {}))
        missing = columns - described - {"plan_title", "source_url", "notes"}
        assert not missing, (name, missing)
    queries = {"search_measures", "compare_indicator", "coverage", "targets_by_district"}
    assert set(site.canned_queries()) >= queries
    assert set(await ds.get_canned_queries("kb", None)) >= queries
    for name, table in tables.items():  # served from the package, whatever metadata.yml says
        assert ds.metadata("description", database="kb", table=name) == table["description"], name


async def test_the_lookup_of_every_table_at_once_gets_only_the_rules_datasette_reads_that_way(ds):
    # Datasette deep-copies a plugin's answer to metadata("tables") for each table it checks
    # (the index page checks every table): the answer holds permissions and facet sizes only
    answer = plugin.get_metadata(ds, "tables", "kb", None)
    assert answer == {"databases": {"kb": site.table_rules()}}
    assert site.rules_of(
        {"a": {"description": "x", "facet_size": 5, "allow": {"id": "r"}}, "b": {"description": "y"}}
    ) == {"tables": {"a": {"facet_size": 5, "allow": {"id": "r"}}}}
    assert site.table_rules() == site.rules_of(site.database_metadata()["tables"])
    # one table, or any other key, is still answered in full
    assert plugin.get_metadata(ds, "description", "kb", "targets")["databases"]["kb"]["tables"]["targets"]
    assert (
        ds.metadata("description", database="kb", table="targets")
        == (site.database_metadata()["tables"]["targets"]["description"])
    )
    r = await ds.client.get("/")
    assert r.status_code == 200 and "targets" in r.text


async def test_index_page_links(ds):
    r = await ds.client.get("/")
    assert r.status_code == 200
    assert 'href="/-/compare"' in r.text
    assert 'action="/-/search"' in r.text


async def test_compare_pages(ds):
    r = await ds.client.get("/-/compare")
    assert r.status_code == 200 and f'href="/-/compare/{PM25}"' in r.text
    assert 'href="/-/compare?_format=csv"' in r.text and 'href="/-/compare?_format=xlsx"' in r.text
    r = await ds.client.get(f"/-/compare/{PM25}")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="zh-CN">' in html and 'charset="utf-8"' in html
    for district in PM25_TARGETS:
        assert district in html
    assert "≤ 28 微克/立方米" in html
    assert re.search(
        r'<a class="value-link" href="/-/clause/huairou-2024-action-plan-draft-explanation:c\d+\?target=',
        html,
    )
    assert "/-/static-plugins/policy-kb/vendor/vega-lite.min.js" in html
    assert "cdn" not in html.lower() and "https://cdn" not in html
    r = await ds.client.get("/-/compare/no_such_indicator")
    assert r.status_code == 404


async def test_compare_page_filters_charts_and_downloads(ds, conn):
    units = []
    for indicator_id in nox_ids(conn):
        r = await ds.client.get(f"/-/compare/{indicator_id}")
        assert r.status_code == 200
        shown = re.findall(r'<figure class="policykb-chart" data-unit="([^"]*)"', r.text)
        assert len(shown) == len(set(shown))  # one chart per unit
        units += shown
    assert {"%", "吨"} <= set(units)  # % and 吨 never on one axis
    r = await ds.client.get("/-/compare/forest_coverage")
    html = r.text
    for name in ("district", "kind", "year"):
        assert f'<select id="f-{name}" name="{name}">' in html
    assert (
        'href="/-/compare/forest_coverage?_format=csv"' in html
        and "下载 CSV" in html
        and "下载 Excel" in html
    )
    r = await ds.client.get("/-/compare/forest_coverage", params={"kind": "actual", "year": "2020"})
    n_actual = conn.execute(
        "select count(*) from targets where indicator_id = 'forest_coverage' and kind = 'actual' and year = 2020"
    ).fetchone()[0]
    assert (
        n_actual and r.text.count('<tr class="row-actual') == n_actual and 'class="row-target' not in r.text
    )
    assert '<option value="actual" selected>' in r.text and '<option value="2020" selected>' in r.text
    r = await ds.client.get("/-/compare/forest_coverage", params={"district": "丰台区"})
    assert "丰台区历年" in r.text and 'data-district="怀柔区"' not in r.text


async def test_compare_index_counts_what_the_pages_show(ds, conn):
    html = (await ds.client.get("/-/compare")).text
    for indicator_id in ("forest_coverage", "dustfall", PM25, *nox_ids(conn)):
        found = re.search(rf'<tr data-indicator="{indicator_id}">.*?data-n="(\d+)"', html, re.S)
        n = int(found.group(1)) if found else 0  # an indicator without values is listed apart
        page = (await ds.client.get(f"/-/compare/{indicator_id}")).text
        assert page.count('<tr class="row-') == n, indicator_id


def _csv(r):
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.content[:3] == b"\xef\xbb\xbf"
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


async def test_page_downloads(ds, conn):
    from openpyxl import load_workbook

    def count(kind="%"):
        sql = "select count(*) from targets where indicator_id = 'forest_coverage' and kind like ?"
        return conn.execute(sql, [kind]).fetchone()[0]

    rows = _csv(await ds.client.get("/-/compare/forest_coverage", params={"_format": "csv"}))
    assert rows[0][:2] == ["地区 district", "指标 indicator"] and len(rows) == 1 + count()
    rows = _csv(
        await ds.client.get("/-/compare/forest_coverage", params={"_format": "csv", "kind": "actual"})
    )
    assert len(rows) == 1 + count("actual") and {r[3] for r in rows[1:]} == {"现状"}
    assert all(r[-1].startswith("http://") and "/-/clause/" in r[-1] for r in rows[1:])
    rows = _csv(await ds.client.get("/-/coverage", params={"_format": "csv"}))
    assert rows[0][0] == "领域 campaign" and any(r[2] == PM25 and r[3] == "怀柔区" for r in rows)
    rows = _csv(await ds.client.get("/-/district/丰台区", params={"_format": "csv"}))
    assert {r[0] for r in rows[1:]} == {"丰台区"}
    rows = _csv(await ds.client.get("/-/district", params={"_format": "csv"}))
    assert [r[0] for r in rows[1:]] == ["丰台区", "怀柔区", "朝阳区", "门头沟区"]
    rows = _csv(await ds.client.get("/-/compare", params={"_format": "csv"}))
    index = {r[2]: r for r in rows[1:]}
    assert rows[0][:3] == ["指标 indicator", "英文名 name_en", "指标标识 indicator_id"]
    assert len(index) == conn.execute("select count(*) from indicators").fetchone()[0]
    assert index["forest_coverage"][0] == "森林覆盖率" and index["forest_coverage"][8] == str(count())
    assert index[PM25][-1].startswith("http://") and index[PM25][-1].endswith(routes.compare_url(PM25))
    r = await ds.client.get("/-/coverage", params={"_format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert next(sheet.iter_rows(values_only=True))[0] == "领域 campaign"


async def test_coverage_page(ds):
    r = await ds.client.get("/-/coverage")
    assert r.status_code == 200
    html = r.text
    assert 'class="policykb-matrix-box"' in html and "大气（蓝天保卫战）" in html
    for d in ("丰台区", "怀柔区", "朝阳区", "门头沟区"):
        assert f'<th scope="col"><a href="{routes.district_url(d)}">{d}</a></th>' in html
    assert f'<a href="{routes.compare_url(PM25, "怀柔区")}"' in html
    assert 'href="/-/coverage?_format=csv"' in html


async def test_district_pages(ds):
    r = await ds.client.get("/-/district")
    assert r.status_code == 200
    for d in ("丰台区", "怀柔区", "朝阳区", "门头沟区"):
        assert f'href="{routes.district_url(d)}"' in r.text
    r = await ds.client.get(routes.district_url("丰台区"))
    assert r.status_code == 200
    html = r.text
    assert (
        "《丰台区“十四五”时期生态环境保护规划》" in html
        and 'href="/kb/documents/fengtai-2021-2025-eco-plan"' in html
    )
    assert 'id="campaign-air"' in html and "范围与条件 Scope and conditions" in html
    assert "据“2020年现状”" in html and re.search(r'<a class="value-link" href="/-/clause/fengtai-2021', html)
    assert (await ds.client.get("/-/district/火星区")).status_code == 404


async def test_clause_page(ds, conn):
    target_id, clause_id, _start, _end, _doc_id = conn.execute(
        "select id, clause_id, start, \"end\", document_id from targets where indicator_id = 'dustfall' and value = 4.5"
    ).fetchone()
    r = await ds.client.get(f"/-/clause/{clause_id}", params={"target": target_id})
    assert r.status_code == 200
    html = r.text
    assert '<mark class="quantity selected">4.5吨/平方公里·月</mark>' in html
    assert "北京市怀柔区生态环境局，《" in html
    assert 'href="/-/compare/dustfall"' in html
    evidence = conn.execute("select kind_evidence from targets where id = ?", [target_id]).fetchone()[0]
    assert evidence and f"（据“{evidence}”）" in html  # the words that decided target/actual
    r = await ds.client.get(f"/-/clause/{clause_id}", params={"q": "扬尘"})
    assert '<mark class="term">扬尘</mark>' in r.text
    assert (await ds.client.get("/-/clause/nope:c0")).status_code == 404


async def test_vendored_vega_is_served(ds):
    for name in ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js"]:
        r = await ds.client.get(f"/-/static-plugins/policy-kb/vendor/{name}")
        assert r.status_code == 200 and len(r.content) > 50_000, name


async def test_journey_search_to_dustfall_targets(ds):
    """扬尘 -> a result clause -> its dustfall target -> the comparison of the districts."""
    rows = await get_json(ds, "/kb/search_measures.json", q="扬尘", _size="max")
    with_dustfall = []
    for row in rows:
        page = await ds.client.get(row["clause_url"])
        assert page.status_code == 200
        if 'href="/-/compare/dustfall"' in page.text:
            with_dustfall.append(row["district"])
    assert {"丰台区", "怀柔区"} <= set(with_dustfall), with_dustfall
    compare = await ds.client.get("/-/compare/dustfall")
    for district, value in DUSTFALL_TARGETS.items():
        assert district in compare.text
        assert f"{value:g} 吨/平方公里·月" in compare.text


# -- plugin hooks and serve() as plain functions --------------------------------------------


async def test_render_cell_html_and_links(ds):
    from extractor.web import plugin

    cell = plugin.render_cell("<mark>扬尘</mark><b>x</b>", "snippet", ds)
    assert str(cell) == "<mark>扬尘</mark>&lt;b&gt;x&lt;/b&gt;"
    link = plugin.render_cell("/-/clause/a:c1?q=%E6%89%AC", "clause_url", ds)
    assert str(link) == '<a href="/-/clause/a:c1?q=%E6%89%AC">原文条款</a>'
    assert plugin.render_cell("javascript:alert(1)", "clause_url", ds) is None
    assert plugin.render_cell("<b>", "text", ds) is None
    assert plugin.render_cell(3, "snippet", ds) is None


def test_ensure_db_builds_only_when_stale(tmp_path, monkeypatch):
    from extractor.kb import store
    from extractor.web import serve

    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "catalog.yml").write_text("documents: []\n", encoding="utf-8")

    calls = []
    stale = {"value": True}
    monkeypatch.setattr(store, "is_stale", lambda db, corpus: stale["value"])
    monkeypatch.setattr(store, "build_db", lambda corpus, db: calls.append((corpus, db)) or "report")
    db = tmp_path / "kb.db"
    assert serve.ensure_db(db, "corpus") == "report"  # missing
    db.write_bytes(b"")
    assert serve.ensure_db(db, "corpus") == "report"  # stale
    stale["value"] = False
    assert serve.ensure_db(db, "corpus") is None
    assert len(calls) == 2
    assert calls == [("corpus", db), ("corpus", db)]


def test_serve_without_a_corpus_serves_the_given_db_as_it_is(tmp_path, monkeypatch, kb_path):
    from extractor.errors import ServeError
    from extractor.kb import store
    from extractor.web import serve

    monkeypatch.chdir(tmp_path)  # no corpus/, no metadata.yml
    monkeypatch.setattr(store, "build_db", lambda *a: pytest.fail("built without a corpus"))
    assert serve.ensure_db(kb_path, "corpus") is None
    with pytest.raises(ServeError, match=r"catalog\.yml"):
        serve.ensure_db(tmp_path / "missing.db", "corpus")
    assert serve.load_metadata(tmp_path / "metadata.yml") == {}


def test_cli_serve_without_a_db_or_corpus_is_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from extractor.cli import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "kb.db")])
    assert result.exit_code == 1
    assert "[E040]" in result.output and "catalog.yml" in result.output
    assert "Traceback" not in result.output


def test_repository_metadata_holds_only_what_the_site_owner_sets(metadata):
    assert set(metadata) <= {
        "title",
        "description_html",
        "description",
        "source",
        "source_url",
        "license",
        "license_url",
        "about",
        "about_url",
    }
    assert metadata["title"]
    assert "queries" not in str(metadata.get("databases", {}))


async def test_the_sites_metadata_overrides_what_the_package_ships(kb_path, tmp_path):
    from extractor.web.serve import make_datasette

    own = tmp_path / "metadata.yml"
    own.write_text(
        "title: Another site\n"
        "databases:\n"
        "  kb:\n"
        "    tables:\n"
        "      targets: {description: Our targets}\n"
        "    queries:\n"
        "      coverage: select 1 as mine\n",
        encoding="utf-8",
    )
    ds = make_datasette(kb_path, own)
    await ds.invoke_startup()
    assert ds.metadata("title") == "Another site"
    assert ds.metadata("description", database="kb", table="targets") == "Our targets"
    assert ds.table_metadata("kb", "targets")["facets"][0] == "indicator_id"  # the rest still shipped
    assert await get_json(ds, "/kb/coverage.json") == [{"mine": 1}]
    assert await get_json(ds, "/kb/search_measures.json", q="扬尘")
