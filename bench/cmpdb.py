"""Compare two kb.db files, strictly: is an in-place rebuild the kb.db a full build writes?

    python bench/cmpdb.py A.db B.db [--rank-every 20] [--by-id]

Exit 1 on any difference. It compares:

- every ordinary table's rows (build_info aside) *with their rowids*: a rebuild keeps the rowids
  of a full build (each document's rows in a block of its own), so even the physical order agrees;
- what each ``search_vocabulary`` term finds in ``clauses_fts`` and ``targets_fts``;
- the FTS5 indexes token by token (``fts5vocab`` 'row': every token with its row count and
  occurrences, numbers and single characters included);
- bm25: the ranked ``(rowid, rank)`` lists of every ``--rank-every``'th vocabulary term and a few
  other queries, exactly (FTS5's rank depends on statistics over the whole index);
- the search page's ``selection()`` for a few queries (``extractor.web.search_page``);
- FTS5 ``integrity-check`` of both FTS tables in both files.

``--by-id`` compares kb.db files whose rowids differ (one built before rowid slots): rows
without rowids, FTS matches and ranks by clause and target id, ``build_documents`` aside.
"""

from __future__ import annotations

import argparse
import hashlib
import sys

from extractor.sqlite import sqlite3

QUERIES = ['NEAR("扬尘" "管控", 6)', 'NEAR("pm2.5" "浓度", 6)', '"水"*', '"2025"']
PAGE_QUERIES = ["扬尘", "扬尘管控", "PM2.5浓度", "燃油叉车", "水", "环境质量", "新增造林面积"]


def quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def tables(conn: sqlite3.Connection) -> set[str]:
    sql = "select name from sqlite_master where type = 'table' and name not like '%_fts%' and name not like 'sqlite_%'"
    return {r[0] for r in conn.execute(sql)}


def table_digest(conn: sqlite3.Connection, table: str, rowids: bool) -> tuple[list[str], int, str]:
    cols = sorted(r[1] for r in conn.execute(f"pragma table_info([{table}])"))
    without = conn.execute(
        "select count(*) from sqlite_master where name = ? and sql like '%WITHOUT ROWID%'", [table]
    ).fetchone()[0]
    select = ("rowid, " if rowids and not without else "") + ",".join(f"[{c}]" for c in cols)
    rows = sorted(repr(r) for r in conn.execute(f"select {select} from [{table}]"))
    return cols, len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()


def fts_tokens(conn: sqlite3.Connection, fts: str) -> tuple[int, str]:
    conn.execute(
        f"create virtual table if not exists temp.[vocab_{fts}] using fts5vocab(main, '{fts}', 'row')"
    )
    rows = conn.execute(f"select term, doc, cnt from temp.[vocab_{fts}] order by term").fetchall()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rank-every", type=int, default=20)
    parser.add_argument("--by-id", action="store_true", help="rowids may differ: compare ids, not rowids")
    args = parser.parse_args()
    ca, cb = sqlite3.connect(args.a), sqlite3.connect(args.b)
    bad = False

    def say(ok: bool, message: str) -> None:
        nonlocal bad
        bad |= not ok
        print(("same " if ok else "DIFF ") + message)

    ta, tb = tables(ca), tables(cb)
    if args.by_id:
        ta.discard("build_documents")
        tb.discard("build_documents")
    say(ta == tb, f"table names (differing: {sorted(ta ^ tb)})")
    for table in sorted((ta & tb) - {"build_info"}):
        da, db = (table_digest(c, table, not args.by_id) for c in (ca, cb))
        say(da == db, f"{table}: {da[1]} vs {db[1]} rows" + ("" if args.by_id else " (with rowids)"))

    terms = [r[0] for r in ca.execute("select term from search_vocabulary order by term")]
    for fts, base in (("clauses_fts", "clauses"), ("targets_fts", "targets")):
        va, vb = fts_tokens(ca, fts), fts_tokens(cb, fts)
        say(va == vb, f"{fts} fts5vocab: {va[0]} vs {vb[0]} tokens")
        if args.by_id:
            found = f"select b.id from {fts} f join {base} b on b.rowid = f.rowid where {fts} match ? order by b.id"
            ranked = (
                f"select b.id, f.rank from {fts} f join {base} b on b.rowid = f.rowid"
                f" where {fts} match ? order by f.rank, b.id"
            )
        else:
            found = f"select rowid from {fts} where {fts} match ? order by rowid"
            ranked = f"select rowid, rank from {fts} where {fts} match ? order by rank, rowid"
        differ = sum(
            ca.execute(found, [quoted(t)]).fetchall() != cb.execute(found, [quoted(t)]).fetchall()
            for t in terms
        )
        say(not differ, f"{fts}: {len(terms)} vocabulary terms, {differ} find other rows")
        sample = [quoted(t) for t in terms[:: args.rank_every]] + QUERIES
        differ = sum(ca.execute(ranked, [q]).fetchall() != cb.execute(ranked, [q]).fetchall() for q in sample)
        say(not differ, f"{fts}: bm25 ranks of {len(sample)} queries, {differ} differ")
        for name, conn in (("A", ca), ("B", cb)):
            try:
                conn.execute(f"insert into {fts}({fts}) values ('integrity-check')")
                print(f"ok   {fts} integrity-check {name}")
            except sqlite3.DatabaseError as exc:
                say(False, f"{fts} integrity-check {name}: {exc}")

    from extractor.web.search_page import selection

    differ = sum(selection(ca, q) != selection(cb, q) for q in PAGE_QUERIES)
    say(not differ, f"search page selection() of {len(PAGE_QUERIES)} queries, {differ} differ")
    return int(bad)


if __name__ == "__main__":
    sys.exit(main())
