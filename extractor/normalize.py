"""The analysis text: a normalized *view* of a document's text with an offset map back to it.

Normalization never edits ``documents.text``. Every character of the analysis text comes from
one source character (a 1:1 replacement such as t2s or full-width -> half-width) or the source
character was dropped (artifacts, a table of contents, page-number lines, the line break of a
paragraph split by a page break, the braces of ``PM_{2.5}``). So ``Normalized.to_source`` is an
array lookup, and a span of the analysis text maps to the verbatim source span that holds it.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import regex

from extractor.lexicon.base import t2s_converter

# 1:1 character replacements (besides OpenCC t2s).
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(ord("０"), ord("９") + 1)}
_FULLWIDTH.update({chr(c): chr(c - 0xFEE0) for c in range(ord("Ａ"), ord("Ｚ") + 1)})
_FULLWIDTH.update({chr(c): chr(c - 0xFEE0) for c in range(ord("ａ"), ord("ｚ") + 1)})
_FULLWIDTH.update({"．": ".", "\u3000": " ", "\u00a0": " ", "\r": "\n"})
# Both as one map, applied to the few characters that fold (str.translate looks up every character).
_FOLD = {**{chr(c): chr(v) for c, v in _SUBSCRIPTS.items()}, **_FULLWIDTH}
_FOLDABLE = regex.compile("[" + regex.escape("".join(_FOLD)) + "]")

# Spans dropped from the analysis text. Each pattern runs on the t2s, half-width text.
_ARTIFACT = regex.compile(r"\[bookmark:[^\]\n]*\]")
_SUB_BRACES = regex.compile(r"(?<=[A-Za-z])(_\{)[0-9.]+(\})")
# (one \s* on each side of the optional comma: two adjacent \s* backtrack quadratically on a long blank run)
_PAGE_NUMBER_LINE = regex.compile(
    r"(?m)^[ \t]*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*(?:[,，/]\s*)?共\s*\d+\s*页)?)[ \t]*\n?"
)
# A table-of-contents line: a heading followed by a page reference (tab/dot leaders, "- 12 -", "12 -").
_TOC_LINE = regex.compile(  # tried with fullmatch on one line (so no ``^``)
    r"[^\n\t]{1,60}?(?:\t+|\.{2,}\s*|…+\s*|\s+)(?:[-—–－]\s*)?\d{1,3}\s*[-—–－]?[ \t]*\n?"
)
_TOC_TITLE = regex.compile(r"(?m)^[ \t]*目\s*录[ \t]*\n?")
_HEADING_START = regex.compile(
    r"^\s*(?:第[一二三四五六七八九十百]+[章节篇部分]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]"
    r"|\d{1,2}[.．、]\s*\S|[（(]\d{1,2}[）)]|表\s*\d|附件|序\s*号)"
)
_TERMINAL = regex.compile(r"[。！？；：…!?;:]\s*$|[。！？][”’」』）)]\s*$")


@dataclass
class Normalized:
    """Analysis text plus, for each of its characters, the offset of its source character."""

    text: str
    source_len: int
    _index: array  # array('q'): one source offset per analysis character (8 bytes each)
    _attach_left: frozenset[int] = frozenset()  # dropped source chars that belong to the text before

    def to_source(self, i: int) -> int:
        """Source offset of analysis offset ``i`` (``len(text)`` maps to the source end)."""
        if i >= len(self._index):
            return self.source_len
        return self._index[i]

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        """The source span holding analysis ``text[start:end]`` (verbatim, gaps included)."""
        if end <= start:
            s = self.to_source(start)
            return s, s
        src_end = self._index[end - 1] + 1
        while src_end in self._attach_left:  # "PM_{2.5}": the closing brace goes with "PM2.5"
            src_end += 1
        return self._index[start], src_end


def _one_to_one(text: str) -> str:
    """t2s and full-width/subscript folding, character by character (length preserved)."""
    converted = t2s_converter().convert(text)
    if len(converted) != len(text):  # a phrase rule changed the length: fall back per character
        convert = t2s_converter().convert
        table = {ord(ch): c for ch in set(text) if len(c := convert(ch)) == 1 and c != ch}
        converted = text.translate(table)
    return _FOLDABLE.sub(lambda m: _FOLD[m.group()], converted)


def _toc_spans(text: str) -> list[tuple[int, int]]:
    """Spans of a table of contents: the 目录 title and the run of page-referencing lines after it.

    A scan that reaches a line start already scanned with the same count of misses would repeat
    that scan line for line (same spans), so it stops there: every (position, misses) state is
    scanned once, and many 目录 lines cost no more than one."""
    spans: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for title in _TOC_TITLE.finditer(text):
        spans.append(title.span())
        pos = title.end()
        misses = 0
        while pos < len(text) and misses <= 2 and (pos, misses) not in seen:
            seen.add((pos, misses))
            line_end = text.find("\n", pos)
            line_end = len(text) if line_end < 0 else line_end + 1
            if _is_toc_line(text, pos, line_end):
                spans.append((pos, line_end))
                misses = 0
            elif not text[pos:line_end].isspace():
                misses += 1
            pos = line_end
    return spans


def _is_toc_line(text: str, pos: int, line_end: int) -> bool:
    """Whether ``text[pos:line_end]`` (with or without its line break) is a TOC line."""
    if _TOC_LINE.fullmatch(text, pos, line_end):
        return True
    if line_end < len(text) or line_end == pos:
        return False  # a line with its break was tried as it is; "line + \n" only for the last
    return _TOC_LINE.fullmatch(text[pos:line_end] + "\n") is not None


_PAGE_BREAK = regex.compile(r"(?m)^([^\n]+)(\n[ \t]*\n\s*)(?=[^\n])")
_CLAUSE_PUNCT = regex.compile(r"[，。；、,]")


def _page_break_joins(text: str) -> list[tuple[int, int]]:
    """Blank-line breaks inside a paragraph (a page break in the PDF it came from).

    A break is joined when the line before it is running text (has a comma or stop, is not a
    heading or table row, does not end a sentence) and the line after it is not a heading.
    """
    spans = []
    for m in _PAGE_BREAK.finditer(text):
        line, gap = m.group(1), m.span(2)
        line_end = text.find("\n", gap[1])
        nxt = text[gap[1] : line_end if line_end >= 0 else len(text)]
        if (
            len(line.strip()) >= 20
            and "\t" not in line
            and _CLAUSE_PUNCT.search(line)
            and not _TERMINAL.search(line)
            and not _HEADING_START.match(line)
            and not _HEADING_START.match(nxt)
            and "\t" not in nxt
        ):
            spans.append(gap)
    return spans


def normalize(text: str) -> Normalized:
    """Build the analysis text of ``text`` (see module docstring). Linear in the text: the
    dropped spans are merged once and the kept runs copied as slices."""
    folded = _one_to_one(text)
    spans: list[tuple[int, int]] = []
    for pattern in (_ARTIFACT, _PAGE_NUMBER_LINE):
        spans.extend(m.span() for m in pattern.finditer(folded))
    attach = set()
    for m in _SUB_BRACES.finditer(folded):
        spans.extend([m.span(1), m.span(2)])
        attach.add(m.start(2))
    spans.extend(_toc_spans(folded))
    spans.extend(_page_break_joins(folded))
    pieces: list[str] = []
    index = array("q")
    pos = 0
    for s, e in sorted(spans):
        if s > pos:
            pieces.append(folded[pos:s])
            index.extend(range(pos, s))
        pos = max(pos, e)
    if pos < len(folded):
        pieces.append(folded[pos:])
        index.extend(range(pos, len(folded)))
    return Normalized("".join(pieces), len(text), index, frozenset(attach))
