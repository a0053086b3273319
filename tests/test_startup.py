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


SHARED = """
import json, marshal, sys
loads = []
real_load = marshal.load
def counting_load(f):
    loads.append(getattr(f, "name", "?"))
    return real_load(f)
marshal.load = counting_load
import jieba
from extractor.kb import fts
from extractor.statements.indicators import indicator_nlp
indicator_nlp()  # jieba.dt, with the indicator terms added
tokens = fts.tokenize("加强扬尘管控，细颗粒物PM2.5年均浓度")  # the search index's own tokenizer
plain = jieba.Tokenizer()
plain.initialize = plain.__class__.initialize.__get__(plain)  # reads the file itself
plain.initialize()
print(json.dumps({
    "reads": len([n for n in loads if n.endswith("jieba.cache")]),
    "own_equals_default": fts._JIEBA.FREQ == plain.FREQ and fts._JIEBA.total == plain.total,
    "dt_is_own": jieba.dt.FREQ is fts._JIEBA.FREQ,
    "dt_has_terms": len(jieba.dt.FREQ) > len(plain.FREQ) and jieba.dt.total > plain.total,
    "tokens": tokens,
}))
"""


def test_the_two_jieba_tokenizers_read_the_dictionary_once():
    """Extraction's tokenizer (jieba.dt, terms added) and the search index's own (never changed)
    start from one read of jieba's dictionary file; the index's is still the plain dictionary."""
    done = subprocess.run(
        [sys.executable, "-c", SHARED], capture_output=True, text=True, timeout=120, check=True
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["reads"] == 2  # once for both tokenizers, once for the test's own plain one
    assert got["own_equals_default"] and not got["dt_is_own"] and got["dt_has_terms"]
    assert got["tokens"] == "加强 扬尘 管控 细 颗粒 颗粒物 pm2.5 年均 浓度"
