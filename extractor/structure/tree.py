"""The section tree: classified lines -> sections with parents, levels, spans and paths.

A heading opens a section that runs to the next heading of the same or an outer rank; an inline
lead (蓝天保卫战方面：…) and each topic lead inside a paragraph (…。水污染防治方面，…) open a leaf
section; consecutive table rows form a table section named by its caption. What is left of each
line is a ``Block`` of text owned by the innermost open section, for the enumeration scanner.
Campaigns are set afterwards (``campaigns.assign_campaigns``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from extractor.model import Clause, Section
from extractor.structure.campaigns import campaigns_named
from extractor.structure.lines import Line
from extractor.structure.spans import Spans

LEAF_RANK = 99
# A topic lead opening a sentence inside a paragraph: "…。水污染防治方面，…", "…。净土方面，…".
_INLINE_TOPIC = regex.compile(r"(?<=[。；;：:])\s*(?P<title>[^，。；：:,;！？\n]{1,14}方面)[，,：:。]")


@dataclass
class Node:
    """A section while the tree is built: ``rank`` of its heading rule, analysis span of the line
    that opened it, index of its parent in the node list."""

    section: Section
    rank: int
    start: int
    end: int
    parent: int | None


@dataclass(frozen=True)
class Block:
    """Text for the enumeration scanner: ``[start, end)`` of the analysis text, owned by node
    ``owner`` (None at the top); a numbered paragraph's ``ordinal``; a table row."""

    start: int
    end: int
    owner: int | None
    ordinal: str | None = None
    table_row: bool = False


@dataclass
class Piece:
    """A clause with its analysis span and the node that owns it."""

    clause: Clause
    start: int
    end: int
    owner: int | None


@dataclass
class Tree:
    nodes: list[Node] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def topic_cuts(text: str, s: int, e: int) -> list[tuple[int, str]]:
    """Topic leads inside the paragraph ``text[s:e]`` that name a campaign: ``(pos, title)``."""
    cuts = []
    for m in _INLINE_TOPIC.finditer(text, s, e):
        title = m.group("title").strip()
        if m.start("title") > s and campaigns_named(title):
            cuts.append((m.start("title"), title))
    return cuts


def section_label(section: Section) -> str:
    """A section as its path shows it: number and title (第四章 深入打好…; a table by its title)."""
    if section.kind == "table":
        return section.title
    number = section.number or ""
    if number.endswith(("章", "篇")):
        number += " "
    return f"{number}{section.title}".strip()


class _Builder:
    """The stack of open sections while lines are read in order."""

    def __init__(self, doc_id: str, spans: Spans):
        self.doc_id, self.spans = doc_id, spans
        self.tree = Tree()
        self.stack: list[int] = []
        self.table: int | None = None
        self.caption: tuple[int, int] | None = None

    def close(self, rank: int, at: int) -> None:
        """Close the open sections of ``rank`` or inner, ending them at ``at``."""
        while self.stack and self.tree.nodes[self.stack[-1]].rank >= rank:
            node = self.tree.nodes[self.stack.pop()]
            node.section.end = self.spans.src(node.start, at)[1]

    def open(self, rank: int, kind: str, number: str | None, title: str, s: int, e: int) -> int:
        """Close what this section ends, then open it under the innermost open one."""
        self.close(rank, s)
        parent = self.stack[-1] if self.stack else None
        up = self.tree.nodes[parent].section if parent is not None else None
        start, end = self.spans.src(s, e)
        section = Section(
            id=f"{self.doc_id}:s{start}",
            document_id=self.doc_id,
            level=len(self.stack) + 1,
            number=self._number(number, s, e),
            title=title,
            kind=kind,
            start=start,
            end=end,
            parent_id=up.id if up else None,
            campaign="general",
            campaign_label=None,
        )
        section.path = " › ".join([*([up.path] if up else []), section_label(section)])
        self.tree.nodes.append(Node(section, rank, s, e, parent))
        self.stack.append(len(self.tree.nodes) - 1)
        return self.stack[-1]

    def _number(self, number: str | None, s: int, e: int) -> str | None:
        """The numbering as the source writes it."""
        if not number:
            return None
        line = self.spans.text[s:e]
        return self.spans.source_text(s, s + len(number) + len(line) - len(line.lstrip())).strip()

    def paragraph(self, s: int, e: int, ordinal: str | None = None) -> None:
        """A block of text; each topic lead in it opens a lead section that runs to the next."""
        cuts = topic_cuts(self.spans.text, s, e)
        if not cuts:
            self.tree.blocks.append(Block(s, e, self.stack[-1] if self.stack else None, ordinal))
            return
        self.paragraph(s, cuts[0][0], ordinal)
        for (pos, title), end in zip(cuts, [c[0] for c in cuts[1:]] + [e]):
            self.open(LEAF_RANK, "lead", None, title, pos, end)
            self.paragraph(pos, end)
        self.close(LEAF_RANK, e)

    def table_row(self, s: int, e: int) -> None:
        """A row of the open table, or of a new one named by its caption."""
        if self.table is None or self.table not in self.stack:
            title = self.spans.text[slice(*self.caption)].strip() if self.caption else "表格"
            self.table = self.open(LEAF_RANK, "table", None, title, *(self.caption or (s, e)))
        self.tree.blocks.append(Block(s, e, self.table, table_row=True))
        self.caption = None

    def line(self, line: Line) -> None:
        """Open, close or fill sections for one classified line."""
        s, e, cls = line.start, line.end, line.cls
        if cls.kind == "table_row":
            return self.table_row(s, e)
        if self.table is not None and self.table in self.stack:
            self.close(LEAF_RANK, s)
            self.table = None
        if cls.kind == "caption":
            self.caption = (s, e)
        elif cls.kind == "heading":
            self.open(cls.rank, cls.section_kind, cls.number, cls.title, s, e)
            if cls.body is not None:
                self.paragraph(s + cls.body, e)
        elif cls.kind == "numbered":
            self.paragraph(s, e, ordinal=cls.ordinal)
        elif cls.kind == "lead":
            self.open(LEAF_RANK, "lead", None, cls.title, s, e)
            self.paragraph(s + cls.body, e)
            self.close(LEAF_RANK, e)
        else:
            self.paragraph(s, e)


def build_tree(doc_id: str, lines: list[Line], spans: Spans) -> Tree:
    """Sections (in the order they open, a parent before its children) and the text blocks."""
    builder = _Builder(doc_id, spans)
    for line in lines:
        builder.line(line)
    builder.close(0, len(spans.text))
    return builder.tree
