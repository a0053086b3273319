"""Write a synthetic corpus of N documents for the build and serving benchmarks.

    python bench/make_corpus.py --docs 1000 --out /tmp/corpus1000 [--seed 0]

Each document is one of the 29 texts in ``corpus/`` and ``tests/heldout/corpus`` (taken in
turn), rewritten so the corpus is not 29 texts repeated:

- its district (the catalog's, or the one its file name starts with) is replaced by a made-up
  county-level name (``district_names``), everywhere in the text;
- every number that is not a year is scaled by a random factor in [0.8, 1.25] (same digits
  count, so units and offsets stay plausible);
- the lines between two headings are shuffled (clause order varies; headings stay put).

``DIR/catalog.yml`` lists every document with its metadata (the catalog's for ``corpus/``, the
pipeline's guesses for the held-out texts). The output is deterministic for a seed. Only the
repository's own texts are used (never ../shared/realtexts).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.read.catalog import load_catalog  # noqa: E402
from extractor.read.metadata import guess_genre, guess_plan_years, guess_title  # noqa: E402

SYLLABLES = "安宝昌长丰福广和华嘉建江金景康兰乐临龙隆明南宁平庆清山盛顺泰通万武西兴阳永云泽正中"
SUFFIXES = ("区", "县", "市")
NUMBER = re.compile(r"(?<![\dA-Za-z.])(\d+)(\.\d+)?(?![\dA-Za-z])")
YEAR = re.compile(r"(?:19|20)\d\d")
HEADING = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十]+[章节部分]|（[一二三四五六七八九十]+）)"
)
PLACE = re.compile(r"^[\u4e00-\u9fff]{2,3}?[区县市]")


def district_names(n: int, rng: random.Random) -> list[str]:
    """``n`` distinct two-syllable county-level names (e.g. 兴泽县)."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(SUFFIXES)
        if name not in seen and name[0] != name[1]:
            seen.add(name)
            names.append(name)
    return names


def sources() -> list[dict]:
    """The 29 source texts with their metadata."""
    out = []
    for entry in load_catalog(ROOT / "corpus"):
        meta = entry.meta()
        out.append({"text": entry.path.read_text(encoding="utf-8"), "meta": meta, "stem": entry.path.stem})
    for path in sorted((ROOT / "tests" / "heldout" / "corpus").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title = (guess_title(text) or path.stem)[:200]
        year, year_end = guess_plan_years(title, text, path.stem)
        m = PLACE.match(title)
        meta = {
            "district": m.group(0) if m else None,
            "city": None,
            "year": year or 2024,
            "year_end": year_end,
            "genre": guess_genre(title) or "行动计划",
            "title": title,
        }
        out.append({"text": text, "meta": meta, "stem": path.stem})
    return out


def _scale(m: re.Match, rng: random.Random) -> str:
    whole, frac = m.group(1), m.group(2) or ""
    if YEAR.fullmatch(whole) or len(whole) > 9:
        return m.group(0)
    value = float(whole + frac) * rng.uniform(0.8, 1.25)
    decimals = max(len(frac) - 1, 0)
    return f"{value:.{decimals}f}" if decimals else str(max(1, round(value)))


def rewrite(text: str, old: str | None, new: str, rng: random.Random) -> str:
    if old:
        text = text.replace(old, new)
        if len(old) >= 3:  # 朝阳区 is also written 朝阳 (推进美丽朝阳建设)
            text = text.replace(old[:-1], new[:-1])
    text = NUMBER.sub(lambda m: _scale(m, rng), text)
    lines = text.split("\n")
    out: list[str] = [lines[0]]
    block: list[str] = []
    for line in lines[1:]:
        if HEADING.match(line) or not line.strip():
            rng.shuffle(block)
            out.extend(block)
            block = []
            out.append(line)
        else:
            block.append(line)
    rng.shuffle(block)
    out.extend(block)
    return "\n".join(out)


def _renamed(text: str, old: str | None, new: str) -> str:
    if not old:
        return text
    text = text.replace(old, new)
    return text.replace(old[:-1], new[:-1]) if len(old) >= 3 else text


def make_corpus(n: int, out_dir: Path, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    srcs = sources()
    names = district_names(n, rng)
    entries = []
    for i in range(n):
        src = srcs[i % len(srcs)]
        meta = src["meta"]
        district = names[i]
        doc_id = f"d{i:05d}-{src['stem']}"[:120]
        file = f"{doc_id}.txt"
        (out_dir / file).write_text(
            rewrite(src["text"], meta.get("district"), district, rng), encoding="utf-8"
        )
        year = meta["year"] if not meta.get("year_end") else f"{meta['year']}-{meta['year_end']}"
        title = _renamed(meta["title"], meta.get("district"), district)
        entry = {
            "id": doc_id,
            "file": file,
            "district": district,
            "district_slug": f"d{i:05d}",
            "city": meta.get("city") or "合成市",
            "year": year,
            "genre": meta["genre"],
            "title": title,
        }
        if meta.get("plan_title"):
            entry["plan_title"] = _renamed(meta["plan_title"], meta.get("district"), district)
        entries.append(entry)
    header = f"# Synthetic corpus of {n} documents made by bench/make_corpus.py (seed {seed}).\n"
    (out_dir / "catalog.yml").write_text(
        header + yaml.safe_dump({"documents": entries}, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return entries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, required=True, help="number of documents")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    entries = make_corpus(args.docs, args.out, args.seed)
    chars = sum(len((args.out / e["file"]).read_text(encoding="utf-8")) for e in entries)
    print(f"{len(entries)} documents, {chars:,} characters in {args.out}")


if __name__ == "__main__":
    main()
