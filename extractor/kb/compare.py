"""The comparison pages' tables of kb.db: every indicator's values in page order, and per district.

``/-/compare/<indicator>`` shows one page of an indicator's values (100 of 22,916 for
pm25_annual_mean at 10,000 documents) and filter counts over all of them. Sorting and counting
every value per request grew with the corpus (344 ms of CPU a page at 10,000 documents); these
tables, computed at build time, make a page an index range and the counts index lookups:

- ``compare_order`` (indicator_id, ord, target_id, district, kind, year, qualitative): one row per
  target with an indicator, ``ord`` its 1-based position among the indicator's values in the
  order the pages list them (:data:`ORDER`: district, year, kind, document, offset, id). Primary
  key (indicator_id, ord); indexed on (indicator_id, district | kind | year, ord), so a filtered
  page is a range of one index too. ``qualitative`` is 1 for a target stated in words (no
  number, its wording in ``value_text``).
- ``compare_districts`` (indicator_id, district, n, n_targets, n_numeric_targets): one row per
  indicator and district with a value of it (any kind), the values counted; indexed on
  (indicator_id, n desc, district) for the districts with the most values.

Both are WITHOUT ROWID tables: their primary key is their content, so a rebuild that rewrites
some indicators writes what a full build writes. :func:`build_compare` creates them (called by
:func:`extractor.kb.store.write_db`); :func:`fill_compare` rewrites the indicators a rebuild's
districts have values of (before or after it). The web layer falls back on the old per-request
queries for a kb.db built before the tables existed (:func:`has_tables`).
"""

from __future__ import annotations

import json
import sqlite3

import sqlite_utils

ORDER_TABLE = "compare_order"
DISTRICTS_TABLE = "compare_districts"

# the pages' order of an indicator's values (pages.VALUES_ORDER, the same keys)
ORDER = """d.district, coalesce(t.year, d.year),
  case t.kind when 'target' then 0 when 'actual' then 1 when 'scope' then 2 else 3 end,
  t.document_id, t.start, t.id"""

_SCHEMA = f"""
create table if not exists [{ORDER_TABLE}] (
  indicator_id text not null, ord integer not null, target_id text not null, district text,
  kind text, year integer, qualitative integer not null,
  primary key (indicator_id, ord)
) without rowid;
create table if not exists [{DISTRICTS_TABLE}] (
  indicator_id text not null, district text not null, n integer not null,
  n_targets integer not null, n_numeric_targets integer not null,
  primary key (indicator_id, district)
) without rowid;
"""
_INDEXES = f"""
create index if not exists idx_compare_order_district on [{ORDER_TABLE}] (indicator_id, district, ord);
create index if not exists idx_compare_order_kind on [{ORDER_TABLE}] (indicator_id, kind, ord);
create index if not exists idx_compare_order_year on [{ORDER_TABLE}] (indicator_id, year, ord);
create index if not exists idx_compare_districts_n on [{DISTRICTS_TABLE}] (indicator_id, n desc, district);
"""


def has_tables(conn: sqlite3.Connection) -> bool:
    """Whether this kb.db has the tables (one built before them has not)."""
    found = conn.execute(
        "select count(*) from sqlite_master where type = 'table' and name in (?, ?)",
        [ORDER_TABLE, DISTRICTS_TABLE],
    ).fetchone()[0]
    return found == 2


def _affected(conn: sqlite3.Connection, districts: list[str | None]) -> list[str]:
    """Indicators with a value in one of ``districts`` before the rebuild (the tables) or after
    it (targets): only their order and counts can have changed."""
    named = json.dumps([d for d in districts if d is not None])
    found = {
        i
        for (i,) in conn.execute(
            f"select distinct indicator_id from [{ORDER_TABLE}]"
            " where district in (select value from json_each(?))",
            [named],
        )
    }
    found.update(
        i
        for (i,) in conn.execute(
            "select distinct t.indicator_id from targets t join documents d on d.id = t.document_id"
            " where t.indicator_id is not null and d.district in (select value from json_each(?))",
            [named],
        )
    )
    if None in districts:  # documents without a district
        found.update(
            i
            for (i,) in conn.execute(
                f"select distinct indicator_id from [{ORDER_TABLE}] where district is null"
            )
        )
        found.update(
            i
            for (i,) in conn.execute(
                "select distinct t.indicator_id from targets t join documents d on d.id = t.document_id"
                " where t.indicator_id is not null and d.district is null"
            )
        )
    return sorted(found)


def fill_compare(db: sqlite_utils.Database, districts: list[str | None] | None = None) -> int:
    """Write the rows of every indicator (with None), or of the indicators with a value in one
    of ``districts`` before or after a rebuild (an indicator's order is recomputed whole: a
    value inserted shifts every later one); returns the ``compare_order`` rows written."""
    conn = db.conn
    if districts is None:
        conn.execute(f"delete from [{ORDER_TABLE}]")
        conn.execute(f"delete from [{DISTRICTS_TABLE}]")
        some, params = "", []
    else:
        chosen = json.dumps(_affected(conn, list(districts)))
        some, params = " and t.indicator_id in (select value from json_each(?))", [chosen]
        for table in (ORDER_TABLE, DISTRICTS_TABLE):
            conn.execute(
                f"delete from [{table}] where indicator_id in (select value from json_each(?))", params
            )
    n = conn.execute(
        f"""
        insert into [{ORDER_TABLE}] (indicator_id, ord, target_id, district, kind, year, qualitative)
        select t.indicator_id, row_number() over (partition by t.indicator_id order by {ORDER}),
          t.id, d.district, t.kind, t.year,
          (t.value is null and coalesce(t.value_text, '') != '')
        from targets t join documents d on d.id = t.document_id
        where t.indicator_id is not null{some}
        order by 1, 2
        """,
        params,
    ).rowcount
    conn.execute(
        f"""
        insert into [{DISTRICTS_TABLE}] (indicator_id, district, n, n_targets, n_numeric_targets)
        select indicator_id, district, count(*), count(case when kind = 'target' then 1 end),
          count(case when kind = 'target' and not qualitative then 1 end)
        from [{ORDER_TABLE}] t
        where district is not null{some}
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
