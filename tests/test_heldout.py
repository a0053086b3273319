"""The extractor against the held-out set in tests/heldout/ (other districts' plans, annotated
blind to the rules; see tests/heldout/README.md). Thresholds only ever go up."""

from __future__ import annotations

import pytest

from extractor.evaluate import Report, evaluate

from .conftest import ROOT, SCORES, assert_score

HELDOUT = ROOT / "tests" / "heldout"
THRESHOLDS = {
    "f1": 0.98,
    "label_f1": 0.96,
    "comparator": 0.99,
    "kind": 0.97,
    "year": 0.94,
    "base_year": 0.99,
    "campaign": 0.96,
}


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(HELDOUT / "gold", HELDOUT / "corpus")


@pytest.mark.parametrize("score", SCORES)
def test_heldout_score(report, score):
    assert_score(report, score, THRESHOLDS)
