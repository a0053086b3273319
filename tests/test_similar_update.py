"""A rebuild's similar_clauses (extractor.kb.similar.update_similar) equal a fresh build's: on
corpora of copied clauses, documents are changed, added and removed, the table is updated from
the saved index, and every row (clause, other clause, score) is what build_similar writes on
the new clauses; twice in a row (the saved index is updated too); and a missing or stale index
is refused (the build then computes the table whole)."""

from __future__ import annotations

import random

import pytest
import sqlite_utils

from extractor.kb import similar
from extractor.sqlite import sqlite3
from tests.test_similar_scale import WORDS, copied_clauses

PAD = "推进落实，"  # a verb of doing and a comma: every clause is a measure clause (is_measure)


def make_db(path, clauses) -> sqlite_utils.Database:
    """A kb.db with what the step reads: clauses (measure clauses: items) and their FTS tokens."""
    db = sqlite_utils.Database(path, recreate=True)
    db.execute("pragma synchronous = off")
    db.execute(
        "create table clauses (id text primary key, document_id text, kind text, text text, seq integer)"
    )
    db.execute("create table clauses_fts (tokens text)")  # (its rowid is the clause's, as in kb.db)
    insert(db, clauses)
    return db


def insert(db, clauses) -> None:
    with db.conn:
        for seq, c in enumerate(clauses, 1):
            text = PAD + c.tokens.replace(" ", "") + "，" * 10 + "。"
            rowid = db.conn.execute(
                "insert into clauses (id, document_id, kind, text, seq) values (?, ?, 'item', ?, ?)",
                [c.id, c.document_id, text, seq],
            ).lastrowid
            db.conn.execute("insert into clauses_fts (rowid, tokens) values (?, ?)", [rowid, c.tokens])


def delete(db, documents) -> None:
    with db.conn:
        for d in documents:
            db.conn.execute(
                "delete from clauses_fts where rowid in (select rowid from clauses where document_id = ?)",
                [d],
            )
            db.conn.execute("delete from clauses where document_id = ?", [d])


def rows(db) -> list[tuple]:
    return db.execute("select * from similar_clauses").fetchall()  # (WITHOUT ROWID: in key order)


def changed_corpus(seed: int, clauses, new_doc: str):
    """Of a corpus: the documents removed (changed ones among them), the clauses added
    (changed documents' new clauses, a new document's), and the new corpus."""
    rng = random.Random(seed)
    docs = sorted({c.document_id for c in clauses})
    first = min(clauses, key=lambda c: c.id).document_id  # its clauses are in the most rows (ties by id)
    removed = {first, rng.choice(docs)}
    changed = set(rng.sample(sorted(removed), 1))
    added = []
    for c in clauses:
        if c.document_id in changed:
            words = c.tokens.split()
            if rng.random() < 0.5:
                words[rng.randrange(len(words))] = rng.choice(WORDS)
            added.append(similar.MeasureClause(c.id, c.document_id, "", " ".join(words)))
    copies = rng.sample(clauses, 12)
    added += [
        similar.MeasureClause(f"{new_doc}:c{n:06d}", new_doc, "", c.tokens if n % 3 else c.tokens + " 扬尘")
        for n, c in enumerate(copies)
    ]
    new = [c for c in clauses if c.document_id not in removed] + added
    return removed, {c.document_id for c in added}, added, new


@pytest.mark.parametrize("seed", range(8))
def test_an_updated_table_equals_a_fresh_one(seed, tmp_path):
    clauses = copied_clauses(seed, n=160, documents=10)
    db = make_db(tmp_path / "kb.db", clauses)
    index = tmp_path / "kb.db.similar.npz"
    similar.build_similar(db, index, "first")
    for round_ in range(2):  # twice: the index saved by the first update serves the second
        removed, added_docs, added, clauses = changed_corpus(seed * 10 + round_, clauses, f"d9{round_}")
        delete(db, removed)
        insert(db, added)
        old = "first" if round_ == 0 else "second"
        assert (
            similar.update_similar(db, removed, added_docs, index, old, ["second", "third"][round_])
            is not None
        )
        fresh = make_db(tmp_path / f"fresh{round_}.db", clauses)
        similar.build_similar(fresh)
        expected = rows(fresh)
        assert expected and rows(db) == expected
        assert {r[0] for r in expected} & {c.id for c in added}  # new clauses got rows


def test_a_missing_or_stale_index_is_refused(tmp_path):
    clauses = copied_clauses(3)
    db = make_db(tmp_path / "kb.db", clauses)
    index = tmp_path / "kb.db.similar.npz"
    similar.build_similar(db, index, "first")
    assert similar.update_similar(db, set(), set(), index, "another build", "x") is None
    index.write_bytes(b"not an index")
    assert similar.update_similar(db, set(), set(), index, "first", "x") is None
    index.unlink()
    assert similar.update_similar(db, set(), set(), index, "first", "x") is None


def test_an_update_with_one_document_left(tmp_path):
    """Every document but one removed: no pairs across documents remain."""
    clauses = copied_clauses(5, n=60, documents=3)
    db = make_db(tmp_path / "kb.db", clauses)
    index = tmp_path / "kb.db.similar.npz"
    similar.build_similar(db, index, "a")
    assert rows(db)
    docs = sorted({c.document_id for c in clauses})
    delete(db, docs[1:])
    assert similar.update_similar(db, set(docs[1:]), set(), index, "a", "b") == 0
    assert rows(db) == []


def test_the_table_has_no_rowid(tmp_path):
    db = make_db(tmp_path / "kb.db", copied_clauses(1))
    similar.build_similar(db)
    with pytest.raises(sqlite3.OperationalError):
        db.execute("select rowid from similar_clauses")


def test_the_pairs_computed_apart_are_the_same(tmp_path):
    """build_similar(apart=True) (the build's: a new process reads the file) writes the same
    rows; an error in that process is raised here."""
    clauses = copied_clauses(2, n=200, documents=10)
    here = make_db(tmp_path / "here.db", clauses)
    similar.build_similar(here)
    apart = make_db(tmp_path / "apart.db", clauses)
    similar.build_similar(apart, tmp_path / "apart.npz", "d", jobs=2, apart=True)
    assert rows(apart) and rows(apart) == rows(here)
    assert similar.SimilarIndex.load(tmp_path / "apart.npz", "d") is not None

    third = make_db(tmp_path / "third.db", clauses)
    third.execute("drop table clauses")  # the process reading the file fails on it
    with pytest.raises(sqlite3.OperationalError, match="no such table: clauses"):
        similar.build_similar(third, apart=True)


def test_the_pairs_started_early_are_the_same_while_the_file_is_written(tmp_path):
    """PairsApart (the cold build's: its process is made first, reads the file in WAL mode
    while this process writes other tables, then searches) writes the same rows as in
    process; its errors are raised; closing it twice is harmless."""
    clauses = copied_clauses(2, n=200, documents=10)
    here = make_db(tmp_path / "here.db", clauses)
    similar.build_similar(here)
    early = make_db(tmp_path / "early.db", clauses)
    pairs = similar.PairsApart()
    early.execute("pragma journal_mode = wal")
    pairs.start(tmp_path / "early.db", tmp_path / "early.npz", "d", jobs=2)
    with early.conn:  # a writer meanwhile: not blocked, and not seen by the reader's snapshot
        early["other"].insert_all({"n": i} for i in range(20_000))
    similar.build_similar(early, pairs=pairs)
    pairs.close()
    assert rows(early) and rows(early) == rows(here)
    assert similar.SimilarIndex.load(tmp_path / "early.npz", "d") is not None

    broken = make_db(tmp_path / "broken.db", clauses)
    broken.execute("drop table clauses")
    pairs = similar.PairsApart()
    pairs.start(tmp_path / "broken.db", None, None)
    with pytest.raises(sqlite3.OperationalError, match="no such table: clauses"):
        similar.build_similar(broken, pairs=pairs)


def _with_digest(db, digest: str):
    """A kb.db's build_info (the digest the update's process reads to find its index)."""
    db.execute("create table if not exists build_info (key text primary key, value text)")
    with db.conn:
        db.execute("insert or replace into build_info values ('corpus_digest', ?)", [digest])
    return db


@pytest.mark.parametrize("seed", range(3))
def test_the_update_computed_apart_is_the_same(seed, tmp_path):
    """similar.UpdateApart (a rebuild's: a spawned process reads the old kb.db and the index,
    gets the new clauses, sends back the rows) gives the rows update_similar writes in this
    process, and a fresh build's; the index it saves serves the next update."""
    import shutil

    clauses = copied_clauses(seed, n=160, documents=10)
    old = _with_digest(make_db(tmp_path / "old.db", clauses), "first")
    similar.build_similar(old, tmp_path / "here.npz", "first")
    old.close()
    shutil.copy(tmp_path / "here.npz", tmp_path / "apart.npz")
    removed, added_docs, added, clauses = changed_corpus(seed, clauses, "d90")
    updated = {}
    for name in ("here", "apart"):
        shutil.copy(tmp_path / "old.db", tmp_path / f"{name}.db")
        db = sqlite_utils.Database(tmp_path / f"{name}.db")
        delete(db, removed)
        insert(db, added)
        if name == "here":
            assert similar.update_similar(db, removed, added_docs, tmp_path / "here.npz", "first", "second")
        else:
            apart = similar.UpdateApart(tmp_path / "apart.npz", tmp_path / "old.db", removed)
            apart.start(similar.measure_clauses(db, documents=added_docs), "first", "second", jobs=2)
            similar.apply_update(db, *apart.result())
        updated[name] = rows(db)
    fresh = make_db(tmp_path / "fresh.db", clauses)
    similar.build_similar(fresh)
    assert updated["apart"] and updated["apart"] == updated["here"] == rows(fresh)
    a, b = (similar.SimilarIndex.load(tmp_path / f"{n}.npz", "second") for n in ("here", "apart"))
    assert a.ids == b.ids and a.vocabulary == b.vocabulary and (a.x != b.x).nnz == 0


def test_an_update_apart_without_its_index_or_failing(tmp_path):
    """No index saved for the old kb.db: the result is None (the build computes the table
    whole). An error in the process is raised here, as the cold build's is."""
    clauses = copied_clauses(4, n=60, documents=3)
    old = _with_digest(make_db(tmp_path / "old.db", clauses), "first")
    similar.build_similar(old, tmp_path / "kb.npz", "first")
    new = similar.measure_clauses(old)[:5]
    apart = similar.UpdateApart(tmp_path / "missing.npz", tmp_path / "old.db", set())
    apart.start(new, "first", "second")
    assert apart.result() is None
    old.execute("drop table similar_clauses")  # the process reading the old kb.db fails on it
    apart = similar.UpdateApart(tmp_path / "kb.npz", tmp_path / "old.db", {clauses[0].document_id})
    apart.start(new, "first", "second")
    with pytest.raises(sqlite3.OperationalError, match="no such table: similar_clauses"):
        apart.result()
    assert apart.pool is None  # (stopped)


@pytest.mark.parametrize("case", ["known tokens", "a new token", "an index without its IDF"])
def test_the_idf_table_is_read_only_for_a_token_the_index_lacks(case, tmp_path, monkeypatch):
    """The saved index keeps each column's IDF: an update whose new clauses bring no new token
    vectorizes them without jieba's table (about 1.2 s of CPU at every rebuild), one with a new
    token, or an index saved before it kept them, reads the table; the rows are a fresh
    build's either way."""
    clauses = copied_clauses(7, n=120, documents=8)
    db = make_db(tmp_path / "kb.db", clauses)
    index = tmp_path / "kb.db.similar.npz"
    similar.build_similar(db, index, "first")
    saved = similar.SimilarIndex.load(index, "first")
    assert saved.idf is not None and saved.idf.shape == (len(saved.vocabulary),)
    table, median = similar.word_idf()
    assert saved.idf.tolist() == [table.get(t, median) for t in saved.vocabulary]
    if case == "an index without its IDF":
        saved.idf = None
        saved.save(index, "first")
    doc = sorted({c.document_id for c in clauses})[2]
    extra = " 新词甲乙" if case == "a new token" else ""
    added = [
        similar.MeasureClause(f"{doc}:n{n}", doc, "", c.tokens + extra)
        for n, c in enumerate(c for c in clauses if c.document_id == doc)
    ]
    delete(db, {doc})
    insert(db, added)
    reads: list[int] = []
    real = similar.word_idf
    monkeypatch.setattr(similar, "word_idf", lambda: reads.append(1) or real())
    assert similar.update_similar(db, {doc}, {doc}, index, "first", "second") is not None
    assert bool(reads) == (case != "known tokens")
    new = [c for c in clauses if c.document_id != doc] + added
    fresh = make_db(tmp_path / "fresh.db", new)
    similar.build_similar(fresh)
    assert rows(db) and rows(db) == rows(fresh)
    after = similar.SimilarIndex.load(index, "second")  # (an index without them gets them)
    assert after.idf.tolist() == [table.get(t, median) for t in after.vocabulary]
