"""Line classes: what one line of the analysis text is, with no state.

A line is a table row (two tabs or more), a table caption (表1… before a row), a heading (第X章,
一、, （一）, 1., （1）, questions; data/headings.yml), a numbered paragraph (1. 坚持绿色发展引领。…),
an inline lead (蓝天保卫战方面：…, 主要目标：…) or a plain paragraph.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import regex

from extractor.lexicon.base import HeadingRule, Headings, headings

NUMBERED_PARAGRAPH_RULES = ("arabic_number", "paren_arabic_number")  # "1. 句子。" is a clause
_NUMBERED_PARAGRAPH = regex.compile(r"\s*(\d{1,2}[.．、](?!\d)|[（(]\d{1,2}[）)])")
_TABLE_CAPTION = regex.compile(r"^表\s*\d+")
_SENTENCE_STOP = regex.compile(r"[。！？；]")


@functools.lru_cache(maxsize=4096)
def cn_int(numeral: str) -> int | None:
    """An Arabic or Chinese numeral as an int (十二 → 12), None when it is neither."""
    if numeral.isdigit():
        return int(numeral)
    import cn2an  # imported on first use: its import costs more than the grammar's

    try:
        return int(cn2an.cn2an(numeral, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class LineClass:
    """What a line is. ``body``: offset in the line where the text after a heading's or lead's
    title starts (None when the line is all title); ``ordinal``: a numbered paragraph's 1. / （1）."""

    kind: str  # "table_row" | "caption" | "heading" | "numbered" | "lead" | "paragraph"
    rule: str | None = None
    rank: int | None = None
    section_kind: str | None = None  # a heading's: "chapter" | "heading" | "question"
    number: str | None = None
    title: str | None = None
    body: int | None = None
    ordinal: str | None = None


@dataclass(frozen=True)
class Line:
    """A classified line at ``[start, end)`` of the analysis text."""

    start: int
    end: int
    cls: LineClass


def is_table_row(line: str) -> bool:
    """A line of tab-separated cells."""
    return line.count("\t") >= 2


def _continues_cn(rule: HeadingRule, number: str, last_cn: int | None) -> bool:
    """Whether an arabic 3、 after 二、 continues the 一、二、 list (3、任务要求 is their sibling)."""
    if rule.name != "arabic_number" or not number.endswith("、") or last_cn is None:
        return False
    return cn_int(number[:-1]) == last_cn + 1


def _cn_rank(rules: Headings) -> int:
    """The rank of 一、 headings."""
    return next(r.rank for r in rules.rules if r.name == "cn_number")


def classify_heading(
    line: str, last_cn: int | None = None, rules: Headings | None = None
) -> LineClass | None:
    """The heading class of a line, or None. ``last_cn``: the number of the last 一、 heading."""
    rules = rules or headings()
    stripped = line.strip()
    lead_ws = len(line) - len(line.lstrip())
    for rule in rules.rules:
        m = rule.pattern.match(stripped)
        if m:
            return _heading(rule, m, lead_ws, last_cn, rules)
    return None


def _heading(
    rule: HeadingRule, m: regex.Match, lead_ws: int, last_cn: int | None, rules: Headings
) -> LineClass | None:
    """The first matching heading rule's verdict: a heading (title cut at a lead colon or the first
    sentence stop), or None for a numbered paragraph or an overlong line."""
    number, title = m.group("num"), m.group("title").strip()
    rank, numbered = rule.rank, rule.name in NUMBERED_PARAGRAPH_RULES
    if _continues_cn(rule, number, last_cn):
        rank, numbered = _cn_rank(rules), False
    kind = "question" if title.endswith(("？", "?")) else rule.kind
    body = None
    colon = rules.leads[0].match(title)
    if colon and len(title) > colon.end() and len(colon.group("title")) <= 25:
        body, title = m.start("title") + colon.end(), colon.group("title").strip()
    elif (
        len(title) > rules.max_heading_chars
        or _SENTENCE_STOP.search(title[:-1])
        or (numbered and (title.endswith(("。", "；")) or "，" in title))
    ):
        stop = None if numbered else _SENTENCE_STOP.search(title)
        if not stop:  # 1. / （1）: a numbered paragraph; else a line too long to be a heading
            return None
        body, title = m.start("title") + stop.end(), title[: stop.start()]
    body = lead_ws + body if body is not None else None
    return LineClass("heading", rule.name, rank, kind, number, title, body)


def classify_line(
    line: str, next_line: str = "", last_cn: int | None = None, rules: Headings | None = None
) -> LineClass:
    """What ``line`` is; ``next_line`` tells a caption, ``last_cn`` (the number of the last 一、
    heading) tells whether 3、 continues 一、二、."""
    rules = rules or headings()
    if is_table_row(line):
        return LineClass("table_row")
    if _TABLE_CAPTION.match(line.strip()) and is_table_row(next_line):
        return LineClass("caption", title=line.strip())
    heading = classify_heading(line, last_cn, rules)
    if heading:
        return heading
    numbered = _NUMBERED_PARAGRAPH.match(line)
    if numbered:
        return LineClass("numbered", ordinal=numbered.group(1))
    lead = next((m for p in rules.leads if (m := p.match(line.lstrip()))), None)
    if lead and len(line.strip()) > lead.end():
        body = len(line) - len(line.lstrip()) + lead.end()
        return LineClass("lead", rank=None, title=lead.group("title").strip(), body=body)
    return LineClass("paragraph")


def classify_lines(text: str, rules: Headings | None = None) -> list[Line]:
    """Every non-blank line of ``text``, classified in order (a 一、 heading sets ``last_cn``)."""
    rules = rules or headings()
    spans = [(m.start(), m.end()) for m in regex.finditer(r"[^\n]+", text) if m.group(0).strip()]
    out: list[Line] = []
    last_cn: int | None = None
    for i, (s, e) in enumerate(spans):
        nxt = text[slice(*spans[i + 1])] if i + 1 < len(spans) else ""
        cls = classify_line(text[s:e], nxt, last_cn, rules)
        if cls.rule == "cn_number":
            last_cn = cn_int(cls.number.rstrip("、"))
        out.append(Line(s, e, cls))
    return out
