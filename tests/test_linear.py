"""Linear-time rewrites give what the code they replace gave (issue 12): each fast form is checked
against the plain definition, and inputs that were quadratic or exponential get the right answer.
How long they take is measured by bench/bench_linear.py, not here (no timed tests)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.normalize import normalize
from extractor.statements.assemble import SUFFIX, _indicator_suffix
from extractor.statements.context import SEGMENT_END, SENTENCE_END, last_stop, segment_start, sentence_bounds

PUNCT = st.text(alphabet="ab，,。！？；;!?\n：:", max_size=30)
SUFFIX_PIECES = st.sampled_from(
    [
        "和",
        "、",
        "及",
        "以及",
        "以",
        "1",
        "22",
        ".",
        "5",
        "吨",
        "氮氧化物",
        "的",
        "减排",
        "削减",
        "减少",
        "下降",
        "至",
        "到",
        "为",
        " ",
        "\u3000",
        "，",
        "x",
        "目标",
    ]
)


@settings(max_examples=200, deadline=None)
@given(PUNCT, st.data())
def test_bounds_are_the_scans_they_replace(text, data):
    i = data.draw(st.integers(0, len(text)))
    lo = data.draw(st.integers(0, len(text)))
    s = i
    while s > 0 and text[s - 1] not in SENTENCE_END:
        s -= 1
    e = i
    while e < len(text) and text[e] not in SENTENCE_END:
        e += 1
    assert sentence_bounds(text, i) == (s, e)
    seg = i
    while seg > lo and text[seg - 1] not in SEGMENT_END:
        seg -= 1
    assert segment_start(text, lo, i) == seg
    assert last_stop(text, "。！？", lo, i) == max(text.rfind(c, lo, i) for c in "。！？")


@settings(max_examples=300, deadline=None)
@given(st.lists(SUFFIX_PIECES, max_size=14).map("".join))
def test_indicator_suffix_is_the_pattern_it_replaces(after):
    m = SUFFIX.match(after)
    assert _indicator_suffix(after) == (m.group(1) if m else "")


def test_long_lists_before_no_reduction_word():
    # the pattern backtracks exponentially on these (minutes at 60 characters)
    assert _indicator_suffix("和11111" * 200) == ""
    assert _indicator_suffix("和1" * 500 + "吨") == ""
    assert _indicator_suffix("、氮氧化物3吨" * 300 + "的减排目标") == "减排"


def test_normalize_on_inputs_that_were_quadratic():
    # one TOC scan per 目录 line used to run to the end of the text
    assert normalize("目录\n序言\t- 1 -\n" * 3000 + "正文").text == "正文"
    # two \s* around the optional comma of a page-number line backtracked over a long blank run
    assert normalize("第1页" + " " * 20_000 + "x").text == "x"
    # every page break of a long text (the rest of the text was re-sliced per break)
    text = "加快推进垃圾分类工作，充分调动辖区群众开展垃圾分类的积极\n\n" * 2000
    assert normalize(text).text.count("\n") == 2
