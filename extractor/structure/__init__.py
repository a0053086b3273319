"""Stage 3, structure: the analysis text -> ``Structure`` (section tree, campaigns, task clauses).

Entry function: :func:`parse_structure`. It runs on the analysis text (``Normalized``) and
reports every span in source offsets, so each ``Clause.text`` is the verbatim
``documents.text[start:end]``. The pieces, in order:

- ``lines.classify_lines``: what each line is (heading, caption, table row, numbered paragraph,
  inline lead, paragraph); no state.
- ``tree.build_tree``: classified lines -> sections (parents, levels, spans, paths) and the text
  blocks each section owns (topic leads inside a paragraph open lead sections).
- ``enumerations.scan_blocks`` / ``to_pieces``: blocks -> clauses (一是/二是, 一方面/另一方面,
  numbered items, paragraphs, table rows).
- ``campaigns.assign_campaigns``: once the tree is built, the campaign of every section (its
  label, else its parent's; the top is the document title's) and clause (in a ``general``
  section, by its first words).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.model import Clause, Section
from extractor.normalize import Normalized
from extractor.structure.campaigns import assign_campaigns, title_campaign
from extractor.structure.enumerations import scan_blocks, to_pieces
from extractor.structure.lines import classify_lines
from extractor.structure.spans import Spans
from extractor.structure.tree import build_tree

__all__ = ["Structure", "parse_structure"]


@dataclass
class Structure:
    sections: list[Section] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)

    def section(self, section_id: str | None) -> Section | None:
        """The section of that id, or None."""
        return next((s for s in self.sections if s.id == section_id), None)

    def campaigns(self) -> list[tuple[str, str]]:
        """``(campaign, label)``: each campaign the document names in a section title, first label."""
        seen, out = set(), []
        ranked = sorted(self.sections, key=lambda s: (s.kind == "lead", s.start))  # headings first
        for s in ranked:
            if s.campaign_label and s.campaign not in seen:
                seen.add(s.campaign)
                out.append((s.campaign, s.campaign_label))
        return out


def parse_structure(doc_id: str, source: str, norm: Normalized, title: str | None = None) -> Structure:
    """Sections, campaigns and clauses of a document (see module docstring). ``title`` (the
    document's) sets the campaign of a single-topic plan's untitled parts."""
    spans = Spans(source, norm)
    tree = build_tree(doc_id, classify_lines(norm.text), spans)
    pieces = to_pieces(doc_id, scan_blocks(norm.text, tree.blocks), tree.nodes, spans)
    assign_campaigns(tree.nodes, pieces, spans, title_campaign(title))
    clauses = sorted((p.clause for p in pieces), key=lambda c: (c.start, -c.end))
    for seq, clause in enumerate(clauses, 1):
        clause.seq = seq
    return Structure([n.section for n in tree.nodes], clauses)
