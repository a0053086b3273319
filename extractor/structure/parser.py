"""Plan structure: a section tree, the campaign of every section, and the task clauses.

Runs on the analysis text (``Normalized``) and reports every span in source offsets, so each
``Clause.text`` is the verbatim ``documents.text[start:end]``.

- Sections come from heading lines (第X章, 一、, （一）, 1., （1）; question headings such as
  三、蓝天保卫战的主要措施是什么？), inline leads (蓝天保卫战方面：…, 主要目标：…) and tables.
- A section's campaign comes from the campaign label in its title (data/campaigns.yml), else its
  parent's; the top is ``general``. A clause in a ``general`` section takes its campaign from its
  content (Chaoyang's 目标任务: 一是…空气质量…二是…水生态…).
- Clauses: 一是/二是… (opening a paragraph or inline), 一方面/另一方面 (nested in an item when
  inside one), numbered items (1. 2. / （1）), plain paragraphs, and table rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cn2an
import regex

from extractor.lexicon.base import Headings, campaigns, headings
from extractor.model import Clause, Section
from extractor.normalize import Normalized

_LEAF_RANK = 99
_NUMBERED_PARAGRAPH_RULES = ("arabic_number", "paren_arabic_number")  # "1. 句子。" is a clause
_NUMBERED_PARAGRAPH = regex.compile(r"\s*(\d{1,2}[.．、](?!\d)|[（(]\d{1,2}[）)])")
_TOPIC_WINDOW = 40  # a general paragraph's campaign is read from its first characters
_TABLE_CAPTION = regex.compile(r"^表\s*\d+")
_SENTENCE_STOP = regex.compile(r"[。！？；]")
# A topic lead opening a sentence inside a paragraph: "…。水污染防治方面，…", "…。净土方面，…".
_INLINE_TOPIC = regex.compile(r"(?<=[。；;：:])\s*(?P<title>[^，。；：:,;！？\n]{1,14}方面)[，,：:。]")


def _cn_int(numeral: str) -> int | None:
    if numeral.isdigit():
        return int(numeral)
    try:
        return int(cn2an.cn2an(numeral, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def campaign_by_content(text: str, window: int | None = None) -> str | None:
    """The campaign whose keyword occurs earliest in ``text`` (longest keyword on a tie).

    With ``window``, only keywords that start within the first ``window`` characters count: a
    paragraph states its topic up front.
    """
    best: tuple[int, int, str] | None = None
    named: set[str] = set()
    for campaign in campaigns():
        for word in campaign.keywords:
            pos = text.find(word)
            if pos < 0 or (window is not None and pos >= window):
                continue
            named.add(campaign.id)
            if best is None or (pos, -len(word)) < (best[0], best[1]):
                best = (pos, -len(word), campaign.id)
    if window is not None and len(named) >= 3:  # an overview of several campaigns
        return None
    return best[2] if best else None


def campaign_by_label(title: str, topics: bool = True, lead: bool = False) -> tuple[str, str, int] | None:
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
    for campaign in campaigns():
        for label in sorted((*campaign.labels, *campaign.topic_labels), key=len, reverse=True):
            if label in rest:
                found.add(campaign.id)
                rest = rest.replace(label, "　")
    return found, rest


def campaigns_named(title: str) -> set[str]:
    """Every campaign a lead title names (土壤和固体废物方面 → soil, waste; 碧水方面 → water)."""
    found, rest = _labelled(title)
    for campaign in campaigns():
        if any(word in rest for word in campaign.lead_words):
            found.add(campaign.id)
    return found


@dataclass
class Structure:
    sections: list[Section] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)

    def section(self, section_id: str | None) -> Section | None:
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


@dataclass
class _Open:
    section: Section
    rank: int
    norm_start: int
    counters: dict[str, int] = field(default_factory=dict)
    paragraphs: int = 0


class _Parser:
    def __init__(self, doc_id: str, source: str, norm: Normalized, root_campaign: str = "general"):
        self.root_campaign = root_campaign
        self.doc_id, self.source, self.norm = doc_id, source, norm
        self.text = norm.text
        self.rules: Headings = headings()
        self.stack: list[_Open] = []
        self.out = Structure()
        self.root_counters: dict[str, int] = {}
        self.last_cn: tuple[int | None, int] | None = None  # (number, rank) of the last 一、
        self.table: _Open | None = None
        self.pending_caption: tuple[int, int] | None = None

    # -- spans -------------------------------------------------------------------------------
    def _src(self, s: int, e: int) -> tuple[int, int]:
        while s < e and self.text[s].isspace():
            s += 1
        while e > s and self.text[e - 1].isspace():
            e -= 1
        return self.norm.span_to_source(s, e)

    # -- sections ----------------------------------------------------------------------------
    def _close(self, rank: int, at: int) -> None:
        while self.stack and self.stack[-1].rank >= rank:
            opened = self.stack.pop()
            opened.section.end = self._src(opened.norm_start, at)[1]

    def _open(self, rank: int, kind: str, number: str | None, title: str, s: int, e: int) -> _Open:
        """Close what this heading ends, then open its section (campaign, label, path)."""
        self._close(rank, s)
        parent = self.stack[-1].section if self.stack else None
        campaign, label = self._campaign(kind, title, parent.campaign if parent else self.root_campaign)
        src_start, src_end = self._src(s, e)
        label_text = None
        if label:
            title_at = self.text.find(title, s, e)
            ls, le = self._src(title_at + label[2], title_at + label[2] + len(label[1]))
            label_text = self.source[ls:le]
        number_src = None
        if number:
            ns, ne = self._src(s, s + len(number) + (len(self.text[s:e]) - len(self.text[s:e].lstrip())))
            number_src = self.source[ns:ne].strip()
        section = Section(
            id=f"{self.doc_id}:s{src_start}",
            document_id=self.doc_id,
            level=len(self.stack) + 1,
            number=number_src,
            title=title,
            kind=kind,
            start=src_start,
            end=src_end,
            parent_id=parent.id if parent else None,
            campaign=campaign,
            campaign_label=label_text,
        )
        section.path = " › ".join([*(self._label(o.section) for o in self.stack), self._label(section)])
        self.out.sections.append(section)
        opened = _Open(section, rank, s)
        self.stack.append(opened)
        return opened

    @staticmethod
    def _campaign(kind: str, title: str, inherited: str) -> tuple[str, tuple[str, str, int] | None]:
        """A section's campaign and the label that set it: its own label, else its parent's
        campaign; a title naming two campaigns leaves the choice to content."""
        # a lead names its topic outright (净土方面), so its topic labels count anywhere
        label = campaign_by_label(title, topics=inherited == "general" or kind == "lead", lead=kind == "lead")
        campaign = label[0] if label else inherited
        if kind != "table" and len(campaigns_named(title)) > 1:  # 气候和生态方面
            return "general", None
        if not label and kind == "lead" and campaign == "general":
            campaign = campaign_by_content(title) or "general"
        return campaign, label

    @staticmethod
    def _label(section: Section) -> str:
        if section.kind == "table":
            return section.title
        number = section.number or ""
        if number.endswith(("章", "篇")):  # 第四章 深入打好污染防治攻坚战
            number += " "
        return f"{number}{section.title}".strip()

    def _heading(self, s: int, e: int):
        """``(rank, kind, number, title, body_start)`` if the paragraph is a heading, else None."""
        line = self.text[s:e].strip()
        lead_ws = len(self.text[s:e]) - len(self.text[s:e].lstrip())
        for rule in self.rules.rules:
            m = rule.pattern.match(line)
            if not m:
                continue
            number, title = m.group("num"), m.group("title").strip()
            rank, kind = rule.rank, rule.kind
            numbered_paragraph = rule.name in _NUMBERED_PARAGRAPH_RULES
            if rule.name == "arabic_number" and number.endswith("、"):
                n = _cn_int(number[:-1])  # "3、任务要求" continuing 一、二、 is their sibling
                if self.last_cn is not None and n == self.last_cn[0] + 1:
                    rank, numbered_paragraph = self.last_cn[1], False
            if title.endswith(("？", "?")):
                kind = "question"
            body = None
            colon = self.rules.leads[0].match(title)
            if colon and len(title) > colon.end() and len(colon.group("title")) <= 25:
                body = m.start("title") + colon.end()
                title = colon.group("title").strip()
            elif (
                len(title) > self.rules.max_heading_chars
                or _SENTENCE_STOP.search(title[:-1])
                or (numbered_paragraph and (title.endswith(("。", "；")) or "，" in title))
            ):
                if numbered_paragraph:  # 1. / （1）: a numbered paragraph, not a heading
                    return None
                stop = _SENTENCE_STOP.search(title)
                if not stop:
                    return None
                body = m.start("title") + stop.end()
                title = title[: stop.start()]
            if rule.name == "cn_number":
                self.last_cn = (_cn_int(number.rstrip("、")), rank)
            return rank, kind, number, title, (s + lead_ws + body) if body is not None else None
        return None

    # -- clauses -----------------------------------------------------------------------------
    def _counters(self) -> dict[str, int]:
        return self.stack[-1].counters if self.stack else self.root_counters

    def _markers(self, s: int, e: int) -> dict[str, list[tuple[int, str]]]:
        """Accepted enumeration markers (in sequence) per family: ``{family: [(pos, marker)]}``."""
        counters = self._counters()
        found: dict[str, list[tuple[int, str]]] = {}
        for family, pattern in self.rules.enumerations:
            accepted = []
            expected = counters.get(family, 1)
            local = []
            for m in pattern.finditer(self.text, s, e):
                if family == "fangmian":
                    n = 1 if m.group("n") == "一" else 2
                    if n == 1 or (local and local[-1][2] == 1):
                        local.append((m.start(), m.group(0), n))
                    continue
                n = _cn_int(m.group("n"))
                if n == expected:
                    accepted.append((m.start(), m.group(0)))
                    expected += 1
                elif n == 1 and family == "shi":  # a new 一是 list restarts the sequence
                    accepted.append((m.start(), m.group(0)))
                    expected = 2
            if family == "fangmian":
                accepted = [(p, t) for p, t, _ in local]
                if len(accepted) < 2:
                    accepted = []
            elif family.startswith(("arabic", "paren")) and len(accepted) < 2 and expected <= 2:
                accepted = []  # one "1." inside running text is not a list
            if accepted:
                if family != "fangmian":
                    counters[family] = expected
                found[family] = accepted
        return found

    def _add_clause(
        self,
        s: int,
        e: int,
        kind: str,
        ordinal: str | None,
        parent: Clause | None = None,
        campaign: str | None = None,
    ) -> Clause | None:
        src_start, src_end = self._src(s, e)
        text = self.source[src_start:src_end]
        if len(regex.sub(r"[\p{P}\s]", "", text)) < 2:
            return None
        section = self.stack[-1].section if self.stack else None
        if campaign is None:
            campaign = section.campaign if section else self.root_campaign
        if campaign == "general":
            campaign = campaign_by_content(self.text[s:e], window=_TOPIC_WINDOW) or "general"
        clause = Clause(
            id=f"{self.doc_id}:c{src_start}",
            document_id=self.doc_id,
            section_id=section.id if section else None,
            campaign=campaign,
            seq=0,
            ordinal=ordinal,
            kind=kind,
            text=text,
            start=src_start,
            end=src_end,
        )
        if parent is not None:
            clause.kind = "subitem"
            clause.ordinal = f"{parent.ordinal} › {ordinal}"
        self.out.clauses.append(clause)
        return clause

    def _topic_cuts(self, s: int, e: int) -> list[tuple[int, str, str]]:
        """Inline topic leads inside a paragraph (…。水污染防治方面，…): ``(pos, title, campaign)``."""
        cuts = []
        for m in _INLINE_TOPIC.finditer(self.text, s, e):
            title = m.group("title").strip()
            named = campaigns_named(title)
            if m.start("title") > s and named:
                cuts.append((m.start("title"), title, named.pop() if len(named) == 1 else "general"))
        return cuts

    def _paragraph(self, s: int, e: int, ordinal: str | None = None, campaign: str | None = None) -> None:
        cuts = self._topic_cuts(s, e)
        if cuts:  # each topic lead opens a lead section that runs to the next one
            self._paragraph(s, cuts[0][0], ordinal, campaign)
            for (pos, title, _), end in zip(cuts, [c[0] for c in cuts[1:]] + [e]):
                self._open(_LEAF_RANK, "lead", None, title, pos, end)
                self._paragraph(pos, end)
            self._close(_LEAF_RANK, e)
            return
        markers = self._markers(s, e)
        fangmian = markers.pop("fangmian", [])
        primary = next(
            (markers[f] for f in ("shi", "arabic_inline", "paren_arabic_inline") if f in markers), []
        )
        if not primary and fangmian:
            primary, fangmian = fangmian, []
        if not primary:
            if ordinal is None and self.stack:
                self.stack[-1].paragraphs += 1
                ordinal = f"第{self.stack[-1].paragraphs}段"
            kind = "item" if ordinal and not ordinal.startswith("第") else "paragraph"
            self._add_clause(s, e, kind, ordinal, campaign=campaign)
            return
        if primary[0][0] > s:
            self._add_clause(s, primary[0][0], "paragraph", ordinal, campaign=campaign)
        bounds = [p for p, _ in primary] + [e]
        for (pos, marker), end in zip(primary, bounds[1:]):
            item = self._add_clause(pos, end, "item", marker.strip(), campaign=campaign)
            inner = [(p, t) for p, t in fangmian if pos <= p < end]
            for (p, t), q in zip(inner, [p for p, _ in inner[1:]] + [end]):
                self._add_clause(p, q, "subitem", t, parent=item, campaign=campaign)

    def _table_row(self, s: int, e: int) -> None:
        if self.table is None or self.table not in self.stack:
            title = "表格"
            if self.pending_caption:
                title = self.text[slice(*self.pending_caption)].strip()
            self.table = self._open(_LEAF_RANK, "table", None, title, *(self.pending_caption or (s, e)))
        cells = self.text[s:e].strip("\n").split("\t")
        first = cells[0].strip()
        ordinal = f"序号{first}" if first.isdigit() else "表头"
        clause = self._add_clause(s, e, "table_row", ordinal)
        if clause is not None:
            row_campaign = campaign_by_content(self.text[s:e])
            clause.campaign = row_campaign or self.table.section.campaign

    # -- driver --------------------------------------------------------------------------------
    def run(self) -> Structure:
        paragraphs = [
            (m.start(), m.end()) for m in regex.finditer(r"[^\n]+", self.text) if m.group(0).strip()
        ]
        for i, (s, e) in enumerate(paragraphs):
            line = self.text[s:e]
            if line.count("\t") >= 2:
                self._table_row(s, e)
                self.pending_caption = None
                continue
            if self.table is not None and self.table in self.stack:
                self._close(_LEAF_RANK, s)
                self.table = None
            nxt = self.text[slice(*paragraphs[i + 1])] if i + 1 < len(paragraphs) else ""
            if _TABLE_CAPTION.match(line.strip()) and nxt.count("\t") >= 2:
                self.pending_caption = (s, e)
                continue
            heading = self._heading(s, e)
            if heading:
                rank, kind, number, title, body = heading
                self._open(rank, kind, number, title, s, e)
                if body is not None:
                    self._paragraph(body, e)
                continue
            numbered = _NUMBERED_PARAGRAPH.match(line)
            if numbered:  # 1. 坚持绿色发展引领。…: a numbered task clause
                self._paragraph(s, e, ordinal=numbered.group(1))
                continue
            lead = next((m for p in self.rules.leads if (m := p.match(line.lstrip()))), None)
            if lead and len(line.strip()) > lead.end():
                lead_ws = len(line) - len(line.lstrip())
                self._open(_LEAF_RANK, "lead", None, lead.group("title").strip(), s, e)
                self._paragraph(s + lead_ws + lead.end(), e)
                self._close(_LEAF_RANK, e)
                continue
            self._paragraph(s, e)
        self._close(0, len(self.text))
        self.out.clauses.sort(key=lambda c: (c.start, -c.end))
        for seq, clause in enumerate(self.out.clauses, 1):
            clause.seq = seq
        return self.out


def title_campaign(title: str | None) -> str:
    """The campaign of a single-topic plan from its title (…2024年大气污染防治工作计划 → air);
    ``general`` when the title names none or several."""
    found = _labelled(title)[0] if title else set()
    return found.pop() if len(found) == 1 else "general"


def parse_structure(doc_id: str, source: str, norm: Normalized, title: str | None = None) -> Structure:
    """Sections, campaigns and clauses of a document (see module docstring). ``title`` (the
    document's) sets the campaign of a single-topic plan's untitled parts."""
    return _Parser(doc_id, source, norm, title_campaign(title)).run()
