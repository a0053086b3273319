"""Shared fixtures: the repository's corpus, the gold set, parsed documents, a built kb.db."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.normalize import normalize
from extractor.structure import parse_structure

pytest_plugins = ["tests.conftest_web"]  # the web fixtures (kb_path, ds, conn, metadata)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = ROOT / "tests" / "gold"  # a byte-for-byte copy of ../shared/gold

DOCS = {
    "fengtai2024": "fengtai-2024-action-plan-interpretation",
    "fengtai5y": "fengtai-2021-2025-eco-plan",
    "huairou": "huairou-2024-action-plan-draft-explanation",
    "mentougou": "mentougou-2024-action-plan-qa",
    "chaoyang": "chaoyang-2025-action-plan-drafting-explanation",
}


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def gold_dir() -> Path:
    if not GOLD.is_dir():
        pytest.skip(f"gold annotations not found at {GOLD}")
    return GOLD


def read_doc(key: str) -> str:
    return (CORPUS / f"{DOCS[key]}.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def structures():
    """``{key: (text, Structure)}`` for the five corpus documents."""
    out = {}
    for key, doc_id in DOCS.items():
        text = read_doc(key)
        out[key] = (text, parse_structure(doc_id, text, normalize(text)))
    return out


@pytest.fixture(scope="session")
def built_db(tmp_path_factory) -> Path:
    """A kb.db built from the repository's corpus into a temporary folder."""
    from extractor.kb.store import build_db

    path = tmp_path_factory.mktemp("kb") / "kb.db"
    report = build_db(CORPUS, path)
    assert not report.errors, report.errors
    return path


SCORES = ("f1", "label_f1", "comparator", "kind", "year", "base_year", "campaign")


def score_of(report, name: str) -> float:
    """One score of an evaluation report: detection F1, target/actual F1 or an accuracy."""
    return getattr(report, name) if name in ("f1", "label_f1") else report.accuracy[name]


def assert_score(report, name: str, thresholds: dict[str, float]) -> None:
    """The score reaches its threshold; the verbose report explains a failure."""
    assert score_of(report, name) >= thresholds[name], report.format(verbose=True)
