"""Score the extractor against gold annotations (``../shared/gold/*.jsonl``, see its SCHEMA.md).

``evaluate(gold_dir, corpus_dir) -> Report`` runs the pipeline on every document that has a gold
file and matches predicted targets to gold records one to one, greedily:

* a prediction matches a gold record when its source span lies within an occurrence of the gold
  ``quote`` in the document text, its value (and range end) agree, and its unit agrees in
  canonical form through ``data/units.yml`` (after t2s, so 噸 == 吨, 萬次 == 万次 and 4 万户 ==
  40000 户 compare by value in the canonical unit);
* among several candidates, the one that agrees on most of kind, year and comparator wins,
  then the first in the text.

Scores: precision/recall/F1 of detection; micro F1 of the target/actual labels (a missed or
extra quantity counts against it); accuracy of comparator, kind, year, base_year and campaign
on matched pairs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.errors import GoldError
from extractor.lexicon.cues import load_units
from extractor.model import Target

ATTRIBUTES = ("comparator", "kind", "year", "base_year", "campaign")
LABELS = ("target", "actual")


@dataclass
class GoldRecord:
    doc: str
    quote: str
    indicator: str
    value: float
    value_max: float | None
    unit: str
    comparator: str
    kind: str
    year: int | None
    base_year: int | None
    campaign: str
    line: int = 0


@dataclass
class Pair:
    gold: GoldRecord
    pred: Target


@dataclass
class Report:
    """Scores over all gold documents, with the pairs, misses and extras behind them."""

    n_gold: int = 0
    n_pred: int = 0
    pairs: list[Pair] = field(default_factory=list)
    misses: list[GoldRecord] = field(default_factory=list)
    extras: list[tuple[str, Target]] = field(default_factory=list)  # (doc file, target)
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    label_f1: float = 0.0
    accuracy: dict[str, float] = field(default_factory=dict)

    def format(self, verbose: bool = False) -> str:
        """A plain-text report; the scores are the last lines."""
        lines: list[str] = []
        if verbose:
            lines += _verbose_lines(self)
        lines.append(f"gold {self.n_gold}  predicted {self.n_pred}  matched {len(self.pairs)}")
        lines.append(
            f"detection    precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}"
        )
        lines.append(f"target/actual F1 {self.label_f1:.3f}")
        lines.append("accuracy     " + "  ".join(f"{k} {v:.3f}" for k, v in self.accuracy.items()))
        return "\n".join(lines)


def _verbose_lines(report: Report) -> list[str]:
    lines = [f"MISSES ({len(report.misses)})"]
    for g in report.misses:
        lines.append(f"  {g.doc}: {g.value:g} {g.unit} [{g.kind}] in {g.quote[:60]!r}")
    lines.append(f"EXTRAS ({len(report.extras)})")
    for doc, t in report.extras:
        lines.append(f"  {doc}: {t.surface!r} [{t.kind} {t.comparator} {t.year}] {t.indicator[:30]!r}")
    lines.append("DISAGREEMENTS")
    for p in report.pairs:
        diffs = [
            f"{a} gold={getattr(p.gold, a)!r} pred={getattr(p.pred, a)!r}"
            for a in ATTRIBUTES
            if getattr(p.gold, a) != getattr(p.pred, a)
        ]
        if diffs:
            evidence = f" (kind from {p.pred.kind_evidence!r})" if p.pred.kind_evidence else ""
            lines.append(
                f"  {p.gold.doc}: {p.pred.surface!r} in {p.gold.quote[:40]!r}: " + "; ".join(diffs) + evidence
            )
    return lines


# ------------------------------------------------------------------------------------- gold


def load_gold(gold_dir: str | Path) -> dict[str, list[GoldRecord]]:
    """Gold records by document file name; a malformed line raises GoldError."""
    out: dict[str, list[GoldRecord]] = {}
    for path in sorted(Path(gold_dir).glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw: dict[str, Any] = json.loads(line)
                rec = GoldRecord(
                    **{k: raw[k] for k in GoldRecord.__dataclass_fields__ if k != "line"}, line=n
                )
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise GoldError(f"malformed gold record: {exc}", path=path, where=f"line {n}") from exc
            out.setdefault(rec.doc, []).append(rec)
    return out


def _occurrences(text: str, quote: str) -> list[tuple[int, int]]:
    spans, pos = [], text.find(quote)
    while pos >= 0:
        spans.append((pos, pos + len(quote)))
        pos = text.find(quote, pos + 1)
    return spans


def _canonical_value(value: float, unit: str) -> tuple[str, float] | None:
    found = load_units().canonical_of(unit)
    if found is None:
        return None
    canonical, factor = found
    return canonical, value * factor


def _same_quantity(g: GoldRecord, t: Target) -> bool:
    gold = _canonical_value(g.value, g.unit)
    if gold is None or gold[0] != t.canonical_unit or t.value_canonical is None:
        return False
    if abs(gold[1] - t.value_canonical) > 1e-6 * max(1.0, abs(gold[1])):
        return False
    return (g.value_max is None) == (t.value_max is None) and (
        g.value_max is None or abs(g.value_max - t.value_max) < 1e-9
    )


# ---------------------------------------------------------------------------------- scoring


def match_document(
    text: str, gold: list[GoldRecord], preds: list[Target]
) -> tuple[list[Pair], list[GoldRecord], list[Target]]:
    """One-to-one greedy matching of one document's gold records and predictions."""
    free = list(preds)
    pairs, misses = [], []
    for g in gold:
        spans = _occurrences(text, g.quote)
        if not spans:
            raise GoldError(f"quote not in the document: {g.quote!r}", path=g.doc, where=f"line {g.line}")
        cands = [
            t for t in free if _same_quantity(g, t) and any(s <= t.start and t.end <= e for s, e in spans)
        ]
        if not cands:
            misses.append(g)
            continue
        best = max(
            cands,
            key=lambda t: (
                sum(getattr(g, a) == getattr(t, a) for a in ("kind", "year", "comparator")),
                -t.start,
            ),
        )
        free.remove(best)
        pairs.append(Pair(g, best))
    return pairs, misses, free


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def score(report: Report) -> Report:
    """Fill the numeric fields of a report from its pairs, misses and extras."""
    n_match = len(report.pairs)
    report.precision = _ratio(n_match, report.n_pred)
    report.recall = _ratio(n_match, report.n_gold)
    pr = report.precision + report.recall
    report.f1 = 2 * report.precision * report.recall / pr if pr else 0.0
    tp = sum(1 for p in report.pairs if p.gold.kind == p.pred.kind and p.gold.kind in LABELS)
    n_pred_l = sum(1 for p in report.pairs if p.pred.kind in LABELS) + sum(
        1 for _, t in report.extras if t.kind in LABELS
    )
    n_gold_l = sum(1 for p in report.pairs if p.gold.kind in LABELS) + sum(
        1 for g in report.misses if g.kind in LABELS
    )
    lp, lr = _ratio(tp, n_pred_l), _ratio(tp, n_gold_l)
    report.label_f1 = 2 * lp * lr / (lp + lr) if lp + lr else 0.0
    report.accuracy = {
        a: _ratio(sum(1 for p in report.pairs if getattr(p.gold, a) == getattr(p.pred, a)), n_match)
        for a in ATTRIBUTES
    }
    return report


def _predict(path: Path, corpus_dir: Path):
    """Targets of one document through the pipeline (catalog metadata when there is a catalog)."""
    from extractor.pipeline import process_file

    entry = None
    if (corpus_dir / "catalog.yml").exists():
        from extractor.read.catalog import load_catalog

        entry = next((e for e in load_catalog(corpus_dir) if e.file == path.name), None)
    processed = process_file(path, entry)
    # the gold annotates quantities only: a qualitative target (value NULL, 稳步提升) is not scored
    return processed.document["text"], [t for t in processed.targets if t.value is not None]


def evaluate(gold_dir: str | Path, corpus_dir: str | Path) -> Report:
    """Run the pipeline on each gold document of ``corpus_dir`` and score it (see module doc)."""
    corpus_dir = Path(corpus_dir)
    report = Report()
    for doc, gold in sorted(load_gold(gold_dir).items()):
        path = corpus_dir / doc
        if not path.exists():
            raise GoldError(f"no such document in {corpus_dir}", path=doc)
        text, preds = _predict(path, corpus_dir)
        pairs, misses, extras = match_document(text, gold, preds)
        report.n_gold += len(gold)
        report.n_pred += len(preds)
        report.pairs += pairs
        report.misses += misses
        report.extras += [(doc, t) for t in extras]
    return score(report)
