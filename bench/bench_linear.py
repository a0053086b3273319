"""Is extraction linear in the text? Seconds and seconds per MB of normalize and of one whole
document's extraction (``extractor.pipeline.process_file``: read, normalize, structure,
targets, duties) at growing sizes, and on pathological inputs.

    python bench/bench_linear.py [--sizes 0.5,1,2,4,8] [--no-pathological] [--no-large]

Ordinary text is corpus/ and tests/heldout/corpus joined and repeated to the size (MB of UTF-8).
The pathological inputs: 1 MB and 10 MB of that text with no line break (and no tab: one line
of prose), one 10 MB line of digits, one line of 100,000 quantities, and 50 MB of ordinary text
(``--no-large`` leaves out the 10 MB and 50 MB ones). Linear time reads as a flat s/MB column.
``jieba.lcut`` on 1 MB of the same text, timed in the same run, is the yardstick (this machine is
shared: compare ratios, not seconds). A benchmark script, not a test: CI does not run it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000


def ordinary_text() -> str:
    """The documents of corpus/ and tests/heldout/corpus, one after the other."""
    dirs = (ROOT / "corpus", ROOT / "tests" / "heldout" / "corpus")
    return "\n\n".join(p.read_text(encoding="utf-8") for d in dirs for p in sorted(d.glob("*.txt")))


def sized(text: str, mb: float) -> str:
    """``text`` repeated and cut to ``mb`` MB of UTF-8 (at a character boundary)."""
    n = int(mb * MB)
    reps = n // len(text.encode("utf-8")) + 1
    return ("\n".join([text] * reps)).encode("utf-8")[:n].decode("utf-8", "ignore")


def one_line(text: str, mb: float) -> str:
    """Prose with no line break and no tab (a single paragraph of ``mb`` MB), without the footer
    lines (共印…份, 抄送：…) that would make the whole line one to skip."""
    from extractor.lexicon.cues import load_statements

    skip = load_statements().skip_lines
    kept = [line for line in text.split("\n") if not any(p.search(line) for p in skip)]
    return sized("".join(kept).replace("\t", ""), mb)


def quantities_line(n: int) -> str:
    """One line of ``n`` quantities: 3.5吨，12万吨，47%，…"""
    units = ("吨", "万吨", "%", "微克/立方米", "个", "公里")
    return "，".join(f"{i % 97}.{i % 10}{units[i % len(units)]}" for i in range(n)) + "。"


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def extract_document(text: str, tmp: Path) -> Callable[[], object]:
    """One document's whole extraction, from its file."""
    from extractor.pipeline import process_file

    path = tmp / "bench-linear.txt"
    path.write_text(text, encoding="utf-8")
    return lambda: process_file(path)


def report(name: str, text: str, tmp: Path, extract: bool) -> None:
    from extractor.normalize import normalize

    mb = len(text.encode("utf-8")) / MB
    t_norm = timed(lambda: normalize(text))
    line = (
        f"{name:34s} {mb:7.2f} MB {len(text):>11,} chars   normalize {t_norm:7.2f} s {t_norm / mb:6.3f} s/MB"
    )
    if extract:
        t_doc = timed(extract_document(text, tmp))
        line += f"   document {t_doc:8.2f} s {t_doc / mb:7.3f} s/MB"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.5,1,2,4,8", help="MB of ordinary text, comma-separated")
    parser.add_argument("--no-pathological", action="store_true", help="sizes only")
    parser.add_argument("--no-large", action="store_true", help="leave out the 10 MB and 50 MB inputs")
    parser.add_argument("--normalize-only", action="store_true", help="time normalize, not extraction")
    args = parser.parse_args()

    import jieba

    from extractor.pipeline import process_file

    jieba.setLogLevel(60)
    base = ordinary_text()
    sample = sized(base, 1)
    jieba.lcut(sample[:20_000])  # load the dictionary before timing
    process_file(ROOT / "corpus" / "fengtai-2024-action-plan-interpretation.txt")  # warm up: grammar, spaCy
    t_jieba = timed(lambda: jieba.lcut(sample))
    print(
        f"jieba.lcut on 1 MB: {t_jieba:.2f} s ({len(sample) / t_jieba:,.0f} chars/s): the yardstick of this run"
    )

    extract = not args.normalize_only
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for mb in (float(s) for s in args.sizes.split(",") if s.strip()):
            report(f"ordinary text {mb:g} MB", sized(base, mb), tmp_path, extract)
        if args.no_pathological:
            return
        cases: list[tuple[str, Callable[[], str]]] = [
            ("one line of prose 1 MB", lambda: one_line(base, 1)),
            ("one line of 100,000 quantities", lambda: quantities_line(100_000)),
        ]
        if not args.no_large:
            cases += [
                ("one line of prose 10 MB", lambda: one_line(base, 10)),
                ("one line of 10 MB of digits", lambda: "1234567890" * (MB)),
                ("ordinary text 50 MB", lambda: sized(base, 50)),
            ]
        for name, make in cases:
            report(name, make(), tmp_path, extract)


if __name__ == "__main__":
    main()
