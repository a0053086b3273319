"""Building kb.db: contents, determinism, atomic replacement, bad documents, committed kb.db."""

from __future__ import annotations

import shutil

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from extractor.cli import main
from extractor.errors import CatalogError
from extractor.kb.store import build_db, is_stale
from extractor.sqlite import sqlite3

from .conftest import ROOT


def table_dump(path) -> dict[str, list[tuple]]:
    """Rows of every ordinary table (FTS shadow tables aside), in primary-key order."""
    db = sqlite_utils.Database(path)
    out = {}
    for name in db.table_names():
        if "_fts" in name or name.startswith("sqlite_"):
            continue
        table = db[name]
        order = ", ".join(f"[{c}]" for c in table.pks)
        out[name] = [tuple(r.values()) for r in db.query(f"select * from [{name}] order by {order}")]
    db.close()
    return out


def test_tables_and_foreign_keys(built_db):
    db = sqlite_utils.Database(built_db)
    assert {"documents", "sections", "clauses", "targets", "indicators", "campaigns"} <= set(db.table_names())
    fks = {(fk.column, fk.other_table) for fk in db["clauses"].foreign_keys}
    assert {("document_id", "documents"), ("section_id", "sections"), ("campaign", "campaigns")} <= fks
    fks = {(fk.column, fk.other_table) for fk in db["targets"].foreign_keys}
    assert {("document_id", "documents"), ("clause_id", "clauses"), ("indicator_id", "indicators")} <= fks
    assert db.execute("pragma foreign_key_check").fetchall() == []
    assert db["documents"].count == 5


def test_every_clause_and_target_cites_documents_text(built_db):
    db = sqlite_utils.Database(built_db)
    texts = {r["id"]: r["text"] for r in db["documents"].rows}
    for c in db["clauses"].rows:
        assert texts[c["document_id"]][c["start"] : c["end"]] == c["text"], c["id"]
    for t in db["targets"].rows:
        assert texts[t["document_id"]][t["start"] : t["end"]] == t["surface"], t["id"]
    for t in db.query(
        "select t.id, t.start, t.end, c.start cs, c.end ce from targets t join clauses c on c.id = t.clause_id"
    ):
        assert t["cs"] <= t["start"] and t["end"] <= t["ce"], t["id"]


def test_documents_text_is_the_source_unchanged(built_db, corpus_dir):
    db = sqlite_utils.Database(built_db)
    for row in db["documents"].rows:
        assert row["text"] == (corpus_dir / row["file"]).read_text(encoding="utf-8")


def test_build_is_deterministic(built_db, tmp_path, corpus_dir):
    again = tmp_path / "again.db"
    build_db(corpus_dir, again)
    assert table_dump(again) == table_dump(built_db)


def test_committed_kb_db_is_up_to_date(built_db):
    committed = ROOT / "kb.db"
    assert committed.exists(), "kb.db is missing: run `policykb build` and commit it"
    assert not is_stale(committed, ROOT / "corpus"), "kb.db was built from another corpus: rebuild it"
    assert table_dump(committed) == table_dump(built_db), (
        "kb.db is out of date: run `policykb build` and commit it"
    )


@pytest.fixture
def corpus_copy(tmp_path, corpus_dir):
    target = tmp_path / "corpus"
    target.mkdir()
    for path in corpus_dir.iterdir():
        shutil.copy(path, target / path.name)
    return target


def add_entry(corpus, file_name, data: bytes, **fields):
    (corpus / file_name).write_bytes(data)
    catalog = yaml.safe_load((corpus / "catalog.yml").read_text(encoding="utf-8"))
    entry = {
        "id": file_name.split(".")[0],
        "file": file_name,
        "district": "测试区",
        "district_slug": "test",
        "city": "北京市",
        "year": 2024,
        "genre": "行动计划",
        "title": "测试计划",
    }
    entry.update(fields)
    catalog["documents"].append(entry)
    (corpus / "catalog.yml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")


def test_gbk_document_builds(corpus_copy, tmp_path):
    text = "一、主要目标\n蓝天保卫战方面：PM2.5年均浓度不高于30微克/立方米。\n"
    add_entry(corpus_copy, "gbk-plan.txt", text.encode("gbk"))
    report = build_db(corpus_copy, tmp_path / "kb.db")
    assert not report.errors
    db = sqlite_utils.Database(tmp_path / "kb.db")
    assert db["documents"].get("gbk-plan")["encoding"] == "gb18030"
    assert db["documents"].get("gbk-plan")["text"] == text


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.txt", b"", "empty"),
        ("garbled.txt", bytes(range(0x80, 0x100)) * 4, "cannot decode"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj <<", "pdf"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "docx"),
    ],
)
def test_bad_document_is_reported_and_the_rest_builds(corpus_copy, tmp_path, name, data, reason):
    add_entry(corpus_copy, name, data)
    runner = CliRunner()
    result = runner.invoke(main, ["build", "--corpus", str(corpus_copy), "--db", str(tmp_path / "kb.db")])
    assert result.exit_code == 1
    assert name in result.output and reason in result.output.lower()
    assert "Traceback" not in result.output
    db = sqlite_utils.Database(tmp_path / "kb.db")
    assert db["documents"].count == 5


def test_catalog_error_leaves_existing_kb_db_untouched(corpus_copy, tmp_path, built_db):
    db_path = tmp_path / "kb.db"
    shutil.copy(built_db, db_path)
    before = db_path.read_bytes()
    catalog = corpus_copy / "catalog.yml"
    catalog.write_text(
        catalog.read_text(encoding="utf-8").replace("district: 朝阳区", "distrct: 朝阳区"), encoding="utf-8"
    )
    with pytest.raises(CatalogError, match="unknown field"):
        build_db(corpus_copy, db_path)
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus_copy), "--db", str(db_path)])
    assert result.exit_code == 1 and "chaoyang" in result.output and "distrct" in result.output
    assert db_path.read_bytes() == before
    assert not list(tmp_path.glob(".kb.db.*"))


def test_failure_while_writing_leaves_existing_kb_db_untouched(corpus_dir, tmp_path, built_db, monkeypatch):
    import extractor.kb.store as store

    db_path = tmp_path / "kb.db"
    shutil.copy(built_db, db_path)
    before = db_path.read_bytes()

    def boom(db):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_create_schema", boom)
    monkeypatch.setattr(store, "INCREMENTAL_MAX_SHARE", -1.0)  # a full write (the update: test_parallel)
    with pytest.raises(RuntimeError):
        build_db(corpus_dir, db_path)
    assert db_path.read_bytes() == before
    assert not list(tmp_path.glob(".kb.db.*"))


def test_failure_while_the_similar_pairs_are_computed_leaves_no_file(corpus_dir, tmp_path, monkeypatch):
    """The cold build writes its corpus-wide tables in WAL mode while the similar clauses'
    process reads the file: a failure then removes the temporary file with its -wal and -shm,
    and stops that process; a build that succeeds writes a kb.db in rollback mode, alone."""
    import multiprocessing

    import extractor.kb.store as store
    from extractor.kb import trajectories

    def boom(db):
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
        raise RuntimeError("disk full")

    monkeypatch.setattr(trajectories, "build_trajectories", boom)
    monkeypatch.setattr(store, "INCREMENTAL_MAX_SHARE", -1.0)
    with pytest.raises(RuntimeError, match="disk full"):
        build_db(corpus_dir, tmp_path / "kb.db", jobs=1)
    assert not list(tmp_path.glob(".kb.db.*"))
    assert not multiprocessing.active_children()
    monkeypatch.undo()
    build_db(corpus_dir, tmp_path / "kb.db", jobs=1)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("kb.db", ".kb.db"))) == ["kb.db"]
    conn = sqlite3.connect(tmp_path / "kb.db")
    assert conn.execute("pragma journal_mode").fetchone()[0] == "delete"
    assert conn.execute("select count(*) from similar_clauses").fetchone()[0] > 0


def test_build_prints_a_summary_per_document(corpus_dir, tmp_path):
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus_dir), "--db", str(tmp_path / "kb.db")])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("chaoyang-2025"))
    assert "6 campaigns" in line and "静音保卫战" in line and "clauses" in line


def test_kb_db_is_stale_when_corpus_or_rules_change(built_db, corpus_copy, tmp_path, monkeypatch):
    import extractor.kb.store as store

    db_path = tmp_path / "kb.db"
    shutil.copy(built_db, db_path)
    assert not is_stale(db_path, corpus_copy)
    monkeypatch.setattr(store, "extractor_digest", lambda: "other rules")
    assert is_stale(db_path, corpus_copy)
    monkeypatch.undo()
    with open(corpus_copy / "mentougou-2024-action-plan-qa.txt", "a", encoding="utf-8") as f:
        f.write("\n")
    assert is_stale(db_path, corpus_copy)
    assert is_stale(tmp_path / "missing.db", corpus_copy)


def test_a_file_missing_from_the_catalog_is_reported(corpus_copy, tmp_path):
    (corpus_copy / "forgotten-plan.txt").write_text(
        "一、目标\n降尘量控制在5吨/平方公里·月。\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        main, ["build", "--corpus", str(corpus_copy), "--db", str(tmp_path / "kb.db")]
    )
    assert result.exit_code == 0
    assert "forgotten-plan.txt is not in catalog.yml" in result.output
