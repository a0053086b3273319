"""Serving latency and throughput of the site on loopback, against a built kb.db.

    python bench/make_corpus.py --docs 1000 --out /tmp/c1000
    policykb build --corpus /tmp/c1000 --db /tmp/kb1000/kb.db   # named kb.db: the site's /kb/...
    python bench/bench_serve.py --db /tmp/kb1000/kb.db [--requests 30] [--seconds 20] [--clients 32] [--workers 2]

Starts ``policykb serve`` (``build=False``) on a free port of 127.0.0.1, then:

1. latency, one client: each page below ``--requests`` times in turn (after one request to warm
   it), p50 and p95 in ms, the server's CPU ms per request (its processes' user + system time
   from /proc: steadier than wall-clock time on a shared machine), status codes and the
   page's size;
2. throughput: ``--clients`` concurrent clients (httpx, asyncio) cycling through the same pages
   for ``--seconds`` (at most ``--max-requests`` requests in all): requests/s, p50/p95, errors
   (any status other than 200, or a failed request).

Also prints jieba.lcut's characters/s on the corpus texts in the same run: the machine is
shared, so compare numbers of two runs through that ratio. Goals (issue 12): p95 search < 100
ms, compare < 150 ms, clause < 50 ms with one client; >= 150 requests/s with 32 clients and 0
errors. A benchmark script, not a test; traffic goes to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from extractor.sqlite import sqlite3

ROOT = Path(__file__).resolve().parents[1]


def pages(db: Path) -> list[tuple[str, str]]:
    """(name, path) of the pages measured; the clause is the first clause with a target."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    clause_id = conn.execute("select clause_id from targets where clause_id is not null limit 1").fetchone()[
        0
    ]
    conn.close()
    return [
        ("home /", "/"),
        ("search page 扬尘", "/-/search?q=扬尘"),
        ("search page PM2.5浓度", "/-/search?q=PM2.5浓度"),
        ("search_measures 扬尘", "/kb/search_measures?q=扬尘"),
        ("search_measures PM2.5浓度", "/kb/search_measures?q=PM2.5浓度"),
        ("compare pm25_annual_mean", "/-/compare/pm25_annual_mean"),
        ("clause page", f"/-/clause/{clause_id}"),
        ("table search 扬尘管控", "/kb/clauses?_search=扬尘管控"),
        ("coverage query", "/kb/coverage"),
        ("coverage page", "/-/coverage"),
        ("districts page", "/-/district"),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(db: Path, src: Path = ROOT, cache: bool = True, workers: int = 1):
    """``serve()`` of the ``extractor`` package in ``src`` (this checkout by default; another
    checkout or an export of main for a before/after) on a free port of 127.0.0.1, yielding
    its URL and process id; without
    ``cache`` the response cache is off (every request computes its page); ``workers`` > 1:
    that many server processes (``policykb serve --workers N``)."""
    import tempfile

    import yaml

    port = _free_port()
    site = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8")) or {}
    if not cache:
        site.setdefault("plugins", {}).setdefault("policykb", {})["response_cache_mb"] = 0
    metadata = Path(tempfile.mkdtemp(prefix="bench-serve-")) / "metadata.yml"
    metadata.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    code = (
        "from extractor.web.serve import serve; "
        f"serve({str(db)!r}, '/nonexistent-corpus', '127.0.0.1', {port}, metadata_path={str(metadata)!r},"
        f" build=False, echo=lambda *a: None{f', workers={workers}' if workers > 1 else ''})"
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=src)
    url = f"http://127.0.0.1:{port}"
    import httpx

    try:
        while True:
            try:
                httpx.get(url + "/-/versions.json", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.perf_counter() - t0 > 60:
                    raise SystemExit(f"server did not start (exit code {proc.poll()})") from None
                time.sleep(0.1)
        seen: set[str] = set()
        while workers > 1 and len(seen) < workers and time.perf_counter() - t0 < 120:
            # a fresh connection each time, until every worker has answered
            seen.add(httpx.get(url + "/-/versions.json", timeout=5).headers.get("x-policykb-worker", ""))
            time.sleep(0.05)
        print(f"server up in {time.perf_counter() - t0:.1f} s (start-up hook included)")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def server_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its live descendants (the
    worker processes of ``--workers``), from /proc; 0.0 where there is no /proc. On a shared
    machine this moves far less than wall-clock latency: the server's own work per request."""
    if pid is None or not Path("/proc").is_dir():
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def wait_until_idle(pid: int | None, most: float = 120.0, step: float = 1.0) -> float:
    """Wait until the server uses under 5 % of a core over ``step`` seconds (at most ``most``
    seconds): each worker reads the sha256 of kb.db in a thread after it starts (about 5 s of
    CPU for a 2 GB file), which would otherwise fall on the first pages measured. Returns the
    seconds waited."""
    t0 = time.perf_counter()
    before = server_cpu(pid)
    while pid is not None and time.perf_counter() - t0 < most:
        time.sleep(step)
        now = server_cpu(pid)
        if now - before < 0.05 * step:
            break
        before = now
    return time.perf_counter() - t0


def latency(url: str, targets: list[tuple[str, str]], n: int, pid: int | None = None) -> None:
    import httpx

    print(f"\nlatency, one client, {n} requests per page (ms; cpu: the server's CPU ms per request)")
    print(f"{'page':28} {'p50':>8} {'p95':>8} {'max':>8} {'first':>8} {'cpu':>8} {'KB':>8}  status")
    with httpx.Client(base_url=url, timeout=120) as client:
        for name, path in targets:
            t0 = time.perf_counter()
            r = client.get(path)
            first = (time.perf_counter() - t0) * 1000
            times, statuses = [], {}
            cpu0 = server_cpu(pid)
            for _ in range(n):
                t0 = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            cpu = (server_cpu(pid) - cpu0) * 1000 / n
            print(
                f"{name:28} {_pct(times, 0.5):8.1f} {_pct(times, 0.95):8.1f} {max(times):8.1f} {first:8.1f}"
                f" {cpu:8.1f} {len(r.content) / 1024:8.1f}  {statuses}"
            )


async def _throughput(
    url: str, paths: list[str], clients: int, seconds: float, most: int, pid: int | None = None
) -> None:
    import httpx

    times: list[float] = []
    errors: dict[str, int] = {}
    done = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(i: int, client: httpx.AsyncClient) -> None:
        nonlocal done
        k = i
        while time.perf_counter() < stop and done < most:
            path = paths[k % len(paths)]
            k += 1
            done += 1
            t0 = time.perf_counter()
            try:
                r = await client.get(path)
                if r.status_code != 200:
                    errors[f"{r.status_code} {path}"] = errors.get(f"{r.status_code} {path}", 0) + 1
            except httpx.HTTPError as exc:
                errors[f"{type(exc).__name__} {path}"] = errors.get(f"{type(exc).__name__} {path}", 0) + 1
            times.append((time.perf_counter() - t0) * 1000)

    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        cpu0 = server_cpu(pid)
        await asyncio.gather(*(worker(i, client) for i in range(clients)))
        elapsed = time.perf_counter() - t0
        cpu = server_cpu(pid) - cpu0
    print(f"\nthroughput, {clients} clients, {elapsed:.1f} s, the pages above in turn")
    print(
        f"requests {len(times)}  {len(times) / elapsed:.1f} requests/s  p50 {_pct(times, 0.5):.0f} ms"
        f"  p95 {_pct(times, 0.95):.0f} ms  errors {sum(errors.values())} {errors or ''}"
    )
    if times and cpu:
        # what the server itself spent: on a shared machine, the rate one free core would give
        per = cpu * 1000 / len(times)
        print(f"server CPU {cpu:.1f} s, {per:.1f} ms a request: {1000 / per:.0f} requests/s per free core")


def jieba_rate(db: Path) -> float:
    """jieba.lcut characters/s on up to 200,000 characters of the kb's clause texts."""
    import jieba

    jieba.setLogLevel(60)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    text = "".join(r[0] for r in conn.execute("select text from clauses limit 3000"))[:200_000]
    conn.close()
    jieba.lcut("预热")
    t0 = time.perf_counter()
    jieba.lcut(text)
    return len(text) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a built kb.db")
    parser.add_argument("--requests", type=int, default=30, help="requests per page, one client")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--only", default="", help="measure only pages whose name contains this")
    parser.add_argument(
        "--no-cache", action="store_true", help="turn the response cache off (response_cache_mb: 0)"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (policykb serve --workers)")
    parser.add_argument(
        "--src",
        type=Path,
        default=ROOT,
        help="serve the extractor package of this folder (e.g. `git archive main extractor | tar -x -C DIR`)",
    )
    args = parser.parse_args()

    db = args.db.resolve()
    if db.stem != "kb":  # Datasette names the database after the file: /kb/... needs kb.db
        raise SystemExit(f"{db}: name the file kb.db (e.g. a hard link: ln {db} DIR/kb.db)")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    n_docs, n_clauses, n_targets = (
        conn.execute(f"select count(*) from {t}").fetchone()[0] for t in ("documents", "clauses", "targets")
    )
    conn.close()
    print(f"{db}: {n_docs} documents, {n_clauses} clauses, {n_targets} targets")
    rate = jieba_rate(db)
    print(f"jieba.lcut: {rate:,.0f} characters/s (this run's machine speed)")
    targets = [(n, p) for n, p in pages(db) if args.only in n]
    print(
        f"code served: {args.src.resolve()}; response cache {'off' if args.no_cache else 'on'};"
        f" {args.workers} worker process{'es' if args.workers > 1 else ''}"
    )
    with server(db, args.src.resolve(), cache=not args.no_cache, workers=args.workers) as (url, pid):
        print(f"server idle after {wait_until_idle(pid):.1f} s more (each worker's sha256 of kb.db)")
        latency(url, targets, args.requests, pid)
        if args.clients:
            asyncio.run(
                _throughput(url, [p for _, p in targets], args.clients, args.seconds, args.max_requests, pid)
            )
    print(f"\njieba.lcut after: {jieba_rate(db):,.0f} characters/s")


if __name__ == "__main__":
    main()
