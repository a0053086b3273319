"""The comparison pages' tables of kb.db: every indicator's values in page order, and per district.

``/-/compare/<indicator>`` shows one page of an indicator's values (100 of 22,916 for
pm25_annual_mean at 10,000 documents) and filter counts over all of them. Sorting and counting
every value per request grew with the corpus (344 ms of CPU a page at 10,000 documents); these
tables, computed at build time, make a page an index range and the counts index lookups:

- ``compare_order``: one row per target with an indicator, its primary key the order the pages
  list an indicator's values in (pages.VALUES_ORDER): ``indicator_id``, ``district_key`` (the
  district, '' for none), ``year_key`` (the target's year, else its document's, -1 for none),
  ``kind_rank`` (target, actual, scope, other), ``document_id``, ``start_key`` (-1 for none),
  ``target_id``; then ``kind``, ``year`` (the target's own, what the year filter selects) and
  ``qualitative`` (1 for a target stated in words: no number, its wording in ``value_text``).
  A page is a range of the key; indexes on (indicator_id, kind) and (indicator_id, year), which
  hold the key after those columns, serve the filtered pages in the same order.
- ``compare_districts`` (indicator_id, district, n, n_targets, n_numeric_targets): one row per
  indicator and district with a value of it (any kind), the values counted; indexed on
  (indicator_id, n desc, district) for the districts with the most values.

Both are WITHOUT ROWID tables whose rows depend on one district's documents only, so a
rebuild rewrites the rows of the districts it touched (:func:`fill_compare`) and writes what a
full build writes. :func:`build_compare` creates them (called by
:func:`extractor.kb.store.write_db`). The web layer falls back on the old per-request queries
for a kb.db built before the tables existed (:func:`has_tables`).
"""

from __future__ import annotations

import json

import sqlite_utils

from extractor.sqlite import sqlite3

ORDER_TABLE = "compare_order"
DISTRICTS_TABLE = "compare_districts"
KEY = "district_key, year_key, kind_rank, document_id, start_key, target_id"  # after indicator_id

_SCHEMA = f"""
create table if not exists [{ORDER_TABLE}] (
  indicator_id text not null, district_key text not null, year_key integer not null,
  kind_rank integer not null, document_id text not null, start_key integer not null,
  target_id text not null, kind text, year integer, qualitative integer not null,
  primary key (indicator_id, {KEY})
) without rowid;
create table if not exists [{DISTRICTS_TABLE}] (
  indicator_id text not null, district text not null, n integer not null,
  n_targets integer not null, n_numeric_targets integer not null,
  primary key (indicator_id, district)
) without rowid;
"""
_INDEXES = f"""
create index if not exists idx_compare_order_kind on [{ORDER_TABLE}] (indicator_id, kind);
create index if not exists idx_compare_order_year on [{ORDER_TABLE}] (indicator_id, year);
create index if not exists idx_compare_districts_n on [{DISTRICTS_TABLE}] (indicator_id, n desc, district);
"""


def has_tables(conn: sqlite3.Connection) -> bool:
    """Whether this kb.db has the tables (one built before them has not)."""
    found = conn.execute(
        "select count(*) from sqlite_master where type = 'table' and name in (?, ?)",
        [ORDER_TABLE, DISTRICTS_TABLE],
    ).fetchone()[0]
    return found == 2


def fill_compare(db: sqlite_utils.Database, districts: list[str | None] | None = None) -> int:
    """Write the rows of every district (with None), or those of ``districts`` (None in it:
    the documents without a district) anew; returns the ``compare_order`` rows written."""
    conn = db.conn
    if districts is None:
        conn.execute(f"delete from [{ORDER_TABLE}]")
        conn.execute(f"delete from [{DISTRICTS_TABLE}]")
        some = some_keys = ""
        params: list = []
    else:
        keys = json.dumps(sorted({d or "" for d in districts}), ensure_ascii=False)
        # by the index on documents.district (a coalesce() would read every document)
        some = " and (d.district in (select value from json_each(?))" + (
            " or d.district is null)" if None in districts or "" in districts else ")"
        )
        some_keys = " and district_key in (select value from json_each(?))"
        params = [keys]
        conn.execute(f"delete from [{ORDER_TABLE}] where true{some_keys}", params)
        conn.execute(
            f"delete from [{DISTRICTS_TABLE}] where district in (select value from json_each(?))", params
        )
    n = conn.execute(
        f"""
        insert into [{ORDER_TABLE}] (indicator_id, {KEY}, kind, year, qualitative)
        select t.indicator_id, coalesce(d.district, ''), coalesce(t.year, d.year, -1),
          case t.kind when 'target' then 0 when 'actual' then 1 when 'scope' then 2 else 3 end,
          t.document_id, coalesce(t.start, -1), t.id, t.kind, t.year,
          (t.value is null and coalesce(t.value_text, '') != '')
        from targets t join documents d on d.id = t.document_id
        where t.indicator_id is not null{some}
        order by 1, 2, 3, 4, 5, 6, 7
        """,
        params,
    ).rowcount
    conn.execute(
        f"""
        insert into [{DISTRICTS_TABLE}] (indicator_id, district, n, n_targets, n_numeric_targets)
        select indicator_id, district_key, count(*), count(case when kind = 'target' then 1 end),
          count(case when kind = 'target' and not qualitative then 1 end)
        from [{ORDER_TABLE}]
        where district_key != ''{some_keys}
        group by 1, 2 order by 1, 2
        """,
        params,
    )
    return n


def build_compare(db: sqlite_utils.Database) -> int:
    """Create and fill ``compare_order`` and ``compare_districts`` with their indexes; returns
    the ``compare_order`` rows."""
    db.conn.executescript(_SCHEMA)
    n = fill_compare(db)
    db.conn.executescript(_INDEXES)
    return n


def update_compare(db: sqlite_utils.Database, districts: list[str | None]) -> None:
    """A rebuild's step: :func:`fill_compare` for ``districts`` in one transaction, or
    :func:`build_compare` for a kb.db built before the tables."""
    if has_tables(db.conn):
        with db.conn:
            fill_compare(db, districts)
    else:
        build_compare(db)
        db.conn.commit()
