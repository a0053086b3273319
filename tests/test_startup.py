"""Fast start: ``policykb --help`` and ``policykb quantities`` load neither spaCy nor jieba's
dictionary (issue 12). Each command runs in a fresh interpreter, which then reports what it
loaded; how long start-up takes is for bench/, not a test."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

WRAPPER = """
import json, sys
from extractor.cli import main
try:
    main(sys.argv[1:], prog_name="policykb")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
jieba = sys.modules.get("jieba")
print(json.dumps({
    "exit": code,
    "spacy": "spacy" in sys.modules,
    "jieba_dictionary": bool(jieba is not None and jieba.dt.initialized),
}))
"""


def run(*args: str) -> tuple[list[str], dict]:
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, timeout=120, check=True
    )
    *output, loaded = done.stdout.strip().splitlines()
    return output, json.loads(loaded)


@pytest.mark.parametrize("args", [("--help",), ("quantities", "5吨")])
def test_no_spacy_nor_jieba_dictionary(args):
    output, loaded = run(*args)
    assert loaded == {"exit": 0, "spacy": False, "jieba_dictionary": False}
    assert output  # the command did its work


def test_quantities_prints_the_quantity():
    output, _ = run("quantities", "降尘量控制在5吨/平方公里·月")
    rows = [json.loads(line) for line in output]
    assert [(r["value"], r["surface"]) for r in rows] == [(5.0, "5吨/平方公里·月")]
