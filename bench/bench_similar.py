"""Time ``similar_clauses`` (extractor.kb.similar.build_similar) on synthetic clause sets.

    python bench/bench_similar.py [--sizes 10000,30000,100000] [--db kb.db] [--seed 0]
                                  [--module PATH] [--method tfidf] [--no-fts-tokens]
    python bench/bench_similar.py --replicate BUILT/kb.db [--copies 1,10] [--keep DIR] [--module PATH]

The clause sets are made from the measure clauses of kb.db (never ../shared/realtexts), written
as ``documents`` of 60 clauses each into a scratch SQLite file with a ``clauses`` table and, as
the build has it, a ``clauses_fts`` table of search tokens (``--no-fts-tokens``: none, so the
similarity step segments every clause with jieba itself). Each clause is

- a kb.db clause with small random edits (two to four characters replaced by characters of
  other clauses, a number changed, a made-up district name put in front), or
- (one in four) two or three phrases of different clauses joined,

so every clause has many near-duplicates in other documents, as plans copied from one template
do. Each size runs in a fresh process (peak RSS is per process): it prints the clauses, the
seconds of ``build_similar`` alone, the rows written, the peak RSS of the process
(``resource.getrusage``), and the seconds jieba takes to segment the same clauses (a yardstick
measured in the same run, since the machine is shared and noisy).

``--replicate KB_DB --copies 1,10`` times the step on the measure clauses of a built synthetic
corpus (``bench/make_corpus.py --docs 1000`` then ``policykb build``) copied N times, each copy a
new document rewritten as make_corpus.py rewrites a text (:func:`replicate`): the clauses of a
10,000-document corpus from a 1,000-document build, without 25 minutes of extraction. It prints
wall and CPU seconds (CPU time is steadier on a shared machine), rows, peak RSS and a digest of
the rows (equal digests: the same table).

``--module PATH`` runs another version of similar.py (e.g. ``git show main:extractor/kb/similar.py
> /tmp/similar_main.py``) for before/after numbers; a version that builds an n x n matrix is
skipped above ``--dense-max`` clauses (the matrix alone is 8 n² bytes). Not a test; CI does not
run it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from extractor.sqlite import sqlite3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLAUSES_PER_DOCUMENT = 60
SYLLABLES = "安宝昌长丰福广和华嘉建江金景康兰乐临龙隆明南宁平庆清山盛顺泰通万武西兴阳永云泽正中"


def base_clauses(db_path: Path) -> list[str]:
    from extractor.kb import similar

    conn = sqlite3.connect(db_path)
    return [c.text for c in similar.measure_clauses(conn)]


def synthetic_clauses(base: list[str], n: int, seed: int) -> list[tuple[str, str, str]]:
    """``n`` clauses ``(id, document_id, text)``, deterministic for ``seed``."""
    rng = random.Random(seed)
    chars = [ch for text in base for ch in text if "\u4e00" <= ch <= "\u9fff"]
    phrases = [p for text in base for p in re.split(r"(?<=[，；。])", text) if len(p) >= 6]
    out = []
    for i in range(n):
        if rng.random() < 0.25:
            text = "".join(rng.sample(phrases, rng.randint(2, 3)))
        else:
            text = list(rng.choice(base))
            for _ in range(rng.randint(2, 4)):
                text[rng.randrange(len(text))] = rng.choice(chars)
            text = "".join(text)
            text = re.sub(r"\d+", lambda m: str(rng.randint(1, 999)), text, count=1)
            if rng.random() < 0.5:
                text = "".join(rng.choices(SYLLABLES, k=2)) + rng.choice("区县市") + text
        doc = f"doc{i // CLAUSES_PER_DOCUMENT:06d}"
        out.append((f"{doc}:c{i % CLAUSES_PER_DOCUMENT + 1}", doc, text))
    return out


def write_db(path: Path, clauses: list[tuple[str, str, str]], fts_tokens: bool) -> float:
    """The scratch kb.db; returns the seconds jieba took to segment the clauses."""
    from extractor.kb.fts import tokenize

    conn = sqlite3.connect(path)
    conn.execute(
        "create table clauses (id text primary key, document_id text, seq integer, kind text, text text)"
    )
    conn.executemany(
        "insert into clauses values (?, ?, ?, 'item', ?)",
        [(cid, doc, int(cid.rsplit(":c", 1)[1]), text) for cid, doc, text in clauses],
    )
    tokenize("预热")  # load jieba's dictionary before timing it
    start = time.perf_counter()
    tokens = [tokenize(text) for _, _, text in clauses]
    jieba_seconds = time.perf_counter() - start
    if fts_tokens:
        conn.execute(
            "create virtual table clauses_fts using fts5(tokens, clause_id unindexed, tokenize='unicode61')"
        )
        conn.executemany(
            "insert into clauses_fts (rowid, clause_id, tokens) values (?, ?, ?)",
            [(r, cid, tok) for r, (cid, _, _), tok in zip(range(1, len(clauses) + 1), clauses, tokens)],
        )
    conn.commit()
    conn.close()
    return jieba_seconds


def replicate(source: Path, copies: int, out: Path, seed: int) -> tuple[int, int, float]:
    """A scratch kb.db with the measure clauses of ``source`` (a built synthetic corpus, e.g.
    ``bench/make_corpus.py --docs 1000``) ``copies`` times: copy 0 as built, each other copy a new
    document per document, rewritten as make_corpus.py rewrites a text (its district replaced by
    a new made-up name, every number that is not a year scaled by a factor in [0.8, 1.25]), its
    changed clauses segmented again (search tokens as the FTS index holds them). The measure
    clauses of a corpus ``copies`` times as large, without extracting it. Returns (documents,
    clauses, seconds of jieba)."""
    from bench.make_corpus import NUMBER, _scale, district_names
    from extractor.kb import similar
    from extractor.kb.fts import search_tokens

    rng = random.Random(seed)
    src = sqlite3.connect(source)
    districts = dict(src.execute("select id, district from documents"))
    rows = src.execute(
        "select c.id, c.document_id, c.seq, c.kind, c.text, f.tokens, s.title from clauses c"
        " join clauses_fts f on f.rowid = c.rowid left join sections s on s.id = c.section_id"
        " order by c.document_id, c.seq"
    ).fetchall()
    rows = [r[:6] for r in rows if similar.is_measure(r[3], r[4], r[6])]
    names = district_names(len(districts) * copies, rng)[len(districts) :]
    new_name = {}
    out_rows, seconds = [], 0.0
    search_tokens("预热")
    for copy in range(copies):
        for cid, doc, seq, kind, text, tokens in rows:
            if copy:
                new_doc = f"{doc}-r{copy}"
                old = districts.get(doc)
                if new_doc not in new_name:
                    new_name[new_doc] = names[len(new_name)]
                name = new_name[new_doc]
                changed = text
                if old:
                    changed = changed.replace(old, name)
                    if len(old) >= 3:
                        changed = changed.replace(old[:-1], name[:-1])
                changed = NUMBER.sub(lambda m: _scale(m, rng), changed)
                if changed != text:
                    start = time.perf_counter()
                    tokens = " ".join(search_tokens(changed))
                    seconds += time.perf_counter() - start
                doc, cid, text = new_doc, f"{new_doc}:c{seq}", changed
            out_rows.append((cid, doc, seq, kind, text, tokens))
    conn = sqlite3.connect(out)
    conn.execute(
        "create table clauses (id text primary key, document_id text, seq integer, kind text, text text)"
    )
    conn.execute(
        "create virtual table clauses_fts using fts5(tokens, clause_id unindexed, tokenize='unicode61')"
    )
    conn.executemany("insert into clauses values (?, ?, ?, ?, ?)", [r[:5] for r in out_rows])
    conn.executemany(
        "insert into clauses_fts (rowid, clause_id, tokens) values (?, ?, ?)",
        [(i, r[0], r[5]) for i, r in enumerate(out_rows, 1)],
    )
    conn.commit()
    conn.close()
    return len(districts) * copies, len(out_rows), seconds


def run_one(db_path: str, module_path: str | None, method: str) -> dict:
    """In this (fresh) process: build_similar on the scratch db; seconds, rows and peak RSS."""
    import sqlite_utils

    if module_path:
        spec = importlib.util.spec_from_file_location("similar_under_test", module_path)
        similar = sys.modules["similar_under_test"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(similar)
    else:
        from extractor.kb import similar
    similar.METHOD = method
    if method != "tfidf":
        similar.THRESHOLD = 0.1
    from extractor.kb.fts import search_tokens

    search_tokens("预热")  # jieba's dictionary is loaded in the build before this step
    import sklearn.feature_extraction.text  # noqa: F401  (imported by the build's earlier steps too)

    db = sqlite_utils.Database(db_path)
    db.execute("drop table if exists similar_clauses")
    start, cpu = time.perf_counter(), time.process_time()
    rows = similar.build_similar(db)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    digest = hashlib.sha256(
        repr(
            db.execute(
                "select clause_id, other_clause_id, score from similar_clauses order by 1, 2"
            ).fetchall()
        ).encode()
    ).hexdigest()[:12]
    return {"seconds": seconds, "cpu_seconds": cpu, "rows": rows, "peak_rss_mb": peak_mb, "digest": digest}


def run_in_subprocess(path: Path, args) -> dict | str:
    """The similar step on the kb.db at ``path`` in a fresh process (so its peak RSS is its own):
    the measurements, or the reason it failed."""
    cmd = [sys.executable, __file__, "--run-one", str(path), "--method", args.method]
    if args.module:
        cmd += ["--module", args.module]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        return out.stderr.strip().splitlines()[-1] if out.stderr.strip() else str(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,30000,100000")
    ap.add_argument("--db", type=Path, default=ROOT / "kb.db", help="where the base clauses come from")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--module", help="another similar.py to time (default: extractor.kb.similar)")
    ap.add_argument("--method", default="tfidf", choices=["tfidf", "minhash"])
    ap.add_argument("--no-fts-tokens", action="store_true", help="no clauses_fts: segment with jieba")
    ap.add_argument("--dense-max", type=int, default=20000)
    ap.add_argument("--run-one", help=argparse.SUPPRESS)
    ap.add_argument(
        "--replicate",
        type=Path,
        metavar="KB_DB",
        help="time the step on the measure clauses of this built synthetic corpus copied --copies times",
    )
    ap.add_argument("--copies", default="1,10", help="with --replicate: how many copies (e.g. 1,10)")
    ap.add_argument("--keep", type=Path, help="with --replicate: keep the scratch files in this folder")
    args = ap.parse_args()
    if args.run_one:
        print(json.dumps(run_one(args.run_one, args.module, args.method)))
        return
    if args.replicate:
        print(f"measure clauses of {args.replicate}, copied; module {args.module or 'extractor.kb.similar'}")
        print(
            f"{'documents':>9} {'clauses':>8} {'seconds':>8} {'CPU s':>7} {'rows':>8} {'peak RSS MB':>12} {'digest':>13}"
        )
        for copies in (int(c) for c in args.copies.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                folder = args.keep or Path(tmp)
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"replica{copies}.db"
                if not path.exists():
                    documents, clauses, _ = replicate(args.replicate, copies, path, args.seed)
                else:
                    conn = sqlite3.connect(path)
                    documents, clauses = conn.execute(
                        "select count(distinct document_id), count(*) from clauses"
                    ).fetchone()
                r = run_in_subprocess(path, args)
                if isinstance(r, str):
                    print(f"{documents:>9} failed: {r}")
                    continue
                print(
                    f"{documents:>9} {clauses:>8} {r['seconds']:>8.1f} {r['cpu_seconds']:>7.1f} {r['rows']:>8}"
                    f" {r['peak_rss_mb']:>12.0f} {r['digest']:>13}",
                    flush=True,
                )
        return

    base = base_clauses(args.db)
    dense = (
        bool(args.module)
        and "tfidf_matrix" in Path(args.module).read_text()
        and "cosine_similarity(" in Path(args.module).read_text()
    )
    print(
        f"{len(base)} base clauses from {args.db}; method {args.method}; module {args.module or 'extractor.kb.similar'}"
    )
    print(f"{'clauses':>9} {'seconds':>8} {'rows':>8} {'peak RSS MB':>12} {'jieba s':>8} {'ratio':>6}")
    for n in (int(s) for s in args.sizes.split(",")):
        if dense and args.method == "tfidf" and n > args.dense_max:
            print(f"{n:>9} skipped: an n x n matrix of {8 * n * n / 1e9:.0f} GB")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "kb.db"
            jieba_seconds = write_db(path, synthetic_clauses(base, n, args.seed), not args.no_fts_tokens)
            r = run_in_subprocess(path, args)
            if isinstance(r, str):
                print(f"{n:>9} failed: {r}")
                continue
            print(
                f"{n:>9} {r['seconds']:>8.1f} {r['rows']:>8} {r['peak_rss_mb']:>12.0f} {jieba_seconds:>8.1f}"
                f" {r['seconds'] / jieba_seconds:>6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
