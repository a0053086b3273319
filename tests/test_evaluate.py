"""The extractor against the development gold (tests/gold, a byte-for-byte copy of ../shared/gold),
and the matching rules of extractor/evaluate.py.

The thresholds only ever go up: raise them when the extractor gets better.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.errors import GoldError
from extractor.evaluate import GoldRecord, Report, evaluate, load_gold, match_document, score
from extractor.model import Target

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "gold"
SHARED_GOLD = ROOT.parent / "shared" / "gold"
CORPUS = ROOT / "corpus"

THRESHOLDS = {
    "f1": 0.99,
    "label_f1": 0.98,
    "comparator": 0.98,
    "kind": 0.98,
    "year": 0.98,
    "base_year": 0.98,
    "campaign": 0.97,
}


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(GOLD, CORPUS)


def test_gold_is_a_copy_of_the_shared_gold():
    if not SHARED_GOLD.is_dir():
        pytest.skip(f"{SHARED_GOLD} is absent: nothing to compare tests/gold with")
    shared = {p.name: p.read_bytes() for p in SHARED_GOLD.iterdir() if p.is_file()}
    ours = {p.name: p.read_bytes() for p in GOLD.iterdir() if p.is_file()}
    assert ours == shared, "tests/gold differs from ../shared/gold: copy it again (never edit gold files)"


def test_detection_f1(report):
    assert report.f1 >= THRESHOLDS["f1"], report.format(verbose=True)


def test_target_actual_f1(report):
    assert report.label_f1 >= THRESHOLDS["label_f1"], report.format(verbose=True)


@pytest.mark.parametrize("attribute", ["comparator", "kind", "year", "base_year", "campaign"])
def test_attribute_accuracy(report, attribute):
    assert report.accuracy[attribute] >= THRESHOLDS[attribute], report.format(verbose=True)


def test_report_ends_with_the_scores(report):
    last = report.format(verbose=True).splitlines()[-3:]
    assert last[0].startswith("detection") and "F1" in last[0]
    assert last[1].startswith("target/actual F1") and last[2].startswith("accuracy")


def _gold(**kw) -> GoldRecord:
    base = dict(
        doc="d.txt",
        quote="化学需氧量减排量19003噸",
        indicator="化学需氧量减排量",
        value=19003,
        value_max=None,
        unit="噸",
        comparator="=",
        kind="target",
        year=2020,
        base_year=None,
        campaign="water",
    )
    return GoldRecord(**{**base, **kw})


def _pred(text: str, surface: str, value: float, canonical: str, factor: float = 1.0, **kw) -> Target:
    start = text.index(surface)
    base = dict(
        id="d:t0",
        document_id="d",
        clause_id=None,
        indicator="",
        indicator_id=None,
        value=value,
        value_max=None,
        unit="",
        canonical_unit=canonical,
        value_canonical=value * factor,
        comparator="=",
        kind="target",
        year=2020,
        base_year=None,
        campaign="water",
        qualifiers=[],
        attribute=None,
        surface=surface,
        start=start,
        end=start + len(surface),
    )
    return Target(**{**base, **kw})


def test_units_compare_in_canonical_form_after_t2s():
    text = "前文。化学需氧量减排量19003噸。"
    pairs, misses, extras = match_document(text, [_gold()], [_pred(text, "19003噸", 19003, "t")])
    assert len(pairs) == 1 and not misses and not extras


def test_magnitude_words_compare_by_value():
    text = "完成 4 万户平房煤改电"
    gold = _gold(quote="完成 4 万户平房煤改电", value=40000, unit="户")
    pairs, _, _ = match_document(text, [gold], [_pred(text, "4 万户", 4, "户", factor=1e4)])
    assert len(pairs) == 1


def test_percentage_points_never_match_percent():
    text = "提高2个百分点"
    gold = _gold(quote=text, value=2, unit="%")
    pairs, misses, extras = match_document(text, [gold], [_pred(text, "2个百分点", 2, "百分点")])
    assert not pairs and misses and extras


def test_a_prediction_outside_the_quote_does_not_match():
    text = "化学需氧量减排量19003噸。另有19003噸。"
    pred = _pred(text, "另有19003噸", 19003, "t")
    pairs, misses, extras = match_document(text, [_gold()], [pred])
    assert not pairs and len(misses) == 1 and len(extras) == 1


def test_matching_is_one_to_one():
    text = "化学需氧量减排量19003噸"
    golds = [_gold(), _gold(kind="actual")]
    pairs, misses, _ = match_document(text, golds, [_pred(text, "19003噸", 19003, "t")])
    assert len(pairs) == 1 and len(misses) == 1
    rep = Report(n_gold=2, n_pred=1, pairs=pairs, misses=misses)
    assert score(rep).recall == 0.5 and rep.precision == 1.0


def test_a_quote_missing_from_the_document_is_a_gold_error():
    with pytest.raises(GoldError, match="quote not in the document"):
        match_document("另一段文字", [_gold()], [])


def test_malformed_gold_line_is_a_gold_error(tmp_path):
    (tmp_path / "x.jsonl").write_text(json.dumps({"doc": "x.txt", "quote": "q"}) + "\n", encoding="utf-8")
    with pytest.raises(GoldError, match="line 1"):
        load_gold(tmp_path)
