"""The search page's table of kb.db: each clause's facet values, by rowid.

``/-/search`` ranks the clauses a query finds in ``clauses_fts`` and ``clause_targets_fts`` (both
keyed by the clause's rowid: :mod:`extractor.kb.fts`) and counts facets over up to 2,000 +
2,000 of them (``MAX_HITS`` of :mod:`extractor.web.search_page`). Reading the facet values
through ``clauses`` (a lookup by text id), ``documents`` and a subquery over ``targets`` per
hit, and the clause of each matching target through ``targets``, was most of its time at
10,000 documents. This narrow table, computed at
build time, gives the same values by integer key:

- ``search_clauses`` (clause_rowid INTEGER PRIMARY KEY: the rowid of the clause in ``clauses``,
  ``clauses_fts`` and ``clause_targets_fts``; clause_id, document_id, seq, campaign; district,
  genre, year of its document; kinds: the distinct kinds of its targets, sorted,
  comma-separated, NULL for none).

Every row lies in its document's slot of rowids (:func:`extractor.kb.store.slot_rowids`), so a
rebuild rewrites the slots of the documents of the districts it touched (:func:`fill_search`)
and writes what a full build writes. :func:`build_search` creates it (called by
:func:`extractor.kb.store.write_db`). The search page falls back on the old queries for a
kb.db built before it and ``clause_targets_fts`` existed (:func:`has_tables`).
"""

from __future__ import annotations

import json

import sqlite_utils

from extractor.sqlite import sqlite3

CLAUSES_TABLE = "search_clauses"

_SCHEMA = f"""
create table if not exists [{CLAUSES_TABLE}] (
  clause_rowid integer primary key, clause_id text not null, document_id text not null,
  seq integer, campaign text, district text, genre text, year integer, kinds text
);
"""


def has_tables(conn: sqlite3.Connection) -> bool:
    """Whether this kb.db has ``search_clauses`` and ``clause_targets_fts`` with its
    ``target_tokens`` column (one built before them, or before schema 7, has not)."""
    found = conn.execute(
        "select count(*) from sqlite_master where type = 'table' and name in (?, 'clause_targets_fts')",
        [CLAUSES_TABLE],
    ).fetchone()[0]
    columns = {r[1] for r in conn.execute("select * from pragma_table_info('clause_targets_fts')")}
    return found == 2 and "target_tokens" in columns


def _insert(conn: sqlite3.Connection, where: str, params: list) -> int:
    return conn.execute(
        f"""
        insert into [{CLAUSES_TABLE}]
          (clause_rowid, clause_id, document_id, seq, campaign, district, genre, year, kinds)
        select c.rowid, c.id, c.document_id, c.seq, c.campaign, d.district, d.genre, d.year,
          (select group_concat(kind, ',') from
            (select distinct t.kind from targets t where t.clause_id = c.id and t.kind is not null order by 1))
        from clauses c join documents d on d.id = c.document_id
        where {where.format(rowid="c.rowid")}
        order by c.rowid
        """,
        params,
    ).rowcount


def fill_search(db: sqlite_utils.Database, districts: list[str | None] | None = None) -> int:
    """Write the rows of every document (with None), or anew those of the slots of the
    documents of ``districts`` before and after a rebuild (None in it: documents without a
    district); returns the ``search_clauses`` rows written."""
    from extractor.kb.store import ROW_BITS, slot_rowids

    conn = db.conn
    if districts is None:
        conn.execute(f"delete from [{CLAUSES_TABLE}]")
        return _insert(conn, "true", [])
    named = json.dumps(sorted({d for d in districts if d}), ensure_ascii=False)
    unnamed = None in districts or "" in districts
    either = "(district in (select value from json_each(?))" + (" or district is null)" if unnamed else ")")
    slots = sorted(
        {
            s
            for (s,) in conn.execute(
                f"select distinct clause_rowid >> {ROW_BITS} from [{CLAUSES_TABLE}] where {either}", [named]
            )
        }
        | {s for (s,) in conn.execute(f"select rowid >> {ROW_BITS} from documents where {either}", [named])}
    )
    n = 0
    for slot in slots:
        lo, hi = slot_rowids(slot)
        conn.execute(f"delete from [{CLAUSES_TABLE}] where clause_rowid between ? and ?", [lo, hi])
        n += _insert(conn, "{rowid} between ? and ?", [lo, hi])
    return n


def build_search(db: sqlite_utils.Database) -> int:
    """Create and fill ``search_clauses``; returns its rows."""
    db.conn.executescript(_SCHEMA)
    return fill_search(db)


def update_search(db: sqlite_utils.Database, districts: list[str | None]) -> None:
    """A rebuild's step: :func:`fill_search` for ``districts`` in one transaction, or
    :func:`build_search` for a kb.db built before the tables."""
    if has_tables(db.conn):
        with db.conn:
            fill_search(db, districts)
    else:
        build_search(db)
        db.conn.commit()
