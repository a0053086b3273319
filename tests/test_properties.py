"""Property tests of the quantity grammar (hypothesis, bounded: a few seconds in all).

* offsets are verbatim: ``text[q.start:q.end] == q.surface`` for every quantity;
* values are finite (never inf or nan, so never ``Infinity`` in JSON);
* inputs that were quadratic before issue 12 (long digit runs, long Chinese numerals, lines of
  thousands of quantities) give the right answer; their time per character is measured in
  bench/, not here (no timed tests).
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor.lexicon.cues import load_units
from extractor.quantities import find_quantities

UNITS = sorted(load_units().forms)
PIECES = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.text(alphabet="0123456789", min_size=1, max_size=400),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=10**5).map(str),
    st.sampled_from(UNITS),
    st.sampled_from(list("，。；、：（）“”《》%％-～至到约近每≤≥ \u3000\n")),
    st.sampled_from(
        ["万", "亿", "百分之", "左右", "以上", "达到", "控制在", "为期", "分别为", "和", "十", "三", "五千"]
    ),
    st.text(min_size=1, max_size=5),
)
TEXT = st.lists(PIECES, max_size=40).map("".join)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(TEXT)
def test_quantities_verbatim_and_finite(text):
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.surface
        assert math.isfinite(q.value)
        assert q.value_max is None or math.isfinite(q.value_max)


def test_long_digit_runs_are_no_number():
    text = "1" * 10_000 + "吨，" + "9" * 400 + "%"
    assert find_quantities(text) == []


def test_every_quantity_of_a_long_line_is_found():
    found = find_quantities("5吨、" * 3000)
    assert len(found) == 3000
    assert [q.start for q in found] == list(range(0, 9000, 3))
