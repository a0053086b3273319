"""Extraction throughput over corpus/*.txt, next to jieba.lcut on the same text (the floor).

    python bench/bench_extract.py [--repeat 3] [--corpus corpus]

Prints chars/second of find_quantities alone, of the whole extraction (normalize + structure +
targets), of jieba.lcut, the ratio extraction/jieba, and peak memory (tracemalloc and the
process's max RSS). All three are timed the same way, without tracemalloc (tracing every
allocation slows extraction about 3x); peak memory comes from a separate, untimed pass under
tracemalloc. A benchmark script, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _best(fn, texts: list[str], repeat: int) -> float:
    """Best wall time of ``repeat`` runs of ``fn`` over all texts."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for text in texts:
            fn(text)
        best = min(best, time.perf_counter() - t0)
    return best


def extract(text: str) -> list:
    from extractor.normalize import normalize
    from extractor.statements.assemble import extract_targets
    from extractor.structure import parse_structure

    norm = normalize(text)
    structure = parse_structure("bench", text, norm)
    return extract_targets("bench", text, norm, structure, plan_year=2024, plan_year_end=None, genre=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    args = parser.parse_args()

    import jieba

    from extractor.quantities import find_quantities

    jieba.setLogLevel(60)
    texts = [p.read_text(encoding="utf-8") for p in sorted(args.corpus.glob("*.txt"))]
    n_chars = sum(len(t) for t in texts)
    for text in texts[:1]:  # warm up: build grammar, spaCy pipeline, jieba dictionary
        extract(text)
        jieba.lcut(text)

    # timing: all three the same way, no tracemalloc
    t_extract = _best(extract, texts, args.repeat)
    t_quant = _best(find_quantities, texts, args.repeat)
    t_jieba = _best(jieba.lcut, texts, args.repeat)
    # memory: one separate pass under tracemalloc, not timed
    tracemalloc.start()
    _best(extract, texts, 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus            {len(texts)} files, {n_chars} chars")
    print(f"find_quantities   {n_chars / t_quant:12,.0f} chars/s")
    print(f"extraction        {n_chars / t_extract:12,.0f} chars/s  (normalize + structure + targets)")
    print(f"jieba.lcut        {n_chars / t_jieba:12,.0f} chars/s  (floor)")
    print(f"ratio             extraction/jieba = {t_jieba / t_extract:.2f}  (1.0 = as fast as segmenting)")
    print(f"peak memory       {peak / 2**20:.1f} MiB traced during extraction, max RSS {rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
