"""Build benchmark: a synthetic corpus of N documents, built cold, then rebuilt after one change.

    python bench/bench_build.py --docs 1000 [--jobs 2] [--keep DIR]

Makes the corpus with ``bench/make_corpus.py`` (from ``corpus/`` and ``tests/heldout/corpus``),
then, each in a fresh subprocess (``policykb build``, so start-up is counted):

1. a cold build (no kb.db, no cache; it fills the cache);
2. an incremental rebuild after one document changed (a clause appended): one document is
   extracted, kb.db is updated in place (its rows deleted and inserted, the corpus-wide
   tables recomputed for its district, similar clauses updated for the clauses it touches);
   the build's step times are printed, and the rebuild time without the similar-clauses step;
3. ``jieba.lcut`` over the same texts in this process, for the ratio the issue asks for.

The machine is shared: its speed changes by up to 2x within minutes (CPU time "stolen" by the
host), and jieba is timed after the builds, so the ratio can move with the machine rather than
the code. Two readings say how much: ``jieba.lcut`` on a sample of the texts (the first
:data:`SAMPLE_CHARS` characters) just before the cold build and just after it, and the share of
CPU time stolen (``/proc/stat``: steal over all time, every CPU) during the cold build and
during the jieba timing, with the ratio on the CPU time each had (wall time x (1 - steal)).
The goal is read on the plain ratio; the others tell a slow moment from slow code.

Prints documents/s, characters/s, the ratio to jieba (characters/s of the build over
characters/s of ``jieba.lcut`` on one core: the build uses ``--jobs`` cores), the max RSS of the
main process and of the largest worker (``getrusage``), and the rebuild time. Numbers, not
assertions: goals are in issue 12 (10,000 documents < 5 min, >= 0.5x jieba, RSS < 1 GB, one
changed document < 15 s).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICYKB = Path(sys.executable).with_name("policykb")

# one RSS line per process of the build: the main process and its largest child
_RUSAGE = """
import resource, runpy, sys
sys.argv = ["policykb", *sys.argv[1:]]
try:
    runpy.run_module("extractor", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"RSS {me} {kids}", file=sys.stderr)
sys.exit(code)
"""


def build(corpus: Path, db: Path, jobs: int | None, *extra: str) -> dict:
    cmd = [sys.executable, "-c", _RUSAGE, "build", "--corpus", str(corpus), "--db", str(db), *extra]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rss = [line for line in proc.stderr.splitlines() if line.startswith("RSS ")][-1].split()
    lines = proc.stdout.splitlines()
    summary = [line for line in lines if line.startswith("wrote ")][-1]
    path = [line for line in lines if line.startswith(("updated in place", "full write"))]
    steps = {}
    for line in lines:
        if line.startswith("steps: "):
            for part in line[len("steps: ") :].split(", "):
                name, value, _ = part.rsplit(" ", 2)
                steps[name] = float(value)
    return {
        "seconds": seconds,
        "main_mb": int(rss[1]) / 1024,
        "worker_mb": int(rss[2]) / 1024,
        "summary": summary,
        "path": path[-1] if path else "",
        "steps": steps,
    }


SAMPLE_CHARS = 2_000_000


def cpu_times() -> tuple[int, int] | None:
    """(steal, all) clock ticks of every CPU so far, from ``/proc/stat``; None without it."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def steal_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of the CPU time between two :func:`cpu_times` that the host took."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def sample(texts: list[str], most: int = SAMPLE_CHARS) -> list[str]:
    """The first texts up to ``most`` characters in all."""
    out, n = [], 0
    for text in texts:
        if n >= most:
            break
        out.append(text)
        n += len(text)
    return out


def jieba_rate(texts: list[str]) -> float:
    """Characters per second of ``jieba.lcut`` over ``texts`` (dictionary loaded beforehand)."""
    import jieba

    jieba.initialize()
    chars = sum(map(len, texts))
    t0 = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    return chars / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=None, help="build --jobs (default: every core)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="write corpus and kb.db here and keep them")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_build."))
    work.mkdir(parents=True, exist_ok=True)
    corpus, db = work / "corpus", work / "kb.db"
    if not (corpus / "catalog.yml").exists():
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "make_corpus.py"),
                "--docs",
                str(args.docs),
                "--out",
                str(corpus),
                "--seed",
                str(args.seed),
            ],
            check=True,
        )
        print(f"corpus: {args.docs} documents made in {time.perf_counter() - t0:.1f} s ({corpus})")
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))]
    chars = sum(map(len, texts))
    shutil.rmtree(work / ".policykb-cache", ignore_errors=True)
    db.unlink(missing_ok=True)

    few = sample(texts)
    before_rate = jieba_rate(few)
    ticks = cpu_times()
    cold = build(corpus, db, args.jobs)
    cold_steal = steal_share(ticks, cpu_times())
    after_rate = jieba_rate(few)
    first = sorted(corpus.glob("*.txt"))[0]
    first.write_text(
        first.read_text(encoding="utf-8") + "\n到2027年，新增造林面积35公顷。\n", encoding="utf-8"
    )
    warm = build(corpus, db, args.jobs)
    ticks = cpu_times()
    rate = jieba_rate(texts)
    jieba_steal = steal_share(ticks, cpu_times())

    build_rate = chars / cold["seconds"]
    print(f"documents: {len(texts)}, characters: {chars:,}, jobs: {args.jobs or os.cpu_count()}")
    print(
        f"cold build: {cold['seconds']:.1f} s, {len(texts) / cold['seconds']:.1f} documents/s, "
        f"{build_rate:,.0f} characters/s  [{cold['summary']}]"
    )
    print(
        f"jieba.lcut (one core, same texts): {rate:,.0f} characters/s; build/jieba = {build_rate / rate:.2f}"
    )
    print(
        f"jieba.lcut on {sum(map(len, few)):,} characters just before the cold build: {before_rate:,.0f}"
        f" characters/s, just after: {after_rate:,.0f}"
    )
    if cold_steal is not None and jieba_steal is not None:
        adjusted = (build_rate / (1 - cold_steal)) / (rate / (1 - jieba_steal))
        print(
            f"CPU time stolen by the host: {cold_steal:.0%} during the cold build, {jieba_steal:.0%}"
            f" during the jieba timing; build/jieba on the CPU time each had = {adjusted:.2f}"
        )
    if cold["steps"]:
        print("cold build steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in cold["steps"].items()))
    print(f"max RSS: main {cold['main_mb']:.0f} MB, largest worker {cold['worker_mb']:.0f} MB")
    print(f"rebuild after one changed document: {warm['seconds']:.1f} s  [{warm['summary']}; {warm['path']}]")
    if warm["steps"]:
        similar = warm["steps"].get("similar", 0.0) + warm["steps"].get("similar (updated)", 0.0)
        print("rebuild steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in warm["steps"].items()))
        print(
            f"rebuild without the similar-clauses step: {warm['seconds'] - similar:.1f} s"
            f" (start-up and imports: {warm['seconds'] - sum(warm['steps'].values()):.1f} s)"
        )
    print(f"max RSS (rebuild): main {warm['main_mb']:.0f} MB, largest worker {warm['worker_mb']:.0f} MB")
    print(f"this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
