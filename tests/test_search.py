"""Search as a researcher expects it: traditional and simplified characters find each other,
"did you mean" for a query without results, campaign names wherever a campaign id goes, and the
search page /-/search (facets, pages, exports, hostile input).

Plain functions (extractor/kb/fts.py, extractor/web/search.py, extractor/web/search_page.py)
are tested without HTTP, on made-up rows or on kb.db built from the corpus (``conn``); the page
goes through Datasette's test client (``ds``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from extractor.kb import fts
from extractor.sqlite import sqlite3
from extractor.web import search
from extractor.web import search_page as sp

TRADITIONAL_PARAGRAPH = "加強環境宣傳"  # a traditional-character paragraph of the 丰台 plan


# -- OpenCC in the index and the query (no database) -----------------------------------------


def test_normalization_converts_traditional_characters_one_for_one():
    norm = fts.normalize_for_search("充分運用“新媒體”加強環境宣傳")
    assert norm.text == "充分运用“新媒体”加强环境宣传"
    assert norm.origin == tuple(range(len(norm.text)))
    assert fts.to_simplified("揚塵污染") == "扬尘污染"
    assert fts.to_simplified("丰台区扬尘") == "丰台区扬尘"  # simplified text is left alone


@pytest.mark.parametrize(
    "traditional, simplified", [("揚塵", "扬尘"), ("燃油叉車", "燃油叉车"), ("環境宣傳", "环境宣传")]
)
def test_traditional_and_simplified_give_the_same_tokens_and_query(traditional, simplified):
    assert fts.tokenize(traditional) == fts.tokenize(simplified)
    assert fts.fts_query(traditional) == fts.fts_query(simplified)


def test_highlighting_marks_the_original_characters():
    assert search.highlight("加強環境宣傳和信息發布", "宣传") == "加強環境<mark>宣傳</mark>和信息發布"
    assert search.highlight("强化扬尘管控", "揚塵") == "强化<mark>扬尘</mark>管控"
    html = search.snippet("甲" * 100 + "裸地揚塵管控" + "乙" * 100, "扬尘")
    assert "<mark>揚塵</mark>" in html and html.startswith("…")


def test_snippet_starts_at_the_clause_when_the_match_is_near_it():
    text = "三是提升城市环境精细化管控水平。" + "强化施工工地、道路、裸地扬尘管控" + "乙" * 300
    html = search.snippet(text, "扬尘", width=140)
    assert html.startswith("三是提升") and "<mark>扬尘</mark>" in html and html.endswith("…")


# -- campaign names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("air", "air"),
        ("Air", "air"),
        ("大气", "air"),
        ("蓝天保卫战", "air"),
        ("藍天保衛戰", "air"),
        ("大气（蓝天保卫战）", "air"),
        ("大气污染防治", "air"),
        ("大气领域", "air"),
        ("水", "water"),
        ("碧水保卫战", "water"),
        ("净土保卫战", "soil"),
        ("Solid waste", "waste"),
        ("应对气候变化", "climate"),
        ("噪声", "noise"),
        ("", None),
        (None, None),
        ("天气", None),
        ("x" * 500, None),
    ],
)
def test_campaign_id_accepts_what_a_reader_writes(name, expected):
    assert search.campaign_id(name) == expected


def test_policykb_campaign_sql_function():
    db = sqlite3.connect(":memory:")
    search.register_functions(db)
    assert db.execute("select policykb_campaign('蓝天保卫战'), policykb_campaign(null)").fetchone() == (
        "air",
        None,
    )


# -- did you mean (made-up vocabularies) -----------------------------------------------------


def test_a_character_of_the_same_pinyin_wins_over_a_more_frequent_term():
    vocabulary = {"扬尘": 3, "降尘": 50, "烟尘": 40, "杨树": 9}
    assert search.correction("杨尘", vocabulary) == "扬尘"  # 杨 yáng = 扬 yáng


def test_otherwise_the_most_frequent_term_one_edit_away():
    assert search.correction("燃油又车", {"燃油叉车": 2, "燃油汽车": 5}) == "燃油汽车"
    assert search.correction("扬尘管", {"降尘": 4, "扬尘管控": 2}) == "扬尘管控"  # one inserted
    assert search.correction("完全不同", {"扬尘": 4}) is None


def _vocabulary_db(terms: dict[str, int]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(f"create table {fts.VOCABULARY} (term text primary key, n integer)")
    db.executemany(f"insert into {fts.VOCABULARY} values (?, ?)", terms.items())
    return db


def test_suggest_replaces_only_the_unknown_words():
    db = _vocabulary_db({"扬尘": 23, "降尘": 16, "管控": 40, "燃油": 3, "叉车": 3})
    assert search.suggest(db, "杨尘") == "扬尘"
    assert search.suggest(db, "楊塵") == "扬尘"  # traditional typed, simplified suggested
    assert search.suggest(db, "杨尘管控") == "扬尘管控"
    assert search.suggest(db, "扬尘 管控") is None  # every word is known
    assert search.suggest(db, "") is None
    assert search.suggest(db, "杨尘" * 40) is None  # too long: not looked at
    assert search.suggest(sqlite3.connect(":memory:"), "杨尘") is None  # an old kb.db: no vocabulary


def test_vocabulary_rows_count_rows_not_occurrences():
    rows = fts.vocabulary_rows(["扬尘 管控 扬尘 2025", "扬尘 水", "pm2.5 浓度"])
    assert {r["term"]: r["n"] for r in rows} == {"扬尘": 2, "管控": 1, "pm2.5": 1, "浓度": 1}


# -- the page's plain functions (made-up hits) -----------------------------------------------


@pytest.mark.parametrize(
    "args, q, page, filters",
    [
        ({"q": "  扬尘   管控 "}, "扬尘 管控", 1, {}),
        ({"q": "扬尘", "page": "3"}, "扬尘", 3, {}),
        ({"q": "扬尘", "page": "-1"}, "扬尘", 1, {}),
        ({"q": "扬尘", "page": "abc"}, "扬尘", 1, {}),
        ({"q": "扬尘", "page": "9" * 5000}, "扬尘", 1, {}),
        ({"q": "扬尘", "campaign": "蓝天保卫战"}, "扬尘", 1, {"campaign": "air"}),
        (
            {"q": "扬尘", "district": "丰台区", "year": "2024", "x": "y"},
            "扬尘",
            1,
            {"district": "丰台区", "year": "2024"},
        ),
        ({}, "", 1, {}),
    ],
)
def test_parse_request_cleans_the_arguments(args, q, page, filters):
    req = sp.parse_request(args)
    assert (req.q, req.page, req.filters) == (q, page, filters)


def test_parse_request_bounds_and_flags():
    req = sp.parse_request({"q": "扬尘" * 500, "campaign": "天气", "_format": "exe"})
    assert len(req.q) == sp.MAX_QUERY_CHARS and req.shortened
    assert req.unknown_campaign == "天气" and req.filters["campaign"] == "天气"
    assert req.fmt is None
    assert sp.parse_request({"q": "扬尘", "_format": "CSV"}).fmt == "csv"


def test_url_keeps_the_query_and_changes_one_facet():
    req = sp.parse_request({"q": "扬尘", "district": "丰台区", "page": "2"})
    assert (
        sp.url(req, campaign="air")
        == "/-/search?q=%E6%89%AC%E5%B0%98&district=%E4%B8%B0%E5%8F%B0%E5%8C%BA&campaign=air"
    )
    assert sp.url(req, district=None) == "/-/search?q=%E6%89%AC%E5%B0%98"
    assert sp.url(req, page=1) == sp.url(req)  # page 1 is not written
    assert sp.url(req, page=3).endswith("&page=3")


HITS = [
    {"district": "丰台区", "campaign": "air", "genre": "规划", "year": 2021, "kinds": {"target", "actual"}},
    {"district": "丰台区", "campaign": "water", "genre": "规划", "year": 2021, "kinds": set()},
    {"district": "怀柔区", "campaign": "air", "genre": "起草说明", "year": 2024, "kinds": {"target"}},
]


def test_facet_counts_are_what_a_click_gives():
    req = sp.parse_request({"q": "x", "district": "丰台区"})
    facets = {
        f["name"]: {v["value"]: (v["count"], v["selected"]) for v in f["values"]}
        for f in sp.facets(HITS, req, {})
    }
    assert facets["district"] == {"丰台区": (2, True), "怀柔区": (1, False)}  # under the other facets only
    assert facets["campaign"] == {"air": (1, False), "water": (1, False)}
    assert facets["kind"] == {"target": (1, False), "actual": (1, False)}
    assert facets["year"] == {"2021": (2, False)}
    assert sp.filter_hits(HITS, {"kind": "target"}) == [HITS[0], HITS[2]]
    assert sp.filter_hits(HITS, {"year": "2024", "campaign": "air"}) == [HITS[2]]


def test_facet_labels_are_chinese():
    req = sp.parse_request({"q": "x"})
    facets = {
        f["name"]: f for f in sp.facets(HITS, req, {"air": "大气（蓝天保卫战）", "water": "水（碧水保卫战）"})
    }
    assert [f["label"] for f in facets.values()] == [
        "地区 District",
        "领域 Campaign",
        "文件类型 Genre",
        "年份 Year",
        "类型 Kind",
    ]
    assert {v["label"] for v in facets["campaign"]["values"]} == {"大气（蓝天保卫战）", "水（碧水保卫战）"}
    assert {v["label"] for v in facets["kind"]["values"]} == {"目标", "现状"}
    assert {v["label"] for v in facets["year"]["values"]} == {"2021年", "2024年"}


# -- on kb.db built from the corpus ------------------------------------------------------------


def _fts_clauses(conn, q: str) -> set[str]:
    return {
        r[0]
        for r in conn.execute(
            "select clause_id from clauses_fts where clauses_fts match policykb_fts(?)", [q]
        )
    }


@pytest.mark.parametrize("traditional, simplified", [("揚塵", "扬尘"), ("燃油叉車", "燃油叉车")])
def test_index_finds_traditional_and_simplified_alike(conn, traditional, simplified):
    assert _fts_clauses(conn, traditional) == _fts_clauses(conn, simplified) != set()


def test_a_simplified_query_finds_the_traditional_paragraphs(conn):
    found = _fts_clauses(conn, "宣传")
    traditional = {
        cid for cid, text in conn.execute("select id, text from clauses") if TRADITIONAL_PARAGRAPH in text
    }
    assert traditional and traditional <= found


def test_vocabulary_table_and_suggestion(conn):
    n = conn.execute(f"select n from {fts.VOCABULARY} where term = '扬尘'").fetchone()
    assert n and n[0] >= 10
    assert conn.execute(f"select count(*) from {fts.VOCABULARY} where term glob '[0-9]*'").fetchone()[0] == 0
    assert search.suggest(conn, "杨尘") == "扬尘"


def test_search_context_for_a_traditional_query(conn):
    ctx = sp.search_context(conn, sp.parse_request({"q": "揚塵"}))
    assert ctx["title"] == "检索：揚塵 · policy-kb"
    assert ctx["total"] >= 10 and len(ctx["hits"]) == min(ctx["total"], sp.PER_PAGE)
    fengtai = [h for h in ctx["hits"] if h["district"] == "丰台区" and h["text"].startswith("三是")]
    assert fengtai and fengtai[0]["snippet_html"].startswith("三是")
    assert "<mark>扬尘</mark>" in fengtai[0]["snippet_html"]
    assert fengtai[0]["url"].startswith("/-/clause/") and fengtai[0]["url"].endswith("?q=" + quote("揚塵"))
    assert any(t["display"] == "约 5 吨/平方公里·月" for t in fengtai[0]["targets"])
    assert {f["name"] for f in ctx["facets"]} == set(sp.FACETS)
    assert ctx["did_you_mean"] is None


def test_search_context_campaign_by_its_chinese_name(conn):
    everything = sp.search_context(conn, sp.parse_request({"q": "宣传"}))
    air = sp.search_context(conn, sp.parse_request({"q": "扬尘", "campaign": "蓝天保卫战"}))
    assert air["total"] and all(h["campaign"] == "air" for h in air["hits"])
    assert air["filters"] == [
        {
            "name": "campaign",
            "label": "领域 Campaign",
            "value": "大气（蓝天保卫战）",
            "url": "/-/search?q=%E6%89%AC%E5%B0%98",
        }
    ]
    assert len({h["campaign"] for h in everything["hits"]}) > 1


def test_search_context_targets_match_too(conn):
    """PM10年均浓度 is an indicator's dictionary name, written in no clause: its targets match."""
    assert not _fts_clauses(conn, "PM10年均浓度")
    ctx = sp.search_context(conn, sp.parse_request({"q": "PM10年均浓度"}))
    assert ctx["total"] >= 1 and all(h["targets"] for h in ctx["hits"])


def test_search_context_kind_facet_and_pages(conn):
    req = sp.parse_request({"q": "浓度", "kind": "target"})
    ctx = sp.search_context(conn, req)
    assert ctx["total"] and all(any(t["kind"] == "target" for t in h["targets"]) for h in ctx["hits"])
    everything = sp.search_context(conn, sp.parse_request({"q": "环境"}))
    assert everything["total"] > sp.PER_PAGE and everything["next_url"].endswith("&page=2")
    last = sp.search_context(conn, sp.parse_request({"q": "环境", "page": "999"}))
    assert last["page"] == last["n_pages"] > 1 and last["next_url"] is None and last["prev_url"]
    seen = set()
    for page in range(1, everything["n_pages"] + 1):
        ctx = sp.search_context(conn, sp.parse_request({"q": "环境", "page": str(page)}))
        seen |= {h["clause_id"] for h in ctx["hits"]}
    assert len(seen) == everything["total"]


def test_search_context_without_results(conn):
    typo = sp.search_context(conn, sp.parse_request({"q": "杨尘"}))
    assert typo["total"] == 0 and typo["did_you_mean"] == {
        "q": "扬尘",
        "url": "/-/search?q=%E6%89%AC%E5%B0%98",
    }
    both = sp.search_context(conn, sp.parse_request({"q": "燃油叉车 宣传"}))  # no clause has both
    assert both["total"] == 0 and [p["q"] for p in both["parts"]] == ["燃油叉车", "宣传"]
    assert all(p["count"] > 0 for p in both["parts"])
    empty = sp.search_context(conn, sp.parse_request({}))
    assert not empty["searched"] and empty["hits"] == [] and empty["examples"]
    browse = sp.search_context(conn, sp.parse_request({"district": "怀柔区"}))
    assert browse["total"] and {h["district"] for h in browse["hits"]} == {"怀柔区"}


def test_export_table_has_every_hit_with_chinese_headers(conn):
    req = sp.parse_request({"q": "环境"})
    headers, rows = sp.export_table(conn, req, "http://x")
    assert headers[0] == "地区 District" and "条款原文 Clause" in headers
    assert len(rows) == sp.search_context(conn, req)["total"] > sp.PER_PAGE
    assert all(r[-1].startswith("http://x/-/clause/") for r in rows)


# -- HTTP --------------------------------------------------------------------------------------


async def test_search_page_is_a_page_not_a_query(ds):
    r = await ds.client.get("/-/search", params={"q": "揚塵"})
    assert r.status_code == 200
    html = r.text
    assert "<title>检索：揚塵 · policy-kb</title>" in html
    for tool in ["Custom SQL query", "Edit SQL", "Run SQL", "select "]:
        assert tool not in html
    assert "<mark>扬尘</mark>" in html
    for label in [
        "地区 District",
        "领域 Campaign",
        "文件类型 Genre",
        "年份 Year",
        "类型 Kind",
        "大气（蓝天保卫战）",
    ]:
        assert label in html
    assert re.search(r'<a href="/-/clause/fengtai-[^"]+\?q=%E6%8F%9A%E5%A1%B5">', html)
    assert 'href="/-/search?q=%E6%8F%9A%E5%A1%B5&amp;_format=csv"' in html


async def test_search_page_did_you_mean_and_campaign_names(ds):
    r = await ds.client.get("/-/search", params={"q": "杨尘"})
    assert "您是不是要找：" in r.text and 'href="/-/search?q=%E6%89%AC%E5%B0%98">扬尘</a>' in r.text
    for name in ["蓝天保卫战", "大气", "air", "藍天保衛戰"]:
        r = await ds.client.get("/-/search", params={"q": "扬尘", "campaign": name})
        assert r.status_code == 200 and "领域：大气（蓝天保卫战）" in r.text, name
    r = await ds.client.get("/-/search", params={"q": "扬尘", "campaign": "天气"})
    assert "未知领域“天气”" in r.text


@pytest.mark.parametrize(
    "params",
    [
        {"q": "扬尘" * 2000},
        {"q": '" * : ( ) NEAR AND OR NOT ^ -'},
        {"q": 'NEAR("扬尘" "管控", 2)'},
        {"q": ""},
        {"q": "扬尘", "page": "-1"},
        {"q": "扬尘", "page": "abc"},
        {"q": "扬尘", "page": "9" * 400},
        {"q": "扬尘", "page": "99999999"},
        {"q": "扬尘", "year": "abc", "kind": "<script>", "district": "'; drop table clauses; --"},
        {"q": "\x00扬尘\ufffd"},
        {"q": "<script>alert(1)</script>"},
    ],
)
async def test_hostile_input_gives_a_clean_page(ds, params):
    r = await ds.client.get("/-/search", params=params)
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "Traceback" not in r.text
    r = await ds.client.get("/-/search", params={**params, "_format": "csv"})
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")


async def test_csv_and_xlsx_downloads(ds):
    r = await ds.client.get("/-/search", params={"q": "扬尘", "_format": "csv"})
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["地区 District", "领域 Campaign"]
    page = await ds.client.get("/-/search", params={"q": "扬尘"})
    total = int(re.search(r"共 <strong>(\d+)</strong> 条结果", page.text).group(1))
    assert len(rows) - 1 == total
    assert all(len(row) == len(rows[0]) for row in rows)

    r = await ds.client.get("/-/search", params={"q": "扬尘", "_format": "xlsx"})
    assert r.status_code == 200 and ".xlsx" in r.headers["content-disposition"]
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.cell(1, 1).value == "地区 District" and sheet.max_row == total + 1


async def test_canned_query_and_table_search_know_traditional_and_campaign_names(ds):
    async def rows(path, **params):
        r = await ds.client.get(path, params={**params, "_shape": "array", "_size": "max"})
        assert r.status_code == 200, r.text[:300]
        return r.json()

    def ids(found):
        return [r["clause_id"] for r in found]

    simplified = ids(await rows("/kb/search_measures.json", q="扬尘", campaign="air"))
    assert simplified
    for campaign in ["蓝天保卫战", "大气", "Air"]:
        assert ids(await rows("/kb/search_measures.json", q="揚塵", campaign=campaign)) == simplified, (
            campaign
        )
    assert await rows("/kb/search_measures.json", q="扬尘", campaign="天气") == []
    table = await rows("/kb/clauses.json", _search="燃油叉車")
    assert (
        {r["id"] for r in table}
        == {r["id"] for r in await rows("/kb/clauses.json", _search="燃油叉车")}
        != set()
    )
    marked = await rows("/kb/search_measures.json", q="宣传")
    assert any(
        "<mark>宣傳</mark>" in r["snippet"] for r in marked
    )  # the traditional paragraph, marked as written


@pytest.mark.parametrize(
    "query, expected",
    [
        ("campaign=%E8%93%9D%E5%A4%A9%E4%BF%9D%E5%8D%AB%E6%88%98&_size=5", b"campaign=air&_size=5"),
        ("campaign__exact=%E5%A4%A7%E6%B0%94", b"campaign__exact=air"),
        ("campaign=air", b"campaign=air"),
        ("campaign=%E5%A4%A9%E6%B0%94", b"campaign=%E5%A4%A9%E6%B0%94"),  # unknown: as it was
        ("q=x&campaign_label=%E5%A4%A7%E6%B0%94", b"q=x&campaign_label=%E5%A4%A7%E6%B0%94"),
        ("q=%ff%fe", b"q=%ff%fe"),
        ("campaign=%ff", b"campaign=%ff"),
    ],
)
def test_campaign_query_string(query, expected):
    assert search.campaign_query_string(query.encode()) == expected


async def test_table_filters_take_campaign_names(ds):
    async def ids(path, **params):
        r = await ds.client.get(path, params={**params, "_shape": "array", "_size": "max"})
        assert r.status_code == 200, r.text[:300]
        return [r.get("id") or r.get("target_id") for r in r.json()]

    air = await ids("/kb/clauses.json", campaign="air")
    assert air
    assert await ids("/kb/clauses.json", campaign="蓝天保卫战") == air
    assert await ids("/kb/clauses.json", campaign__exact="大气") == air
    assert await ids("/kb/target_citations.json", campaign="碧水保卫战") == await ids(
        "/kb/target_citations.json", campaign="water"
    )


SEARCH_MEASURES_REFERENCE = """
select d.district as district, c.campaign as campaign, d.title as title, cc.section_path as section,
  policykb_snippet(c.text, :q) as snippet, cc.citation as citation, c.id as clause_id,
  policykb_clause_url(c.id, null, :q) as clause_url
from clauses_fts
join clauses c on c.rowid = clauses_fts.rowid
join documents d on d.id = c.document_id
left join clause_citations cc on cc.clause_id = c.id
where clauses_fts match policykb_fts(:q)
  and (coalesce(:district, '') = '' or d.district = :district
       or d.district_slug = :district or d.district = :district || '区')
  and (coalesce(:campaign, '') = '' or c.campaign = policykb_campaign(:campaign))
order by clauses_fts.rank, d.district, c.document_id, c.seq
limit 100 offset 100 * (max(coalesce(cast(nullif(:page, '') as integer), 1), 1) - 1)
"""


def test_search_measures_gives_every_match_sorted(conn):
    """The canned query joins and sorts only the matches ranked no worse than its page's last
    (ties included) when no filter is chosen; its pages are those of sorting every match."""
    import yaml

    sql = yaml.safe_load((Path(__file__).parent.parent / "extractor/web/site.yml").read_text())
    sql = sql["queries"]["search_measures"]["sql"]
    n = 0
    for q in ["扬尘", "PM2.5浓度", "宣传", "水", "燃油叉车", "无此词语", "的", "环境", "加强", "和"]:
        for page in ["", "1", "2", "3", "x", "0", "99"]:
            for district, campaign in [("", ""), ("丰台", ""), ("", "air"), ("fengtai", "大气")]:
                params = {"q": q, "page": page, "district": district, "campaign": campaign}
                found = conn.execute(sql, params).fetchall()
                assert found == conn.execute(SEARCH_MEASURES_REFERENCE, params).fetchall(), params
                n += bool(found)
    assert n > 40


QUERIES = [
    "扬尘",
    "PM2.5浓度",
    "燃油叉车",
    "宣传",
    "水",
    "的",
    "降尘量",
    "扬尘 燃油叉车",
    "揚塵",
    "无此词语",
    "28",
    "!!",
]


def _clause_targets_reference(conn) -> sqlite3.Connection:
    """A scratch FTS5 table of what ``clause_targets_fts`` should index, from the texts (not
    the build's tokens): each clause that states a target, as its text and its targets' own
    texts (indicator as written, dictionary name, surface) joined by blanks, each tokenized once."""
    own: dict[int, list[str]] = {}
    for clause_rowid, indicator, name, surface in conn.execute(
        "select c.rowid, t.indicator, i.name_zh, t.surface from targets t join clauses c on c.id = t.clause_id"
        " left join indicators i on i.id = t.indicator_id order by t.rowid"
    ):
        own.setdefault(clause_rowid, []).append(fts.own_text(indicator, name, surface))
    texts = dict(conn.execute("select rowid, text from clauses"))
    ref = sqlite3.connect(":memory:")
    ref.execute(
        "create virtual table ref using fts5(tokens, target_tokens, tokenize='unicode61', content='')"
    )
    ref.executemany(
        "insert into ref (rowid, tokens, target_tokens) values (?, ?, ?)",
        [(r, fts.tokenize(texts[r]), fts.tokenize(" ".join(own[r]))) for r in sorted(own)],
    )
    return ref


def _index(conn, table: str) -> list[tuple]:
    """Every (term, rowid, column, offset) of an FTS5 table's index (fts5vocab 'instance')."""
    conn.execute(
        f"create virtual table if not exists temp.v_{table} using fts5vocab(main, {table}, 'instance')"
    )
    return conn.execute(f"select term, doc, col, offset from temp.v_{table} order by 1, 2, 3, 4").fetchall()


def test_clause_targets_fts_indexes_each_clause_with_its_targets_words(conn):
    """One row a clause that states a target, at the clause's rowid: its tokens and its
    targets' own tokens, the index a scratch table of the texts gives (token for token, at the
    same positions)."""
    ref = _clause_targets_reference(conn)
    built = _index(conn, "clause_targets_fts")
    assert built and built == _index(ref, "ref")
    stating = "select distinct rowid from clauses where id in (select clause_id from targets)"
    assert {doc for _, doc, _, _ in built} == {r for (r,) in conn.execute(stating)}


def test_the_search_tables_give_the_hits_the_clauses_give(conn):
    """The hits read by rowid from search_clauses and clause_targets_fts (built with kb.db): the
    text matches are those joined through clauses, documents and targets (the same clauses,
    ranks, order and facet values); the clauses found by their targets are what the scratch
    table of texts finds among the clauses whose text does not match, ranked by its bm25."""
    from extractor.kb import search_tables

    assert search_tables.has_tables(conn)
    ref = _clause_targets_reference(conn)
    ids = dict(conn.execute("select rowid, id from clauses"))
    order = {cid: (d, seq) for cid, d, seq in conn.execute("select id, document_id, seq from clauses")}
    found = by_targets = 0
    for q in QUERIES:
        new = sp.selection(conn, q, tables=True)
        old = sp.selection(conn, q, tables=False)
        m = fts.fts_query(q)
        text = {
            ids[r] for (r,) in conn.execute("select rowid from clauses_fts where clauses_fts match ?", [m])
        }
        n_text = sum(1 for h in new if h["clause_id"] in text)
        assert new[:n_text] == [h for h in old if h["clause_id"] in text], q
        expected = sorted(
            (rank, order[ids[r]], ids[r])
            for r, rank in ref.execute("select rowid, rank from ref where ref match ?", [m])
            if ids[r] not in text
        )
        assert [(h["clause_id"], h["rank"]) for h in new[n_text:]] == [
            (c, rank) for rank, _, c in expected
        ], q
        facets = {h["clause_id"]: h for h in old}
        for h in new:  # the same facet values as the joins through clauses, documents, targets
            if h["clause_id"] in facets:
                assert {k: v for k, v in h.items() if k != "rank"} == {
                    k: v for k, v in facets[h["clause_id"]].items() if k != "rank"
                }
        found += len(new)
        by_targets += len(new) - n_text
    assert found > 300 and by_targets > 0
    assert (  # one row per clause
        conn.execute("select count(*) from search_clauses").fetchone()
        == conn.execute("select count(*) from clauses").fetchone()
    )


def test_a_page_is_capped_only_when_a_tier_is_full(conn, monkeypatch):
    """The page says it shows only the best hits when the text matches, or the clauses found by
    their targets, reached MAX_HITS; not when their sum did (each tier has its own limit)."""
    tiers = {}
    for q in QUERIES:
        found = sp.selection(conn, q)
        tiers[q] = (sum(h["tier"] == 0 for h in found), sum(h["tier"] == 1 for h in found))
    q, (text, by_targets) = next((q, t) for q, t in tiers.items() if min(t) > 0)
    monkeypatch.setattr(sp, "MAX_HITS", max(text, by_targets) + 1)
    page = sp.search_context(conn, sp.parse_request({"q": q}))
    assert page["total_unfiltered"] == text + by_targets >= sp.MAX_HITS and not page["capped"]
    monkeypatch.setattr(sp, "MAX_HITS", text)
    page = sp.search_context(conn, sp.parse_request({"q": q}))
    assert page["capped"] and page["total_unfiltered"] == text + min(by_targets, text)


async def test_the_served_page_reads_its_two_tiers_at_once_and_finds_the_same(ds, conn):
    """The served search page runs the text matches and the clauses found by their targets as
    two statements on two SQL threads at once (plugin._search_selection); one after the other,
    they are the selection read in one thread, row for row. A query without a word is left to
    search_context (None)."""
    from extractor.web import plugin

    db = plugin.kb_database(ds)
    both = 0
    for q in QUERIES:
        found = await plugin._search_selection(db, q)
        if not fts.query_groups(q):
            assert found is None, q
            continue
        assert found == sp.selection(conn, q), q
        both += min(sum(h["tier"] == 0 for h in found), sum(h["tier"] == 1 for h in found)) > 0
    assert both  # a query that finds clauses of both tiers
    html = (await ds.client.get("/-/search", params={"q": "PM2.5浓度"})).text
    page = sp.search_context(conn, sp.parse_request({"q": "PM2.5浓度"}))
    assert page["hits"]
    for hit in page["hits"]:  # the served page shows the hits of the page read in one thread
        assert hit["url"].replace("&", "&amp;") in html


def test_a_kb_db_with_the_older_clause_targets_fts_is_served(kb_path, tmp_path):
    """A kb.db whose clause_targets_fts is the one-column table of schema 6 (the clause's and its
    targets' tokens in one column) is searched with the older queries, and finds the same
    clauses."""
    import shutil

    from extractor.kb import search_tables

    copy = tmp_path / "kb.db"
    shutil.copy(kb_path, copy)
    c = sqlite3.connect(copy)
    search.register_functions(c)
    before = {q: sp.selection(c, q) for q in QUERIES}
    c.execute("drop table clause_targets_fts")
    c.execute("create virtual table clause_targets_fts using fts5(tokens, clause_id unindexed, content='')")
    assert not search_tables.has_tables(c)
    for q in QUERIES:
        assert {h["clause_id"] for h in sp.selection(c, q)} == {h["clause_id"] for h in before[q]}, q
    c.close()
