"""The extractor against the held-out set in tests/heldout/ (other districts' plans, annotated
blind to the rules; see tests/heldout/README.md). Thresholds only ever go up."""

from __future__ import annotations

import pytest

from extractor.evaluate import Report, evaluate

from .conftest import ROOT

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


def test_heldout_detection_and_labels(report):
    assert report.f1 >= THRESHOLDS["f1"], report.format(verbose=True)
    assert report.label_f1 >= THRESHOLDS["label_f1"], report.format(verbose=True)


@pytest.mark.parametrize("attribute", ["comparator", "kind", "year", "base_year", "campaign"])
def test_heldout_attribute_accuracy(report, attribute):
    assert report.accuracy[attribute] >= THRESHOLDS[attribute], report.format(verbose=True)
