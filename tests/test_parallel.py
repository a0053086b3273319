"""Parallel, cached and distributed builds (issue 12): the same kb.db whatever ``--jobs``, the
cache or the scheduler is; one changed document re-extracted; a slow or dying document left out
with a named error while the others build; stale files of an interrupted build removed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from extractor.errors import DocumentTimeoutError, WorkerDiedError
from extractor.kb import parallel, store
from extractor.kb.cache import BuildCache, stale_files
from extractor.read.catalog import load_catalog
from extractor.sqlite import sqlite3

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SHORT = [  # the two shortest documents of corpus/: a build of them takes a few seconds
    "chaoyang-2025-action-plan-drafting-explanation",
    "mentougou-2024-action-plan-qa",
]


def content(db_path: Path, ranks: bool = True) -> dict[str, str]:
    """A digest of every table of kb.db but build_info (which records when and how it was
    built), rows with their rowids, and of the FTS indexes: what each vocabulary term finds,
    every token's row count and occurrences (fts5vocab, numbers and single characters too),
    and with ``ranks`` the bm25 rank of every row each vocabulary term finds (FTS5's rank
    depends on statistics over the whole index: a row deleted badly would change it)."""
    conn = sqlite3.connect(db_path)
    out = {}
    names = [
        r[0]
        for r in conn.execute(
            "select name from sqlite_master where type in ('table', 'view') and name not like 'sqlite_%'"
            " and name not like '%_fts%' and name != 'build_info'"
        )
    ]
    tables = {  # with a rowid (a WITHOUT ROWID table's primary key is its content)
        name
        for name, sql in conn.execute("select name, sql from sqlite_master where type = 'table'")
        if "without rowid" not in (sql or "").lower()
    }
    for name in sorted(names):
        rowid = "rowid, " if name in tables else ""
        rows = sorted(repr(r) for r in conn.execute(f"select {rowid}* from [{name}]"))
        out[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    terms = [t for (t,) in conn.execute("select term from search_vocabulary order by term")]
    for fts in ("clauses_fts", "targets_fts", "clause_targets_fts"):
        h = hashlib.sha256()
        for term in terms:
            q = '"' + term.replace('"', '""') + '"'
            rank = ", rank" if ranks else ""
            found = conn.execute(f"select rowid{rank} from {fts} where {fts} match ? order by rowid", [q])
            h.update(f"{term}:{found.fetchall()}\n".encode())
        out[fts] = h.hexdigest()
        conn.execute(f"create virtual table temp.vocab_{fts} using fts5vocab(main, '{fts}', 'row')")
        out[f"{fts} tokens"] = repr(conn.execute(f"select * from temp.vocab_{fts} order by term").fetchall())
        conn.execute(f"insert into {fts}({fts}) values ('integrity-check')")  # raises if corrupt
    conn.close()
    return out


@pytest.fixture
def short_corpus(tmp_path) -> Path:
    """A copy of corpus/ with its two shortest documents."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    catalog = yaml.safe_load((CORPUS / "catalog.yml").read_text(encoding="utf-8"))
    catalog["documents"] = [d for d in catalog["documents"] if d["id"] in SHORT]
    for d in catalog["documents"]:
        shutil.copy(CORPUS / d["file"], folder / d["file"])
    (folder / "catalog.yml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    return folder


def test_jobs_do_not_change_the_knowledge_base(built_db, tmp_path):
    """built_db used every core and the cache; one process without the cache writes the same."""
    one = tmp_path / "one.db"
    report = store.build_db(CORPUS, one, jobs=1, cache=False)
    assert not report.errors and report.extracted == 5
    assert content(one) == content(built_db)
    assert not (tmp_path / ".policykb-cache" / "one.db.sqlite").exists()


def test_a_rebuild_extracts_only_what_changed(short_corpus, tmp_path):
    db = tmp_path / "out" / "kb.db"
    db.parent.mkdir()
    first = store.build_db(short_corpus, db, jobs=2)
    assert (first.extracted, len(first.documents)) == (2, 2)
    before = content(db)

    again = store.build_db(short_corpus, db, jobs=2)
    assert again.extracted == 0 and len(again.documents) == 2
    assert content(db) == before

    changed = short_corpus / "mentougou-2024-action-plan-qa.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n到2025年，新增绿地面积12公顷。\n", encoding="utf-8"
    )
    third = store.build_db(short_corpus, db, jobs=2)
    assert third.extracted == 1
    assert (third.mode, third.changed, third.added, third.removed) == ("incremental", 1, 0, 0)
    after = content(db)
    assert after != before
    fresh = tmp_path / "fresh.db"
    store.build_db(short_corpus, fresh, jobs=1, cache=False)
    assert content(fresh) == after  # rows from the cache and fresh rows make the same kb.db
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from targets where surface = '12公顷'").fetchone()[0] == 1

    cache = BuildCache.beside(db)  # the cache holds the last build's documents only
    assert cache.conn.execute("select count(*) from documents").fetchone()[0] == 2
    cache.close()


def test_a_finished_build_closes_its_pool_and_does_not_wait_for_it(short_corpus, tmp_path, monkeypatch):
    """Once every document is in, the workers' generator runs to its end: the pool is closed
    and joined in a thread (pebble stops the idle workers then), not stopped and waited for
    when the generator is collected (about a second of every rebuild at 10,000 documents)."""
    import threading

    from pebble import ProcessPool

    calls: list[tuple[int, str]] = []

    def recorded(name):
        method = getattr(ProcessPool, name)

        def record(self, *args, **kwargs):
            calls.append((id(self), name))
            return method(self, *args, **kwargs)

        return record

    for name in ("stop", "join"):
        monkeypatch.setattr(ProcessPool, name, recorded(name))
    threads: list[threading.Thread] = []
    pools: list[int] = []

    class Thread(threading.Thread):
        def __init__(self, *args, target=None, **kwargs):
            super().__init__(*args, target=target, **kwargs)
            if isinstance(getattr(target, "__self__", None), ProcessPool):
                threads.append(self)
                pools.append(id(target.__self__))

    monkeypatch.setattr(parallel.threading, "Thread", Thread)
    db = tmp_path / "out" / "kb.db"
    db.parent.mkdir()
    assert store.build_db(short_corpus, db, jobs=2).extracted == 2
    _append(short_corpus, SHORT[1], "\n到2025年，新增绿地面积12公顷。\n")
    assert store.build_db(short_corpus, db, jobs=2).extracted == 1
    assert len(threads) == 2  # a pool's join, one a build
    for thread in threads:
        thread.join(timeout=30)
    # a closed pool's join stops its workers and joins again (a pool stopped first: stop, join)
    for pool in pools:
        assert [name for p, name in calls if p == pool] == ["join", "stop", "join"]


# -- the in-place rebuild: the old kb.db updated equals a fresh build ---------------------------

THIRD = "fengtai-2024-action-plan-interpretation"  # a third short document, to add


def _catalog(folder: Path) -> dict:
    return yaml.safe_load((folder / "catalog.yml").read_text(encoding="utf-8"))


def _write_catalog(folder: Path, catalog: dict) -> None:
    (folder / "catalog.yml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")


def _append(folder: Path, doc_id: str, text: str) -> None:
    path = folder / f"{doc_id}.txt"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _change(folder):
    _append(folder, SHORT[1], "\n到2025年，新增绿地面积12公顷，扬尘管控全面加强。\n")


def _add(folder):
    catalog = _catalog(folder)
    catalog["documents"].append(next(d for d in _catalog(CORPUS)["documents"] if d["id"] == THIRD))
    shutil.copy(CORPUS / f"{THIRD}.txt", folder / f"{THIRD}.txt")
    _write_catalog(folder, catalog)


def _remove(folder):
    catalog = _catalog(folder)
    catalog["documents"] = [d for d in catalog["documents"] if d["id"] != SHORT[0]]
    _write_catalog(folder, catalog)


def _edit_entry(folder):  # a catalog entry edited: another district, title and issuer
    catalog = _catalog(folder)
    entry = next(d for d in catalog["documents"] if d["id"] == SHORT[0])
    entry.update(
        district="丰台区", district_slug="fengtai", title=entry["title"] + "（修订）", issuer="某区人民政府"
    )
    _write_catalog(folder, catalog)


def _several(folder):
    _change(folder)
    _edit_entry(folder)
    _add(folder)


SCENARIOS = {
    "one changed": (_change, (1, 0, 0)),
    "one added": (_add, (0, 1, 0)),
    "one removed": (_remove, (0, 0, 1)),
    "catalog entry edited": (_edit_entry, (1, 0, 0)),
    "several at once": (_several, (2, 1, 0)),
}


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> Path:
    """The two short documents built once (kb.db, its cache and the corpus), copied by each test."""
    folder = tmp_path_factory.mktemp("first")
    corpus = folder / "corpus"
    corpus.mkdir()
    catalog = _catalog(CORPUS)
    catalog["documents"] = [d for d in catalog["documents"] if d["id"] in SHORT]
    for d in catalog["documents"]:
        shutil.copy(CORPUS / d["file"], corpus / d["file"])
    _write_catalog(corpus, catalog)
    report = store.build_db(corpus, folder / "kb.db", jobs=1)
    assert report.mode == "full" and report.reason == "no kb.db yet"
    return folder


def _copy_build(first_build: Path, tmp_path: Path) -> tuple[Path, Path]:
    for name in ("corpus", ".policykb-cache"):
        shutil.copytree(first_build / name, tmp_path / name)
    shutil.copy(first_build / "kb.db", tmp_path / "kb.db")
    return tmp_path / "corpus", tmp_path / "kb.db"


def _fresh(corpus: Path, db: Path, tmp_path: Path, extracted: int = 0) -> Path:
    """A full build of ``corpus`` from the same cache (no old kb.db: written anew)."""
    fresh = tmp_path / "fresh" / "kb.db"
    (fresh.parent / ".policykb-cache").mkdir(parents=True, exist_ok=True)
    fresh.unlink(missing_ok=True)
    shutil.copy(BuildCache.beside(db).path, BuildCache.beside(fresh).path)
    report = store.build_db(corpus, fresh, jobs=1)
    assert report.mode == "full" and report.extracted == extracted
    return fresh


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_an_in_place_rebuild_equals_a_fresh_build(first_build, tmp_path, scenario, monkeypatch):
    monkeypatch.setattr(store, "INCREMENTAL_MAX_SHARE", 1.0)  # in place even when all changed
    corpus, db = _copy_build(first_build, tmp_path)
    before = content(db)
    change, expected = SCENARIOS[scenario]
    change(corpus)
    report = store.build_db(corpus, db, jobs=1)
    assert report.mode == "incremental", report.reason
    assert (report.changed, report.added, report.removed) == expected
    assert report.extracted == sum(expected[:2])
    assert [d.id for d in report.documents] == sorted(e.id for e in load_catalog(corpus))
    after = content(db)
    assert after != before
    assert after == content(_fresh(corpus, db, tmp_path))
    assert stale_files(db) == []


def test_a_rebuild_of_a_kb_db_without_the_page_tables_adds_them(first_build, tmp_path):
    """A kb.db built before the comparison and search tables existed gets them, whole, from the
    first rebuild in place (the same as a fresh build's)."""
    corpus, db = _copy_build(first_build, tmp_path)
    with sqlite3.connect(db) as conn:
        for table in ("compare_order", "compare_districts", "search_clauses"):
            conn.execute(f"drop table {table}")
    _change(corpus)
    report = store.build_db(corpus, db, jobs=1)
    assert report.mode == "incremental", report.reason
    after = content(db)
    assert after == content(_fresh(corpus, db, tmp_path))
    assert {"compare_order", "compare_districts", "search_clauses"} <= set(after)


def test_an_in_place_rebuild_equals_a_build_without_the_cache(first_build, tmp_path, monkeypatch):
    """Several changes, then the same corpus extracted anew: every table, rowid and rank agree,
    and so does the search page's ranking (bm25 over the whole index, ties in rowid order)."""
    from extractor.web.search_page import selection

    monkeypatch.setattr(store, "INCREMENTAL_MAX_SHARE", 1.0)
    corpus, db = _copy_build(first_build, tmp_path)
    _several(corpus)
    assert store.build_db(corpus, db, jobs=1).mode == "incremental"
    fresh = tmp_path / "nocache.db"
    report = store.build_db(corpus, fresh, jobs=1, cache=False)
    assert (report.mode, report.reason, report.extracted) == ("full", "--no-cache", 3)
    assert content(db) == content(fresh)
    a, b = sqlite3.connect(db), sqlite3.connect(fresh)
    for q in ("扬尘", "扬尘管控", "绿地面积", "PM2.5浓度", "水", "修订"):
        assert selection(a, q) == selection(b, q), q
    assert selection(a, "绿地面积")  # the changed document's new clause is found


def _found(conn, terms: list[str]) -> dict[str, int]:
    out = {}
    for fts in ("clauses_fts", "targets_fts", "clause_targets_fts"):
        q = f"select count(*) from {fts} where {fts} match ?"
        out[fts] = sum(conn.execute(q, ['"' + t.replace('"', '""') + '"']).fetchone()[0] for t in terms)
    return out


def test_deleted_rows_leave_the_indexes(first_build, tmp_path):
    """Every token only the removed document had finds nothing afterwards, in any FTS table
    (targets_fts and clause_targets_fts are contentless: their rows are deleted with the tokens
    they were given)."""
    corpus, db = _copy_build(first_build, tmp_path)
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("select id from targets where document_id = ?", [SHORT[0]])]

        def tokens(doc_id):
            sql = "select f.tokens from clauses_fts f join clauses c on c.rowid = f.rowid where c.document_id = ?"
            return {t for (x,) in conn.execute(sql, [doc_id]) for t in x.split()}

        only = sorted(tokens(SHORT[0]) - tokens(SHORT[1]))
        before = _found(conn, only)
    assert ids and len(only) > 50 and all(before.values())
    _remove(corpus)
    assert store.build_db(corpus, db, jobs=1).mode == "incremental"
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from documents").fetchone() == (1,)
        assert _found(conn, only) == {"clauses_fts": 0, "targets_fts": 0, "clause_targets_fts": 0}
        assert not conn.execute(
            "select 1 from trajectories where target_id in (select value from json_each(?))",
            [json.dumps(ids)],
        ).fetchall()


def test_without_cached_old_rows_the_tokens_are_read_back(first_build, tmp_path):
    """The cache lost the changed document's old rows: its FTS entries are deleted with tokens
    read back from kb.db (clauses_fts) and recomputed (a target's own), with the same result."""
    corpus, db = _copy_build(first_build, tmp_path)
    with sqlite3.connect(db) as conn:
        old_key = conn.execute(
            "select cache_key from build_documents where document_id = ?", [SHORT[1]]
        ).fetchone()[0]
    cache = BuildCache.beside(db)
    cache.conn.execute("delete from documents where key = ?", [old_key])
    cache.close()
    _change(corpus)
    report = store.build_db(corpus, db, jobs=1)
    assert report.mode == "incremental" and report.extracted == 1
    assert content(db) == content(_fresh(corpus, db, tmp_path))


def test_colliding_slots_move_documents_as_a_fresh_build_places_them(first_build, tmp_path, monkeypatch):
    """Two ids wanting one slot: the first in id order takes it, the next probes on. Removing the
    first moves the second back into it, as a fresh build of what is left would place it."""
    monkeypatch.setattr(store, "document_slot", lambda doc_id: 7)
    monkeypatch.setattr(store, "INCREMENTAL_MAX_SHARE", 1.0)
    assert store.assign_slots(["b", "a", "c"]) == {"a": 7, "b": 8, "c": 9}
    folder = tmp_path / "first"
    folder.mkdir()
    corpus, db = _copy_build(first_build, folder)
    report = store.build_db(corpus, db, jobs=1)  # both documents move to their new slots
    assert (report.mode, report.changed, report.extracted) == ("incremental", 2, 0)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select slot from build_documents order by document_id").fetchall() == [
            (7,),
            (8,),
        ]
    assert content(db) == content(_fresh(corpus, db, tmp_path / "1"))
    _remove(corpus)
    report = store.build_db(corpus, db, jobs=1)
    assert (report.mode, report.changed, report.removed, report.extracted) == ("incremental", 1, 1, 0)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select document_id, slot from build_documents").fetchall() == [(SHORT[1], 7)]
        assert conn.execute("select min(rowid) from clauses").fetchone()[0] == (7 << store.ROW_BITS) + 1
    assert content(db) == content(_fresh(corpus, db, tmp_path))


@pytest.mark.parametrize(
    "why",
    ["no kb.db", "corrupt kb.db", "rules", "schema", "versions", "too many changes", "no cache"],
)
def test_a_full_write_when_the_old_kb_db_cannot_be_updated(first_build, tmp_path, monkeypatch, why):
    corpus, db = _copy_build(first_build, tmp_path)
    options = {}
    expected = {
        "no kb.db": "no kb.db yet",
        "corrupt kb.db": "cannot be read",
        "rules": "extraction rules changed",
        "schema": "schema version",
        "versions": "library versions changed",
        "too many changes": "2 of 2 documents changed",
        "no cache": "--no-cache",
    }[why]
    if why == "no kb.db":
        db.unlink()
    elif why == "corrupt kb.db":
        db.write_bytes(b"SQLite format 3\0" + b"\x13" * 5000)
    elif why == "rules":
        monkeypatch.setattr(store, "extractor_digest", lambda: "other rules")
    elif why == "schema":
        monkeypatch.setattr(store, "SCHEMA_VERSION", store.SCHEMA_VERSION + 1)
    elif why == "versions":
        monkeypatch.setattr(store, "library_versions", lambda: "jieba=0.0")
    elif why == "too many changes":
        _change(corpus)
        _append(corpus, SHORT[0], "\n到2025年，新增绿地面积3公顷。\n")
    else:
        options["cache"] = False
    _change(corpus) if why != "too many changes" else None
    report = store.build_db(corpus, db, jobs=1, **options)
    assert report.mode == "full" and expected in report.reason, report.reason
    fresh = _fresh(corpus, db, tmp_path, extracted=int(why == "no cache"))  # --no-cache wrote no rows
    assert content(db, ranks=False) == content(fresh, ranks=False)


def test_a_failed_update_leaves_the_old_kb_db_as_it_was(first_build, tmp_path, monkeypatch):
    corpus, db = _copy_build(first_build, tmp_path)
    before = db.read_bytes()

    def fail(*args, **kwargs):
        raise RuntimeError("killed in the middle of the update")

    monkeypatch.setattr(store, "_corpus_tables", fail)
    _change(corpus)
    with pytest.raises(RuntimeError, match="killed"):
        store.build_db(corpus, db, jobs=1)
    assert db.read_bytes() == before  # the update was made on a copy
    assert stale_files(db) == []


def test_the_build_command_says_which_path_it_took(first_build, tmp_path):
    from click.testing import CliRunner

    from extractor.cli import main

    corpus, db = _copy_build(first_build, tmp_path)
    _change(corpus)
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--db", str(db), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "updated in place: 1 changed, 0 added, 0 removed" in result.output
    assert "steps: " in result.output and "similar" in result.output
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--db", str(tmp_path / "new.db")])
    assert "full write: no kb.db yet" in result.output


def test_a_corrupt_cache_entry_is_extracted_again(short_corpus, tmp_path):
    db = tmp_path / "kb.db"
    store.build_db(short_corpus, db, jobs=1)
    before = content(db)
    cache = BuildCache.beside(db)
    cache.conn.execute("update documents set rows = x'00ff'")
    cache.close()
    report = store.build_db(short_corpus, db, jobs=1)  # nothing changed: no cached rows needed
    assert (report.mode, report.extracted, report.steps.get("similar")) == ("incremental", 0, None)
    assert content(db) == before
    db.unlink()
    report = store.build_db(short_corpus, db, jobs=1)
    assert report.extracted == 2 and not report.errors
    assert content(db) == before


def test_a_corrupt_cache_file_is_replaced(short_corpus, tmp_path):
    db = tmp_path / "kb.db"
    path = tmp_path / ".policykb-cache" / "kb.db.sqlite"
    path.parent.mkdir()
    path.write_bytes(b"not a database" * 100)
    report = store.build_db(short_corpus, db, jobs=1)
    assert report.extracted == 2 and not report.errors
    assert store.build_db(short_corpus, db, jobs=1).extracted == 0


def test_stale_files_of_an_interrupted_build_are_removed(short_corpus, tmp_path):
    db = tmp_path / "kb.db"
    stale = [tmp_path / ".kb.db.k1ll3d.tmp", tmp_path / ".kb.db.k1ll3d.tmp-journal"]
    for p in stale:
        p.write_bytes(b"\0" * 1000)
    other = tmp_path / ".other.db.x.tmp"  # another knowledge base's temp file: not ours to remove
    other.write_bytes(b"")
    assert stale_files(db) == sorted(stale)
    store.build_db(short_corpus, db, jobs=1)
    assert not any(p.exists() for p in stale)
    assert other.exists()
    assert stale_files(db) == []


# -- the per-document budget and dying workers (parallel.run directly) -------------------------


def _fake_rows(entry):
    """Stands in for store.document_rows in the workers (fork: they inherit the patch)."""
    if entry.id.startswith("fengtai-2024"):
        Path(os.environ["POLICYKB_TEST_STUCK"]).write_text(str(os.getpid()))
        time.sleep(600)  # stuck
    if entry.id.startswith("huairou"):
        os._exit(3)  # the worker dies (a crash, the OOM killer)
    return {"id": entry.id}


@pytest.mark.skipif(
    parallel._context().get_start_method() != "fork", reason="the patch reaches workers by fork"
)
def test_a_stuck_document_times_out_and_a_dying_worker_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(store, "document_rows", _fake_rows)
    monkeypatch.setenv("POLICYKB_TEST_STUCK", str(tmp_path / "stuck.pid"))
    entries = sorted(load_catalog(CORPUS), key=lambda e: e.id)
    results = dict((e.id, r) for e, r in parallel.run(entries, jobs=2, doc_timeout=2))
    pid = int((tmp_path / "stuck.pid").read_text())
    with pytest.raises(ProcessLookupError):  # the stuck worker was killed, not left sleeping
        os.kill(pid, 0)
    assert list(results) == [e.id for e in entries]  # every entry, in order
    assert isinstance(results["fengtai-2024-action-plan-interpretation"], DocumentTimeoutError)
    assert "E028" in str(results["fengtai-2024-action-plan-interpretation"])
    assert isinstance(results["huairou-2024-action-plan-draft-explanation"], WorkerDiedError)
    for doc_id in ("chaoyang-2025-action-plan-drafting-explanation", "fengtai-2021-2025-eco-plan"):
        assert results[doc_id] == {"id": doc_id}
    assert results["mentougou-2024-action-plan-qa"] == {"id": "mentougou-2024-action-plan-qa"}


def test_a_failing_document_is_reported_and_the_others_build(short_corpus, tmp_path):
    bad = short_corpus / "mentougou-2024-action-plan-qa.txt"
    bad.write_bytes(b" \n" * 50)
    report = store.build_db(short_corpus, tmp_path / "kb.db", jobs=2)
    from extractor.errors import EmptyDocumentError

    assert [(type(e), Path(e.path).name) for e in report.errors] == [(EmptyDocumentError, bad.name)]
    assert "empty" in str(report.errors[0])
    assert [d.id for d in report.documents] == ["chaoyang-2025-action-plan-drafting-explanation"]


# -- Dask ------------------------------------------------------------------------------------


def test_a_dask_cluster_builds_the_same_knowledge_base(short_corpus, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra (distributed) is not installed")
    local = tmp_path / "local.db"
    store.build_db(short_corpus, local, jobs=1, cache=False)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        dask_db = tmp_path / "dask.db"
        report = store.build_db(short_corpus, dask_db, scheduler=cluster.scheduler_address, cache=False)
    assert not report.errors and report.extracted == 2
    assert content(dask_db) == content(local)


def test_an_unreachable_scheduler_is_a_named_error(short_corpus, tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra (distributed) is not installed")
    from extractor.errors import PolicyKBError

    monkeypatch.setattr(parallel, "DASK_CONNECT_TIMEOUT", 2)

    with pytest.raises(PolicyKBError, match="scheduler"):
        store.build_db(short_corpus, tmp_path / "kb.db", scheduler="tcp://127.0.0.1:9", cache=False)
    assert not (tmp_path / "kb.db").exists()


def test_a_non_finite_value_is_refused_with_a_named_error(monkeypatch):
    """The grammar gives no inf (digit runs over 30 are no number); if a rule ever did, the
    document fails with a SourceError instead of writing Infinity into kb.db and JSON."""
    from extractor.errors import SourceError
    from extractor.kb import fts
    from extractor.kb.citations import document_citation_rows
    from extractor.lexicon.cues import load_indicators
    from extractor.pipeline import process_file

    entry = next(e for e in load_catalog(CORPUS) if e.id == SHORT[1])
    doc = process_file(entry.path, entry)
    doc.targets[0].value = float("inf")
    with pytest.raises(SourceError, match="non-finite value"):
        store.processed_rows(doc, fts, document_citation_rows, load_indicators().indicators)


def test_a_rebuild_updates_similar_clauses_in_a_process_of_its_own(first_build, tmp_path, monkeypatch):
    """The rebuild's similar-clauses update runs in the spawned process (similar.UpdateApart),
    not in the build's: the in-process update is never called, and the table is a fresh build's."""
    from extractor.kb import similar

    def here(*args, **kwargs):
        raise AssertionError("updated in the build's process")

    monkeypatch.setattr(similar, "update_similar", here)
    corpus, db = _copy_build(first_build, tmp_path)
    _change(corpus)
    report = store.build_db(corpus, db, jobs=1)
    assert report.mode == "incremental" and "similar (updated)" in report.steps, report.steps
    assert content(db) == content(_fresh(corpus, db, tmp_path))
