"""Enumerations: text blocks -> items and clauses.

一是/二是… (opening a paragraph or inline, in sequence; a new 一是 restarts), 一方面/另一方面
(nested in an item when inside one), inline 1. 2. / （1）（2） (two or more, or continuing a list of
the same section), numbered paragraphs, plain paragraphs (第N段 of their section) and table rows.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

import regex

from extractor.lexicon.base import Headings, headings
from extractor.model import Clause
from extractor.structure.lines import cn_int
from extractor.structure.spans import Spans
from extractor.structure.tree import Block, Node, Piece

_PRIMARY = ("shi", "arabic_inline", "paren_arabic_inline")  # the families that split a paragraph
Markers = dict[str, list[tuple[int, str]]]  # family -> [(position, marker)] in sequence
_PUNCT_OR_SPACE = regex.compile(r"[\p{P}\s]")


@dataclass(frozen=True)
class Item:
    """A clause to be: ``[start, end)`` of the analysis text, owned by node ``owner``; a
    subitem's ``parent`` is the index of its item."""

    start: int
    end: int
    kind: str  # "item" | "subitem" | "paragraph" | "table_row"
    ordinal: str | None
    owner: int | None
    parent: int | None = None


def _fangmian(pattern: regex.Pattern, text: str, s: int, e: int) -> list[tuple[int, str]]:
    """一方面 … 另一方面 pairs (an 另一方面 counts after an 一方面); fewer than two are none."""
    local: list[tuple[int, str, int]] = []
    for m in pattern.finditer(text, s, e):
        n = 1 if m.group("n") == "一" else 2
        if n == 1 or (local and local[-1][2] == 1):
            local.append((m.start(), m.group(0), n))
    return [(p, t) for p, t, _ in local] if len(local) >= 2 else []


def _in_sequence(
    family: str, pattern: regex.Pattern, text: str, s: int, e: int, expected: int
) -> tuple[list[tuple[int, str]], int]:
    """Markers of a numbered family that continue ``expected`` (一是 also restarts a 是 list), and
    the number expected next."""
    accepted = []
    for m in pattern.finditer(text, s, e):
        n = cn_int(m.group("n"))
        if n == expected or (n == 1 and family == "shi"):
            accepted.append((m.start(), m.group(0)))
            expected = n + 1
    return accepted, expected


def find_markers(
    text: str, s: int, e: int, expected: Mapping[str, int], rules: Headings | None = None
) -> tuple[Markers, dict[str, int]]:
    """Accepted enumeration markers of ``text[s:e]`` per family, and the numbers each family of
    the section expects next (``expected``: those before this block; 1 when absent)."""
    rules = rules or headings()
    found: Markers = {}
    after = dict(expected)
    for family, pattern in rules.enumerations:
        if family == "fangmian":
            accepted = _fangmian(pattern, text, s, e)
        else:
            accepted, nxt = _in_sequence(family, pattern, text, s, e, expected.get(family, 1))
            if family.startswith(("arabic", "paren")) and len(accepted) < 2 and nxt <= 2:
                accepted = []  # one "1." inside running text is not a list
            if accepted:
                after[family] = nxt
        if accepted:
            found[family] = accepted
    return found, after


def table_row_ordinal(row: str) -> str:
    """序号N for a row whose first cell is a number, else 表头."""
    first = row.strip("\n").split("\t")[0].strip()
    return f"序号{first}" if first.isdigit() else "表头"


def _split(block: Block, markers: Markers, first: int) -> list[Item]:
    """The items of a block with primary markers (a lead before them is a paragraph); 一方面 /
    另一方面 inside an item are its subitems. ``first``: the index the first item will get."""
    s, e, owner = block.start, block.end, block.owner
    fangmian = markers.pop("fangmian", [])
    primary = next((markers[f] for f in _PRIMARY if f in markers), [])
    if not primary:
        primary, fangmian = fangmian, []
    out = []
    if primary[0][0] > s:
        out.append(Item(s, primary[0][0], "paragraph", block.ordinal, owner))
    bounds = [p for p, _ in primary[1:]] + [e]
    at = [p for p, _ in fangmian]  # in order: each item takes its slice by bisection, not a scan
    for (pos, marker), end in zip(primary, bounds):
        item = first + len(out)
        out.append(Item(pos, end, "item", marker.strip(), owner))
        inner = fangmian[bisect.bisect_left(at, pos) : bisect.bisect_left(at, end)]
        for (p, t), q in zip(inner, [p for p, _ in inner[1:]] + [end]):
            out.append(Item(p, q, "subitem", t, owner, parent=item))
    return out


@dataclass
class _Counters:
    expected: dict[int | None, dict[str, int]] = field(default_factory=dict)
    paragraphs: dict[int | None, int] = field(default_factory=dict)


def scan_blocks(text: str, blocks: list[Block], rules: Headings | None = None) -> list[Item]:
    """The items of every block in order; sequences and paragraph numbers run per section."""
    rules = rules or headings()
    counters = _Counters()
    items: list[Item] = []
    for block in blocks:
        s, e, owner = block.start, block.end, block.owner
        if block.table_row:
            items.append(Item(s, e, "table_row", table_row_ordinal(text[s:e]), owner))
            continue
        markers, counters.expected[owner] = find_markers(text, s, e, counters.expected.get(owner, {}), rules)
        if any(f in markers for f in (*_PRIMARY, "fangmian")):
            items += _split(block, markers, len(items))
            continue
        ordinal = block.ordinal
        if ordinal is None and owner is not None:
            counters.paragraphs[owner] = counters.paragraphs.get(owner, 0) + 1
            ordinal = f"第{counters.paragraphs[owner]}段"
        kind = "item" if ordinal and not ordinal.startswith("第") else "paragraph"
        items.append(Item(s, e, kind, ordinal, owner))
    return items


def to_pieces(doc_id: str, items: list[Item], nodes: list[Node], spans: Spans) -> list[Piece]:
    """Clauses in source offsets (text verbatim), without items of fewer than two characters; a
    subitem of a kept item gets the ordinal 一是 › 一方面. Campaigns come later."""
    pieces: list[Piece] = []
    kept: dict[int, Clause] = {}
    for i, item in enumerate(items):
        start, end = spans.src(item.start, item.end)
        text = spans.source[start:end]
        if len(_PUNCT_OR_SPACE.sub("", text)) < 2:
            continue
        section = nodes[item.owner].section if item.owner is not None else None
        parent = kept.get(item.parent) if item.parent is not None else None
        ordinal = f"{parent.ordinal} › {item.ordinal}" if parent else item.ordinal
        clause = Clause(
            id=f"{doc_id}:c{start}",
            document_id=doc_id,
            section_id=section.id if section else None,
            campaign="general",
            seq=0,
            ordinal=ordinal,
            kind=item.kind,
            text=text,
            start=start,
            end=end,
        )
        kept[i] = clause
        pieces.append(Piece(clause, item.start, item.end, item.owner))
    return pieces
