"""Campaign rules: labels in titles, keywords in content, and the pass that sets them.

Parsing builds the tree without campaigns; :func:`assign_campaigns` then sets every section's
campaign (its own label, else its parent's; the top is the document's) and every clause's (its
section's; in a ``general`` section, its content's). :func:`campaign_by_keywords` is the one
keyword rule of the project: ``statements`` uses it too.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import regex

from extractor.lexicon.base import campaigns

if TYPE_CHECKING:  # pragma: no cover
    from extractor.structure.spans import Spans
    from extractor.structure.tree import Node, Piece

TOPIC_WINDOW = 40  # a general paragraph's campaign is read from its first characters
Label = tuple[str, str, int]  # (campaign id, label as written in the title, offset in the title)


@functools.lru_cache(maxsize=8192)
def campaign_by_keywords(text: str, window: int | None = None) -> str | None:
    """The campaign whose keyword starts earliest in ``text`` (the longer keyword on a tie).

    With ``window``, only keywords that start within the first ``window`` characters count (a
    paragraph states its topic up front), and a window naming three or more campaigns is an
    overview of several: None.
    """
    best: tuple[int, int, str] | None = None
    named: set[str] = set()
    for campaign_id, pattern in _keyword_patterns():
        hit = pattern.search(text, 0, len(text) if window is None else min(len(text), window + 40))
        if hit is None or (window is not None and hit.start() >= window):
            continue
        named.add(campaign_id)
        key = (hit.start(), -len(hit.group(0)))
        if best is None or key < best[:2]:
            best = (*key, campaign_id)
    if window is not None and len(named) >= 3:
        return None
    return best[2] if best else None


@functools.cache
def _keyword_patterns() -> tuple[tuple[str, regex.Pattern], ...]:
    """One pattern per campaign over its keywords, longest first: its search finds the earliest
    keyword and, at that place, the longest."""
    out = []
    for campaign in campaigns():
        words = sorted(campaign.keywords, key=len, reverse=True)
        if words:
            out.append((campaign.id, regex.compile("|".join(regex.escape(w) for w in words))))
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def campaign_by_label(title: str, topics: bool = True, lead: bool = False) -> Label | None:
    """``(campaign id, label, offset in title)`` of the earliest campaign label in a title.

    With ``topics``, topic labels (空气质量, 低碳) count too, after the campaign names; with
    ``lead`` (a "…方面" lead), the short lead words (碧水, 生态) count last.
    """
    best: tuple[int, int, int, str, str] | None = None
    for campaign in campaigns():
        named = [(0, label) for label in campaign.labels]
        if topics:
            named += [(1, label) for label in campaign.topic_labels]
        if lead:
            named += [(2, label) for label in campaign.lead_words]
        for weak, label in named:
            pos = title.find(label)
            key = (weak, pos, -len(label))
            if pos >= 0 and (best is None or key < best[:3]):
                best = (*key, campaign.id, label)
    return (best[3], best[4], best[1]) if best else None


def _labelled(title: str) -> tuple[set[str], str]:
    """Campaigns a title names by labels and topic labels (longest first, each consumed, so
    土壤污染防治 is not also 水), and what is left of the title."""
    found: set[str] = set()
    rest = title
    for campaign, labels in _labels_longest_first():
        for label in labels:
            if label in rest:
                found.add(campaign.id)
                rest = rest.replace(label, "　")
    return found, rest


@functools.cache
def _labels_longest_first():
    """Each campaign with its labels and topic labels, longest first (sorted once)."""
    return tuple(
        (campaign, tuple(sorted((*campaign.labels, *campaign.topic_labels), key=len, reverse=True)))
        for campaign in campaigns()
    )


def campaigns_named(title: str) -> set[str]:
    """Every campaign a lead title names (土壤和固体废物方面 → soil, waste; 碧水方面 → water)."""
    found, rest = _labelled(title)
    for campaign in campaigns():
        if any(word in rest for word in campaign.lead_words):
            found.add(campaign.id)
    return found


def title_campaign(title: str | None) -> str:
    """The campaign of a single-topic plan from its title (…2024年大气污染防治工作计划 → air);
    ``general`` when the title names none or several."""
    found = _labelled(title)[0] if title else set()
    return found.pop() if len(found) == 1 else "general"


@functools.lru_cache(maxsize=8192)
def section_campaign(kind: str, title: str, inherited: str) -> tuple[str, Label | None]:
    """A section's campaign and the label that set it: its own label, else its parent's
    campaign; a title naming two campaigns leaves the choice to content."""
    # a lead names its topic outright (净土方面), so its topic labels count anywhere
    label = campaign_by_label(title, topics=inherited == "general" or kind == "lead", lead=kind == "lead")
    campaign = label[0] if label else inherited
    if kind != "table" and len(campaigns_named(title)) > 1:  # 气候和生态方面
        return "general", None
    if not label and kind == "lead" and campaign == "general":
        campaign = campaign_by_keywords(title) or "general"
    return campaign, label


def clause_campaign(text: str, section: str, table_row: bool = False) -> str:
    """A clause's campaign from its analysis ``text`` and its ``section``'s campaign: a table
    row by its keywords, else the table's; a clause of a ``general`` section by its first words."""
    if table_row:
        return campaign_by_keywords(text) or section
    if section == "general":
        return campaign_by_keywords(text, window=TOPIC_WINDOW) or "general"
    return section


def assign_campaigns(nodes: list[Node], pieces: list[Piece], spans: Spans, root: str = "general") -> None:
    """Set the campaign (and label as the source writes it) of every section, then of every clause."""
    for node in nodes:  # a parent precedes its children
        inherited = nodes[node.parent].section.campaign if node.parent is not None else root
        section = node.section
        section.campaign, label = section_campaign(section.kind, section.title, inherited)
        if label:
            title_at = spans.text.find(section.title, node.start, node.end)
            section.campaign_label = spans.source_text(
                title_at + label[2], title_at + label[2] + len(label[1])
            )
    for piece in pieces:
        owner = nodes[piece.owner].section.campaign if piece.owner is not None else root
        text = spans.text[piece.start : piece.end]
        piece.clause.campaign = clause_campaign(text, owner, piece.clause.kind == "table_row")
