"""Parallel, cached and distributed builds (issue 12): the same kb.db whatever ``--jobs``, the
cache or the scheduler is; one changed document re-extracted; a slow or dying document left out
with a named error while the others build; stale files of an interrupted build removed."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
import yaml

from extractor.errors import DocumentTimeoutError, WorkerDiedError
from extractor.kb import parallel, store
from extractor.kb.cache import BuildCache, stale_files
from extractor.read.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SHORT = [  # the two shortest documents of corpus/: a build of them takes a few seconds
    "chaoyang-2025-action-plan-drafting-explanation",
    "mentougou-2024-action-plan-qa",
]


def content(db_path: Path) -> dict[str, str]:
    """A digest of every table of kb.db but build_info (which records when and how it was
    built), and of what each vocabulary term finds in the FTS indexes."""
    conn = sqlite3.connect(db_path)
    out = {}
    names = [
        r[0]
        for r in conn.execute(
            "select name from sqlite_master where type in ('table', 'view') and name not like 'sqlite_%'"
            " and name not like '%_fts%' and name != 'build_info'"
        )
    ]
    for name in sorted(names):
        rows = sorted(repr(r) for r in conn.execute(f"select * from [{name}]"))
        out[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    for fts in ("clauses_fts", "targets_fts"):
        h = hashlib.sha256()
        for (term,) in conn.execute("select term from search_vocabulary order by term"):
            q = '"' + term.replace('"', '""') + '"'
            ids = [
                r[0] for r in conn.execute(f"select rowid from {fts} where {fts} match ? order by rowid", [q])
            ]
            h.update(f"{term}:{ids}\n".encode())
        out[fts] = h.hexdigest()
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


def test_a_corrupt_cache_entry_is_extracted_again(short_corpus, tmp_path):
    db = tmp_path / "kb.db"
    store.build_db(short_corpus, db, jobs=1)
    before = content(db)
    cache = BuildCache.beside(db)
    cache.conn.execute("update documents set rows = x'00ff'")
    cache.close()
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
