"""A rebuild's similar_clauses (extractor.kb.similar.update_similar) equal a fresh build's: on
corpora of copied clauses, documents are changed, added and removed, the table is updated from
the saved index, and every row (clause, other clause, score) is what build_similar writes on
the new clauses; twice in a row (the saved index is updated too); and a missing or stale index
is refused (the build then computes the table whole)."""

from __future__ import annotations

import random
import sqlite3

import pytest
import sqlite_utils

from extractor.kb import similar
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
