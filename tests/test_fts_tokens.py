"""The build's FTS tokens (extractor/kb/fts.py) are jieba's search-mode tokens, exactly.

``fts.search_tokens`` computes them with its own fold, rjieba (jieba-rs) for the blocks of Han
characters, letters, digits and % only and its own cut for the others (faster than jieba's
generators), and caches blocks and short texts; this compares it with ``jieba.Tokenizer.cut_for_search`` on
``normalize_for_search`` text, on every line of the corpora and on inputs that take the other
paths of the cut (unknown names for the HMM, letters and digits, blanks, punctuation).
"""

from __future__ import annotations

from pathlib import Path

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.kb import fts

ROOT = Path(__file__).resolve().parents[1]


def reference(text: str) -> list[str]:
    """What search_tokens was before it was made faster: jieba's own cut_for_search."""
    normalized = fts.normalize_for_search(text or "").text
    return [t.strip() for t in fts._JIEBA.cut_for_search(normalized) if fts._is_word(t)]


def corpus_lines() -> list[str]:
    lines = []
    for folder in (ROOT / "corpus", ROOT / "tests" / "heldout" / "corpus"):
        for path in sorted(folder.glob("*.txt")):
            lines.extend(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return lines


EDGE_CASES = [
    "",
    "，。！",
    "   \t\r\n\u3000 ",
    "扬尘管控",
    "協同控制 PM_{2.5} 和臭氧",
    "ＰＭ２．５年均浓度３２μｇ／ｍ３",
    "降尘量控制在5吨/平方公里·月",
    "丰台区生态环境局联合区城管委开展“一微克”行动",
    "习近平生态文明思想，王小明、李华、张伟负责",  # names: runs of single characters through the HMM
    "NH3-N、SO2、NOx排放量分别下降3.5%、10%和12.3%",
    "COD_Cr 50mg/L #1 & 2 ... -- %%",
    "Ⅳ类水体比例达到83.3%以上，劣Ⅴ类水体全面消除",
    "𠀀𠀁鿿〇①②③ⅰⅱ",  # outside the Han range jieba cuts, enclosed and roman numerals
    "十四五期间，全区累计完成造林绿化1.2万亩" * 20,
]


def test_tokens_equal_jiebas_cut_for_search_on_every_corpus_line():
    lines = corpus_lines()
    assert len(lines) > 500
    differ = [line for line in lines if fts.search_tokens(line) != reference(line)]
    assert differ == []
    whole = (ROOT / "corpus").glob("*.txt")
    for path in whole:  # whole documents: many blocks, newlines and blanks between them
        text = path.read_text(encoding="utf-8")
        assert fts.search_tokens(text) == reference(text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_tokens_equal_jiebas_cut_for_search_on_edge_cases(text):
    assert fts.search_tokens(text) == reference(text)
    assert fts.search_tokens(text) == reference(text)  # again, from the caches


def test_a_new_tokenizer_empties_the_caches(monkeypatch):
    fts.search_tokens("细颗粒物年均浓度持续下降")
    fresh = jieba.Tokenizer()
    monkeypatch.setattr(fts, "_JIEBA", fresh)
    assert fts.search_tokens("细颗粒物年均浓度持续下降") == reference("细颗粒物年均浓度持续下降")
    assert fts._BLOCKS_OF is fresh
    assert fts._BLOCKS  # filled again by the new tokenizer


def test_the_fold_is_normalize_for_searchs():
    text = "".join(chr(c) for c in range(0x20, 0x3000, 3)) + "ＡＢＣ１２３．％　ｍ³㎡"
    assert fts._search_text(text) == fts.normalize_for_search(text).text


def test_plain_blocks_are_cut_by_rjieba_and_the_others_by_the_python_cut(monkeypatch):
    calls = []
    real = fts._rust_cut_for_search()
    monkeypatch.setattr(fts, "_rust_cut_for_search", lambda: lambda s, hmm: calls.append(s) or real(s, hmm))
    fts._BLOCKS.clear()
    fts._SHORT.clear()
    text = "到2025年，全区细颗粒物年均浓度控制在35微克/立方米以内；完成2013-2019年关停企业用地调查"
    assert fts.search_tokens(text) == reference(text)
    assert "到2025年" in calls and "全区细颗粒物年均浓度控制在35微克" in calls
    assert "完成2013-2019年关停企业用地调查" not in calls  # a sign inside: jieba-rs keeps 2013-2019 whole
    assert fts.search_tokens("pm2.5浓度下降10%") == reference("pm2.5浓度下降10%")
    assert "pm2.5浓度下降10%" not in calls  # jieba-rs adds the gram pm2
    calls.clear()
    fresh = jieba.Tokenizer()  # another tokenizer (its dictionary may differ): never rjieba
    monkeypatch.setattr(fts, "_JIEBA", fresh)
    assert fts.search_tokens(text) == reference(text)
    assert calls == []


# the Han characters of the corpora (the common ones), every 97th of the whole range jieba cuts,
# and the letters, digits and % a plain block may hold: random runs take the HMM for unknown
# words, odd digit splits, and every search-mode 2- and 3-gram
_PLAIN = (
    "".join(sorted({c for line in corpus_lines() for c in line if "\u4e00" <= c <= "\u9fd5"}))
    + "".join(chr(c) for c in range(0x4E00, 0x9FD6, 97))
    + "abcdefghijklmnopqrstuvwxyz0123456789%" * 4
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_PLAIN, min_size=1, max_size=40))
def test_rjiebas_tokens_of_any_plain_block_are_jiebas(block):
    fts._JIEBA.check_initialized()
    jiebas = tuple(t for t in fts._JIEBA.cut_for_search(block) if fts._is_word(t))
    assert fts._PLAIN_BLOCK.fullmatch(block)
    assert fts._block_tokens(fts._JIEBA, block) == jiebas
    assert fts.search_tokens(block) == reference(block)  # the same through the fold (t2s: 孃 -> 娘)
