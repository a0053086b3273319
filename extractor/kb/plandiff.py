"""Plan-to-plan change: the targets of two documents of one district aligned by indicator.

``diff_documents(conn, doc_a, doc_b) -> PlanDiff`` reads kb.db (a plain sqlite3 connection) and
says, per indicator, whether B's target is tightened, loosened or unchanged against A's, new in
B or dropped from A, each row with both clauses. Read at request time by the web page and by
``policykb diff``; nothing is written into kb.db.

Which target speaks for a document: of its ``kind = 'target'`` rows for an indicator, those of
the latest year within the document's plan years (a 2021–2025 plan's 2025 column, not its 2020
baseline column nor its 2035 vision); a number before a wording (``≤ 28`` before 达到市级要求),
then the first in the text. Two targets align by indicator; two numbers compare in the
canonical unit (of different canonical units they are ``changed``), a wording (value NULL,
value_text) against a wording.

Comparison, in the indicator's direction (``direction: lower|higher`` in data/indicators.yml;
without one, the direction both comparators point to, ``≤`` lower, ``≥`` higher): each target is
a bound (``≤ 28``, ``= 28``, ``约 28`` are all the bound 28 for a lower-is-better indicator; a
range's upper end, or lower end for higher-is-better); the stricter bound is tightened, and at
one bound a strict comparator (``< 28``) is stricter than ``≤ 28``. Wordings without a number
(稳中向好) are unchanged when the same, else ``changed`` (表述变化), as are a number against a
wording, or two numbers of no known direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from extractor.errors import PolicyKBError
from extractor.format import format_value
from extractor.lexicon.cues import load_indicators
from extractor.sqlite import sqlite3

TIGHTENED, LOOSENED, UNCHANGED, NEW, DROPPED, CHANGED = (
    "tightened",
    "loosened",
    "unchanged",
    "new",
    "dropped",
    "changed",
)
STATUS_ORDER = (TIGHTENED, LOOSENED, CHANGED, NEW, DROPPED, UNCHANGED)
STATUS_LABELS = {
    TIGHTENED: "收紧 tightened",
    LOOSENED: "放宽 loosened",
    UNCHANGED: "不变 unchanged",
    NEW: "新增 new",
    DROPPED: "删除 dropped",
    CHANGED: "表述变化 changed",
}
LOWER, HIGHER = "lower", "higher"


class DiffError(PolicyKBError):
    """The two documents cannot be compared: an unknown id, or two districts."""


@dataclass
class Side:
    """One document's target for an indicator."""

    target_id: str
    clause_id: str
    clause_text: str
    comparator: str
    value: float | None  # in the canonical unit (compared)
    value_max: float | None
    unit: str  # canonical
    value_text: str | None
    year: int | None
    written: str = ""  # as the document states it (≤ 28 微克/立方米, 1.98 亿立方米)
    excerpt: str = ""  # the clause's words around the target

    @property
    def shown(self) -> str:
        return self.written or format_value(
            self.value, self.value_max, self.comparator, self.unit, self.value_text
        )


@dataclass
class DiffRow:
    indicator_id: str
    name_zh: str
    name_en: str
    canonical_unit: str
    direction: str | None
    status: str
    a: Side | None
    b: Side | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class PlanDiff:
    a: dict[str, Any]  # documents rows (id, district, year, year_end, genre, title)
    b: dict[str, Any]
    rows: list[DiffRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.rows) for s in STATUS_ORDER}


DOC_COLUMNS = "id, district, year, year_end, genre, title"


def document_row(conn: sqlite3.Connection, doc_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"select {DOC_COLUMNS} from documents where id = ?", [doc_id]).fetchone()
    return dict(zip(DOC_COLUMNS.split(", "), row)) if row else None


def documents_by_district(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every document, grouped by district (for the page's form), earliest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(f"select {DOC_COLUMNS} from documents order by district, year, id"):
        doc = dict(zip(DOC_COLUMNS.split(", "), row))
        out.setdefault(doc["district"], []).append(doc)
    return out


def document_targets(conn: sqlite3.Connection, doc: dict[str, Any]) -> dict[str, Side]:
    """The target that speaks for ``doc`` per indicator."""
    first, last = doc["year"], doc["year_end"] or doc["year"]
    rows = conn.execute(
        """select t.id, t.clause_id, c.text, t.indicator_id, coalesce(t.canonical_unit, ''),
                  t.comparator, t.value_canonical, t.value_max, t.value_text, t.year, t.start, t.value, t.unit, c.start
           from targets t join clauses c on c.id = t.clause_id
           where t.document_id = ? and t.kind = 'target' and t.indicator_id is not null""",
        [doc["id"]],
    ).fetchall()
    best: dict[str, tuple[tuple, Side]] = {}
    for tid, cid, text, ind, unit, comp, value, vmax, vtext, year, start, raw, raw_unit, c_start in rows:
        year_of = year if year is not None else last
        if first is not None and not (first <= year_of <= (last or year_of)):
            continue
        written = format_value(raw, vmax, comp, raw_unit, vtext)
        if vmax is not None and raw:  # value_max is in the written unit: scale it as value was
            vmax = vmax * (value / raw)
        side = Side(
            tid,
            cid,
            text,
            comp or "=",
            value,
            vmax,
            unit,
            vtext,
            year,
            written,
            _excerpt(text, start - c_start),
        )
        rank = (-(year_of or 0), value is None, start)
        key = ind
        if key not in best or rank < best[key][0]:
            best[key] = (rank, side)
    return {k: v[1] for k, v in best.items()}


def _excerpt(text: str, at: int, before: int = 30, after: int = 40) -> str:
    """The clause's words around offset ``at``, cut at the clause's ends or with an ellipsis."""
    s, e = max(0, at - before), min(len(text), at + after)
    return ("…" if s else "") + text[s:e].strip() + ("…" if e < len(text) else "")


def _direction(indicator_id: str, a: Side, b: Side) -> str | None:
    ind = load_indicators().indicators.get(indicator_id)
    if ind is not None and ind.direction:
        return ind.direction
    points = {_points(a.comparator), _points(b.comparator)}
    return points.pop() if len(points) == 1 and None not in points else None


def _points(comparator: str) -> str | None:
    return LOWER if comparator in ("<", "<=") else HIGHER if comparator in (">", ">=") else None


def _bound(side: Side, direction: str) -> tuple[float, bool]:
    """(bound, strict) in the direction: the least a higher-is-better target allows, or the most a
    lower-is-better one allows."""
    assert side.value is not None
    if direction == LOWER:
        value = side.value_max if side.value_max is not None else side.value
        return value, side.comparator == "<"
    return side.value, side.comparator == ">"


def compare(a: Side, b: Side, direction: str | None) -> str:
    """B against A: tightened, loosened, unchanged or changed."""
    if a.value is None or b.value is None:
        if a.value is None and b.value is None and (a.value_text or "") == (b.value_text or ""):
            return UNCHANGED
        return CHANGED
    if a.unit != b.unit:
        return CHANGED  # no common unit to compare in
    if (a.value, a.value_max, a.comparator) == (b.value, b.value_max, b.comparator):
        return UNCHANGED
    if direction is None:
        return CHANGED
    (va, sa), (vb, sb) = _bound(a, direction), _bound(b, direction)
    if abs(va - vb) <= 1e-9 * max(1.0, abs(va)):
        if sa == sb:
            return UNCHANGED  # = 28 and ≤ 28 ask the same of a lower-is-better indicator
        return TIGHTENED if sb else LOOSENED
    stricter = vb < va if direction == LOWER else vb > va
    return TIGHTENED if stricter else LOOSENED


def diff_documents(conn: sqlite3.Connection, doc_a: str, doc_b: str) -> PlanDiff:
    """The targets of ``doc_a`` and ``doc_b`` (one district) aligned by indicator and unit."""
    docs = {d: document_row(conn, d) for d in (doc_a, doc_b)}
    unknown = [d for d, row in docs.items() if row is None]
    if unknown:
        raise DiffError(
            "unknown document id(s): " + ", ".join(unknown) + " (see the documents table of kb.db)"
        )
    a, b = docs[doc_a], docs[doc_b]
    assert a is not None and b is not None
    if a["district"] != b["district"]:
        raise DiffError(
            f"{doc_a} is of {a['district']}, {doc_b} of {b['district']}: choose two documents of one district"
        )
    ta, tb = document_targets(conn, a), document_targets(conn, b)
    names = {r[0]: r[1:] for r in conn.execute("select id, name_zh, name_en from indicators")}
    rows = []
    for key in sorted(set(ta) | set(tb)):
        sa, sb = ta.get(key), tb.get(key)
        direction = _direction(key, sa, sb) if sa and sb else _stated_direction(key)
        if sa and sb:
            status = compare(sa, sb, direction)
        else:
            status = NEW if sb else DROPPED
        name_zh, name_en = names.get(key, (key, ""))
        unit = next((s.unit for s in (sb, sa) if s is not None and s.unit), "")
        rows.append(DiffRow(key, name_zh, name_en, unit, direction, status, sa, sb))
    rows.sort(key=lambda r: (STATUS_ORDER.index(r.status), r.indicator_id))
    return PlanDiff(a, b, rows)


def _stated_direction(indicator_id: str) -> str | None:
    ind = load_indicators().indicators.get(indicator_id)
    return ind.direction if ind is not None else None


EXPORT_HEADERS = [
    "变化 change",
    "指标 indicator",
    "指标标识 indicator_id",
    "标准单位 canonical_unit",
    "方向 direction",
    "A 目标 target",
    "A 年份 year",
    "A 条款 clause",
    "A 链接 url",
    "B 目标 target",
    "B 年份 year",
    "B 条款 clause",
    "B 链接 url",
]


def export_rows(diff: PlanDiff, clause_link) -> list[list[Any]]:
    """One line per indicator; ``clause_link(clause_id, target_id)`` makes the links."""
    out = []
    for r in diff.rows:
        line: list[Any] = [r.status_label, r.name_zh, r.indicator_id, r.canonical_unit, r.direction or ""]
        for side in (r.a, r.b):
            if side is None:
                line += ["", "", "", ""]
            else:
                line += [side.shown, side.year, side.clause_text, clause_link(side.clause_id, side.target_id)]
        out.append(line)
    return out


def format_table(diff: PlanDiff) -> str:
    """The diff as a plain-text table (``policykb diff``)."""
    lines = [
        f"A: {diff.a['id']}  {diff.a['title']}",
        f"B: {diff.b['id']}  {diff.b['title']}",
        "",
    ]
    table = [["change", "indicator", "A", "B"]]
    for r in diff.rows:
        table.append(
            [
                r.status,
                f"{r.name_zh} ({r.indicator_id})",
                r.a.shown if r.a else "-",
                r.b.shown if r.b else "-",
            ]
        )
    widths = [max(_width(row[i]) for row in table) for i in range(4)]
    for row in table:
        lines.append("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip())
    counts = ", ".join(f"{s} {n}" for s, n in diff.counts().items() if n)
    lines += ["", counts or "no targets in either document"]
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
